"""Published head-motion populations: run-level mean FD and magnitudes that reproduce it.

The ``realistic`` generator's shape (drift, respiration, nods, jerks, jitter) is fixed by its
defaults; how much a run moves is set per trajectory by ``magnitude_mm``, and the run's mean
Power FD is proportional to it (median 0.14 mm of mean FD per mm of magnitude at the UK
Biobank protocol, 0.085-0.20 over seeds). Published large-cohort numbers therefore constrain
the *distribution of magnitudes*, not the generator's defaults.
:func:`population_magnitudes` and :func:`population_trajectories` give runs whose run-level
mean FD, at that population's protocol (TR, run length), follows the published distribution.

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

import numpy as np
from scipy.special import ndtri

from mrsim.errors import MrsimInputError

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


def _population(name: str) -> dict:
    if name not in POPULATIONS:
        raise MrsimInputError(f"population must be one of {sorted(POPULATIONS)}, got {name!r}")
    return POPULATIONS[name]


def population_magnitudes(population: str, n: int, seed: int = 0) -> np.ndarray:
    """Magnitudes for the seeds ``(seed, i)`` that give a population's mean FD distribution.

    For run ``i`` a target mean FD is drawn from the log-normal fitted to the published
    numbers (:data:`POPULATIONS`); the run's shape, ``realistic(seed=(seed, i))`` with the
    defaults, is generated at the population's protocol with ``magnitude_mm=1`` and the
    magnitude rescaled so that its mean Power FD equals the target. The generator scales one
    shape, so mean FD is proportional to ``magnitude_mm`` for a seed; the ratio itself
    varies 2.4x between seeds (5-95 %), which is why it is measured per run.

    Parameters
    ----------
    population : {"ukb", "abcd"}
    n : int
        Number of runs.
    seed : int
        Base seed; run ``i`` uses ``(seed, i)`` for its shape (pass the same seed to
        ``realistic``) and ``(seed, 7)`` draws the targets.

    Returns
    -------
    ndarray, shape (n,)
        ``magnitude_mm`` of run ``i``.
    """
    from mrsim.motion.fd import power_fd
    from mrsim.motion.generators import realistic

    pop = _population(population)
    if int(n) < 0:
        raise MrsimInputError(f"n must be >= 0, got {n!r}")
    mu, sigma = pop["lognormal"]
    target = np.exp(np.random.default_rng([int(seed), 7]).normal(mu, sigma, int(n)))
    unit = [
        power_fd(
            realistic(pop["n_frames"], tr_s=pop["tr_s"], magnitude_mm=1.0, seed=[int(seed), i])
        )[1:].mean()
        for i in range(int(n))
    ]
    return target / np.asarray(unit, dtype=float)


def population_trajectories(
    population: str,
    n: int,
    seed: int = 0,
    *,
    tr_s: float | None = None,
    n_frames: int | None = None,
) -> list:
    """``realistic`` runs whose run-level mean FD follows a published population.

    Run ``i`` is ``realistic(n_frames, tr_s=tr_s, magnitude_mm=m[i], seed=(seed, i))`` with
    ``m = population_magnitudes(population, n, seed)``. At the population's protocol (the
    default) its mean FD is the drawn target; with ``tr_s`` / ``n_frames`` the same motion is
    sampled at another protocol, e.g. the recentre predictor's TR 0.72 s.

    Parameters
    ----------
    population : {"ukb", "abcd"}
    n : int
    seed : int
    tr_s, n_frames : optional
        Protocol of the returned runs (default: the population's).

    Returns
    -------
    list of Trajectory
    """
    from mrsim.motion.generators import realistic

    pop = _population(population)
    mags = population_magnitudes(population, n, seed)
    tr_out = pop["tr_s"] if tr_s is None else float(tr_s)
    n_out = pop["n_frames"] if n_frames is None else int(n_frames)
    return [
        realistic(n_out, tr_s=tr_out, magnitude_mm=float(m), seed=[int(seed), i])
        for i, m in enumerate(mags)
    ]
