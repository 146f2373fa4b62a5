"""Background field removal: PDF (projection onto dipole fields) and V-SHARP.

The total field inside the brain mask is the sum of the *local* field of
sources inside the mask and a *background* field of sources outside it (air,
bone, shims), which is harmonic inside the mask. Both methods return the local
field in the units of the input (ppm or Hz), zero outside the (possibly
eroded) mask.

References
----------
Liu T, Khalidov I, de Rochefort L, et al. A novel background field removal
method for MRI using projection onto dipole fields (PDF). NMR Biomed
2011;24:1129-1136.
Li W, Wu B, Liu C. Quantitative susceptibility mapping of human brain reflects
spatial variation in tissue composition. NeuroImage 2011;55:1645-1656 (V-SHARP).
Seed 002, Sec. 3.2 (background field removal, ref. 40).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg

from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.qsm.convolution import RealKernel
from mrsim.qsm.dipole import _pad_centered, _voxel, dipole_kernel, padded_shape

__all__ = ["pdf", "vsharp", "smv_kernel"]


def pdf(
    field: np.ndarray,
    mask: np.ndarray,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
    *,
    weight: np.ndarray | None = None,
    pad_factor: float = 1.0,
    maxiter: int = 100,
    rtol: float = 1e-4,
    dtype: type = np.float64,
) -> np.ndarray:
    """Projection onto dipole fields.

    Fits the susceptibility ``chi_out`` of voxels outside ``mask`` (including the
    zero-padding margin when ``pad_factor > 1``) to the field inside it,
    ``min || W (field - d * chi_out) ||_2`` over the mask, by conjugate gradients
    on the normal equations; the local field is ``field - d * chi_out``.

    Parameters
    ----------
    field : (X, Y, Z) array
        Unwrapped total field (ppm or Hz) inside ``mask``.
    mask : bool array
        Brain (region of interest) mask.
    voxel_size_mm, b0_dir :
        Geometry, as :func:`mrsim.qsm.dipole.dipole_field`.
    weight : array, optional
        Data weight W (e.g. 1 / field std); uniform by default.
    pad_factor : float
        Grid enlargement for the dipole convolution (1 = periodic, as MEDI's
        default; larger lets sources sit beyond the FOV).
    maxiter, rtol : int, float
        CG controls.
    dtype : float dtype
        Working precision of the FFTs (the kernel is applied by real FFT,
        :class:`mrsim.qsm.convolution.RealKernel`).

    Returns
    -------
    ndarray
        Local field, zero outside ``mask``.
    """
    f = np.asarray(field, dtype=float)
    m = np.asarray(mask, bool)
    if f.shape != m.shape or f.ndim != 3:
        raise ValueError(f"field {f.shape} and mask {m.shape} must be the same 3D shape")
    w = np.ones(f.shape) if weight is None else np.asarray(weight, dtype=float)
    w = np.where(m, w, 0.0)
    if m.any() and w[m].mean() > 0:
        w = w / w[m].mean()  # the fit is invariant to the scale of W; keep float32 in range
    big = padded_shape(f.shape, pad_factor)
    fp, sl = _pad_centered(f * m, big)
    wp, _ = _pad_centered(w, big)
    mp, _ = _pad_centered(m, big)
    outside = ~mp
    d = RealKernel(dipole_kernel(big, voxel_size_mm, b0_dir), dtype=dtype)
    w2 = wp**2
    n_out = int(outside.sum())

    def normal(v: np.ndarray) -> np.ndarray:
        x = np.zeros(big, dtype=dtype)
        x[outside] = v
        y = d(w2 * d(x))
        return y[outside]

    rhs = d(w2 * fp)[outside]
    A = LinearOperator((n_out, n_out), matvec=normal, dtype=dtype)
    sol, _ = cg(A, rhs, maxiter=maxiter, rtol=rtol)
    x = np.zeros(big)
    x[outside] = sol
    bg = d(x)[sl]
    return np.where(m, f - bg, 0.0)


def smv_kernel(
    shape: Sequence[int], radius_mm: float, voxel_size_mm: Sequence[float] | float = 1.0
) -> np.ndarray:
    """k-space spherical mean value kernel (centred, real, DC = 1) of radius ``radius_mm``."""
    vox = _voxel(voxel_size_mm)
    g = [(np.arange(n) - n // 2) * v for n, v in zip(shape, vox, strict=True)]
    X, Y, Z = np.meshgrid(*g, indexing="ij", sparse=True)
    ball = (X**2 + Y**2 + Z**2 <= radius_mm**2).astype(float)
    ball /= ball.sum()
    # fft_centered is orthonormal; scale so the kernel is the plain DFT of the ball.
    return fft_centered(ball).real * np.sqrt(np.prod(shape))


def vsharp(
    field: np.ndarray,
    mask: np.ndarray,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    *,
    radii_mm: Sequence[float] | None = None,
    threshold: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Variable-radius SHARP background removal.

    Parameters
    ----------
    field : (X, Y, Z) array
        Unwrapped total field inside ``mask``.
    mask : bool array
    voxel_size_mm : float or (3,) floats
    radii_mm : sequence of float, optional
        Sphere radii, largest first; default from 12 mm down to the largest voxel
        size in steps of one voxel.
    threshold : float
        Truncation of the deconvolution ``1 / (1 - S_rmax)`` where ``|1 - S| < threshold``.

    Returns
    -------
    local : ndarray
        Local field, zero outside ``new_mask``.
    new_mask : bool ndarray
        Mask eroded by the smallest radius (where the result is valid).
    """
    f = np.asarray(field, dtype=float)
    m = np.asarray(mask, bool)
    if f.shape != m.shape or f.ndim != 3:
        raise ValueError(f"field {f.shape} and mask {m.shape} must be the same 3D shape")
    vox = _voxel(voxel_size_mm)
    if radii_mm is None:
        step = float(vox.max())
        radii_mm = np.arange(12.0, step - 1e-9, -step)
    radii = sorted((float(r) for r in radii_mm), reverse=True)
    if not radii or radii[-1] <= 0:
        raise ValueError(f"radii_mm must be positive, got {radii_mm!r}")
    fk = fft_centered(f * m)
    mk = fft_centered(m.astype(float))
    hp = np.zeros(f.shape)
    valid = np.zeros(f.shape, bool)
    dk_max = None
    for r in radii:
        s = smv_kernel(f.shape, r, vox)
        dk = 1.0 - s
        if dk_max is None:
            dk_max = dk
        m_r = ifft_centered(s * mk).real > 1.0 - 1e-3  # mask eroded by the sphere
        new = m_r & ~valid
        hp[new] = ifft_centered(dk * fk).real[new]
        valid |= m_r
    inv = np.where(np.abs(dk_max) > threshold, 1.0 / np.where(dk_max == 0, 1, dk_max), 0.0)
    local = ifft_centered(inv * fft_centered(hp)).real
    return np.where(valid, local, 0.0), valid
