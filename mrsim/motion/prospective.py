"""Prospective motion correction: the scanner follows the head with a delayed estimate.

In prospective correction (navigators, optical tracking; seed 000's application) the
scanner re-positions its imaging frame between readouts using the head pose an
*estimator* reports. The estimate for an update at time ``u`` can only use tracking
measurements taken up to ``u - L`` (latency ``L``: measurement, processing and the
sequence update) and carries the tracker's noise. Every line is then acquired with the
head at its true pose ``A(t)`` seen from a frame moved by the applied pose ``P(u)``.

**Residual pose.** Poses are rigid maps ``r -> R (r - c) + c + t`` about the FOV centre
``c`` (``docs/motion.md``); in coordinates relative to ``c`` they are the 4x4 matrices
``A = [[R, t], [0, 1]]``. The object point ``r0`` (reference pose) is at ``A r0`` in the
world. The scanner's frame moved by ``P`` puts its grid point ``x`` at world point
``P x``, so it samples the object at ``P x = A r0``, i.e. ``x = P^-1 A r0``: the engine
sees the object moved by the residual

    E = P^-1 A          (R_E = R_P^T R_A,  t_E = R_P^T (t_A - t_P))

which is the identity when the estimate is exact (``P = A``). In scipy's notation
(``r1 * r2`` applies ``r2`` first) ``R_E = (P.inv() * A).as_matrix()``; a test checks it.
To first order in the angles ``P^-1 A`` and ``A P^-1`` agree (both give the parameter
difference ``a - p``); they differ at second order when the rotations do not commute, and
``P^-1 A`` is the one the sampling geometry gives.

**Estimators** (``estimator=``), each giving ``P`` at the update times ``u_k``:

* ``none``: ``P = I`` (no prospective correction; the residual is the motion itself).
* ``persistence``: the last measurement, ``P(u) = N A(u - L)`` with ``N`` the tracking
  noise (a rigid pose with Gaussian parameters, std ``tracking_noise_mm`` /
  ``tracking_noise_deg``), drawn afresh per measurement.
* ``kalman``: a constant-velocity Kalman filter per parameter (white-noise acceleration
  of spectral density ``q``, measurement variance ``sigma_noise^2 + r^2``) fed the measurements
  ``N A(u_j - L)``, ``j <= k``, and extrapolated over the latency to ``u_k``: the filter
  tries to compensate the delay by predicting.
* ``file``: a precomputed pose trajectory (for example the recentre GRU's predictions,
  ``python -m correctors.recentre predict``), read as "the pose the estimator reports for
  time ``t``", applied ``L`` later: ``P(u) = F(u - L)``. A predictor that already looks one
  step ahead covers its own horizon, so ``L`` is then the latency beyond that horizon.

Before the first measurement is available (``u - L`` earlier than the trajectory's first
sample) the frame stays at the identity.

References
----------
Seed 000: Annovi A. et al., *Real-Time Motion Correction in Magnetic Resonance Spectroscopy:
AI solution inspired by fundamental science* (predicting the next pose to steer the voxel).
Maclaren J. et al. (2013) *Prospective motion correction in brain imaging: a review*,
Magn Reson Med 69:621-636 (frame updates, latency, tracking noise).
Tisdall M.D. et al. (2012) *Volumetric navigators for prospective motion correction and
selective reacquisition in neuroanatomical MRI*, Magn Reson Med 68:389-399 (one update
per MP-RAGE shot).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from mrsim.errors import MrsimInputError
from mrsim.motion.rigid import affine_to_params, invert_affine, params_to_affine, rotation_matrix
from mrsim.motion.trajectory import Trajectory

__all__ = [
    "ESTIMATORS",
    "ProspectiveSettings",
    "ProspectiveResult",
    "update_times",
    "measured_poses",
    "applied_poses",
    "residual_poses",
    "prospective_line_poses",
    "read_pose_file",
]

#: Estimators of :func:`applied_poses`.
ESTIMATORS = ("none", "persistence", "kalman", "file")

#: Largest plausible head pose in a pose file; anything beyond means wrong units (a file
#: in degrees read as radians is 57x too large), not head motion.
MAX_PLAUSIBLE_MM = 100.0
MAX_PLAUSIBLE_DEG = 90.0


@dataclass(frozen=True)
class ProspectiveSettings:
    """How the scanner follows the head (see the module docstring).

    Attributes
    ----------
    estimator : {"none", "persistence", "kalman", "file"}
    latency_s : float
        Delay ``L`` (s) between a measurement and the frame update that uses it, >= 0.
    tracking_noise_mm, tracking_noise_deg : float
        Std of the tracking noise per translation (mm) / rotation (deg) parameter, >= 0.
    update : {"shot", "line"}
        Frame updates once per shot (at its first line, e.g. MP-RAGE navigators) or
        before every line.
    kalman_q_mm, kalman_q_deg : float
        Kalman white-noise acceleration spectral density, mm^2/s^3 and deg^2/s^3.
    kalman_r_mm, kalman_r_deg : float
        Measurement std the filter assumes on top of the tracking noise (mm, deg): the part
        of the motion a constant-velocity model cannot follow (respiration, jerks). The
        defaults (q = 1e-4, r = 0.3) minimised the mean residual displacement at one-shot
        latency on 8 realistic trajectories with seeds disjoint from the benchmark's
        (docs/motion.md, section 7); a noise-free filter (r -> 0) just differentiates the
        measurements and extrapolates their jitter.
    measurement_interval_s : float, optional
        Tracker sampling interval (s): measurements every ``dt`` from the start of the
        trajectory, each update using the newest one at or before ``u - L``. ``None``
        (default): one measurement per update, taken exactly at ``u - L``.
    seed : int, optional
        Seed of the tracking noise.
    """

    estimator: str = "persistence"
    latency_s: float = 0.0
    tracking_noise_mm: float = 0.0
    tracking_noise_deg: float = 0.0
    update: str = "shot"
    kalman_q_mm: float = 1e-4
    kalman_q_deg: float = 1e-4
    kalman_r_mm: float = 0.3
    kalman_r_deg: float = 0.3
    measurement_interval_s: float | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise MrsimInputError(f"estimator must be one of {ESTIMATORS}, got {self.estimator!r}")
        if not np.isfinite(self.latency_s) or self.latency_s < 0:
            raise MrsimInputError(f"latency_s must be a finite number >= 0, got {self.latency_s}")
        for name in (
            "tracking_noise_mm",
            "tracking_noise_deg",
            "kalman_q_mm",
            "kalman_q_deg",
            "kalman_r_mm",
            "kalman_r_deg",
        ):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise MrsimInputError(f"{name} must be a finite number >= 0, got {v}")
        dt = self.measurement_interval_s
        if dt is not None and (not np.isfinite(dt) or dt <= 0):
            raise MrsimInputError(f"measurement_interval_s must be > 0 s or None, got {dt}")
        if self.update not in ("shot", "line"):
            raise MrsimInputError(f"update must be 'shot' or 'line', got {self.update!r}")
        if self.estimator == "file" and (self.tracking_noise_mm or self.tracking_noise_deg):
            raise MrsimInputError(
                "tracking noise applies to measurements; a pose file is the estimator's "
                "output and already holds its errors (use tracking noise 0 with estimator 'file')"
            )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ProspectiveResult:
    """Per-line residual motion of a prospectively corrected scan.

    Attributes
    ----------
    residual_params : ndarray, shape (L, 6)
        ``E = P^-1 A`` per line, ``tx_mm ... rz_deg``, in the schedule's line order.
    rotations : ndarray, shape (L, 3, 3)
    translations_mm : ndarray, shape (L, 3)
        The same poses as the engine's per-line arrays
        (:func:`mrsim.kspace.corrupt.moved_kspace` ``rotations, translations_mm``).
    true_params : ndarray, shape (L, 6)
        ``A`` at each line's time.
    update_times_s : ndarray, shape (U,)
    applied_params : ndarray, shape (U, 6)
        ``P`` at each update.
    update_of_line : ndarray of int, shape (L,)
    settings : ProspectiveSettings
    """

    residual_params: np.ndarray
    rotations: np.ndarray
    translations_mm: np.ndarray
    true_params: np.ndarray
    update_times_s: np.ndarray
    applied_params: np.ndarray
    update_of_line: np.ndarray
    line_times_s: np.ndarray
    settings: ProspectiveSettings

    def trajectory(self) -> Trajectory:
        """The residual as a :class:`Trajectory` sampled at the line times.

        Pass it to :func:`mrsim.kspace.corrupt.corrupt` with ``method="nearest"`` (and the
        same schedule): each line then gets exactly its residual pose.
        """
        order = np.argsort(self.line_times_s, kind="stable")
        t = self.line_times_s[order]
        if np.any(np.diff(t) <= 0):
            raise MrsimInputError(
                "two lines share an acquisition time; use the per-line arrays "
                "(rotations, translations_mm) with moved_kspace instead of a Trajectory"
            )
        return Trajectory(t, self.residual_params[order])


def update_times(
    line_times_s: ArrayLike, shot: ArrayLike | None = None, update: str = "shot"
) -> tuple[np.ndarray, np.ndarray]:
    """Frame-update times and the update each line is acquired under.

    Parameters
    ----------
    line_times_s : array_like, shape (L,)
        Acquisition time of every line (s), e.g. ``Schedule.time_s``.
    shot : array_like of int, shape (L,), optional
        Shot index of every line (``Schedule.shot``); needed for ``update="shot"``.
    update : {"shot", "line"}
        ``shot``: one update per shot at the time of its first line. ``line``: one per line.

    Returns
    -------
    t_update_s : ndarray, shape (U,)
    update_of_line : ndarray of int, shape (L,)
    """
    t = np.asarray(line_times_s, dtype=float)
    if t.ndim != 1 or len(t) == 0 or not np.all(np.isfinite(t)):
        raise MrsimInputError(f"line_times_s must be a non-empty 1-D finite array, got {t.shape}")
    if update == "line":
        return t.copy(), np.arange(len(t))
    if update != "shot":
        raise MrsimInputError(f"update must be 'shot' or 'line', got {update!r}")
    if shot is None:
        raise MrsimInputError("update='shot' needs the shot index of every line")
    s = np.asarray(shot)
    if s.shape != t.shape:
        raise MrsimInputError(f"shot must have the shape of line_times_s {t.shape}, got {s.shape}")
    shots, inv = np.unique(s, return_inverse=True)
    t_up = np.full(len(shots), np.inf)
    np.minimum.at(t_up, inv, t)
    return t_up, inv


def _compose_params(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Parameters of ``left @ right`` (both (..., 6), centre-relative)."""
    return affine_to_params(params_to_affine(left) @ params_to_affine(right))


