"""Calibration of the predictor's Gaussian uncertainty (numpy).

A Gaussian prediction ``N(mean, std^2)`` is calibrated when the standardised errors
``z = (y - mean) / std`` are standard normal, so that the central interval
``mean +- Phi^-1((1 + p) / 2) std`` holds a fraction ``p`` of the truths for every ``p``
(68.27 % at 1 std, 95 % at 1.96 std). Temperature scaling (Guo et al. 2017, for
regression Kuleshov et al. 2018 / Levi et al. 2022) multiplies the std of parameter
``j`` by one factor ``T_j`` fitted on held-out validation windows:

* ``method="nll"``: the factor minimising the Gaussian NLL, ``T_j^2 = mean(z_j^2)``
  (closed form).
* ``method="coverage"``: the factor that puts exactly 68.27 % of the validation truths in
  the 1-std interval, ``T_j = quantile(|z_j|, 0.6827)``.

Both are the same for Gaussian errors. Motion increments are heavy-tailed (rare jerks), so
``mean(z^2)`` is inflated by a few large errors and the NLL factor makes the 1-std band too
wide; the coverage factor matches the 1-std band by construction and the 2-std coverage
then measures how far from Gaussian the errors are.

When no single factor can give both 68 % and 95 % (the recentre GRU: its NLL-optimal std
already has ``T ~ 1``, yet 98 % of the truths fall within 1 std, because most windows are
still and a few hold an unpredictable jerk), :func:`fit_z_quantiles` recalibrates the
*shape* instead (Kuleshov et al. 2018): the predictive distribution becomes
``mean + std * Z_j`` with ``Z_j`` the validation distribution of the standardised errors of
parameter ``j`` (symmetrised), and the central ``p`` interval is
``mean +- q_j(p) std`` with ``q_j(p)`` the ``p``-quantile of ``|z_j|``
(:func:`calibrated_halfwidth`).

References
----------
Guo C. et al. (2017) On calibration of modern neural networks, ICML.
Kuleshov V., Fenner N., Ermon S. (2018) Accurate uncertainties for deep learning using
calibrated regression, ICML.
Levi D. et al. (2022) Evaluating and calibrating uncertainty prediction in regression
tasks, Sensors 22:5540.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf, erfinv

__all__ = [
    "standardised_errors",
    "fit_temperature",
    "interval_coverage",
    "calibration_curve",
    "fit_z_quantiles",
    "calibrated_halfwidth",
    "QUANTILE_LEVELS",
    "NOMINAL_1SIGMA",
    "NOMINAL_2SIGMA",
]

#: Fraction of a Gaussian within 1 and 2 std.
NOMINAL_1SIGMA = float(erf(1 / np.sqrt(2)))
NOMINAL_2SIGMA = float(erf(2 / np.sqrt(2)))


def standardised_errors(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(y - mean) / std``, shape (W, 6); std must be > 0."""
    y, m, s = (np.asarray(a, dtype=np.float64) for a in (y, mean, std))
    if not (y.shape == m.shape == s.shape) or y.ndim != 2:
        raise ValueError(
            f"y, mean, std must share a (W, P) shape, got {y.shape}, {m.shape}, {s.shape}"
        )
    if np.any(~(s > 0)):
        raise ValueError("std must be > 0 everywhere")
    return (y - m) / s


def fit_temperature(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, method: str = "coverage"
) -> np.ndarray:
    """Per-parameter std multipliers ``T`` (shape (P,)) fitted on validation predictions.

    Parameters
    ----------
    y, mean, std : ndarray, shape (W, P)
    method : {"coverage", "nll"}
        See the module docstring.

    Returns
    -------
    ndarray, shape (P,)
        Multiply the predicted std by it.
    """
    z = np.abs(standardised_errors(y, mean, std))
    if method == "nll":
        return np.sqrt(np.mean(z**2, axis=0))
    if method == "coverage":
        return np.quantile(z, NOMINAL_1SIGMA, axis=0)
    raise ValueError(f"method must be 'coverage' or 'nll', got {method!r}")


def interval_coverage(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, k: float = 1.0
) -> np.ndarray:
    """Fraction of truths with ``|y - mean| <= k std``, per parameter (shape (P,))."""
    return (np.abs(standardised_errors(y, mean, std)) <= k).mean(axis=0)


def calibration_curve(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, levels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Observed vs nominal coverage of central Gaussian intervals.

    Parameters
    ----------
    y, mean, std : ndarray, shape (W, P)
    levels : ndarray, optional
        Nominal levels ``p`` in (0, 1); default 0.05, 0.10, ..., 0.95 and 0.99.

    Returns
    -------
    levels : ndarray, shape (K,)
    observed : ndarray, shape (K, P)
        Fraction of truths inside ``mean +- sqrt(2) erfinv(p) std``.
    """
    p = np.append(np.arange(0.05, 0.951, 0.05), 0.99) if levels is None else np.asarray(levels)
    z = np.abs(standardised_errors(y, mean, std))
    half = np.sqrt(2.0) * erfinv(p)
    return p, (z[None] <= half[:, None, None]).mean(axis=1)


#: Levels at which :func:`fit_z_quantiles` tabulates the |z| quantiles.
QUANTILE_LEVELS = tuple(
    float(v)
    for v in np.round(
        np.append(np.arange(0.05, 0.951, 0.05), [NOMINAL_1SIGMA, NOMINAL_2SIGMA, 0.99]), 6
    )
)


def fit_z_quantiles(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray, levels: tuple[float, ...] = QUANTILE_LEVELS
) -> dict:
    """Quantiles of ``|z|`` per parameter on validation data (shape recalibration).

    Returns
    -------
    dict
        ``levels`` (K,) sorted and ``q`` (K, P) lists: ``q[k][j]`` is the ``levels[k]``
        quantile of ``|z_j|``; plain lists so it can be stored in a checkpoint or card.
    """
    lv = np.sort(np.asarray(levels, dtype=float))
    if np.any((lv <= 0) | (lv >= 1)):
        raise ValueError(f"levels must lie in (0, 1), got {levels}")
    z = np.abs(standardised_errors(y, mean, std))
    return {"levels": lv.tolist(), "q": np.quantile(z, lv, axis=0).tolist()}


def calibrated_halfwidth(std: np.ndarray, table: dict, level: float) -> np.ndarray:
    """Half-width ``q_j(level) * std`` of the recalibrated central interval.

    ``level`` is interpolated linearly between the tabulated levels; outside them it is an
    error (no extrapolation of the tails).
    """
    lv = np.asarray(table["levels"], dtype=float)
    q = np.asarray(table["q"], dtype=float)
    if not lv[0] <= level <= lv[-1]:
        raise ValueError(f"level {level} outside the tabulated [{lv[0]}, {lv[-1]}]")
    qj = np.array([np.interp(level, lv, q[:, j]) for j in range(q.shape[1])])
    return np.asarray(std, dtype=float) * qj
