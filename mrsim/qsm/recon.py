"""QSM reconstruction chain: MGRE -> total field -> local field -> chi.

Steps (seed 002 Sec. 3.2): multi-echo complex field fit
(:func:`mrsim.qsm.fit.fit_field`), spatial unwrapping of ``2 pi f dTE``
(graph cut or Laplacian, :mod:`mrsim.qsm.unwrap`), brain mask (given or from
magnitude), background removal (PDF or V-SHARP, :mod:`mrsim.qsm.background`)
and dipole inversion (MEDI-style TV or TKD, :mod:`mrsim.qsm.inversion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mrsim.qsm.background import pdf, vsharp
from mrsim.qsm.fit import FieldFit, fit_field
from mrsim.qsm.gre import hz_to_ppm
from mrsim.qsm.inversion import tkd, tv_inversion
from mrsim.qsm.unwrap import unwrap_graphcut, unwrap_laplacian

__all__ = ["QSMRecon", "brain_mask_from_magnitude", "qsm_recon"]


@dataclass
class QSMRecon:
    """Results of :func:`qsm_recon` (3D arrays on the input grid)."""

    total_field_ppm: np.ndarray
    local_field_ppm: np.ndarray
    chi_ppm: np.ndarray
    mask: np.ndarray
    fit: FieldFit


def brain_mask_from_magnitude(magnitude: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """Largest connected component of ``magnitude > threshold * max``, holes filled."""
    mag = np.asarray(magnitude, float)
    m = mag > threshold * mag.max()
    lab, n = ndimage.label(m)
    if n == 0:
        raise ValueError("no voxel above the magnitude threshold; give a mask")
    sizes = ndimage.sum(m, lab, index=np.arange(1, n + 1))
    m = lab == (1 + int(np.argmax(sizes)))
    return ndimage.binary_fill_holes(m)


def qsm_recon(
    signal: np.ndarray,
    te_s: Sequence[float],
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    *,
    mask: np.ndarray | None = None,
    b0_t: float = 3.0,
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
    fit_method: str = "complex",
    unwrap: str = "graphcut",
    background: str = "pdf",
    inversion: str = "tv",
    lam: float = 1e-5,
    tkd_threshold: float = 0.19,
    erode_voxels: int = 1,
    progress: bool = False,
) -> QSMRecon:
    """Reconstruct chi (ppm) from complex multi-echo GRE.

    Parameters
    ----------
    signal : complex (X, Y, Z, E)
    te_s : (E,) echo times (s)
    voxel_size_mm : float or (3,)
    mask : bool (X, Y, Z), optional
        Brain mask; default from the first-echo magnitude.
    b0_t, b0_dir : field strength (T) and direction (array axes)
    fit_method : {"complex", "linear"}
    unwrap : {"graphcut", "laplacian"}
    background : {"pdf", "vsharp"}
    inversion : {"tv", "tkd"}
    lam : TV regularisation (see :func:`mrsim.qsm.inversion.tv_inversion`)
    tkd_threshold : TKD threshold
    erode_voxels : int
        Erosion of the mask after background removal (edge voxels are unreliable).
    progress : bool

    Returns
    -------
    QSMRecon
    """
    s = np.asarray(signal)
    if s.ndim != 4:
        raise ValueError(f"signal must be (X, Y, Z, echoes), got shape {s.shape}")
    mag = np.abs(s[..., 0])
    m = brain_mask_from_magnitude(mag) if mask is None else np.asarray(mask, bool)
    if m.shape != s.shape[:3]:
        raise ValueError(f"mask shape {m.shape} != signal shape {s.shape[:3]}")
    fit = fit_field(s, te_s, mask=m, method=fit_method)
    ph = 2 * np.pi * fit.freq_hz * fit.dte_s
    if unwrap == "graphcut":
        uw = unwrap_graphcut(ph, m, weights=mag)
    elif unwrap == "laplacian":
        uw = unwrap_laplacian(ph, m)
    else:
        raise ValueError(f"unwrap must be 'graphcut' or 'laplacian', got {unwrap!r}")
    total = hz_to_ppm(uw / (2 * np.pi * fit.dte_s), b0_t)
    total = np.where(m, total - np.median(total[m]), 0.0)  # 2 pi k offset is arbitrary
    # W = 1 / field std; the std is floored at 1e-3 x its median so that (near)
    # noise-free voxels do not get unbounded weights
    std = fit.freq_std_hz
    finite = m & np.isfinite(std)
    floor = 1e-3 * float(np.median(std[finite])) if finite.any() else 1.0
    weight = np.where(finite, 1.0 / np.maximum(std, max(floor, 1e-12)), 0.0)
    if background == "pdf":
        local = pdf(total, m, voxel_size_mm, b0_dir, weight=weight)
        m2 = ndimage.binary_erosion(m, iterations=erode_voxels) if erode_voxels else m
    elif background == "vsharp":
        local, m2 = vsharp(total, m, voxel_size_mm)
    else:
        raise ValueError(f"background must be 'pdf' or 'vsharp', got {background!r}")
    local = np.where(m2, local, 0.0)
    if inversion == "tv":
        chi = tv_inversion(
            local,
            m2,
            voxel_size_mm,
            b0_dir,
            magnitude=mag,
            weight=weight,
            lam=lam,
            progress=progress,
        )
    elif inversion == "tkd":
        chi = tkd(local, m2, voxel_size_mm, b0_dir, threshold=tkd_threshold)
    else:
        raise ValueError(f"inversion must be 'tv' or 'tkd', got {inversion!r}")
    return QSMRecon(total, local, chi, m2, fit)
