"""Receive-coil sensitivities (synthetic, birdcage-like) and coil combination.

Coil sensitivities are fixed in the scanner frame: when the head moves, the coils do not.
:func:`mrsim.kspace.corrupt.moved_kspace` uses them exactly (see docs/physics.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["birdcage_sensitivities", "combine_coils"]


def birdcage_sensitivities(
    shape: Sequence[int],
    voxel_size_mm: float | Sequence[float] = 1.0,
    n_coils: int = 8,
    ring_radius: float = 0.6,
    width: float = 0.45,
    axis: int = 2,
) -> np.ndarray:
    """Smooth complex sensitivities of ``n_coils`` loops on a ring around ``axis``.

    Each coil ``c`` sits at angle ``2 pi c / n_coils`` on a ring of radius
    ``ring_radius * FOV / 2`` (in the plane perpendicular to ``axis``, through the FOV centre).
    Its sensitivity is a Gaussian fall-off with distance (``width`` x half-FOV) times a phase
    that winds with the azimuth, ``exp(i (phi - phi_c))``, as for a birdcage's modes. The set
    is scaled so that the root-sum-of-squares is 1 at its maximum.

    Parameters
    ----------
    shape : 2 or 3 ints
        Grid (the scanner-frame output grid).
    voxel_size_mm : float or sequence
    n_coils : int
    ring_radius, width : float
        In units of the half-FOV (smallest in-plane half-FOV).
    axis : int
        Ring axis (3D only; ignored in 2D).

    Returns
    -------
    ndarray, complex64, shape (n_coils, *shape)
    """
    shape = tuple(int(s) for s in shape)
    nd = len(shape)
    if nd not in (2, 3) or n_coils < 1:
        raise ValueError(f"need a 2D/3D shape and n_coils >= 1, got {shape}, {n_coils}")
    vox = np.broadcast_to(np.asarray(voxel_size_mm, dtype=float), (nd,))
    grids = np.meshgrid(
        *[(np.arange(n) - n // 2) * v for n, v in zip(shape, vox, strict=False)],
        indexing="ij",
        sparse=True,
    )
    plane = [a for a in range(nd) if nd == 2 or a != axis % nd][:2]
    half = 0.5 * min(shape[a] * vox[a] for a in plane)
    p, q = grids[plane[0]], grids[plane[1]]
    phi = np.arctan2(q, p)
    out = np.empty((n_coils,) + shape, dtype=np.complex64)
    for c in range(n_coils):
        ang = 2 * np.pi * c / n_coils
        cp, cq = ring_radius * half * np.cos(ang), ring_radius * half * np.sin(ang)
        d2 = (p - cp) ** 2 + (q - cq) ** 2
        mag = np.exp(-d2 / (2 * (width * half) ** 2))
        out[c] = np.broadcast_to(mag * np.exp(1j * (phi - ang)), shape)
    rss = np.sqrt(np.sum(np.abs(out) ** 2, axis=0))
    return (out / rss.max()).astype(np.complex64)


def combine_coils(coil_images: np.ndarray, sensitivities: np.ndarray) -> np.ndarray:
    """Sensitivity-weighted (SENSE, R=1) combination ``sum_c conj(S_c) m_c / sum_c |S_c|^2``.

    Exact for motion-free data (returns the object wherever some coil sees it; 0 where none
    does). ``coil_images`` has shape (..., C, *grid), ``sensitivities`` (C, *grid).
    """
    s = np.asarray(sensitivities)
    if coil_images.shape[-s.ndim :] != s.shape:
        raise ValueError(
            f"coil images {coil_images.shape} do not end with the sensitivities' shape {s.shape}"
        )
    den = np.sum(np.abs(s) ** 2, axis=0)
    num = np.sum(np.conj(s) * coil_images, axis=-s.ndim)
    return np.where(den > 1e-12, num / np.maximum(den, 1e-12), 0)
