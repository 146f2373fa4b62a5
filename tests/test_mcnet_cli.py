"""`python -m correctors.mcnet train|eval|correct` on a tiny toy-kind HDF5 dataset."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from correctors.mcnet.__main__ import main  # noqa: E402
from correctors.mcnet.data import iter_samples, open_pairs  # noqa: E402
from mrsim.dataset.build import build_dataset  # noqa: E402
from mrsim.dataset.recipe import load_recipe  # noqa: E402
from mrsim.io.nifti import load_volume, save_volume  # noqa: E402
from mrsim.metrics import ssim  # noqa: E402

TOY = """\
name = "toy_mcnet"
kind = "toy"
seed = 5
samples_per_shard = 4
[subjects]
n = 4
[split]
train = 2
val = 1
test = 1
[params]
samples_per_subject = 1
variants = ["rot", "rot_trans"]
shape = [3, 32, 32]
noise = 0.1
"""


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("mcnet_cli")
    (d / "toy.toml").write_text(TOY)
    build_dataset(load_recipe(d / "toy.toml"), d / "data", progress=False)
    return d


def test_readers_split_and_metadata(toy_data):
    train = open_pairs(toy_data / "data", "train")
    assert len(train) == 2 * 2 * 3  # subjects x variants x slices
    c, r = train[0]
    assert c.shape == r.shape == (1, 32, 32)
    samples = list(iter_samples(toy_data / "data", "test"))
    assert sorted(s["variant"] for s in samples) == ["rot", "rot_trans"]
    assert all(s["corrupted"].shape == (3, 32, 32) for s in samples)
    assert samples[0]["data_range"] == pytest.approx(float(samples[0]["clean"].max()))


def test_train_eval_correct_roundtrip(toy_data, capsys):
    out = toy_data / "run"
    data = str(toy_data / "data")
    argv = [
        "train",
        "--data",
        data,
        "--out",
        str(out),
        "--config",
        "tiny",
        "--stage1-steps",
        "3",
        "--stage2-steps",
        "2",
        "--batch-size",
        "4",
        "--val-every",
        "2",
        "--checkpoint-every",
        "2",
    ]
    assert main(argv) == 0
    hist = (out / "history.csv").read_text().splitlines()
    assert len(hist) == 1 + 5 and hist[-1].startswith("l1tv_ft,2,5,")
    assert main(argv) == 0  # resuming a finished run trains nothing more
    assert len((out / "history.csv").read_text().splitlines()) == 6

    ev = toy_data / "eval"
    assert main(["eval", "--model", str(out), "--data", data, "--out", str(ev)]) == 0
    summary = json.loads((ev / "summary.json").read_text())
    by_variant = {s["variant"]: s for s in summary}
    assert set(by_variant) == {"rot", "rot_trans", "all"}
    assert by_variant["all"]["n_slices"] == 6 and by_variant["rot"]["n_slices"] == 3
    # the corrupted column is exactly mrsim.metrics.ssim on the test samples
    for s in iter_samples(data, "test"):
        expected = ssim(s["clean"], s["corrupted"])
        assert by_variant[s["variant"]]["ssim_corrupted_mean"] == pytest.approx(expected)
    assert "| rot | 3 |" in capsys.readouterr().out

    vol = np.random.default_rng(0).random((5, 32, 20)).astype(np.float32)
    save_volume(toy_data / "in.nii.gz", vol, np.diag([2.0, 1.0, 1.0, 1.0]))
    rc = main(
        [
            "correct",
            "--model",
            str(out / "model.pt"),
            "-i",
            str(toy_data / "in.nii.gz"),
            "-o",
            str(toy_data / "out.nii.gz"),
            "--axis",
            "0",
        ]
    )
    assert rc == 0
    got, aff = load_volume(toy_data / "out.nii.gz")
    assert got.shape == vol.shape and np.allclose(aff, np.diag([2.0, 1.0, 1.0, 1.0]))


def test_errors_name_the_file(toy_data, capsys):
    rc = main(["correct", "--model", str(toy_data / "nope.pt"), "-i", "x.nii", "-o", "y.nii"])
    assert rc == 2 and "nope.pt" in capsys.readouterr().err
    rc = main(["eval", "--data", str(toy_data / "missing"), "--out", str(toy_data / "e")])
    assert rc == 2 and "missing" in capsys.readouterr().err


def test_resume_with_other_options_is_one_line(toy_data, capsys):
    out = toy_data / "resume_other"
    base = ["train", "--data", str(toy_data / "data"), "--out", str(out), "--config", "tiny"]
    base += ["--batch-size", "2", "--stage2-steps", "0"]
    assert main([*base, "--stage1-steps", "1"]) == 0
    capsys.readouterr()
    assert main([*base, "--stage1-steps", "2"]) == 2  # the checkpoint holds 1-step options
    err = capsys.readouterr().err
    assert "checkpoint_last.pt" in err and "different train config" in err
    assert "--no-resume" in err and "Traceback" not in err
    assert main([*base, "--stage1-steps", "2", "--no-resume"]) == 0
