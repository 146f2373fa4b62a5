"""The shipped recipes: validation, small builds, physics sanity, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from mrsim.dataset.build import build_dataset, regenerate_sample
from mrsim.dataset.recipe import RECIPE_DIR, load_recipe
from mrsim.io.hdf5 import read_sample

SHIPPED = sorted(p.stem for p in RECIPE_DIR.glob("*.toml"))


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("small", [False, True])
def test_shipped_recipes_validate(name, small):
    r = load_recipe(name, small=small)
    assert r.name == name and r.small == small


def test_mcnet_full_recipe_is_seed_001():
    r = load_recipe("mcnet_mprage")
    p = r.params
    assert (p["n_trajectories"], p["trajectory_points"]) == (78, 128)
    assert (p["limit_mm"], p["limit_deg"], p["scale"]) == (2.0, 2.0, 8.0)
    assert p["shape"] == [128, 128, 128] and p["n_slices"] == 10 and p["slice_step_mm"] == 5.0
    assert p["variants"] == ["rot", "rot_trans"]
    assert (r.subjects["n"], r.split) == (52, {"train": 35, "val": 5, "test": 12})


@pytest.fixture(scope="module")
def mcnet_small(tmp_path_factory):
    out = tmp_path_factory.mktemp("mcnet") / "ds"
    # threads=1 here; the regeneration test uses 3: the data must not depend on it
    build_dataset(load_recipe("mcnet_mprage", small=True), out, threads=1, progress=False)
    return out


def test_mcnet_small_sample_contents(mcnet_small):
    from mrsim.dataset.mcnet_mprage import variant_columns

    for index in range(4):
        arrays, attrs = read_sample(mcnet_small, index)
        assert arrays["clean"].shape == (4, 48, 48) == arrays["corrupted"].shape
        assert arrays["poses"].shape == (48 * 48, 6)
        assert arrays["trajectory"].shape == (128, 7)
        moving = variant_columns(attrs["variant"], 0)
        # only the variant's degrees of freedom move: rot -> rx; rot_trans -> ty, tz, rx
        assert np.all(arrays["poses"][:, ~moving] == 0)
        assert np.any(arrays["poses"][:, moving] != 0)
        assert moving.sum() == {"rot": 1, "rot_trans": 3}[attrs["variant"]]
        # k-space centre acquired at (nearly) the identity pose: the trajectory is
        # re-referenced at the centre line's time, and with one pose per shot the centre's
        # shot takes the pose at the shot's mean time, half an echo spacing away.
        from mrsim.kspace.schedule import mprage_schedule

        sched = mprage_schedule((48, 48, 48), readout_axis=2)
        centre = np.abs(arrays["poses"][sched.center_line()]).max()
        assert centre < 1e-3 * np.abs(arrays["poses"]).max()
        # motion corrupts, but the image is still the same head
        diff = np.abs(arrays["corrupted"] - arrays["clean"]).max()
        assert 1e-3 < diff < arrays["clean"].max()
        np.testing.assert_allclose(
            attrs["motion_magnitude"],
            np.std(arrays["trajectory"][:, 1:], axis=0)[moving].mean(),
            rtol=1e-6,
        )
        assert list(attrs["slice_indices"]) == [21, 23, 25, 27]
        np.testing.assert_allclose(attrs["slice_positions_mm"], [-15, -5, 5, 15])


def test_mcnet_index_columns(mcnet_small):
    import h5py

    with h5py.File(mcnet_small / "dataset.h5") as f:
        vmax = f["index/clean_volume_max"][()]
        slices_max = f["data/clean"][()].max(axis=(1, 2, 3))
    assert vmax.shape == (6,) and np.all(vmax >= slices_max) and np.all(vmax > 0)


def test_mcnet_clean_is_the_subject_volume(mcnet_small):
    from mrsim.dataset.subjects import load_subject

    arrays, attrs = read_sample(mcnet_small, 0)
    p = attrs["params"]
    t1 = load_subject(p["subject_spec"], (48, 48, 48), (5.0, 5.0, 5.0))["t1"]
    np.testing.assert_allclose(arrays["clean"], t1[attrs["slice_indices"]], atol=1e-5)


def test_mcnet_regenerates_bit_for_bit(mcnet_small):
    sample, stored, _ = regenerate_sample(mcnet_small, 3, threads=3)
    for k in stored:
        assert stored[k].tobytes() == np.asarray(sample.arrays[k]).tobytes(), k


@pytest.mark.slow
def test_mcnet_two_workers_identical(mcnet_small, tmp_path):
    import h5py

    build_dataset(
        load_recipe("mcnet_mprage", small=True), tmp_path / "w2", workers=2, progress=False
    )
    with h5py.File(mcnet_small / "dataset.h5") as a, h5py.File(tmp_path / "w2/dataset.h5") as b:
        for k in a["data"]:
            assert a["data"][k][()].tobytes() == b["data"][k][()].tobytes(), k


def test_nufft_blocks_independent_of_thread_count():
    # mrsim.dataset.threads (line blocks, one single-threaded NUFFT each) is gone: the
    # engine itself gives the same bytes for any thread count (tests/test_kspace_threads.py).
    from mrsim.kspace.corrupt import NufftOptions
    from mrsim.kspace.schedule import mprage_schedule
    from mrsim.motion.rigid import rotation_matrix

    rng = np.random.default_rng(0)
    image = rng.random((16, 16, 16))
    sched = mprage_schedule((16, 16, 16))
    params = rng.normal(scale=2.0, size=(sched.n_lines, 6))
    R, t = rotation_matrix(params[:, 3:]), params[:, :3]

    def moved_kspace_threads(image, sched, R, t, vox, threads):
        from mrsim.kspace.corrupt import moved_kspace

        opt = NufftOptions(eps=1e-4, threads=threads, fast_path=False)
        return moved_kspace(image, sched, R, t, vox, options=opt)

    ks = [moved_kspace_threads(image, sched, R, t, (2.0, 2.0, 2.0), threads=n) for n in (1, 2, 3)]
    assert ks[0].tobytes() == ks[1].tobytes() == ks[2].tobytes()
    from mrsim.kspace.corrupt import moved_kspace

    ref = moved_kspace(image, sched, R, t, voxel_size_mm=(2.0, 2.0, 2.0), eps=1e-4, nthreads=1)
    np.testing.assert_allclose(ks[0], ref, rtol=0, atol=1e-4 * np.abs(ref).max())


def test_slice_indices():
    from mrsim.dataset.mcnet_mprage import slice_indices

    idx = slice_indices(128, 10, 5.0, 2.0)
    assert idx.size == 10 and np.all(np.diff(idx) > 0)
    pos = (idx - 64) * 2.0
    np.testing.assert_array_less(np.abs(pos - (np.arange(10) - 4.5) * 5.0), 1.0 + 1e-9)
    with pytest.raises(ValueError, match="do not fit"):
        slice_indices(16, 10, 5.0, 2.0)


def _qsm_raw(**params):
    base = load_recipe("qsm_motion", small=True).to_dict()
    base.pop("small")
    base["subjects"]["n"] = 1
    base["split"] = {"train": 1, "val": 0, "test": 0}
    base["params"].update(profiles_per_subject=1, **params)
    return base


def test_qsm_small_sample(tmp_path):
    from mrsim.dataset.recipe import recipe_from_dict

    out = tmp_path / "qsm"
    build_dataset(recipe_from_dict(_qsm_raw()), out, progress=False)
    arrays, attrs = read_sample(out, 0)
    assert arrays["magnitude_clean"].shape == (4, 32, 32, 16)
    assert arrays["phase_corrupted"].shape == (4, 32, 32, 16)
    assert arrays["chi_true"].shape == (32, 32, 16) and arrays["mask"].any()
    assert "chi_clean" not in arrays  # recon = false in the small recipe
    # event profile within +-5 mm / +-5 deg, with 2-3 events -> a few motion states
    assert np.abs(arrays["trajectory"][:, 1:]).max() <= 5.0
    assert 2 <= attrs["n_motion_states"] <= 4
    # T2* decay of the clean magnitude inside the brain, and motion changes the signal
    mask = arrays["mask"].astype(bool)
    m = arrays["magnitude_clean"][:, mask].mean(axis=1)
    assert np.all(np.diff(m) < 0)
    rel = np.abs(arrays["magnitude_corrupted"] - arrays["magnitude_clean"]).max() / m[0]
    assert rel > 1e-2
    sample, stored, _ = regenerate_sample(out, 0, threads=2)
    for k in stored:
        assert stored[k].tobytes() == np.asarray(sample.arrays[k]).tobytes(), k


@pytest.mark.slow
def test_qsm_small_with_recon(tmp_path):
    from mrsim.dataset.recipe import recipe_from_dict

    raw = _qsm_raw(
        recon=True, recon_unwrap="laplacian", recon_background="vsharp", recon_inversion="tkd"
    )
    build_dataset(recipe_from_dict(raw), tmp_path / "q", progress=False)
    arrays, _ = read_sample(tmp_path / "q", 0)
    mask = arrays["mask"].astype(bool)
    err_clean = np.abs(arrays["chi_clean"] - arrays["chi_true"])[mask].mean()
    err_corr = np.abs(arrays["chi_corrupted"] - arrays["chi_true"])[mask].mean()
    assert err_corr > err_clean


def test_motion_windows_generated(tmp_path):
    out = tmp_path / "w"
    build_dataset(load_recipe("motion_windows", small=True), out, progress=False)
    arrays, attrs = read_sample(out, 4)
    traj = arrays["trajectory"]
    n = {"rest": 1200, "wm": 316, "language": 405}[attrs["variant"]]
    assert traj.shape == (n, 7)
    np.testing.assert_allclose(np.diff(traj[:, 0]), 0.72)
    X, y = arrays["inputs"], arrays["targets"]
    assert X.shape == (n - 14, 14, 6) and y.shape == (n - 14, 6)
    w = 37
    np.testing.assert_array_equal(X[w], traj[w : w + 14, 1:].astype(np.float32))
    np.testing.assert_array_equal(y[w], traj[w + 14, 1:].astype(np.float32))


def test_motion_windows_from_files(tmp_path):
    from mrsim.dataset.recipe import recipe_from_dict
    from mrsim.motion.formats import write_trajectory
    from mrsim.motion.generators import realistic

    for i in range(5):
        write_trajectory(realistic(40, tr_s=0.72, seed=i), tmp_path / f"sub{i}.csv")
    raw = {
        "name": "w",
        "kind": "motion_windows",
        "seed": 1,
        "split": {"train": 3, "val": 1, "test": 1},
        "params": {"source": "files", "glob": str(tmp_path / "sub*.csv")},
    }
    out = tmp_path / "w"
    build_dataset(recipe_from_dict(raw), out, progress=False)
    arrays, attrs = read_sample(out, 2)
    assert arrays["inputs"].shape == (26, 14, 6)
    assert attrs["params"]["path"].endswith("sub2.csv")
    torch = pytest.importorskip("torch")
    from correctors.common.readers import WindowDataset

    ds = WindowDataset(out, split="train")
    assert len(ds) == 3 * 26
    x, y = ds[0]
    assert x.shape == (14, 6) and y.shape == (6,) and x.dtype == torch.float32
    raw["params"]["glob"] = str(tmp_path / "none*.csv")
    with pytest.raises(FileNotFoundError, match="params.glob"):
        build_dataset(recipe_from_dict(raw), tmp_path / "x", progress=False)


def test_qsm_exact_mixing_sample(tmp_path):
    from mrsim.dataset.recipe import recipe_from_dict

    out = tmp_path / "qx"
    build_dataset(recipe_from_dict(_qsm_raw(mixing="exact")), out, progress=False)
    arrays, attrs = read_sample(out, 0)
    assert attrs["variant"] == "exact"
    assert arrays["phase_corrupted"].shape == (4, 32, 32, 16)
    assert not np.array_equal(arrays["phase_corrupted"], arrays["phase_clean"])
    sample, stored, _ = regenerate_sample(out, 0)
    assert stored["phase_corrupted"].tobytes() == sample.arrays["phase_corrupted"].tobytes()


def test_mcnet_from_user_nifti(tmp_path):
    from mrsim.dataset.recipe import recipe_from_dict
    from mrsim.io.nifti import save_volume
    from mrsim.phantoms.mni152 import load_mni152

    t1, affine = load_mni152("t1", shape=(40, 48, 40), voxel_size_mm=5.0)
    for i in range(3):
        save_volume(tmp_path / f"sub{i}.nii.gz", t1 * (1.0 + 0.1 * i), affine)
    raw = load_recipe("mcnet_mprage", small=True).to_dict()
    raw.pop("small")
    raw["subjects"] = {"source": "nifti", "glob": "sub*.nii.gz"}
    recipe_path = tmp_path / "r.toml"
    recipe_path.write_text("")  # a relative glob is taken from the recipe's folder
    recipe = recipe_from_dict(raw, source=str(recipe_path))
    out = tmp_path / "ds"
    build_dataset(recipe, out, progress=False)
    arrays, attrs = read_sample(out, 0)
    spec = attrs["params"]["subject_spec"]
    assert spec["source"] == "nifti" and spec["path"].endswith(".nii.gz")
    assert arrays["clean"].shape == (4, 48, 48) and arrays["clean"].max() > 0.5
    # a changed source file is refused at regeneration, naming the file
    save_volume(spec["path"], t1 * 0.5, affine)
    from mrsim.dataset.subjects import _load_cached

    _load_cached.cache_clear()
    with pytest.raises(ValueError, match="file changed"):
        regenerate_sample(out, 0)
