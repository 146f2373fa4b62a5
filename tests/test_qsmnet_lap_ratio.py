"""qsmnet lap_ratio: the Laplacian RMS counts only voxels whose whole stencil is in the mask."""

from __future__ import annotations

import numpy as np
import pytest

from correctors.qsmnet.evaluate import _lap_rms, stencil_interior


def test_stencil_interior_is_the_cross_erosion():
    mask = np.zeros((8, 8, 8), bool)
    mask[2:6, 2:6, 2:6] = True  # a 4^3 cube
    got = stencil_interior(mask)
    want = np.zeros_like(mask)
    want[3:5, 3:5, 3:5] = True  # every face neighbour of these 8 voxels is in the cube
    np.testing.assert_array_equal(got, want)
    # diagonal neighbours are not in the 7-point stencil: a cross-shaped mask keeps its centre
    cross = np.zeros((5, 5, 5), bool)
    cross[2, 2, 1:4] = cross[2, 1:4, 2] = cross[1:4, 2, 2] = True
    assert np.flatnonzero(stencil_interior(cross)).tolist() == [
        np.ravel_multi_index((2, 2, 2), (5, 5, 5))
    ]
    # voxels on the array's faces: their stencil leaves the array
    assert not stencil_interior(np.ones((3, 3, 3), bool))[[0, 2]].any()
    assert stencil_interior(np.ones((3, 3, 3), bool)).sum() == 1


def test_lap_rms_hand_computed_inside_a_zeroed_background():
    """chi = x^2 + 3 y^2 in a cube, 0 outside: the 7-point Laplacian is 2 + 6 = 8 exactly
    wherever the stencil stays in the cube, whatever the jump at the cube's edge."""
    n = 10
    x, y, _ = np.meshgrid(*(np.arange(n, dtype=float),) * 3, indexing="ij")
    mask = np.zeros((n, n, n), bool)
    mask[2:8, 2:8, 2:8] = True
    chi = np.where(mask, x**2 + 3 * y**2, 0.0)
    assert _lap_rms(chi, stencil_interior(mask)) == pytest.approx(8.0, rel=1e-12)
    # the whole mask would include the edge, where the stencil reads the zero background
    from scipy import ndimage

    whole = float(np.sqrt(np.mean(ndimage.laplace(chi)[mask] ** 2)))
    assert whole > 8.0 * 5  # dominated by the jump: the reason for the erosion
    # lap_ratio of 2 chi against chi is 2
    interior = stencil_interior(mask)
    assert _lap_rms(2 * chi, interior) / _lap_rms(chi, interior) == pytest.approx(2.0)
    # changing the mask's edge voxels moves the Laplacian of their interior neighbours only
    edge = mask & ~interior
    bumped = chi + np.where(edge, 100.0, 0.0)
    assert _lap_rms(bumped, interior) != pytest.approx(8.0)  # a neighbour in the stencil moved
    inner = ndimage.binary_erosion(interior, ndimage.generate_binary_structure(3, 1))
    assert _lap_rms(bumped, inner) == pytest.approx(8.0, rel=1e-12)


def test_empty_interior_is_an_error():
    mask = np.zeros((4, 4, 4), bool)
    mask[1, 1, 1] = True
    with pytest.raises(ValueError, match="stencil"):
        _lap_rms(np.ones((4, 4, 4)), stencil_interior(mask))


def test_thin_mask_gives_nan_for_that_row_and_a_warning(tmp_path, monkeypatch):
    """A row whose mask has no stencil interior: lap_ratio NaN (with a warning naming the
    row), every other metric still computed; before the interior rule it was NaN too."""
    from qsmnet_tiny_data import build_tiny_qsm

    import correctors.qsmnet.evaluate as qeval

    data = build_tiny_qsm(tmp_path / "ds")
    monkeypatch.setattr(qeval, "stencil_interior", lambda mask: np.zeros(mask.shape, bool))
    with pytest.warns(RuntimeWarning, match="row .*lap_ratio is NaN"):
        rows = qeval.evaluate(None, data, "test")
    assert rows and all(np.isnan(r["lap_ratio"]) for r in rows)
    assert all(np.isfinite(r["rmse_ppm"]) for r in rows)
