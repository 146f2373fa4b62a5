"""``mrsim corrupt`` defaults to the full-head phantom with echo-train physics; echo-train
corruption with receive coils and noise."""

import json
from pathlib import Path

import numpy as np
import pytest

from mrsim.cli import main

REPO = Path(__file__).resolve().parents[1]


def _pace(tmp_path, duration_s, name="pace.csv"):
    from mrsim.motion.formats import write_trajectory
    from mrsim.motion.generators import pace_like

    path = tmp_path / name
    write_trajectory(pace_like(n=32, scale=4.0, duration_s=duration_s, seed=5), path)
    return path


def test_choose_defaults():
    import argparse

    from mrsim.cli.corrupt import choose_defaults

    def ns(**kw):
        base = dict(input=None, phantom=None, contrast=None, readout_axis=None)
        return argparse.Namespace(**{**base, **kw})

    a = choose_defaults(ns())
    assert (a.phantom, a.contrast, a.readout_axis) == ("head", "echo-train", 2)
    a = choose_defaults(ns(phantom="template"))
    assert (a.phantom, a.contrast, a.readout_axis) == ("template", "static", 0)
    a = choose_defaults(ns(input="t1.nii.gz"))
    assert (a.phantom, a.contrast, a.readout_axis) == (None, "static", 0)
    a = choose_defaults(ns(contrast="static", readout_axis=1))
    assert (a.phantom, a.contrast, a.readout_axis) == ("head", "static", 1)


