"""Numpy baselines for one-step-ahead pose prediction, on the same windows as the GRU.

Each baseline has ``fit(X, y)`` (on the training windows) and ``predict(X) -> (mean,
std)`` with ``X (W, n_past, 6)`` past poses and ``mean``, ``std`` of shape ``(W, 6)``
in mm and deg, so the metrics (including NLL and interval coverage) apply unchanged.

* :class:`Persistence` -- next pose = last pose.
* :class:`LinearExtrapolation` -- least-squares line through the last ``n_fit`` poses
  (``n_fit=2``: ``2 x_last - x_prev``), evaluated one step ahead.
* :class:`KalmanCV` -- per-parameter constant-velocity Kalman filter (white-noise
  acceleration) run over the window; process and measurement noise fitted on the
  training windows by maximising the one-step predictive likelihood.
* :class:`ARIncrements` -- autoregressive model of the one-step increments,
  ``dx_t = c + sum_k a_k dx_{t-k}``, per parameter, least squares on the training split.

Persistence, linear extrapolation and AR use a constant predictive standard deviation
per parameter: the RMS of their training residuals. The Kalman filter's variance comes
from the filter itself.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

__all__ = [
    "Persistence",
    "LinearExtrapolation",
    "KalmanCV",
    "ARIncrements",
    "default_baselines",
]


def _check(X: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3 or X.shape[-1] != 6:
        raise ValueError(f"X: expected shape (W, n_past, 6), got {X.shape}")
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (X.shape[0], 6):
            raise ValueError(f"y: expected shape {(X.shape[0], 6)}, got {y.shape}")
        if len(y) == 0:
            raise ValueError("cannot fit a baseline on zero windows")
    return X, y


class _ResidualStd:
    """Mixin: a constant per-parameter std from the training residuals."""

    name = "baseline"
    std_: np.ndarray | None = None

    def _mean(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X: np.ndarray, y: np.ndarray):
        X, y = _check(X, y)
        self._fit_mean(X, y)
        r = y - self._mean(X)
        self.std_ = np.maximum(np.sqrt(np.mean(r**2, axis=0)), 1e-12)
        return self

    def _fit_mean(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X, _ = _check(X)
        if self.std_ is None:
            raise RuntimeError(f"{self.name}: call fit() on training windows first")
        mean = self._mean(X)
        return mean, np.broadcast_to(self.std_, mean.shape).copy()


class Persistence(_ResidualStd):
    """Next pose = last observed pose."""

    name = "persistence"

    def _mean(self, X: np.ndarray) -> np.ndarray:
        return X[:, -1].copy()


class LinearExtrapolation(_ResidualStd):
    """Least-squares straight line through the last ``n_fit`` poses, one step ahead.

    Exact on trajectories linear in the sample index.
    """

    name = "linear"

    def __init__(self, n_fit: int = 2) -> None:
        if n_fit < 2:
            raise ValueError(f"n_fit must be >= 2, got {n_fit}")
        self.n_fit = int(n_fit)
        self.name = "linear" if n_fit == 2 else f"linear{n_fit}"

    def _mean(self, X: np.ndarray) -> np.ndarray:
        k = self.n_fit
        if X.shape[1] < k:
            raise ValueError(f"{self.name}: windows have {X.shape[1]} < n_fit={k} samples")
        # fitted line at t = k (inputs at t = 0..k-1): a linear combination of the inputs
        t = np.arange(k, dtype=np.float64)
        A = np.stack([np.ones(k), t], axis=1)
        w = np.array([1.0, float(k)]) @ np.linalg.pinv(A)  # (k,)
        return np.einsum("k,wkp->wp", w, X[:, -k:])


class ARIncrements(_ResidualStd):
    """AR(``order``) model of one-step increments with intercept, per parameter."""

    name = "ar"

    def __init__(self, order: int = 6, ridge: float = 1e-8) -> None:
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.order = int(order)
        self.ridge = float(ridge)
        self.name = f"ar{order}"
        self.coef_: np.ndarray | None = None  # (6, order + 1): intercept then lags

    def _design(self, X: np.ndarray) -> np.ndarray:
        d = np.diff(X, axis=1)  # (W, n_past - 1, 6)
        if d.shape[1] < self.order:
            raise ValueError(
                f"{self.name}: windows give {d.shape[1]} increments < order {self.order}"
            )
        lags = d[:, ::-1][:, : self.order]  # most recent first
        return np.concatenate([np.ones((X.shape[0], 1, 6)), lags], axis=1)  # (W, 1+p, 6)

    def _fit_mean(self, X: np.ndarray, y: np.ndarray) -> None:
        D = self._design(X)
        target = y - X[:, -1]
        coef = np.empty((6, self.order + 1))
        for j in range(6):
            A = D[:, :, j]
            scale = np.trace(A.T @ A) / A.shape[1]
            coef[j] = np.linalg.solve(
                A.T @ A + self.ridge * scale * np.eye(A.shape[1]), A.T @ target[:, j]
            )
        self.coef_ = coef

    def _mean(self, X: np.ndarray) -> np.ndarray:
        if self.coef_ is None:
            raise RuntimeError(f"{self.name}: call fit() on training windows first")
        D = self._design(X)
        return X[:, -1] + np.einsum("wkp,pk->wp", D, self.coef_)


def _kalman_cv(X: np.ndarray, q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Constant-velocity Kalman filter over each window; one-step-ahead prediction.

    Vectorised over windows and parameters. State (position, velocity) per parameter,
    one sample per time step, white-noise acceleration of spectral density ``q``
    (``Q = q [[1/3, 1/2], [1/2, 1]]``) and measurement noise variance ``r``. The
    filter starts from the exact two-point initialisation (position = x_1, velocity =
    x_1 - x_0), so a noise-free linear trajectory is predicted exactly.

    Returns mean and variance of the next *measurement* (W, 6).
    """
    W, n, m = X.shape
    p = X[:, 1].copy()
    v = X[:, 1] - X[:, 0]
    # covariance of the two-point estimate under measurement noise r
    P00 = np.broadcast_to(r, (W, m)).copy()
    P01 = P00.copy()
    P11 = 2.0 * P00
    for t in range(2, n + 1):
        # predict
        p = p + v
        P00, P01, P11 = (
            P00 + 2 * P01 + P11 + q / 3.0,
            P01 + P11 + q / 2.0,
            P11 + q,
        )
        if t == n:
            break
        # update with x_t
        S = P00 + r
        K0, K1 = P00 / S, P01 / S
        innov = X[:, t] - p
        p = p + K0 * innov
        v = v + K1 * innov
        P00, P01, P11 = (1 - K0) * P00, (1 - K0) * P01, P11 - K1 * P01
    return p, P00 + r


