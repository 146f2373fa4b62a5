"""Centred, orthonormal FFTs: the one k-space convention used across mrsim.

k-space arrays are stored with the DC sample at index ``n // 2`` on every
transformed axis, and the image origin (the FOV centre, about which rigid
motion rotates) at voxel ``n // 2``. With ``norm="ortho"`` Parseval holds,
so noise levels and SNR carry over between image and k-space unchanged.

The sample at index ``j`` on an axis of length ``n`` has spatial frequency
``k = (j - n // 2) / FOV`` (cycles per mm), i.e. ``j - n // 2`` cycles per FOV.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft

__all__ = ["fft_centered", "ifft_centered", "kspace_frequencies"]


def _axes(x: np.ndarray, axes: Sequence[int] | None) -> tuple[int, ...]:
    return tuple(range(x.ndim)) if axes is None else tuple(int(a) for a in axes)


def fft_centered(
    image: np.ndarray, axes: Sequence[int] | None = None, workers: int | None = None
) -> np.ndarray:
    """Forward centred orthonormal FFT: image (origin at n//2) -> k-space (DC at n//2).

    Parameters
    ----------
    image : ndarray
        Real or complex array.
    axes : sequence of int, optional
        Axes to transform; all by default.
    workers : int, optional
        Threads for ``scipy.fft``; ``None`` uses scipy's default (1).

    Returns
    -------
    ndarray
        Complex k-space with the same shape.
    """
    ax = _axes(image, axes)
    x = scipy.fft.ifftshift(image, axes=ax)
    k = scipy.fft.fftn(x, axes=ax, norm="ortho", workers=workers)
    return scipy.fft.fftshift(k, axes=ax)


def ifft_centered(
    kspace: np.ndarray, axes: Sequence[int] | None = None, workers: int | None = None
) -> np.ndarray:
    """Inverse of :func:`fft_centered`: k-space (DC at n//2) -> complex image."""
    ax = _axes(kspace, axes)
    k = scipy.fft.ifftshift(kspace, axes=ax)
    x = scipy.fft.ifftn(k, axes=ax, norm="ortho", workers=workers)
    return scipy.fft.fftshift(x, axes=ax)


def kspace_frequencies(n: int, fov_mm: float | None = None) -> np.ndarray:
    """Frequencies of a centred axis of length ``n``.

    Returns cycles per FOV (``j - n // 2``) when ``fov_mm`` is None, else cycles per mm.
    """
    k = np.arange(n) - n // 2
    return k.astype(float) if fov_mm is None else k / float(fov_mm)
