"""The reconstruction both front doors share (mrsim.kspace.reconstruct): line energies
summed coil by coil agree with the all-coil sum to float32 rounding, and the echo-train
severity weights are those energies."""

import numpy as np

from mrsim.kspace.coils import birdcage_sensitivities
from mrsim.kspace.echo_train import corrupt_echo_train, echo_train_kspace, lowrank_contrast
from mrsim.kspace.multicoil import Coils
from mrsim.kspace.poses import line_poses
from mrsim.kspace.reconstruct import Reconstruction
from mrsim.kspace.schedule import mprage_schedule
from mrsim.kspace.severity import motion_severity
from mrsim.motion.generators import pace_like


def _all_coils_energy(k, schedule):
    # the echo-train path's sum before it was shared: one gather over all coils
    return np.sum(np.abs(schedule.from_grid(k)) ** 2, axis=-1).sum(axis=0)


def test_coil_by_coil_line_energy_is_the_all_coil_sum():
    rng = np.random.default_rng(0)
    sched = mprage_schedule((12, 16, 10), readout_axis=0)
    k = rng.standard_normal((8, *sched.shape)) + 1j * rng.standard_normal((8, *sched.shape))
    k = k.astype(np.complex64)
    sens = np.ones((8, *sched.shape), np.complex64)
    got = Reconstruction(3, sens).line_energy(k, sched)
    want = _all_coils_energy(k, sched)
    assert got.shape == (sched.n_lines,) and got.dtype == want.dtype
    # float32 sums in another order: equal to rounding (measured ~1e-7)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    one = Reconstruction(3).line_energy(k[0], sched)
    np.testing.assert_array_equal(one, np.sum(np.abs(sched.from_grid(k[0])) ** 2, axis=-1))


def test_echo_train_severity_weights_are_the_clean_line_energies():
    from scipy import ndimage

    shape = (12, 16, 14)
    rng = np.random.default_rng(1)
    raw = ndimage.gaussian_filter(rng.random((3, *shape)), (0, 1.5, 1.5, 1.5))
    fr = (raw / raw.sum(0, keepdims=True)).astype(np.float32)
    sched = mprage_schedule(shape, readout_axis=0, echo_spacing_s=0.01)
    n_echo = shape[1]
    sig = np.stack([np.linspace(0.2, 1.0, n_echo), np.linspace(1.0, 0.3, n_echo), np.ones(n_echo)])
    traj = pace_like(n=16, scale=6.0, duration_s=sched.duration_s + 1, seed=4)
    sens = birdcage_sensitivities(shape, 2.0, 6, axis=2)
    res = corrupt_echo_train(
        fr, sig, traj, sched, 2.0, coil_sensitivities=sens, coil_method="fourier", nthreads=1
    )
    lr = lowrank_contrast(fr, sig, 1e-3)
    coils = Coils(sens, "fourier")
    k_clean = echo_train_kspace(lr, sched, np.eye(3), np.zeros(3), 2.0, coils=coils, nthreads=1)
    p = line_poses(traj, sched)
    want = motion_severity(
        p.rotations, p.translations_mm, line_weights=_all_coils_energy(k_clean, sched)
    )
    for key in ("mean_displacement_mm", "energy_fraction_moved"):
        assert abs(res.severity[key] - want[key]) <= 1e-6 * abs(want[key]) + 1e-12, key
    assert res.severity["max_displacement_mm"] == want["max_displacement_mm"]


def test_noise_drawn_grid_by_grid_is_the_whole_array_draw():
    from mrsim.kspace.severity import add_kspace_noise

    rng = np.random.default_rng(5)
    sched = mprage_schedule((6, 8, 10), readout_axis=0)
    for shape in [sched.shape, (4, *sched.shape), (2, 3, *sched.shape)]:
        k = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
        # the draw as documented: real parts over kspace.shape, then imaginary parts
        draw = np.random.default_rng(3)
        noise = draw.standard_normal(shape) + 1j * draw.standard_normal(shape)
        acquired = sched.to_grid(np.ones((sched.n_lines, sched.n_readout), bool))
        want = k + 0.7 * noise * acquired
        got = add_kspace_noise(k, sched, 0.7, 3)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
        # a caller's Generator is left where the whole-array draw leaves it
        mine = np.random.default_rng(3)
        add_kspace_noise(k, sched, 0.7, mine)
        assert mine.standard_normal(4).tobytes() == draw.standard_normal(4).tobytes()
