"""FD conventions against hand-computed values and independent reference computations."""

import numpy as np
import pytest

from mrsim.motion import Trajectory
from mrsim.motion.fd import enorm, fd_gain, fd_pred, fd_total, jenkinson_fd, power_fd

P = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, -2.0, 0.5, 1.0, 0.0, -2.0],
        [1.0, -2.0, 0.5, 1.0, 0.0, -2.0],
    ]
)


def test_power_fd_hand_value():
    fd = power_fd(P)
    # 1 + 2 + 0.5 mm, plus 50 mm * (1 + 2) deg in rad
    assert fd[0] == 0.0
    assert fd[1] == pytest.approx(3.5 + 50 * 3 * np.pi / 180, abs=1e-12)
    assert fd[1] == pytest.approx(6.117993877991494, abs=1e-12)
    assert fd[2] == 0.0
    assert power_fd(P, radius_mm=0.0)[1] == pytest.approx(3.5)


def test_fd_same_for_degree_and_radian_input():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.normal(0, 1, (30, 3)), rng.normal(0, 2, (30, 3))], axis=1)
    pr = p.copy()
    pr[:, 3:] = np.deg2rad(pr[:, 3:])
    for f in (power_fd, jenkinson_fd, enorm, fd_total):
        np.testing.assert_allclose(f(p), f(pr, rot_unit="rad"), rtol=1e-12, atol=1e-12)
    tr = Trajectory(np.arange(30.0), p)
    np.testing.assert_allclose(power_fd(tr), power_fd(p), rtol=1e-12)
    with pytest.raises(ValueError, match="rot_unit"):
        power_fd(p, rot_unit="grad")


def test_power_fd_matches_nipype_and_fmriprep_algorithm():
    # nipype FramewiseDisplacement on SPM-ordered (tx, ty, tz mm, rx, ry, rz rad) parameters:
    # diff = mpars[:-1] - mpars[1:]; diff[:, 3:6] *= radius; fd = abs(diff).sum(1); fMRIPrep
    # puts n/a in front, which mrsim writes as 0.
    rng = np.random.default_rng(1)
    spm = np.concatenate([rng.normal(0, 0.3, (40, 3)), rng.normal(0, 0.01, (40, 3))], axis=1)
    diff = spm[:-1, :6] - spm[1:, :6]
    diff[:, 3:6] *= 50.0
    ref = np.abs(diff).sum(axis=1)
    got = power_fd(spm, rot_unit="rad")
    assert got[0] == 0.0
    np.testing.assert_allclose(got[1:], ref, rtol=1e-12)


def test_jenkinson_pure_translation_and_rotation():
    p = np.zeros((3, 6))
    p[1, :3] = [3.0, 4.0, 0.0]
    p[2, :3] = [3.0, 4.0, 0.0]
    p[2, 5] = 90.0  # then 90 deg about z
    fd = jenkinson_fd(p)
    assert fd[0] == 0.0
    assert fd[1] == pytest.approx(5.0, abs=1e-12)
    # M = A2 A1^-1 - I; A2 A1^-1 is a 90 deg rotation about z about the point (3, 4, 0), so
    # trace(M_R^T M_R) = 4 (1 - cos 90) = 4 and the translation part is (I - R)(3, 4, 0)
    # = (3 + 4, 4 - 3, 0) = (7, 1, 0): FD^2 = 80^2 * 4 / 5 + 50.
    assert fd[2] == pytest.approx(np.sqrt(80.0**2 * 4 / 5 + 50.0), abs=1e-9)


