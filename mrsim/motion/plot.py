"""Figure of a trajectory: translations, rotations and framewise displacement."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mrsim.motion.fd import DEFAULT_RADIUS_MM, framewise_displacement
from mrsim.motion.trajectory import Trajectory

if TYPE_CHECKING:  # matplotlib is imported lazily: mrsim.motion must import without it
    from matplotlib.figure import Figure

__all__ = ["plot_trajectory"]

_FD_LABEL = {"power": "Power FD", "jenkinson": "Jenkinson FD", "enorm": "enorm"}


def plot_trajectory(
    traj: Trajectory,
    *,
    fd_kind: str = "power",
    radius_mm: float | None = None,
    title: str | None = None,
    time_label: str = "time (s)",
    axes=None,
) -> Figure:
    """Plot the six parameters and the per-frame FD of a trajectory.

    Parameters
    ----------
    traj : Trajectory
    fd_kind : {"power", "jenkinson", "enorm"}
        FD kind for the bottom panel (see :func:`~mrsim.motion.fd.framewise_displacement`).
    radius_mm : float, optional
        FD radius; the kind's default when None.
    title : str, optional
    time_label : str
        x-axis label (e.g. "volume index" when the file had no times).
    axes : sequence of 3 matplotlib Axes, optional
        Draw into these (translations, rotations, FD) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True, constrained_layout=True)
    else:
        fig = axes[0].figure
    t = traj.t_s
    for k, name in enumerate(("tx", "ty", "tz")):
        axes[0].plot(t, traj.translations_mm[:, k], label=name)
    for k, name in enumerate(("rx", "ry", "rz")):
        axes[1].plot(t, traj.rotations_deg[:, k], label=name)
    fd = framewise_displacement(traj, fd_kind, radius_mm=radius_mm)
    axes[2].plot(t, fd, color="k", lw=1)
    for thr, ls in ((0.2, ":"), (0.5, "--")):
        if fd_kind != "enorm":
            axes[2].axhline(thr, color="tab:red", ls=ls, lw=0.8, label=f"{thr} mm")
    axes[0].set_ylabel("translation (mm)")
    axes[1].set_ylabel("rotation (deg)")
    r = DEFAULT_RADIUS_MM[fd_kind] if radius_mm is None else radius_mm
    rtxt = "" if r is None else f", r = {r:g} mm"
    axes[2].set_ylabel(f"{_FD_LABEL[fd_kind]} (mm{'/deg' if fd_kind == 'enorm' else ''})")
    axes[2].set_title(
        f"{_FD_LABEL[fd_kind]}{rtxt}: mean {np.mean(fd[1:]) if len(fd) > 1 else 0:.3g},"
        f" max {fd.max():.3g}",
        fontsize="small",
    )
    axes[2].set_xlabel(time_label)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left", ncol=3, fontsize="small")
    axes[1].legend(loc="upper left", ncol=3, fontsize="small")
    if fd_kind != "enorm":
        axes[2].legend(loc="upper left", ncol=2, fontsize="small")
    if title:
        axes[0].set_title(title)
    return fig
