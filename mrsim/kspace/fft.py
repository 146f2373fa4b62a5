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

    Along ``axis`` the inverse DFT is evaluated only at the kept positions (a
    ``len(indices) x n`` matrix of ``exp(+2 pi i (m - n//2)(j - n//2) / n) / sqrt(n)``,
    applied as one matrix product in the k-space's precision), then the other transformed
    axes by :func:`ifft_centered`. For a few slices of a volume (e.g. the 10 sagittal slices
    of seed 001's 128^3 reconstructions) this is several times cheaper than the full
    inverse FFT; the values agree with it to float rounding (~1e-6 relative in single
    precision, tests/test_perf_batched.py).

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
    cdt = np.complex64 if kspace.dtype == np.complex64 else np.complex128
    m = np.arange(n) - n // 2
    dft = (np.exp(2j * np.pi * np.outer(idx - n // 2, m) / n) / np.sqrt(n)).astype(cdt)
    moved = np.moveaxis(np.asarray(kspace, dtype=cdt), axis, 0)
    part = (dft @ moved.reshape(n, -1)).reshape((idx.size,) + moved.shape[1:])
    part = np.moveaxis(part, 0, axis)
    rest = tuple(a for a in ax if a != axis)
    return ifft_centered(part, axes=rest, workers=workers) if rest else part


def kspace_frequencies(n: int, fov_mm: float | None = None) -> np.ndarray:
    """Frequencies of a centred axis of length ``n``.

    Returns cycles per FOV (``j - n // 2``) when ``fov_mm`` is None, else cycles per mm.
    """
    k = np.arange(n) - n // 2
    return k.astype(float) if fov_mm is None else k / float(fov_mm)
