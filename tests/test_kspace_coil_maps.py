"""Coil maps made one coil at a time (mrsim.kspace.coils.CoilMaps): the same values as the
band-limited array, the same coil combination to the byte, and no full map array held."""

import numpy as np
import pytest

from mrsim.kspace.coils import (
    CoilMaps,
    bandlimit_sensitivities,
    bandlimited_maps,
    birdcage_sensitivities,
    combine_coil_kspace,
)
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.multicoil import Coils
from mrsim.kspace.reconstruct import Reconstruction

GRID = (10, 12, 8)


def _sens(dtype=np.complex64):
    return birdcage_sensitivities(GRID, 2.0, 4, axis=2).astype(dtype)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_lazy_bandlimited_maps_equal_the_array(dtype):
    sens = _sens(dtype)
    lazy = bandlimited_maps(sens, (2, 1, 0))
    full = bandlimit_sensitivities(sens, (2, 1, 0))
    assert lazy.shape == full.shape and lazy.dtype == full.dtype and len(lazy) == 4
    for c in range(4):
        assert lazy[c].tobytes() == full[c].tobytes()
    assert lazy[-1].tobytes() == full[-1].tobytes()
    assert lazy.array().tobytes() == full.tobytes()
    with pytest.raises(IndexError):
        lazy[4]


def test_combination_with_lazy_maps_is_byte_identical():
    rng = np.random.default_rng(0)
    obj = rng.random(GRID) + 1j * rng.random(GRID)
    sens = _sens()
    full = bandlimit_sensitivities(sens, 1)
    k = fft_centered(full * obj.astype(np.complex64), axes=(1, 2, 3))
    made = []

    def make(c):
        made.append(c)
        return full[c]

    lazy = CoilMaps(4, GRID, np.complex64, make)
    a = combine_coil_kspace(k, full)
    b = combine_coil_kspace(k, lazy)
    assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert made == [0, 1, 2, 3]  # each map made once, in coil order
    np.testing.assert_allclose(a, obj, atol=1e-5)  # motion-free: the object


def test_reconstruction_holds_lazy_maps_for_fourier_coils():
    sens = _sens()
    rec = Reconstruction.for_coils(Coils(sens, "fourier", 1), 3, 1)
    assert isinstance(rec.maps, CoilMaps) and rec.n_coils == 4
    assert rec.sensitivities.tobytes() == bandlimit_sensitivities(sens, 1).tobytes()
    assert rec.sensitivities is rec.sensitivities  # made once
    states = Reconstruction.for_coils(Coils(sens, "states"), 3, 1)
    assert states.maps is sens and states.sensitivities is sens
    assert Reconstruction.for_coils(None, 3, 1).n_coils == 0
