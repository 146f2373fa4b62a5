"""Rigid transforms and the Trajectory type: conventions against scipy and analytic cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation, Slerp

from mrsim.motion import (
    PARAM_NAMES,
    Trajectory,
    affine_to_params,
    euler_from_matrix,
    invert_affine,
    params_to_affine,
    rotation_matrix,
)

angles = st.floats(-179.0, 179.0)
tilt = st.floats(-89.0, 89.0)


def test_rotation_matches_scipy_xyz_extrinsic():
    rng = np.random.default_rng(0)
    rot = rng.uniform(-180, 180, size=(50, 3))
    R = rotation_matrix(rot)
    ref = Rotation.from_euler("xyz", rot, degrees=True).as_matrix()
    np.testing.assert_allclose(R, ref, atol=1e-12)
    # and it is Rz @ Ry @ Rx built from the elementary rotations
    i = 7
    Rx = Rotation.from_euler("x", rot[i, 0], degrees=True).as_matrix()
    Ry = Rotation.from_euler("y", rot[i, 1], degrees=True).as_matrix()
    Rz = Rotation.from_euler("z", rot[i, 2], degrees=True).as_matrix()
    np.testing.assert_allclose(R[i], Rz @ Ry @ Rx, atol=1e-12)


def test_rotation_right_handed_about_z():
    # +90 deg about z takes x to y in a right-handed frame.
    R = rotation_matrix([0, 0, 90])
    np.testing.assert_allclose(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(rotation_matrix([90, 0, 0]) @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(rotation_matrix([0, 90, 0]) @ [0, 0, 1], [1, 0, 0], atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(angles, tilt, angles)
def test_euler_round_trip(rx, ry, rz):
    back = euler_from_matrix(rotation_matrix([rx, ry, rz]))
    np.testing.assert_allclose(back, [rx, ry, rz], atol=1e-8)


def test_euler_gimbal_lock_gives_same_matrix():
    R = rotation_matrix([30.0, 90.0, 10.0])
    e = euler_from_matrix(R)
    assert e[0] == 0.0
    np.testing.assert_allclose(rotation_matrix(e), R, atol=1e-12)


def test_affine_moves_point_about_center():
    c = np.array([10.0, -5.0, 3.0])
    p = np.array([1.0, 2.0, 3.0, 0.0, 0.0, 90.0])
    A = params_to_affine(p, center_mm=c)
    r = np.array([11.0, -5.0, 3.0])  # 1 mm along +x from the centre
    moved = A @ np.append(r, 1.0)
    # R (r - c) + c + t, with R taking x to y
    np.testing.assert_allclose(moved[:3], c + [0, 1, 0] + p[:3], atol=1e-12)
    np.testing.assert_allclose(affine_to_params(A, center_mm=c), p, atol=1e-12)
    # without a centre the matrix is [[R, t], [0, 1]]
    A0 = params_to_affine(p)
    np.testing.assert_allclose(A0[:3, 3], p[:3])
    np.testing.assert_allclose(A0[:3, :3], rotation_matrix(p[3:]))


def test_affine_batch_and_inverse():
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.normal(0, 5, (4, 3, 3)), rng.uniform(-60, 60, (4, 3, 3))], axis=-1)
    A = params_to_affine(p)
    assert A.shape == (4, 3, 4, 4)
    np.testing.assert_allclose(affine_to_params(A), p, atol=1e-10)
    np.testing.assert_allclose(
        A @ invert_affine(A), np.broadcast_to(np.eye(4), A.shape), atol=1e-12
    )


def test_affine_to_params_rejects_non_rigid():
    A = np.eye(4)
    A[0, 0] = 1.1
    with pytest.raises(ValueError, match="not rigid"):
        affine_to_params(A)


def _traj(n=20, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 10, n))
    p = np.concatenate([rng.normal(0, 2, (n, 3)), rng.uniform(-10, 10, (n, 3))], axis=1)
    return Trajectory(t, p)


def test_trajectory_basics():
    tr = _traj()
    assert len(tr) == 20
    assert PARAM_NAMES == ("tx_mm", "ty_mm", "tz_mm", "rx_deg", "ry_deg", "rz_deg")
    np.testing.assert_array_equal(tr.translations_mm, tr.params[:, :3])
    np.testing.assert_array_equal(tr.rotations_deg, tr.params[:, 3:])
    assert tr.duration_s == pytest.approx(tr.t_s[-1] - tr.t_s[0])
    assert tr.rotation_matrices().shape == (20, 3, 3)
    with pytest.raises(ValueError):
        tr.params[0, 0] = 1.0  # read-only
    back = Trajectory.from_affines(tr.t_s, tr.to_affines())
    np.testing.assert_allclose(back.params, tr.params, atol=1e-10)
    ident = Trajectory.identity([0, 1, 2])
    np.testing.assert_array_equal(ident.params, 0)
    moved = tr.with_times(tr.t_s * 2)
    np.testing.assert_array_equal(moved.params, tr.params)
    np.testing.assert_array_equal(moved.t_s, tr.t_s * 2)
    assert "n=20" in repr(tr)


@pytest.mark.parametrize(
    "t, p, msg",
    [
        ([0, 1, 1], np.zeros((3, 6)), "strictly increasing"),
        ([0, 1], np.zeros((2, 5)), r"shape \(N, 6\)"),
        ([0, 1, 2], np.zeros((2, 6)), "3 samples"),
        ([0, np.nan], np.zeros((2, 6)), "finite"),
        ([0, 1], [[0, 0, 0, 0, 0, 0], [0, np.inf, 0, 0, 0, 0]], "ty_mm"),
        ([], np.zeros((0, 6)), "at least one"),
    ],
)
def test_trajectory_validation(t, p, msg):
    with pytest.raises(ValueError, match=msg):
        Trajectory(t, p)


def test_resample_linear_translation_and_slerp_rotation():
    tr = _traj(8, seed=3)
    tq = np.linspace(tr.t_s[0] + 1e-3, tr.t_s[-1] - 1e-3, 37)
    out = tr.resample(tq)
    for k in range(3):
        np.testing.assert_allclose(out.params[:, k], np.interp(tq, tr.t_s, tr.params[:, k]))
    ref = Slerp(tr.t_s, Rotation.from_euler("xyz", tr.rotations_deg, degrees=True))(tq)
    np.testing.assert_allclose(out.rotation_matrices(), ref.as_matrix(), atol=1e-10)
    # at the sample times the stored poses come back exactly
    np.testing.assert_array_equal(tr.resample(tr.t_s).params, tr.params)


def test_slerp_is_not_euler_averaging():
    # halfway between identity and a 40 deg rotation about a tilted axis is a 20 deg
    # rotation about the same axis; averaging Euler angles gives something else.
    axis = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    end = Rotation.from_rotvec(np.deg2rad(40) * axis).as_euler("xyz", degrees=True)
    tr = Trajectory([0.0, 1.0], [[0, 0, 0, 0, 0, 0], [0, 0, 0, *end]])
    mid = tr.pose_at(0.5)
    rv = Rotation.from_euler("xyz", mid[3:], degrees=True).as_rotvec()
    np.testing.assert_allclose(rv, np.deg2rad(20) * axis, atol=1e-12)
    assert not np.allclose(mid[3:], end / 2, atol=1e-3)


def test_resample_nearest_and_hold_outside():
    tr = Trajectory([0.0, 1.0, 2.0], np.arange(18.0).reshape(3, 6))
    out = tr.sample([-5.0, 0.4, 0.5, 0.6, 1.9, 7.0], method="nearest")
    np.testing.assert_array_equal(out[:, 0], [0, 0, 0, 6, 12, 12])
    lin = tr.sample([-1.0, 3.0])
    np.testing.assert_allclose(lin, tr.params[[0, 2]], atol=1e-10)
    # unsorted times with repeats are allowed in sample()
    assert tr.sample([1.5, 0.2, 1.5]).shape == (3, 6)
    with pytest.raises(ValueError, match="method"):
        tr.sample([0.5], method="cubic")


@pytest.mark.parametrize("t_ref", [0.0, 3.3, 10.0])
def test_rereference_makes_reference_pose_identity(t_ref):
    tr = _traj(15, seed=5)
    tr = Trajectory.concatenate([tr, Trajectory([10.5], [[1, 2, 3, 4, 5, 6]])])
    rr = tr.rereference(t_ref)
    np.testing.assert_allclose(rr.pose_at(t_ref), np.zeros(6), atol=1e-9)
    # composition with the inverse at the original samples: A_i' A_ref = A_i
    A_ref = params_to_affine(tr.pose_at(t_ref))
    np.testing.assert_allclose(rr.resample(tr.t_s).to_affines() @ A_ref, tr.to_affines(), atol=1e-9)
    # the sample inserted at t_ref lies on the original path
    assert len(rr) == len(tr) + (t_ref not in tr.t_s and tr.t_s[0] < t_ref < tr.t_s[-1])
    # without insertion: samples are A_i A_ref^-1 and t_ref is identity to interpolation error
    rr0 = tr.rereference(t_ref, insert_sample=False)
    assert len(rr0) == len(tr)
    np.testing.assert_allclose(rr0.to_affines() @ A_ref, tr.to_affines(), atol=1e-9)
    # relative motion between two samples is unchanged by re-referencing
    a, b = tr.to_affines()[[2, 9]]
    a2, b2 = rr.resample(tr.t_s).to_affines()[[2, 9]]
    np.testing.assert_allclose(b2 @ np.linalg.inv(a2), b @ np.linalg.inv(a), atol=1e-9)


def test_scale():
    tr = _traj(10, seed=7)
    np.testing.assert_array_equal(tr.scale(1).params, tr.params)
    np.testing.assert_allclose(tr.scale(0).params, 0, atol=1e-12)
    s = tr.scale(8)
    np.testing.assert_allclose(s.translations_mm, 8 * tr.translations_mm)
    rv = Rotation.from_euler("xyz", tr.rotations_deg, degrees=True).as_rotvec()
    rv8 = Rotation.from_euler("xyz", s.rotations_deg, degrees=True).as_rotvec()
    np.testing.assert_allclose(rv8, 8 * rv, atol=1e-10)
    # a single-axis rotation scales like its angle
    one = Trajectory([0.0], [[0, 0, 0, 0, 0, 2.0]]).scale(8)
    np.testing.assert_allclose(one.params, [[0, 0, 0, 0, 0, 16.0]], atol=1e-12)


def test_crop_and_concatenate():
    tr = Trajectory(np.arange(10.0), np.arange(60.0).reshape(10, 6))
    c = tr.crop(2.0, 5.0)
    np.testing.assert_array_equal(c.t_s, [2, 3, 4, 5])
    with pytest.raises(ValueError, match="keeps no sample"):
        tr.crop(20, 30)
    both = Trajectory.concatenate([tr.crop(0, 3), tr.crop(4, 9)])
    np.testing.assert_array_equal(both.params, tr.params)
    with pytest.raises(ValueError, match="gap_s"):
        Trajectory.concatenate([tr, tr])
    shifted = Trajectory.concatenate([tr, tr], gap_s=1.0)
    np.testing.assert_array_equal(shifted.t_s, np.arange(20.0))
