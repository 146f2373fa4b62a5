"""MC-Net inference: load a trained model, correct slices, volumes and NIfTI files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from correctors.mcnet.model import MCNet, build_model
from correctors.mcnet.train import select_device

__all__ = ["load_model", "correct_slices", "correct_volume", "correct_nifti"]


def load_model(path: str | Path, device: str | None = None) -> MCNet:
    """Load an MC-Net from ``model.pt``, a ``<stage>.pt`` or ``checkpoint_last.pt``.

    A training output directory may be given: its ``model.pt`` is used.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "model.pt"
    if not p.exists():
        raise FileNotFoundError(
            f"{p}: no such model file (expected model.pt, <stage>.pt or checkpoint_last.pt "
            "written by `python -m correctors.mcnet train`)"
        )
    dev = select_device(device)
    ck = torch.load(p, map_location=dev, weights_only=False)
    if not isinstance(ck, dict) or "model_config" not in ck or "model" not in ck:
        raise ValueError(f"{p}: not an MC-Net checkpoint (missing 'model_config'/'model')")
    model = build_model(ck["model_config"]).to(dev)
    model.load_state_dict(ck["model"])
    return model.eval()


@torch.no_grad()
def correct_slices(model: MCNet, slices: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Correct a stack of 2D slices.

    Parameters
    ----------
    model : MCNet
    slices : ndarray, shape (S, H, W), real or complex (magnitude is used)
    batch_size : int

    Returns
    -------
    ndarray, shape (S, H, W), float32, in the input's intensity units.
    """
    x = np.asarray(slices)
    if x.ndim != 3:
        raise ValueError(f"correct_slices takes (S, H, W) stacks, got shape {x.shape}")
    if np.iscomplexobj(x):
        x = np.abs(x)
    dev = next(model.parameters()).device
    model.eval()
    out = np.empty(x.shape, dtype=np.float32)
    for i in range(0, x.shape[0], batch_size):
        t = torch.from_numpy(np.ascontiguousarray(x[i : i + batch_size], dtype=np.float32))
        out[i : i + batch_size] = model.correct(t[:, None].to(dev))[:, 0].cpu().numpy()
    return out


def correct_volume(
    model: MCNet, volume: np.ndarray, axis: int = 0, batch_size: int = 16
) -> np.ndarray:
    """Correct a 3D volume slice by slice along ``axis``.

    ``axis=0`` cuts sagittal slices of an RAS-oriented volume, as seed 001
    did. Returns a float32 volume of the input's shape.
    """
    v = np.asarray(volume)
    if v.ndim != 3:
        raise ValueError(f"correct_volume takes a 3D volume, got shape {v.shape}")
    stack = np.moveaxis(v, axis, 0)
    return np.moveaxis(correct_slices(model, stack, batch_size), 0, axis)


def correct_nifti(
    model: MCNet | str | Path,
    in_path: str | Path,
    out_path: str | Path,
    axis: int = 0,
    batch_size: int = 16,
    device: str | None = None,
) -> np.ndarray:
    """Correct a NIfTI volume slice-wise and save it with the input's affine."""
    from mrsim.io.nifti import load_volume, save_volume

    if not isinstance(model, MCNet):
        model = load_model(model, device)
    data, affine = load_volume(in_path, dtype=np.complex64)
    if not -3 <= axis < 3:
        raise ValueError(f"axis must be 0, 1 or 2 for a 3D volume, got {axis}")
    out = correct_volume(model, np.abs(data), axis=axis, batch_size=batch_size)
    save_volume(out_path, out, affine)
    return out
