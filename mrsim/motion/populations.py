"""Published head-motion populations: run-level mean FD and magnitudes that reproduce it.

The ``realistic`` generator's shape (drift, respiration, nods, jerks, jitter) is fixed by its
defaults; how much a run moves is set per trajectory by ``magnitude_mm``, and the run's mean
Power FD is proportional to it (median 0.14 mm of mean FD per mm of magnitude at the UK
Biobank protocol, 0.085-0.20 over seeds). Published large-cohort numbers therefore constrain
the *distribution of magnitudes*, not the generator's defaults.
:func:`population_magnitudes` and :func:`population_trajectories` give runs whose run-level
mean FD, at that population's protocol (TR, run length), follows the published distribution;
``"ukb+abcd"`` (:data:`DEFAULT_MIXTURE`), the equal mixture of the two cohorts, is the
default training motion of the recentre predictor and of the ``motion_windows`` recipe.

Every number in :data:`POPULATIONS` is Power FD (sum of absolute first differences,
rotations as arc length on a 50 mm sphere, raw, i.e. without a respiratory notch filter) as
stated by its source; Jenkinson's RMS FD is about half of it (0.53 for generated runs,
docs/motion_realism.md). Sources, with the sentence each number comes from, are in
docs/motion.md section 7.

References
----------
.. [1] P. Sadil and M. A. Lindquist, "The State of Motion: Demographic and representational
   consequences of motion-based exclusion in fMRI", manuscript (github.com/psadil/
   motion_fmri_survey, index.qmd), Results: UK Biobank 500-participant subset, "average
   motion: 0.20 mm, standard deviation: 0.09"; ABCD, "excluding participants with average
   motion above 0.2 mm eliminated roughly half of the sample", "a stricter 0.1 mm cutoff
   retained only 7 % of participants"; UKB and HCP-YA average FD "typically below 0.15 mm".
.. [2] J. D. Power et al., "Spurious but systematic correlations in functional connectivity
   MRI networks arise from subject motion", NeuroImage 59 (2012) 2142-2154 (FD definition).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from mrsim.errors import MrsimInputError

if TYPE_CHECKING:
    from mrsim.motion.trajectory import Trajectory

#: Published run-level mean FD distributions, with the protocol they were measured at.
#: ``lognormal``: ``(mu, sigma)`` of ln(mean FD / mm), fitted to the published numbers
#: (exact for the two numbers given: mean and SD for UKB, two quantiles for ABCD).
POPULATIONS: dict[str, dict] = {
    "ukb": {
        "dataset": "UK Biobank rest, 45-82 y (500-participant subset)",
        "tr_s": 0.735,
        "n_frames": 490,
        "fd": "Power FD, r = 50 mm, raw",
        "published": {"mean_mm": 0.20, "sd_mm": 0.09},
        "source": "Sadil & Lindquist, The State of Motion (manuscript), Results",
    },
    "abcd": {
        "dataset": "ABCD 5.1, 9-10 y baseline and follow-ups",
        "tr_s": 0.8,
        "n_frames": 375,
        "fd": "Power FD, r = 50 mm, raw",
        "published": {"frac_le_0.2": 0.5, "frac_le_0.1": 0.07},
        "source": "Sadil & Lindquist, The State of Motion (manuscript), Results (cost "
        "analysis: > 0.2 mm excludes about half, <= 0.1 mm keeps 7 %)",
    },
}


def _lognormal(pop: dict) -> tuple[float, float]:
    pub = pop["published"]
    if "mean_mm" in pub:  # moments of a log-normal: mean m, SD s
        s2 = np.log1p((pub["sd_mm"] / pub["mean_mm"]) ** 2)
        return float(np.log(pub["mean_mm"]) - s2 / 2), float(np.sqrt(s2))
    # two quantiles: mean FD q_a at cumulative fraction p_a, q_b at p_b
    (qa, pa), (qb, pb) = ((0.2, pub["frac_le_0.2"]), (0.1, pub["frac_le_0.1"]))
    sigma = (np.log(qa) - np.log(qb)) / (ndtri(pa) - ndtri(pb))
    return float(np.log(qa) - ndtri(pa) * sigma), float(sigma)


for _p in POPULATIONS.values():
    _p["lognormal"] = _lognormal(_p)


#: Mixture the recentre predictor trains on by default (docs/motion.md section 7).
DEFAULT_MIXTURE = "ukb+abcd"

#: Spawn key of the stream that draws the target scores of :func:`population_magnitudes`
#: (:func:`stream_seed`); other tags name other streams of a base seed.
SCORES_TAG = 0x5C02E5

_MAX_SEED = 2**64


def _check_seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise MrsimInputError(f"seed must be an int in [0, 2**64), got {seed!r}")
    if not 0 <= int(seed) < _MAX_SEED:
        raise MrsimInputError(f"seed must be an int in [0, 2**64), got {seed!r}")
    return int(seed)


def run_seed(seed: int, i: int) -> list[int]:
    """Generator seed of run ``i`` drawn from base ``seed``: ``[seed, i]``.

    Pass it to ``realistic(seed=...)`` to regenerate run ``i``'s shape.
    """
    if not 0 <= int(i) < _MAX_SEED:
        raise MrsimInputError(f"run index must be in [0, 2**64), got {i!r}")
    return [_check_seed(seed), int(i)]


def stream_seed(seed: int, tag: int) -> np.random.SeedSequence:
    """A stream of base ``seed`` that is never the shape stream of a run (:func:`run_seed`).

    ``SeedSequence(seed, spawn_key=(tag,))`` with ``tag > 0``. NumPy pads a seed's 32-bit
    words with zeros to its pool size (4 words) before appending the spawn key, so for
    ``seed < 2**64`` the entropy is 5 words ending in ``tag``; the ``[s, i]`` of any run of
    any base seed ``s < 2**64`` (``i < 2**64``) is at most 4 words, which NumPy mixes exactly
    like those words padded with zeros to 4. The entropies differ, so the stream is not any
    run's (short of a collision of NumPy's 128-bit hash pool), for every run index; the bare
    ``[seed, 7]`` used before was run 7's own stream. It is, however, exactly child ``tag``
    of run 0's ``SeedSequence`` (``SeedSequence([seed, 0]).spawn(tag + 1)[tag]`` gives the
    same numbers): nothing in mrsim spawns children of a run's sequence, and nothing may.
    """
    if int(tag) <= 0:
        raise MrsimInputError(f"stream tag must be > 0, got {tag!r}")
    return np.random.SeedSequence(_check_seed(seed), spawn_key=(int(tag),))


def _population(name: str) -> dict:
    if name not in POPULATIONS:
        raise MrsimInputError(f"population must be one of {sorted(POPULATIONS)}, got {name!r}")
    return POPULATIONS[name]


def mixture_component(population: str, i: int) -> str:
    """The population of run ``i`` of ``population`` (a name, or names joined by ``+``).

    A mixture ``"a+b"`` has equal weights and is stratified: run ``i`` belongs to component
    ``i % k``, so every ``k`` consecutive runs hold one of each (the run's length is then
    crossed with it, :func:`run_length`).
    """
    names = str(population).split("+")
    for name in names:
        _population(name)
    return names[int(i) % len(names)]


def target_mean_fd(population: str, z: float, tr_s: float | None = None) -> float:
    """Run-level mean Power FD (mm) of standard-normal score ``z`` in a published population.

    ``exp(mu + sigma z)`` with the log-normal of :data:`POPULATIONS`, times
    ``tr_s / tr_population`` when another TR is given: FD is a per-frame displacement and,
    for the same motion, scales with the TR (for the generator's runs of equal duration,
    0.895 at 0.72 s vs 0.8 s, 300 runs; docs/motion_realism.md).
    """
    pop = _population(population)
    _check_tr(tr_s)
    mu, sigma = pop["lognormal"]
    scale = 1.0 if tr_s is None else float(tr_s) / pop["tr_s"]
    return float(np.exp(mu + sigma * float(z)) * scale)


def _check_tr(tr_s: float | None) -> None:
    if tr_s is not None and not (np.isfinite(tr_s) and tr_s > 0):
        raise MrsimInputError(f"tr_s must be a positive number of seconds, got {tr_s!r}")


def run_length(population: str, i: int, n_frames) -> int:
    """Number of frames of run ``i`` of ``population`` when ``n_frames`` is a sequence.

    Run ``i`` has ``n_frames[(i // k) % L]`` frames (``k`` mixture components, ``L``
    lengths): each block of ``k`` runs, one per component (:func:`mixture_component`),
    shares one length, and the lengths cycle over the blocks, so every ``k * L``
    consecutive runs hold each (component, length) pair once. (``i % L`` would lock the
    two together: with ``k = 2`` and an even ``L`` each component would only get half of
    the lengths.) An int ``n_frames`` is every run's length.
    """
    mixture_component(population, 0)  # a clear error for an unknown population name
    frames = [n_frames] if np.ndim(n_frames) == 0 else list(n_frames)
    if not frames:
        raise MrsimInputError("n_frames must be an int or a non-empty sequence of ints")
    k = len(str(population).split("+"))
    frames_i = int(frames[(int(i) // k) % len(frames)])
    if frames_i < 2:  # FD needs two frames
        raise MrsimInputError(f"n_frames must be >= 2 (FD is frame to frame), got {frames_i}")
    return frames_i


def _protocol(population: str, i: int, tr_s: float | None, n_frames) -> tuple[str, float, int]:
    """(component, TR, frames) of run ``i``."""
    _check_tr(tr_s)
    name = mixture_component(population, i)
    pop = POPULATIONS[name]
    tr = pop["tr_s"] if tr_s is None else float(tr_s)
    if n_frames is None:
        return name, tr, int(pop["n_frames"])
    return name, tr, run_length(population, i, n_frames)


def _unit_fd(n_frames: int, tr_s: float, seed) -> float:
    """Mean Power FD (frames 1..N-1) of the seed's run at ``magnitude_mm = 1``."""
    from mrsim.motion.fd import power_fd
    from mrsim.motion.generators import realistic

    run = realistic(n_frames, tr_s=tr_s, magnitude_mm=1.0, seed=seed)
    return float(power_fd(run)[1:].mean())


def matched_realistic(n_frames: int, tr_s: float, target_fd_mm: float, seed) -> Trajectory:
    """``realistic(n_frames, tr_s=tr_s, seed=seed)`` rescaled to a mean Power FD (mm).

    The generator scales one shape by ``magnitude_mm``, so the run's mean Power FD (frames
    1..N-1, r = 50 mm) is proportional to it: the unit-magnitude run gives the factor.

    Parameters
    ----------
    n_frames : int
    tr_s : float
    target_fd_mm : float
        Run-level mean Power FD to reach (mm, >= 0).
    seed : int or sequence of int
        Generator seed (not a Generator: the same stream is drawn twice).

    Returns
    -------
    Trajectory
        Its mean Power FD equals ``target_fd_mm`` (to the generator's magnitude tolerance).
    """
    from mrsim.motion.generators import realistic

    if isinstance(seed, np.random.Generator):
        raise MrsimInputError("seed must be an int or a sequence of ints, not a Generator")
    if not np.isfinite(target_fd_mm) or target_fd_mm < 0:
        raise MrsimInputError(f"target_fd_mm must be a finite value >= 0, got {target_fd_mm!r}")
    mag = float(target_fd_mm) / _unit_fd(int(n_frames), float(tr_s), seed)
    return realistic(int(n_frames), tr_s=float(tr_s), magnitude_mm=mag, seed=seed)


def population_magnitudes(
    population: str,
    n: int,
    seed: int = 0,
    *,
    tr_s: float | None = None,
    n_frames=None,
) -> np.ndarray:
    """Magnitudes for the seeds ``[seed, i]`` that give a population's mean FD distribution.

    For run ``i`` a target mean FD is drawn from the log-normal fitted to the published
    numbers (:data:`POPULATIONS`); the run's shape, ``realistic(seed=[seed, i])`` with the
    defaults, is generated at the protocol with ``magnitude_mm=1`` and the magnitude
    rescaled so that its mean Power FD equals the target. The generator scales one shape,
    so mean FD is proportional to ``magnitude_mm`` for a seed; the ratio itself varies 2.4x
    between seeds (5-95 %), which is why it is measured per run.

    Parameters
    ----------
    population : str
        ``"ukb"``, ``"abcd"`` or an equal-weight mixture such as ``"ukb+abcd"`` (run ``i``
        belongs to :func:`mixture_component`).
    n : int
        Number of runs.
    seed : int
        Base seed in ``[0, 2**64)``; run ``i`` uses :func:`run_seed` ``[seed, i]`` for its
        shape (pass the same seed to ``realistic``); the standard-normal scores of the
        targets come from ``stream_seed(seed, SCORES_TAG)``, a stream that is no run's.
    tr_s : float, optional
        TR of the runs whose mean FD is matched (default: each run's population's). At
        another TR the target is the published mean FD times ``tr_s / tr_population``
        (:func:`target_mean_fd`).
    n_frames : int or sequence of int, optional
        Their length (default: the population's); a sequence is crossed with the mixture
        components, every (component, length) pair equally often (:func:`run_length`).

    Returns
    -------
    ndarray, shape (n,)
        ``magnitude_mm`` of run ``i``.
    """
    mixture_component(population, 0)  # a clear error for an unknown name, even with n = 0
    if int(n) < 0:
        raise MrsimInputError(f"n must be >= 0, got {n!r}")
    z = np.random.default_rng(stream_seed(seed, SCORES_TAG)).standard_normal(int(n))
    mags = np.empty(int(n))
    for i in range(int(n)):
        name, tr, frames = _protocol(population, i, tr_s, n_frames)
        mags[i] = target_mean_fd(name, z[i], tr) / _unit_fd(frames, tr, run_seed(seed, i))
    return mags


def population_trajectories(
    population: str,
    n: int,
    seed: int = 0,
    *,
    tr_s: float | None = None,
    n_frames=None,
) -> list[Trajectory]:
    """``realistic`` runs whose run-level mean FD follows a published population.

    Run ``i`` is ``realistic(n_frames, tr_s=tr_s, magnitude_mm=m[i], seed=[seed, i])`` with
    ``m = population_magnitudes(population, n, seed, tr_s=tr_s, n_frames=n_frames)``: its
    mean Power FD, at the protocol it is generated with, is the drawn target. At the
    population's own protocol (the default) this is the published distribution; with
    ``tr_s`` / ``n_frames`` (e.g. the recentre predictor's TR 0.72 s) the runs are generated
    and matched there to the published mean FD times ``tr_s / tr_population``: FD is a
    per-frame displacement, and for the generator's motion it scales with the TR (runs of
    equal duration have 0.895 times the mean FD at TR 0.72 s that they have at 0.8 s).

    Parameters
    ----------
    population : str
        ``"ukb"``, ``"abcd"`` or a mixture such as ``"ukb+abcd"``.
    n : int
    seed : int
    tr_s : float, optional
    n_frames : int or sequence of int, optional
        Protocol of the returned runs (default: the population's); a sequence is crossed
        with the mixture components (:func:`run_length`).

    Returns
    -------
    list of Trajectory
    """
    from mrsim.motion.generators import realistic

    mags = population_magnitudes(population, n, seed, tr_s=tr_s, n_frames=n_frames)
    out = []
    for i, m in enumerate(mags):
        _, tr, frames = _protocol(population, i, tr_s, n_frames)
        out.append(realistic(frames, tr_s=tr, magnitude_mm=float(m), seed=run_seed(seed, i)))
    return out
