"""Echo-train contrast in k-space: low-rank bound, per-echo truth, zero motion, errors."""

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.kspace.corrupt import corrupt, moved_kspace
from mrsim.kspace.echo_train import (
    corrupt_echo_train,
    echo_index,
    echo_train_kspace,
    lowrank_contrast,
    protocol_for_schedule,
)
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.schedule import mprage_schedule, poses_for_schedule
from mrsim.motion.trajectory import Trajectory
from mrsim.signal.mprage import MPRAGEProtocol

SHAPE = (16, 18, 12)
T1 = np.array([0.83, 1.33, 4.16, 0.38])
PD = np.array([0.7, 0.8, 1.0, 0.9])


def _maps(seed=0):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    raw = ndimage.gaussian_filter(rng.random((4, *SHAPE)), (0, 1.5, 1.5, 1.5))
    raw = np.exp(8 * (raw - raw.mean()))
    return (raw / raw.sum(0, keepdims=True)).astype(np.float32)


def _setup(ordering="linear"):
    sched = mprage_schedule(SHAPE, ordering=ordering, readout_axis=2, echo_spacing_s=0.01)
    proto = MPRAGEProtocol(tr_s=2.3, ti_centre_s=0.9, esp_s=0.01, flip_deg=9, n_echoes=16)
    proto = protocol_for_schedule(proto, sched)
    return sched, proto, proto.signal(T1, PD)


def _echo_images(fr, sig):
    return np.tensordot(sig.T, fr.astype(float), axes=(1, 0))  # (N, *SHAPE)


def _trajectory(sched, amp=3.0, seed=3):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, sched.time_s.max() + 1, 40)
    p = np.cumsum(rng.normal(0, amp / 6, (40, 6)), axis=0)
    return Trajectory(t, p)


@pytest.mark.parametrize("ordering", ["linear", "centric", "interleaved"])
def test_echo_index(ordering):
    sched, proto, _ = _setup(ordering)
    n = echo_index(sched)
    tf = SHAPE[0]
    for s in np.unique(sched.shot):
        sel = sched.shot == s
        np.testing.assert_array_equal(np.sort(n[sel]), np.arange(tf))
        assert np.all(np.diff(sched.time_s[sel][np.argsort(n[sel])]) > 0)
    assert n[sched.center_line()] == proto.centre


def test_lowrank_bound_is_exact_and_met():
    fr = _maps()
    _, _, sig = _setup()
    imgs = _echo_images(fr, sig)
    norms = np.linalg.norm(imgs.reshape(len(imgs), -1), axis=1)
    for tol in (1e-2, 1e-3, 1e-5):
        lr = lowrank_contrast(fr, sig, tol)
        approx = np.tensordot(lr.coeffs, lr.basis.astype(float), axes=(1, 0))
        err = np.linalg.norm((imgs - approx).reshape(len(imgs), -1), axis=1) / norms
        assert lr.error_bound <= tol
        # the bound is the measured error (float32 basis images: ~1e-7 absolute)
        assert abs(err.max() - lr.error_bound) < 1e-5
    full = lowrank_contrast(fr, sig, rank=4)
    assert full.error_bound < 1e-12
    with pytest.raises(MrsimInputError, match="rank"):
        lowrank_contrast(fr, sig, rank=5)


def test_zero_motion_equals_motion_free_acquisition():
    fr = _maps()
    sched, _, sig = _setup()
    # truth: every echo image's own k-space, each line taken from its echo
    imgs = _echo_images(fr, sig)
    n = echo_index(sched)
    lines = np.stack([sched.from_grid(fft_centered(imgs[e]))[i] for i, e in enumerate(n)])
    truth = sched.to_grid(lines)
    still = Trajectory(np.array([0.0, sched.time_s.max() + 1]), np.zeros((2, 6)))
    res = corrupt_echo_train(fr, sig, still, sched, 2.0, tol=1e-3, output="complex")
    np.testing.assert_array_equal(res.image, res.clean)  # same acquisition, no motion
    rel = np.linalg.norm(res.kspace - truth) / np.linalg.norm(truth)
    assert rel <= res.settings["lowrank_error_bound"] + 1e-6
    exact = corrupt_echo_train(fr, sig, still, sched, 2.0, rank=4, output="complex")
    np.testing.assert_allclose(exact.kspace, truth, atol=1e-6 * np.abs(truth).max())


