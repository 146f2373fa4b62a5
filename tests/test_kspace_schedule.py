"""Acquisition schedules and the mapping of trajectories onto lines."""

import numpy as np
import pytest

from mrsim.kspace.schedule import (
    Schedule,
    cartesian2d_schedule,
    gre3d_schedule,
    mprage_schedule,
    poses_for_schedule,
)
from mrsim.motion import Trajectory


def _all_lines(shape, ro=0):
    pe_axes = [a for a in range(3) if a != ro]
    ny, nz = (shape[a] for a in pe_axes)
    g = np.stack(np.meshgrid(np.arange(ny) - ny // 2, np.arange(nz) - nz // 2, indexing="ij"), -1)
    return {tuple(r) for r in g.reshape(-1, 2)}


@pytest.mark.parametrize("ordering", ["linear", "centric", "interleaved", "per-line"])
@pytest.mark.parametrize("ro", [0, 1, 2])
def test_mprage_covers_every_line_once(ordering, ro):
    shape = (6, 5, 4)
    s = mprage_schedule(shape, ordering=ordering, readout_axis=ro)
    assert s.n_lines == len(_all_lines(shape, ro))
    assert {tuple(r) for r in s.pe_index} == _all_lines(shape, ro)
    assert s.is_fully_sampled()
    assert np.all(np.diff(s.time_s) > 0)  # lines are acquired one after another


def test_mprage_linear_structure():
    s = mprage_schedule((8, 6, 4), ordering="linear", echo_spacing_s=0.01, ti_s=0.5, shot_tr_s=2.0)
    # one kz partition per shot, ky ascending inside
    assert s.n_shots == 4
    for sh in range(4):
        sel = s.shot == sh
        assert np.all(s.pe_index[sel, 1] == sh - 2)
        assert np.array_equal(s.pe_index[sel, 0], np.arange(6) - 3)
    # the train centre (ky = 0, position 3) is at TI after each inversion
    centre = (s.shot == 1) & (s.pe_index[:, 0] == 0)
    assert s.time_s[centre][0] == pytest.approx(2.0 + 0.5)


def test_mprage_centric_and_interleaved_orders():
    c = mprage_schedule((8, 6, 5), ordering="centric")
    assert np.array_equal(c.pe_index[:6, 0], [0, -1, 1, -2, 2, -3])
    assert np.array_equal(c.pe_index[::6, 1], [0, -1, 1, -2, 2])
    assert c.center_line() == 0
    i = mprage_schedule((8, 6, 5), ordering="interleaved", n_interleaves=2)
    assert np.array_equal(i.pe_index[::6, 1], [-2, 0, 2, -1, 1])


def test_mprage_rejects_impossible_timing():
    with pytest.raises(ValueError, match="ti_s"):
        mprage_schedule((8, 256, 4), ti_s=0.1, echo_spacing_s=0.01)
    with pytest.raises(ValueError, match="shot_tr_s"):
        mprage_schedule((8, 256, 4), ti_s=1.5, echo_spacing_s=0.01, shot_tr_s=2.0)
    with pytest.raises(ValueError, match="ordering"):
        mprage_schedule((8, 8, 8), ordering="spiral")


def test_grid_round_trip_and_masks():
    s = gre3d_schedule((6, 5, 4), segments=3, readout_axis=1)
    k = np.random.default_rng(0).standard_normal((2, 6, 5, 4))
    assert np.array_equal(s.to_grid(s.from_grid(k)), k)
    masks = s.line_masks(s.shot)
    assert masks.shape == (3, 6, 5, 4)
    assert np.array_equal(masks.sum(0), np.ones((6, 5, 4)))  # segments partition k-space
    assert np.array_equal(np.bincount(s.shot), [8, 8, 8])
    big = s.to_grid(s.from_grid(k[0]), shape=(8, 5, 6))
    assert np.array_equal(big[1:7, :, 1:5], k[0])


def test_schedule_validation():
    with pytest.raises(ValueError, match="more than once"):
        Schedule((4, 4, 4), 0, [[0, 0], [0, 0]], [0, 1], [0, 0])
    with pytest.raises(ValueError, match="must lie in"):
        Schedule((4, 4, 4), 0, [[2, 0]], [0], [0])
    with pytest.raises(ValueError, match="one entry per line"):
        Schedule((4, 4, 4), 0, [[0, 0]], [0, 1], [0])


def test_cartesian2d():
    s = cartesian2d_schedule((8, 6), tr_s=0.1, ordering="centric")
    assert s.pe_index.shape == (6, 1)
    assert s.pe_index[0, 0] == 0 and s.time_s[-1] == pytest.approx(0.5)


def _ramp_traj(t_end, n=11):
    t = np.linspace(0, t_end, n)
    p = np.zeros((n, 6))
    p[:, 0] = t / t_end * 4  # tx from 0 to 4 mm
    p[:, 5] = t / t_end * 2  # rz from 0 to 2 deg
    return Trajectory(t, p)


def test_poses_seconds_stretch_and_rereference():
    s = mprage_schedule((4, 6, 4), echo_spacing_s=0.01, ti_s=0.5, shot_tr_s=1.0)
    traj = _ramp_traj(4.0)
    R, t, p = poses_for_schedule(traj, s, rereference_center=False)
    assert p.shape == (s.n_lines, 6) and R.shape == (s.n_lines, 3, 3)
    assert np.allclose(p[:, 0], s.time_s)  # tx = t_s mm/s for this ramp
    # re-referenced: identity exactly at the k-space centre line
    R, t, p = poses_for_schedule(traj, s, rereference_center=True)
    c = s.center_line()
    assert np.allclose(R[c], np.eye(3), atol=1e-12) and np.allclose(t[c], 0, atol=1e-12)
    # stretch: the trajectory's span covers the scan's span
    R, t, p = poses_for_schedule(_ramp_traj(1.0), s, mapping="stretch", rereference_center=False)
    span = (s.time_s - s.time_s.min()) / np.ptp(s.time_s)
    assert np.allclose(p[:, 0], 4 * span)


def test_poses_short_trajectory_is_an_error():
    s = mprage_schedule((4, 6, 4), echo_spacing_s=0.01, ti_s=0.5, shot_tr_s=1.0)
    with pytest.raises(ValueError, match="trajectory covers"):
        poses_for_schedule(_ramp_traj(2.0), s)


def test_poses_per_shot_granularity():
    s = mprage_schedule((4, 6, 4), echo_spacing_s=0.01, ti_s=0.5, shot_tr_s=1.0)
    R, t, p = poses_for_schedule(_ramp_traj(4.0), s, granularity="shot", rereference_center=False)
    for sh in range(4):
        rows = p[s.shot == sh]
        assert np.allclose(rows, rows[0])
        assert rows[0, 0] == pytest.approx(s.time_s[s.shot == sh].mean())


def test_grid_index_is_pe_index_about_the_centre():
    # readout along axis 1, PE axes (0, 2) of sizes 5 and 4: DC at (2, 2)
    s = Schedule((5, 3, 4), 1, [[-2, -2], [0, 0], [2, 1]], [0.0, 0.1, 0.2], [0, 0, 0])
    iy, iz = s.grid_index()
    assert iy.tolist() == [0, 2, 4] and iz.tolist() == [0, 2, 3]
    k = np.arange(5 * 3 * 4).reshape(5, 3, 4)
    assert np.array_equal(s.from_grid(k), np.moveaxis(k, 1, -1)[iy, iz])
