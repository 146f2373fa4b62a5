"""Direct (non-iterative) reconstruction: inverse FFT and R=1 SENSE combination."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.kspace.coils import combine_coils
from mrsim.kspace.fft import ifft_centered

__all__ = ["fft_recon", "crop_to_recon"]


def fft_recon(
    kspace: np.ndarray,
    sensitivities: np.ndarray | None = None,
    *,
    workers: int | None = None,
) -> np.ndarray:
    """Image from Cartesian k-space: centred inverse FFT, coils combined.

    Parameters
    ----------
    kspace : ndarray, complex, shape (*grid) or (C, *grid)
        Centred k-space (DC at ``n // 2``), zero where unacquired.
    sensitivities : ndarray, shape (C, *grid), optional
        Receive maps: coil images are combined as ``sum conj(S_c) m_c / sum |S_c|^2``
        (:func:`~mrsim.kspace.coils.combine_coils`, R=1 SENSE; exact for motion-free data).
        Without maps a multi-coil image is the root-sum-of-squares (magnitude).

    Returns
    -------
    ndarray
        Complex image on ``grid`` (real, non-negative for root-sum-of-squares).
    """
    k = np.asarray(kspace)
    if sensitivities is None:
        if k.ndim == 4:
            coil = ifft_centered(k, axes=(1, 2, 3), workers=workers)
            return np.sqrt(np.sum(np.abs(coil) ** 2, axis=0))
        return ifft_centered(k, workers=workers)
    s = np.asarray(sensitivities)
    if k.shape != s.shape:
        raise MrsimInputError(
            f"k-space {k.shape} and coil sensitivities {s.shape} must have the same shape"
        )
    coil = ifft_centered(k, axes=tuple(range(1, k.ndim)), workers=workers)
    return combine_coils(coil, s)


def crop_to_recon(
    image: np.ndarray, affine: np.ndarray, recon_shape: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Centred crop to ``recon_shape`` (e.g. readout oversampling removed).

    Voxel ``n // 2`` of the encoded grid becomes voxel ``m // 2``; the affine is shifted so
    that every kept voxel keeps its world position.
    """
    if recon_shape is None or tuple(recon_shape) == image.shape:
        return image, affine
    start = [n // 2 - m // 2 for n, m in zip(image.shape, recon_shape, strict=True)]
    sl = tuple(slice(s, s + m) for s, m in zip(start, recon_shape, strict=True))
    A = np.asarray(affine, float).copy()
    A[:3, 3] = A[:3, :3] @ np.asarray(start, float) + A[:3, 3]
    return image[sl], A
