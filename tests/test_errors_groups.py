"""Fresh instances of the issue-19 groups beyond the bad-input table: other sizes, files,
formats and commands of the same kind, and the physics of the answers that are not errors."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pytest

from mrsim.errors import MotionBoundsWarning, MrsimInputError
from mrsim.kspace.mprage_protocol import MIN_ECHO_SPACING_S, mprage_protocol
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion.formats import read_trajectory, write_trajectory
from mrsim.motion.trajectory import Trajectory

# --------------------------------------------------------------------------------------------
# 1: a protocol that fits any phase-encode length


@pytest.mark.parametrize("ordering", ["linear", "centric", "interleaved", "per-line"])
@pytest.mark.parametrize("n_ky", [7, 64, 176, 256, 257, 258, 260, 288, 311, 320, 400, 512, 700])
def test_derived_protocol_builds_a_schedule_with_the_centre_at_ti(ordering, n_ky):
    p = mprage_protocol(n_ky, ordering)
    sched = mprage_schedule(
        (8, n_ky, 3),
        ordering=ordering,
        ti_s=p.ti_s,
        echo_spacing_s=p.echo_spacing_s,
        shot_tr_s=p.shot_tr_s,
    )
    assert p.echo_spacing_s >= MIN_ECHO_SPACING_S
    if ordering == "per-line":
        return
    # the k-space-centre readout of each train is TI after that shot's inversion
    ky = sched.pe_index[:, 0]
    centre = ky == 0
    t_in_shot = sched.time_s[centre] - sched.shot[centre] * p.shot_tr_s
    np.testing.assert_allclose(t_in_shot, p.ti_s, atol=1e-9)
    # every readout lies inside its shot
    t_all = sched.time_s - sched.shot * p.shot_tr_s
    assert t_all.min() >= -1e-12 and t_all.max() <= p.shot_tr_s + 1e-12


def test_protocol_keeps_seed_defaults_where_they_fit_and_user_values_always():
    for n in (16, 128, 200, 257):
        p = mprage_protocol(n, "linear")
        assert (p.ti_s, p.echo_spacing_s, p.shot_tr_s, p.derived) == (0.9, 0.007, 2.3, ())
    p = mprage_protocol(311, "linear", ti_s=1.2)
    assert p.ti_s == 1.2 and p.echo_spacing_s == 0.007  # 155 x 7 ms fits in 1.2 s
    p = mprage_protocol(311, "linear", echo_spacing_s=0.006)
    assert p.echo_spacing_s == 0.006 and p.ti_s == pytest.approx(155 * 0.006)
    assert "TI" in p.describe() and "derived" in p.describe()


@pytest.mark.parametrize(
    ("kw", "flag"),
    [
        ({"ti_s": 0.4, "echo_spacing_s": 0.006}, "--ti-s 0.4 s is shorter"),
        ({"ti_s": 0.2}, "--ti-s 0.2 s is too short for a 400-line train"),
        ({"shot_tr_s": 1.0, "echo_spacing_s": 0.006}, "--shot-tr-s 1 s is too short"),
        ({"echo_spacing_s": 0.0}, "--echo-spacing-s must be a positive number"),
    ],
)
def test_protocol_errors_name_the_cli_flags(kw, flag):
    with pytest.raises(MrsimInputError, match="^" + flag.replace("(", r"\(")) as err:
        mprage_protocol(400, "linear", **kw)
    assert "ti_s" not in str(err.value) and "echo_spacing_s" not in str(err.value)


# --------------------------------------------------------------------------------------------
# 2: complex images are corrupted as complex images (the engine is linear)


def _cube(shape=(12, 14, 10)):
    x = np.zeros(shape, np.float32)
    x[3:9, 4:10, 2:8] = 1.0
    x[5:7, 6:8, 4:6] = 2.0
    return x


def test_complex_corruption_is_linear_and_keeps_the_phase():
    from mrsim.kspace.corrupt import CorruptionSettings
    from mrsim.kspace.volume import corrupt_volume
    from mrsim.motion.generators import event_profile

    rng = np.random.default_rng(4)
    a, b = _cube(), rng.standard_normal((12, 14, 10)).astype(np.float32) * _cube()
    sched = mprage_schedule(a.shape)
    traj = event_profile(duration_s=sched.duration_s + 1, n=200, seed=2)
    s = CorruptionSettings(output="complex").updated(eps=1e-9)

    def run(img):
        return corrupt_volume(img, np.eye(4), traj, sched, s).result.image

    za, zb, zc = run(a), run(b), run(a + 1j * b)
    np.testing.assert_allclose(zc, za + 1j * zb, atol=1e-5 * np.abs(zc).max())
    # no motion: the complex image comes back, phase included
    still = Trajectory.identity([0.0, sched.duration_s + 1])
    phase = np.exp(1j * rng.uniform(-np.pi, np.pi, a.shape)).astype(np.complex64)
    img = a * phase
    out = corrupt_volume(img, np.eye(4), still, sched, s).result.image
    np.testing.assert_allclose(out, img, atol=1e-5)


def test_real_readers_refuse_complex_nifti(tmp_path):
    import nibabel as nib

    from mrsim.io.nifti import load_volume

    p = tmp_path / "c.nii"
    nib.save(nib.Nifti1Image((_cube() * 1j).astype(np.complex64), np.eye(4)), str(p))
    with pytest.raises(MrsimInputError, match="c.nii: holds complex data"):
        load_volume(p)
    data, _ = load_volume(p, dtype=None)
    assert np.iscomplexobj(data)
    np.testing.assert_array_equal(data.imag, _cube())


# --------------------------------------------------------------------------------------------
# 2: missing / damaged shards named by the readers


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory) -> Path:
    from mrsim.dataset.build import build_dataset
    from mrsim.dataset.recipe import recipe_from_dict

    raw = {
        "name": "toy_groups",
        "kind": "toy",
        "seed": 9,
        "samples_per_shard": 3,
        "subjects": {"n": 3},
        "split": {"train": 1, "val": 1, "test": 1},
        "params": {"samples_per_subject": 3, "variants": ["rot"], "shape": [3, 8, 8]},
    }
    out = tmp_path_factory.mktemp("groups") / "ds"
    build_dataset(recipe_from_dict(raw), out, progress=False)
    return out


@pytest.mark.parametrize("damage", ["delete", "truncate", "garbage", "incomplete"])
def test_reader_refuses_a_damaged_shard_naming_it(toy_dataset, tmp_path, damage):
    import shutil

    import h5py

    from mrsim.io.hdf5 import resolve_dataset_file

    ds = tmp_path / "ds"
    shutil.copytree(toy_dataset, ds)
    shard = sorted((ds / "shards").glob("*.h5"))[2]
    if damage == "delete":
        shard.unlink()
    elif damage == "truncate":
        shard.write_bytes(shard.read_bytes()[:1000])
    elif damage == "garbage":
        shard.write_bytes(b"not hdf5 at all" * 100)
    else:
        with h5py.File(shard, "a") as f:
            f.attrs["complete"] = False
    with pytest.raises(MrsimInputError, match=shard.name) as err:
        resolve_dataset_file(ds)
    assert "samples 6-8" in str(err.value) and "mrsim dataset build" in str(err.value)


def test_torch_reader_refuses_a_missing_shard(toy_dataset, tmp_path):
    import shutil

    pytest.importorskip("torch")
    from correctors.common.readers import SliceDataset

    ds = tmp_path / "ds"
    shutil.copytree(toy_dataset, ds)
    next(iter(sorted((ds / "shards").glob("*.h5")))).unlink()
    with pytest.raises(MrsimInputError, match="is missing"):
        SliceDataset(ds, "train")


# --------------------------------------------------------------------------------------------
# 3: plausibility on every format


@pytest.mark.parametrize(
    ("fmt", "name", "rot", "hint"),
    [
        ("fsl", "m.par", 0.45, "fsl file"),
        ("spm", "rp_m.txt", -0.5, "spm file"),
        ("fmriprep", "m_desc-confounds_timeseries.tsv", 0.4, "fmriprep file"),
        ("afni", "m.1D", 25.0, None),
        ("hcp", "Movement_Regressors.txt", 30.0, None),
        ("mrsim", "m.csv", 21.0, None),
    ],
)
def test_bounds_warn_on_every_format(tmp_path, fmt, name, rot, hint):
    deg = np.rad2deg(rot) if hint else rot
    p = np.zeros((3, 6))
    p[2, 4] = deg  # ry
    path = write_trajectory(Trajectory([0, 1, 2], p), tmp_path / name, format=fmt)
    with pytest.warns(MotionBoundsWarning, match=str(path.name)) as rec:
        read_trajectory(path, format=fmt, tr_s=1.0)
    msg = str(rec[0].message)
    assert "beyond the physiological bound 20 deg" in msg
    assert (hint in msg) if hint else ("rad in the" not in msg)


@pytest.mark.parametrize(
    ("col", "value", "match"),
    [(0, 301.0, "tx = 301"), (1, -450.0, "ty = -450"), (3, 181.0, "rx = 181"), (5, -720, "rz")],
)
def test_bounds_refuse_impossible_poses(tmp_path, col, value, match):
    p = np.zeros((4, 6))
    p[3, col] = value
    path = write_trajectory(Trajectory([0, 1, 2, 3], p), tmp_path / "m.csv")
    with pytest.raises(MrsimInputError, match=f"m.csv: sample 4, column .*{match}"):
        read_trajectory(path)


@pytest.mark.parametrize("kind", ["pace", "events", "realistic"])
def test_generated_motion_raises_no_bounds_warning(kind):
    from mrsim.motion import GENERATORS
    from mrsim.motion.bounds import check_motion_bounds

    with warnings.catch_warnings():
        warnings.simplefilter("error", MotionBoundsWarning)
        for seed in range(12):
            traj = GENERATORS[kind](seed=seed)
            for fmt in (None, "fsl", "spm", "fmriprep"):  # also no "looks like degrees"
                check_motion_bounds(traj, f"{kind} seed {seed}", fmt)


# --------------------------------------------------------------------------------------------
# 5: a byte-order mark is not data, in every text format


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("mrsim", "m.csv"),
        ("fsl", "m.par"),
        ("spm", "rp_m.txt"),
        ("afni", "m.1D"),
        ("hcp", "Movement_Regressors.txt"),
        ("fmriprep", "m_desc-confounds_timeseries.tsv"),
    ],
)
def test_byte_order_mark_is_stripped(tmp_path, fmt, name):
    p = np.zeros((3, 6))
    p[1] = [0.5, -0.2, 0.1, 1.0, 0.5, -0.3]
    path = write_trajectory(Trajectory([0, 2, 4], p), tmp_path / name, format=fmt)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    got = read_trajectory(path, format=None, tr_s=2.0)
    np.testing.assert_allclose(got.params, p, atol=1e-9)


# --------------------------------------------------------------------------------------------
# 4: all or nothing


def test_staged_outputs_write_nothing_on_error(tmp_path):
    from mrsim.io.output_set import StagedOutputs

    (tmp_path / "old.txt").write_text("previous result")
    with pytest.raises(RuntimeError), StagedOutputs() as stage:
        stage.path(tmp_path / "a.txt").write_text("a")
        stage.path(tmp_path / "old.txt").write_text("new")
        raise RuntimeError("the third step failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]
    assert (tmp_path / "old.txt").read_text() == "previous result"


@pytest.mark.parametrize("fail", ["figure", "kspace"])
def test_corrupt_leaves_no_output_when_a_late_step_fails(tmp_path, monkeypatch, fail):
    import shutil

    import nibabel as nib

    import mrsim.io.kspace_file
    import mrsim.kspace.figure
    from mrsim.cli import main

    repo = Path(__file__).resolve().parents[1]
    shutil.copy(repo / "examples" / "pace.csv", tmp_path / "pace.csv")
    nib.save(nib.Nifti1Image(_cube((10, 10, 10)), np.eye(4)), str(tmp_path / "c.nii.gz"))

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    target = mrsim.kspace.figure if fail == "figure" else mrsim.io.kspace_file
    monkeypatch.setattr(
        target, "corruption_figure" if fail == "figure" else "write_kspace_file", boom
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OSError, match="No space"):
        main(
            "corrupt --trajectory pace.csv --input c.nii.gz --mapping stretch "
            "--save-kspace out/k.h5 -o out".split()
        )
    left = list((tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    assert left == [], left


# --------------------------------------------------------------------------------------------
# 7: --help says what is written where, and the defaults


def _actions(parser, name="mrsim"):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub, p in a.choices.items():
                yield from _actions(p, f"{name} {sub}")
        else:
            yield name, a


def test_help_states_every_default():
    from mrsim.cli import build_parser

    missing = [
        f"{cmd} {a.option_strings}"
        for cmd, a in _actions(build_parser())
        if a.option_strings
        and a.default not in (None, False, argparse.SUPPRESS)
        and "default" not in (a.help or "")
    ]
    assert missing == []


def test_help_names_the_output_files():
    from mrsim.cli import build_parser

    want = {
        "mrsim corrupt": ("clean.nii.gz", "corrupted.nii.gz", "corruption.json"),
        "mrsim qsm simulate": ("corrupted_mag.nii.gz", "params.json", "motion.csv"),
        "mrsim qsm recon": ("chi_ppm", "metrics.json"),
        "mrsim dataset build": ("dataset.h5", "shards/"),
        "mrsim fd": ("CSV", "fd_KIND_mm"),
        "mrsim motion generate": (".csv", ".par"),
        "mrsim motion plot": ("PNG",),
    }
    helps = {}
    for cmd, a in _actions(build_parser()):
        if a.dest in ("output", "out") and a.option_strings:
            helps[cmd] = a.help
    for cmd, words in want.items():
        for w in words:
            assert w in helps[cmd], (cmd, helps[cmd])


@pytest.mark.slow
def test_issue_high_resolution_command_runs(tmp_path, monkeypatch):
    """The issue's reproduction, full size: `mrsim corrupt --trajectory examples/pace.csv
    --matrix 288,288,192 --mapping stretch` (about 4 min and 1.5 GB on one core)."""
    import json

    from mrsim.cli import main

    repo = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)
    status = main(
        [
            "corrupt",
            "--trajectory",
            str(repo / "examples" / "pace.csv"),
            "--phantom",
            "template",
            "--matrix",
            "288,288,192",
            "--mapping",
            "stretch",
            "--threads",
            "1",
            "-o",
            "hr",
        ]
    )
    assert status == 0
    report = json.loads((tmp_path / "hr" / "corruption.json").read_text())
    assert report["protocol"]["echo_spacing_s"] == pytest.approx(0.9 / 144)
    assert 0.5 < report["ssim"] < 1.0


# --------------------------------------------------------------------------------------------
# 6: run_command's answers to Ctrl-C, a closed pipe and warnings (in-process)


def _parser(func):
    p = argparse.ArgumentParser(prog="tool")
    sub = p.add_subparsers(dest="command")
    s = sub.add_parser("go")
    s.add_argument("--no-motion-warnings", action="store_true")
    s.set_defaults(func=func)
    return p


def test_run_command_interrupt_pipe_and_warnings(capsys):
    from mrsim.command import INTERRUPTED_STATUS, run_command
    from mrsim.errors import MrsimWarning

    def interrupted(args):
        raise KeyboardInterrupt

    assert run_command(_parser(interrupted), ["go"], "tool") == INTERRUPTED_STATUS == 130
    assert capsys.readouterr().err.strip() == "tool go: interrupted; re-run to resume"

    def warns(args):
        warnings.warn("a.csv: sample 3, column rx: too big", MotionBoundsWarning, stacklevel=1)
        warnings.warn("other note", MrsimWarning, stacklevel=1)
        return 0

    assert run_command(_parser(warns), ["go"], "tool") == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "tool go: warning: a.csv: sample 3, column rx: too big",
        "tool go: warning: other note",
    ]
    assert run_command(_parser(warns), ["go", "--no-motion-warnings"], "tool") == 0
    assert capsys.readouterr().err.splitlines() == ["tool go: warning: other note"]


def test_qsm_simulate_leaves_no_output_when_a_late_step_fails(tmp_path, monkeypatch):
    import mrsim.cli.qsm
    from mrsim.cli import main

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mrsim.cli.qsm, "_figure", boom)  # the last file written
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OSError, match="No space"):
        main("qsm simulate --shape 8 8 8 --voxel-size 12 --n-echoes 2 --motion-seed 1 -o q".split())
    left = list((tmp_path / "q").iterdir()) if (tmp_path / "q").exists() else []
    assert left == [], left


def test_motion_generate_pace_is_the_shipped_example(tmp_path, capsys):
    """The help and error messages say `mrsim motion generate pace --seed 0 -o pace.csv`
    writes the trace of examples/pace.csv (the way to get it outside the source tree)."""
    from mrsim.cli import main

    repo = Path(__file__).resolve().parents[1]
    assert main(["motion", "generate", "pace", "--seed", "0", "-o", str(tmp_path / "p.csv")]) == 0
    got, want = read_trajectory(tmp_path / "p.csv"), read_trajectory(repo / "examples" / "pace.csv")
    np.testing.assert_allclose(got.t_s, want.t_s, atol=1e-9)
    np.testing.assert_allclose(got.params, want.params, atol=1e-9)
