"""Analytic 3D Shepp-Logan phantom: ellipsoids with an exact Fourier transform.

Each ellipsoid is ``E = {c + A u : |u| < 1}`` with intensity ``rho`` (added where ellipsoids
overlap), centre ``c`` (mm, relative to the FOV centre) and matrix ``A = Q diag(a, b, c)``
(rotation times semi-axes, mm). Its Fourier transform at ``kappa`` (cycles/mm) is

    F(kappa) = rho |det A| exp(-i 2 pi kappa . c) B(|A^T kappa|),
    B(q) = 4 pi (sin(2 pi q) - 2 pi q cos(2 pi q)) / (2 pi q)^3,  B(0) = 4 pi / 3,

``B`` being the transform of the unit ball. A rigid pose ``(R, t)`` maps ``c -> R c + t`` and
``A -> R A``, so the moved phantom's spectrum is exact too: the truth against which the
k-space motion engine is validated (tests/test_kspace_*.py).

The table is the "modified" (higher-contrast) 3D Shepp-Logan of Toft (1996) as distributed
with Schabel's ``phantom3d``: intensities, semi-axes and centres in units of ``radius_mm``.
Orientations are applied as ``Q = Rz(phi)`` (the only angles that are non-zero in the
table are about z, plus ``psi`` about z for two ellipsoids, so the order of the Euler
convention does not matter here: ``Q = Rz(phi + psi)``).

References
----------
P. Toft, "The Radon Transform: Theory and Implementation", PhD thesis, DTU (1996).
L. A. Shepp, B. F. Logan, "The Fourier reconstruction of a head section", IEEE TNS 21 (1974).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SHEPP_LOGAN_3D",
    "Ellipsoid",
    "shepp_logan_ellipsoids",
    "move_ellipsoids",
    "ellipsoids_kspace",
    "shepp_logan_image",
]

# rho, a, b, c, x0, y0, z0, phi_deg, theta_deg, psi_deg  (modified Shepp-Logan, Toft)
SHEPP_LOGAN_3D = np.array(
    [
        [1.0, 0.6900, 0.920, 0.810, 0.00, 0.0000, 0.00, 0.0, 0.0, 0.0],
        [-0.8, 0.6624, 0.874, 0.780, 0.00, -0.0184, 0.00, 0.0, 0.0, 0.0],
        [-0.2, 0.1100, 0.310, 0.220, 0.22, 0.0000, 0.00, -18.0, 0.0, 10.0],
        [-0.2, 0.1600, 0.410, 0.280, -0.22, 0.0000, 0.00, 18.0, 0.0, 10.0],
        [0.1, 0.2100, 0.250, 0.410, 0.00, 0.3500, -0.15, 0.0, 0.0, 0.0],
        [0.1, 0.0460, 0.046, 0.050, 0.00, 0.1000, 0.25, 0.0, 0.0, 0.0],
        [0.1, 0.0460, 0.046, 0.050, 0.00, -0.1000, 0.25, 0.0, 0.0, 0.0],
        [0.1, 0.0460, 0.023, 0.050, -0.08, -0.6050, 0.00, 0.0, 0.0, 0.0],
        [0.1, 0.0230, 0.023, 0.020, 0.00, -0.6060, 0.00, 0.0, 0.0, 0.0],
        [0.1, 0.0230, 0.046, 0.020, 0.06, -0.6050, 0.00, 0.0, 0.0, 0.0],
    ]
)


@dataclass(frozen=True)
class Ellipsoid:
    """``{centre_mm + matrix_mm @ u : |u| < 1}`` with intensity ``rho``."""

    rho: float
    centre_mm: np.ndarray  # (3,)
    matrix_mm: np.ndarray  # (3, 3): rotation @ diag(semi-axes)


def _rz(deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


def shepp_logan_ellipsoids(radius_mm: float = 90.0) -> list[Ellipsoid]:
    """The 10 ellipsoids, scaled so the table's unit length is ``radius_mm``.

    The outer ellipsoid has semi-axes ``(0.69, 0.92, 0.81) * radius_mm`` along x, y, z.
    """
    if not radius_mm > 0:
        raise ValueError(f"radius_mm must be > 0, got {radius_mm}")
    out = []
    for rho, a, b, c, x0, y0, z0, phi, theta, psi in SHEPP_LOGAN_3D:
        if theta != 0:  # pragma: no cover - not in this table
            raise NotImplementedError("tilted ellipsoids are not in the table")
        Q = _rz(phi + psi)
        out.append(
            Ellipsoid(
                float(rho),
                np.array([x0, y0, z0]) * radius_mm,
                Q @ np.diag([a, b, c]) * radius_mm,
            )
        )
    return out


def move_ellipsoids(
    ellipsoids: Sequence[Ellipsoid], rotation: np.ndarray, translation_mm: np.ndarray
) -> list[Ellipsoid]:
    """Ellipsoids moved by the pose ``r -> R r + t`` (about the FOV centre)."""
    R = np.asarray(rotation, dtype=float)
    t = np.asarray(translation_mm, dtype=float)
    return [Ellipsoid(e.rho, R @ e.centre_mm + t, R @ e.matrix_mm) for e in ellipsoids]


def _ball_ft(q: np.ndarray) -> np.ndarray:
    """FT of the unit-ball indicator at radial frequency q (cycles per unit)."""
    k = 2 * np.pi * q
    out = np.empty_like(k)
    small = k < 1e-3
    ks = k[~small]
    out[~small] = 4 * np.pi * (np.sin(ks) - ks * np.cos(ks)) / ks**3
    k2 = k[small] ** 2
    # Taylor series: 4 pi (1/3 - k^2/30 + k^4/840)
    out[small] = 4 * np.pi * (1.0 / 3.0 - k2 / 30.0 + k2**2 / 840.0)
    return out


def ellipsoids_kspace(kappa_per_mm: np.ndarray, ellipsoids: Sequence[Ellipsoid]) -> np.ndarray:
    """Exact Fourier transform of a sum of ellipsoids.

    Parameters
    ----------
    kappa_per_mm : ndarray, shape (..., 3)
        Spatial frequencies (cycles/mm), axes x, y, z.
    ellipsoids : sequence of Ellipsoid

    Returns
    -------
    ndarray, complex128, shape (...)
        ``integral f(r) exp(-i 2 pi kappa . r) dr`` (intensity x mm^3).
    """
    k = np.asarray(kappa_per_mm, dtype=float)
    if k.shape[-1] != 3:
        raise ValueError(f"kappa_per_mm must have shape (..., 3), got {k.shape}")
    out = np.zeros(k.shape[:-1], dtype=complex)
    for e in ellipsoids:
        q = np.linalg.norm(k @ e.matrix_mm, axis=-1)  # |A^T kappa|
        vol = abs(np.linalg.det(e.matrix_mm))
        out += e.rho * vol * _ball_ft(q) * np.exp(-2j * np.pi * (k @ e.centre_mm))
    return out


def _grid_mm(shape: Sequence[int], vox: np.ndarray) -> list[np.ndarray]:
    return np.meshgrid(
        *[(np.arange(n) - n // 2) * v for n, v in zip(shape, vox, strict=False)],
        indexing="ij",
        sparse=True,
    )


def shepp_logan_image(
    shape: Sequence[int] = (128, 128, 128),
    voxel_size_mm: float | Sequence[float] = 1.0,
    rotation: np.ndarray | None = None,
    translation_mm: np.ndarray | None = None,
    method: str = "kspace",
    radius_mm: float | None = None,
    window: str | None = "hann",
    supersample: int = 1,
) -> np.ndarray:
    """Rasterise the (optionally moved) 3D Shepp-Logan phantom.

    Parameters
    ----------
    shape : 3 ints
    voxel_size_mm : float or 3 floats
    rotation, translation_mm : optional
        Pose ``r -> R r + t`` about the FOV centre (voxel ``n // 2``), in mm.
    method : {"kspace", "sample"}
        ``kspace``: the MR-like, band-limited image: the exact spectrum sampled on the
        centred k-space grid (optionally windowed), inverse FFT; real part returned.
        ``sample``: the indicator functions at voxel centres (``supersample`` points per axis
        per voxel averaged), which is not band-limited.
    radius_mm : float, optional
        Phantom scale (see :func:`shepp_logan_ellipsoids`); default 0.45 x the smallest FOV
        side, leaving room for motion.
    window : {"hann", None}
        ``kspace`` only: a radial Hann window ``cos^2(pi |kappa| / (2 kappa_max))`` with
        ``kappa_max`` the smallest per-axis Nyquist frequency (rotation-invariant, so a moved
        phantom is windowed the same way: the truth for rotation tests). None: plain
        truncation (Gibbs ringing).
    supersample : int
        ``sample`` only.

    Returns
    -------
    ndarray, float64, shape ``shape``
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(f"shape must have 3 entries, got {shape}")
    vox = np.broadcast_to(np.asarray(voxel_size_mm, dtype=float), (3,))
    fov = np.asarray(shape) * vox
    r = 0.45 * fov.min() if radius_mm is None else float(radius_mm)
    ell = shepp_logan_ellipsoids(r)
    if rotation is not None or translation_mm is not None:
        R = np.eye(3) if rotation is None else rotation
        t = np.zeros(3) if translation_mm is None else translation_mm
        ell = move_ellipsoids(ell, R, t)
    if method == "kspace":
        from mrsim.kspace.fft import ifft_centered

        kx = _grid_mm(shape, 1.0 / fov)  # (j - n//2) / FOV  in cycles/mm
        kap = np.stack(np.broadcast_arrays(*kx), axis=-1)
        spec = ellipsoids_kspace(kap, ell)
        if window == "hann":
            kmax = 0.5 / vox.max()
            rad = np.linalg.norm(kap, axis=-1) / kmax
            spec *= np.where(rad < 1, np.cos(0.5 * np.pi * rad) ** 2, 0.0)
        elif window is not None:
            raise ValueError(f"window must be 'hann' or None, got {window!r}")
        # continuous FT ~ dV * sqrt(N) * orthonormal DFT
        k_ortho = spec / (np.prod(vox) * np.sqrt(np.prod(shape)))
        return ifft_centered(k_ortho).real
    if method != "sample":
        raise ValueError(f"method must be 'kspace' or 'sample', got {method!r}")
    ss = int(supersample)
    if ss < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample}")
    out = np.zeros(shape)
    offsets = (np.arange(ss) + 0.5) / ss - 0.5
    base = _grid_mm(shape, vox)
    for ox in offsets:
        for oy in offsets:
            for oz in offsets:
                g = [base[0] + ox * vox[0], base[1] + oy * vox[1], base[2] + oz * vox[2]]
                for e in ell:
                    Ainv = np.linalg.inv(e.matrix_mm)
                    d = [g[i] - e.centre_mm[i] for i in range(3)]
                    u2 = sum(
                        (Ainv[i, 0] * d[0] + Ainv[i, 1] * d[1] + Ainv[i, 2] * d[2]) ** 2
                        for i in range(3)
                    )
                    out += e.rho * (u2 < 1.0)
    return out / ss**3
