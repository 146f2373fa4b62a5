"""Numpy baselines of the recentre predictor (no torch needed)."""

import numpy as np
import pytest

from correctors.recentre.baselines import (
    ARIncrements,
    KalmanCV,
    LinearExtrapolation,
    Persistence,
    _kalman_cv,
)
from mrsim.motion.windows import make_windows_many


def _linear_trajs(rng, k=5, n=60):
    t = np.arange(n)[:, None]
    return [rng.normal(size=6) + rng.normal(size=6) * t for _ in range(k)]


def test_linear_and_kalman_exact_on_linear_trajectories():
    rng = np.random.default_rng(1)
    X, y, _ = make_windows_many(_linear_trajs(rng))
    # fit on noisy data so the Kalman noise parameters are non-trivial
    Xn = X + 0.1 * rng.normal(size=X.shape)
    yn = y + 0.1 * rng.normal(size=y.shape)
    for b in (LinearExtrapolation(2), LinearExtrapolation(5), KalmanCV()):
        b.fit(Xn, yn)
        mean, std = b.predict(X)
        np.testing.assert_allclose(mean, y, rtol=0, atol=1e-9 * np.abs(y).max())
        assert mean.shape == std.shape == (len(X), 6) and np.all(std > 0)


def test_persistence_exact_on_constant_and_residual_std():
    rng = np.random.default_rng(2)
    const = [np.tile(rng.normal(size=6), (30, 1)) for _ in range(3)]
    X, y, _ = make_windows_many(const)
    b = Persistence().fit(X, y)
    np.testing.assert_array_equal(b.predict(X)[0], y)
    # on a random walk the fitted std is the RMS increment per parameter
    steps = np.array([0.1, 0.2, 0.3, 1.0, 2.0, 3.0])
    walk = [np.cumsum(rng.normal(size=(2000, 6)) * steps, axis=0)]
    Xw, yw, _ = make_windows_many(walk)
    b = Persistence().fit(Xw, yw)
    np.testing.assert_allclose(b.std_, np.sqrt(np.mean((yw - Xw[:, -1]) ** 2, axis=0)))
    np.testing.assert_allclose(b.std_, steps, rtol=0.1)


def test_ar_recovers_sinusoid():
    # increments of a sinusoid obey d_t = 2 cos(w) d_{t-1} - d_{t-2}: AR(2) is exact
    rng = np.random.default_rng(3)
    t = np.arange(200)[:, None]
    trajs = [np.sin(0.9 * t + rng.uniform(0, 6, size=6)) * rng.uniform(0.5, 2, 6) for _ in range(3)]
    X, y, _ = make_windows_many(trajs)
    b = ARIncrements(order=2).fit(X, y)
    np.testing.assert_allclose(b.coef_[:, 1], 2 * np.cos(0.9), atol=1e-5)
    np.testing.assert_allclose(b.coef_[:, 2], -1.0, atol=1e-5)
    np.testing.assert_allclose(b.predict(X)[0], y, atol=1e-5)


def test_kalman_fit_recovers_noise_levels():
    # simulate the constant-velocity model itself and check the fitted q and r
    rng = np.random.default_rng(4)
    q, r, n, W = 0.01, 0.04, 15, 4000
    Q = q * np.array([[1 / 3, 1 / 2], [1 / 2, 1.0]])
    L = np.linalg.cholesky(Q)
    x = np.zeros((W, 6, 2))
    x[..., 1] = rng.normal(size=(W, 6))
    obs = np.empty((W, n, 6))
    for t in range(n):
        obs[:, t] = x[..., 0] + np.sqrt(r) * rng.normal(size=(W, 6))
        x = np.stack([x[..., 0] + x[..., 1], x[..., 1]], -1) + rng.normal(size=(W, 6, 2)) @ L.T
    b = KalmanCV().fit(obs[:, :-1], obs[:, -1])
    np.testing.assert_allclose(b.q_, q, rtol=0.5)
    np.testing.assert_allclose(b.r_, r, rtol=0.5)
    # the filter's predictive std is calibrated: ~68 % of targets inside +-1 std
    mean, std = b.predict(obs[:, :-1])
    inside = np.mean(np.abs(obs[:, -1] - mean) <= std)
    assert abs(inside - 0.6827) < 0.02
    # and the variance recursion agrees with a scalar textbook implementation
    m1, v1 = _kalman_cv(obs[:3, :-1, :1], np.array([q]), np.array([r]))
    F = np.array([[1.0, 1.0], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    for w in range(3):
        z = obs[w, :-1, 0]
        s = np.array([z[1], z[1] - z[0]])
        P = np.array([[r, r], [r, 2 * r]])
        for k in range(2, n - 1):
            s, P = F @ s, F @ P @ F.T + Q
            S = (H @ P @ H.T)[0, 0] + r
            K = (P @ H.T)[:, 0] / S
            s = s + K * (z[k] - s[0])
            P = P - np.outer(K, H @ P)
        s, P = F @ s, F @ P @ F.T + Q
        np.testing.assert_allclose(m1[w, 0], s[0], rtol=1e-10)
        np.testing.assert_allclose(v1[w, 0], P[0, 0] + r, rtol=1e-10)


def test_baselines_errors():
    with pytest.raises(RuntimeError, match="fit"):
        Persistence().predict(np.zeros((2, 14, 6)))
    with pytest.raises(ValueError, match=r"\(W, n_past, 6\)"):
        Persistence().fit(np.zeros((2, 14, 5)), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="zero windows"):
        Persistence().fit(np.zeros((0, 14, 6)), np.zeros((0, 6)))