def test_jenkinson_equals_rms_over_ball_monte_carlo():
    rng = np.random.default_rng(2)
    p = np.array([[0.5, -1.0, 2.0, 3.0, -2.0, 4.0], [1.5, 0.0, 1.0, -1.0, 2.5, 6.0]])
    radius, centre = 80.0, np.array([0.0, 10.0, 20.0])
    # uniform points in a ball of radius 80 mm centred at `centre`
    n = 400_000
    x = rng.normal(size=(n, 3))
    x *= (radius * rng.uniform(size=(n, 1)) ** (1 / 3)) / np.linalg.norm(x, axis=1, keepdims=True)
    x += centre
    tr = Trajectory([0.0, 1.0], p)
    A = tr.to_affines()
    y0 = x @ A[0, :3, :3].T + A[0, :3, 3]
    y1 = x @ A[1, :3, :3].T + A[1, :3, 3]
    rms = np.sqrt(np.mean(np.sum((y1 - y0) ** 2, axis=1)))
    # the two poses move a point r by A0 r and A1 r; the relative transform takes A0 r to A1 r
    fd = jenkinson_fd(tr, radius_mm=radius, center_mm=A[0, :3, :3] @ centre + A[0, :3, 3])
    assert fd[1] == pytest.approx(rms, rel=5e-3)


def test_jenkinson_invariant_to_global_rotation():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.normal(0, 1, (10, 3)), rng.normal(0, 3, (10, 3))], axis=1)
    tr = Trajectory(np.arange(10.0), p)
    B = Trajectory.from_affines([0.0], [np.eye(4)]).to_affines()[0]
    B[:3, :3] = Trajectory([0.0], [[0, 0, 0, 10.0, -20.0, 30.0]]).rotation_matrices()[0]
    rotated = Trajectory.from_affines(tr.t_s, B @ tr.to_affines())
    np.testing.assert_allclose(jenkinson_fd(rotated), jenkinson_fd(tr), atol=1e-9)
    # and a constant pose gives zero
    const = Trajectory(np.arange(4.0), np.tile([1, 2, 3, 4, 5, 6.0], (4, 1)))
    np.testing.assert_allclose(jenkinson_fd(const), 0.0, atol=1e-12)


def test_enorm_hand_value():
    e = enorm(P)
    np.testing.assert_allclose(e, [0.0, np.sqrt(1 + 4 + 0.25 + 1 + 0 + 4), 0.0], atol=1e-12)


def test_seed000_fd_total_pred_gain():
    true = np.zeros((3, 6))
    true[1, 0] = 1.0
    true[2] = [1.0, 0, 0, 0, 0, 2.0]
    pred = true.copy()
    pred[1, 0] = 0.75
    pred[2, 5] = 1.0
    tot = fd_total(true)
    np.testing.assert_allclose(tot, [0.0, 1.0, 50 * np.pi / 180 * 2.0], atol=1e-12)
    # FD_total is Power FD with the 50 mm radius (the seed's 50*pi/180 is for degrees)
    np.testing.assert_allclose(tot, power_fd(true, radius_mm=50.0), atol=1e-12)
    prd = fd_pred(true, pred)
    np.testing.assert_allclose(prd, [0.0, 0.25, 50 * np.pi / 180], atol=1e-12)
    g = fd_gain(true, pred)
    assert np.isnan(g[0])
    np.testing.assert_allclose(g[1:], [0.75, 0.5], atol=1e-12)
    # explicit previous poses (one prediction per window)
    g2 = fd_gain(true[1:], pred[1:], previous=true[:-1])
    np.testing.assert_allclose(g2, [0.75, 0.5], atol=1e-12)
    # a perfect prediction has gain 1, predicting "no motion" (the previous pose) gain 0
    np.testing.assert_allclose(fd_gain(true, true)[1:], 1.0)
    np.testing.assert_allclose(fd_gain(true[1:], true[:-1], previous=true[:-1]), 0.0)


def test_fd_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, 6\)"):
        power_fd(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="finite"):
        power_fd([[0, 0, 0, 0, 0, np.nan]])
    with pytest.raises(ValueError, match="pred has shape"):
        fd_pred(np.zeros((3, 6)), np.zeros((2, 6)))


def test_single_sample_has_zero_fd():
    one = Trajectory([0.0], [[1, 2, 3, 4, 5, 6]])
    for f in (power_fd, jenkinson_fd, enorm, fd_total):
        np.testing.assert_array_equal(f(one), [0.0])
