"""VQ prior command line on a small mcnet_mprage dataset; clean bank; shipped weights."""

import numpy as np
import pytest
import torch

from correctors.common.checkpoints import shipped_weights_dir
from correctors.vqprior.__main__ import main
from correctors.vqprior.data import clean_slice_bank
from correctors.vqprior.infer import correct_volume, fit_slices, load_model
from mrsim.dataset.build import build_dataset
from mrsim.dataset.recipe import load_recipe
from mrsim.io.hdf5 import read_sample


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("mcnet_small")
    build_dataset(load_recipe("mcnet_mprage", small=True), out, threads=1, progress=False)
    return out


def test_clean_bank_is_the_datasets_clean_reference(small_data):
    bank, info = clean_slice_bank(small_data, "train", band_mm=30.0)
    # 48 voxels of 5 mm: +-30 mm is 13 slices
    assert bank.shape == (13, 48, 48) and {r["subject"] for r in info} == {info[0]["subject"]}
    for index in range(4):
        arrays, attrs = read_sample(small_data, index)
        if attrs["split"] != "train":
            continue
        for j, si in enumerate(attrs["slice_indices"]):
            k = [r["slice_index"] for r in info].index(si)
            # same operations as the sample function: identical clean slices
            np.testing.assert_array_equal(bank[k], arrays["clean"][j])
    with pytest.raises(ValueError, match="no subjects"):
        clean_slice_bank(small_data, "nope")


def test_train_eval_correct_end_to_end(small_data, tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "train",
        "--data",
        str(small_data),
        "--out",
        str(run),
        "--config",
        "tiny",
        "--vqvae-steps",
        "12",
        "--prior-top-steps",
        "6",
        "--prior-bottom-steps",
        "6",
        "--disentangle-steps",
        "6",
        "--batch-size",
        "4",
        "--val-every",
        "5",
        "--threads",
        "1",
    ]
    assert main(args) == 0
    assert (run / "model.pt").exists() and (run / "clean_train.npz").exists()
    assert "training finished" in capsys.readouterr().out
    assert main(args) == 0  # resume of a finished run: nothing left, still fine
    ev = tmp_path / "eval"
    assert (
        main(
            [
                "eval",
                "--model",
                str(run),
                "--data",
                str(small_data),
                "--split",
                "test",
                "--out",
                str(ev),
                "--mode",
                "disentangled",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    assert "ssim" in (ev / "table.md").read_text().lower()
    import nibabel as nib

    vol = np.abs(read_sample(small_data, 0)[0]["clean"]).astype(np.float32)  # (4, 48, 48)
    vol = np.concatenate([vol, vol[:1]], axis=0)  # 5 slices, any count works
    nib.save(nib.Nifti1Image(vol, np.diag([5.0, 5.0, 5.0, 1.0])), tmp_path / "in.nii.gz")
    assert (
        main(
            [
                "correct",
                "--model",
                str(run),
                "-i",
                str(tmp_path / "in.nii.gz"),
                "-o",
                str(tmp_path / "out.nii.gz"),
                "--mode",
                "prior",
            ]
        )
        == 0
    )
    out = nib.load(tmp_path / "out.nii.gz")
    assert out.shape == vol.shape and np.allclose(out.affine, np.diag([5.0, 5.0, 5.0, 1.0]))
    assert np.isfinite(out.get_fdata()).all()


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert (
        main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--config", "tiny"])
        == 2
    )
    err = capsys.readouterr().err
    assert "plan.json" in err and "Traceback" not in err
    assert (
        main(
            [
                "eval",
                "--model",
                str(tmp_path / "none.pt"),
                "--data",
                str(tmp_path),
                "--out",
                str(tmp_path / "e"),
            ]
        )
        == 2
    )
    assert "no such checkpoint" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    torch.save({"model": {}}, bad)
    assert (
        main(["eval", "--model", str(bad), "--data", str(tmp_path), "--out", str(tmp_path / "e")])
        == 2
    )
    assert "not a vqprior checkpoint" in capsys.readouterr().err


def test_fit_slices_pads_and_crops_about_the_centre():
    x = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6)
    big = fit_slices(x, (8, 8))
    assert big.shape == (2, 8, 8) and big[:, 4, 4].tolist() == x[:, 2, 3].tolist()
    np.testing.assert_array_equal(fit_slices(big, (5, 6)), x)


@pytest.mark.skipif(
    not (shipped_weights_dir("vqprior") / "model.pt").exists(), reason="no shipped weights"
)
def test_shipped_weights_load_and_correct():
    model = load_model(None)  # sha256 verified against the model card
    assert model.has_disentangled and "logp_quantiles_bottom" in model.calibration
    rng = np.random.default_rng(0)
    vol = rng.random((2, *model.image_shape)).astype(np.float32)
    for mode in ("recon", "prior", "disentangled"):
        model.mode = mode
        out = correct_volume(model, vol, axis=0)
        assert out.shape == vol.shape and np.isfinite(out).all()
    with pytest.raises(ValueError, match="3D volume"):
        correct_volume(model, vol[0])
