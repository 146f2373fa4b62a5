"""The builder's reuse cache holds what a subject's samples need: the second sample of a
subject recomputes nothing (mrsim.kspace.reuse.reuse_stats), for the template path and
both head contrasts, and the head path's clean reference is served from it."""

import numpy as np
import pytest

from mrsim.dataset import head_subjects
from mrsim.dataset.build import _REUSE_ENTRIES, plan_samples
from mrsim.dataset.recipe import load_recipe, recipe_from_dict
from mrsim.dataset.samples import make_sample
from mrsim.kspace.reuse import reuse_spectra, reuse_stats


def _same_subject(**params):
    raw = load_recipe("mcnet_mprage", small=True).to_dict()
    raw.pop("small", None)
    raw["params"].update(params, n_trajectories=2)
    plan = plan_samples(recipe_from_dict(raw, source="reuse.toml"))
    same = [p for p in plan if p["subject"] == plan[0]["subject"]]
    assert len(same) >= 2
    return same[:2]


CASES = {
    "template": {},
    "head-echo-train": dict(phantom="head", contrast="echo-train", shape=[24, 24, 24]),
    "head-static": dict(phantom="head", contrast="static", shape=[24, 24, 24]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_second_sample_of_a_subject_hits_the_cache(case):
    first, second = _same_subject(**CASES[case])
    with reuse_spectra(_REUSE_ENTRIES):  # the builder's block (mrsim.dataset.build)
        make_sample(first, threads=1)
        after_first = reuse_stats()
        make_sample(second, threads=1)
        after_second = reuse_stats()
    assert after_first["misses"] > 0  # the first sample computed the subject's spectra
    assert after_second["misses"] == after_first["misses"]  # the second: nothing again
    assert after_second["hits"] > after_first["hits"]
    # the cache is sized from what the path keeps (head: reserved once the rank is known)
    if case == "template":
        assert after_first["entries"] == _REUSE_ENTRIES
    else:
        rank = 1 if case == "head-static" else next(iter(head_subjects._CACHE.values())).rank
        need = head_subjects.head_reuse_entries(rank)
        assert after_first["entries"] == need
        assert after_first["max_entries"] == max(_REUSE_ENTRIES, need)


def test_head_clean_reference_is_computed_once_per_subject(monkeypatch):
    first, second = _same_subject(**CASES["head-echo-train"])
    calls = []
    real = head_subjects._kspace

    def counting(obj, schedule, rotations, *args):
        calls.append(np.array_equal(rotations, np.eye(3)))
        return real(obj, schedule, rotations, *args)

    monkeypatch.setattr(head_subjects, "_kspace", counting)
    with reuse_spectra(_REUSE_ENTRIES):
        a = make_sample(first, threads=1)
        b = make_sample(second, threads=1)
    assert calls == [True, False, False]  # clean (identity pose) once, then moved twice
    fresh = make_sample(second, threads=1)  # outside the block: recomputed, same bytes
    assert calls == [True, False, False, True, False]
    for k in b.arrays:
        assert b.arrays[k].tobytes() == fresh.arrays[k].tobytes(), k
    assert a.arrays["clean"].tobytes() == b.arrays["clean"].tobytes()


def test_next_head_subject_lets_the_last_ones_spectra_go(monkeypatch):
    raw = load_recipe("mcnet_mprage", small=True).to_dict()
    raw.pop("small", None)
    raw["params"].update(CASES["head-echo-train"], n_trajectories=1)
    plan = plan_samples(recipe_from_dict(raw, source="reuse.toml"))
    subjects = list(dict.fromkeys(p["subject"] for p in plan))[:2]
    first = [next(p for p in plan if p["subject"] == s) for s in subjects]
    held_at_build = []
    real = head_subjects.synthetic_head

    def recording(*args, **kwargs):
        held_at_build.append(reuse_stats()["entries"])
        return real(*args, **kwargs)

    monkeypatch.setattr(head_subjects, "synthetic_head", recording)
    with reuse_spectra(_REUSE_ENTRIES):
        make_sample(first[0], threads=1)
        make_sample(first[1], threads=1)
    # the second subject is built with nothing of the first one's held
    assert held_at_build == [0, 0]


def test_a_head_sample_outside_a_reuse_block_builds_its_phantom_once(monkeypatch):
    """Regenerating one sample (verification, MRSIM_REUSE_SPECTRA=0) builds the subject
    once for both the clean reference and the moved k-space."""
    (first, _) = _same_subject(**CASES["head-echo-train"])
    builds = []
    real = head_subjects.synthetic_head

    def counting(*args, **kwargs):
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(head_subjects, "synthetic_head", counting)
    make_sample(first, threads=1)
    assert len(builds) == 1
