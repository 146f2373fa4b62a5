"""``python -m correctors.recentre train|eval|predict`` end to end on a tiny config."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from correctors.recentre.cli import main  # noqa: E402
from mrsim.motion.formats import read_trajectory, write_trajectory  # noqa: E402
from mrsim.motion.generators import realistic  # noqa: E402

TINY = ["--hidden", "16", "--num-layers", "1", "--fc-hidden", "32", "--epochs", "2", "-q"]


def test_train_eval_predict(tmp_path, capsys):
    ck = tmp_path / "r.pt"
    assert main(["train", "--generate", "3", "--seed", "0", "-o", str(ck), *TINY]) == 0
    assert ck.is_file()
    js = tmp_path / "m.json"
    assert main(["eval", "-c", str(ck), "--generate", "1", "--seed", "9", "--json", str(js)]) == 0
    rows = json.loads(js.read_text())
    assert set(rows) == {"gru", "persistence", "linear", "kalman_cv", "ar6"}
    assert rows["persistence"]["fd_gain"] == 0.0
    out = capsys.readouterr().out
    assert "| gru |" in out and "| persistence |" in out

    motion = tmp_path / "rp_sub01.txt"  # SPM: radians, no time column
    traj = realistic(60, tr_s=2.0, magnitude_mm=1.0, seed=1)
    write_trajectory(traj, motion, format="spm")
    stem = tmp_path / "out" / "pred"
    argv = ["predict", str(motion), "-c", str(ck), "--tr", "2.0", "-o", str(stem)]
    assert main([*argv, "--warmup", "none"]) == 0
    pred = read_trajectory(stem.with_suffix(".csv"))
    assert len(pred) == 60 - 14
    np.testing.assert_allclose(pred.t_s, traj.t_s[14:])
    # default: the first 14 samples by persistence, so the file covers the whole scan
    assert (
        main(["predict", str(motion), "--model", str(ck), "--tr", "2.0", "-o", f"{stem}.csv"]) == 0
    )
    full = read_trajectory(stem.with_suffix(".csv"))
    np.testing.assert_allclose(full.t_s, traj.t_s)
    np.testing.assert_allclose(full.params[1:14], traj.params[:13], atol=1e-6)
    np.testing.assert_allclose(full.params[14:], pred.params, atol=1e-9)
    table = np.loadtxt(tmp_path / "out" / "pred_intervals.csv", delimiter=",", skiprows=1)
    assert table.shape == (46, 1 + 7 * 6)
    np.testing.assert_allclose(table[:, 1:7], traj.params[14:], atol=1e-5)  # true columns
    mean, lo95, hi95 = table[:, 7:13], table[:, 31:37], table[:, 37:43]
    assert np.all(lo95 < mean) and np.all(mean < hi95)
    assert (tmp_path / "out" / "pred.png").stat().st_size > 0

    # calibrate on the recorded validation trajectory: temperatures stored, std scaled
    cal = tmp_path / "cal.pt"
    assert main(["calibrate", "--model", str(ck), "-o", str(cal), "--method", "coverage"]) == 0
    from correctors.recentre.training import load_checkpoint

    m0, _, _ = load_checkpoint(ck)
    m1, _, meta = load_checkpoint(cal)
    T = meta["extra"]["calibration"]["temperature"]
    assert list(m1.config.temperature) == T and m0.config.temperature == (1.0,) * 6
    assert abs(meta["extra"]["calibration"]["val_coverage_1sigma_after"] - 0.6827) < 0.02
    assert len(meta["extra"]["calibration"]["z_quantiles"]["q"][0]) == 6
    assert main(["predict", str(motion), "--model", str(cal), "--tr", "2.0", "-o", str(stem)]) == 0


def test_cli_errors_name_the_file(tmp_path, capsys):
    missing = tmp_path / "nope.pt"
    motion = tmp_path / "m.par"
    motion.write_text("0 0 0 0 0\n")
    assert main(["predict", str(motion), "-c", str(missing), "-o", str(tmp_path / "x")]) == 2
    assert "nope.pt: no such checkpoint" in capsys.readouterr().err
    assert main(["eval", "-c", str(missing), "--generate", "1"]) == 2
    args = ["train", "--files", str(motion), "--fresh-per-epoch", "-o", str(tmp_path / "r.pt")]
    assert main(args) == 2
    assert "--fresh-per-epoch needs --generate" in capsys.readouterr().err


def test_train_eval_on_motion_windows_dataset(tmp_path):
    """The recipe's stored windows are make_windows of its stored trajectories."""
    from correctors.common.readers import H5Rows
    from correctors.recentre.data import read_dataset_trajectories
    from mrsim.cli import main as mrsim_main
    from mrsim.motion.windows import make_windows

    recipe = tmp_path / "w.toml"
    recipe.write_text(
        'name = "w"\nkind = "motion_windows"\nseed = 3\nsamples_per_shard = 4\n'
        "[split]\ntrain = 0.5\nval = 0.25\ntest = 0.25\n"
        '[params]\nsource = "generated"\nn_subjects = 4\n'
        "[params.acquisitions]\nrest = 60\nwm = 40\n"
    )
    out = tmp_path / "ds"
    assert mrsim_main(["dataset", "build", str(recipe), "--out", str(out)]) == 0
    trajs = read_dataset_trajectories(str(out), "train")
    rows = H5Rows(out, "train", ("inputs", "targets"))
    off = rows.index["inputs_offsets"]
    for traj, r in zip(trajs, rows.rows, strict=True):
        X, y = make_windows(traj)
        sel = (slice(int(off[r]), int(off[r + 1])),)
        np.testing.assert_allclose(rows.read("inputs", sel), X, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(rows.read("targets", sel), y, rtol=1e-6, atol=1e-6)
    ck = tmp_path / "r.pt"
    assert main(["train", "--dataset", str(out), "-o", str(ck), *TINY]) == 0
    assert main(["eval", "-c", str(ck), "--dataset", str(out), "--split", "test"]) == 0
