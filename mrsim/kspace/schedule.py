"""Acquisition schedules: which Cartesian k-space line is acquired when.

A :class:`Schedule` lists, for every readout line of a Cartesian acquisition, its
phase-encode position (centred integer indices, 0 = k-space centre), its acquisition time
and its shot. The readout axis is fully sampled for every line. Factories build the
orderings used by the seed papers: 3D MP-RAGE (seed 001), segmented 3D GRE (seed 002) and
2D Cartesian. :func:`poses_for_schedule` maps a motion :class:`~mrsim.motion.Trajectory` onto
the lines.

k-space coordinates are in cycles per FOV, with the centred convention of
:mod:`mrsim.kspace.fft`: sample ``j`` of an axis of length ``n`` sits at ``j - n // 2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import crop_or_pad

__all__ = [
    "Schedule",
    "ORDERINGS",
    "mprage_schedule",
    "gre3d_schedule",
    "cartesian2d_schedule",
    "poses_for_schedule",
]

ORDERINGS = ("linear", "centric", "interleaved", "per-line")


@dataclass(frozen=True, eq=False)
class Schedule:
    """Cartesian acquisition schedule, one entry per readout line.

    Attributes
    ----------
    shape : tuple of int
        Acquired matrix (2 or 3 axes), in array axis order.
    readout_axis : int
        The fully sampled (frequency-encoding) axis.
    pe_index : ndarray of int, shape (L, ndim - 1)
        Phase-encode indices of each line, centred (0 = k-space centre), for the axes
        :attr:`pe_axes` in that order; ranges ``[-n // 2, n - n // 2 - 1]``.
    time_s : ndarray of float, shape (L,)
        Acquisition time of each line (s), e.g. the echo time point of that readout.
    shot : ndarray of int, shape (L,)
        Shot (MP-RAGE inversion, GRE segment) each line belongs to.
    name : str
        Human-readable description of the ordering.
    """

    shape: tuple[int, ...]
    readout_axis: int
    pe_index: np.ndarray
    time_s: np.ndarray
    shot: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.shape)
        if len(shape) not in (2, 3) or min(shape) < 1:
            raise MrsimInputError(f"Schedule.shape must be 2 or 3 positive ints, got {self.shape}")
        ro = int(self.readout_axis)
        if not -len(shape) <= ro < len(shape):
            raise MrsimInputError(
                f"readout_axis {self.readout_axis} out of range for shape {shape}"
            )
        ro %= len(shape)
        pe = np.asarray(self.pe_index)
        if pe.ndim == 1 and len(shape) == 2:
            pe = pe[:, None]
        if pe.ndim != 2 or pe.shape[1] != len(shape) - 1:
            raise MrsimInputError(
                f"pe_index must have shape (L, {len(shape) - 1}), got {np.shape(self.pe_index)}"
            )
        if not np.issubdtype(pe.dtype, np.integer):
            if not np.all(pe == np.round(pe)):
                raise MrsimInputError("pe_index must hold integers (centred phase-encode indices)")
        pe = pe.astype(np.int64)
        L = pe.shape[0]
        time_s = np.asarray(self.time_s, dtype=float).reshape(-1)
        shot = np.asarray(self.shot).reshape(-1).astype(np.int64)
        if time_s.shape != (L,) or shot.shape != (L,):
            raise MrsimInputError(
                f"time_s and shot must have one entry per line ({L}), got "
                f"{time_s.shape} and {shot.shape}"
            )
        if not np.all(np.isfinite(time_s)):
            raise MrsimInputError("Schedule.time_s must be finite")
        pe_axes = tuple(a for a in range(len(shape)) if a != ro)
        for col, a in enumerate(pe_axes):
            n = shape[a]
            lo, hi = -(n // 2), n - n // 2 - 1
            if L and (pe[:, col].min() < lo or pe[:, col].max() > hi):
                raise MrsimInputError(
                    f"pe_index column {col} (axis {a}) must lie in [{lo}, {hi}] for n={n}, got "
                    f"[{pe[:, col].min()}, {pe[:, col].max()}]"
                )
        # Each line as one flat phase-encode index (bounds checked above): a 1D unique,
        # ~10x cheaper than np.unique(pe, axis=0) on the rows.
        flat = np.zeros(L, np.int64)
        for col, a in enumerate(pe_axes):
            flat = flat * shape[a] + (pe[:, col] + shape[a] // 2)
        if L and np.unique(flat).size != L:
            raise MrsimInputError("pe_index lists the same k-space line more than once")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "readout_axis", ro)
        object.__setattr__(self, "pe_index", pe)
        object.__setattr__(self, "time_s", time_s)
        object.__setattr__(self, "shot", shot)

    # ------------------------------------------------------------------ properties
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def n_lines(self) -> int:
        return int(self.pe_index.shape[0])

    @property
    def n_readout(self) -> int:
        return self.shape[self.readout_axis]

    @property
    def pe_axes(self) -> tuple[int, ...]:
        """Array axes of the phase-encode columns of :attr:`pe_index`, in order."""
        return tuple(a for a in range(self.ndim) if a != self.readout_axis)

    @property
    def n_shots(self) -> int:
        return int(len(np.unique(self.shot)))

    @property
    def duration_s(self) -> float:
        return float(self.time_s.max() - self.time_s.min()) if self.n_lines else 0.0

    def center_line(self) -> int:
        """Index of the line nearest the k-space centre (smallest ``|pe_index|``).

        Ties are broken by the earliest acquisition time.
        """
        if self.n_lines == 0:
            raise MrsimInputError("schedule has no lines")
        r2 = np.sum(self.pe_index.astype(float) ** 2, axis=1)
        cand = np.flatnonzero(r2 == r2.min())
        return int(cand[np.argmin(self.time_s[cand])])

    def is_fully_sampled(self) -> bool:
        """True when every line of :attr:`shape` is acquired."""
        return self.n_lines == int(np.prod([self.shape[a] for a in self.pe_axes]))

    # ------------------------------------------------------------------ coordinates
    def readout_coords(self) -> np.ndarray:
        """Readout positions ``j - n // 2`` (cycles/FOV), shape (n_readout,)."""
        n = self.n_readout
        return np.arange(n, dtype=float) - n // 2

    def kspace_coords(self) -> np.ndarray:
        """Per-line, per-sample k positions in cycles/FOV, shape (L, n_readout, ndim).

        Columns are in array axis order; for anisotropic voxels, divide axis ``a`` by
        ``shape[a] * voxel_size_mm[a]`` to get cycles/mm.
        """
        L, n = self.n_lines, self.n_readout
        k = np.zeros((L, n, self.ndim))
        k[:, :, self.readout_axis] = self.readout_coords()[None, :]
        for col, a in enumerate(self.pe_axes):
            k[:, :, a] = self.pe_index[:, col, None]
        return k

    def grid_index(self) -> tuple[np.ndarray, ...]:
        """Index of every line on the phase-encode grid: one int array (L,) per PE axis.

        ``k_pe[grid_index()]`` picks the lines, in schedule order, from an array whose axes
        are the phase-encode axes (``pe_axes`` order) then the readout; DC sits at
        ``n // 2``. Adjoint code scatters with ``np.add.at`` on the same index, so lines
        that repeat (the multi-coil path's shifted lines) add up.
        """
        return tuple(self.pe_index[:, c] + self.shape[a] // 2 for c, a in enumerate(self.pe_axes))

    def to_grid(self, lines: np.ndarray, shape: Sequence[int] | None = None) -> np.ndarray:
        """Scatter line data into a Cartesian k-space array (unacquired lines are zero).

        Parameters
        ----------
        lines : ndarray, shape (..., L, n_readout)
            One row per line, in schedule order; leading axes (e.g. coils) are kept.
        shape : sequence of int, optional
            Output grid, default :attr:`shape`. A larger grid zero-fills about the centre
            (same FOV, finer pixels); it must not be smaller than :attr:`shape`.

        Returns
        -------
        ndarray, shape (..., *shape)
        """
        lines = np.asarray(lines)
        if lines.shape[-2:] != (self.n_lines, self.n_readout):
            raise MrsimInputError(
                f"lines must end with shape ({self.n_lines}, {self.n_readout}), got {lines.shape}"
            )
        out_shape = self.shape if shape is None else tuple(int(s) for s in shape)
        if len(out_shape) != self.ndim or any(
            o < s for o, s in zip(out_shape, self.shape, strict=False)
        ):
            raise MrsimInputError(f"grid shape {out_shape} must be >= schedule shape {self.shape}")
        lead = lines.shape[:-2]
        # Build on the schedule grid with the readout axis last, then move it into place.
        pe_shape = tuple(self.shape[a] for a in self.pe_axes)
        tmp = np.zeros(lead + pe_shape + (self.n_readout,), dtype=lines.dtype)
        tmp[(Ellipsis,) + self.grid_index() + (slice(None),)] = lines
        tmp = np.moveaxis(tmp, -1, len(lead) + self.readout_axis)
        return crop_or_pad(tmp, out_shape)  # zero-fill about the centre (checked >= above)

    def from_grid(self, kspace: np.ndarray) -> np.ndarray:
        """Gather the scheduled lines from a Cartesian k-space array of shape (..., *shape).

        Returns
        -------
        ndarray, shape (..., L, n_readout)
        """
        kspace = np.asarray(kspace)
        if kspace.shape[kspace.ndim - self.ndim :] != self.shape:
            raise MrsimInputError(f"k-space must end with shape {self.shape}, got {kspace.shape}")
        lead = kspace.ndim - self.ndim
        k = np.moveaxis(kspace, lead + self.readout_axis, -1)
        return k[(Ellipsis,) + self.grid_index() + (slice(None),)]

    def line_masks(self, state_of_line: np.ndarray) -> np.ndarray:
        """Boolean sampling masks, one per motion state (seed 002 Eq. 4's ``M_i``).

        Parameters
        ----------
        state_of_line : ndarray of int, shape (L,)
            State index ``0 .. S-1`` of each line.

        Returns
        -------
        ndarray of bool, shape (S, *shape)
            Memory grows with S: meant for a few states (segments), not one per line.
        """
        s = np.asarray(state_of_line).reshape(-1)
        if s.shape != (self.n_lines,) or not np.issubdtype(s.dtype, np.integer):
            raise MrsimInputError(f"state_of_line must be {self.n_lines} integers, got {s.shape}")
        if s.size and s.min() < 0:
            raise MrsimInputError("state_of_line must be >= 0")
        n_states = int(s.max()) + 1 if s.size else 0
        onehot = np.zeros((n_states, self.n_lines, self.n_readout), dtype=bool)
        onehot[s, np.arange(self.n_lines), :] = True
        return self.to_grid(onehot)

    def subset(self, keep: np.ndarray) -> Schedule:
        """Schedule of the lines selected by a boolean mask or index array."""
        return Schedule(
            self.shape,
            self.readout_axis,
            self.pe_index[keep],
            self.time_s[keep],
            self.shot[keep],
            name=self.name,
        )


# ---------------------------------------------------------------------- factories
def _check_shape(shape: Sequence[int], ndim: int, what: str) -> tuple[int, ...]:
    try:
        shp = tuple(int(s) for s in shape)
    except TypeError as exc:
        raise MrsimInputError(f"{what}: shape must be {ndim} ints, got {shape!r}") from exc
    if len(shp) != ndim or min(shp) < 1:
        raise MrsimInputError(f"{what}: shape must be {ndim} positive ints, got {shape!r}")
    return shp


def _centric(n: int) -> np.ndarray:
    """Centred indices ordered centre-out: 0, -1, 1, -2, 2, ... (within [-n//2, n-n//2-1])."""
    k = np.arange(n) - n // 2
    return k[np.lexsort((k > 0, np.abs(k)))]


def _linear(n: int) -> np.ndarray:
    return np.arange(n) - n // 2


def mprage_schedule(
    shape: Sequence[int],
    ordering: str = "linear",
    readout_axis: int = 0,
    echo_spacing_s: float = 0.007,
    ti_s: float = 0.9,
    shot_tr_s: float = 2.3,
    turbo_factor: int | None = None,
    n_interleaves: int = 2,
) -> Schedule:
    """3D Cartesian MP-RAGE schedule (seed 001).

    The two phase-encode axes (array axes other than ``readout_axis``, in increasing order)
    are the inner loop "ky" (first) and the outer loop "kz" (second). Each inversion (shot)
    is followed by a train of ``turbo_factor`` readouts spaced by ``echo_spacing_s``.

    Parameters
    ----------
    shape : 3 ints
        Acquired matrix.
    ordering : {"linear", "centric", "interleaved", "per-line"}
        ``linear``: one kz partition per shot, ky ascending within the shot (kz ascending
        across shots). ``centric``: both loops centre-out (0, -1, 1, -2, ...), so each shot's
        first readout is its ky = 0 line and the first shot is kz = 0. ``interleaved``: like
        linear but the partitions are visited in ``n_interleaves`` passes (0, 2, 4, ...,
        then 1, 3, ...). ``per-line``: the linear line order as one continuous train, each
        line its own shot (time ``i * echo_spacing_s``): the motion state may change every
        line, no inversion gaps.
    readout_axis : int
        Fully sampled axis.
    echo_spacing_s : float
        Time between consecutive readouts of a train.
    ti_s : float
        Inversion time: from the inversion to the readout of the train's k-space-centre
        position (the middle of the train for linear/interleaved, its first readout for
        centric).
    shot_tr_s : float
        Time between inversions (seed 001-like 2.3 s).
    turbo_factor : int, optional
        Readouts per shot; default the number of ky lines (one partition per shot). Other
        values cut the line sequence into consecutive trains of this length.
    n_interleaves : int
        Passes for ``interleaved``.

    Returns
    -------
    Schedule

    References
    ----------
    Seed 001 (MC-Net): 3D MP-RAGE, per-shot motion from 128-point PACE traces.
    """
    shape = _check_shape(shape, 3, "mprage_schedule")
    if ordering not in ORDERINGS:
        raise MrsimInputError(f"ordering must be one of {ORDERINGS}, got {ordering!r}")
    ro = int(readout_axis) % 3
    ny, nz = (shape[a] for a in range(3) if a != ro)
    if ordering == "centric":
        ky, kz = _centric(ny), _centric(nz)
    else:
        ky, kz = _linear(ny), _linear(nz)
    if ordering == "interleaved":
        if n_interleaves < 1:
            raise MrsimInputError(f"n_interleaves must be >= 1, got {n_interleaves}")
        kz = np.concatenate([kz[i::n_interleaves] for i in range(n_interleaves)])
    # Outer loop kz, inner loop ky.
    pe = np.stack([np.tile(ky, nz), np.repeat(kz, ny)], axis=1)
    L = pe.shape[0]
    if echo_spacing_s <= 0 or shot_tr_s <= 0 or ti_s < 0:
        raise MrsimInputError("echo_spacing_s and shot_tr_s must be > 0 and ti_s >= 0")
    if ordering == "per-line":
        return Schedule(
            shape,
            ro,
            pe,
            np.arange(L) * float(echo_spacing_s),
            np.arange(L),
            name="mprage per-line",
        )
    tf = ny if turbo_factor is None else int(turbo_factor)
    if tf < 1:
        raise MrsimInputError(f"turbo_factor must be >= 1, got {turbo_factor}")
    pos = np.arange(L) % tf
    shot = np.arange(L) // tf
    centre_pos = 0 if ordering == "centric" else tf // 2
    t0 = ti_s - centre_pos * echo_spacing_s
    if t0 < 0:
        raise MrsimInputError(
            f"mprage_schedule: ti_s={ti_s} s is shorter than the readouts before the train centre "
            f"({centre_pos} x {echo_spacing_s} s); raise ti_s or lower echo_spacing_s"
        )
    if t0 + tf * echo_spacing_s > shot_tr_s:
        raise MrsimInputError(
            f"mprage_schedule: the train ({tf} x {echo_spacing_s} s after {t0:.3f} s) does not fit "
            f"in shot_tr_s={shot_tr_s} s"
        )
    time_s = shot * shot_tr_s + t0 + pos * echo_spacing_s
    return Schedule(shape, ro, pe, time_s, shot, name=f"mprage {ordering}, turbo factor {tf}")


def gre3d_schedule(
    shape: Sequence[int],
    tr_s: float = 0.03,
    readout_axis: int = 0,
    segments: int = 1,
    ordering: str = "linear",
) -> Schedule:
    """Segmented 3D GRE schedule (seed 002): one readout per TR, k-space in segments.

    Lines are visited in linear order (outer phase-encode axis slowest) or centric order,
    one per ``tr_s``; the line sequence is split into ``segments`` consecutive blocks of
    near-equal size and the block index is stored as :attr:`Schedule.shot`. With one pose
    per segment this is seed 002's mixing of k-space segments (Eq. 4/5).

    Parameters
    ----------
    shape : 3 ints
    tr_s : float
        Repetition time (s); line ``i`` is acquired at ``i * tr_s``.
    readout_axis : int
    segments : int
        Number of k-space segments (>= 1).
    ordering : {"linear", "centric"}

    Returns
    -------
    Schedule
    """
    shape = _check_shape(shape, 3, "gre3d_schedule")
    if ordering not in ("linear", "centric"):
        raise MrsimInputError(
            f"gre3d_schedule ordering must be 'linear' or 'centric', got {ordering!r}"
        )
    if tr_s <= 0:
        raise MrsimInputError(f"tr_s must be > 0, got {tr_s}")
    ro = int(readout_axis) % 3
    ny, nz = (shape[a] for a in range(3) if a != ro)
    order = _centric if ordering == "centric" else _linear
    pe = np.stack([np.tile(order(ny), nz), np.repeat(order(nz), ny)], axis=1)
    L = pe.shape[0]
    if not 1 <= int(segments) <= L:
        raise MrsimInputError(f"segments must be in [1, {L}], got {segments}")
    shot = (np.arange(L) * int(segments)) // L
    return Schedule(
        shape, ro, pe, np.arange(L) * float(tr_s), shot, name=f"gre3d {ordering}, {segments} seg"
    )


def cartesian2d_schedule(
    shape: Sequence[int], tr_s: float = 0.01, readout_axis: int = 0, ordering: str = "linear"
) -> Schedule:
    """2D Cartesian schedule: one phase-encode line per ``tr_s``, each its own shot.

    Parameters
    ----------
    shape : 2 ints
    tr_s : float
    readout_axis : int
    ordering : {"linear", "centric"}

    Returns
    -------
    Schedule
    """
    shape = _check_shape(shape, 2, "cartesian2d_schedule")
    if ordering not in ("linear", "centric"):
        raise MrsimInputError(f"ordering must be 'linear' or 'centric', got {ordering!r}")
    if tr_s <= 0:
        raise MrsimInputError(f"tr_s must be > 0, got {tr_s}")
    ro = int(readout_axis) % 2
    n = shape[1 - ro]
    k = _centric(n) if ordering == "centric" else _linear(n)
    L = len(k)
    return Schedule(
        shape, ro, k[:, None], np.arange(L) * float(tr_s), np.arange(L), name=f"2d {ordering}"
    )


def poses_for_schedule(
    traj,
    schedule: Schedule,
    mapping: str = "seconds",
    method: str = "linear",
    rereference_center: bool = True,
    granularity: str = "line",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose of the head for every line of a schedule, as arrays.

    The tuple form of :func:`mrsim.kspace.poses.line_poses` (which returns a
    :class:`~mrsim.kspace.poses.LinePoses`); same arguments.

    Returns
    -------
    rotations : ndarray, shape (L, 3, 3)
    translations_mm : ndarray, shape (L, 3)
    params : ndarray, shape (L, 6)
        Per-line ``(tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg)``.
    """
    from mrsim.kspace.poses import line_poses

    p = line_poses(
        traj,
        schedule,
        mapping=mapping,
        method=method,
        rereference_center=rereference_center,
        granularity=granularity,
    )
    return p.rotations, p.translations_mm, p.params
