"""Prospective correction: residual poses, estimators, latency, bad input."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mrsim.errors import MrsimInputError
from mrsim.kspace.corrupt import corrupt
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion.generators import realistic
from mrsim.motion.prospective import (
    ProspectiveSettings,
    applied_poses,
    prospective_line_poses,
    read_pose_file,
    residual_poses,
    update_times,
)
from mrsim.motion.rigid import rotation_matrix
from mrsim.motion.trajectory import Trajectory


def _traj(duration_s=60.0, seed=0, mag=2.0):
    n = 301
    return realistic(n, tr_s=duration_s / (n - 1), magnitude_mm=mag, seed=seed)


def test_residual_order_against_scipy():
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.normal(0, 3, (20, 3)), rng.normal(0, 20, (20, 3))], axis=1)
    p = np.concatenate([rng.normal(0, 3, (20, 3)), rng.normal(0, 20, (20, 3))], axis=1)
    e = residual_poses(a, p)
    ra = Rotation.from_euler("xyz", a[:, 3:], degrees=True)
    rp = Rotation.from_euler("xyz", p[:, 3:], degrees=True)
    # E = P^-1 A: scipy's r1 * r2 applies r2 first
    want_r = (rp.inv() * ra).as_matrix()
    np.testing.assert_allclose(rotation_matrix(e[:, 3:]), want_r, atol=1e-12)
    want_t = rp.inv().apply(a[:, :3] - p[:, :3])
    np.testing.assert_allclose(e[:, :3], want_t, atol=1e-10)
    # the other order differs at these (non-commuting, large) rotations
    other = (ra * rp.inv()).as_matrix()
    assert np.abs(other - want_r).max() > 1e-2
    # sampling geometry: the frame P x = A r0 sees the point at E r0
    r0 = rng.normal(0, 50, (20, 3))
    world = ra.apply(r0) + a[:, :3]
    x = rp.inv().apply(world - p[:, :3])
    np.testing.assert_allclose(x, Rotation.from_matrix(want_r).apply(r0) + e[:, :3], atol=1e-9)


def test_exact_estimate_is_identity():
    a = np.array([[1.0, -2.0, 0.5, 3.0, -4.0, 10.0]])
    np.testing.assert_allclose(residual_poses(a, a), np.zeros((1, 6)), atol=1e-12)


def test_update_times_per_shot():
    sch = mprage_schedule((8, 6, 4))
    t_up, of_line = update_times(sch.time_s, sch.shot, "shot")
    assert len(t_up) == sch.n_shots
    np.testing.assert_allclose(t_up[of_line] <= sch.time_s, True)
    for k in range(sch.n_shots):
        assert t_up[k] == sch.time_s[sch.shot == k].min()


def test_persistence_is_truth_delayed_by_latency():
    traj = _traj()
    sch = mprage_schedule((8, 12, 20))  # 20 shots of 2.3 s = 46 s
    lat = 3.1
    res = prospective_line_poses(
        traj, sch.time_s, sch.shot, ProspectiveSettings("persistence", latency_s=lat)
    )
    u = res.update_times_s
    ok = u - lat >= traj.t_s[0]
    np.testing.assert_allclose(res.applied_params[ok], traj.sample(u[ok] - lat), atol=1e-12)
    np.testing.assert_array_equal(res.applied_params[~ok], 0.0)
    # first shot's train starts at 0.9 - 6 x 0.007 s: no measurement 3.1 s earlier yet
    np.testing.assert_allclose(u[0], 0.9 - 6 * 0.007)
    assert (~ok).sum() == 1
    # residual per line = P^-1 A with P the delayed truth of its shot
    P = res.applied_params[res.update_of_line]
    np.testing.assert_allclose(
        res.residual_params, residual_poses(traj.sample(sch.time_s), P), atol=1e-12
    )


def test_none_estimator_keeps_motion():
    traj = _traj()
    sch = mprage_schedule((8, 12, 20))
    res = prospective_line_poses(traj, sch.time_s, sch.shot, ProspectiveSettings("none"))
    np.testing.assert_allclose(res.residual_params, traj.sample(sch.time_s), atol=1e-9)


def test_zero_latency_perfect_estimate_gives_motion_free_image():
    rng = np.random.default_rng(0)
    shape = (16, 16, 12)
    image = np.zeros(shape)
    image[4:12, 3:13, 2:10] = 1.0
    image += 0.1 * rng.random(shape)
    sch = mprage_schedule(shape)
    traj = _traj(duration_s=30.0, mag=3.0)
    res = prospective_line_poses(
        traj, sch.time_s, sch.shot, ProspectiveSettings("persistence", update="line")
    )
    assert np.abs(res.residual_params).max() < 1e-9
    static = corrupt(image, Trajectory.identity(traj.t_s), sch, eps=1e-8).image
    fixed = corrupt(image, res.trajectory(), sch, method="nearest", eps=1e-8).image
    moved = corrupt(image, traj, sch, eps=1e-8).image
    np.testing.assert_allclose(fixed, static, atol=1e-6)
    assert np.abs(moved - static).max() > 0.05  # the motion itself is visible
    np.testing.assert_allclose(static, image, atol=1e-5)


def test_kalman_tracks_linear_motion_through_latency():
    t = np.linspace(0, 50, 201)
    p = np.outer(t, [0.02, -0.01, 0.03, 0.01, 0.02, -0.015])
    traj = Trajectory(t, p)
    u = np.arange(2.0, 48.0, 2.3)
    s = ProspectiveSettings("kalman", latency_s=2.3, kalman_r_mm=1e-3, kalman_r_deg=1e-3)
    P = applied_poses(traj, u, s)
    ok = u - 2.3 >= 0
    # after a few updates the constant-velocity filter extrapolates exactly over the latency
    np.testing.assert_allclose(P[ok][5:], traj.sample(u[ok][5:]), atol=2e-3)
    Pp = applied_poses(traj, u, ProspectiveSettings("persistence", latency_s=2.3))
    assert np.abs(Pp[ok][5:] - traj.sample(u[ok][5:])).max() > 0.06


def test_tracking_noise_statistics_and_seed():
    traj = Trajectory.identity(np.linspace(0, 100, 11))
    u = np.linspace(1, 99, 4000)
    s = ProspectiveSettings("persistence", tracking_noise_mm=0.2, tracking_noise_deg=0.1, seed=3)
    P = applied_poses(traj, u, s)
    np.testing.assert_allclose(P.std(axis=0), [0.2] * 3 + [0.1] * 3, rtol=0.06)
    np.testing.assert_array_equal(P, applied_poses(traj, u, s))


def test_pose_file_estimator(tmp_path):
    from mrsim.motion.formats import write_trajectory

    traj = _traj()
    f = tmp_path / "pred.csv"
    write_trajectory(traj, f)
    pf = read_pose_file(f)
    u = np.arange(1.0, 55.0, 2.3)
    P = applied_poses(traj, u, ProspectiveSettings("file", latency_s=1.0), pose_file=pf)
    np.testing.assert_allclose(P[u >= 1.0], traj.sample(u - 1.0), atol=1e-6)


def test_bad_input(tmp_path):
    from mrsim.motion.formats import write_trajectory

    with pytest.raises(MrsimInputError, match="latency_s must be"):
        ProspectiveSettings("persistence", latency_s=-0.1)
    with pytest.raises(MrsimInputError, match="estimator must be"):
        ProspectiveSettings("oracle")
    with pytest.raises(MrsimInputError, match="tracking_noise_mm"):
        ProspectiveSettings(tracking_noise_mm=-1)
    traj = _traj()
    short = tmp_path / "short.csv"
    write_trajectory(traj.crop(0, 20), short)
    u = np.arange(1.0, 55.0, 2.3)
    with pytest.raises(MrsimInputError, match=r"short.csv: covers \[0, 20\] s .*shorter than"):
        applied_poses(
            traj, u, ProspectiveSettings("file"), read_pose_file(short), pose_file_name=str(short)
        )
    bad = tmp_path / "inches.csv"
    bad.write_text("t_s,tx_in,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n0,0,0,0,0,0,0\n")
    with pytest.raises(MrsimInputError, match="inches.csv.*unit"):
        read_pose_file(bad)
    rad_as_deg = tmp_path / "rad.csv"  # degrees written where radians were declared
    rad_as_deg.write_text(
        "t_s,tx_mm,ty_mm,tz_mm,rx_rad,ry_rad,rz_rad\n0,0,0,0,0,0,0\n1,0,0,0,3,0,0\n"
    )
    with pytest.raises(MrsimInputError, match="rad.csv: .*check the units"):
        read_pose_file(rad_as_deg)
    sch = mprage_schedule((8, 12, 20))
    with pytest.raises(MrsimInputError, match="true trajectory covers"):
        prospective_line_poses(traj.crop(0, 10), sch.time_s, sch.shot)


def test_tracker_grid_uses_the_newest_sample_before_the_latency(tmp_path):
    traj = _traj()
    u = np.array([0.5, 3.0, 7.3, 20.0])
    s = ProspectiveSettings("persistence", latency_s=1.0, measurement_interval_s=0.72)
    P = applied_poses(traj, u, s)
    # u - L = -0.5 (none yet), 2.0 -> 1.44, 6.3 -> 5.76, 19.0 -> 18.72
    np.testing.assert_array_equal(P[0], 0.0)
    np.testing.assert_allclose(P[1:], traj.sample([1.44, 5.76, 18.72]), atol=1e-12)
    # a one-step-ahead prediction file on that grid: the sample at t_j + dt is used
    from mrsim.motion.formats import write_trajectory

    f = tmp_path / "pred.csv"
    grid = np.arange(0, 60.01, 0.72)
    write_trajectory(Trajectory(grid, traj.sample(grid) + 1.0), f)
    sf = ProspectiveSettings("file", latency_s=1.0, measurement_interval_s=0.72)
    Pf = applied_poses(traj, u, sf, read_pose_file(f))
    np.testing.assert_allclose(Pf[1:], traj.sample([2.16, 6.48, 19.44]) + 1.0, atol=1e-6)
    with pytest.raises(MrsimInputError, match="measurement_interval_s"):
        ProspectiveSettings(measurement_interval_s=0.0)
