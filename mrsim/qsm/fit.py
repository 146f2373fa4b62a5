"""Multi-echo field fitting: complex signal over echoes -> off-resonance frequency.

Two estimators of the per-voxel frequency ``f`` (Hz) in
``S_j = |S_j| exp(i (phi0 + 2 pi f TE_j))``:

- ``method="complex"`` (default): nonlinear least squares on the complex data,
  ``min sum_j |S_j - |S_j| exp(i(phi0 + 2 pi f TE_j))|^2``, solved per voxel by
  Gauss-Newton on the wrapped phase residuals with weights ``|S_j|^2`` (the
  linearisation of the complex residual), as MEDI's ``Fit_ppm_complex``
  (Liu T et al., MRM 2013;69:467). Echo phases that wrap in time are handled:
  the fit only needs ``|2 pi f dTE| < pi`` between consecutive echoes.
- ``method="linear"``: temporal unwrapping of the echo phases (``np.unwrap``
  along echoes) followed by one weighted linear regression (weights
  ``|S_j|^2``).

Both return ``f`` modulo ``1 / dTE`` (for uniform echo spacing): spatial
unwrapping of ``2 pi f dTE`` (:mod:`mrsim.qsm.unwrap`) resolves the rest.

References
----------
Seed 002, Sec. 3.2 ("non-linear fitting across multi-echo phase data", ref 38).
Liu T, Wisnieff C, Lou M, et al. Nonlinear formulation of the magnetic field
to source relationship for robust quantitative susceptibility mapping.
MRM 2013;69:467-476.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["FieldFit", "fit_field", "wrap_phase"]


def wrap_phase(phase: np.ndarray) -> np.ndarray:
    """Wrap to ``[-pi, pi)``."""
    return (np.asarray(phase) + np.pi) % (2 * np.pi) - np.pi


@dataclass
class FieldFit:
    """Result of :func:`fit_field` (all arrays of the spatial shape).

    Attributes
    ----------
    freq_hz : ndarray
        Frequency (Hz), determined modulo ``1 / dte_s``.
    phase0_rad : ndarray
        Phase at TE = 0 (consistent with ``freq_hz``).
    freq_std_hz : ndarray
        Standard deviation of ``freq_hz`` from the fit residuals (inf where no signal);
        ``1 / freq_std_hz`` is the data weight W of the dipole inversion (MEDI's N_std).
    dte_s : float
        Echo spacing used for the wrap period.
    """

    freq_hz: np.ndarray
    phase0_rad: np.ndarray
    freq_std_hz: np.ndarray
    dte_s: float


def fit_field(
    signal: np.ndarray,
    te_s: Sequence[float],
    *,
    mask: np.ndarray | None = None,
    method: str = "complex",
    n_iter: int = 20,
    tol_hz: float = 1e-6,
) -> FieldFit:
    """Fit frequency and phase offset to multi-echo complex data.

    Parameters
    ----------
    signal : complex ndarray, shape (..., E)
        Echoes on the last axis.
    te_s : (E,) floats
        Echo times (s), increasing, at least 2.
    mask : bool ndarray, shape (...), optional
        Voxels to fit; others are returned as 0 (std inf).
    method : {"complex", "linear"}
        Nonlinear complex fit (default) or weighted linear fit of temporally
        unwrapped phase.
    n_iter, tol_hz : int, float
        Gauss-Newton iterations and stopping tolerance (complex method).

    Returns
    -------
    FieldFit
    """
    s = np.asarray(signal)
    te = np.asarray(te_s, dtype=float).reshape(-1)
    if s.shape[-1] != te.size:
        raise ValueError(f"signal has {s.shape[-1]} echoes but te_s has {te.size}")
    if te.size < 2 or np.any(np.diff(te) <= 0):
        raise ValueError(f"te_s must be >= 2 increasing echo times, got {te}")
    if method not in ("complex", "linear"):
        raise ValueError(f"method must be 'complex' or 'linear', got {method!r}")
    spatial = s.shape[:-1]
    m = np.ones(spatial, bool) if mask is None else np.asarray(mask, bool)
    if m.shape != spatial:
        raise ValueError(f"mask shape {m.shape} != signal spatial shape {spatial}")
    x = s[m]  # (V, E)
    ax = np.abs(x)
    w = ax**2
    dte = float(np.median(np.diff(te)))
    tt = 2 * np.pi * te

    # Initial frequency from the magnitude-weighted phase difference of successive
    # echoes (exact for noise-free data when |2 pi f dTE| < pi).
    dphi = np.angle(np.sum(x[:, 1:] * np.conj(x[:, :-1]), axis=1))
    f = dphi / (2 * np.pi * dte)
    if method == "linear":
        ph = np.unwrap(np.angle(x) - tt[None] * f[:, None], axis=1) + tt[None] * f[:, None]
        f, p0 = _weighted_line(ph, tt, w)
    else:
        p0 = np.angle(np.sum(x * np.exp(-1j * tt[None] * f[:, None]), axis=1))
        ang = np.angle(x)
        line = _LineFit(tt, w)  # the weights do not change between iterations
        for _ in range(n_iter):
            r = wrap_phase(ang - p0[:, None] - tt[None] * f[:, None])
            dfreq, dp0 = line(r)
            f = f + dfreq
            p0 = p0 + dp0
            if np.all(np.abs(dfreq) < tol_hz):
                break
    resid = x - ax * np.exp(1j * (p0[:, None] + tt[None] * f[:, None]))
    dof = max(te.size - 2, 1)
    sigma = np.sqrt(np.sum(np.abs(resid) ** 2, axis=1) / dof)
    sw = w.sum(axis=1)
    tbar = np.divide((w * te).sum(axis=1), sw, out=np.zeros_like(sw), where=sw > 0)
    spread = np.sum(w * (te[None] - tbar[:, None]) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = sigma / (2 * np.pi * np.sqrt(spread))
    std = np.where(spread > 0, std, np.inf)

    out_f = np.zeros(spatial)
    out_p = np.zeros(spatial)
    out_s = np.full(spatial, np.inf)
    out_f[m], out_p[m], out_s[m] = f, wrap_phase(p0), std
    return FieldFit(out_f, out_p, out_s, dte)


def _weighted_line(y: np.ndarray, tt: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row weighted LS fit ``y ~ a + b * tt``; returns (b, a). Rows with no weight -> 0."""
    return _LineFit(tt, w)(y)


class _LineFit:
    """:func:`_weighted_line` for fixed ``tt`` and ``w``: the y-free sums are formed once."""

    def __init__(self, tt: np.ndarray, w: np.ndarray) -> None:
        self.w = w
        self.wt = w * tt
        self.sw = w.sum(1)
        self.st = self.wt.sum(1)
        self.stt = (self.wt * tt).sum(1)
        det = self.sw * self.stt - self.st * self.st
        self.ok = det > 1e-30 * np.maximum(self.sw * self.stt, 1e-300)
        self.det = np.where(self.ok, det, 1.0)

    def __call__(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sy = (self.w * y).sum(1)
        sty = (self.wt * y).sum(1)
        b = np.where(self.ok, (self.sw * sty - self.st * sy) / self.det, 0.0)
        a = np.where(self.ok, (self.stt * sy - self.st * sty) / self.det, 0.0)
        return b, a
