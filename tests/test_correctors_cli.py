"""correctors.common.cli: the three corrector command lines share flags and error handling."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from correctors.common.cli import require_rows, time_limit_s
from mrsim.errors import MrsimInputError

CLIS = ("mcnet", "qsmnet", "vqprior")


def _main(name):
    return importlib.import_module(f"correctors.{name}.__main__")


@pytest.mark.parametrize("name", CLIS)
def test_common_flags_parse_alike(name, tmp_path):
    """The DESIGN.md flag names mean the same in every corrector."""
    p = _main(name)._parser()
    a = p.parse_args(
        ["train", "--data", "d", "--out", "o", "--config", "tiny", "--seed", "3"]
        + ["--time-limit-min", "2.5", "--threads", "1", "--no-resume", "--device", "cpu"]
    )
    assert (a.data, a.out, a.config, a.seed, a.threads, a.device) == ("d", "o", "tiny", 3, 1, "cpu")
    assert a.no_resume and time_limit_s(a) == 150.0 and a.func.__name__ == "_train"
    e = p.parse_args(["eval", "--data", "d", "--out", "o", "--model", "m", "--threads", "2"])
    assert (e.split, e.model, e.threads, e.device) == ("test", "m", 2, "auto")
    c = p.parse_args(["correct", "-i", "in.nii", "-o", "out.nii"])
    assert (c.input, c.output, c.model) == ("in.nii", "out.nii", None)
    with pytest.raises(SystemExit):  # argparse: exit 2 with the choices
        p.parse_args(["train", "--data", "d", "--out", "o", "--config", "huge"])


def test_helpers():
    class A:
        time_limit_min = None

    assert time_limit_s(A()) is None
    require_rows([{"x": 1}], "d", "test")
    with pytest.raises(MrsimInputError, match=r"data/x: split 'val' has no samples"):
        require_rows([], "data/x", "val")


@pytest.mark.parametrize(
    "name, target",
    [
        ("mcnet", "correctors.mcnet.train.train"),
        ("qsmnet", "correctors.qsmnet.train.train"),
        ("vqprior", "correctors.vqprior.cli.train_command"),
    ],
)
def test_a_bug_keeps_its_traceback(name, target, tmp_path, monkeypatch, capsys):
    """A plain ValueError from inside the computation is a defect, not 'user error' (exit 2)."""
    mod, attr = target.rsplit(".", 1)

    def bug(*args, **kwargs):
        raise ValueError("an internal bug")

    monkeypatch.setattr(importlib.import_module(mod), attr, bug)
    main = _main(name).main
    if name == "mcnet":  # train() is reached only with readable data: stub the readers too
        monkeypatch.setattr("correctors.mcnet.data.open_pairs", lambda *a, **k: None)
    if name == "qsmnet":
        monkeypatch.setattr("correctors.common.readers.H5Rows", lambda *a, **k: None)
    argv = ["train", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--config", "tiny"]
    with pytest.raises(ValueError, match="an internal bug"):
        main(argv)
    assert "error:" not in capsys.readouterr().err


@pytest.mark.parametrize("name", CLIS)
@pytest.mark.parametrize("command", ["train", "eval"])
def test_missing_dataset_is_one_line(name, command, tmp_path, capsys):
    missing = tmp_path / "no_such_dataset"
    argv = [command, "--data", str(missing), "--out", str(tmp_path / "o")]
    if command == "eval" and name == "qsmnet":
        argv.append("--baseline")
    assert _main(name).main(argv) == 2
    err = capsys.readouterr().err
    assert "no_such_dataset" in err and "Traceback" not in err
    assert err.startswith(f"{name} {command}: error: ")


def test_mcnet_correct_refuses_a_4d_volume(tmp_path, capsys):
    from mrsim.io.nifti import save_volume

    vol = tmp_path / "four_d.nii.gz"
    save_volume(vol, np.ones((4, 8, 8, 2), np.float32), np.eye(4))
    rc = _main("mcnet").main(["correct", "-i", str(vol), "-o", str(tmp_path / "o.nii.gz")])
    err = capsys.readouterr().err
    assert rc == 2 and "four_d.nii.gz" in err and "3D volume" in err, err


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_threads_must_be_a_positive_integer(value, capsys):
    import argparse

    from correctors.common.cli import add_threads

    p = argparse.ArgumentParser()
    add_threads(p)
    with pytest.raises(SystemExit):
        p.parse_args(["--threads", value])
    assert "--threads" in capsys.readouterr().err
