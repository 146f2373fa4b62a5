"""The embedded MNI152 phantom: shapes, affines, tissue maps."""

import numpy as np
import pytest

from mrsim.phantoms.mni152 import KINDS, fit_to_shape, load_mni152


def test_native_grid_and_ranges():
    t1, affine = load_mni152("t1")
    assert t1.shape == (197, 233, 189)
    assert t1.dtype == np.float32
    np.testing.assert_allclose(np.diag(affine)[:3], 1.0)
    assert 0.0 <= t1.min() and t1.max() <= 1.0
    # world origin (MNI 0,0,0, the anterior commissure) lies inside the brain mask
    mask, _ = load_mni152("mask")
    ijk = np.round(np.linalg.solve(affine, [0, 0, 0, 1])[:3]).astype(int)
    assert mask[tuple(ijk)] == 1.0


def test_tissue_maps_partition_brain():
    gm, _ = load_mni152("gm")
    wm, _ = load_mni152("wm")
    csf, _ = load_mni152("csf")
    mask, _ = load_mni152("mask")
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert np.all(csf <= mask)
    inside = mask > 0
    total = (gm + wm + csf)[inside]
    # GM+WM+CSF covers the intracranial volume (CSF is derived as the remainder)
    assert np.median(total) == pytest.approx(1.0, abs=0.05)
    assert csf[inside].mean() > 0.02  # ventricles and sulci exist


def test_fit_to_shape_keeps_world_positions():
    data = np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-4, -6, -7]
    out, new_aff = fit_to_shape(data, affine, (8, 4, 7))
    # every voxel kept has the same world coordinate as in the input
    for ijk_out in [(1, 0, 0), (5, 3, 6), (3, 2, 3)]:
        world = new_aff @ np.r_[ijk_out, 1]
        ijk_in = np.round(np.linalg.solve(affine, world)[:3]).astype(int)
        if np.all(ijk_in >= 0) and np.all(ijk_in < data.shape):
            assert out[ijk_out] == data[tuple(ijk_in)]
        else:
            assert out[ijk_out] == 0


def test_resampled_grid_world_centre():
    t1, aff1 = load_mni152("t1")
    t3, aff3 = load_mni152("t1", shape=(64, 64, 64), voxel_size_mm=3.0)
    assert t3.shape == (64, 64, 64)
    np.testing.assert_allclose(np.diag(aff3)[:3], 3.0)
    # a point inside the brain has similar intensity on both grids
    world = np.array([20.0, -10.0, 10.0, 1.0])
    v1 = t1[tuple(np.round(np.linalg.solve(aff1, world)[:3]).astype(int))]
    v3 = t3[tuple(np.round(np.linalg.solve(aff3, world)[:3]).astype(int))]
    assert abs(v1 - v3) < 0.15


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown MNI152 kind"):
        load_mni152("t2")
    assert "csf" in KINDS
