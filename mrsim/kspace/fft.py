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

__all__ = ["fft_centered", "ifft_centered", "ifft_centered_slices", "kspace_frequencies"]


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


def ifft_centered_slices(
    kspace: np.ndarray,
    axis: int,
    indices: Sequence[int],
    axes: Sequence[int] | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """``np.take(ifft_centered(kspace, axes), indices, axis)`` without the full transform.

    The inverse FFT along ``axis`` first (over the whole array), then only the kept slices
    are transformed along the other axes. scipy's FFT (pocketfft) transforms the axes one
    after the other in the given order and applies the orthonormal factor
    ``1 / sqrt(N)`` (computed in long double) once, in the first pass; doing the same here,
    with ``axis`` the first of ``axes``, gives values bit-identical to the sliced full
    transform (tests/test_perf_batched.py); for another axis they agree to float rounding.
    For 10 slices of a 128^3 volume this costs ~half of the full inverse FFT.

    Parameters
    ----------
    kspace : ndarray, complex
    axis : int
        The sliced axis (one of ``axes``).
    indices : sequence of int
        Image indices along ``axis`` (voxel ``n // 2`` is the FOV centre).
    axes : sequence of int, optional
        Transformed axes; all by default.
    workers : int, optional
        Threads for ``scipy.fft``.

    Returns
    -------
    ndarray
        Complex image, the shape of ``kspace`` with ``len(indices)`` along ``axis``.
    """
    ax = tuple(a % kspace.ndim for a in _axes(kspace, axes))
    axis = int(axis) % kspace.ndim
    if axis not in ax:
        raise ValueError(f"axis {axis} is not one of the transformed axes {ax}")
    n = kspace.shape[axis]
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"slice indices must lie in [0, {n - 1}], got {idx.tolist()}")
    rest = tuple(a for a in ax if a != axis)
    k = scipy.fft.ifftshift(kspace, axes=(axis,))
    x = scipy.fft.ifft(k, axis=axis, norm="forward", workers=workers)  # unscaled
    real = np.float32 if x.dtype == np.complex64 else np.float64
    n_total = np.prod([kspace.shape[a] for a in ax])
    x.view(real)[...] *= real(1 / np.sqrt(np.longdouble(n_total)))  # pocketfft's factor
    part = np.take(scipy.fft.fftshift(x, axes=(axis,)), idx, axis=axis)
    if not rest:
        return part
    part = scipy.fft.ifftn(scipy.fft.ifftshift(part, axes=rest), axes=rest, norm="forward",
                           workers=workers)  # fmt: skip
    return scipy.fft.fftshift(part, axes=rest)


def kspace_frequencies(n: int, fov_mm: float | None = None) -> np.ndarray:
    """Frequencies of a centred axis of length ``n``.

    Returns cycles per FOV (``j - n // 2``) when ``fov_mm`` is None, else cycles per mm.
    """
    k = np.arange(n) - n // 2
    return k.astype(float) if fov_mm is None else k / float(fov_mm)
