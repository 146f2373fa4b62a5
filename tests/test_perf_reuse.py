"""Spectrum reuse (mrsim.kspace.reuse): same bytes as recomputing, never a stale spectrum."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from mrsim.dataset.build import build_dataset
from mrsim.dataset.recipe import load_recipe
from mrsim.kspace.corrupt import NufftOptions, moved_kspace
from mrsim.kspace.reuse import memoized, reuse_active, reuse_spectra
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion.rigid import rotation_matrix


def _poses(n_lines, seed):
    params = np.random.default_rng(seed).normal(scale=2.0, size=(n_lines, 6))
    return rotation_matrix(params[:, 3:]), params[:, :3]


@pytest.mark.parametrize("eps", [1e-3, 1e-4])
def test_reused_spectra_give_identical_kspace(eps):
    image = np.random.default_rng(1).random((16, 18, 20)).astype(np.float32)
    sched = mprage_schedule(image.shape)
    opt = NufftOptions(eps=eps, threads=1, fast_path=False)
    poses = [_poses(sched.n_lines, s) for s in (2, 3)]
    fresh = [moved_kspace(image, sched, R, t, (2.0, 2.0, 2.0), options=opt) for R, t in poses]
    with reuse_spectra():
        assert reuse_active()
        reused = [moved_kspace(image, sched, R, t, (2.0, 2.0, 2.0), options=opt) for R, t in poses]
    assert not reuse_active()
    for a, b in zip(fresh, reused, strict=True):
        assert a.tobytes() == b.tobytes()


def test_changed_object_is_not_served_a_stale_spectrum():
    image = np.random.default_rng(4).random((16, 16, 16)).astype(np.float32)
    sched = mprage_schedule(image.shape)
    R, t = _poses(sched.n_lines, 5)
    opt = NufftOptions(eps=1e-4, threads=1, fast_path=False)
    other = image.copy()
    other[3, 4, 5] += 0.5  # one voxel differs
    with reuse_spectra():
        moved_kspace(image, sched, R, t, 2.0, options=opt)
        k_other = moved_kspace(other, sched, R, t, 2.0, options=opt)
    assert k_other.tobytes() == moved_kspace(other, sched, R, t, 2.0, options=opt).tobytes()


def test_memoized_results_are_read_only_and_keyed_by_settings():
    a = np.arange(10.0)
    calls = []

    def compute():
        calls.append(1)
        return a * 2

    with reuse_spectra():
        x = memoized("k", a, (1,), compute)
        y = memoized("k", a, (1,), compute)
        memoized("k", a, (2,), compute)  # other settings: recomputed
        assert x is y and len(calls) == 2
        with pytest.raises(ValueError):
            x[0] = 5.0
    assert memoized("k", a, (1,), compute).flags.writeable  # outside: plain compute
    assert len(calls) == 3


def test_dataset_with_reuse_is_byte_identical_to_recomputing(tmp_path, monkeypatch):
    # Several samples per subject and shards spanning subjects: every shard array compared.
    recipe = load_recipe("mcnet_mprage", small=True)
    build_dataset(recipe, tmp_path / "reuse", threads=1, progress=False)
    monkeypatch.setenv("MRSIM_REUSE_SPECTRA", "0")
    build_dataset(recipe, tmp_path / "fresh", threads=1, progress=False)
    with (
        h5py.File(tmp_path / "reuse/dataset.h5") as a,
        h5py.File(tmp_path / "fresh/dataset.h5") as b,
    ):
        assert sorted(a["data"]) == sorted(b["data"])
        for k in a["data"]:
            assert a["data"][k][()].tobytes() == b["data"][k][()].tobytes(), k


def test_combine_coil_kspace_equals_combining_the_coil_images():
    from mrsim.kspace.coils import birdcage_sensitivities, combine_coil_kspace, combine_coils
    from mrsim.kspace.fft import ifft_centered

    rng = np.random.default_rng(7)
    sens = birdcage_sensitivities((12, 14, 10), (2.0, 2.0, 2.0), 4)
    k = rng.standard_normal((2, 4, 12, 14, 10)) + 1j * rng.standard_normal((2, 4, 12, 14, 10))
    k = k.astype(np.complex64)
    ref = combine_coils(ifft_centered(k, axes=(-3, -2, -1)), sens)
    got = combine_coil_kspace(k, sens)
    assert got.shape == ref.shape == (2, 12, 14, 10)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6 * np.abs(ref).max())
