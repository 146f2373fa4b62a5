"""Thread-count independence of every engine path (why mrsim.dataset.threads is gone).

Dataset builds must not depend on how many workers / threads built them
(tests/test_dataset_recipes.py checks whole builds with 1 and 2 workers). Here every path
of the engine is checked bytewise for 1, 2 and 3 threads, in single precision (the bulk
setting every dataset recipe uses).
"""

import numpy as np
import pytest

from mrsim.kspace import (
    Coils,
    CorruptionSettings,
    NufftOptions,
    birdcage_sensitivities,
    corrupt,
    moved_kspace,
    mprage_schedule,
)
from mrsim.motion import pace_like
from mrsim.motion.rigid import rotation_matrix
from mrsim.qsm.motion import QSMMotionSettings, mix_approx

SHAPE = (16, 14, 12)


def _poses(s, seed):
    rng = np.random.default_rng(seed)
    params = rng.normal(scale=2.0, size=(s.n_lines, 6))
    return rotation_matrix(params[:, 3:]), params[:, :3]


def _same_for_threads(fn):
    out = [fn(n) for n in (1, 2, 3)]
    assert out[0].tobytes() == out[1].tobytes() == out[2].tobytes()
    return out[0]


@pytest.mark.parametrize("eps", [1e-3, 1e-4])
@pytest.mark.parametrize("fast_path", [True, False])
def test_single_coil_lines(eps, fast_path):
    image = np.random.default_rng(0).random(SHAPE)  # float64 in, single precision out
    s = mprage_schedule(SHAPE)
    R, t = _poses(s, 1)
    k = _same_for_threads(
        lambda n: moved_kspace(
            image, s, R, t, 2.0, options=NufftOptions(eps=eps, threads=n, fast_path=fast_path)
        )
    )
    assert k.dtype == np.complex64 and np.abs(k).max() > 0


def test_translation_only_fast_path():
    image = np.random.default_rng(2).random(SHAPE).astype(np.float32)
    s = mprage_schedule(SHAPE)
    t = np.random.default_rng(3).uniform(-3, 3, (s.n_lines, 3))
    _same_for_threads(
        lambda n: moved_kspace(image, s, np.eye(3), t, options=NufftOptions(eps=1e-4, threads=n))
    )


@pytest.mark.parametrize("method", ["states", "fourier"])
def test_coil_paths(method):
    image = np.random.default_rng(4).random(SHAPE)
    s = mprage_schedule(SHAPE)
    R = rotation_matrix(np.random.default_rng(5).uniform(-4, 4, (3, 3)))[s.shot % 3]
    coils = Coils(
        birdcage_sensitivities(SHAPE, n_coils=3), method, 2 if method == "fourier" else None
    )
    _same_for_threads(
        lambda n: moved_kspace(
            image, s, R, np.zeros(3), options=NufftOptions(eps=1e-4, threads=n), coils=coils
        )
    )


def test_corrupt_front_door():
    image = np.random.default_rng(6).random(SHAPE)
    s = mprage_schedule(SHAPE)
    traj = pace_like(n=32, duration_s=s.duration_s + 1, scale=4, seed=1)

    def run(n):
        st = CorruptionSettings(voxel_size_mm=2.0, noise_snr=20, seed=3, output="complex")
        res = corrupt(image, traj, s, settings=st.updated(threads=n))
        return np.concatenate([res.kspace.ravel(), res.image.ravel(), res.clean.ravel()])

    _same_for_threads(run)


def test_qsm_approx_mixing_of_echoes():
    rng = np.random.default_rng(7)
    sig = (rng.random(SHAPE + (3,)) * np.exp(1j * rng.random(SHAPE + (3,)))).astype(complex)
    s = mprage_schedule(SHAPE)
    R, t = _poses(s, 8)
    _same_for_threads(
        lambda n: mix_approx(
            sig, s, R, t, 1.5, settings=QSMMotionSettings(nufft=NufftOptions(eps=1e-4, threads=n))
        )
    )
