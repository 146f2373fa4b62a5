"""Differentiable SSIM in PyTorch with mrsim's metric convention.

This is the torch twin of :func:`mrsim.metrics.ssim` (scikit-image's
``structural_similarity`` defaults: 7x7 uniform window, K1 = 0.01, K2 = 0.03,
sample covariance, no Gaussian weighting, SSIM map averaged over the window
positions that lie fully inside the image). It exists for losses and for fast
evaluation on batches; ``tests/test_mcnet_ssim.py`` checks that both agree to
1e-5. ``data_range`` is the caller's: by the DESIGN.md convention it is the
max of the reference *volume*, not of each slice.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["ssim_slices"]

_K1 = 0.01
_K2 = 0.03


def ssim_slices(
    ref: torch.Tensor,
    img: torch.Tensor,
    data_range: float | torch.Tensor,
    win_size: int = 7,
) -> torch.Tensor:
    """SSIM of each 2D slice of a batch.

    Parameters
    ----------
    ref, img : Tensor, shape (..., H, W), real
        Reference and test slices (same shape, H and W >= ``win_size``).
    data_range : float or Tensor
        Dynamic range; a tensor must broadcast to the leading shape ``(...)``
        (one value per slice, e.g. the max of the slice's reference volume).
    win_size : int, default 7
        Odd side of the uniform window (scikit-image's default 7).

    Returns
    -------
    Tensor, shape (...)
        Mean SSIM of each slice, in the dtype of the inputs (use float64 for
        comparisons with the NumPy metric).

    References
    ----------
    Z. Wang et al., "Image quality assessment: from error visibility to
    structural similarity", IEEE TIP 13 (2004); scikit-image
    ``skimage.metrics.structural_similarity``.
    """
    if ref.shape != img.shape:
        raise ValueError(f"reference shape {tuple(ref.shape)} != image shape {tuple(img.shape)}")
    if ref.ndim < 2:
        raise ValueError(f"ssim_slices takes (..., H, W) tensors, got shape {tuple(ref.shape)}")
    if ref.is_complex() or img.is_complex():
        raise ValueError("ssim_slices takes real tensors: pass x.abs() (magnitude) first")
    if win_size % 2 != 1 or win_size < 3:
        raise ValueError(f"win_size must be odd and >= 3, got {win_size}")
    h, w = ref.shape[-2:]
    if h < win_size or w < win_size:
        raise ValueError(f"slices of {h}x{w} are smaller than the {win_size}x{win_size} window")
    lead = ref.shape[:-2]
    x = ref.reshape(-1, 1, h, w)
    y = img.reshape(-1, 1, h, w)
    dr = torch.as_tensor(data_range, dtype=ref.dtype, device=ref.device)
    dr = torch.broadcast_to(dr, lead).reshape(-1, 1, 1, 1)

    # avg_pool2d without padding evaluates exactly the window positions that
    # scikit-image keeps after cropping (win_size - 1) // 2 pixels per border.
    def mean(t: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(t, win_size, stride=1)

    n = win_size * win_size
    cov_norm = n / (n - 1.0)  # sample covariance, as scikit-image's default
    ux, uy = mean(x), mean(y)
    vx = cov_norm * (mean(x * x) - ux * ux)
    vy = cov_norm * (mean(y * y) - uy * uy)
    vxy = cov_norm * (mean(x * y) - ux * uy)
    c1 = (_K1 * dr) ** 2
    c2 = (_K2 * dr) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.mean(dim=(-3, -2, -1)).reshape(lead)
