"""The corruption summary figure: orthogonal slices of clean / corrupted / difference and
the per-line poses that produced them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["corruption_figure"]


def _ortho(vol: np.ndarray) -> list[np.ndarray]:
    """Central slices perpendicular to each axis, oriented for display (first axis across)."""
    c = [n // 2 for n in vol.shape]
    return [vol[c[0], :, :].T, vol[:, c[1], :].T, vol[:, :, c[2]].T]


def corruption_figure(
    clean: np.ndarray,
    corrupted: np.ndarray,
    line_time_s: np.ndarray,
    line_params: np.ndarray,
    path: str | Path,
    title: str = "",
    center_time_s: float | None = None,
    voxel_size_mm: np.ndarray | None = None,
) -> Path:
    """Write a PNG: rows clean / corrupted / |difference| (3 orthogonal central slices each)
    and a plot of the six per-line pose parameters against acquisition time.

    Parameters
    ----------
    clean, corrupted : ndarray, 3D (magnitude or complex; magnitudes are shown)
    line_time_s : ndarray, shape (L,)
    line_params : ndarray, shape (L, 6)
        ``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg`` per line.
    path : str or Path
    title : str
    center_time_s : float, optional
        Time of the k-space centre, marked on the motion plot.
    voxel_size_mm : sequence of 3 floats, optional
        Displayed aspect ratios (isotropic if None).

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = np.abs(clean), np.abs(corrupted)
    diff = np.abs(b - a)
    vmax = float(a.max()) or 1.0
    fig = plt.figure(figsize=(11, 11), constrained_layout=True)
    gs = fig.add_gridspec(4, 3, height_ratios=[1, 1, 1, 0.8])
    v = np.ones(3) if voxel_size_mm is None else np.asarray(voxel_size_mm, dtype=float)
    aspects = [v[2] / v[1], v[2] / v[0], v[1] / v[0]]
    rows = [("clean", a, vmax), ("corrupted", b, vmax), ("|difference|", diff, 0.5 * vmax)]
    for r, (name, vol, vm) in enumerate(rows):
        for col, sl in enumerate(_ortho(vol)):
            ax = fig.add_subplot(gs[r, col])
            ax.imshow(
                sl,
                cmap="gray",
                origin="lower",
                vmin=0,
                vmax=vm,
                interpolation="nearest",
                aspect=aspects[col],
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(name + (" (x2)" if name.startswith("|") else ""))
            if r == 0:
                ax.set_title(["axis 0 slice", "axis 1 slice", "axis 2 slice"][col])
    order = np.argsort(line_time_s, kind="stable")
    t = np.asarray(line_time_s)[order]
    p = np.asarray(line_params)[order]
    ax1 = fig.add_subplot(gs[3, :2])
    for i, name in enumerate(("tx", "ty", "tz")):
        ax1.plot(t, p[:, i], label=f"{name} (mm)")
    for i, name in enumerate(("rx", "ry", "rz")):
        ax1.plot(t, p[:, 3 + i], "--", label=f"{name} (deg)")
    if center_time_s is not None:
        ax1.axvline(center_time_s, color="k", lw=0.8, label="k-space centre")
    ax1.set_xlabel("acquisition time (s)")
    ax1.set_ylabel("pose per line")
    # a fixed place: loc="best" searches all 55k+ points of a large scan and warns it is slow
    ax1.legend(fontsize=7, ncol=4, loc="upper left")
    ax2 = fig.add_subplot(gs[3, 2])
    ax2.axis("off")
    ax2.text(0, 1, title, va="top", family="monospace", fontsize=8, wrap=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from mrsim.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return path
