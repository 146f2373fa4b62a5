"""High-level corruption (trajectory -> image), noise, severity and the ``mrsim corrupt`` CLI."""

import json

import numpy as np
import pytest

from mrsim.cli import main
from mrsim.io.nifti import load_volume, save_volume
from mrsim.kspace.corrupt import corrupt, moved_kspace, noise_sigma_for_snr, rigid_move
from mrsim.kspace.fft import ifft_centered
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion import Trajectory, pace_like, write_trajectory
from mrsim.motion.rigid import rotation_matrix
from mrsim.phantoms.shepp_logan import shepp_logan_image

SHAPE = (24, 24, 16)


@pytest.fixture(scope="module")
def phantom():
    return shepp_logan_image(SHAPE, 1.5)


def _schedule():
    return mprage_schedule(SHAPE, shot_tr_s=2.3)


def _constant(params, t_end=40.0):
    return Trajectory([0.0, t_end], np.tile(params, (2, 1)))


def test_rereferenced_constant_offset_is_uncorrupted(phantom):
    traj = _constant([3.0, -2.0, 1.0, 4.0, -3.0, 6.0])
    res = corrupt(phantom, traj, _schedule(), 1.5, output="complex")
    assert np.allclose(res.params, 0, atol=1e-9)
    assert np.abs(res.image - res.clean).max() < 1e-6 * np.abs(res.clean).max()
    assert res.severity["mean_displacement_mm"] < 1e-6
    # Without re-referencing the whole image is displaced consistently (moved, not corrupted)
    res2 = corrupt(
        phantom, traj, _schedule(), 1.5, output="complex", rereference_center=False, eps=1e-6
    )
    R, t = rotation_matrix([4.0, -3.0, 6.0]), np.array([3.0, -2.0, 1.0])
    moved = rigid_move(phantom, R, t, 1.5)
    assert np.linalg.norm(res2.image.real - moved) / np.linalg.norm(moved) < 1e-5
    assert res2.severity["energy_fraction_moved"] == pytest.approx(1.0)


def test_motion_corrupts_and_severity_reports_it(phantom):
    traj = pace_like(n=32, duration_s=40.0, scale=4, seed=3)
    res = corrupt(phantom, traj, _schedule(), 1.5)
    assert res.image.dtype == np.float32 and res.image.shape == SHAPE
    assert res.params.shape == (_schedule().n_lines, 6)
    err = np.linalg.norm(res.image - res.clean) / np.linalg.norm(res.clean)
    assert err > 1e-3
    sev = res.severity
    assert 0 < sev["energy_fraction_moved"] <= 1
    assert 0 < sev["mean_displacement_mm"] <= sev["max_displacement_mm"]
    assert sev["n_states"] > 1 and sev["motion_std"] > 0
    # The clean reference is the motion-free acquisition on the same grid.
    assert np.allclose(res.clean, np.abs(phantom), atol=1e-5)


def test_per_shot_granularity_has_one_state_per_shot(phantom):
    traj = pace_like(n=32, duration_s=40.0, seed=4)
    res = corrupt(phantom, traj, _schedule(), 1.5, granularity="shot")
    assert res.severity["n_states"] <= res.schedule.n_shots


def test_noise_level_matches_snr(phantom):
    traj = _constant(np.zeros(6))
    res = corrupt(phantom, traj, _schedule(), 1.5, noise_snr=20, output="complex", seed=1)
    sigma = noise_sigma_for_snr(res.clean, 20)
    assert res.noise_sigma == pytest.approx(sigma)
    noise = (res.image - res.clean).ravel()
    assert np.std(noise.real) == pytest.approx(sigma, rel=0.05)
    assert np.std(noise.imag) == pytest.approx(sigma, rel=0.05)
    again = corrupt(phantom, traj, _schedule(), 1.5, noise_snr=20, output="complex", seed=1)
    assert np.array_equal(again.image, res.image)  # seeded


