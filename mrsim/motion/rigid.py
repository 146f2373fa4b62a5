"""Rigid-body transforms: Euler angles <-> rotation matrices <-> 4x4 affines.

Conventions (the one convention used everywhere in mrsim):

* Parameters are ``(tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg)``, in the image's world
  (RAS, from the NIfTI affine) frame, right-handed.
* ``R = Rz(rz) @ Ry(ry) @ Rx(rx)``: rotate about x first, then y, then z, all about the fixed
  (extrinsic) axes. This equals ``scipy.spatial.transform.Rotation.from_euler("xyz",
  [rx, ry, rz], degrees=True).as_matrix()``.
* A pose ``(R, t)`` moves an object point at ``r`` to ``R (r - c) + c + t``, with ``c`` the
  centre of rotation (the FOV centre). The moved image is ``m_T(r) = m(R^T (r - c - t) + c)``.
  In coordinates relative to ``c`` the pose is the 4x4 matrix ``[[R, t], [0, 1]]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "rotation_matrix",
    "euler_from_matrix",
    "params_to_affine",
    "affine_to_params",
    "invert_affine",
    "rms_deviation",
]

# Below this |cos(ry)| the x and z rotations are degenerate (gimbal lock); rx is then set to 0.
_GIMBAL_EPS = 1e-9


def rotation_matrix(rot_deg: ArrayLike) -> np.ndarray:
    """Rotation matrices ``R = Rz(rz) Ry(ry) Rx(rx)`` from Euler angles in degrees.

    Parameters
    ----------
    rot_deg : array_like, shape (..., 3)
        Rotations ``(rx_deg, ry_deg, rz_deg)`` about the x, y and z axes.

    Returns
    -------
    ndarray, shape (..., 3, 3)
        Proper rotation matrices; identical to scipy's
        ``Rotation.from_euler("xyz", rot_deg, degrees=True).as_matrix()``.
    """
    a = np.deg2rad(np.asarray(rot_deg, dtype=float))
    if a.shape[-1:] != (3,):
        raise ValueError(f"rot_deg must have shape (..., 3), got {a.shape}")
    cx, cy, cz = np.cos(a[..., 0]), np.cos(a[..., 1]), np.cos(a[..., 2])
    sx, sy, sz = np.sin(a[..., 0]), np.sin(a[..., 1]), np.sin(a[..., 2])
    R = np.empty(a.shape[:-1] + (3, 3))
    # Product Rz @ Ry @ Rx written out, so that batches need no Python loop.
    R[..., 0, 0] = cz * cy
    R[..., 0, 1] = cz * sy * sx - sz * cx
    R[..., 0, 2] = cz * sy * cx + sz * sx
    R[..., 1, 0] = sz * cy
    R[..., 1, 1] = sz * sy * sx + cz * cx
    R[..., 1, 2] = sz * sy * cx - cz * sx
    R[..., 2, 0] = -sy
    R[..., 2, 1] = cy * sx
    R[..., 2, 2] = cy * cx
    return R


def euler_from_matrix(R: ArrayLike) -> np.ndarray:
    """Euler angles (degrees) of rotation matrices, inverse of :func:`rotation_matrix`.

    Parameters
    ----------
    R : array_like, shape (..., 3, 3)
        Rotation matrices.

    Returns
    -------
    ndarray, shape (..., 3)
        ``(rx_deg, ry_deg, rz_deg)`` with ``rx, rz`` in (-180, 180] and ``ry`` in [-90, 90].
        At gimbal lock (``|ry| = 90``) ``rx`` is set to 0 and the whole x/z rotation is put
        in ``rz``.
    """
    R = np.asarray(R, dtype=float)
    if R.shape[-2:] != (3, 3):
        raise ValueError(f"R must have shape (..., 3, 3), got {R.shape}")
    sy = np.clip(-R[..., 2, 0], -1.0, 1.0)
    ry = np.arcsin(sy)
    cy = np.sqrt(R[..., 2, 1] ** 2 + R[..., 2, 2] ** 2)
    regular = cy > _GIMBAL_EPS
    rx = np.where(regular, np.arctan2(R[..., 2, 1], R[..., 2, 2]), 0.0)
    # At gimbal lock R[0,1] = sy*sx*cz - sz*cx and R[1,1] = sy*sx*sz + cz*cx; with rx = 0 these
    # give rz = atan2(-R01, R11).
    rz = np.where(
        regular,
        np.arctan2(R[..., 1, 0], R[..., 0, 0]),
        np.arctan2(-R[..., 0, 1], R[..., 1, 1]),
    )
    return np.rad2deg(np.stack([rx, ry, rz], axis=-1))


def _center(center_mm: Sequence[float] | ArrayLike | None) -> np.ndarray:
    c = np.zeros(3) if center_mm is None else np.asarray(center_mm, dtype=float)
    if c.shape != (3,):
        raise ValueError(f"center_mm must have 3 elements, got shape {c.shape}")
    return c


def params_to_affine(params: ArrayLike, center_mm: ArrayLike | None = None) -> np.ndarray:
    """4x4 homogeneous matrices of rigid poses.

    Parameters
    ----------
    params : array_like, shape (..., 6)
        ``(tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg)``.
    center_mm : array_like, shape (3,), optional
        Centre of rotation ``c`` in the coordinates the matrix acts on. ``None`` (default)
        means coordinates are already relative to the centre, so the matrix is
        ``[[R, t], [0, 1]]``; otherwise it is ``[[R, c - R c + t], [0, 1]]``.

    Returns
    -------
    ndarray, shape (..., 4, 4)
        Matrices ``A`` with ``A @ [r, 1] = [R (r - c) + c + t, 1]``.
    """
    p = np.asarray(params, dtype=float)
    if p.shape[-1:] != (6,):
        raise ValueError(f"params must have shape (..., 6), got {p.shape}")
    c = _center(center_mm)
    R = rotation_matrix(p[..., 3:])
    A = np.zeros(p.shape[:-1] + (4, 4))
    A[..., :3, :3] = R
    A[..., :3, 3] = p[..., :3] + c - R @ c
    A[..., 3, 3] = 1.0
    return A


def affine_to_params(A: ArrayLike, center_mm: ArrayLike | None = None) -> np.ndarray:
    """Rigid parameters of 4x4 matrices, inverse of :func:`params_to_affine`.

    Parameters
    ----------
    A : array_like, shape (..., 4, 4)
        Rigid homogeneous matrices (the 3x3 block must be a proper rotation).
    center_mm : array_like, shape (3,), optional
        Centre of rotation, as in :func:`params_to_affine`.

    Returns
    -------
    ndarray, shape (..., 6)
        ``(tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg)``.
    """
    A = np.asarray(A, dtype=float)
    if A.shape[-2:] != (4, 4):
        raise ValueError(f"A must have shape (..., 4, 4), got {A.shape}")
    R = A[..., :3, :3]
    # A non-orthonormal block (scaling, shear) has no rigid parameters: refuse rather than
    # silently returning the angles of some nearby rotation.
    err = np.abs(R @ np.swapaxes(R, -1, -2) - np.eye(3)).max(initial=0.0)
    det = np.linalg.det(R) if R.size else np.ones(1)
    if err > 1e-6 or np.any(det < 0):
        raise ValueError(
            "affine is not rigid: its 3x3 block must be a proper rotation "
            f"(max |R R^T - I| = {err:.2e}, min det = {np.min(det):.3f})"
        )
    c = _center(center_mm)
    t = A[..., :3, 3] - c + R @ c
    return np.concatenate([t, euler_from_matrix(R)], axis=-1)


def invert_affine(A: ArrayLike) -> np.ndarray:
    """Inverse of rigid 4x4 matrices, ``[[R^T, -R^T t], [0, 1]]`` (exact, no LU solve).

    Parameters
    ----------
    A : array_like, shape (..., 4, 4)

    Returns
    -------
    ndarray, shape (..., 4, 4)
    """
    A = np.asarray(A, dtype=float)
    Rt = np.swapaxes(A[..., :3, :3], -1, -2)
    out = np.zeros_like(A)
    out[..., :3, :3] = Rt
    out[..., :3, 3] = -(Rt @ A[..., :3, 3, None])[..., 0]
    out[..., 3, 3] = 1.0
    return out


def rms_deviation(
    A: ArrayLike, radius_mm: float = 80.0, center_mm: ArrayLike | None = None
) -> np.ndarray:
    """RMS displacement of the points of a solid ball moved by rigid transforms (Jenkinson).

    With ``M = A - I`` (upper-left block ``M_R``, translation ``m``), the mean of
    ``|A x - x|^2`` over ``x`` uniform in a ball of radius ``R`` centred at ``x_c`` is
    ``R^2 / 5 trace(M_R^T M_R) + |m + M_R x_c|^2`` (because ``E[x_i x_j] = R^2/5 delta_ij``
    about the centre).

    Parameters
    ----------
    A : array_like, shape (..., 4, 4)
        Rigid transforms, in coordinates relative to the rotation centre.
    radius_mm : float
        Ball radius ``R`` (mm); FSL uses 80.
    center_mm : array_like, shape (3,), optional
        Ball centre ``x_c`` in the same coordinates; 0 (the rotation centre) by default.

    Returns
    -------
    ndarray, shape (...)
        RMS displacement in mm.

    References
    ----------
    .. [1] Jenkinson M (1999) Measuring transformation error by RMS deviation. FMRIB
       Technical Report TR99MJ1.
    """
    A = np.asarray(A, dtype=float)
    if A.shape[-2:] != (4, 4):
        raise ValueError(f"A must have shape (..., 4, 4), got {A.shape}")
    xc = _center(center_mm)
    MR = A[..., :3, :3] - np.eye(3)
    m = A[..., :3, 3] + MR @ xc
    ms = radius_mm**2 / 5.0 * np.einsum("...ij,...ij->...", MR, MR) + np.einsum(
        "...i,...i->...", m, m
    )
    return np.sqrt(ms)
