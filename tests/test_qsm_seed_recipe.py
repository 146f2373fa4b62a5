"""The seed-sized qsm_motion recipe (seed 002) matches the seed and builds a sample."""

from __future__ import annotations

import numpy as np
import pytest

from mrsim.dataset.build import plan_samples
from mrsim.dataset.recipe import load_recipe, recipe_from_dict, tomllib
from mrsim.dataset.samples import make_sample

RECIPE = "datasets/qsm_motion.toml"


def test_seed_recipe_matches_seed_002():
    r = load_recipe(RECIPE)
    p = r.params
    assert p["voxel_size_mm"] == [0.75, 0.75, 3.0]  # Sec. 3.1.1 interpolated voxel size
    assert p["shape"] == [320, 320, 48]  # 512 x 0.4688 mm = 240 mm FOV; 48 slices of 3 mm
    assert (p["n_echoes"], p["te1_s"], p["dte_s"], p["tr_s"]) == (11, 0.0063, 0.0041, 0.049)
    assert (p["max_mm"], p["max_deg"], p["mixing"]) == (5.0, 5.0, "approx")  # Sec. 3.2, Eq. 5
    assert (p["recon"], p["recon_unwrap"], p["recon_background"], p["recon_inversion"]) == (
        True,
        "graphcut",
        "pdf",
        "tv",
    )
    plan = plan_samples(r)
    assert len(plan) == 700 and r.subjects["n"] == 70 and p["profiles_per_subject"] == 10
    counts = {s: sum(q["split"] == s for q in plan) for s in ("train", "val", "test")}
    assert counts == {"train": 560, "val": 70, "test": 70}  # Sec. 3.3
    by_split = {s: {q["subject"] for q in plan if q["split"] == s} for s in counts}
    assert not (by_split["train"] & by_split["val"] or by_split["train"] & by_split["test"])
    assert not by_split["val"] & by_split["test"]  # split by subject


def _seed_sample(inplane: int):
    """Sample 0 of the seed recipe, only the in-plane matrix changed (same 240 mm FOV)."""
    from pathlib import Path

    raw = tomllib.loads(Path(RECIPE).read_text())
    raw["params"]["shape"] = [inplane, inplane, 48]
    raw["params"]["voxel_size_mm"] = [240.0 / inplane, 240.0 / inplane, 3.0]
    return make_sample(plan_samples(recipe_from_dict(raw, source=RECIPE))[0])


def _check(sample, inplane: int) -> None:
    a = sample.arrays
    assert a["magnitude_corrupted"].shape == (11, inplane, inplane, 48)
    for k in ("chi_true", "chi_clean", "chi_corrupted", "chi_mask"):
        assert a[k].shape == (inplane, inplane, 48), k
    m = a["chi_mask"].astype(bool)
    assert m.any()
    assert np.all(np.isfinite(a["chi_clean"])) and np.all(np.isfinite(a["chi_corrupted"]))
    assert not np.allclose(a["chi_clean"][m], a["chi_corrupted"][m])  # motion changed chi
    assert 2 <= sample.attrs["n_motion_states"] <= 4  # 2-3 events (+ the start pose)


def test_seed_recipe_builds_a_sample_at_reduced_inplane_matrix():
    """Every setting of the seed recipe except the in-plane matrix (24 instead of 320)."""
    _check(_seed_sample(24), 24)


@pytest.mark.slow
def test_seed_recipe_builds_a_full_size_sample():
    """One 320 x 320 x 48 sample: ~2.5 CPU-minutes, ~5.6 GB peak (docs/qsm.md); not run here."""
    _check(_seed_sample(320), 320)
