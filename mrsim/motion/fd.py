"""Framewise displacement (FD): Power, Jenkinson (FSL) and AFNI enorm, and the
FD_total / FD_pred / FD_gain of seed 000.

All functions take a :class:`~mrsim.motion.trajectory.Trajectory` or an ``(N, 6)`` array of
``tx_mm, ty_mm, tz_mm, rx, ry, rz`` with the rotation unit given by ``rot_unit`` ("deg",
mrsim's unit and the default, or "rad" as in FSL/SPM/fMRIPrep files), so the same motion gives
the same FD whichever unit it is stored in. Per-frame FD arrays have one value per sample; the
first frame has no predecessor and gets FD = 0 (fMRIPrep writes ``n/a`` there, nipype drops
it).

References
----------
.. [1] Power JD et al. (2012) Spurious but systematic correlations in functional connectivity
   MRI networks arise from subject motion. NeuroImage 59:2142-2154.
.. [2] Jenkinson M (1999) Measuring transformation error by RMS deviation. FMRIB Technical
   Report TR99MJ1.
.. [3] Seed 000: Annovi et al., "Real-Time Motion Correction in Magnetic Resonance
   Spectroscopy: AI solution inspired by fundamental science" (EuCAIFCon2025), Eqs. 1-3.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mrsim.errors import MrsimInputError
from mrsim.motion.rigid import invert_affine, params_to_affine, rms_deviation
from mrsim.motion.trajectory import Trajectory

__all__ = [
    "as_params_deg",
    "power_fd",
    "jenkinson_fd",
    "enorm",
    "fd_total",
    "fd_pred",
    "fd_gain",
    "framewise_displacement",
    "DEFAULT_RADIUS_MM",
]


def as_params_deg(motion: Trajectory | ArrayLike, rot_unit: str = "deg") -> np.ndarray:
    """Motion as an ``(N, 6)`` float array in mm and degrees.

    Parameters
    ----------
    motion : Trajectory or array_like, shape (N, 6) or (6,)
        A trajectory (always mm/deg), or parameters ``tx, ty, tz`` (mm) then ``rx, ry, rz``.
    rot_unit : {"deg", "rad"}
        Unit of the rotation columns of an array input. Ignored for a Trajectory.

    Returns
    -------
    ndarray, shape (N, 6)
    """
    if isinstance(motion, Trajectory):
        return np.array(motion.params)
    p = np.array(motion, dtype=float, ndmin=2)
    if p.ndim != 2 or p.shape[1] != 6:
        raise ValueError(
            f"motion parameters must have shape (N, 6) (tx, ty, tz in mm, rx, ry, rz), "
            f"got {np.shape(motion)}"
        )
    if not np.all(np.isfinite(p)):
        raise ValueError("motion parameters must be finite (found NaN or inf)")
    if rot_unit == "rad":
        p[:, 3:] = np.rad2deg(p[:, 3:])
    elif rot_unit != "deg":
        raise ValueError(f"rot_unit must be 'deg' or 'rad', got {rot_unit!r}")
    return p


def _prepend_zero(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros(1), x])


def power_fd(
    motion: Trajectory | ArrayLike, radius_mm: float = 50.0, rot_unit: str = "deg"
) -> np.ndarray:
    """Power framewise displacement [1]_.

    ``FD_i = |dtx| + |dty| + |dtz| + r (|drx| + |dry| + |drz|)`` with ``d`` the difference
    between samples ``i`` and ``i - 1``, translations in mm and rotations in **radians**
    (arc length on a sphere of radius ``r``). ``FD_0 = 0``. This is fMRIPrep's
    ``framewise_displacement`` column and nipype's ``FramewiseDisplacement`` (which omits the
    first frame).

    Parameters
    ----------
    motion : Trajectory or array_like, shape (N, 6)
    radius_mm : float
        Head radius ``r`` (mm), 50 by default.
    rot_unit : {"deg", "rad"}
        Rotation unit of an array input.

    Returns
    -------
    ndarray, shape (N,)
        FD in mm.
    """
    _check_radius(radius_mm)
    p = as_params_deg(motion, rot_unit)
    d = np.abs(np.diff(p, axis=0))
    return _prepend_zero(d[:, :3].sum(1) + radius_mm * np.deg2rad(d[:, 3:]).sum(1))


def _check_radius(radius_mm: float) -> None:
    # 0 is allowed (translations only); a negative radius would subtract rotations
    if not (np.isfinite(radius_mm) and radius_mm >= 0):
        raise MrsimInputError(f"radius_mm must be a number of mm >= 0, got {radius_mm!r}")


def jenkinson_fd(
    motion: Trajectory | ArrayLike,
    radius_mm: float = 80.0,
    center_mm: ArrayLike | None = None,
    rot_unit: str = "deg",
) -> np.ndarray:
    """Jenkinson framewise displacement: RMS deviation over a sphere (FSL ``rmsdiff``) [2]_.

    For consecutive poses ``A_{i-1}``, ``A_i`` (4x4, about the rotation centre) let
    ``M = A_i A_{i-1}^{-1} - I`` with upper-left 3x3 block ``M_R`` and translation ``m``. The
    RMS displacement of the points of a solid sphere of radius ``R`` centred at ``x_c`` is

    ``FD_i = sqrt( R^2 / 5 * trace(M_R^T M_R) + (m + M_R x_c)^T (m + M_R x_c) )``.

    ``FD_0 = 0``.

    Parameters
    ----------
    motion : Trajectory or array_like, shape (N, 6)
    radius_mm : float
        Sphere radius ``R`` (mm); FSL/mcflirt and fMRIPrep use 80.
    center_mm : array_like, shape (3,), optional
        Sphere centre ``x_c`` (mm) relative to the rotation (FOV) centre, where the sphere
        is at frame ``i - 1`` (the relative transform acts on those positions); 0 by default.
    rot_unit : {"deg", "rad"}
        Rotation unit of an array input.

    Returns
    -------
    ndarray, shape (N,)
        FD in mm.
    """
    _check_radius(radius_mm)
    p = as_params_deg(motion, rot_unit)
    A = params_to_affine(p)
    return _prepend_zero(
        rms_deviation(A[1:] @ invert_affine(A[:-1]), radius_mm=radius_mm, center_mm=center_mm)
    )


def enorm(motion: Trajectory | ArrayLike, rot_unit: str = "deg") -> np.ndarray:
    """AFNI's Euclidean norm of the motion derivative (``1d_tool.py -derivative
    -collapse_cols euclidean_norm``).

    ``enorm_i = sqrt(sum_k (p_{i,k} - p_{i-1,k})^2)`` over the six parameters with
    translations in mm and rotations in **degrees** (AFNI's units; 1 deg counts as 1 mm).
    ``enorm_0 = 0``.

    Returns
    -------
    ndarray, shape (N,)
    """
    p = as_params_deg(motion, rot_unit)
    return _prepend_zero(np.sqrt((np.diff(p, axis=0) ** 2).sum(1)))


# Seed 000 weights rotation differences by 50*pi/180: arc length (mm) on a 50 mm sphere for
# rotations in DEGREES. (The seed's text says R is in rad, which would make the factor wrong by
# 180/pi; with degrees FD_total equals Power FD with r = 50 mm.)
_SEED000_DEG_TO_MM = 50.0 * np.pi / 180.0


def _seed000_norm(d_deg: np.ndarray) -> np.ndarray:
    d = np.abs(d_deg)
    return d[:, :3].sum(1) + _SEED000_DEG_TO_MM * d[:, 3:].sum(1)


def fd_total(
    true: Trajectory | ArrayLike,
    previous: ArrayLike | None = None,
    rot_unit: str = "deg",
) -> np.ndarray:
    """Seed 000 Eq. 1: motion between consecutive true poses.

    ``FD_total = sum_i |T_i,t - T_i,t+1| + 50 pi / 180 sum_i |R_i,t - R_i,t+1|`` with ``T`` in
    mm and ``R`` in degrees [3]_, i.e. Power FD with a 50 mm radius.

    Parameters
    ----------
    true : Trajectory or array_like, shape (N, 6)
        True poses.
    previous : array_like, shape (N, 6), optional
        The pose preceding each row of ``true`` (e.g. the last input sample of each
        prediction window). By default consecutive rows are used and ``FD_total[0] = 0``.
    rot_unit : {"deg", "rad"}
        Rotation unit of array inputs.

    Returns
    -------
    ndarray, shape (N,)
    """
    p = as_params_deg(true, rot_unit)
    if previous is None:
        return _prepend_zero(_seed000_norm(np.diff(p, axis=0)))
    q = as_params_deg(previous, rot_unit)
    if q.shape != p.shape:
        raise ValueError(f"previous has shape {q.shape}, expected {p.shape} like true")
    return _seed000_norm(p - q)


def fd_pred(
    true: Trajectory | ArrayLike, pred: Trajectory | ArrayLike, rot_unit: str = "deg"
) -> np.ndarray:
    """Seed 000 Eq. 2: displacement between predicted and true poses, per sample.

    ``FD_pred = sum_i |T^_i,t+1 - T_i,t+1| + 50 pi / 180 sum_i |R^_i,t+1 - R_i,t+1|`` [3]_.

    Parameters
    ----------
    true, pred : Trajectory or array_like, shape (N, 6)
        ``pred[j]`` is the prediction of ``true[j]``.

    Returns
    -------
    ndarray, shape (N,)
    """
    p = as_params_deg(true, rot_unit)
    q = as_params_deg(pred, rot_unit)
    if q.shape != p.shape:
        raise ValueError(f"pred has shape {q.shape}, expected {p.shape} like true")
    return _seed000_norm(q - p)


def fd_gain(
    true: Trajectory | ArrayLike,
    pred: Trajectory | ArrayLike,
    previous: ArrayLike | None = None,
    rot_unit: str = "deg",
) -> np.ndarray:
    """Seed 000 Eq. 3: ``FD_gain = (FD_total - FD_pred) / FD_total`` per sample.

    Positive when the prediction is closer to the true pose than the previous true pose was,
    i.e. correcting with the prediction reduces the apparent motion. Undefined (NaN) where
    ``FD_total = 0``, including the first sample when ``previous`` is not given; average with
    ``np.nanmean``.

    Parameters
    ----------
    true, pred : Trajectory or array_like, shape (N, 6)
    previous : array_like, shape (N, 6), optional
        See :func:`fd_total`.
    rot_unit : {"deg", "rad"}

    Returns
    -------
    ndarray, shape (N,)
    """
    tot = fd_total(true, previous=previous, rot_unit=rot_unit)
    prd = fd_pred(true, pred, rot_unit=rot_unit)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot > 0, (tot - prd) / np.where(tot > 0, tot, 1.0), np.nan)


#: Default sphere radius of each FD kind (mm); enorm has none.
DEFAULT_RADIUS_MM = {"power": 50.0, "jenkinson": 80.0, "enorm": None}


def framewise_displacement(
    motion: Trajectory | ArrayLike,
    kind: str = "power",
    radius_mm: float | None = None,
    rot_unit: str = "deg",
) -> np.ndarray:
    """Per-frame FD of the given ``kind``: "power" (default), "jenkinson" or "enorm".

    ``radius_mm=None`` takes the kind's default (:data:`DEFAULT_RADIUS_MM`); enorm has no
    radius and refuses one.

    Returns
    -------
    ndarray, shape (N,)
    """
    if kind not in DEFAULT_RADIUS_MM:
        raise ValueError(f"FD kind must be one of {sorted(DEFAULT_RADIUS_MM)}, got {kind!r}")
    if kind == "enorm":
        if radius_mm is not None:
            raise ValueError("enorm has no radius (rotations count 1 deg = 1 mm)")
        return enorm(motion, rot_unit=rot_unit)
    r = DEFAULT_RADIUS_MM[kind] if radius_mm is None else float(radius_mm)
    if not r > 0:
        raise ValueError(f"radius_mm must be > 0, got {radius_mm}")
    f = power_fd if kind == "power" else jenkinson_fd
    return f(motion, radius_mm=r, rot_unit=rot_unit)