class KalmanCV:
    """Per-parameter constant-velocity Kalman filter; noise fitted on training windows.

    Parameters
    ----------
    max_fit_windows : int
        Random subset of training windows used for the likelihood fit (speed).
    seed : int
    """

    def __init__(self, max_fit_windows: int = 20000, seed: int = 0) -> None:
        self.name = "kalman_cv"
        self.max_fit_windows = int(max_fit_windows)
        self.seed = seed
        self.q_: np.ndarray | None = None
        self.r_: np.ndarray | None = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> KalmanCV:
        X, y = _check(X, y)
        if X.shape[1] < 2:
            raise ValueError("kalman_cv needs windows of at least 2 samples")
        if len(X) > self.max_fit_windows:
            idx = np.random.default_rng(self.seed).choice(
                len(X), self.max_fit_windows, replace=False
            )
            X, y = X[idx], y[idx]
        inc = y - X[:, -1]
        v0 = np.maximum(np.mean(inc**2, axis=0), 1e-12)
        q = np.empty(6)
        r = np.empty(6)
        for j in range(6):
            Xj = X[:, :, j : j + 1]
            yj = y[:, j : j + 1]

            def nll(theta, Xj=Xj, yj=yj):
                qq, rr = np.exp(theta)
                m, var = _kalman_cv(Xj, np.array([qq]), np.array([rr]))
                return float(np.mean(0.5 * (np.log(var) + (yj - m) ** 2 / var)))

            x0 = np.log([v0[j], 0.1 * v0[j]])
            res = minimize(nll, x0, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-7})
            q[j], r[j] = np.exp(res.x)
        self.q_, self.r_ = q, r
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X, _ = _check(X)
        if self.q_ is None:
            raise RuntimeError("kalman_cv: call fit() on training windows first")
        mean, var = _kalman_cv(X, self.q_, self.r_)
        return mean, np.sqrt(var)


def default_baselines() -> list:
    """The baselines reported next to the GRU: persistence, linear, Kalman CV, AR(6)."""
    return [Persistence(), LinearExtrapolation(2), KalmanCV(), ARIncrements(6)]
