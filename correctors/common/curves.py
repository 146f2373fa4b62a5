"""Training curves of the correctors: history CSVs and the pieces of ``loss_curve.png``.

Each corrector's training writes ``history.csv`` (one row per optimiser step) and
``val_history.csv`` (one row per validation), and plots ``loss_curve.png``. What is
plotted differs per corrector (stages, phases, validation series) and stays in its own
``plot_loss_curve``; the operations they share live here: writing the rows, the moving
mean of the per-step loss, the raw + smoothed training line, and making / saving a
headless figure.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from mrsim.io.atomic import atomic_path

__all__ = ["write_csv", "moving_mean", "loss_figure", "plot_train_loss", "save_figure"]


def write_csv(
    path: str | os.PathLike, rows: Sequence[dict], fieldnames: Sequence[str] | None = None
) -> None:
    """Write ``rows`` (dicts) as a CSV with a header line, atomically.

    The one CSV writer of the correctors: training histories and evaluation rows.

    Parameters
    ----------
    path : str or Path
        Output file; written under a temporary name and renamed, so an interrupted run
        never leaves a truncated file.
    rows : sequence of dict
        One dict per row. With ``fieldnames`` given, a key not in it raises ``ValueError``
        (``csv.DictWriter``'s rule) and a missing key is an empty cell.
    fieldnames : sequence of str, optional
        Column order. Default: every key of ``rows`` in first-seen order.
    """
    keys = (
        list(fieldnames)
        if fieldnames is not None
        else list(dict.fromkeys(k for r in rows for k in r))
    )
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)


def moving_mean(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values (``np.convolve`` "valid" mode).

    Parameters
    ----------
    values : (N,) array_like
    window : int
        1 <= window <= N.

    Returns
    -------
    (N - window + 1,) ndarray
        Element ``i`` is ``mean(values[i : i + window])``, so it belongs to step
        ``i + window - 1`` (the last of the run).
    """
    v = np.asarray(values, dtype=float)
    if not 1 <= window <= v.size:
        raise ValueError(f"window must be in [1, {v.size}], got {window}")
    return np.convolve(v, np.ones(window) / window, mode="valid")


def loss_figure(panels: int, panel_size: tuple[float, float]) -> tuple[Any, np.ndarray]:
    """A new headless (Agg) figure of ``panels`` axes side by side.

    Parameters
    ----------
    panels : int
        Number of axes (>= 1), in one row.
    panel_size : (width, height) in inches
        Size of one panel; the figure is ``panels`` times as wide.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : (panels,) ndarray of Axes
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w, h = panel_size
    fig, axes = plt.subplots(1, panels, figsize=(w * panels, h), squeeze=False)
    return fig, axes[0]


def plot_train_loss(
    ax: Any,
    steps: Sequence[float] | np.ndarray,
    raw: Sequence[float] | np.ndarray,
    window: int,
    *,
    smoothed: Sequence[float] | np.ndarray | None = None,
    raw_color: str = "0.8",
    raw_label: str | None = None,
    mean_label: str | None = None,
) -> None:
    """The per-step training loss (thin grey) and its ``window``-step moving mean (C0).

    Parameters
    ----------
    ax : matplotlib Axes
    steps : (N,) array_like
        x of each step.
    raw : (N,) array_like
        Loss per step, drawn as is.
    window : int
        Moving-mean length (see :func:`moving_mean`); the mean of steps ``i .. i+window-1``
        is drawn at ``steps[i + window - 1]``.
    smoothed : (N,) array_like, optional
        The series whose moving mean is drawn (default ``raw``): e.g. the L1 term of a
        loss whose total is ``raw``.
    raw_color : str
        Matplotlib colour of the raw line.
    raw_label, mean_label : str, optional
        Legend labels (none by default).
    """
    s = np.asarray(steps)
    mean = moving_mean(raw if smoothed is None else smoothed, window)
    ax.plot(s, raw, color=raw_color, lw=0.5, **({} if raw_label is None else {"label": raw_label}))
    ax.plot(
        s[window - 1 :], mean, color="C0", **({} if mean_label is None else {"label": mean_label})
    )


def save_figure(fig: Any, path: str | os.PathLike, dpi: int) -> None:
    """``tight_layout``, save ``fig`` to ``path`` (format by its suffix) at ``dpi``, close it.

    Written atomically (temporary name, then rename), like the history CSVs.
    """
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
