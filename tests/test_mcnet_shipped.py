"""Shipped MC-Net weights: `correct` works out of the box, and only on the weights the card
describes (issue 19 item 8, issue 20)."""

import json
import shutil

import numpy as np
import pytest
import torch

from correctors.common.checkpoints import load_verified, shipped_weights_dir
from correctors.mcnet.__main__ import main
from correctors.mcnet.infer import correct_volume, load_model
from correctors.mcnet.ship import ship
from mrsim.dataset.build import build_dataset
from mrsim.dataset.recipe import load_recipe
from mrsim.errors import MrsimInputError
from mrsim.io.nifti import load_volume, save_volume

SHIPPED = shipped_weights_dir("mcnet")


def test_shipped_card_describes_the_weights():
    ck, card = load_verified(SHIPPED)
    for key in ("command", "recipe", "seeds", "data", "metrics", "mrsim_version", "sha256"):
        assert card.get(key), key
    assert set(card["command"]) >= {"data", "train", "eval"}
    assert card["model_config"] == ck["model_config"]
    assert card["data"]["splits"]["test"]["slices"] > 0
    rows = {r["variant"]: r for r in card["metrics"]["table"]}
    assert rows["all"]["ssim_corrected_mean"] > rows["all"]["ssim_corrupted_mean"]
    assert (SHIPPED / "model.pt").stat().st_size < 5_000_000


def test_shipped_weights_correct_a_small_volume(tmp_path, capsys):
    model = load_model()  # no path: the shipped weights, hash-verified
    assert (
        model.config.to_dict()
        == json.loads((SHIPPED / "model_card.json").read_text())["model_config"]
    )
    rng = np.random.default_rng(0)
    vol = (rng.random((3, 32, 48)) * 100).astype(np.float32)
    out = correct_volume(model, vol)
    assert out.shape == vol.shape and np.isfinite(out).all()
    # the command line with no --model
    src, dst = tmp_path / "corrupted.nii.gz", tmp_path / "out.nii.gz"
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    save_volume(src, vol, affine)
    assert main(["correct", "-i", str(src), "-o", str(dst)]) == 0
    got, aff = load_volume(dst)
    assert got.shape == vol.shape and np.allclose(aff, affine)
    np.testing.assert_allclose(np.real(got), out, rtol=1e-5, atol=1e-4)


def test_tampered_copy_of_the_shipped_weights_is_refused(tmp_path, capsys):
    copy = tmp_path / "mcnet"
    shutil.copytree(SHIPPED, copy)
    raw = bytearray((copy / "model.pt").read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one flipped bit in the weights
    (copy / "model.pt").write_bytes(raw)
    with pytest.raises(MrsimInputError, match="sha256"):
        load_model(copy)
    vol = tmp_path / "in.nii.gz"
    save_volume(vol, np.ones((2, 32, 32), np.float32), np.eye(4))
    rc = main(["correct", "--model", str(copy), "-i", str(vol), "-o", str(tmp_path / "o.nii")])
    assert rc == 2 and "sha256" in capsys.readouterr().err
    assert not (tmp_path / "o.nii").exists()


TOY = """\
name = "toy_ship"
kind = "toy"
seed = 5
samples_per_shard = 4
[subjects]
n = 3
[split]
train = 1
val = 1
test = 1
[params]
samples_per_subject = 1
variants = ["rot", "rot_trans"]
shape = [2, 32, 32]
"""


def test_ship_writes_a_verified_card(tmp_path):
    (tmp_path / "toy.toml").write_text(TOY)
    data = tmp_path / "data"
    build_dataset(load_recipe(tmp_path / "toy.toml"), data, progress=False)
    run = tmp_path / "run"
    common = ["--data", str(data)]
    args = ["train", *common, "--out", str(run), "--config", "tiny", "--stage1-steps", "2"]
    assert main([*args, "--stage2-steps", "1", "--batch-size", "2"]) == 0
    assert main(["eval", "--model", str(run), *common, "--out", str(run / "eval")]) == 0
    dest = tmp_path / "weights"
    card_path = ship(run, data, run / "eval", dest, commands={"train": "x", "data": "y"})
    card = json.loads(card_path.read_text())
    splits = card["data"]["splits"]
    assert {k: (v["samples"], v["slices"]) for k, v in splits.items()} == {
        "train": (2, 4),
        "val": (2, 4),
        "test": (2, 4),
    }  # 1 subject x 2 variants x 2 slices per split
    assert sorted(sum((v["subjects"] for v in splits.values()), [])) == [0, 1, 2]
    assert card["seeds"]["recipe"] == 5 and card["seeds"]["training"] == 0
    assert card["training"]["steps"] == 3
    ck = torch.load(dest / "model.pt", weights_only=True)
    assert set(ck) == {"model_config", "model"}
    m = load_model(dest)  # a folder with a card is loaded through the card
    assert m.config.to_dict() == card["model_config"]
    # a stage's weights (e.g. stage 1 only) ship with the history up to that stage
    card1 = json.loads(ship(run, data, run / "eval", tmp_path / "w1", weights="l1.pt").read_text())
    assert card1["training"]["steps"] == 2 and card1["training"]["weights_of_stage"] == "l1"
