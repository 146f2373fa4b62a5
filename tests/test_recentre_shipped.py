"""The shipped recentre weights: verified load, model card, default of ``predict``."""

import json

import numpy as np
import pytest

from correctors.common.checkpoints import shipped_weights_dir
from correctors.recentre.cli import main
from correctors.recentre.training import SHIPPED_NAME, load_model, predict_windows
from mrsim.motion.formats import read_trajectory, write_trajectory
from mrsim.motion.generators import realistic
from mrsim.motion.windows import make_windows

FOLDER = shipped_weights_dir(SHIPPED_NAME)


def test_shipped_weights_exist_with_a_card():
    card = json.loads((FOLDER / "model_card.json").read_text())
    for key in ("command", "recipe", "seeds", "data", "metrics", "mrsim_version", "sha256"):
        assert key in card, key
    cov = card["metrics"]["held_out_generated"]["gru"]["coverage"]
    assert {"raw", "temperature"} <= set(cov)


def test_shipped_weights_load_and_predict():
    model, norm, meta = load_model(None)
    assert meta["card"]["sha256"] and model.config.var_floor > 0
    assert "calibration" in meta["extra"]
    traj = realistic(60, tr_s=0.72, magnitude_mm=1.0, seed=5)
    X, y = make_windows(traj)
    mean, std = predict_windows(model, norm, X)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)
    # better than a wild guess: within a few mm/deg of the truth
    assert np.abs(mean - y).max() < 1.0


def test_predict_defaults_to_shipped_weights(tmp_path, capsys):
    traj = realistic(40, tr_s=0.72, magnitude_mm=1.0, seed=6)
    src = write_trajectory(traj, tmp_path / "true.csv")
    out = tmp_path / "predicted.csv"
    assert main(["predict", str(src), "-o", str(out)]) == 0
    pred = read_trajectory(out)
    np.testing.assert_allclose(pred.t_s, traj.t_s)
    assert (
        "shipped weights" in out.read_text().splitlines()[0] or "shipped" in capsys.readouterr().out
    )
    # the default is the shipped checkpoint itself: same predictions as naming it
    named = tmp_path / "named.csv"
    assert main(["predict", str(src), "-o", str(named), "--model", str(FOLDER / "model.pt")]) == 0
    np.testing.assert_array_equal(read_trajectory(named).params, pred.params)


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    import shutil

    from correctors.common import checkpoints
    from mrsim.errors import MrsimInputError

    dst = tmp_path / SHIPPED_NAME
    shutil.copytree(FOLDER, dst)
    with open(dst / "model.pt", "ab") as f:
        f.write(b"\0")
    monkeypatch.setattr(checkpoints, "WEIGHTS_ROOT", tmp_path)
    with pytest.raises(MrsimInputError, match="sha256"):
        load_model(None)
