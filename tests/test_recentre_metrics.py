"""Prediction metrics of the recentre predictor (numpy)."""

import numpy as np
import pytest
from scipy.stats import norm

from correctors.recentre.metrics import prediction_metrics, r2_score
from mrsim.motion.fd import fd_gain, fd_pred, fd_total


def _data(W=50_000, seed=0):
    rng = np.random.default_rng(seed)
    prev = rng.normal(size=(W, 6))
    y = prev + 0.1 * rng.normal(size=(W, 6))
    return rng, prev, y


def test_r2_reference_values():
    rng, _, y = _data(1000)
    np.testing.assert_allclose(r2_score(y, y), 1.0)
    np.testing.assert_allclose(r2_score(y, np.tile(y.mean(0), (len(y), 1))), 0.0, atol=1e-12)
    pred = y + rng.normal(size=y.shape)
    expect = 1 - ((y - pred) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(r2_score(y, pred), expect)
    assert np.isnan(r2_score(np.ones((5, 6)), np.zeros((5, 6)))).all()


def test_calibrated_gaussian_coverage_and_nll():
    rng, prev, _ = _data()
    std = rng.uniform(0.05, 0.5, size=prev.shape)
    mean = prev + 0.01
    y = mean + std * rng.normal(size=prev.shape)
    m = prediction_metrics(y, mean, std, prev)
    # binomial standard error at W*6 = 300k draws is ~1e-3
    assert abs(m["coverage68"] - 0.6827) < 5e-3
    assert abs(m["coverage95"] - 0.95) < 5e-3
    expect_nll = -norm.logpdf(y, loc=mean, scale=std).sum(1).mean()
    np.testing.assert_allclose(m["nll"], expect_nll, rtol=1e-12)
    expect_med = np.median(-norm.logpdf(y, loc=mean, scale=std).sum(1))
    np.testing.assert_allclose(m["nll_median"], expect_med, rtol=1e-12)
    np.testing.assert_allclose(m["mae_mm"], np.abs(y - mean)[:, :3].mean())
    np.testing.assert_allclose(m["mae_deg"], np.abs(y - mean)[:, 3:].mean())


def test_fd_metrics_use_seed000_definitions():
    rng, prev, y = _data(500)
    pred = y + 0.05 * rng.normal(size=y.shape)
    m = prediction_metrics(y, pred, None, prev)
    np.testing.assert_allclose(m["fd_total_mm"], fd_total(y, previous=prev).mean())
    np.testing.assert_allclose(m["fd_pred_mm"], fd_pred(y, pred).mean())
    np.testing.assert_allclose(m["fd_gain"], np.nanmean(fd_gain(y, pred, previous=prev)))
    assert np.isnan(m["nll"]) and np.isnan(m["coverage68"])
    # persistence: FD_pred == FD_total, gain exactly 0; truth: gain exactly 1
    p = prediction_metrics(y, prev, None, prev)
    assert p["fd_gain"] == 0.0 and p["fd_gain_pooled"] == 0.0 and p["r2_increment"] <= 0
    t = prediction_metrics(y, y, None, prev)
    assert t["fd_gain"] == 1.0 and t["r2"] == 1.0 and t["r2_increment"] == 1.0


def test_metrics_errors():
    y = np.zeros((4, 6))
    with pytest.raises(ValueError, match="mean"):
        prediction_metrics(y, np.zeros((4, 5)), None, y)
    with pytest.raises(ValueError, match="std must be > 0"):
        prediction_metrics(y, y, np.zeros((4, 6)), y)
