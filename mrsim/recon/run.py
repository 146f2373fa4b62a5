"""``reconstruct``: FFT/SENSE or known-motion reconstruction of a :class:`RawData`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.io.raw import RawData
from mrsim.recon.direct import crop_to_recon, fft_recon
from mrsim.recon.known_motion import known_motion_recon

__all__ = ["ReconResult", "reconstruct", "operator_for"]


@dataclass
class ReconResult:
    """Image (complex, or real root-sum-of-squares), its affine, and the CG history."""

    image: np.ndarray
    affine: np.ndarray
    method: str
    residuals: list[float] = field(default_factory=list)
    iterations: int = 0


def operator_for(raw: RawData, *, eps: float = 1e-4, nthreads: int | None = None):
    """The :class:`~mrsim.kspace.operator.MotionOperator` of ``raw``'s poses and coils."""
    from mrsim.kspace.operator import MotionOperator
    from mrsim.motion.rigid import rotation_matrix

    if raw.line_params is None:
        raise MrsimInputError(
            f"{raw.source}: no per-line poses recorded; known-motion reconstruction needs "
            "them (mrsim k-space and MRD files carry them, user_float[0:6] in MRD)"
        )
    if raw.n_coils > 1 and raw.sensitivities is None:
        raise MrsimInputError(
            f"{raw.source}: {raw.n_coils} coils but no coil sensitivities in the file; "
            "known-motion reconstruction of multi-coil data needs the maps"
        )
    from mrsim.kspace.nufft_options import NufftOptions
    from mrsim.kspace.poses import LinePoses

    p = raw.line_params
    poses = LinePoses(rotation_matrix(p[:, 3:]), p[:, :3], p, {"source": raw.source})
    return MotionOperator(
        raw.schedule,
        poses,
        affine=raw.affine,
        coil_sensitivities=raw.sensitivities if raw.n_coils > 1 else None,
        coil_terms=raw.coil_terms,
        options=NufftOptions(eps=eps, threads=nthreads),
    )


def reconstruct(
    raw: RawData,
    *,
    known_motion: bool = False,
    iterations: int = 30,
    tol: float = 1e-6,
    lam: float = 0.0,
    eps: float = 1e-4,
    nthreads: int | None = None,
    progress: bool = False,
) -> ReconResult:
    """Reconstruct acquired lines: FFT/SENSE, or CG with the known per-line poses.

    Parameters
    ----------
    raw : RawData
        From :func:`~mrsim.io.raw.read_mrsim_kspace` or :func:`~mrsim.io.ismrmrd.read_ismrmrd`.
    known_motion : bool
        Invert the recorded motion (:func:`~mrsim.recon.known_motion.known_motion_recon`);
        otherwise the plain FFT (single coil), R=1 SENSE (maps given) or root-sum-of-squares.
    iterations, tol, lam
        CG settings (``lam``: Tikhonov weight).
    eps, nthreads
        NUFFT tolerance and threads of the operator.

    Returns
    -------
    ReconResult
        Cropped to ``raw.recon_shape`` when the file asks for it (readout oversampling).
    """
    if not known_motion:
        k = raw.kspace()
        img = fft_recon(
            k[0] if raw.n_coils == 1 else k,
            raw.sensitivities if raw.n_coils > 1 else None,
            workers=nthreads,
        )
        image, affine = crop_to_recon(img, raw.affine, raw.recon_shape)
        method = (
            "fft" if raw.n_coils == 1 else ("sense" if raw.sensitivities is not None else "rss")
        )
        return ReconResult(image, affine, method)
    op = operator_for(raw, eps=eps, nthreads=nthreads)
    lines = raw.lines[0] if raw.n_coils == 1 else raw.lines
    res = known_motion_recon(op, lines, iterations=iterations, tol=tol, lam=lam, progress=progress)
    image, affine = crop_to_recon(res.image, raw.affine, raw.recon_shape)
    return ReconResult(image, affine, "known-motion CG", res.residuals, res.iterations)
