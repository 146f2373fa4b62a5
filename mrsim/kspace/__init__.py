"""k-space: acquisition schedules, NUFFT backends, motion corruption, reconstruction.

Public API (see docs/physics.md for the model and conventions):

* :mod:`~mrsim.kspace.fft`: centred orthonormal FFTs (the k-space convention).
* :mod:`~mrsim.kspace.schedule`: :class:`Schedule`, MP-RAGE / GRE / 2D orderings,
  :func:`poses_for_schedule`.
* :mod:`~mrsim.kspace.corrupt`: :func:`moved_kspace`, :func:`rigid_move`, :func:`corrupt`,
  the image-domain baseline and severity measures.
* :mod:`~mrsim.kspace.nufft`: type-2 NUFFT backends (finufft, sigpy), also along lines.
* :mod:`~mrsim.kspace.line_interp`: finufft's kernel applied along straight k-space lines.
* :mod:`~mrsim.kspace.operator`: :class:`MotionOperator`, the forward model with its
  adjoint (type-1 NUFFT, :mod:`~mrsim.kspace.nufft_adjoint`) for recon code.
* :mod:`~mrsim.kspace.coils`: synthetic coil sensitivities, their Fourier series, coil
  combination.
"""

from mrsim.kspace.coils import (
    bandlimit_sensitivities,
    birdcage_sensitivities,
    combine_coils,
    sensitivity_fourier_coefficients,
    sensitivity_truncation_error,
)
from mrsim.kspace.corrupt import (
    CorruptionResult,
    corrupt,
    image_domain_kspace,
    motion_severity,
    moved_kspace,
    orientation_from_affine,
    rigid_move,
)
from mrsim.kspace.fft import fft_centered, ifft_centered, kspace_frequencies
from mrsim.kspace.operator import MotionOperator
from mrsim.kspace.schedule import (
    ORDERINGS,
    Schedule,
    cartesian2d_schedule,
    gre3d_schedule,
    mprage_schedule,
    poses_for_schedule,
)

__all__ = [
    "ORDERINGS",
    "CorruptionResult",
    "MotionOperator",
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
    "motion_severity",
    "moved_kspace",
    "mprage_schedule",
    "orientation_from_affine",
    "poses_for_schedule",
    "rigid_move",
    "sensitivity_fourier_coefficients",
    "sensitivity_truncation_error",
]
