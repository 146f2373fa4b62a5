"""Multi-echo field fit and spatial phase unwrapping against known truth."""

import numpy as np
import pytest

from mrsim.qsm.fit import fit_field, wrap_phase
from mrsim.qsm.gre import add_noise, echo_times, gre_signal, hz_to_ppm
from mrsim.qsm.unwrap import unwrap_graphcut, unwrap_laplacian

TE = echo_times()  # seed 002: 6.3 ms + 4.1 ms steps, 11 echoes (up to 47 ms)


def _smooth_phase(n=32):
    g = np.arange(n) - n // 2
    X, Y, Z = np.meshgrid(g, g, g, indexing="ij")
    phase = 12 * np.exp(-(X**2 + (Y - 3) ** 2 + Z**2) / (2 * 8.0**2)) + 0.15 * X + 0.05 * Z
    mask = X**2 + Y**2 + (Z / 1.2) ** 2 < 13**2
    return phase, mask


def test_complex_fit_recovers_frequency_with_temporal_wraps():
    rng = np.random.default_rng(1)
    shape = (16, 16, 16)
    f = rng.uniform(-115, 115, shape)  # up to 34 rad at the last echo: many wraps
    s = gre_signal(
        rng.uniform(0.5, 1, shape),
        20.0,
        hz_to_ppm(f, 3.0),
        TE,
        b0_t=3.0,
        phase0_rad=rng.uniform(-3, 3, shape),
    )
    assert np.abs(np.angle(s)).max() > 3.0  # phases really are wrapped
    for method in ("complex", "linear"):
        fit = fit_field(s, TE, method=method)
        np.testing.assert_allclose(fit.freq_hz, f, atol=1e-8)
    # with noise, the error is within what the fit's own std predicts
    fit = fit_field(add_noise(s, 50, seed=2), TE)
    z = (fit.freq_hz - f) / fit.freq_std_hz
    assert np.abs(fit.freq_hz - f).max() < 1.5
    assert 0.7 < np.std(z) < 1.5


def test_fit_plus_unwrap_recovers_frequency_beyond_echo_spacing_alias():
    """A field of several hundred Hz aliases in dTE; graph-cut unwrapping restores it."""
    phase, mask = _smooth_phase()
    f = phase / (2 * np.pi * 4.1e-3) * 0.5  # up to ~300 Hz: beyond 1/(2 dTE) = 122 Hz
    s = gre_signal(np.ones(f.shape), 15.0, hz_to_ppm(f, 3.0), TE, b0_t=3.0)
    fit = fit_field(s, TE, mask=mask)
    assert np.abs(fit.freq_hz[mask]).max() < 1 / (2 * fit.dte_s) + 1e-6  # aliased
    u = unwrap_graphcut(2 * np.pi * fit.freq_hz * fit.dte_s, mask) / (2 * np.pi * fit.dte_s)
    d = (u - f)[mask]
    np.testing.assert_allclose(d, d[0], atol=1e-6)  # exact up to one global 1/dTE offset
    assert d[0] * fit.dte_s == pytest.approx(round(d[0] * fit.dte_s), abs=1e-6)


def test_laplacian_unwrap_restores_smooth_phase():
    phase, mask = _smooth_phase()
    w = wrap_phase(phase)
    u = unwrap_laplacian(w)
    np.testing.assert_allclose(u - u.mean(), phase - phase.mean(), atol=1e-9)
    um = unwrap_laplacian(w, mask)
    d = (um - phase)[mask]
    assert np.abs(d - d.mean()).max() < 2e-3  # CG tolerance


def test_graphcut_unwrap_is_congruent_and_exact():
    phase, mask = _smooth_phase()
    rng = np.random.default_rng(0)
    noisy = phase + rng.normal(0, 0.3, phase.shape)
    u = unwrap_graphcut(wrap_phase(noisy), mask)
    k = (u - wrap_phase(noisy))[mask] / (2 * np.pi)
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)  # only 2 pi multiples added
    d = (u - noisy)[mask]
    np.testing.assert_allclose(d, d[0], atol=1e-9)  # and it undid every wrap


def test_fit_errors():
    with pytest.raises(ValueError, match="echoes"):
        fit_field(np.zeros((2, 2, 2, 3), complex), TE)
    with pytest.raises(ValueError, match="method"):
        fit_field(np.zeros((2, 2, 2, 11), complex), TE, method="x")


def test_graphcut_weights_checked():
    rng = np.random.default_rng(1)
    true = 3.0 * np.cumsum(rng.standard_normal((8, 8, 8)) * 0.5, axis=0)
    wrapped = wrap_phase(true)
    uniform = unwrap_graphcut(wrapped)
    assert np.array_equal(unwrap_graphcut(wrapped, weights=2.0), uniform)  # scalar: uniform
    with pytest.raises(ValueError, match="weights must be finite, >= 0"):
        unwrap_graphcut(wrapped, weights=-np.ones((8, 8, 8)))
    with pytest.raises(ValueError, match="phase's shape"):
        unwrap_graphcut(wrapped, weights=np.ones((4, 1, 1)))
    with pytest.raises(ValueError, match="finite"):
        unwrap_graphcut(wrapped, weights=np.full((8, 8, 8), np.nan))
