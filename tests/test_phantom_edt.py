"""mrsim.phantoms.edt: the compiled EDT equals scipy's bit for bit (its whole purpose)."""

import numpy as np
import pytest
from scipy import ndimage

from mrsim.phantoms.edt import distance_transform_edt, exact_sampling

SAMPLINGS = [(1.0, 1.0, 1.0), (2.0, 2.0, 2.0), (0.5, 1.0, 1.5), (4.0, 0.25, 3.0)]


@pytest.mark.parametrize("sampling", SAMPLINGS)
@pytest.mark.parametrize("density", [0.02, 0.5, 0.97])
def test_random_masks_equal_scipy(sampling, density):
    rng = np.random.default_rng(int(density * 100) + int(sum(sampling) * 10))
    for shape in [(9, 10, 11), (1, 17, 5), (23, 3, 30)]:
        a = rng.random(shape) < density
        a.flat[rng.integers(a.size)] = False  # at least one zero voxel
        ref = ndimage.distance_transform_edt(a, sampling=sampling)
        got = distance_transform_edt(a, sampling)
        assert got.dtype == np.float64
        assert np.array_equal(got, ref), (shape, sampling, density)
        got32 = distance_transform_edt(a, sampling, dtype=np.float32)
        assert got32.dtype == np.float32
        assert np.array_equal(got32, ref.astype(np.float32))


def test_a_ball_and_its_complement_equal_scipy():
    # a large smooth object: many exact ties between features at equal distance
    x, y, z = np.indices((40, 48, 56)) - np.array([20, 24, 28])[:, None, None, None]
    ball = x**2 + 1.5 * y**2 + 0.7 * z**2 < 15.0**2
    for a in (ball, ~ball):
        assert np.array_equal(distance_transform_edt(a), ndimage.distance_transform_edt(a))


def test_small_object_in_a_large_grid_equals_scipy():
    # the transform runs on the object's bounding box + 1 voxel only
    a = np.zeros((30, 40, 50), bool)
    a[10:14, 5:20, 30:33] = True
    a[12, 21, 31] = True
    for s in ((1.0, 1.0, 1.0), (0.5, 2.0, 1.5)):
        ref = ndimage.distance_transform_edt(a, sampling=s)
        assert np.array_equal(distance_transform_edt(a, s), ref)
    edge = np.zeros((6, 7, 8), bool)
    edge[0, :3, 5:] = True  # touching the array's faces
    assert np.array_equal(distance_transform_edt(edge), ndimage.distance_transform_edt(edge))


def test_known_values():
    a = np.ones((1, 1, 7), bool)
    a[0, 0, 0] = False
    np.testing.assert_array_equal(distance_transform_edt(a, 2.0)[0, 0], 2.0 * np.arange(7))
    b = np.ones((5, 5, 5), bool)
    b[0, 0, 0] = False
    assert distance_transform_edt(b)[3, 4, 0] == 5.0  # a 3-4-5 triangle


def test_degenerate_and_inexact_cases_use_scipy():
    full = np.ones((4, 5, 6), bool)  # no zero voxel: scipy's own convention, kept
    assert np.array_equal(distance_transform_edt(full), ndimage.distance_transform_edt(full))
    assert not distance_transform_edt(np.zeros((3, 3, 3), bool)).any()
    assert not exact_sampling((10, 10, 10), (1.2, 1.0, 1.0))
    assert exact_sampling((10, 10, 10), (1.25, 0.5, 3.0))
    assert not exact_sampling((40000, 1, 1), (1.0, 1.0, 1.0))
    a = np.random.default_rng(1).random((8, 9, 10)) < 0.6
    s = (1.2, 1.0, 0.9)
    assert np.array_equal(
        distance_transform_edt(a, s), ndimage.distance_transform_edt(a, sampling=s)
    )


def test_bad_input():
    with pytest.raises(ValueError, match="3D"):
        distance_transform_edt(np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="dtype"):
        distance_transform_edt(np.ones((3, 3, 3), bool), dtype=np.int32)
