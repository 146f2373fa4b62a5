"""Multi-echo gradient-echo (MGRE) signal model: steady state, T2* decay, field phase, noise.

Signal in a voxel at echo time ``TE`` (seed 002 Eq. 1, written with the phase
sign used throughout mrsim, phase = +2 pi gamma B0 TE b):

    S(r, TE) = M0(r) exp(-TE R2*(r)) exp(i (phi0(r) + 2 pi gamma B0 TE b(r)))

with ``b`` the relative field shift in ppm (so ``gamma B0 b * 1e-6`` is the
off-resonance frequency in Hz) and ``gamma = 42.577478 MHz/T``. Echoes are
stacked on the LAST axis, ``(X, Y, Z, E)``, as in 4D NIfTI files.

References
----------
Seed 002 Eq. 1 and protocol (TE1 6.3 ms, dTE 4.1 ms, 11 echoes, 3 T).
Marques JP et al. QSM reconstruction challenge 2.0. MRM 2021;86:526-542
(forward signal model, complex Gaussian noise at a given SNR).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "GAMMA_HZ_PER_T",
    "echo_times",
    "ppm_to_hz",
    "hz_to_ppm",
    "spoiled_gre_m0",
    "gre_signal",
    "add_noise",
]

#: Proton gyromagnetic ratio / (2 pi), Hz/T (CODATA 2018).
GAMMA_HZ_PER_T = 42.577478518e6


def echo_times(n_echoes: int = 11, te1_s: float = 6.3e-3, dte_s: float = 4.1e-3) -> np.ndarray:
    """Uniform echo times (s); defaults are seed 002's healthy-volunteer protocol."""
    if n_echoes < 1 or te1_s < 0 or dte_s <= 0:
        raise ValueError(
            f"need n_echoes >= 1, te1_s >= 0, dte_s > 0; got {n_echoes}, {te1_s}, {dte_s}"
        )
    return te1_s + dte_s * np.arange(n_echoes)


def ppm_to_hz(field_ppm: np.ndarray | float, b0_t: float = 3.0) -> np.ndarray | float:
    """Relative field (ppm) -> off-resonance frequency (Hz) at ``b0_t`` tesla."""
    return np.asarray(field_ppm) * (GAMMA_HZ_PER_T * b0_t * 1e-6)


def hz_to_ppm(freq_hz: np.ndarray | float, b0_t: float = 3.0) -> np.ndarray | float:
    """Off-resonance frequency (Hz) -> relative field (ppm) at ``b0_t`` tesla."""
    return np.asarray(freq_hz) / (GAMMA_HZ_PER_T * b0_t * 1e-6)


def spoiled_gre_m0(
    pd: np.ndarray | float,
    t1_s: np.ndarray | float,
    *,
    flip_deg: float,
    tr_s: float,
) -> np.ndarray:
    """Spoiled-GRE steady-state magnitude at TE = 0 (the ``m0`` of :func:`gre_signal`).

    ``PD sin(a) (1 - E1) / (1 - cos(a) E1)``, ``E1 = exp(-TR/T1)`` (Ernst; ideal spoiling).
    Combine with the tissue table (:data:`mrsim.phantoms.tissues.TISSUES_3T`) to give a
    GRE phantom the same T1 / PD as the MP-RAGE one.
    """
    from mrsim.errors import MrsimInputError

    if not (0 < flip_deg <= 180) or not tr_s > 0:
        raise MrsimInputError(f"need 0 < flip_deg <= 180 and tr_s > 0, got {flip_deg}, {tr_s}")
    t1 = np.asarray(t1_s, dtype=float)
    if np.any(~(t1 > 0)):
        raise MrsimInputError("t1_s must be > 0 s everywhere")
    a = np.deg2rad(flip_deg)
    e1 = np.exp(-tr_s / t1)
    return np.asarray(pd, dtype=float) * np.sin(a) * (1 - e1) / (1 - np.cos(a) * e1)


def gre_signal(
    m0: np.ndarray,
    r2s_hz: np.ndarray | float,
    field_ppm: np.ndarray,
    te_s: Sequence[float],
    *,
    b0_t: float = 3.0,
    phase0_rad: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Noise-free complex MGRE signal, shape ``(*m0.shape, n_echoes)``.

    Parameters
    ----------
    m0 : ndarray
        Proton-density / T1-weighted magnitude at TE = 0.
    r2s_hz : ndarray or float
        R2* (1/s), broadcastable to ``m0``.
    field_ppm : ndarray
        Total relative field shift ``b`` (ppm).
    te_s : sequence of float
        Echo times (s).
    b0_t : float
        Main field (T).
    phase0_rad : ndarray or float
        Echo-independent phase offset (coil/transmit phase).

    Returns
    -------
    complex128 ndarray, shape ``(*m0.shape, n_echoes)``
    """
    te = np.asarray(te_s, dtype=float).reshape(-1)
    m0 = np.asarray(m0, dtype=float)
    f_hz = ppm_to_hz(np.asarray(field_ppm, dtype=float), b0_t)
    r2s = np.asarray(r2s_hz, dtype=float)
    ph0 = np.asarray(phase0_rad, dtype=float)
    out = np.empty((*m0.shape, te.size), dtype=np.complex128)
    for e, t in enumerate(te):
        out[..., e] = m0 * np.exp(-t * r2s) * np.exp(1j * (ph0 + 2 * np.pi * f_hz * t))
    return out


def add_noise(
    signal: np.ndarray,
    snr: float,
    *,
    reference: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Add complex Gaussian noise with ``sigma = reference / snr`` per real channel.

    ``reference`` defaults to the maximum magnitude of the first echo (peak SNR,
    as in the QSM challenge 2.0 forward model).
    """
    if not snr > 0:
        raise ValueError(f"snr must be > 0, got {snr}")
    rng = np.random.default_rng(seed)
    ref = float(np.abs(signal[..., 0]).max()) if reference is None else float(reference)
    sigma = ref / snr
    noise = rng.normal(0.0, sigma, signal.shape) + 1j * rng.normal(0.0, sigma, signal.shape)
    return signal + noise
