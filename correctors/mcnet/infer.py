"""MC-Net inference: load a trained model, correct slices, volumes and NIfTI files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from correctors.common.checkpoints import (
    CARD_NAME,
    WEIGHTS_NAME,
    load_checkpoint,
    load_verified,
    shipped_weights_dir,
)
from correctors.mcnet.model import MCNet, build_model
from correctors.mcnet.train import select_device
from mrsim.errors import MrsimInputError

__all__ = ["load_model", "correct_slices", "correct_volume", "correct_nifti"]


def load_model(path: str | Path | None = None, device: str | None = None) -> MCNet:
    """Load an MC-Net from ``model.pt``, a ``<stage>.pt`` or ``checkpoint_last.pt``.

    Parameters
    ----------
    path : path, optional
        A checkpoint file, or a training output directory (its ``model.pt`` is used). A
        directory holding a ``model_card.json`` is loaded through its card, whose sha256
        must match the weights. None: the shipped ``cpu`` weights
        (``correctors/weights/mcnet/``), verified against their model card.
    device : str, optional
        "auto"/None (CUDA when present), "cpu", "cuda", ...

    Raises
    ------
    MrsimInputError
        Missing file, a file that is not an MC-Net checkpoint, a checkpoint that would need
        arbitrary unpickling (never loaded: it could run code), or a hash mismatch.

    Notes
    -----
    Checkpoints are read with ``torch.load(weights_only=True)`` only
    (:func:`correctors.common.checkpoints.load_checkpoint`); the model config is a plain dict.
    """
    dev = select_device(device)
    if path is None:
        folder = shipped_weights_dir("mcnet")
        ck, _ = load_verified(folder, map_location=dev)
        p = folder / WEIGHTS_NAME
    else:
        p = Path(path)
        if p.is_dir() and (p / CARD_NAME).is_file():
            ck, _ = load_verified(p, map_location=dev)
            p = p / WEIGHTS_NAME
        else:
            if p.is_dir():
                p = p / WEIGHTS_NAME
            if not p.exists():
                raise MrsimInputError(
                    f"{p}: no such model file (expected model.pt, <stage>.pt or "
                    "checkpoint_last.pt written by `python -m correctors.mcnet train`)"
                )
            ck = load_checkpoint(p, map_location=dev)
    if "model_config" not in ck or "model" not in ck:
        raise MrsimInputError(f"{p}: not an MC-Net checkpoint (missing 'model_config'/'model')")
    try:
        model = build_model(ck["model_config"]).to(dev)
        model.load_state_dict(ck["model"])
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise MrsimInputError(f"{p}: not a valid MC-Net checkpoint ({exc})") from None
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
    model: MCNet | str | Path | None,
    in_path: str | Path,
    out_path: str | Path,
    axis: int = 0,
    batch_size: int = 16,
    device: str | None = None,
) -> np.ndarray:
    """Correct a NIfTI volume slice-wise and save it with the input's affine.

    ``model`` is an :class:`MCNet`, a path for :func:`load_model`, or None for the shipped
    ``cpu`` weights.
    """
    from mrsim.io.nifti import load_volume, save_volume

    if not isinstance(model, MCNet):
        model = load_model(model, device)
    data, affine = load_volume(in_path, dtype=np.complex64)
    if data.ndim != 3:
        raise MrsimInputError(f"{in_path}: expected a 3D volume, got shape {data.shape}")
    if not -3 <= axis < 3:
        raise MrsimInputError(f"axis must be 0, 1 or 2 for a 3D volume, got {axis}")
    out = correct_volume(model, np.abs(data), axis=axis, batch_size=batch_size)
    save_volume(out_path, out, affine)
    return out
