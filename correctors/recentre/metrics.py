"""Metrics of one-step-ahead pose prediction (numpy; shared by the GRU and baselines).

All inputs are in mm (translations) and degrees (rotations), shape ``(W, 6)``:
``y_true`` the true next poses, ``mean`` and ``std`` the Gaussian predictions and
``previous`` the last input pose of each window.

* R^2 per parameter, ``1 - sum (y - yhat)^2 / sum (y - mean(y))^2``, on absolute poses
  (as seed 000 reports it) and on the one-step increments ``y - previous`` (harder: on
  absolute poses even persistence scores close to 1 because the pose level dominates).
  "overall" is the mean over the six parameters.
* MAE: mean absolute error over translations (mm) and over rotations (deg).
* NLL: Gaussian negative log-likelihood per window, summed over the 6 parameters
  (nats; the density is per mm and per degree), averaged over windows (``nll``); the
  median over windows (``nll_median``) is given too, because the mean is dominated
  by the few windows where an unpredictable jerk starts.
* Coverage: fraction of true values inside the central 68.27 % (``mean +- 1 std``) and
  95 % (``mean +- 1.96 std``) intervals, averaged over parameters; calibrated
  predictions give 0.6827 and 0.95.
* FD (seed 000 Eqs. 1-3 via :mod:`mrsim.motion.fd`): mean FD_total, mean FD_pred,
  mean per-sample FD_gain (``np.nanmean``: samples with FD_total = 0 have none) and the
  pooled gain ``1 - sum FD_pred / sum FD_total``, which is not dominated by near-still
  samples.
"""

from __future__ import annotations

import numpy as np

from mrsim.motion.fd import fd_gain, fd_pred, fd_total
from mrsim.motion.trajectory import PARAM_NAMES

__all__ = ["r2_score", "prediction_metrics", "PARAM_NAMES", "Z68", "Z95"]

#: Half-widths (in std) of the central 68.27 % and 95 % Gaussian intervals.
Z68 = 1.0
Z95 = 1.959963984540054


def _nanmean(a: np.ndarray) -> float:
    """Mean over the finite entries; NaN (without a warning) when there are none."""
    a = np.asarray(a, dtype=np.float64)
    ok = np.isfinite(a)
    return float(a[ok].mean()) if ok.any() else float("nan")


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column, shape ``(6,)``.

    NaN for a column whose true values are constant.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    ss_res = np.sum((y_true - y_pred) ** 2, axis=0)
    ss_tot = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


def prediction_metrics(
    y_true: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray | None,
    previous: np.ndarray,
) -> dict:
    """All metrics of a set of predictions.

    Parameters
    ----------
    y_true, mean, previous : ndarray, shape (W, 6)
    std : ndarray, shape (W, 6), or None
        Predictive standard deviations; without them NLL and coverage are NaN.

    Returns
    -------
    dict
        Scalars ``r2``, ``r2_increment``, ``mae_mm``, ``mae_deg``, ``nll``, ``nll_median``,
        ``coverage68``, ``coverage95``, ``fd_total_mm``, ``fd_pred_mm``, ``fd_gain``,
        ``fd_gain_pooled``, ``n_windows``; per-parameter lists ``r2_per_param``,
        ``r2_increment_per_param``, ``mae_per_param``, ``coverage68_per_param``,
        ``coverage95_per_param``; and ``param_names``.
    """
    y = np.asarray(y_true, dtype=np.float64)
    m = np.asarray(mean, dtype=np.float64)
    prev = np.asarray(previous, dtype=np.float64)
    for nm, a in (("mean", m), ("previous", prev)):
        if a.shape != y.shape or y.ndim != 2 or y.shape[1] != 6:
            raise ValueError(f"{nm}: expected shape {y.shape} like y_true (W, 6), got {a.shape}")
    if len(y) == 0:
        raise ValueError("no windows to evaluate")
    if std is not None:
        s = np.asarray(std, dtype=np.float64)
        if s.shape != y.shape:
            raise ValueError(f"std: expected shape {y.shape}, got {s.shape}")
        if np.any(~(s > 0)):
            raise ValueError("std must be > 0 everywhere")
    r2 = r2_score(y, m)
    r2i = r2_score(y - prev, m - prev)
    err = np.abs(y - m)
    out: dict = {
        "n_windows": int(len(y)),
        "param_names": list(PARAM_NAMES),
        "r2": _nanmean(r2),
        "r2_per_param": r2.tolist(),
        "r2_increment": _nanmean(r2i),
        "r2_increment_per_param": r2i.tolist(),
        "mae_mm": float(err[:, :3].mean()),
        "mae_deg": float(err[:, 3:].mean()),
        "mae_per_param": err.mean(axis=0).tolist(),
    }
    if std is not None:
        z = err / s
        nll = 0.5 * (np.log(2 * np.pi) + 2 * np.log(s) + z**2)
        c68 = (z <= Z68).mean(axis=0)
        c95 = (z <= Z95).mean(axis=0)
        nll_w = nll.sum(axis=1)
        out.update(
            nll=float(nll_w.mean()),
            nll_median=float(np.median(nll_w)),
            coverage68=float(c68.mean()),
            coverage95=float(c95.mean()),
            coverage68_per_param=c68.tolist(),
            coverage95_per_param=c95.tolist(),
        )
    else:
        out.update(
            nll=float("nan"),
            nll_median=float("nan"),
            coverage68=float("nan"),
            coverage95=float("nan"),
        )
    tot = fd_total(y, previous=prev)
    prd = fd_pred(y, m)
    gain = fd_gain(y, m, previous=prev)
    out.update(
        fd_total_mm=float(tot.mean()),
        fd_pred_mm=float(prd.mean()),
        fd_gain=_nanmean(gain),
        fd_gain_pooled=float(1.0 - prd.sum() / tot.sum()) if tot.sum() > 0 else float("nan"),
    )
    return out
