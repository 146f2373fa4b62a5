"""The :class:`Trajectory` type: sample times plus six rigid-body parameters per sample.

Parameters are stored with explicit units, columns :data:`PARAM_NAMES`
(``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg``), in the convention of
:mod:`mrsim.motion.rigid` (``R = Rz Ry Rx``, rotation about the FOV centre).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.transform import Rotation, Slerp

from mrsim.motion.rigid import (
    affine_to_params,
    euler_from_matrix,
    invert_affine,
    params_to_affine,
    rotation_matrix,
)

__all__ = ["PARAM_NAMES", "Trajectory"]

#: Column names (with units) of :attr:`Trajectory.params`.
PARAM_NAMES: tuple[str, ...] = ("tx_mm", "ty_mm", "tz_mm", "rx_deg", "ry_deg", "rz_deg")


def _rotations(rot_deg: np.ndarray) -> Rotation:
    return Rotation.from_matrix(rotation_matrix(rot_deg))


class Trajectory:
    """Rigid head motion sampled at increasing times.

    Parameters
    ----------
    t_s : array_like, shape (N,)
        Sample times in seconds, finite and strictly increasing, N >= 1.
    params : array_like, shape (N, 6)
        ``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg`` per sample (see :data:`PARAM_NAMES`).
        Pose ``i`` moves an object point ``r`` to ``R_i (r - c) + c + t_i``.

    Notes
    -----
    Instances are immutable: the arrays are read-only copies and every operation returns a
    new :class:`Trajectory`.
    """

    __slots__ = ("_t_s", "_params")

    def __init__(self, t_s: ArrayLike, params: ArrayLike) -> None:
        t = np.array(t_s, dtype=float, ndmin=1)
        p = np.array(params, dtype=float)
        if t.ndim != 1:
            raise ValueError(f"t_s must be 1-D, got shape {t.shape}")
        if p.ndim == 1 and p.shape == (6,) and t.shape == (1,):
            p = p[None, :]
        if p.ndim != 2 or p.shape[1] != 6:
            raise ValueError(
                f"params must have shape (N, 6) with columns {', '.join(PARAM_NAMES)}; "
                f"got shape {p.shape}"
            )
        if p.shape[0] != t.shape[0]:
            raise ValueError(f"t_s has {t.shape[0]} samples but params has {p.shape[0]} rows")
        if t.shape[0] == 0:
            raise ValueError("a trajectory needs at least one sample")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"t_s must be finite; sample {int(np.argmin(np.isfinite(t)))} is not")
        bad = ~np.isfinite(p)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"params must be finite; sample {i}, column {PARAM_NAMES[j]} is not")
        d = np.diff(t)
        if np.any(d <= 0):
            i = int(np.argmax(d <= 0))
            raise ValueError(
                f"t_s must be strictly increasing; t_s[{i + 1}] = {t[i + 1]} <= t_s[{i}] = {t[i]}"
            )
        t.flags.writeable = False
        p.flags.writeable = False
        self._t_s = t
        self._params = p

    # ----------------------------------------------------------------- construction
    @classmethod
    def identity(cls, t_s: ArrayLike) -> Trajectory:
        """No motion: identity pose at every time in ``t_s``."""
        t = np.array(t_s, dtype=float, ndmin=1)
        return cls(t, np.zeros((t.shape[0], 6)))

    @classmethod
    def from_affines(
        cls, t_s: ArrayLike, affines: ArrayLike, center_mm: ArrayLike | None = None
    ) -> Trajectory:
        """Trajectory from rigid 4x4 matrices ``(N, 4, 4)`` (see :func:`.affine_to_params`)."""
        A = np.asarray(affines, dtype=float)
        if A.ndim != 3 or A.shape[1:] != (4, 4):
            raise ValueError(f"affines must have shape (N, 4, 4), got {A.shape}")
        return cls(t_s, affine_to_params(A, center_mm=center_mm))

    @classmethod
    def concatenate(
        cls, trajectories: Sequence[Trajectory], gap_s: float | None = None
    ) -> Trajectory:
        """Join trajectories end to end.

        Parameters
        ----------
        trajectories : sequence of Trajectory
        gap_s : float, optional
            ``None`` (default): times are kept as they are and must keep increasing across
            pieces. A number: each piece after the first is shifted in time so that its first
            sample falls ``gap_s`` seconds after the previous piece's last sample.

        Returns
        -------
        Trajectory
        """
        trajs = list(trajectories)
        if not trajs:
            raise ValueError("concatenate needs at least one trajectory")
        ts, ps = [trajs[0].t_s], [trajs[0].params]
        for k, tr in enumerate(trajs[1:], start=1):
            t = tr.t_s
            if gap_s is not None:
                if gap_s <= 0:
                    raise ValueError(f"gap_s must be > 0, got {gap_s}")
                t = t - t[0] + ts[-1][-1] + gap_s
            elif t[0] <= ts[-1][-1]:
                raise ValueError(
                    f"trajectory {k} starts at t = {t[0]} s, not after the end of trajectory "
                    f"{k - 1} ({ts[-1][-1]} s); pass gap_s to shift the pieces in time"
                )
            ts.append(t)
            ps.append(tr.params)
        return cls(np.concatenate(ts), np.concatenate(ps))

    # ----------------------------------------------------------------- accessors
    @property
    def t_s(self) -> np.ndarray:
        """Sample times in s, shape (N,), read-only."""
        return self._t_s

    @property
    def params(self) -> np.ndarray:
        """Parameters, shape (N, 6), columns :data:`PARAM_NAMES`, read-only."""
        return self._params

    @property
    def translations_mm(self) -> np.ndarray:
        """``(tx_mm, ty_mm, tz_mm)``, shape (N, 3)."""
        return self._params[:, :3]

    @property
    def rotations_deg(self) -> np.ndarray:
        """``(rx_deg, ry_deg, rz_deg)``, shape (N, 3)."""
        return self._params[:, 3:]

    @property
    def duration_s(self) -> float:
        """Time from first to last sample (0 for a single sample)."""
        return float(self._t_s[-1] - self._t_s[0])

    def __len__(self) -> int:
        return int(self._t_s.shape[0])

    def __repr__(self) -> str:
        return (
            f"Trajectory(n={len(self)}, t_s=[{self._t_s[0]:g}, {self._t_s[-1]:g}], "
            f"max |t| = {np.abs(self.translations_mm).max():.3g} mm, "
            f"max |r| = {np.abs(self.rotations_deg).max():.3g} deg)"
        )

    def rotation_matrices(self) -> np.ndarray:
        """Rotation matrices ``R = Rz Ry Rx``, shape (N, 3, 3)."""
        return rotation_matrix(self.rotations_deg)

    def to_affines(self, center_mm: ArrayLike | None = None) -> np.ndarray:
        """4x4 pose matrices, shape (N, 4, 4) (see :func:`~.rigid.params_to_affine`)."""
        return params_to_affine(self._params, center_mm=center_mm)

    # ----------------------------------------------------------------- operations
    def sample(self, t_s: ArrayLike, method: str = "linear") -> np.ndarray:
        """Parameters at arbitrary times, as an array (times need not be sorted or unique).

        Parameters
        ----------
        t_s : array_like, shape (M,) or scalar
            Query times (s), any order, repeats allowed (e.g. one time per k-space line).
            Times outside ``[t_s[0], t_s[-1]]`` take the first/last pose (held constant, no
            extrapolation).
        method : {"linear", "nearest"}
            ``"linear"``: translations interpolated linearly and rotations by spherical
            linear interpolation (scipy ``Slerp``) between the two neighbouring samples, which
            follows the shortest rotation rather than averaging Euler angles.
            ``"nearest"``: the pose of the nearest sample (ties go to the earlier one).

        Returns
        -------
        ndarray, shape (M, 6)
            Columns :data:`PARAM_NAMES`.
        """
        if method not in ("linear", "nearest"):
            raise ValueError(f"method must be 'linear' or 'nearest', got {method!r}")
        tq = np.array(t_s, dtype=float, ndmin=1)
        if tq.ndim != 1:
            raise ValueError(f"t_s must be 1-D, got shape {tq.shape}")
        if not np.all(np.isfinite(tq)):
            raise ValueError("query times t_s must be finite")
        t = self._t_s
        if len(t) == 1:
            return np.repeat(self._params, len(tq), axis=0)
        tc = np.clip(tq, t[0], t[-1])
        if method == "nearest":
            j = np.searchsorted(t, tc, side="left").clip(1, len(t) - 1)
            j = np.where(tc - t[j - 1] <= t[j] - tc, j - 1, j)
            return self._params[j].copy()
        trans = np.stack([np.interp(tc, t, self._params[:, k]) for k in range(3)], axis=1)
        rot = Slerp(t, _rotations(self.rotations_deg))(tc)
        rot_deg = euler_from_matrix(rot.as_matrix())
        # Exactly at a sample time keep the stored angles (avoids 180/-180 wrap and round-off).
        hit = np.minimum(np.searchsorted(t, tc), len(t) - 1)
        exact = t[hit] == tc
        rot_deg[exact] = self.rotations_deg[hit[exact]]
        return np.concatenate([trans, rot_deg], axis=1)

    def resample(self, t_s: ArrayLike, method: str = "linear") -> Trajectory:
        """Trajectory at new, strictly increasing times (interpolation as in :meth:`sample`).

        Parameters
        ----------
        t_s : array_like, shape (M,)
            New sample times (s), strictly increasing.
        method : {"linear", "nearest"}
            See :meth:`sample`.

        Returns
        -------
        Trajectory
        """
        return Trajectory(t_s, self.sample(t_s, method=method))

    def pose_at(self, t_s: float, method: str = "linear") -> np.ndarray:
        """Parameters ``(6,)`` at one time (same interpolation as :meth:`resample`)."""
        return self.sample([t_s], method=method)[0]

    def rereference(self, t_ref_s: float, insert_sample: bool = True) -> Trajectory:
        """Make the pose at ``t_ref_s`` the identity.

        Every pose is composed with the inverse of the reference pose,
        ``A_i' = A_i A_ref^{-1}``: the object as it was at ``t_ref_s`` becomes the
        reference object, and ``A_i'`` moves it to where it is at sample ``i``. (Subtracting
        Euler angles is not the same thing once rotations do not commute.) Seed 001 offsets
        trajectories this way so the k-space centre is acquired at the origin pose.

        Parameters
        ----------
        t_ref_s : float
            Reference time (s). Between samples, the reference pose is interpolated as in
            :meth:`sample`.
        insert_sample : bool
            When ``t_ref_s`` lies strictly between two samples, insert a sample there first
            (default). The inserted pose lies on the interpolated path, so the motion is
            unchanged, and the result is then exactly the identity at ``t_ref_s``. Without it
            the re-referenced trajectory is the identity at ``t_ref_s`` only to within the
            interpolation error, because linear/Slerp interpolation does not commute with
            composition.

        Returns
        -------
        Trajectory
        """
        tr = self
        t = self._t_s
        if insert_sample and t[0] < t_ref_s < t[-1] and not np.any(t == t_ref_s):
            k = int(np.searchsorted(t, t_ref_s))
            tr = Trajectory(
                np.insert(t, k, t_ref_s), np.insert(self._params, k, self.pose_at(t_ref_s), 0)
            )
        A_ref = params_to_affine(tr.pose_at(t_ref_s))
        A = tr.to_affines() @ invert_affine(A_ref)
        return Trajectory(tr.t_s, affine_to_params(A))

    def scale(self, factor: float) -> Trajectory:
        """Scale motion by ``factor``: translations and the rotation *vector* (axis-angle).

        Scaling the rotation vector keeps the rotation axis and multiplies the angle, which
        Euler-angle scaling does not do for combined rotations. Seed 001 multiplies its PACE
        trajectories by 8. ``scale(1)`` returns the same poses; ``scale(0)`` the identity.
        """
        factor = float(factor)
        if not np.isfinite(factor):
            raise ValueError(f"factor must be finite, got {factor}")
        if factor == 1.0:
            return Trajectory(self._t_s, self._params)
        rv = _rotations(self.rotations_deg).as_rotvec() * factor
        rot_deg = euler_from_matrix(Rotation.from_rotvec(rv).as_matrix())
        return Trajectory(
            self._t_s, np.concatenate([self.translations_mm * factor, rot_deg], axis=1)
        )

    def crop(self, t0_s: float, t1_s: float) -> Trajectory:
        """Samples with ``t0_s <= t <= t1_s`` (times unchanged)."""
        keep = (self._t_s >= t0_s) & (self._t_s <= t1_s)
        if not keep.any():
            raise ValueError(
                f"crop [{t0_s}, {t1_s}] s keeps no sample of a trajectory spanning "
                f"[{self._t_s[0]}, {self._t_s[-1]}] s"
            )
        return Trajectory(self._t_s[keep], self._params[keep])

    def with_times(self, t_s: ArrayLike) -> Trajectory:
        """Same poses with new sample times (e.g. to stretch a trajectory over a scan)."""
        return Trajectory(t_s, self._params)
