"""Susceptibility-map metrics: RMSE (ppm), NRMSE (%), HFEN, XSIM, SSIM, PSNR.

Because ``D(0) = 0`` the mean of a reconstructed chi is arbitrary, so by default
both maps are referenced to their mean inside the evaluation mask before any
metric (``demean=True``). NRMSE is ``100 ||chi_r - chi_t|| / ||chi_t||`` in the
mask (QSM challenges 2016/2.0). HFEN, SSIM and PSNR use :mod:`mrsim.metrics`
(one convention for the whole project) on the masked volumes.

XSIM (Milovic C et al., "XSIM: a structural similarity index measure optimized
for MRI QSM", MRM 2025) is SSIM with constants re-tuned for chi maps; here:
3D SSIM from scikit-image with a Gaussian window (sigma 1.5 voxels),
``K1 = 0.01``, ``K2 = 0.001``, ``data_range = 1`` (ppm), no rescaling of chi,
averaged over the mask.
"""

from __future__ import annotations

import numpy as np

from mrsim import metrics as _m

__all__ = ["chi_metrics", "xsim"]


def xsim(ref_ppm: np.ndarray, img_ppm: np.ndarray, mask: np.ndarray | None = None) -> float:
    """XSIM of a chi map (ppm) against the reference; see module doc for the constants."""
    from skimage.metrics import structural_similarity

    ref = np.asarray(ref_ppm, float)
    img = np.asarray(img_ppm, float)
    if ref.shape != img.shape:
        raise ValueError(f"reference shape {ref.shape} != image shape {img.shape}")
    _, smap = structural_similarity(
        ref,
        img,
        data_range=1.0,
        K1=0.01,
        K2=0.001,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    m = np.ones(ref.shape, bool) if mask is None else np.asarray(mask, bool)
    return float(smap[m].mean())


def chi_metrics(
    ref_ppm: np.ndarray, img_ppm: np.ndarray, mask: np.ndarray, *, demean: bool = True
) -> dict[str, float]:
    """All chi metrics in one dict.

    Parameters
    ----------
    ref_ppm, img_ppm : (X, Y, Z) arrays
        Reference and reconstructed susceptibility (ppm).
    mask : bool array
        Evaluation region (brain mask).
    demean : bool
        Subtract each map's mean inside ``mask`` first.

    Returns
    -------
    dict with ``rmse_ppm``, ``nrmse_pct``, ``hfen``, ``xsim``, ``ssim``, ``psnr``.
    """
    m = np.asarray(mask, bool)
    ref = np.where(m, np.asarray(ref_ppm, float), 0.0)
    img = np.where(m, np.asarray(img_ppm, float), 0.0)
    if demean and m.any():
        ref = np.where(m, ref - ref[m].mean(), 0.0)
        img = np.where(m, img - img[m].mean(), 0.0)
    d = (img - ref)[m]
    return {
        "rmse_ppm": float(np.sqrt(np.mean(d**2))),
        "nrmse_pct": float(100 * np.linalg.norm(d) / np.linalg.norm(ref[m])),
        "hfen": _m.hfen(ref, img, mask=m),
        "xsim": xsim(ref, img, m),
        "ssim": _m.ssim(ref, img),
        "psnr": _m.psnr(ref, img),
    }
