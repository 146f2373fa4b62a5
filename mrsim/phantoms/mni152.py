"""The embedded default phantom: the MNI152 2009 template bundled with nilearn.

nilearn ships three 1 mm volumes of the ICBM 2009a nonlinear symmetric
template (Fonov et al., NeuroImage 2011) inside its wheel: the skull-stripped
T1 and the grey- and white-matter probability maps. Nothing is downloaded.
CSF is not shipped; it is derived as the intracranial volume not covered by
GM+WM (the intracranial volume being the filled T1 brain mask), which gives
ventricles and sulcal CSF with partial volumes in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from mrsim.errors import MrsimInputError

__all__ = ["KINDS", "MNI152_FILES", "mni152_data_dir", "load_mni152", "fit_to_shape"]

KINDS = ("t1", "gm", "wm", "csf", "mask")

MNI152_FILES = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}


def mni152_data_dir() -> Path:
    """Folder inside the installed nilearn package that holds the template files."""
    import nilearn.datasets

    return Path(nilearn.datasets.__file__).parent / "data"


@lru_cache(maxsize=8)
def _raw(kind: str) -> tuple[np.ndarray, np.ndarray]:
    import nibabel as nib

    if kind in MNI152_FILES:
        img = nib.load(str(mni152_data_dir() / MNI152_FILES[kind]))
        data = np.asarray(img.dataobj, dtype=np.float32) / 255.0
        return data, np.asarray(img.affine, dtype=float)
    t1, affine = _raw("t1")
    # nilearn's own whole-brain mask thresholds the T1 at 0.2; filling closes ventricles.
    mask = ndimage.binary_fill_holes(t1 > 0.2)
    if kind == "mask":
        return mask.astype(np.float32), affine
    gm, _ = _raw("gm")
    wm, _ = _raw("wm")
    csf = np.clip(mask - gm - wm, 0.0, 1.0) * mask
    return csf.astype(np.float32), affine


def fit_to_shape(
    data: np.ndarray, affine: np.ndarray, shape: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Pad with zeros or crop symmetrically about the array centre to ``shape``.

    The affine is shifted so that every kept voxel keeps its world position.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != data.ndim:
        raise ValueError(f"shape {shape} must have {data.ndim} entries")
    out = np.zeros(shape, dtype=data.dtype)
    src, dst, offset = [], [], []
    for n_in, n_out in zip(data.shape, shape, strict=True):
        # index i_out = i_in + off, with centres (n//2) aligned
        off = n_out // 2 - n_in // 2
        lo_in, hi_in = max(0, -off), min(n_in, n_out - off)
        src.append(slice(lo_in, hi_in))
        dst.append(slice(lo_in + off, hi_in + off))
        offset.append(off)
    out[tuple(dst)] = data[tuple(src)]
    new_affine = np.array(affine, dtype=float)
    new_affine[:3, 3] = affine[:3, 3] - affine[:3, :3] @ np.asarray(offset, dtype=float)
    return out, new_affine


def load_mni152(
    kind: str = "t1",
    shape: Sequence[int] | None = None,
    voxel_size_mm: float | Sequence[float] = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one MNI152 volume, optionally resampled and padded/cropped.

    Parameters
    ----------
    kind : {"t1", "gm", "wm", "csf", "mask"}
        T1-weighted image (intensity scaled to [0, 1]), tissue probability maps
        (GM, WM, derived CSF) or the intracranial mask.
    shape : sequence of 3 int, optional
        Output matrix; the volume is zero-padded or cropped about its centre.
        Default: the template grid (197 x 233 x 189 at 1 mm).
    voxel_size_mm : float or 3 floats, default 1.0
        Output voxel size; values other than 1 resample with linear
        interpolation (anti-aliased by a Gaussian prefilter when coarsening).

    Returns
    -------
    data : ndarray, float32, shape ``shape``
    affine : ndarray (4, 4)
        RAS+ mm affine of the output grid.

    References
    ----------
    V. Fonov et al., "Unbiased average age-appropriate atlases for pediatric
    studies", NeuroImage 54 (2011). Files as shipped in nilearn.

    Examples
    --------
    >>> t1, affine = load_mni152("t1", shape=(64, 64, 64), voxel_size_mm=3.0)
    >>> t1.shape
    (64, 64, 64)
    """
    if kind not in KINDS:
        raise ValueError(f"unknown MNI152 kind {kind!r}; expected one of {KINDS}")
    if shape is not None:
        try:
            ok = len(shape) == 3 and all(int(n) == n and n >= 1 for n in shape)
        except TypeError:
            ok = False
        if not ok:
            raise MrsimInputError(f"shape must be 3 positive integers, got {shape!r}")
    data, affine = _raw(kind)
    vox = np.broadcast_to(np.asarray(voxel_size_mm, dtype=float), (3,))
    if np.any(vox <= 0):
        raise ValueError(f"voxel_size_mm must be positive, got {tuple(vox)}")
    if not np.allclose(vox, 1.0):
        zoom = 1.0 / vox
        sigma = np.where(zoom < 1, 0.5 * (1 / zoom - 1), 0.0)  # only blur when coarsening
        src = ndimage.gaussian_filter(data, sigma) if np.any(sigma > 0) else data
        data = ndimage.zoom(src, zoom, order=1, grid_mode=True, mode="grid-constant")
        affine = affine.copy()
        affine[:3, :3] = affine[:3, :3] * vox
        # grid_mode zoom keeps the FOV edges: shift so voxel centres stay consistent
        affine[:3, 3] = affine[:3, 3] + 0.5 * (vox - 1.0)
        data = np.clip(data, 0.0, None).astype(np.float32)
    if shape is not None:
        data, affine = fit_to_shape(data, affine, shape)
    return np.ascontiguousarray(data, dtype=np.float32), affine