def test_smaller_matrix_keeps_fov(phantom):
    traj = _constant(np.zeros(6))
    s = mprage_schedule((12, 12, 8))
    res = corrupt(phantom, traj, s, 1.5)
    assert res.image.shape == (12, 12, 8)
    low = ifft_centered(moved_kspace(phantom, s, np.eye(3), np.zeros(3), 1.5))
    assert np.allclose(res.clean, np.abs(low), atol=1e-6)


# ------------------------------------------------------------------------------- CLI
@pytest.fixture()
def files(tmp_path, phantom):
    aff = np.diag([1.5, 1.5, 1.5, 1.0])
    nii = save_volume(tmp_path / "in.nii.gz", phantom.astype(np.float32), aff)
    csv = write_trajectory(pace_like(n=32, duration_s=40.0, seed=5), tmp_path / "pace.csv")
    return tmp_path, nii, csv


def test_cli_writes_outputs(files, capsys):
    tmp, nii, csv = files
    out = tmp / "out"
    rc = main(
        [
            "corrupt",
            "--trajectory",
            str(csv),
            "--input",
            str(nii),
            "-o",
            str(out),
            "--matrix",
            "12,12,8",
            "--save-kspace",
            str(tmp / "k.h5"),
            "--threads",
            "1",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "SSIM" in text and "PSNR" in text
    for f in ("clean.nii.gz", "corrupted.nii.gz", "corruption.png", "corruption.json"):
        assert (out / f).exists()
    img, aff = load_volume(out / "corrupted.nii.gz")
    assert img.shape == (12, 12, 8)
    assert np.allclose(np.abs(np.diag(aff))[:3], 3.0)  # FOV kept: 24 x 1.5 mm = 12 x 3 mm
    summary = json.loads((out / "corruption.json").read_text())
    assert 0 < summary["ssim"] <= 1
    import h5py

    with h5py.File(tmp / "k.h5") as f:
        assert f["kspace"].shape == (12, 12, 8)
        assert f["line_params"].shape == (12 * 8, 6)


def test_cli_short_trajectory_is_a_clean_error(files, capsys):
    tmp, nii, _ = files
    short = write_trajectory(pace_like(n=8, duration_s=5.0, seed=1), tmp / "short.csv")
    rc = main(["corrupt", "--trajectory", str(short), "--input", str(nii), "-o", str(tmp / "o")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "short.csv" in err and "stretch" in err


def test_cli_rejects_non_3d_input(files, capsys):
    tmp, _, csv = files
    bad = save_volume(tmp / "4d.nii.gz", np.zeros((4, 4, 4, 3), np.float32))
    rc = main(["corrupt", "--trajectory", str(csv), "--input", str(bad), "-o", str(tmp / "o")])
    assert rc == 2
    assert "4d.nii.gz" in capsys.readouterr().err


def test_motion_severity_weights_by_kspace_energy():
    from mrsim.kspace.corrupt import motion_severity

    R = np.tile(np.eye(3), (4, 1, 1))
    t = np.array([[0, 0, 0], [0, 0, 0], [2.0, 0, 0], [0, 0, 0]])
    w = np.array([1.0, 1.0, 6.0, 2.0])  # the moved line holds 60 % of the energy
    sev = motion_severity(R, t, line_weights=w)
    assert sev["mean_displacement_mm"] == pytest.approx(0.6 * 2.0)
    assert sev["energy_fraction_moved"] == pytest.approx(0.6)
    assert sev["max_displacement_mm"] == pytest.approx(2.0)
    # a rotation by a about any axis moves a ball of radius r by r * sqrt(4/5 (1 - cos a))
    a = np.deg2rad(3.0)
    sev = motion_severity(rotation_matrix([[0, 0, 3.0]]), np.zeros((1, 3)), radius_mm=64.0)
    assert sev["mean_displacement_mm"] == pytest.approx(64 * np.sqrt(0.8 * (1 - np.cos(a))))
