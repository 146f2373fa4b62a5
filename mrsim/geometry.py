"""Grid geometry: voxel sizes, orientations, the FOV centre and centred crop / pad.

One convention everywhere (docs/physics.md, section 1): the FOV centre of an axis of ``n``
voxels is voxel ``n // 2`` (the origin of :mod:`mrsim.kspace.fft`, the DC sample of centred
k-space, and the rotation centre of rigid motion). Two grids with the same FOV are aligned
so that their ``n // 2`` voxels coincide, which is what :func:`centred_slices` /
:func:`crop_or_pad` and :func:`resampled_affine` implement.

Affines are NIfTI voxel-to-world (RAS+, mm) matrices; voxel sizes and direction cosines
come from them with :mod:`nibabel.affines`, never from guesses. Directions and poses given
"in the world frame" are converted to array axes with the direction cosines ``D`` (columns:
world direction of each array axis): a world vector ``w`` has array components ``D^T w``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mrsim.errors import MrsimInputError

__all__ = [
    "voxel_sizes",
    "voxel_size_from_affine",
    "orientation_from_affine",
    "check_orientation",
    "world_to_array",
    "fov_centre_index",
    "fov_centre_world",
    "centred_slices",
    "crop_or_pad",
    "resampled_affine",
]


def voxel_sizes(
    voxel_size_mm: float | Sequence[float], ndim: int = 3, *, name: str = "voxel_size_mm"
) -> np.ndarray:
    """A scalar or per-axis voxel size as a positive, finite float array of shape (ndim,).

    Raises
    ------
    MrsimInputError
        If the value does not broadcast to ``ndim`` entries or is not positive and finite.
    """
    try:
        v = np.broadcast_to(np.asarray(voxel_size_mm, dtype=float), (ndim,)).copy()
    except (ValueError, TypeError) as exc:
        raise MrsimInputError(
            f"{name} must be one number or {ndim} numbers (mm), got {voxel_size_mm!r}"
        ) from exc
    if np.any(~np.isfinite(v)) or np.any(v <= 0):
        raise MrsimInputError(f"{name} must be positive and finite (mm), got {tuple(v)}")
    return v


def voxel_size_from_affine(affine: np.ndarray) -> np.ndarray:
    """Voxel edge lengths (mm) of a 4x4 affine: the column norms of its 3x3 part."""
    from nibabel.affines import voxel_sizes as _nib_voxel_sizes

    A = _affine(affine)
    return np.asarray(_nib_voxel_sizes(A), dtype=float)


def orientation_from_affine(affine: np.ndarray) -> np.ndarray:
    """Direction cosines (3x3, columns = world direction of each array axis) of an affine.

    Handles any orientation (axis permutations, flips, obliques); shears are refused.
    """
    A = _affine(affine)[:3, :3]
    vox = voxel_size_from_affine(affine)
    if np.any(vox <= 0):
        raise MrsimInputError(f"affine has a zero-length axis: {A.tolist()}")
    D = A / vox
    if not np.allclose(D.T @ D, np.eye(3), atol=1e-4):
        raise MrsimInputError("affine has sheared (non-orthogonal) axes; resample the image first")
    return D


def check_orientation(orientation: np.ndarray | None, ndim: int) -> np.ndarray | None:
    """Validate direction cosines (``ndim x ndim`` orthonormal); None stays None (identity)."""
    if orientation is None:
        return None
    D = np.asarray(orientation, dtype=float)
    if D.shape != (ndim, ndim) or not np.allclose(D.T @ D, np.eye(ndim), atol=1e-6):
        raise MrsimInputError(
            f"orientation must be a {ndim}x{ndim} orthonormal matrix of direction cosines "
            "(columns: world direction of each array axis), e.g. from mrsim.geometry."
            f"orientation_from_affine; got {D.tolist()}"
        )
    return D


def world_to_array(vector: Sequence[float], orientation: np.ndarray | None) -> np.ndarray:
    """A world-frame vector (e.g. the B0 direction) in array-axis components, ``D^T w``."""
    w = np.asarray(vector, dtype=float)
    if orientation is None:
        return w.copy()
    D = check_orientation(orientation, w.shape[-1])
    return w @ D


def fov_centre_index(shape: Sequence[int]) -> np.ndarray:
    """Index of the FOV centre on each axis: ``n // 2`` (int array)."""
    return np.asarray([int(n) // 2 for n in shape], dtype=np.int64)


def fov_centre_world(affine: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """World position (mm) of the FOV-centre voxel ``n // 2`` of a grid."""
    A = _affine(affine)
    return A[:3, :3] @ fov_centre_index(shape) + A[:3, 3]


def centred_slices(
    shape_in: Sequence[int], shape_out: Sequence[int]
) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """Slices that copy the overlap of two grids with their ``n // 2`` voxels aligned.

    ``out[sl_out] = x[sl_in]`` crops (``n_out < n_in``) or zero-pads (``n_out > n_in``)
    each axis about the FOV centre.
    """
    sl_in, sl_out = [], []
    for n_in, n_out in zip(shape_in, shape_out, strict=True):
        m = min(int(n_in), int(n_out))
        sl_in.append(slice(n_in // 2 - m // 2, n_in // 2 - m // 2 + m))
        sl_out.append(slice(n_out // 2 - m // 2, n_out // 2 - m // 2 + m))
    return tuple(sl_in), tuple(sl_out)


def crop_or_pad(x: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Centred crop / zero-pad of the last ``len(shape)`` axes (voxel ``n // 2`` kept).

    Returns ``x`` itself when the shape already matches.
    """
    shape = tuple(int(s) for s in shape)
    nd = len(shape)
    src = x.shape[x.ndim - nd :]
    if tuple(src) == shape:
        return x
    out = np.zeros(x.shape[: x.ndim - nd] + shape, dtype=x.dtype)
    sl_in, sl_out = centred_slices(src, shape)
    out[(Ellipsis, *sl_out)] = x[(Ellipsis, *sl_in)]
    return out


def resampled_affine(
    affine: np.ndarray, shape_in: Sequence[int], shape_out: Sequence[int]
) -> np.ndarray:
    """Affine of the same-FOV grid ``shape_out``: voxel ``n // 2`` keeps its world position.

    (:func:`nibabel.affines.rescale_affine` keeps the geometric centre ``(n - 1) / 2``
    instead, which differs from the FFT convention for even sizes.)
    """
    A = _affine(affine).copy()
    zoom = np.asarray(shape_in, float) / np.asarray(shape_out, float)
    centre = fov_centre_world(A, shape_in)
    A[:3, :3] = A[:3, :3] * zoom[None, :]
    A[:3, 3] = centre - A[:3, :3] @ fov_centre_index(shape_out)
    return A


def _affine(affine: np.ndarray) -> np.ndarray:
    A = np.asarray(affine, dtype=float)
    if A.shape != (4, 4) or not np.all(np.isfinite(A)):
        raise MrsimInputError(f"affine must be a finite 4x4 matrix, got shape {A.shape}")
    return A
