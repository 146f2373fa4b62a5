"""Sliding windows of past motion for one-step-ahead pose prediction (seed 000).

Seed 000 feeds a recurrent network 14 consecutive 6-DOF samples (7 groups of two)
and asks for the 15th. These functions cut such windows out of a trajectory with
plain NumPy; they are shared by the ``motion_windows`` dataset recipe and the
``correctors.recentre`` predictor, so both see exactly the same samples.

Parameters are the ``Trajectory.params`` columns
``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg``.

References
----------
.. [1] Annovi A. et al., "Real-Time Motion Correction in Magnetic Resonance
   Spectroscopy: AI solution inspired by fundamental science", EuCAIFCon 2025
   (seed 000), Sec. 2 and Fig. 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mrsim.motion.fd import as_params_deg

__all__ = [
    "as_params",
    "make_windows",
    "make_windows_many",
    "relative_windows",
    "absolute_from_relative",
]


def as_params(traj_or_params, *, name: str = "trajectory") -> np.ndarray:
    """Return the ``(N, 6)`` float64 parameter array (mm, deg) of a trajectory or array.

    A thin wrapper over :func:`mrsim.motion.fd.as_params_deg` that names the input in its
    errors.

    Parameters
    ----------
    traj_or_params : Trajectory or array_like, shape (N, 6)
    name : str
        What to call the input in error messages (e.g. a file name).

    Returns
    -------
    params : ndarray, shape (N, 6), float64
    """
    try:
        return as_params_deg(traj_or_params)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def make_windows(
    traj_or_params, n_past: int = 14, step: int = 1, *, name: str = "trajectory"
) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``n_past`` past samples -> next sample windows out of one trajectory.

    Window ``w`` starts at sample ``s = w * step``: its input is samples
    ``s .. s + n_past - 1`` and its target is sample ``s + n_past``.

    Parameters
    ----------
    traj_or_params : Trajectory or array_like, shape (N, 6)
        Motion parameters (mm, deg), one row per sample.
    n_past : int, default 14
        Number of past samples per window (seed 000: 7 x 2 = 14).
    step : int, default 1
        Stride between window starts, in samples.
    name : str
        What to call the input in error messages.

    Returns
    -------
    X : ndarray, shape (W, n_past, 6)
        Past samples, absolute poses.
    y : ndarray, shape (W, 6)
        The next sample for each window. ``W = (N - n_past - 1) // step + 1``
        (0 when ``N <= n_past``).

    Examples
    --------
    >>> X, y = make_windows(np.arange(20 * 6.0).reshape(20, 6))
    >>> X.shape, y.shape
    ((6, 14, 6), (6, 6))
    """
    params = as_params(traj_or_params, name=name)
    if int(n_past) != n_past or n_past < 1:
        raise ValueError(f"n_past must be a positive integer, got {n_past!r}")
    if int(step) != step or step < 1:
        raise ValueError(f"step must be a positive integer, got {step!r}")
    n_past, step = int(n_past), int(step)
    n = params.shape[0]
    if n <= n_past:
        return np.zeros((0, n_past, 6)), np.zeros((0, 6))
    starts = np.arange(0, n - n_past, step)
    idx = starts[:, None] + np.arange(n_past)[None, :]
    X = params[idx]
    y = params[starts + n_past]
    return X, y


def make_windows_many(
    trajectories: Sequence, n_past: int = 14, step: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`make_windows` over several trajectories, concatenated.

    Windows never straddle two trajectories.

    Parameters
    ----------
    trajectories : sequence of Trajectory or (N_i, 6) arrays
    n_past, step : int
        As in :func:`make_windows`.

    Returns
    -------
    X : ndarray, shape (W, n_past, 6)
    y : ndarray, shape (W, 6)
    source : ndarray of int, shape (W,)
        Index of the trajectory each window came from (for per-subject metrics).
    """
    Xs, ys, src = [], [], []
    for i, traj in enumerate(trajectories):
        X, y = make_windows(traj, n_past=n_past, step=step, name=f"trajectory {i}")
        Xs.append(X)
        ys.append(y)
        src.append(np.full(len(y), i, dtype=np.int64))
    if not Xs:
        return np.zeros((0, n_past, 6)), np.zeros((0, 6)), np.zeros(0, dtype=np.int64)
    return np.concatenate(Xs), np.concatenate(ys), np.concatenate(src)


def relative_windows(
    X: np.ndarray, y: np.ndarray | None = None, reference: str = "last"
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Express windows relative to one of their own samples.

    Relative poses are parameter differences ``p - p_ref`` (mm and deg), the same
    footing as framewise displacement (seed 000 Eqs. 1-2), which also subtracts
    parameters. For the small angles of head motion this equals the composed
    relative rigid transform to first order. It removes the subject's absolute
    position, which carries no information about the next step.

    Parameters
    ----------
    X : ndarray, shape (W, n_past, 6)
    y : ndarray, shape (W, 6), optional
    reference : {"last", "first"}
        Which input sample of each window becomes the zero pose.

    Returns
    -------
    X_rel : ndarray, shape (W, n_past, 6)
    y_rel : ndarray, shape (W, 6) or None
        ``y - ref`` (``None`` when ``y`` is ``None``); with ``reference="last"``
        this is the one-step increment to predict.
    ref : ndarray, shape (W, 6)
        The reference poses, for :func:`absolute_from_relative`.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3 or X.shape[-1] != 6:
        raise ValueError(f"X: expected shape (W, n_past, 6), got {X.shape}")
    if reference == "last":
        ref = X[:, -1, :]
    elif reference == "first":
        ref = X[:, 0, :]
    else:
        raise ValueError(f"reference must be 'last' or 'first', got {reference!r}")
    X_rel = X - ref[:, None, :]
    y_rel = None
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        if y.shape != ref.shape:
            raise ValueError(f"y: expected shape {ref.shape}, got {y.shape}")
        y_rel = y - ref
    return X_rel, y_rel, ref


def absolute_from_relative(pred_rel: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Undo :func:`relative_windows` on predictions: ``pred_rel + ref``.

    Parameters
    ----------
    pred_rel : ndarray, shape (W, 6)
    ref : ndarray, shape (W, 6)

    Returns
    -------
    pred : ndarray, shape (W, 6), absolute poses (mm, deg)
    """
    pred_rel = np.asarray(pred_rel, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if pred_rel.shape != ref.shape:
        raise ValueError(f"pred_rel shape {pred_rel.shape} != ref shape {ref.shape}")
    return pred_rel + ref
