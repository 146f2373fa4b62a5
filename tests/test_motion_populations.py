"""Published-population magnitudes: the fitted log-normals and the generated mean FD."""

import numpy as np
import pytest
from scipy.stats import norm

from mrsim.errors import MrsimInputError
from mrsim.motion.fd import power_fd
from mrsim.motion.generators import realistic
from mrsim.motion.populations import (
    POPULATIONS,
    SCORES_TAG,
    mixture_component,
    population_magnitudes,
    population_trajectories,
    run_length,
    run_seed,
    stream_seed,
)
from mrsim.motion.trajectory import Trajectory


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
    target = np.exp(np.random.default_rng(stream_seed(3, SCORES_TAG)).normal(mu, s, 5))
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


def test_mixture_alternates_components_and_rejects_unknown_names():
    from mrsim.motion.populations import mixture_component

    assert [mixture_component("ukb+abcd", i) for i in range(4)] == ["ukb", "abcd", "ukb", "abcd"]
    assert mixture_component("abcd", 5) == "abcd"
    with pytest.raises(MrsimInputError, match="population must be one of"):
        mixture_component("ukb+hcp", 1)


def test_other_protocol_matches_the_tr_scaled_target_per_run():
    # run i at TR 0.72 s reaches the drawn target times 0.72 / TR of its cohort (hand formula)
    from mrsim.motion.populations import target_mean_fd

    runs = population_trajectories("ukb+abcd", 4, seed=8, tr_s=0.72, n_frames=[300, 200])
    z = np.random.default_rng(stream_seed(8, SCORES_TAG)).standard_normal(4)
    for i, run in enumerate(runs):
        pop = POPULATIONS[["ukb", "abcd"][i % 2]]
        mu, s = pop["lognormal"]
        assert len(run.t_s) == [300, 300, 200, 200][i]  # (ukb, abcd) at 300, then at 200
        expect = np.exp(mu + s * z[i]) * 0.72 / pop["tr_s"]
        assert target_mean_fd(["ukb", "abcd"][i % 2], z[i], 0.72) == pytest.approx(expect)
        assert power_fd(run)[1:].mean() == pytest.approx(expect, rel=0.01)


def test_matched_realistic_reaches_the_target_and_refuses_a_generator():
    from mrsim.motion.populations import matched_realistic

    run = matched_realistic(200, 0.72, 0.25, seed=[1, 2])
    assert power_fd(run)[1:].mean() == pytest.approx(0.25, rel=0.01)
    with pytest.raises(MrsimInputError, match="not a Generator"):
        matched_realistic(200, 0.72, 0.25, seed=np.random.default_rng(0))
    with pytest.raises(MrsimInputError, match="target_fd_mm"):
        matched_realistic(200, 0.72, -1.0, seed=1)


def test_motion_windows_recipe_draw_reproduces_the_published_numbers():
    # The recipe's own per-sample code (make_windows_sample), default population "ukb+abcd",
    # at each cohort's protocol so the published numbers apply as they stand. Tolerances are
    # about 2.5 standard errors of 150 runs per cohort: UKB mean 0.20 +- 0.02 mm, SD
    # 0.09 +- 0.02 mm; ABCD 50 +- 10 % at or below 0.2 mm, 7 +- 5 % at or below 0.1 mm.
    from mrsim.dataset.motion_windows import SCHEMA, make_windows_sample

    assert SCHEMA["population"].default == "ukb+abcd"
    fd = {"ukb": [], "abcd": []}
    for s in range(300):
        name = ["ukb", "abcd"][s % 2]
        pop = POPULATIONS[name]
        params = {
            "source": "generated", "population": "ukb+abcd", "subject": s,
            "seed": [2025, 0, s], "frames": pop["n_frames"], "tr_s": pop["tr_s"],
            "n_past": 14, "step": 1,
        }  # fmt: skip
        traj = make_windows_sample(params).arrays["trajectory"]
        fd[name].append(power_fd(Trajectory(traj[:, 0], traj[:, 1:]))[1:].mean())
    ukb, abcd = np.array(fd["ukb"]), np.array(fd["abcd"])
    assert ukb.mean() == pytest.approx(0.20, abs=0.02)
    assert ukb.std() == pytest.approx(0.09, abs=0.02)
    assert np.mean(abcd <= 0.2) == pytest.approx(0.5, abs=0.10)
    assert np.mean(abcd <= 0.1) == pytest.approx(0.07, abs=0.05)


def test_unknown_population_is_an_error_even_for_zero_runs():
    with pytest.raises(MrsimInputError, match="population must be one of"):
        population_magnitudes("ukb+hcp", 0)


