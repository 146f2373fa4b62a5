"""Image-quality metrics with ONE convention, used everywhere in mrsim.

Convention (DESIGN.md):

* **SSIM** is computed per 2D slice with scikit-image's defaults (7x7 uniform
  window, K1 = 0.01, K2 = 0.03, no Gaussian weighting), with
  ``data_range = max(reference volume)``, then averaged over slices. No mask
  unless one is given.
* **PSNR** = 10 log10(data_range^2 / MSE) over the whole volume, same data_range.
* **NRMSE** = RMSE / data_range over the whole volume (``normalization=
  "data_range"``), or ||img - ref|| / ||ref|| (``"euclidean"``, the QSM
  challenge form, reported in % there).
* **HFEN** = ||LoG(img) - LoG(ref)|| / ||LoG(ref)|| with a 15^3 Laplacian of
  Gaussian, sigma 1.5 voxels (Ravishankar & Bresler, IEEE TMI 2011).

Inputs must be real (take ``np.abs`` of complex images first: whether the
magnitude or the real part is meant is the caller's decision, never ours).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.metrics import structural_similarity

__all__ = ["ssim", "psnr", "rmse", "nrmse", "hfen"]


def _check_pair(ref: np.ndarray, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(ref)
    img = np.asarray(img)
    if ref.shape != img.shape:
        raise ValueError(f"reference shape {ref.shape} != image shape {img.shape}")
    if np.iscomplexobj(ref) or np.iscomplexobj(img):
        raise ValueError("metrics take real images: pass np.abs(x) (magnitude) or x.real")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(img))):
        raise ValueError("metrics got NaN or inf values")
    return ref.astype(np.float64, copy=False), img.astype(np.float64, copy=False)


def _data_range(ref: np.ndarray, data_range: float | None) -> float:
    dr = float(np.max(ref)) if data_range is None else float(data_range)
    if not dr > 0:
        raise ValueError(f"data_range must be > 0 (max of reference is {np.max(ref)})")
    return dr


def ssim(
    ref: np.ndarray,
    img: np.ndarray,
    data_range: float | None = None,
    axis: int = 0,
    mask: np.ndarray | None = None,
) -> float:
    """Mean SSIM over 2D slices.

    Parameters
    ----------
    ref, img : ndarray, 2D or 3D, real
        Reference (ground truth) and test image, same shape.
    data_range : float, optional
        Defaults to ``ref.max()`` (the reference *volume* maximum, so every
        slice shares it).
    axis : int, default 0
        Axis along which a 3D volume is cut into 2D slices.
    mask : ndarray of bool, optional
        If given (same shape), the SSIM map is averaged over mask voxels of each
        slice; slices with no mask voxel are skipped.

    Returns
    -------
    float
        Mean SSIM over slices.

    References
    ----------
    Z. Wang et al., "Image quality assessment: from error visibility to
    structural similarity", IEEE TIP 13 (2004).
    """
    ref, img = _check_pair(ref, img)
    dr = _data_range(ref, data_range)
    if ref.ndim == 2:
        ref, img = ref[None], img[None]
        mask = None if mask is None else np.asarray(mask)[None]
        axis = 0
    elif ref.ndim != 3:
        raise ValueError(f"ssim takes 2D or 3D images, got {ref.ndim}D")
    r = np.moveaxis(ref, axis, 0)
    x = np.moveaxis(img, axis, 0)
    m = None if mask is None else np.moveaxis(np.asarray(mask, dtype=bool), axis, 0)
    if m is not None and m.shape != r.shape:
        raise ValueError(f"mask shape {m.shape} != image shape {r.shape}")
    values = []
    for i in range(r.shape[0]):
        if m is None:
            values.append(structural_similarity(r[i], x[i], data_range=dr, win_size=7))
        elif m[i].any():
            _, smap = structural_similarity(r[i], x[i], data_range=dr, win_size=7, full=True)
            values.append(float(smap[m[i]].mean()))
    if not values:
        raise ValueError("mask selects no voxel")
    return float(np.mean(values))


def rmse(ref: np.ndarray, img: np.ndarray) -> float:
    """Root-mean-square error over all voxels (in the images' units)."""
    ref, img = _check_pair(ref, img)
    return float(np.sqrt(np.mean((img - ref) ** 2)))


def psnr(ref: np.ndarray, img: np.ndarray, data_range: float | None = None) -> float:
    """Peak SNR in dB over the whole volume, ``data_range`` = reference max by default."""
    ref, img = _check_pair(ref, img)
    dr = _data_range(ref, data_range)
    mse = float(np.mean((img - ref) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(dr**2 / mse))


def nrmse(
    ref: np.ndarray,
    img: np.ndarray,
    data_range: float | None = None,
    normalization: str = "data_range",
    mask: np.ndarray | None = None,
) -> float:
    """Normalised RMSE.

    ``normalization="data_range"``: RMSE / data_range (DESIGN.md default).
    ``normalization="euclidean"``: ||img - ref|| / ||ref|| (QSM challenges;
    multiply by 100 for %). ``mask`` restricts both to the mask voxels.
    """
    ref, img = _check_pair(ref, img)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        ref, img = ref[mask], img[mask]
    if normalization == "data_range":
        return float(np.sqrt(np.mean((img - ref) ** 2)) / _data_range(ref, data_range))
    if normalization == "euclidean":
        denom = float(np.linalg.norm(ref))
        if denom == 0:
            raise ValueError("euclidean NRMSE undefined for an all-zero reference")
        return float(np.linalg.norm(img - ref) / denom)
    raise ValueError(f"normalization must be 'data_range' or 'euclidean', got {normalization!r}")


def hfen(
    ref: np.ndarray,
    img: np.ndarray,
    sigma: float = 1.5,
    size: int = 15,
    mask: np.ndarray | None = None,
) -> float:
    """High-frequency error norm: relative error of Laplacian-of-Gaussian filtered images.

    The LoG kernel has ``size`` voxels per axis (15 -> radius 7) and width
    ``sigma`` voxels, as in the QSM reconstruction challenges.
    """
    ref, img = _check_pair(ref, img)
    truncate = ((size - 1) / 2) / sigma
    lr = ndimage.gaussian_laplace(ref, sigma, truncate=truncate)
    li = ndimage.gaussian_laplace(img, sigma, truncate=truncate)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        lr, li = lr[mask], li[mask]
    denom = float(np.linalg.norm(lr))
    if denom == 0:
        raise ValueError("HFEN undefined: the reference has no high-frequency content")
    return float(np.linalg.norm(li - lr) / denom)
