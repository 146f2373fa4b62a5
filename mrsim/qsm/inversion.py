"""Dipole inversion: local field -> susceptibility.

- :func:`tkd`: truncated k-space division (Shmueli et al. 2009).
- :func:`tv_inversion`: MEDI-style morphology-weighted total variation (seed 002
  Eq. 3), ``min 1/2 ||W (d * chi - b)||^2 + lambda ||M_G grad chi||_1``, solved
  by ADMM with closed-form sub-problems (default, ``solver="admm"``: the weighted
  linear FANSI splitting of Milovic et al. 2018, every linear step diagonal in
  k-space, float32 real FFTs) or by the original lagged-diffusivity (IRLS) outer
  iterations with conjugate-gradient inner solves (``solver="irls"``, the
  Gauss-Newton/CG scheme of MEDI, Liu J et al. 2012).
- :func:`gradient_mask`: the binary edge mask ``M_G`` from magnitude.

References
----------
Shmueli K, de Zwart JA, van Gelderen P, et al. Magnetic susceptibility mapping of
brain tissue in vivo using MRI phase data. MRM 2009;62:1510-1522.
Liu T, Liu J, de Rochefort L, et al. Morphology enabled dipole inversion (MEDI)
from a single-angle acquisition. MRM 2011;66:777-783.
Liu J, Liu T, de Rochefort L, et al. MEDI for quantitative susceptibility mapping
by use of a nonlinear formulation. NeuroImage 2012;59:2560-2568.
Milovic C, Bilgic B, Zhao B, et al. Fast nonlinear susceptibility inversion with
variational regularization. MRM 2018;80:814-821 (FANSI; weighted linear ADMM).
Seed 002 Eq. 3.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg

from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.qsm.convolution import RealKernel, difference_symbols
from mrsim.qsm.dipole import _pad_centered, dipole_convolve, dipole_kernel, padded_shape

__all__ = ["tkd", "tv_inversion", "gradient_mask"]


def tkd(
    local_field: np.ndarray,
    mask: np.ndarray,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
    *,
    threshold: float = 0.19,
    pad_factor: float = 1.0,
) -> np.ndarray:
    """Truncated k-space division.

    ``chi(k) = b(k) / D(k)`` where ``|D| >= threshold``, ``b(k) sign(D) / threshold``
    elsewhere (``D = 0`` -> 0). Output in the units of ``local_field`` (ppm in,
    ppm out), zero outside ``mask``.
    """
    b = np.asarray(local_field, dtype=float)
    m = np.asarray(mask, bool)
    if b.shape != m.shape or b.ndim != 3:
        raise ValueError(f"local_field {b.shape} and mask {m.shape} must be the same 3D shape")
    if not 0 < threshold < 2 / 3:
        raise ValueError(f"threshold must be in (0, 2/3), got {threshold}")
    big = padded_shape(b.shape, pad_factor)
    bp, sl = _pad_centered(np.where(m, b, 0.0), big)
    d = dipole_kernel(big, voxel_size_mm, b0_dir)
    inv = np.where(np.abs(d) >= threshold, 1.0 / np.where(d == 0, 1.0, d), np.sign(d) / threshold)
    chi = ifft_centered(inv * fft_centered(bp)).real[sl]
    return np.where(m, chi, 0.0)


def _grad(x: np.ndarray) -> np.ndarray:
    """Forward differences (periodic), shape (3, *x.shape)."""
    return np.stack([np.roll(x, -1, axis=a) - x for a in range(3)])


def _grad_adj(g: np.ndarray) -> np.ndarray:
    """Adjoint of :func:`_grad` (negative divergence)."""
    return sum(np.roll(g[a], 1, axis=a) - g[a] for a in range(3))


def gradient_mask(
    magnitude: np.ndarray, mask: np.ndarray, *, percentage: float = 0.9
) -> np.ndarray:
    """Binary mask M_G of voxels that are *not* magnitude edges (MEDI).

    The magnitude is normalised to its maximum in ``mask``; voxels whose
    gradient norm is above the ``percentage`` quantile within the mask are edges
    (M_G = 0, not penalised); all others, including outside the mask, are 1.
    """
    mag = np.asarray(magnitude, dtype=float)
    m = np.asarray(mask, bool)
    if mag.shape != m.shape:
        raise ValueError(f"magnitude {mag.shape} and mask {m.shape} differ in shape")
    if not 0 < percentage <= 1:
        raise ValueError(f"percentage must be in (0, 1], got {percentage}")
    scale = mag[m].max() if m.any() else 1.0
    gn = np.sqrt((_grad(mag * m / scale) ** 2).sum(0))
    thr = np.quantile(gn[m], percentage) if m.any() else np.inf
    return ~(m & (gn > thr))


def tv_inversion(
    local_field: np.ndarray,
    mask: np.ndarray,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
    *,
    magnitude: np.ndarray | None = None,
    weight: np.ndarray | None = None,
    lam: float | None = None,
    edge_percentage: float = 0.9,
    solver: str = "admm",
    n_iter: int = 100,
    tol: float = 1e-3,
    mu_grad: float | None = None,
    mu_data: float = 1.0,
    n_outer: int = 10,
    n_cg: int = 30,
    eps: float = 1e-3,
    progress: bool = False,
) -> np.ndarray:
    """Morphology-weighted TV dipole inversion (MEDI-style, seed 002 Eq. 3).

    Minimises ``1/2 ||W (d * chi - b)||^2 + lambda ||M_G grad chi||_{2,1}``
    (isotropic TV, periodic forward differences, periodic dipole kernel).

    Parameters
    ----------
    local_field : (X, Y, Z) array
        Local field in ppm (inside ``mask``).
    mask : bool array
    voxel_size_mm, b0_dir :
        Geometry.
    magnitude : array, optional
        Magnitude for the edge mask M_G (``edge_percentage`` quantile); without
        it M_G = 1 (plain TV).
    weight : array, optional
        Data weight W (e.g. 1 / field std); normalised to mean 1 in the mask.
    lam : float, optional
        Regularisation weight lambda (field and chi in ppm, gradients per voxel).
        Default 1.5e-5 for ADMM, 1e-5 for IRLS. With their iteration counts,
        ADMM's chi NRMSE on the benchmark phantom is 0.6 percentage points lower
        than IRLS's on motion-free input; on six motion-corrupted profiles it is
        6.3 lower to 7.8 higher, and no single lambda brings all of them within
        1 point (docs/qsm.md). Both counts are early stops, which regularise on
        top of lambda.
    solver : {"admm", "irls"}
        ``"admm"`` (default): split ``z = d * chi`` and ``y = grad chi``
        (weighted linear FANSI); the chi step is a division in k-space, the z
        step a pointwise weighted average, the y step a vector soft threshold.
        Float32 real FFTs. ``"irls"``: lagged diffusivity with CG (the former
        solver, float64, ~40x slower at 64^3).
    n_iter, tol : int, float
        ADMM: at most ``n_iter`` iterations, stopped when the relative change
        of chi per iteration falls below ``tol``. The default 100 iterations
        is an early stop, as the IRLS's 10 x 30 CG iterations were. On the
        motion-free benchmark phantom (docs/qsm.md) it gives the IRLS's chi
        NRMSE to 0.6 percentage points. 500 iterations at lambda 1e-5 fit more
        noise and are 3.7 points worse.
    mu_grad, mu_data : float
        ADMM penalties of the gradient and data splits (FANSI defaults:
        ``mu_grad = 100 lambda``, ``mu_data = 1``, for W of mean 1).
    n_outer, n_cg, eps :
        IRLS: re-weightings, CG iterations per re-weighting and the smoothing
        of |grad chi| (ppm) in the weights.
    progress : bool
        Show a tqdm bar over iterations.

    Returns
    -------
    ndarray, float64
        Susceptibility (ppm), zero outside ``mask``.

    References
    ----------
    Seed 002 Eq. 3; Liu J et al., NeuroImage 2012 (MEDI, IRLS); Milovic C et al.,
    MRM 2018;80:814 (FANSI, ADMM).
    """
    b = np.asarray(local_field, dtype=float)
    m = np.asarray(mask, bool)
    if b.shape != m.shape or b.ndim != 3:
        raise ValueError(f"local_field {b.shape} and mask {m.shape} must be the same 3D shape")
    if solver not in ("admm", "irls"):
        raise ValueError(f"solver must be 'admm' or 'irls', got {solver!r}")
    w = m.astype(float) if weight is None else np.where(m, np.asarray(weight, float), 0.0)
    if m.any():
        w = w / w[m].mean()
    mg = (
        np.ones(b.shape)
        if magnitude is None
        else gradient_mask(magnitude, m, percentage=edge_percentage).astype(float)
    )
    d = dipole_kernel(b.shape, voxel_size_mm, b0_dir)
    if lam is None:
        lam = 1.5e-5 if solver == "admm" else 1e-5
    if solver == "admm":
        mu1 = 100.0 * lam if mu_grad is None else float(mu_grad)
        chi = _tv_admm(b * m, w, mg, d, lam, mu1, float(mu_data), n_iter, tol, progress)
    else:
        chi = _tv_irls(b * m, w, mg, d, lam, n_outer, n_cg, eps, progress)
    return np.where(m, chi, 0.0)


def _iterations(n: int, desc: str, progress: bool):
    if not progress:
        return range(n)
    from tqdm import tqdm

    return tqdm(range(n), desc=desc, unit="it")


def _tv_admm(
    b: np.ndarray,
    w: np.ndarray,
    mg: np.ndarray,
    d: np.ndarray,
    lam: float,
    mu1: float,
    mu2: float,
    n_iter: int,
    tol: float,
    progress: bool,
) -> np.ndarray:
    """Weighted linear ADMM (FANSI) for :func:`tv_inversion`; float32 throughout."""
    f32 = np.float32
    op = RealKernel(d, dtype=f32)
    dk = op.half
    e = difference_symbols(b.shape, np.complex64)
    denom = mu2 * dk**2 + mu1 * sum((np.abs(s) ** 2).astype(f32) for s in e)
    denom.flat[0] = 1.0  # DC: D(0) = 0 and grad of a constant = 0, chi mean left at 0
    inv = (1.0 / denom).astype(f32)
    inv.flat[0] = 0.0
    w2 = (w**2).astype(f32)
    w2b = (w2 * b).astype(f32)
    thr = (lam * mg / mu1).astype(f32)
    chi = np.zeros(b.shape, f32)
    z = b.astype(f32)  # the field itself where W > 0
    y = np.zeros((3, *b.shape), f32)
    s1 = np.zeros_like(y)
    s2 = np.zeros_like(z)
    for _ in _iterations(n_iter, "TV inversion (ADMM)", progress):
        rhs = mu2 * dk * op.rfft(z + s2) + mu1 * op.rfft(_grad_adj(y + s1))
        chi_k = rhs * inv
        new = op.irfft(chi_k)
        dchi = op.irfft(dk * chi_k)
        g = _grad(new)
        v = g - s1
        norm = np.sqrt((v**2).sum(0))
        y = v * np.maximum(1.0 - thr / np.maximum(norm, 1e-30), 0.0)
        z = (w2b + mu2 * (dchi - s2)) / (w2 + mu2)
        s1 += y - g
        s2 += z - dchi
        change = np.linalg.norm(new - chi) / max(float(np.linalg.norm(new)), 1e-30)
        chi = new
        if change < tol:
            break
    return chi.astype(float)


def _tv_irls(
    b: np.ndarray,
    w: np.ndarray,
    mg: np.ndarray,
    d: np.ndarray,
    lam: float,
    n_outer: int,
    n_cg: int,
    eps: float,
    progress: bool,
) -> np.ndarray:
    """Lagged-diffusivity IRLS with CG inner solves for :func:`tv_inversion`."""
    w2 = w**2
    rhs = dipole_convolve(w2 * b, d)
    chi = np.zeros(b.shape)
    for _ in _iterations(n_outer, "TV inversion (IRLS)", progress):
        g = mg * _grad(chi)
        p = 1.0 / np.sqrt((g**2).sum(0) + eps**2)

        def matvec(v: np.ndarray, p: np.ndarray = p) -> np.ndarray:
            x = v.reshape(b.shape)
            data = dipole_convolve(w2 * dipole_convolve(x, d), d)
            reg = _grad_adj(mg * p * (mg * _grad(x)))
            return (data + lam * reg).ravel()

        A = LinearOperator((b.size, b.size), matvec=matvec, dtype=float)
        sol, _ = cg(A, rhs.ravel(), x0=chi.ravel(), maxiter=n_cg)
        chi = sol.reshape(b.shape)
    return chi
