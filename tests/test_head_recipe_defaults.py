"""The shipped ``mcnet_mprage`` recipe defaults to full-head subjects with echo-train
contrast from a 1 mm source; template builds (phantom = "template", source_oversample = 1)
stay byte-identical to earlier versions (the corrupted slices to float32 rounding since
issue 17's batched interpolation)."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from mrsim.dataset.build import plan_samples
from mrsim.dataset.recipe import load_recipe, recipe_from_dict
from mrsim.dataset.samples import make_sample

#: sha256 over (name, bytes) of the arrays of sample 0 of the small recipe with the template
#: anatomy at 2 mm except ``corrupted``, made by the code before the recipe defaults changed
#: (git 0378240); a change here means old template datasets no longer regenerate bit for bit.
TEMPLATE_SMALL_SAMPLE0_SHA256 = "ff1e3d5e2060684989eadedd8c9ee636f556cf06e5cbb25807b067759d296ec7"
#: ``corrupted`` of the same sample from 0378240. Issue 17's batched planar interpolation sums
#: the same taps in another float32 order (docs/benchmarks.md), so it matches to rounding only.
TEMPLATE_SMALL_SAMPLE0_CORRUPTED = (
    Path(__file__).parent / "golden" / "template_small_sample0_corrupted.npy"
)
#: bound of that reordering (measured 2.1e-7 on this sample, <= 4.8e-7 on the medium recipe)
CORRUPTED_ATOL = 1e-6


def _digest(sample) -> str:
    h = hashlib.sha256()
    for k in sorted(sample.arrays):
        if k == "corrupted":
            continue
        h.update(k.encode())
        h.update(sample.arrays[k].tobytes())
    return h.hexdigest()


def _small_raw():
    raw = load_recipe("mcnet_mprage", small=True).to_dict()
    raw.pop("small", None)
    return raw


def test_recipe_defaults_are_head_echo_train_1mm():
    p = load_recipe("mcnet_mprage").params
    assert (p["phantom"], p["contrast"], p["source_oversample"]) == ("head", "echo-train", 2)
    assert p["shape"] == [128, 128, 128] and p["fov_mm"] == 256.0  # 128^3 k-space, 2 mm
    small = load_recipe("mcnet_mprage", small=True).params
    assert (small["phantom"], small["contrast"], small["source_oversample"]) == (
        "template",
        "static",
        1,
    )


def test_template_build_is_byte_identical_to_earlier_versions():
    raw = _small_raw()
    explicit = recipe_from_dict(raw, source="explicit.toml")
    s_explicit = make_sample(plan_samples(explicit)[0], threads=1)
    assert _digest(s_explicit) == TEMPLATE_SMALL_SAMPLE0_SHA256
    before = np.load(TEMPLATE_SMALL_SAMPLE0_CORRUPTED)
    assert s_explicit.arrays["corrupted"].shape == before.shape
    np.testing.assert_allclose(s_explicit.arrays["corrupted"], before, rtol=0, atol=CORRUPTED_ATOL)
    # a recipe written before the options existed (schema defaults) gives the same bytes
    old = dict(
        raw,
        params={
            k: v
            for k, v in raw["params"].items()
            if k not in ("phantom", "contrast", "source_oversample")
        },
    )
    s_old = make_sample(plan_samples(recipe_from_dict(old, source="old.toml"))[0], threads=1)
    for k in s_explicit.arrays:
        assert s_old.arrays[k].tobytes() == s_explicit.arrays[k].tobytes(), k


def test_head_subject_cache_is_bit_identical():
    # inside the builder's reuse block the head is built once per subject; the samples
    # equal those built from scratch
    from mrsim.kspace.reuse import reuse_spectra

    raw = _small_raw()
    raw["params"].update(phantom="head", contrast="echo-train", shape=[24, 24, 24])
    raw["params"]["n_trajectories"] = 2
    plan = plan_samples(recipe_from_dict(raw, source="head.toml"))
    same_subject = [p for p in plan if p["subject"] == plan[0]["subject"]][:3]
    assert len(same_subject) == 3
    fresh = [make_sample(p, threads=1) for p in same_subject]
    with reuse_spectra(2):
        cached = [make_sample(p, threads=1) for p in same_subject]
    for a, b in zip(fresh, cached, strict=True):
        for k in a.arrays:
            assert a.arrays[k].tobytes() == b.arrays[k].tobytes(), k


def test_nifti_subjects_need_the_template():
    raw = load_recipe("mcnet_mprage").to_dict()
    raw.pop("small", None)
    raw["subjects"].update(source="nifti", glob="/nowhere/*.nii.gz")
    with pytest.raises(ValueError, match="phantom"):
        recipe_from_dict(raw, source="mine.toml")


def test_cached_head_contrast_is_read_only():
    # frozen, owned arrays: the spectrum memo hashes a subject's basis once, and no sample
    # can alter what the next one reuses
    from mrsim.dataset import head_subjects
    from mrsim.kspace.reuse import _frozen, reuse_spectra

    raw = _small_raw()
    raw["params"].update(phantom="head", contrast="echo-train", shape=[24, 24, 24])
    plan = plan_samples(recipe_from_dict(raw, source="head.toml"))
    with reuse_spectra(2):
        make_sample(plan[0], threads=1)
        (lr,) = head_subjects._CACHE.values()
        assert _frozen(lr.basis) and all(_frozen(b) for b in lr.basis)