def test_moving_lines_match_per_echo_moved_kspace():
    # With full rank, every line equals the engine's moved k-space of its own echo image.
    fr = _maps(1)
    sched, _, sig = _setup()
    R, t, params = poses_for_schedule(_trajectory(sched), sched, mapping="seconds")
    assert np.abs(params[:, 3:]).max() > 1.0 and np.abs(t).max() > 1.0  # really moving
    lr = lowrank_contrast(fr, sig, rank=4)
    k = echo_train_kspace(lr, sched, R, t, 2.0, eps=1e-9, scale_eps=False)
    imgs = _echo_images(fr, sig)
    n = echo_index(sched)
    got = sched.from_grid(k)
    for e in np.unique(n):
        sel = np.flatnonzero(n == e)
        sub = sched.subset(sel)
        ke = moved_kspace(imgs[e], sub, R[sel], t[sel], 2.0, eps=1e-9)
        np.testing.assert_allclose(
            got[sel], sub.from_grid(ke), atol=1e-7 * np.abs(got).max(), err_msg=f"echo {e}"
        )
    # the looser tolerance of the small terms keeps the error at the leading term's eps
    for eps in (1e-4, 1e-3):
        k_eps = echo_train_kspace(lr, sched, R, t, 2.0, eps=eps)
        assert np.linalg.norm(k_eps - k) / np.linalg.norm(k) < 2 * eps


def test_constant_contrast_is_the_static_path():
    # Echo-independent tissue signals: echo-train corruption = corrupt() of that image.
    fr = _maps(2)
    sched, _, _ = _setup()
    sig = np.repeat(np.array([[0.5], [0.3], [0.1], [0.9]]), 16, axis=1)
    traj = _trajectory(sched)
    res = corrupt_echo_train(fr, sig, traj, sched, 2.0, eps=1e-9, output="complex")
    assert res.settings["lowrank_rank"] == 1
    img = np.tensordot(sig[:, 0], fr.astype(float), axes=(0, 0))
    ref = corrupt(img, traj, sched, 2.0, eps=1e-9, output="complex")
    np.testing.assert_allclose(res.kspace, ref.kspace, atol=1e-6 * np.abs(ref.kspace).max())
    np.testing.assert_allclose(res.params, ref.params)


def test_protocol_errors():
    sched = mprage_schedule(SHAPE, readout_axis=2, echo_spacing_s=0.01)
    short = MPRAGEProtocol(esp_s=0.01, n_echoes=8)
    with pytest.raises(MrsimInputError, match="smaller than the schedule's 16 lines per shot"):
        protocol_for_schedule(short, sched)
    with pytest.raises(MrsimInputError, match="esp_s"):
        protocol_for_schedule(MPRAGEProtocol(esp_s=0.007, n_echoes=16), sched)
    per_line = mprage_schedule(SHAPE, ordering="per-line", readout_axis=2)
    with pytest.raises(MrsimInputError, match="inversions"):
        protocol_for_schedule(MPRAGEProtocol(esp_s=0.007, n_echoes=16), per_line)
    fr = _maps()
    with pytest.raises(MrsimInputError, match="signals"):
        lowrank_contrast(fr, np.ones((3, 16)))
    lr = lowrank_contrast(fr, np.ones((4, 8)))
    with pytest.raises(MrsimInputError, match="16 lines per shot"):
        echo_train_kspace(lr, sched, np.eye(3), np.zeros(3), 2.0)
