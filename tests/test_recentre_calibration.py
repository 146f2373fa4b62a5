"""Calibration of the predictor's uncertainty: coverage, temperature, curve; resumable training."""

import numpy as np
import pytest

from correctors.recentre.calibration import (
    NOMINAL_1SIGMA,
    NOMINAL_2SIGMA,
    calibration_curve,
    fit_temperature,
    interval_coverage,
)


def _gauss(n=200_000, true_scale=(2.0, 0.5, 1.0), seed=0):
    rng = np.random.default_rng(seed)
    p = len(true_scale)
    mean = rng.normal(size=(n, p))
    std = np.exp(rng.normal(0, 0.5, (n, p)))  # heteroscedastic predictions
    y = mean + rng.standard_normal((n, p)) * std * np.asarray(true_scale)
    return y, mean, std


def test_nominal_levels():
    assert NOMINAL_1SIGMA == pytest.approx(0.682689, abs=1e-6)
    assert NOMINAL_2SIGMA == pytest.approx(0.954500, abs=1e-6)


def test_coverage_of_a_calibrated_gaussian():
    y, mean, std = _gauss(true_scale=(1.0, 1.0))
    c1 = interval_coverage(y, mean, std, 1.0)
    c2 = interval_coverage(y, mean, std, 2.0)
    # binomial std of a fraction over 2e5 samples is ~0.001
    np.testing.assert_allclose(c1, NOMINAL_1SIGMA, atol=0.005)
    np.testing.assert_allclose(c2, NOMINAL_2SIGMA, atol=0.003)
    lv, obs = calibration_curve(y, mean, std)
    np.testing.assert_allclose(obs, np.repeat(lv[:, None], 2, axis=1), atol=0.005)


@pytest.mark.parametrize("method", ["nll", "coverage"])
def test_temperature_recovers_the_scale(method):
    y, mean, std = _gauss()
    T = fit_temperature(y, mean, std, method)
    np.testing.assert_allclose(T, [2.0, 0.5, 1.0], rtol=0.01)
    c1 = interval_coverage(y, mean, std * T, 1.0)
    c2 = interval_coverage(y, mean, std * T, 2.0)
    np.testing.assert_allclose(c1, NOMINAL_1SIGMA, atol=0.005)
    np.testing.assert_allclose(c2, NOMINAL_2SIGMA, atol=0.003)


def test_heavy_tails_split_the_two_methods():
    # Laplace errors: the NLL factor (RMS of z) widens the 1-std band beyond 68 %
    rng = np.random.default_rng(1)
    n = 200_000
    mean, std = np.zeros((n, 1)), np.ones((n, 1))
    y = rng.laplace(0, 1, (n, 1))
    c_nll = interval_coverage(y, mean, std * fit_temperature(y, mean, std, "nll"), 1.0)
    c_cov = interval_coverage(y, mean, std * fit_temperature(y, mean, std, "coverage"), 1.0)
    # Laplace(b=1): std sqrt(2); P(|y| <= sqrt 2) = 1 - exp(-sqrt 2) = 0.757
    assert c_nll[0] == pytest.approx(1 - np.exp(-np.sqrt(2)), abs=0.005)
    assert c_cov[0] == pytest.approx(NOMINAL_1SIGMA, abs=0.005)


def test_bad_input():
    with pytest.raises(ValueError, match="std must be > 0"):
        interval_coverage(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="method must be"):
        fit_temperature(np.zeros((3, 2)), np.zeros((3, 2)), np.ones((3, 2)), "isotonic")


def test_z_quantile_recalibration_fixes_a_spike_and_slab():
    # 90 % still windows (tiny errors), 10 % jerks (large): no single temperature gives
    # 68 % and 95 %, the quantile table gives both on fresh data of the same kind
    from correctors.recentre.calibration import calibrated_halfwidth, fit_z_quantiles

    def draw(seed, n=100_000):
        rng = np.random.default_rng(seed)
        big = rng.random((n, 2)) < 0.1
        y = rng.standard_normal((n, 2)) * np.where(big, 10.0, 0.1)
        return y, np.zeros_like(y), np.ones_like(y)

    y, m, s = draw(0)
    for method in ("nll", "coverage"):
        T = fit_temperature(y, m, s, method)
        c1, c2 = interval_coverage(y, m, s * T, 1.0), interval_coverage(y, m, s * T, 2.0)
        assert np.all(np.abs(c1 - NOMINAL_1SIGMA) > 0.05) or np.all(
            np.abs(c2 - NOMINAL_2SIGMA) > 0.03
        )
    table = fit_z_quantiles(y, m, s)
    y2, m2, s2 = draw(1)
    for level in (NOMINAL_1SIGMA, NOMINAL_2SIGMA):
        hw = calibrated_halfwidth(s2, table, level)
        np.testing.assert_allclose((np.abs(y2 - m2) <= hw).mean(axis=0), level, atol=0.006)
    with pytest.raises(ValueError, match="outside the tabulated"):
        calibrated_halfwidth(s2, table, 0.999)