def residual_poses(true_params: ArrayLike, applied_params: ArrayLike) -> np.ndarray:
    """``E = P^-1 A``: the motion the engine sees under frame ``P`` (module docstring).

    Parameters
    ----------
    true_params, applied_params : array_like, shape (..., 6)
        ``A`` and ``P`` (mm, deg).

    Returns
    -------
    ndarray, shape (..., 6)
    """
    A = params_to_affine(np.asarray(true_params, dtype=float))
    P = params_to_affine(np.asarray(applied_params, dtype=float))
    return affine_to_params(invert_affine(P) @ A)


def measured_poses(
    true: Trajectory,
    t_s: ArrayLike,
    tracking_noise_mm: float = 0.0,
    tracking_noise_deg: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Tracker measurements ``N A(t)`` (mm, deg), shape (M, 6).

    ``N`` is a rigid pose with independent Gaussian parameters (std ``tracking_noise_mm``
    per translation, ``tracking_noise_deg`` per Euler angle), one per measurement, applied
    in the world frame after the head pose.
    """
    p = true.sample(np.asarray(t_s, dtype=float))
    if tracking_noise_mm == 0 and tracking_noise_deg == 0:
        return p
    rng = np.random.default_rng() if rng is None else rng
    sd = np.array([tracking_noise_mm] * 3 + [tracking_noise_deg] * 3)
    noise = rng.standard_normal(p.shape) * sd
    return _compose_params(noise, p)


def _kalman_cv(
    t_meas: np.ndarray, z: np.ndarray, q: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Constant-velocity Kalman filter per column: filtered position and velocity after
    each measurement, shapes (M, d).

    State ``(x, v)``; ``F = [[1, dt], [0, 1]]``, ``Q = q [[dt^3/3, dt^2/2], [dt^2/2, dt]]``
    (white-noise acceleration), measurement ``x`` with variance ``r``. Starts at the first
    measurement with zero velocity (velocity variance ``(1 unit/s)^2``, uninformative at
    head-motion speeds).
    """
    n, d = z.shape
    xs, vs = np.empty_like(z), np.empty_like(z)
    x = z[0].copy()
    v = np.zeros(d)
    P00, P01, P11 = r.copy(), np.zeros(d), np.ones(d)
    for k in range(n):
        if k > 0:
            dt = t_meas[k] - t_meas[k - 1]
            x = x + v * dt
            P00 = P00 + 2 * dt * P01 + dt * dt * P11 + q * dt**3 / 3
            P01 = P01 + dt * P11 + q * dt**2 / 2
            P11 = P11 + q * dt
            s = P00 + r
            k0, k1 = P00 / s, P01 / s
            innov = z[k] - x
            x = x + k0 * innov
            v = v + k1 * innov
            P00, P01, P11 = (1 - k0) * P00, (1 - k0) * P01, P11 - k1 * P01
        xs[k], vs[k] = x, v
    return xs, vs


def _measurement_plan(
    true: Trajectory, tm: np.ndarray, interval_s: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Measurement times and, per update, the index of the newest usable one.

    ``interval_s=None``: one measurement per update, taken exactly at ``u - L``. Otherwise a
    tracker sampling every ``interval_s`` from the trajectory's start; update ``k`` uses the
    last sample at or before ``u_k - L``.
    """
    if interval_s is None:
        return tm.copy(), np.arange(len(tm))
    t0 = float(true.t_s[0])
    last = int(np.floor((tm.max() - t0) / interval_s + 1e-9))
    m = t0 + interval_s * np.arange(last + 1)
    idx = np.floor((tm - t0) / interval_s + 1e-9).astype(int)
    return m, idx


def applied_poses(
    true: Trajectory,
    t_update_s: ArrayLike,
    settings: ProspectiveSettings | None = None,
    pose_file: Trajectory | None = None,
    pose_file_name: str = "pose file",
) -> np.ndarray:
    """The frame pose ``P`` the scanner applies at each update (mm, deg), shape (U, 6).

    Parameters
    ----------
    true : Trajectory
        True head motion (scan seconds).
    t_update_s : array_like, shape (U,)
        Update times (:func:`update_times`), increasing.
    settings : ProspectiveSettings
    pose_file : Trajectory, optional
        Estimator ``file`` only: the reported poses (:func:`read_pose_file`). Without a
        measurement interval, ``P(u) = F(u - L)``. With ``measurement_interval_s = dt`` the
        file is read as one-step-ahead predictions on the tracker's grid (its sample at
        ``t_j + dt`` made from the measurements up to ``t_j``, as ``correctors.recentre
        predict`` writes them), so ``P(u) = F(t_j + dt)`` with ``t_j`` the newest measurement
        at or before ``u - L``. The file must cover every time it is read at.
    pose_file_name : str
        Name used in error messages.

    Returns
    -------
    ndarray, shape (U, 6)
    """
    s = settings or ProspectiveSettings()
    u = np.asarray(t_update_s, dtype=float)
    out = np.zeros((len(u), 6))
    if s.estimator == "none":
        return out
    tm = u - s.latency_s
    have = tm >= true.t_s[0] - 1e-9  # a measurement exists (otherwise: identity frame)
    if not np.any(have):
        return out
    m, idx = _measurement_plan(true, tm[have], s.measurement_interval_s)
    if s.estimator == "file":
        if pose_file is None:
            raise MrsimInputError("estimator 'file' needs a pose file (--applied-poses)")
        dt = s.measurement_interval_s
        t_read = tm[have] if dt is None else m[idx] + dt
        need0, need1 = float(t_read.min()), float(t_read.max())
        f0, f1 = float(pose_file.t_s[0]), float(pose_file.t_s[-1])
        tol = 1e-6 * max(1.0, abs(need1))
        if f0 > need0 + tol or f1 < need1 - tol:
            raise MrsimInputError(
                f"{pose_file_name}: covers [{f0:g}, {f1:g}] s but the frame updates need the "
                f"poses for [{need0:g}, {need1:g}] s (update times minus latency "
                f"{s.latency_s:g} s); the file is shorter than the scan"
            )
        out[have] = pose_file.sample(t_read)
        return out
    if pose_file is not None:
        raise MrsimInputError(
            f"a pose file is only used with estimator 'file', not {s.estimator!r}"
        )
    rng = np.random.default_rng(s.seed)
    z = measured_poses(true, m, s.tracking_noise_mm, s.tracking_noise_deg, rng)
    if s.estimator == "persistence":
        out[have] = z[idx]
        return out
    # kalman: filter every measurement, extrapolate the newest usable state to the update
    noise = np.array([s.tracking_noise_mm] * 3 + [s.tracking_noise_deg] * 3)
    model = np.array([s.kalman_r_mm] * 3 + [s.kalman_r_deg] * 3)
    r = noise**2 + model**2 + 1e-12
    q = np.array([s.kalman_q_mm] * 3 + [s.kalman_q_deg] * 3)
    xs, vs = _kalman_cv(m, z, q, r)
    out[have] = xs[idx] + vs[idx] * (u[have] - m[idx])[:, None]
    return out


def prospective_line_poses(
    true: Trajectory,
    line_times_s: ArrayLike,
    shot: ArrayLike | None = None,
    settings: ProspectiveSettings | None = None,
    pose_file: Trajectory | None = None,
    pose_file_name: str = "pose file",
) -> ProspectiveResult:
    """Residual pose of every line under prospective correction.

    Parameters
    ----------
    true : Trajectory
        True head motion; must cover the lines' times (scan seconds).
    line_times_s : array_like, shape (L,)
        ``Schedule.time_s``.
    shot : array_like of int, shape (L,), optional
        ``Schedule.shot`` (needed for ``settings.update == "shot"``).
    settings : ProspectiveSettings, optional
    pose_file, pose_file_name
        See :func:`applied_poses`.

    Returns
    -------
    ProspectiveResult

    Examples
    --------
    >>> from mrsim.kspace.schedule import mprage_schedule  # doctest: +SKIP
    >>> sch = mprage_schedule((64, 64, 64))  # doctest: +SKIP
    >>> res = prospective_line_poses(traj, sch.time_s, sch.shot,
    ...     ProspectiveSettings("persistence", latency_s=2.3))  # doctest: +SKIP
    >>> corrupt(image, res.trajectory(), sch, method="nearest")  # doctest: +SKIP
    """
    s = settings or ProspectiveSettings()
    t = np.asarray(line_times_s, dtype=float)
    tol = 1e-9 * max(1.0, float(np.abs(t).max(initial=0.0)))
    if true.t_s[0] > t.min() + tol or true.t_s[-1] < t.max() - tol:
        raise MrsimInputError(
            f"true trajectory covers [{true.t_s[0]:g}, {true.t_s[-1]:g}] s but the lines span "
            f"[{t.min():g}, {t.max():g}] s"
        )
    t_up, of_line = update_times(t, shot, s.update)
    P = applied_poses(true, t_up, s, pose_file, pose_file_name)
    A = true.sample(t)
    E = residual_poses(A, P[of_line])
    return ProspectiveResult(
        residual_params=E,
        rotations=rotation_matrix(E[:, 3:]),
        translations_mm=E[:, :3].copy(),
        true_params=A,
        update_times_s=t_up,
        applied_params=P,
        update_of_line=of_line,
        line_times_s=t,
        settings=s,
    )


def read_pose_file(
    path, format: str | None = None, tr_s: float | None = None, what: str = "pose file"
) -> Trajectory:
    """Read an applied/predicted pose file and check that its values look like head poses.

    Any format of :func:`mrsim.motion.formats.read_trajectory`. Besides that reader's checks
    (units named in an mrsim CSV header, finite numbers, increasing times), poses beyond
    ``MAX_PLAUSIBLE_MM`` / ``MAX_PLAUSIBLE_DEG`` are refused as wrong units.

    Raises
    ------
    MrsimInputError
    """
    from mrsim.motion.formats import read_trajectory

    try:
        traj = read_trajectory(path, format=format, tr_s=tr_s)
    except MrsimInputError:
        raise
    except (ValueError, OSError) as exc:
        raise MrsimInputError(f"{what}: {exc}") from None
    p = np.abs(traj.params)
    big_t, big_r = float(p[:, :3].max()), float(p[:, 3:].max())
    if big_t > MAX_PLAUSIBLE_MM or big_r > MAX_PLAUSIBLE_DEG:
        raise MrsimInputError(
            f"{path}: largest |translation| {big_t:.3g} mm, |rotation| {big_r:.3g} deg: not a "
            f"head pose (limits {MAX_PLAUSIBLE_MM:g} mm, {MAX_PLAUSIBLE_DEG:g} deg); check the "
            "units (mrsim CSV headers tx_mm ... rx_deg, FSL/SPM/fMRIPrep rotations in rad)"
        )
    return traj
