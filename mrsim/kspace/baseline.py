"""The image-domain reference method: resample the image per motion state, FFT, mix.

This is the approach of augmentation libraries (TorchIO's ``Motion``): cost grows with the
number of states (one interpolation + one FFT each) and interpolation blurs. It is here only
as a baseline for benchmarks and tests; use :func:`mrsim.kspace.corrupt.corrupt` /
:func:`mrsim.kspace.engine.moved_kspace`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import fov_centre_index, voxel_sizes
from mrsim.kspace.engine import resolve_poses
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.poses import LinePoses, motion_states
from mrsim.kspace.schedule import Schedule

__all__ = ["image_domain_kspace"]


def image_domain_kspace(
    image: np.ndarray,
    schedule: Schedule,
    rotations: np.ndarray | LinePoses,
    translations_mm: np.ndarray | None = None,
    voxel_size_mm: float | Sequence[float] = 1.0,
    order: int = 1,
    *,
    orientation: np.ndarray | None = None,
    threads: int | None = None,
    **keywords: Any,
) -> np.ndarray:
    """Baseline: resample the image per motion state, FFT, keep that state's lines.

    Parameters
    ----------
    image : ndarray, shape == schedule.shape (2D or 3D)
    schedule, rotations, translations_mm, voxel_size_mm, orientation
        As in :func:`mrsim.kspace.engine.moved_kspace`.
    order : int
        ``scipy.ndimage.affine_transform`` spline order (1 linear, 3 cubic); outside the FOV
        is 0.
    threads : int, optional
        FFT threads (``workers=`` is accepted as its earlier name).

    Returns
    -------
    ndarray, complex128, shape schedule.shape
    """
    from scipy import ndimage

    if "workers" in keywords:
        threads = keywords.pop("workers")
    if keywords:
        raise TypeError(
            f"image_domain_kspace() got unexpected keyword arguments {sorted(keywords)}"
        )
    image = np.asarray(image)
    nd = schedule.ndim
    if image.shape != schedule.shape:
        raise MrsimInputError(
            f"image shape {image.shape} must equal schedule.shape {schedule.shape}"
        )
    R, t = resolve_poses(rotations, translations_mm, schedule.n_lines, nd).in_array_frame(
        orientation
    )
    vox = voxel_sizes(voxel_size_mm, nd)
    c = fov_centre_index(image.shape).astype(float)
    first, state = motion_states(R, t)
    lines = np.zeros((schedule.n_lines, schedule.n_readout), dtype=np.complex128)
    for s_idx in range(len(first)):
        Ri, ti = R[first[s_idx]], t[first[s_idx]]
        # output voxel o -> input voxel D^-1 R^T (D (o - c) - t) + c
        mat = (Ri.T * vox[None, :]) / vox[:, None]
        off = c - mat @ c - (Ri.T @ ti) / vox
        parts = [image.real, image.imag] if np.iscomplexobj(image) else [image]
        moved = [ndimage.affine_transform(p, mat, off, order=order, mode="constant") for p in parts]
        mv = moved[0] + 1j * moved[1] if len(moved) == 2 else moved[0]
        sel = state == s_idx
        lines[sel] = schedule.subset(sel).from_grid(fft_centered(mv, workers=threads))
    return schedule.to_grid(lines)