def test_motion_windows_recipe_rejects_an_unknown_population():
    from mrsim.dataset.build import build_dataset
    from mrsim.dataset.recipe import recipe_from_dict

    raw = {"name": "w", "kind": "motion_windows", "seed": 1,
           "params": {"n_subjects": 2, "population": "ukb+hcp"}}  # fmt: skip
    with pytest.raises(MrsimInputError, match="params.population"):
        build_dataset(recipe_from_dict(raw), "/nonexistent/never-written", progress=False)


def test_bad_protocol_is_a_clear_error():
    from mrsim.errors import MrsimInputError
    from mrsim.motion.populations import population_magnitudes, target_mean_fd

    with pytest.raises(MrsimInputError, match="tr_s must be a positive"):
        target_mean_fd("ukb", 0.0, tr_s=-1.0)
    with pytest.raises(MrsimInputError, match="tr_s must be a positive"):
        population_magnitudes("ukb", 2, 0, tr_s=0.0, n_frames=100)
    with pytest.raises(MrsimInputError, match="n_frames must be >= 2"):
        population_magnitudes("ukb", 2, 0, tr_s=0.8, n_frames=1)


def test_score_stream_is_no_runs_shape_stream():
    # The scores were drawn from [seed, 7], the very stream of run 7's shape. Now neither the
    # seeds' mixed pools (what a stream is made from) nor the first draws of the score
    # stream equal those of any run stream, for many runs and base seeds; structurally the
    # score seed carries a spawn key (5 words of entropy) and no run seed does.
    for seed in (0, 3, 7, 2**32 + 5, 2**64 - 1):
        ss = stream_seed(seed, SCORES_TAG)
        assert ss.spawn_key == (SCORES_TAG,)
        scores = np.random.default_rng(ss).standard_normal(4)
        for i in range(3000):
            rs = np.random.SeedSequence(run_seed(seed, i))
            assert rs.spawn_key == ()
            assert not np.array_equal(ss.pool, rs.pool)
            assert not np.allclose(scores, np.random.default_rng(rs).standard_normal(4))
    # the old seed did collide: a bare [seed, 7] is run 7's own stream
    assert np.array_equal(
        np.random.default_rng([3, 7]).standard_normal(4),
        np.random.default_rng(run_seed(3, 7)).standard_normal(4),
    )
    # and population_magnitudes uses the new stream: recover z from the magnitudes
    from mrsim.motion.populations import _unit_fd

    pop = POPULATIONS["ukb"]
    mags = population_magnitudes("ukb", 9, seed=3)
    mu, s = pop["lognormal"]
    unit = [_unit_fd(pop["n_frames"], pop["tr_s"], run_seed(3, i)) for i in range(9)]
    z = (np.log(mags * np.array(unit)) - mu) / s
    expect = np.random.default_rng(stream_seed(3, SCORES_TAG)).standard_normal(9)
    np.testing.assert_allclose(z, expect, rtol=0, atol=1e-9)
    assert not np.allclose(z, np.random.default_rng([3, 7]).standard_normal(9))


def test_seeds_and_tags_are_checked():
    for bad in (-1, 2**64, 1.5, True):
        with pytest.raises(MrsimInputError, match="seed must be an int"):
            run_seed(bad, 0)
    with pytest.raises(MrsimInputError, match="run index"):
        run_seed(0, -1)
    with pytest.raises(MrsimInputError, match="tag must be > 0"):
        stream_seed(0, 0)


def test_every_component_length_pair_occurs_equally_often():
    # two components and an even number of lengths: i % L would give ukb only lengths 0, 2
    # and abcd only 1, 3. Every block of k * L runs now holds each pair once, and the
    # mixture stays stratified (every k consecutive runs hold one of each component).
    lengths = [120, 90, 60, 30]
    n = 2 * 2 * len(lengths)
    pairs = [(mixture_component("ukb+abcd", i), run_length("ukb+abcd", i, lengths))
             for i in range(n)]  # fmt: skip
    counts = {(c, f): pairs.count((c, f)) for c in ("ukb", "abcd") for f in lengths}
    assert set(counts.values()) == {2}
    for b in range(0, n, 2):
        assert {pairs[b][0], pairs[b + 1][0]} == {"ukb", "abcd"}
    # the generated runs carry those lengths, and odd L (the HCP lengths) is crossed too
    runs = population_trajectories("ukb+abcd", 8, seed=1, tr_s=0.72, n_frames=lengths)
    assert [len(r.t_s) for r in runs] == [run_length("ukb+abcd", i, lengths) for i in range(8)]
    hcp = [(mixture_component("ukb+abcd", i), run_length("ukb+abcd", i, (1200, 316, 405)))
           for i in range(6)]  # fmt: skip
    assert len(set(hcp)) == 6
    # one component: the lengths simply cycle
    assert [run_length("ukb", i, lengths) for i in range(5)] == [120, 90, 60, 30, 120]


def test_run_length_refuses_an_unknown_population():
    from mrsim.motion.populations import run_length

    with pytest.raises(MrsimInputError, match="population"):
        run_length("bogus", 0, [100, 200])
