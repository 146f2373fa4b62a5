"""NIfTI input/output with the affine kept, and errors that name the file.

mrsim works in the image's world frame (RAS+ mm, from the NIfTI affine): voxel
sizes and axis directions come from the affine, never from guesses.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from mrsim.errors import MrsimFileNotFoundError, MrsimInputError
from mrsim.geometry import voxel_size_from_affine
from mrsim.io.atomic import atomic_path

__all__ = ["load_volume", "save_volume", "voxel_size_mm", "axis_codes"]


def load_volume(
    path: str | Path, *, ndim: int | None = 3, dtype: np.dtype | type | None = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Load a NIfTI volume.

    Parameters
    ----------
    path : str or Path
        ``.nii`` or ``.nii.gz`` file.
    ndim : int or None, default 3
        Required number of dimensions (trailing singleton dimensions are dropped
        first). ``None`` accepts any.
    dtype : dtype or None, default float32
        Output dtype (complex dtypes keep complex NIfTI data). ``None``: float32 for real
        data, complex64 for complex data. Complex data asked for as a real dtype is refused
        (never silently reduced to its real part).

    Returns
    -------
    data : ndarray
        The voxel array, scaled by the header's slope/intercept.
    affine : ndarray, shape (4, 4)
        Voxel-to-world (RAS+ mm) affine.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a readable NIfTI, has the wrong number of dimensions,
        or holds NaN/inf values.
    """
    p = Path(path)
    if not p.exists():
        raise MrsimFileNotFoundError(f"{p}: no such file (expected a NIfTI .nii or .nii.gz volume)")
    try:
        img = nib.load(str(p))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises several types for bad files
        raise MrsimInputError(f"{p}: not a readable NIfTI file ({exc})") from exc
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if ndim is not None and data.ndim != ndim:
        raise MrsimInputError(
            f"{p}: expected a {ndim}D volume, got shape {data.shape} ({data.ndim}D)"
        )
    if dtype is None:
        dtype = np.complex64 if np.iscomplexobj(data) else np.float32
    if np.iscomplexobj(data) and not np.issubdtype(np.dtype(dtype), np.complexfloating):
        raise MrsimInputError(
            f"{p}: holds complex data ({data.dtype}); this input must be real (give the "
            "magnitude, or the magnitude and phase as separate files where supported)"
        )
    data = np.asarray(data, dtype=dtype)
    if not np.all(np.isfinite(data)):
        n_bad = int(np.count_nonzero(~np.isfinite(data)))
        raise MrsimInputError(f"{p}: {n_bad} voxels are NaN or inf; mrsim needs finite input")
    return data, np.asarray(img.affine, dtype=float)


def save_volume(path: str | Path, data: np.ndarray, affine: np.ndarray | None = None) -> Path:
    """Write ``data`` as NIfTI with ``affine`` (identity if None), atomically.

    The file is written under a temporary name and renamed into place, so an
    interrupted run never leaves a truncated volume behind.
    """
    aff = np.eye(4) if affine is None else np.asarray(affine, dtype=float)
    arr = np.asarray(data)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    img = nib.Nifti1Image(arr, aff)
    img.header.set_xyzt_units("mm", "sec")
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))
    return Path(path)


def voxel_size_mm(affine: np.ndarray) -> np.ndarray:
    """Voxel edge lengths in mm: the column norms of the affine's 3x3 part
    (:func:`mrsim.geometry.voxel_size_from_affine`)."""
    return voxel_size_from_affine(affine)


def axis_codes(affine: np.ndarray) -> tuple[str, str, str]:
    """Anatomical direction of each array axis, e.g. ``("R", "A", "S")``."""
    return tuple(nib.aff2axcodes(np.asarray(affine, dtype=float)))
