"""Opening a model file never runs code from it (issue 20): every corrector's load paths.

Each test plants a checkpoint whose pickle would create a marker file when unpickled (the
classic ``__reduce__`` payload), passes it where a user would (``--model``, a shared
``runs/`` folder that ``train`` resumes from, ``-c``), and checks that the command refuses it
with an error naming the file and that the marker never appears.
"""

import numpy as np
import pytest
import torch

from correctors.mcnet.__main__ import main as mcnet_main
from correctors.mcnet.infer import load_model
from correctors.mcnet.model import build_model
from correctors.mcnet.train import StageConfig, TrainConfig, train
from correctors.recentre.cli import main as recentre_main
from correctors.recentre.predictor import Predictor
from mrsim.dataset.build import build_dataset
from mrsim.dataset.recipe import load_recipe
from mrsim.errors import MrsimInputError
from mrsim.io.nifti import save_volume


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _plant(path, marker, base: dict | None = None):
    """A checkpoint that looks like a real one but carries the payload."""
    obj = dict(base or {})
    obj["extra_object"] = _Payload(marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    assert not marker.exists()
    return path


def _mcnet_like(model_cfg="tiny") -> dict:
    m = build_model(model_cfg)
    return {"model_config": m.config.to_dict(), "model": m.state_dict()}


@pytest.fixture()
def nifti(tmp_path):
    vol = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    p = tmp_path / "in.nii.gz"
    save_volume(p, vol, np.eye(4))
    return p


def test_mcnet_correct_refuses_pickle_payload(tmp_path, nifti, capsys):
    marker = tmp_path / "pwned_correct"
    evil = _plant(tmp_path / "evil" / "model.pt", marker, _mcnet_like())
    out = tmp_path / "out.nii.gz"
    for model_arg in (evil, evil.parent):  # the file, and a training folder holding it
        rc = mcnet_main(["correct", "--model", str(model_arg), "-i", str(nifti), "-o", str(out)])
        err = capsys.readouterr().err
        assert rc == 2
        assert str(evil) in err and "refused" in err
        assert not marker.exists()
        assert not out.exists()


def test_mcnet_eval_refuses_pickle_payload(tmp_path, capsys):
    marker = tmp_path / "pwned_eval"
    evil = _plant(tmp_path / "run" / "l1.pt", marker, _mcnet_like())
    rc = mcnet_main(
        ["eval", "--model", str(evil), "--data", str(tmp_path), "--out", str(tmp_path / "e")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and str(evil) in err and "refused" in err
    assert not marker.exists()
    with pytest.raises(MrsimInputError, match="refused"):
        load_model(evil)
    assert not marker.exists()


class _Pairs(torch.utils.data.Dataset):
    def __init__(self):
        rng = np.random.default_rng(0)
        self.x = rng.random((4, 32, 32)).astype(np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.x[i]


TOY = """\
name = "toy_resume"
kind = "toy"
seed = 2
samples_per_shard = 4
[subjects]
n = 2
[split]
train = 1
val = 1
test = 0
[params]
samples_per_subject = 1
shape = [2, 32, 32]
"""


def test_mcnet_train_resume_refuses_pickle_payload(tmp_path, capsys):
    cfg = TrainConfig(
        model="tiny", stages=(StageConfig("l1", 1.0, 0.0, 2, 1e-3),), batch_size=2, seed=0
    )
    marker = tmp_path / "pwned_resume"
    base = _mcnet_like() | {
        "train_config": cfg.to_dict(),
        "optimizer": None,
        "stage_index": 0,
        "step": 1,
        "history": [],
        "val_history": [],
    }
    evil = _plant(tmp_path / "run" / "checkpoint_last.pt", marker, base)
    with pytest.raises(MrsimInputError, match="refused") as info:
        train(_Pairs(), evil.parent, cfg, progress=False)
    assert str(evil) in str(info.value)
    assert not marker.exists()
    # the same folder via the command line, on a real dataset: one error line naming the file
    (tmp_path / "toy.toml").write_text(TOY)
    build_dataset(load_recipe(tmp_path / "toy.toml"), tmp_path / "data", progress=False)
    marker2 = tmp_path / "pwned_resume_cli"
    _plant(evil, marker2, base)
    argv = ["train", "--data", str(tmp_path / "data"), "--out", str(evil.parent)]
    rc = mcnet_main([*argv, "--config", "tiny", "--stage1-steps", "1", "--stage2-steps", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and str(evil) in err and "refused" in err
    assert not marker2.exists()


def test_mcnet_real_checkpoint_still_resumes(tmp_path):
    # the checkpoints train writes are weights_only-safe: resume reads them back
    cfg = TrainConfig(
        model="tiny",
        stages=(StageConfig("l1", 1.0, 0.0, 4, 1e-3),),
        batch_size=2,
        seed=0,
        checkpoint_every=1,
    )
    first = train(_Pairs(), tmp_path, cfg, progress=False, stop_after_steps=2)
    assert not first.finished
    ck = torch.load(tmp_path / "checkpoint_last.pt", weights_only=True)
    assert isinstance(ck["model_config"], dict) and ck["step"] == 2
    second = train(_Pairs(), tmp_path, cfg, progress=False)
    assert second.finished and len(second.history) == 4


def test_recentre_checkpoint_paths_refuse_pickle_payload(tmp_path, capsys):
    marker = tmp_path / "pwned_recentre"
    evil = _plant(tmp_path / "recentre.pt", marker, {"format": "mrsim-recentre-v1"})
    with pytest.raises(MrsimInputError, match="refused"):
        Predictor.from_checkpoint(evil)
    assert not marker.exists()
    rc = recentre_main(["eval", "-c", str(evil), "--generate", "2", "--seed", "1"])
    assert rc == 2 and str(evil) in capsys.readouterr().err
    assert not marker.exists()
    motion = tmp_path / "m.csv"
    rows = ["t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg"]
    rows += [f"{i * 0.72:.2f},0,0,0,0,0,0" for i in range(20)]
    motion.write_text("\n".join(rows) + "\n")
    rc = recentre_main(["predict", str(motion), "-c", str(evil), "-o", str(tmp_path / "p")])
    assert rc == 2 and str(evil) in capsys.readouterr().err
    assert not marker.exists()
    assert not (tmp_path / "p.csv").exists()


def test_old_torch_with_unsafe_weights_only_is_refused(tmp_path, monkeypatch):
    from torch.torch_version import TorchVersion

    from correctors.common.checkpoints import load_checkpoint, save_checkpoint

    save_checkpoint({"w": torch.ones(1)}, tmp_path / "ok.pt")
    monkeypatch.setattr(torch, "__version__", TorchVersion("2.5.1"))
    with pytest.raises(MrsimInputError, match="CVE-2025-32434"):
        load_checkpoint(tmp_path / "ok.pt")


def test_no_other_unsafe_loader_in_the_code():
    """A static guard for merges: model files load only through correctors.common.checkpoints,
    and no module reads data with pickle, eval or yaml.load (docs/security.md)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    allowed = {
        ("correctors/common/checkpoints.py", "torch.load"),
        ("mrsim/kspace/line_interp.py", "exec"),  # its own generated source, from memory
    }
    banned = {
        "torch.load",
        "pickle.load",
        "pickle.loads",
        "dill.load",
        "joblib.load",
        "yaml.load",
        "yaml.unsafe_load",
        "eval",
        "exec",
        "marshal.loads",
    }
    found = []
    for folder in ("mrsim", "correctors"):
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                name = (
                    f"{f.value.id}.{f.attr}"
                    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                    else getattr(f, "id", "")
                )
                if name in banned and (rel, name) not in allowed:
                    found.append(f"{rel}:{node.lineno}: {name}(...)")
                for kw in node.keywords:
                    if kw.arg == "allow_pickle" and getattr(kw.value, "value", None) is True:
                        found.append(f"{rel}:{node.lineno}: allow_pickle=True")
    assert not found, "unsafe loaders (use correctors.common.checkpoints):\n" + "\n".join(found)
