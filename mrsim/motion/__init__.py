"""Rigid head motion: the :class:`Trajectory` type, rigid transforms, generators,
file formats, framewise displacement and magnitude measures.

See ``docs/motion.md`` for the conventions (``R = Rz Ry Rx``, rotation about the FOV
centre, translations in mm, rotations in degrees).
"""

from mrsim.motion.fd import (
    enorm,
    fd_gain,
    fd_pred,
    fd_total,
    framewise_displacement,
    jenkinson_fd,
    power_fd,
)
from mrsim.motion.formats import FORMATS, detect_format, read_trajectory, write_trajectory
from mrsim.motion.generators import GENERATORS, event_profile, pace_like, realistic
from mrsim.motion.magnitude import (
    fd_summary,
    max_displacement,
    motion_std,
    rms_displacement_sphere,
)
from mrsim.motion.populations import (
    DEFAULT_MIXTURE,
    POPULATIONS,
    SCORES_TAG,
    matched_realistic,
    mixture_component,
    population_magnitudes,
    population_trajectories,
    run_length,
    run_seed,
    stream_seed,
    target_mean_fd,
)
from mrsim.motion.rigid import (
    affine_to_params,
    euler_from_matrix,
    invert_affine,
    params_to_affine,
    rms_deviation,
    rotation_matrix,
)
from mrsim.motion.trajectory import PARAM_NAMES, Trajectory

__all__ = [
    "DEFAULT_MIXTURE",
    "FORMATS",
    "GENERATORS",
    "PARAM_NAMES",
    "POPULATIONS",
    "SCORES_TAG",
    "Trajectory",
    "affine_to_params",
    "detect_format",
    "enorm",
    "euler_from_matrix",
    "event_profile",
    "fd_gain",
    "fd_pred",
    "fd_summary",
    "fd_total",
    "framewise_displacement",
    "invert_affine",
    "jenkinson_fd",
    "matched_realistic",
    "max_displacement",
    "mixture_component",
    "motion_std",
    "pace_like",
    "params_to_affine",
    "population_magnitudes",
    "population_trajectories",
    "power_fd",
    "read_trajectory",
    "realistic",
    "rms_deviation",
    "rms_displacement_sphere",
    "rotation_matrix",
    "run_length",
    "run_seed",
    "stream_seed",
    "target_mean_fd",
    "write_trajectory",
]
