"""k-space: acquisition schedules, NUFFT backends, motion corruption, reconstruction.

Public API (see docs/physics.md for the model and conventions):

* :mod:`~mrsim.kspace.fft`: centred orthonormal FFTs (the k-space convention).
* :mod:`~mrsim.kspace.schedule`: :class:`Schedule`, MP-RAGE / GRE / 2D orderings,
  :func:`poses_for_schedule`.
* :mod:`~mrsim.kspace.poses`: :class:`LinePoses` and :func:`line_poses` (trajectory +
  schedule -> per-line poses).
* :mod:`~mrsim.kspace.engine`: :func:`moved_kspace`, :func:`rigid_move` (one NUFFT for all
  lines of all poses).
* :mod:`~mrsim.kspace.multicoil`: :class:`Coils`, the "states" and "fourier" coil methods.
* :mod:`~mrsim.kspace.corrupt`: :class:`CorruptionSettings` and :func:`corrupt`, the front
  door (re-exports the names above).
* :mod:`~mrsim.kspace.baseline`: the image-domain reference method (benchmarks, tests).
* :mod:`~mrsim.kspace.severity`: motion severity, noise level for an SNR.
* :mod:`~mrsim.kspace.nufft`: type-2 NUFFT backends (finufft, sigpy), also along lines;
  :class:`NufftOptions` (:mod:`~mrsim.kspace.nufft_options`).
* :mod:`~mrsim.kspace.line_interp`: finufft's kernel applied along straight k-space lines.
* :mod:`~mrsim.kspace.operator`: :class:`MotionOperator`, the forward model with its
  adjoint (type-1 NUFFT, :mod:`~mrsim.kspace.nufft_adjoint`) for recon code.
* :mod:`~mrsim.kspace.coils`: synthetic coil sensitivities, their Fourier series, coil
  combination.
"""

from mrsim.geometry import orientation_from_affine
from mrsim.kspace.baseline import image_domain_kspace
from mrsim.kspace.coils import (
    bandlimit_sensitivities,
    birdcage_sensitivities,
    combine_coils,
    sensitivity_fourier_coefficients,
    sensitivity_truncation_error,
)
from mrsim.kspace.corrupt import CorruptionResult, CorruptionSettings, corrupt
from mrsim.kspace.engine import moved_kspace, rigid_move
from mrsim.kspace.fft import fft_centered, ifft_centered, kspace_frequencies
from mrsim.kspace.multicoil import Coils
from mrsim.kspace.nufft_options import NufftOptions
from mrsim.kspace.operator import MotionOperator
from mrsim.kspace.poses import LinePoses, line_poses, motion_states
from mrsim.kspace.schedule import (
    ORDERINGS,
    Schedule,
    cartesian2d_schedule,
    gre3d_schedule,
    mprage_schedule,
    poses_for_schedule,
)
from mrsim.kspace.severity import motion_severity, noise_sigma_for_snr

__all__ = [
    "ORDERINGS",
    "Coils",
    "CorruptionResult",
    "CorruptionSettings",
    "LinePoses",
    "MotionOperator",
    "NufftOptions",
    "Schedule",
    "bandlimit_sensitivities",
    "birdcage_sensitivities",
    "cartesian2d_schedule",
    "combine_coils",
    "corrupt",
    "fft_centered",
    "gre3d_schedule",
    "ifft_centered",
    "image_domain_kspace",
    "kspace_frequencies",
    "line_poses",
    "motion_severity",
    "motion_states",
    "moved_kspace",
    "mprage_schedule",
    "noise_sigma_for_snr",
    "orientation_from_affine",
    "poses_for_schedule",
    "rigid_move",
    "sensitivity_fourier_coefficients",
    "sensitivity_truncation_error",
]
