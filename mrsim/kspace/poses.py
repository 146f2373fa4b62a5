"""Per-line head poses: :class:`LinePoses`, made from a trajectory and a schedule by
:func:`line_poses`, the one place the trajectory -> per-line pose step happens.

Poses are rigid transforms about the FOV centre in the image's world frame (RAS+, mm and
rotation matrices ``R = Rz Ry Rx``, docs/physics.md section 1). The engine converts them to
the array frame with the image's direction cosines (:meth:`LinePoses.in_array_frame`).

References
----------
Seed 001: per-shot poses "offset such that the k-space center remained in the origin"
(``rereference_center``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import check_orientation

if TYPE_CHECKING:
    from mrsim.kspace.schedule import Schedule

__all__ = ["LinePoses", "line_poses", "motion_states", "POSE_MAPPINGS", "POSE_METHODS"]

POSE_MAPPINGS = ("seconds", "stretch")
POSE_METHODS = ("linear", "nearest")
GRANULARITIES = ("line", "shot")


def motion_states(
    rotations: np.ndarray, translations_mm: np.ndarray, decimals: int = 9
) -> tuple[np.ndarray, np.ndarray]:
    """Group lines with identical poses into motion states.

    Returns
    -------
    first : ndarray of int, shape (S,)
        Index of one line of each state.
    state_of_line : ndarray of int, shape (L,)
    """
    L = rotations.shape[0]
    key = np.round(np.concatenate([rotations.reshape(L, -1), translations_mm], axis=1), decimals)
    # Consecutive lines mostly share a pose (a shot's lines): unique over the runs of equal
    # rows, then expanded (the same result as np.unique over all rows, ~10x cheaper).
    starts = np.flatnonzero(np.r_[True, np.any(key[1:] != key[:-1], axis=1)])
    _, first, inv = np.unique(key[starts], axis=0, return_index=True, return_inverse=True)
    return starts[first], np.repeat(inv.reshape(-1), np.diff(np.r_[starts, L]))


@dataclass(frozen=True, eq=False)
class LinePoses:
    """The pose of the head while each k-space line is acquired (world frame).

    Attributes
    ----------
    rotations : ndarray, shape (L, d, d)
        Per-line rotation matrices (``d`` = 3, or 2 for a 2D acquisition).
    translations_mm : ndarray, shape (L, d)
    params : ndarray, shape (L, 6), optional
        ``(tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg)`` as sampled from the trajectory.
    sampling : dict
        How the poses were made (:func:`line_poses` arguments), for provenance.

    ``state`` (motion-state index per line), ``first`` (one line per state) and
    ``n_states`` are computed on first use (:func:`motion_states`).
    """

    rotations: np.ndarray
    translations_mm: np.ndarray
    params: np.ndarray | None = None
    sampling: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_arrays(
        cls, rotations: np.ndarray, translations_mm: np.ndarray, n_lines: int, ndim: int = 3
    ) -> LinePoses:
        """Per-line poses from one pose or one per line, checked against the schedule.

        A 2D acquisition takes the in-plane (x, y) block of 3D poses and refuses
        through-plane rotations instead of dropping them silently.
        """
        R = np.asarray(rotations, dtype=float)
        t = np.asarray(translations_mm, dtype=float)
        if R.ndim == 2:
            R = np.broadcast_to(R, (n_lines,) + R.shape)
        if t.ndim == 1:
            t = np.broadcast_to(t, (n_lines,) + t.shape)
        if ndim == 2 and R.shape[-2:] == (3, 3):
            if np.max(np.abs(R[:, 2, :2])) > 1e-9 or np.max(np.abs(R[:, :2, 2])) > 1e-9:
                raise MrsimInputError(
                    "a 2D image cannot follow through-plane rotations (rx, ry != 0)"
                )
            R = R[:, :2, :2]
        if t.shape[-1] == 3 and ndim == 2:
            t = t[:, :2]
        if R.shape != (n_lines, ndim, ndim) or t.shape != (n_lines, ndim):
            raise MrsimInputError(
                f"rotations must have shape ({n_lines}, {ndim}, {ndim}) (or ({ndim}, {ndim})) "
                f"and translations_mm ({n_lines}, {ndim}) (or ({ndim},)), one pose per schedule "
                f"line; got {np.shape(rotations)} and {np.shape(translations_mm)}"
            )
        return cls(R, t)

    @classmethod
    def identity(cls, n_lines: int, ndim: int = 3) -> LinePoses:
        """No motion: every line at the reference pose."""
        return cls(
            np.broadcast_to(np.eye(ndim), (n_lines, ndim, ndim)).copy(),
            np.zeros((n_lines, ndim)),
            np.zeros((n_lines, 6)),
            {"trajectory": None},
        )

    @property
    def n_lines(self) -> int:
        return int(self.rotations.shape[0])

    @property
    def ndim(self) -> int:
        return int(self.rotations.shape[-1])

    @cached_property
    def _states(self) -> tuple[np.ndarray, np.ndarray]:
        return motion_states(self.rotations, self.translations_mm)

    @property
    def first(self) -> np.ndarray:
        """Index of one line of each motion state."""
        return self._states[0]

    @property
    def state(self) -> np.ndarray:
        """Motion-state index of each line (lines with identical poses share one)."""
        return self._states[1]

    @property
    def n_states(self) -> int:
        return int(len(self._states[0]))

    def is_static(self, atol: float = 1e-12) -> bool:
        """Whether no line rotates (translations allowed): the FFT fast path is exact."""
        eye = np.eye(self.ndim)
        return bool(np.max(np.abs(self.rotations - eye), initial=0.0) <= atol)

    def in_array_frame(self, orientation: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """``(R_a, t_a)`` in array-axis coordinates: ``R_a = D^T R D``, ``t_a = D^T t``.

        ``orientation`` ``D`` holds the world direction of each array axis in its columns
        (:func:`mrsim.geometry.orientation_from_affine`); None means identity.
        """
        D = check_orientation(orientation, self.ndim)
        if D is None:
            return self.rotations, self.translations_mm
        R = np.einsum("ji,ljk,km->lim", D, self.rotations, D)
        return R, self.translations_mm @ D

    def to_dict(self) -> dict[str, Any]:
        """Provenance: how the poses were made and how many motion states they hold."""
        return {**self.sampling, "n_lines": self.n_lines, "n_states": self.n_states}


def line_poses(
    trajectory,
    schedule: Schedule,
    *,
    mapping: str = "seconds",
    method: str = "linear",
    rereference_center: bool = True,
    granularity: str = "line",
) -> LinePoses:
    """Pose of the head for every line of a schedule.

    Parameters
    ----------
    trajectory : mrsim.motion.Trajectory or None
        Motion trajectory (world frame, mm / degrees); None: no motion.
    schedule : Schedule
    mapping : {"seconds", "stretch"}
        ``seconds``: trajectory times are scan times; the trajectory must cover the lines'
        times ``[min(time_s), max(time_s)]`` (error otherwise). ``stretch``: the trajectory's
        span is mapped linearly onto the scan's span (seed 001's 128-point traces spread
        over the whole MP-RAGE acquisition).
    method : {"linear", "nearest"}
        Interpolation between trajectory samples (Slerp for rotations).
    rereference_center : bool
        Compose every pose with the inverse of the pose at the k-space-centre line's time,
        so the centre is acquired at the identity (seed 001). The whole image then stays
        registered to the clean one.
    granularity : {"line", "shot"}
        ``line``: each line gets the pose at its own time. ``shot``: every line of a shot
        gets the pose at the shot's mean line time (one motion state per shot).

    Returns
    -------
    LinePoses
        With ``params`` (L, 6) and ``sampling`` (these arguments).
    """
    from mrsim.motion.rigid import rotation_matrix

    if mapping not in POSE_MAPPINGS:
        raise MrsimInputError(f"mapping must be 'seconds' or 'stretch', got {mapping!r}")
    if granularity not in GRANULARITIES:
        raise MrsimInputError(f"granularity must be 'line' or 'shot', got {granularity!r}")
    if method not in POSE_METHODS:
        raise MrsimInputError(f"pose method must be 'linear' or 'nearest', got {method!r}")
    sampling = {
        "mapping": mapping,
        "method": method,
        "rereference_center": bool(rereference_center),
        "granularity": granularity,
    }
    if trajectory is None:
        p = LinePoses.identity(schedule.n_lines)
        return LinePoses(p.rotations, p.translations_mm, p.params, {**sampling, **p.sampling})
    t_line = schedule.time_s
    if granularity == "shot":
        shots, inv = np.unique(schedule.shot, return_inverse=True)
        t_shot = np.bincount(inv, weights=t_line) / np.bincount(inv)
        t_line = t_shot[inv]
    tt = trajectory.t_s
    s0, s1 = float(schedule.time_s.min()), float(schedule.time_s.max())
    if mapping == "stretch":
        if len(trajectory) < 2 or tt[-1] == tt[0]:
            raise MrsimInputError(
                "mapping='stretch' needs a trajectory with at least 2 distinct times"
            )
        scale = (tt[-1] - tt[0]) / (s1 - s0) if s1 > s0 else 0.0
        tq = tt[0] + (t_line - s0) * scale
        t_centre = tt[0] + (schedule.time_s[schedule.center_line()] - s0) * scale
    else:
        tol = 1e-9 * max(1.0, abs(s1))
        if len(trajectory) and (tt[0] > s0 + tol or tt[-1] < s1 - tol):
            raise MrsimInputError(
                f"trajectory covers [{tt[0]:g}, {tt[-1]:g}] s but the schedule's lines span "
                f"[{s0:g}, {s1:g}] s; use a longer trajectory, or mapping='stretch' to spread it "
                "over the scan"
            )
        tq = t_line
        t_centre = schedule.time_s[schedule.center_line()]
    if rereference_center:
        trajectory = trajectory.rereference(float(t_centre))
    # Sampling is pointwise: each distinct time once (one per shot with granularity "shot"),
    # then expanded to the lines (the same values as sampling every line).
    tu, inv = np.unique(tq, return_inverse=True)
    pu = trajectory.sample(tu, method=method)
    params = pu[inv.reshape(-1)]
    return LinePoses(
        rotation_matrix(pu[:, 3:])[inv.reshape(-1)], params[:, :3].copy(), params, sampling
    )
