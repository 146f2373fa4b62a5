"""VQ prior inference: load a trained or shipped model, correct slices, volumes, NIfTI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from correctors.common.checkpoints import (
    WEIGHTS_NAME,
    load_checkpoint,
    load_verified,
    shipped_weights_dir,
)
from correctors.mcnet.infer import correct_slices
from correctors.mcnet.train import select_device
from correctors.vqprior.corrector import VQPriorCorrector
from mrsim.errors import MrsimInputError
from mrsim.geometry import crop_or_pad

__all__ = ["load_model", "correct_volume", "correct_nifti", "fit_slices"]


def load_model(path: str | Path | None = None, device: str | None = None) -> VQPriorCorrector:
    """Load a VQ prior corrector.

    ``path``: None for the shipped ``cpu`` weights (sha256 checked against their model
    card), a training directory (its ``model.pt``, else ``checkpoint_last.pt``), or a
    ``.pt`` file. Loading is ``weights_only=True``.
    """
    dev = select_device(device)
    if path is None:
        ck, _card = load_verified(shipped_weights_dir("vqprior"), map_location=dev)
        where = str(shipped_weights_dir("vqprior") / WEIGHTS_NAME)
    else:
        p = Path(path)
        if p.is_dir():
            p = p / WEIGHTS_NAME if (p / WEIGHTS_NAME).exists() else p / "checkpoint_last.pt"
        ck, where = load_checkpoint(p, map_location=dev), str(p)
    model = VQPriorCorrector.from_state(ck, where).to(dev)
    return model.eval()


def fit_slices(stack: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Zero-pad or centre-crop (S, H, W) slices to ``shape`` (the n//2 centre is kept), float32.

    :func:`mrsim.geometry.crop_or_pad` on the last two axes.
    """
    return crop_or_pad(np.asarray(stack, dtype=np.float32), shape)


def correct_volume(
    model: VQPriorCorrector, volume: np.ndarray, axis: int = 0, batch_size: int = 16
) -> np.ndarray:
    """Correct a 3D volume slice by slice along ``axis``; float32, the input's shape.

    Slices are fitted to the model's slice shape (:func:`fit_slices`) and back.
    """
    v = np.asarray(volume)
    if v.ndim != 3:
        raise MrsimInputError(f"correct_volume takes a 3D volume, got shape {v.shape}")
    if not -3 <= axis < 3:
        raise MrsimInputError(f"axis must be 0, 1 or 2 for a 3D volume, got {axis}")
    stack = np.moveaxis(np.abs(v), axis, 0)
    fitted = fit_slices(stack, model.image_shape)
    out = fit_slices(correct_slices(model, fitted, batch_size), stack.shape[1:])
    return np.moveaxis(out, 0, axis)


def correct_nifti(
    model: VQPriorCorrector | str | Path | None,
    in_path: str | Path,
    out_path: str | Path,
    axis: int = 0,
    batch_size: int = 16,
    device: str | None = None,
) -> np.ndarray:
    """Correct a NIfTI volume slice-wise and save it with the input's affine."""
    from mrsim.io.nifti import load_volume, save_volume

    if not isinstance(model, VQPriorCorrector):
        model = load_model(model, device)
    data, affine = load_volume(in_path, dtype=np.complex64)
    if data.ndim != 3:
        raise MrsimInputError(f"{in_path}: expected a 3D volume, got shape {data.shape}")
    with torch.no_grad():
        out = correct_volume(model, np.abs(data), axis=axis, batch_size=batch_size)
    save_volume(out_path, out, affine)
    return out
