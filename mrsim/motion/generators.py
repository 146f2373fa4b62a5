"""Synthetic head-motion trajectories, deterministic for a seed.

Three kinds, each imitating the motion used by one of the seed papers:

* :func:`realistic` -- continuous motion with slow drift, a respiration-like oscillation,
  nodding about a pivot at the back of the head (rx with the coupled ty/tz it implies) and
  sudden jerks that partly relax back; scaled to a target magnitude.
* :func:`event_profile` -- seed 002: 2 or 3 motion events at random onsets, each a step of
  all six parameters to a new pose within +-5 mm / +-5 deg.
* :func:`pace_like` -- seed 001: N = 128 points of slow, PACE-like in-vivo motion, all below
  2 mm / 2 deg, then multiplied by 8 (the rotation vector is scaled, not the Euler angles).

All take ``seed`` (anything :func:`numpy.random.default_rng` accepts) and return a
:class:`~mrsim.motion.trajectory.Trajectory`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import brentq
from scipy.spatial.transform import Rotation

from mrsim.motion.rigid import euler_from_matrix, rms_deviation, rotation_matrix
from mrsim.motion.trajectory import Trajectory

__all__ = ["realistic", "event_profile", "pace_like", "GENERATORS", "MPRAGE_DURATION_S"]

#: Default scan duration for :func:`pace_like`: 176 MP-RAGE shots x 2.3 s.
MPRAGE_DURATION_S = 404.8  # = 176 x 2.3 s, written out to avoid 404.79999999999995

# Radius (mm) of the ball whose RMS displacement defines ``realistic``'s magnitude; FSL's 80 mm.
_MAGNITUDE_RADIUS_MM = 80.0


def _check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def _brownian(rng: np.random.Generator, n: int, smooth_samples: float) -> np.ndarray:
    """(n, 6) smoothed random walks, each scaled to max |.| = 1 (0 if flat)."""
    w = np.cumsum(rng.normal(size=(n, 6)), axis=0)
    if smooth_samples > 0 and n > 1:
        w = gaussian_filter1d(w, smooth_samples, axis=0, mode="nearest")
    w -= w[0]
    peak = np.abs(w).max(axis=0)
    return w / np.where(peak > 0, peak, 1.0)


def _jerks(
    rng: np.random.Generator,
    t: np.ndarray,
    rate_per_min: float,
    tau_s: tuple[float, float],
    amplitude: np.ndarray,
) -> np.ndarray:
    """Sudden steps at Poisson onsets, each relaxing exponentially to a residual fraction."""
    out = np.zeros((t.size, 6))
    duration = t[-1] - t[0]
    k = rng.poisson(rate_per_min * duration / 60.0) if duration > 0 else 0
    for _ in range(k):
        onset = rng.uniform(t[0], t[-1])
        step = rng.normal(size=6) * amplitude
        tau = rng.uniform(*tau_s)
        residual = rng.uniform(0.0, 0.5)
        dt = t - onset
        shape = np.where(
            dt >= 0, residual + (1 - residual) * np.exp(-np.clip(dt, 0, None) / tau), 0
        )
        out += shape[:, None] * step
    return out


def realistic(
    n: int = 256,
    tr_s: float = 2.0,
    magnitude_mm: float = 1.0,
    *,
    drift: float = 1.0,
    respiration: float = 0.15,
    respiration_hz: float = 0.28,
    nodding: float = 1.0,
    nod_rate_per_min: float = 1.0,
    jerk: float = 1.0,
    jerk_rate_per_min: float = 0.5,
    jerk_style: str = "nod",
    jerk_isotropy: float = 0.3,
    jitter: float = 0.03,
    pivot_mm: Sequence[float] = (0.0, -90.0, -30.0),
    seed: int | np.random.Generator | None = None,
) -> Trajectory:
    """Continuous, realistic-looking head motion scaled to a target magnitude.

    The motion is the sum of (weights are relative; the whole is scaled at the end):

    * drift: smoothed random walks (Gaussian smoothing over ~20 s) in all six parameters,
      each with peak ``drift * U(0.2, 1)`` (mm or deg);
    * respiration: a sinusoid at ``respiration_hz`` (random phase, +-10 % frequency) in
      tz (amplitude ``respiration``), ty and rx (half of it);
    * nodding: Poisson episodes (``nod_rate_per_min``) of raised-cosine bumps of 2-8 s in
      rx with peak ``nodding * U(0.5, 1)`` deg, about a pivot at ``pivot_mm`` (relative to the
      FOV centre, RAS), so each nod carries the translation ``(I - R_x) p`` it implies;
    * jerks: Poisson onsets (``jerk_rate_per_min``) of a step relaxing exponentially
      (tau 1-10 s) to a random 0-50 % residual. ``jerk_style="nod"`` (default): the step is
      mostly a pitch (rx, ``jerk * N(0, 1)`` deg) about the same pivot, carrying its
      ``(I - R_x) p`` translation like the nods, plus ``jerk_isotropy * jerk * N(0, 1)`` in the
      other five parameters; large head movements are nods (pitch with y/z translation,
      Frew et al. 2022, docs/motion.md section 7). ``"isotropic"``: ``jerk * N(0, 1)`` in all
      six parameters, no pivot (the generator before that comparison).

    * jitter: independent Gaussian frame-to-frame noise, ``jitter * N(0, 1)`` in all six
      parameters per sample (micro-motion plus the realignment noise every measured trace
      carries; without it the non-dominant parameters tx, ry, rz moved 10x less per frame than
      in the offline real traces, docs/motion.md section 7).

    The sum is multiplied by the factor that makes the largest RMS displacement of an 80 mm
    ball (:func:`~mrsim.motion.magnitude.rms_displacement_sphere`) equal ``magnitude_mm``.

    Parameters
    ----------
    n : int
        Number of samples.
    tr_s : float
        Sampling interval (s); samples at ``0, tr_s, ..., (n - 1) tr_s``.
    magnitude_mm : float
        Target maximum RMS displacement over an 80 mm ball (mm); 0 gives no motion.
    drift, respiration, nodding, jerk : float
        Relative weights of the components (>= 0).
    respiration_hz, nod_rate_per_min, jerk_rate_per_min : float
        Component rates.
    jerk_style : {"nod", "isotropic"}
        Shape of the jerks (see above).
    jerk_isotropy : float
        ``"nod"`` jerks: weight of the five non-pitch parameters relative to the pitch.
    jitter : float
        Weight of the frame-to-frame noise (0 for the smooth generator of before the
        retune).
    pivot_mm : sequence of 3 floats
        Nodding pivot relative to the FOV centre (mm, RAS). Default: 90 mm behind and 30 mm
        below it, where the supine head rests on the coil, so a nod moves the brain mostly in
        z (about 3x more than in y, the ratio of the published per-axis motion in docs/motion.md
        section 7; it was ``(0, -30, -90)``, a neck pivot giving 2x more y than z).
    seed : int or Generator, optional

    Returns
    -------
    Trajectory
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _check_positive("tr_s", tr_s)
    _check_positive("magnitude_mm", magnitude_mm, allow_zero=True)
    for name, v in [
        ("drift", drift),
        ("respiration", respiration),
        ("nodding", nodding),
        ("jerk", jerk),
        ("jitter", jitter),
        ("nod_rate_per_min", nod_rate_per_min),
        ("jerk_rate_per_min", jerk_rate_per_min),
        ("respiration_hz", respiration_hz),
    ]:
        _check_positive(name, v, allow_zero=True)
    if jerk_style not in ("nod", "isotropic"):
        raise ValueError(f"jerk_style must be 'nod' or 'isotropic', got {jerk_style!r}")
    _check_positive("jerk_isotropy", jerk_isotropy, allow_zero=True)
    rng = np.random.default_rng(seed)
    t = np.arange(n) * float(tr_s)
    p = np.asarray(pivot_mm, dtype=float)
    if p.shape != (3,):
        raise ValueError(f"pivot_mm must have 3 elements, got {pivot_mm!r}")

    base = _brownian(rng, n, smooth_samples=20.0 / tr_s) * (drift * rng.uniform(0.2, 1.0, 6))
    f = respiration_hz * (1 + 0.1 * rng.normal())
    resp = np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    base[:, 2] += respiration * resp
    base[:, 1] += 0.5 * respiration * resp
    base[:, 3] += 0.5 * respiration * resp
    if jerk_style == "isotropic":
        base += _jerks(rng, t, jerk_rate_per_min, (1.0, 10.0), jerk * np.ones(6))
        jerk_pitch = np.zeros(n)
    else:
        w = jerk * np.array([jerk_isotropy] * 3 + [1.0] + [jerk_isotropy] * 2)
        j = _jerks(rng, t, jerk_rate_per_min, (1.0, 10.0), w)
        jerk_pitch = j[:, 3].copy()  # coupled to the pivot below, like the nods
        j[:, 3] = 0.0
        base += j
    nod = np.zeros(n)
    for _ in range(rng.poisson(nod_rate_per_min * t[-1] / 60.0) if n > 1 else 0):
        onset, width = rng.uniform(t[0], t[-1]), rng.uniform(2.0, 8.0)
        x = (t - onset) / width
        bump = np.where((x >= 0) & (x <= 1), 0.5 * (1 - np.cos(2 * np.pi * x)), 0.0)
        nod += nodding * rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0]) * bump
    nod += jerk_pitch
    # drawn last so the other components stay the same random draws with or without it
    if jitter > 0:
        base += jitter * rng.normal(size=(n, 6))

    def build(a: float) -> np.ndarray:
        params = a * base
        params[:, 3] += a * nod
        # a rotation by the nod about the pivot p: r -> R (r - p) + p = R r + (I - R) p
        Rn = rotation_matrix(np.stack([a * nod, 0 * nod, 0 * nod], axis=1))
        params[:, :3] += p - Rn @ p
        return params

    def peak(a: float) -> float:
        return float(
            rms_deviation(
                Trajectory(t, build(a)).to_affines(), radius_mm=_MAGNITUDE_RADIUS_MM
            ).max()
        )

    if magnitude_mm == 0:
        return Trajectory.identity(t)
    if peak(1.0) == 0:
        raise ValueError("all motion components are zero; cannot reach magnitude_mm > 0")
    hi = 1.0
    while peak(hi) < magnitude_mm:
        hi *= 2.0
        if hi > 1e6:
            raise ValueError(f"magnitude_mm = {magnitude_mm} cannot be reached")
    a = brentq(lambda a: peak(a) - magnitude_mm, 0.0, hi, xtol=1e-12, rtol=1e-12)
    return Trajectory(t, build(a))


