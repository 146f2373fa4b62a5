"""Training magnitudes of the recentre predictor: published populations by default."""

import numpy as np
import pytest

from correctors.recentre.cli import _source, build_parser, source_magnitudes
from correctors.recentre.data import (
    DEFAULT_MAGNITUDES,
    LEGACY_MAGNITUDES,
    RANGE_MAGNITUDES_TAG,
    generate_trajectories,
    parse_magnitudes,
)
from mrsim.motion.fd import power_fd
from mrsim.motion.magnitude import rms_displacement_sphere
from mrsim.motion.populations import POPULATIONS, stream_seed


def test_default_training_draw_reproduces_published_ukb_and_abcd():
    # 400 runs of the default draw at the predictor's TR 0.72 s, each cohort at both the UKB
    # (500 frames) and ABCD (417 frames) run duration (lengths are crossed with the cohorts);
    # FD is scaled back to each cohort's TR (FD of the same motion ~ TR) before comparing with
    # the published numbers: UKB mean 0.20 mm, SD 0.09 mm; ABCD ~50 % <= 0.2 mm, 7 % <= 0.1 mm.
    # Tolerances ~2.5 standard errors of 200 runs: 0.015 mm, 0.015 mm, 0.09, 0.045.
    assert DEFAULT_MAGNITUDES == "ukb+abcd"
    trajs = generate_trajectories(400, lengths=(500, 417), seed=123)
    fd = np.array([power_fd(t)[1:].mean() for t in trajs])
    ukb = fd[0::2] * POPULATIONS["ukb"]["tr_s"] / 0.72
    abcd = fd[1::2] * POPULATIONS["abcd"]["tr_s"] / 0.72
    assert ukb.mean() == pytest.approx(0.20, abs=0.015)
    assert ukb.std() == pytest.approx(0.09, abs=0.015)
    assert np.mean(abcd <= 0.2) == pytest.approx(0.5, abs=0.09)
    assert np.mean(abcd <= 0.1) == pytest.approx(0.07, abs=0.045)


def test_legacy_range_is_the_log_uniform_draw_of_before():
    trajs = generate_trajectories(6, lengths=(100,), seed=4, magnitudes=LEGACY_MAGNITUDES)
    # the magnitudes' own stream (it was [4, 0x5EC], run 1516's shape stream)
    rng = np.random.default_rng(stream_seed(4, RANGE_MAGNITUDES_TAG))
    mags = np.exp(rng.uniform(np.log(0.3), np.log(3.0), size=6))
    for t, m in zip(trajs, mags, strict=True):
        assert rms_displacement_sphere(t, radius_mm=80.0).max() == pytest.approx(m, rel=1e-6)


def test_parse_magnitudes_and_clear_errors():
    assert parse_magnitudes("0.3:3") == (0.3, 3.0)
    assert parse_magnitudes("abcd") == "abcd"
    for bad, msg in (("3:0.3", "0 < LO <= HI"), ("a:b", "LO:HI"), ("hcp", "must be one of")):
        with pytest.raises(ValueError, match=msg):
            parse_magnitudes(bad)


def test_cli_records_the_magnitudes_and_old_sources_mean_the_legacy_draw():
    p = build_parser()
    args = p.parse_args(["train", "--generate", "4", "-o", "x.pt"])
    assert _source(args)["magnitudes"] == "ukb+abcd"
    args = p.parse_args(["train", "--generate", "4", "--magnitudes", "0.3:3", "-o", "x.pt"])
    assert _source(args)["magnitudes"] == "0.3:3"
    assert source_magnitudes({"generate": 60, "seed": 0}) == LEGACY_MAGNITUDES
    args = p.parse_args(["train", "--files", "a.txt", "--magnitudes", "ukb", "-o", "x.pt"])
    with pytest.raises(ValueError, match="--magnitudes needs --generate"):
        _source(args)


def test_split_and_range_streams_are_no_runs_shape_stream():
    # default_rng(seed) (the split's old stream) is seeded exactly like run 0's [seed, 0];
    # [seed, 0x5EC] (the range magnitudes' old stream) was run 1516's
    from correctors.recentre.cli import SPLIT_TAG, _split
    from mrsim.motion.populations import run_seed

    pool = lambda s: np.random.SeedSequence(s).pool  # noqa: E731
    assert np.array_equal(pool(5), pool(run_seed(5, 0)))
    assert np.array_equal(pool([5, 0x5EC]), pool(run_seed(5, 1516)))
    for tag in (SPLIT_TAG, RANGE_MAGNITUDES_TAG):
        ss = stream_seed(5, tag)
        assert not any(np.array_equal(ss.pool, pool(run_seed(5, i))) for i in range(3000))
    order = np.random.default_rng(stream_seed(5, SPLIT_TAG)).permutation(10)
    train, val = _split(list(range(10)), 0.2, 5)
    assert val == sorted(order[:2].tolist()) and train == sorted(order[2:].tolist())
