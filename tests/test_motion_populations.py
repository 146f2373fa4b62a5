"""Published-population magnitudes: the fitted log-normals and the generated mean FD."""

import numpy as np
import pytest
from scipy.stats import norm

from mrsim.errors import MrsimInputError
from mrsim.motion.fd import power_fd
from mrsim.motion.generators import realistic
from mrsim.motion.populations import (
    POPULATIONS,
    population_magnitudes,
    population_trajectories,
)


def test_lognormal_fits_reproduce_the_published_numbers():
    # UK Biobank: mean 0.20 mm, SD 0.09 mm (moments of the log-normal, by hand)
    mu, s = POPULATIONS["ukb"]["lognormal"]
    mean = np.exp(mu + s**2 / 2)
    assert mean == pytest.approx(0.20, rel=1e-12)
    assert mean * np.sqrt(np.expm1(s**2)) == pytest.approx(0.09, rel=1e-12)
    # ABCD: half of the runs <= 0.2 mm, 7 % <= 0.1 mm
    mu, s = POPULATIONS["abcd"]["lognormal"]
    assert norm.cdf((np.log(0.2) - mu) / s) == pytest.approx(0.5, abs=1e-12)
    assert norm.cdf((np.log(0.1) - mu) / s) == pytest.approx(0.07, abs=1e-12)


def test_magnitudes_give_each_seed_its_target_mean_fd():
    # same seed at magnitude m is the unit-magnitude shape scaled by m (to < 1 %), so the
    # run's mean FD is the drawn target; check against an independent draw of the targets
    pop = POPULATIONS["ukb"]
    mags = population_magnitudes("ukb", 5, seed=3)
    mu, s = pop["lognormal"]
    target = np.exp(np.random.default_rng([3, 7]).normal(mu, s, 5))
    for i, m in enumerate(mags):
        run = realistic(pop["n_frames"], tr_s=pop["tr_s"], magnitude_mm=float(m), seed=[3, i])
        assert power_fd(run)[1:].mean() == pytest.approx(target[i], rel=0.01)


def test_generated_populations_match_published_distributions():
    runs = population_trajectories("ukb", 300, seed=11)
    f = np.array([power_fd(r)[1:].mean() for r in runs])
    assert f.mean() == pytest.approx(0.20, abs=0.015)
    assert f.std() == pytest.approx(0.09, abs=0.015)
    runs = population_trajectories("abcd", 300, seed=11)
    f = np.array([power_fd(r)[1:].mean() for r in runs])
    assert np.mean(f <= 0.2) == pytest.approx(0.5, abs=0.07)
    assert np.mean(f <= 0.1) == pytest.approx(0.07, abs=0.04)


def test_other_protocol_keeps_the_motion():
    a = population_trajectories("abcd", 2, seed=5)
    b = population_trajectories("abcd", 2, seed=5, tr_s=0.72, n_frames=100)
    assert len(b[0].t_s) == 100
    assert np.diff(b[0].t_s)[0] == pytest.approx(0.72)
    assert len(a[1].t_s) == POPULATIONS["abcd"]["n_frames"]


def test_bad_input():
    with pytest.raises(MrsimInputError, match="population must be one of"):
        population_magnitudes("hcp", 3)
    with pytest.raises(MrsimInputError, match="n must be >= 0"):
        population_magnitudes("ukb", -1)