def test_corrupt_default_is_head_echo_train(tmp_path, capsys):
    # 12 x 16 x 16, readout axis 2: 16 shots x 2.3 s = 36.8 s; a 20 s trajectory is stretched
    short = _pace(tmp_path, 20.0, "short.csv")
    base = ["corrupt", "--trajectory", str(short), "--matrix", "12,16,16"]
    assert main(base + ["-o", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "stretched over the scan" in out and "--mapping seconds" in out
    info = json.loads((tmp_path / "d" / "corruption.json").read_text())
    assert info["phantom"] == "head" and info["contrast"] == "echo-train"
    assert info["settings"]["contrast"] == "echo-train" and info["settings"]["phantom"] == "head"
    assert info["readout_axis"] == 2 and info["settings"]["readout_axis"] == 2
    assert info["mapping"] == "stretch" and info["settings"]["mapping"] == "stretch"
    assert info["settings"]["shape"] == [12, 16, 16]
    # explicit --mapping seconds refuses the short trajectory, naming it
    rc = main(base + ["--mapping", "seconds", "-o", str(tmp_path / "x")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "short.csv" in err and "stretch" in err
    # a trajectory covering the scan keeps scan seconds, without the notice
    long = _pace(tmp_path, 50.0, "long.csv")
    argv = ["corrupt", "--trajectory", str(long), "--matrix", "12,16,16", "-o", str(tmp_path / "s")]
    assert main(argv) == 0
    assert "stretched" not in capsys.readouterr().out
    info = json.loads((tmp_path / "s" / "corruption.json").read_text())
    assert info["mapping"] == "seconds"


def test_template_keeps_seconds_mapping(tmp_path, capsys):
    # the template (and any --input) is not stretched silently: a short trajectory errors
    short = _pace(tmp_path, 10.0, "short.csv")
    argv = ["corrupt", "--trajectory", str(short), "--phantom", "template", "--matrix", "16"]
    assert main(argv + ["-o", str(tmp_path / "t")]) == 2
    assert "short.csv" in capsys.readouterr().err


def _head_and_schedule(shape=(12, 16, 16)):
    from mrsim.kspace.echo_train import default_protocol, protocol_for_schedule
    from mrsim.kspace.schedule import mprage_schedule
    from mrsim.phantoms.head import DEFAULT_SHAPE, make_head

    head = make_head(shape, np.asarray(DEFAULT_SHAPE, float) / np.asarray(shape))
    sched = mprage_schedule(shape, readout_axis=2)
    prot = protocol_for_schedule(default_protocol(sched), sched)
    names, frac = head.tissue_fractions()
    return head, sched, frac, head.tissue_signals(prot, names)


def test_echo_train_noise_is_the_static_paths_noise():
    # noise: sigma from the clean image's SNR, the same draw as corrupt() on acquired samples
    from mrsim.kspace.echo_train import corrupt_echo_train
    from mrsim.kspace.severity import add_kspace_noise, noise_sigma_for_snr
    from mrsim.motion.generators import pace_like

    head, sched, frac, sig = _head_and_schedule()
    traj = pace_like(n=16, scale=4.0, duration_s=sched.duration_s + 1, seed=2)
    vox = head.voxel_size_mm
    a = corrupt_echo_train(frac, sig, traj, sched, vox, output="complex")
    b = corrupt_echo_train(frac, sig, traj, sched, vox, output="complex", noise_snr=20, seed=3)
    sigma = noise_sigma_for_snr(a.clean, 20)
    assert b.noise_sigma == pytest.approx(sigma, rel=1e-6) and sigma > 0
    want = add_kspace_noise(np.zeros(sched.shape, complex), sched, sigma, 3)
    np.testing.assert_allclose(b.kspace - a.kspace, want, atol=1e-6 * np.abs(want).max())
    assert b.settings["noise_snr"] == 20
    np.testing.assert_array_equal(a.clean, b.clean)  # the reference has no noise


def test_echo_train_coils_rank_one_equals_static_coils():
    # With echo-independent tissue signals the echo-train image is one image (rank 1): its
    # multi-coil corruption must equal the static multi-coil path of that image.
    from mrsim.kspace.coils import birdcage_sensitivities
    from mrsim.kspace.corrupt import corrupt
    from mrsim.kspace.echo_train import corrupt_echo_train
    from mrsim.motion.generators import pace_like

    head, sched, frac, sig = _head_and_schedule()
    flat = np.repeat(np.abs(sig[:, :1]) + 0.1, sig.shape[1], axis=1)  # constant along train
    image = np.tensordot(flat[:, 0].astype(np.float32), frac, axes=(0, 0))
    sens = birdcage_sensitivities(sched.shape, head.voxel_size_mm, 4, axis=2)
    traj = pace_like(n=16, scale=6.0, duration_s=sched.duration_s + 1, seed=4)
    vox = head.voxel_size_mm
    for method in ("states", "fourier"):
        kw = dict(output="complex", coil_sensitivities=sens, coil_method=method, granularity="shot")
        et = corrupt_echo_train(frac, flat, traj, sched, vox, **kw)
        st = corrupt(image, traj, sched, vox, **kw)
        assert et.settings["lowrank_rank"] == 1 and et.settings["n_coils"] == 4
        assert et.settings["coil_method"] == method
        assert et.kspace.shape == (4,) + sched.shape
        scale = np.abs(st.kspace).max()
        np.testing.assert_allclose(et.kspace, st.kspace, atol=1e-5 * scale)
        np.testing.assert_allclose(et.image, st.image, atol=1e-5 * np.abs(st.image).max())
        np.testing.assert_allclose(et.clean, st.clean, atol=1e-5 * np.abs(st.clean).max())


def test_cli_echo_train_with_coils_and_noise(tmp_path):
    traj = _pace(tmp_path, 100.0)
    argv = ["corrupt", "--trajectory", str(traj), "--matrix", "12,16,16", "--coils", "2"]
    out = tmp_path / "c"
    assert main(argv + ["--noise-snr", "30", "-o", str(out)]) == 0
    info = json.loads((out / "corruption.json").read_text())
    assert info["settings"]["contrast"] == "echo-train" and info["settings"]["n_coils"] == 2
    assert info["noise_sigma"] > 0


@pytest.mark.slow
def test_make_demo_command_full_size(tmp_path, monkeypatch):
    """`make demo`'s command with the defaults: the 1 mm head, echo-train, stretched."""
    monkeypatch.chdir(tmp_path)
    argv = ["corrupt", "--trajectory", str(REPO / "examples" / "pace.csv"), "-o", "demo_out"]
    assert main(argv + ["--threads", "1"]) == 0
    info = json.loads((tmp_path / "demo_out" / "corruption.json").read_text())
    assert info["settings"]["shape"] == [176, 256, 256]
    assert info["contrast"] == "echo-train" and info["mapping"] == "stretch"
    assert 0.3 < info["ssim"] < 0.99


def test_input_is_static_and_refuses_head_options(tmp_path, capsys):
    from mrsim.io.nifti import save_volume

    nii = tmp_path / "t1.nii.gz"
    vol = np.zeros((10, 10, 8), np.float32)
    vol[2:8, 2:8, 2:6] = 1.0
    save_volume(nii, vol, np.eye(4))
    traj = _pace(tmp_path, 50.0)
    base = ["corrupt", "--trajectory", str(traj), "--input", str(nii)]
    for extra in (["--phantom", "head"], ["--contrast", "echo-train"]):
        assert main(base + extra + ["-o", str(tmp_path / "x")]) == 2
        assert "--input" in capsys.readouterr().err
    assert main(base + ["-o", str(tmp_path / "ok")]) == 0
    info = json.loads((tmp_path / "ok" / "corruption.json").read_text())
    assert info["phantom"] is None and info["contrast"] == "static"
    assert info["readout_axis"] == 0 and info["mapping"] == "seconds"


def test_default_mapping_stretches_only_short_trajectories(tmp_path, capsys):
    from mrsim.cli.corrupt import default_mapping
    from mrsim.kspace.schedule import mprage_schedule
    from mrsim.motion.formats import read_trajectory
    from mrsim.motion.trajectory import Trajectory

    sched = mprage_schedule((12, 16, 16), readout_axis=2)  # readouts over ~34.7 s
    span = float(sched.time_s.max() - sched.time_s.min())
    short = read_trajectory(_pace(tmp_path, 0.5 * span, "short.csv"))
    assert default_mapping(short, sched, True) == "stretch"
    assert f"{span / float(short.t_s[-1] - short.t_s[0]):.2f}x slower" in capsys.readouterr().out
    # prospective runs keep scan seconds (latency is in seconds): refused later, not stretched
    assert default_mapping(short, sched, True, prospective=True) == "seconds"
    # a longer trajectory is never compressed, even when it does not start at the first readout
    long = read_trajectory(_pace(tmp_path, 2.0 * span, "long.csv"))
    late = Trajectory(long.t_s + 5.0, long.params)
    assert default_mapping(late, sched, True) == "seconds"
    assert default_mapping(short, sched, False) == "seconds"  # template / --input: never


def test_prospective_with_short_trajectory_says_what_it_covers(tmp_path, capsys):
    short = _pace(tmp_path, 10.0, "short.csv")
    argv = ["corrupt", "--trajectory", str(short), "--matrix", "12,16,16"]
    assert main(argv + ["--prospective", "persistence", "-o", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "trajectory covers [0, 10] s" in err and "needs --mapping seconds" not in err
