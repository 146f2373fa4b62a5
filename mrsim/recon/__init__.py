"""Reconstruction from acquired k-space lines: FFT / SENSE and known-motion CG.

* :func:`~mrsim.recon.direct.fft_recon`: inverse FFT of the gridded lines, R=1 SENSE
  combination with maps (root-sum-of-squares without).
* :func:`~mrsim.recon.known_motion.known_motion_recon`: conjugate gradients on the normal
  equations of :class:`~mrsim.kspace.operator.MotionOperator` with Tikhonov weight,
  the upper bound a retrospective motion corrector can reach (docs/recon.md).
* :func:`~mrsim.recon.run.reconstruct`: either, from a :class:`~mrsim.io.raw.RawData`
  (mrsim k-space or MRD file), as ``mrsim recon`` does.
"""

from mrsim.recon.direct import crop_to_recon, fft_recon
from mrsim.recon.known_motion import CGResult, conjugate_gradient, known_motion_recon
from mrsim.recon.run import ReconResult, reconstruct

__all__ = [
    "CGResult",
    "ReconResult",
    "conjugate_gradient",
    "crop_to_recon",
    "fft_recon",
    "known_motion_recon",
    "reconstruct",
]
