"""qsmnet training, readers, eval and CLI on a tiny qsm_motion dataset built with recon = true."""

from __future__ import annotations

import csv
import json

import h5py
import nibabel as nib
import numpy as np
import pytest
import torch
from qsmnet_tiny_data import build_tiny_qsm
from torch.utils.data import DataLoader

from correctors.common import readers
from correctors.common.readers import MixedPairs, PatchDataset, VolumeSlices
from correctors.qsmnet.__main__ import main
from correctors.qsmnet.infer import correct_nifti, correct_volume, load_model
from correctors.qsmnet.model import CHI_SCALE_PPM
from correctors.qsmnet.monitor import validate
from correctors.qsmnet.train import KEYS, TrainConfig, _stage_data, _unet_val_set, train
from mrsim.dataset.recipe import load_recipe
from mrsim.errors import MrsimInputError

TINY = TrainConfig.for_model("tiny", unet_steps=4, prenet_steps=3, checkpoint_every=2, val_every=2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """3 subjects (1 / 1 / 1) x 2 profiles, 16 x 16 x 12 voxels of 12 mm, 3 echoes."""
    return build_tiny_qsm(tmp_path_factory.mktemp("qsmnet") / "ds")


def test_dataset_has_chi_pairs(dataset):
    with h5py.File(dataset / "dataset.h5", "r") as f:
        for k in ("chi_corrupted", "chi_clean", "chi_true", "chi_mask"):
            assert f["data"][k].shape == (6, 16, 16, 12), k
        m = f["data/chi_mask"][0].astype(bool)
        assert m.any() and not np.any(f["data/chi_clean"][0][~m])
        # motion changes the reconstruction
        assert not np.allclose(f["data/chi_clean"][()], f["data/chi_corrupted"][()])


def test_patch_reader_is_lazy_and_worker_safe(dataset, monkeypatch):
    ds = PatchDataset(dataset, "train", KEYS, patch_size=(8, 8, 4))
    assert len(ds) == 2 * 2 * 2 * 3  # 2 samples x 12 tiles
    seen = []
    orig = readers.H5Rows.read

    def spy(self, key, sel):
        out = orig(self, key, sel)
        seen.append(out.shape)
        return out

    monkeypatch.setattr(readers.H5Rows, "read", spy)
    x, y = ds[5]
    assert x.shape == (1, 8, 8, 4) and y.shape == (1, 8, 8, 4)
    assert seen == [(8, 8, 4), (8, 8, 4)]  # only the patch was read, not the volume
    monkeypatch.undo()
    serial = torch.stack([ds[i][0] for i in range(len(ds))])
    ds[0]  # parent opened the file; workers must open their own
    par = torch.cat([b[0] for b in DataLoader(ds, batch_size=3, num_workers=2)])
    assert torch.equal(serial, par)


def test_volume_slices(tmp_path):
    p = tmp_path / "v.h5"
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    with h5py.File(p, "w") as f:
        f["a"], f["b"] = a, -a
    ds = VolumeSlices(p, ("a", "b"), axis=2, volumes=[1])
    assert len(ds) == 5  # axis 2 of a (3, 4, 5) volume
    x, y = ds[2]
    np.testing.assert_array_equal(x[0].numpy(), a[1, :, :, 2])
    np.testing.assert_array_equal(y[0].numpy(), -a[1, :, :, 2])
    par = torch.cat([b[0] for b in DataLoader(ds, batch_size=3, num_workers=2)])
    assert torch.equal(par, torch.stack([ds[i][0] for i in range(5)]))


def _weights(path):
    ck = torch.load(path, weights_only=True)
    return {
        **{f"u.{k}": v for k, v in ck["unet"].items()},
        **{f"p.{k}": v for k, v in ck["prenet"].items()},
    }


def test_resume_gives_same_weights(dataset, tmp_path):
    assert train(dataset, tmp_path / "full", TINY, progress=False)
    # interrupted twice: in the UNet stage and in the PReNet stage
    assert not train(dataset, tmp_path / "pieces", TINY, stop_after_steps=3, progress=False)
    assert not train(dataset, tmp_path / "pieces", TINY, stop_after_steps=2, progress=False)
    assert train(dataset, tmp_path / "pieces", TINY, progress=False)
    a, b = _weights(tmp_path / "full" / "model.pt"), _weights(tmp_path / "pieces" / "model.pt")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the same validation records and the same kept (best-validation) steps
    va = (tmp_path / "full" / "val_history.csv").read_text()
    assert va == (tmp_path / "pieces" / "val_history.csv").read_text()
    sel = [
        torch.load(tmp_path / d / "model.pt", weights_only=True)["selected"]
        for d in ("full", "pieces")
    ]
    assert sel[0] == sel[1]
    with pytest.raises(ValueError, match="different train config"):
        other = TrainConfig.for_model("tiny", unet_steps=5, prenet_steps=3)
        train(dataset, tmp_path / "pieces", other, progress=False)


def test_cli_train_eval_correct(dataset, tmp_path):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(dataset),
                "--out",
                str(run),
                "--config",
                "tiny",
                "--unet-steps",
                "3",
                "--prenet-steps",
                "2",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    assert (
        main(["eval", "--model", str(run), "--data", str(dataset), "--out", str(tmp_path / "ev")])
        == 0
    )
    table = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert {(t["input"], t["method"]) for t in table} == {
        (i, m) for i in ("corrupted", "motion-free") for m in ("input", "unet", "unet+prenet")
    }
    assert (tmp_path / "ev" / "boxplot.png").stat().st_size > 1000
    aff = np.diag([12.0, 12.0, 12.0, 1.0])
    aff[:3, 3] = [-90, -100, -60]
    chi = np.random.default_rng(0).normal(0, 0.05, (16, 16, 12)).astype(np.float32)
    nib.save(nib.Nifti1Image(chi, aff), tmp_path / "chi.nii.gz")
    assert (
        main(
            [
                "correct",
                "--model",
                str(run),
                "-i",
                str(tmp_path / "chi.nii.gz"),
                "-o",
                str(tmp_path / "out.nii.gz"),
            ]
        )
        == 0
    )
    out = nib.load(tmp_path / "out.nii.gz")
    np.testing.assert_allclose(out.affine, aff)
    assert out.shape == chi.shape
    model = load_model(run)
    np.testing.assert_allclose(np.asarray(out.dataobj), correct_volume(model, chi), atol=1e-6)


def test_correct_rejects_bad_input(dataset, tmp_path):
    run = tmp_path / "run"
    train(dataset, run, TINY, progress=False)
    model = load_model(run)
    aff = np.diag([12.0, 12.0, 12.0, 1.0])
    singular = aff.copy()
    singular[:3, :3] = [[12, 12, 0], [12, 12, 0], [0, 0, 12]]  # two axes along one direction
    cases = {
        "4d": (np.zeros((16, 16, 12, 3), np.float32), aff, "expected a 3D chi map"),
        "complex": (np.zeros((16, 16, 12), np.complex64), aff, "complex"),
        "singular": (np.zeros((16, 16, 12), np.float32), singular, "singular"),
        "voxel": (
            np.zeros((16, 16, 12), np.float32),
            np.diag([1.0, 1.0, 1.0, 1.0]),
            "training voxel size",
        ),
    }
    for name, (arr, a, msg) in cases.items():
        p = tmp_path / f"{name}.nii.gz"
        nib.save(nib.Nifti1Image(arr, a), p)
        with pytest.raises(MrsimInputError, match=msg) as exc:
            correct_nifti(model, p, tmp_path / "o.nii.gz")
        assert str(p) in str(exc.value)
    assert not (tmp_path / "o.nii.gz").exists()
    # the CLI turns it into one error line with exit status 2
    assert (
        main(
            [
                "correct",
                "--model",
                str(run),
                "-i",
                str(tmp_path / "4d.nii.gz"),
                "-o",
                str(tmp_path / "o.nii.gz"),
            ]
        )
        == 2
    )


def test_cpu_recipes_load():
    for name in ("qsm_motion_cpu", "qsm_motion_cpu_exact"):
        r = load_recipe(f"datasets/{name}.toml")
        assert r.params["recon"] is True and r.subjects["n"] == 10
    assert load_recipe("datasets/qsm_motion_cpu_exact.toml").params["mixing"] == "exact"


def test_mixed_pairs_fraction_and_determinism():
    main_ds = [(torch.full((1,), float(i)), torch.full((1,), -float(i))) for i in range(30)]
    extra = [(torch.full((1,), 100.0 + i), torch.full((1,), 100.0 + i)) for i in range(8)]
    ds = MixedPairs(main_ds, extra, 0.25, seed=3)
    assert len(ds) == 30 + 10  # 10 / 40 = 0.25 of the items are extra pairs
    assert [ds[i] for i in range(30)] == main_ds
    tail = [float(ds[i][0]) for i in range(30, 40)]
    assert all(t >= 100 for t in tail) and ds.is_extra(30) and not ds.is_extra(29)
    again = MixedPairs(main_ds, extra, 0.25, seed=3)
    assert tail == [float(again[i][0]) for i in range(30, 40)]
    assert len(MixedPairs(main_ds, extra, 0.0)) == 30
    with pytest.raises(ValueError, match="fraction"):
        MixedPairs(main_ds, extra, 1.0)
    with pytest.raises(IndexError):
        ds[40]


def test_identity_pairs_in_both_stages(dataset, tmp_path):
    cfg = TrainConfig.for_model("tiny", unet_steps=2, prenet_steps=1, identity_fraction=0.5)
    ds, vs = _stage_data("unet", cfg, dataset, tmp_path, None)
    n = len(ds.main)
    assert len(ds) == 2 * n  # fraction 0.5: as many identity as corrupted patches
    for i in (n, len(ds) - 1):
        x, y = ds[i]
        assert torch.equal(x, y)  # motion-free input -> motion-free target
    x, y = ds[0]
    assert not torch.equal(x, y)
    assert len(vs) == 2  # the val subject's two profiles
    assert train(dataset, tmp_path / "run", cfg, progress=False)
    with h5py.File(tmp_path / "run" / "unet_outputs.h5", "r") as f:
        assert f["unet_clean"].shape == f["unet"].shape == f["chi_clean"].shape


def test_validation_history_and_kept_weights(dataset, tmp_path):
    run = tmp_path / "run"
    cfg = TrainConfig.for_model("tiny", unet_steps=6, prenet_steps=3, val_every=1)
    assert train(dataset, run, cfg, progress=False)
    with open(run / "val_history.csv") as fh:
        recs = list(csv.DictReader(fh))
    assert [(r["stage"], int(r["step"])) for r in recs] == [("unet", s) for s in range(7)] + [
        ("prenet", s) for s in range(4)
    ]
    assert (run / "loss_curve.png").stat().st_size > 1000
    assert (run / "history.csv").exists()
    ck = torch.load(run / "model.pt", weights_only=True)
    for stage in ("unet", "prenet"):
        rs = [r for r in recs if r["stage"] == stage]
        best = min(rs, key=lambda r: float(r["val_l1"]))
        assert ck["selected"][stage]["step"] == int(best["step"])
        assert [int(r["best"]) for r in rs].count(1) == 1 and int(best["best"]) == 1
    # the shipped UNet is the kept one: its validation loss is the recorded minimum
    model = load_model(run)
    from correctors.qsmnet.infer import unet_volume

    got = validate(lambda v: unet_volume(model, v), _unet_val_set(dataset), 0.25, CHI_SCALE_PPM)
    assert got["val_l1"] == pytest.approx(ck["selected"]["unet"]["val_l1"], rel=1e-5)


def test_unet_outputs_rebuilt_for_other_unet_weights(dataset, tmp_path):
    from correctors.qsmnet.model import build_unet
    from correctors.qsmnet.train import _unet_outputs

    torch.manual_seed(0)
    a = build_unet("tiny")
    path = _unet_outputs(a, dataset, tmp_path)
    with h5py.File(path, "r") as f:
        first = f["unet"][()]
    assert _unet_outputs(a, dataset, tmp_path) == path  # same weights: reused
    b = build_unet("tiny")
    with torch.no_grad():
        for t in b.parameters():
            t.add_(0.1)  # other weights (e.g. a --no-resume run): the file is remade
    _unet_outputs(b, dataset, tmp_path)
    with h5py.File(path, "r") as f:
        assert not np.array_equal(f["unet"][()], first)
