"""Scalar measures of how much a trajectory moves.

Used across mrsim to label datasets and to plot image quality against motion (seed 001
Fig. 5 plots SSIM against the "standard deviation of motion across 128 time points").
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.transform import Rotation

from mrsim.motion.rigid import rms_deviation
from mrsim.motion.trajectory import Trajectory

__all__ = [
    "MotionStd",
    "MaxDisplacement",
    "FDSummary",
    "motion_std",
    "max_displacement",
    "rms_displacement_sphere",
    "fd_summary",
]


class MotionStd(NamedTuple):
    """Standard deviation over time of the motion parameters (see :func:`motion_std`)."""

    per_param: np.ndarray  #: (6,) std over samples of each column, mm and deg
    translation_mm: float  #: mean of the three translation stds
    rotation_deg: float  #: mean of the three rotation stds
    combined: float  #: mean of all six stds (mm and deg counted alike, as in seed 001)


class MaxDisplacement(NamedTuple):
    """Largest excursion from the identity pose (see :func:`max_displacement`)."""

    translation_mm: float  #: max over samples of the translation vector norm |t_i|
    rotation_deg: float  #: max over samples of the total rotation angle of R_i
    abs_params: np.ndarray  #: (6,) max over samples of |p_ik| per column


class FDSummary(NamedTuple):
    """Summary of a per-frame FD series (see :func:`fd_summary`)."""

    mean_mm: float
    max_mm: float
    n_above_0p2: int
    n_above_0p5: int
    n_frames: int


def motion_std(traj: Trajectory) -> MotionStd:
    """Motion magnitude as the standard deviation over time (seed 001 Fig. 5).

    For each of the six parameters the population standard deviation over the N samples
    (``ddof=0``) is taken; the translation part is the mean of the three translation stds
    (mm), the rotation part the mean of the three rotation stds (deg), and ``combined`` the
    mean of all six, counting 1 mm like 1 degree as seed 001 does (its axis is labelled in
    mm/degree). Samples are weighted equally, so resample to uniform times first if needed.

    Returns
    -------
    MotionStd
    """
    s = np.std(np.asarray(traj.params), axis=0)
    return MotionStd(s, float(s[:3].mean()), float(s[3:].mean()), float(s.mean()))


def max_displacement(traj: Trajectory) -> MaxDisplacement:
    """Largest translation (vector norm, mm) and rotation (axis-angle, deg) from the identity.

    Returns
    -------
    MaxDisplacement
    """
    t = float(np.linalg.norm(traj.translations_mm, axis=1).max())
    ang = Rotation.from_matrix(traj.rotation_matrices()).magnitude()
    return MaxDisplacement(t, float(np.rad2deg(ang).max()), np.abs(traj.params).max(axis=0))


def rms_displacement_sphere(
    traj: Trajectory, radius_mm: float = 80.0, center_mm: ArrayLike | None = None
) -> np.ndarray:
    """RMS displacement of a solid ball of tissue at each sample, relative to the identity pose.

    Jenkinson's RMS deviation (:func:`~mrsim.motion.rigid.rms_deviation`) of each pose
    ``A_i`` against the identity: ``sqrt(R^2/5 trace(M^T M) + |m + M x_c|^2)`` with
    ``[M | m] = A_i - I``.

    Parameters
    ----------
    traj : Trajectory
    radius_mm : float
        Ball radius (mm), 80 as in FSL.
    center_mm : array_like, shape (3,), optional
        Ball centre relative to the rotation (FOV) centre, 0 by default.

    Returns
    -------
    ndarray, shape (N,)
        mm.
    """
    return rms_deviation(traj.to_affines(), radius_mm=radius_mm, center_mm=center_mm)


def fd_summary(fd: ArrayLike) -> FDSummary:
    """Mean/max FD and the number of frames above 0.2 and 0.5 mm.

    The first frame (FD = 0 by convention, no predecessor) is left out of the mean, as
    fMRIPrep and nipype do; counts use ``FD > threshold``.

    Parameters
    ----------
    fd : array_like, shape (N,)
        Per-frame FD from :func:`~mrsim.motion.fd.power_fd` or the like.

    Returns
    -------
    FDSummary
    """
    fd = np.asarray(fd, dtype=float)
    body = fd[1:] if fd.size > 1 else fd
    return FDSummary(
        mean_mm=float(body.mean()),
        max_mm=float(fd.max()),
        n_above_0p2=int((fd > 0.2).sum()),
        n_above_0p5=int((fd > 0.5).sum()),
        n_frames=int(fd.size),
    )
