"""Magnitude measures against hand-computed values."""

import numpy as np
import pytest

from mrsim.motion import (
    Trajectory,
    fd_summary,
    framewise_displacement,
    jenkinson_fd,
    max_displacement,
    motion_std,
    power_fd,
    rms_displacement_sphere,
)


def test_motion_std_definition():
    p = np.zeros((4, 6))
    p[:, 0] = [0, 2, 0, 2]  # std 1
    p[:, 4] = [1, 1, 1, 1]  # std 0
    p[:, 5] = [0, 0, 0, 4]  # std sqrt(3)
    s = motion_std(Trajectory(np.arange(4.0), p))
    np.testing.assert_allclose(s.per_param, [1, 0, 0, 0, 0, np.sqrt(3)])
    assert s.translation_mm == pytest.approx(1 / 3)
    assert s.rotation_deg == pytest.approx(np.sqrt(3) / 3)
    assert s.combined == pytest.approx((1 + np.sqrt(3)) / 6)


def test_max_displacement():
    p = np.zeros((3, 6))
    p[1, :3] = [3, 4, 0]
    p[2, 3:] = [0, 0, -30]
    p[2, :3] = [1, 0, 0]
    m = max_displacement(Trajectory([0, 1, 2], p))
    assert m.translation_mm == pytest.approx(5.0)
    assert m.rotation_deg == pytest.approx(30.0)
    np.testing.assert_allclose(m.abs_params, [3, 4, 0, 0, 0, 30])


def test_rms_displacement_sphere_hand_values():
    theta = np.deg2rad(10.0)
    p = np.array([[0, 0, 0, 0, 0, 0], [3, 4, 0, 0, 0, 0], [0, 0, 0, 0, 10.0, 0]])
    r = rms_displacement_sphere(Trajectory([0, 1, 2], p), radius_mm=80.0)
    np.testing.assert_allclose(r[:2], [0, 5.0], atol=1e-12)
    # |R - I|_F^2 = 4 (1 - cos theta), mean |x_i|^2 = R^2/5 per axis
    assert r[2] == pytest.approx(80 * np.sqrt(4 * (1 - np.cos(theta)) / 5), rel=1e-12)
    # relative to the identity it equals Jenkinson FD from an identity first frame
    tr = Trajectory([0, 1], [[0] * 6, [1, -2, 0.5, 3, -1, 2]])
    assert rms_displacement_sphere(tr)[1] == pytest.approx(jenkinson_fd(tr)[1], rel=1e-12)


def test_fd_summary_and_dispatch():
    fd = np.array([0.0, 0.1, 0.3, 0.6, 0.2])
    s = fd_summary(fd)
    assert s.mean_mm == pytest.approx(0.3)  # first frame left out
    assert s.max_mm == 0.6
    assert (s.n_above_0p2, s.n_above_0p5, s.n_frames) == (2, 1, 5)
    tr = Trajectory(np.arange(5.0), np.random.default_rng(0).normal(size=(5, 6)))
    np.testing.assert_array_equal(framewise_displacement(tr), power_fd(tr))
    np.testing.assert_array_equal(
        framewise_displacement(tr, "jenkinson", radius_mm=60), jenkinson_fd(tr, radius_mm=60)
    )
    with pytest.raises(ValueError, match="no radius"):
        framewise_displacement(tr, "enorm", radius_mm=50)
    with pytest.raises(ValueError, match="FD kind"):
        framewise_displacement(tr, "dvars")