def event_profile(
    duration_s: float = 300.0,
    n: int = 300,
    n_events: int | None = None,
    max_mm: float = 5.0,
    max_deg: float = 5.0,
    *,
    ramp_s: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> Trajectory:
    """Seed 002 event profile: a still head with 2-3 sudden motion events.

    The head starts at the identity pose. At each of ``n_events`` onsets, drawn uniformly in
    ``[0.05, 0.95] * duration_s`` (redrawn if two fall between the same two samples), it
    moves to a new pose whose six parameters are drawn uniformly in ``[-max_mm, max_mm]``
    (translations) and ``[-max_deg, max_deg]`` (rotations) and stays there until the next
    event. Every sample is therefore within these bounds.

    Parameters
    ----------
    duration_s : float
        Scan duration; samples at ``linspace(0, duration_s, n)``.
    n : int
        Number of samples (>= 2).
    n_events : int, optional
        Number of events; by default 2 or 3 with equal probability (seed 002).
    max_mm, max_deg : float
        Bounds of each pose (seed 002: 5 mm and 5 deg).
    ramp_s : float
        Duration of a linear transition into each new pose (0: instantaneous step). Poses
        during a ramp are convex combinations of in-bound poses, so the bounds still hold.
    seed : int or Generator, optional

    Returns
    -------
    Trajectory

    References
    ----------
    .. [1] Seed 002, section 3.2 ("each motion profile contains 2 or 3 events ... defined by
       the number of events, time of onset of each event, and magnitude of the 6 rigid-body
       motion parameters"; range +-5 mm and +-5 deg).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    _check_positive("duration_s", duration_s)
    _check_positive("max_mm", max_mm, allow_zero=True)
    _check_positive("max_deg", max_deg, allow_zero=True)
    _check_positive("ramp_s", ramp_s, allow_zero=True)
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4)) if n_events is None else int(n_events)
    if k < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")
    t = np.linspace(0.0, float(duration_s), n)
    for _ in range(1000):
        onsets = np.sort(rng.uniform(0.05, 0.95, k)) * duration_s
        # Two onsets between the same pair of samples would merge into one visible event:
        # redraw (rare; the draws of other seeds are unchanged).
        if np.unique(np.searchsorted(t, onsets)).size == k:
            break
    else:
        raise ValueError(f"cannot place {k} events on distinct samples of {n}")
    bounds = np.array([max_mm] * 3 + [max_deg] * 3)
    params = np.zeros((n, 6))
    for onset in onsets:
        target = rng.uniform(-1.0, 1.0, 6) * bounds
        if ramp_s > 0:
            w = np.clip((t - onset) / ramp_s, 0.0, 1.0)
        else:
            w = (t >= onset).astype(float)
        params = (1 - w)[:, None] * params + w[:, None] * target
    return Trajectory(t, params)


def pace_like(
    n: int = 128,
    limit_mm: float = 2.0,
    limit_deg: float = 2.0,
    scale: float = 8.0,
    duration_s: float = MPRAGE_DURATION_S,
    *,
    seed: int | np.random.Generator | None = None,
) -> Trajectory:
    """Seed 001 style trajectory: N points of PACE-like head motion below 2 mm / 2 deg, x8.

    Seed 001 used 78 trajectories of 128 points synthesised from in-vivo head movements
    measured with PACE (all < 2 mm / 2 deg, 6 DOF) and multiplied by eight. Without the
    in-vivo traces, mrsim synthesises similar motion: slow smoothed random walks (drift) in all
    six parameters plus a Poisson number (mean U(0, 2.5)) of sudden jerks with partial
    relaxation. A per-trajectory level
    ``f ~ U(0.1, 1)`` spreads the magnitudes over the allowed range, and the translations and
    the rotation vector (deg) are scaled so that their largest component is ``f`` times the
    limit (times 0.999). The result is then scaled by ``scale`` with
    :meth:`Trajectory.scale` (translations and rotation vector).

    Bounds (tested): before scaling every ``|t_k| < limit_mm`` and every Euler angle
    ``|r_k| < limit_deg``; after scaling every ``|t_k| < scale * limit_mm`` and every
    rotation-vector component ``< scale * limit_deg`` (so the total rotation angle is
    ``< sqrt(3) * scale * limit_deg``).

    Parameters
    ----------
    n : int
        Number of points (seed 001: 128).
    limit_mm, limit_deg : float
        Bounds before scaling (seed 001: 2 mm, 2 deg).
    scale : float
        Final multiplication factor (seed 001: 8).
    duration_s : float
        Time span of the points: ``linspace(0, duration_s, n)``. Default 176 x 2.3 s, one
        MP-RAGE volume of 176 shots.
    seed : int or Generator, optional

    Returns
    -------
    Trajectory
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    _check_positive("limit_mm", limit_mm)
    _check_positive("limit_deg", limit_deg)
    _check_positive("scale", scale, allow_zero=True)
    _check_positive("duration_s", duration_s)
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, float(duration_s), n)
    s = _brownian(rng, n, smooth_samples=n / 40.0) * rng.uniform(0.2, 1.0, 6)
    s += _jerks(
        rng,
        t,
        rate_per_min=60.0 * rng.uniform(0, 2.5) / duration_s,
        tau_s=(0.02 * duration_s, 0.1 * duration_s),
        amplitude=0.5 * np.ones(6),
    )
    level = rng.uniform(0.1, 1.0)
    trans = s[:, :3] * (0.999 * level * limit_mm / max(np.abs(s[:, :3]).max(), 1e-12))
    rotvec_deg = s[:, 3:] * (0.999 * level * limit_deg / max(np.abs(s[:, 3:]).max(), 1e-12))
    euler = euler_from_matrix(Rotation.from_rotvec(np.deg2rad(rotvec_deg)).as_matrix())
    # Euler angles and rotation-vector components differ at second order; shrink in the rare
    # case that this pushes an Euler angle over the limit.
    while np.abs(euler).max() >= limit_deg:
        rotvec_deg *= 0.999 * limit_deg / np.abs(euler).max()
        euler = euler_from_matrix(Rotation.from_rotvec(np.deg2rad(rotvec_deg)).as_matrix())
    return Trajectory(t, np.concatenate([trans, euler], axis=1)).scale(scale)


#: Generator kinds by CLI name.
GENERATORS: dict[str, Callable[..., Trajectory]] = {
    "realistic": realistic,
    "events": event_profile,
    "pace": pace_like,
}
