"""``mrsim corrupt --prospective / --applied-poses`` (the CLI hook)."""

import json

import numpy as np

from mrsim.cli import main
from mrsim.io.nifti import save_volume
from mrsim.motion.formats import write_trajectory
from mrsim.motion.generators import realistic


def _files(tmp_path):
    rng = np.random.default_rng(0)
    img = np.zeros((16, 16, 12), np.float32)
    img[4:12, 3:13, 2:10] = 1.0
    img += 0.1 * rng.random(img.shape).astype(np.float32)
    nii = save_volume(tmp_path / "in.nii.gz", img, np.diag([2.0, 2.0, 2.0, 1.0]))
    traj = realistic(121, tr_s=0.25, magnitude_mm=3.0, seed=2)  # 30 s, 12 shots = 27.6 s
    csv = write_trajectory(traj, tmp_path / "true.csv")
    return nii, csv, traj


def _run(tmp_path, nii, csv, out, *extra):
    argv = ["corrupt", "--trajectory", str(csv), "--input", str(nii), "-o", str(out)]
    return main(argv + ["--threads", "1", *extra])


def test_perfect_prospective_correction_restores_the_image(tmp_path, capsys):
    nii, csv, _ = _files(tmp_path)
    assert _run(tmp_path, nii, csv, tmp_path / "plain") == 0
    rc = _run(
        tmp_path, nii, csv, tmp_path / "pc", "--prospective", "persistence", "--update", "line"
    )
    assert rc == 0
    plain = json.loads((tmp_path / "plain" / "corruption.json").read_text())
    pc = json.loads((tmp_path / "pc" / "corruption.json").read_text())
    assert pc["prospective"]["estimator"] == "persistence"
    assert plain["prospective"] is None
    assert plain["ssim"] < 0.95
    assert pc["ssim"] > 0.999
    assert pc["severity"]["max_displacement_mm"] < 1e-6


def test_applied_poses_file_and_latency(tmp_path, capsys):
    nii, csv, traj = _files(tmp_path)
    rc = _run(tmp_path, nii, csv, tmp_path / "f", "--applied-poses", str(csv), "--latency-s", "2.3")
    assert rc == 0
    f = json.loads((tmp_path / "f" / "corruption.json").read_text())
    assert f["prospective"]["estimator"] == "file" and f["prospective"]["latency_s"] == 2.3


def test_bad_prospective_input_is_a_clean_error(tmp_path, capsys):
    nii, csv, traj = _files(tmp_path)
    short = write_trajectory(traj.crop(0, 10), tmp_path / "short.csv")
    assert _run(tmp_path, nii, csv, tmp_path / "o", "--applied-poses", str(short)) == 2
    assert "short.csv" in capsys.readouterr().err
    assert (
        _run(tmp_path, nii, csv, tmp_path / "o", "--prospective", "kalman", "--latency-s", "-1")
        == 2
    )
    assert "latency_s must be" in capsys.readouterr().err
    assert _run(tmp_path, nii, csv, tmp_path / "o", "--latency-s", "1") == 2
    assert "--prospective" in capsys.readouterr().err


def test_tracking_noise_degrades_the_perfect_correction(tmp_path, capsys):
    nii, csv, _ = _files(tmp_path)
    args = ("--prospective", "persistence", "--update", "line")
    noisy = ("--tracking-noise-mm", "0.5", "--tracking-noise-deg", "0.5", "--seed", "4")
    assert _run(tmp_path, nii, csv, tmp_path / "n", *args, *noisy) == 0
    assert _run(tmp_path, nii, csv, tmp_path / "n2", *args, *noisy) == 0
    n = json.loads((tmp_path / "n" / "corruption.json").read_text())
    n2 = json.loads((tmp_path / "n2" / "corruption.json").read_text())
    assert n["prospective"]["tracking_noise_mm"] == 0.5
    assert n["prospective"]["tracking_noise_deg"] == 0.5
    # a perfect estimator gives SSIM > 0.999 (test above); its noisy measurements do not
    assert n["ssim"] < 0.99
    assert n["severity"]["max_displacement_mm"] > 0.3
    assert n["ssim"] == n2["ssim"]  # seeded
    bad = ("--tracking-noise-mm", "-0.1")
    assert _run(tmp_path, nii, csv, tmp_path / "o", *args, *bad) == 2
    assert "tracking_noise_mm" in capsys.readouterr().err
