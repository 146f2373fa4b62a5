"""MRS voxel metric: overlap and tissue fractions against hand-computed geometry."""

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.motion.mrs_voxel import fov_center_mm, mrs_voxel_metrics, voxel_points


def _halfspace_maps(vox=0.5, n=120):
    """GM for x < 0, WM for x >= 0 (world mm), CSF nowhere; grid centred on the origin."""
    aff = np.diag([vox, vox, vox, 1.0])
    aff[:3, 3] = -vox * (n // 2)
    x = (np.arange(n) - n // 2) * vox
    gm = np.broadcast_to((x < 0)[:, None, None], (n, n, n)).astype(np.float32)
    return {"gm": gm, "wm": 1 - gm, "csf": np.zeros_like(gm)}, aff


def test_points_fill_the_box():
    p = voxel_points([1.0, 2.0, 3.0], 20.0, n_points=10)
    assert p.shape == (1000, 3)
    np.testing.assert_allclose(p.mean(axis=0), [1, 2, 3], atol=1e-12)
    np.testing.assert_allclose(p.min(axis=0), np.array([1, 2, 3]) - 9.0)  # cell centres


def test_no_motion_is_perfect():
    maps, aff = _halfspace_maps()
    m = mrs_voxel_metrics(np.zeros((3, 6)), maps, aff, [0.0, 5.0, -3.0], n_points=10)
    assert m["mean_overlap"] == 1.0 and m["mean_tissue_agreement"] == 1.0
    np.testing.assert_allclose(m["fraction_change"], 0.0, atol=1e-12)
    np.testing.assert_allclose(m["fractions_prescribed"], [0.5, 0.5, 0.0], atol=1e-6)


def test_shift_matches_analytic_overlap_and_fractions():
    maps, aff = _halfspace_maps()
    d = np.array([4.0, -3.0, 2.0])
    E = np.r_[d, 0, 0, 0][None]
    m = mrs_voxel_metrics(E, maps, aff, [0.0, 0.0, 0.0], 20.0, n_points=101, n_overlap=101)
    assert m["overlap"][0] == pytest.approx(np.prod(1 - np.abs(d) / 20), abs=0.02)
    # head moved +4 mm in x, box fixed: it now covers head x in [-14, 6]. The sampled map's
    # GM/WM boundary is at x = -0.25 mm (trilinear interpolation between the voxel centres
    # -0.5 (GM) and 0 (WM)), so GM = (14 - 0.25) / 20 now and (10 - 0.25) / 20 before.
    np.testing.assert_allclose(m["fractions"][0], [0.6875, 0.3125, 0.0], atol=0.003)
    np.testing.assert_allclose(m["fraction_change"], [0.2, -0.2, 0.0], atol=0.003)
    # the moved part stays on GM (x < -4) or WM (x > 0): only the band 0..4 mm disagrees
    assert m["tissue_agreement"][0] == pytest.approx(0.8, abs=0.011)


def test_rotation_about_fov_centre():
    maps, aff = _halfspace_maps()
    c = fov_center_mm(aff, maps["gm"].shape)
    np.testing.assert_allclose(c, 0.0)
    E = np.array([[0, 0, 0, 0, 0, 90.0]])
    # a cube centred on the rotation centre maps onto itself
    assert mrs_voxel_metrics(E, maps, aff, c)["overlap"][0] == pytest.approx(1.0)
    # an off-centre box 20 mm away: rotated by 90 deg it leaves its place entirely
    assert mrs_voxel_metrics(E, maps, aff, [20.0, 0, 0])["overlap"][0] == 0.0
    # small rotation: displacement ~ r * angle; 3 deg at 20 mm = 1.05 mm along y
    m = mrs_voxel_metrics(np.array([[0, 0, 0, 0, 0, 3.0]]), maps, aff, [20.0, 0, 0], n_overlap=101)
    assert m["overlap"][0] == pytest.approx(1 - 20 * np.radians(3) / 20, abs=0.02)


def test_default_overlap_resolves_sub_millimetre_shifts():
    maps, aff = _halfspace_maps()
    for d in (0.3, 0.6):
        m = mrs_voxel_metrics(np.array([[d, 0, 0, 0, 0, 0]]), maps, aff, [0.0, 0, 0])
        assert m["overlap"][0] == pytest.approx(1 - d / 20, abs=0.5 / 41)
        assert m["overlap"][0] < 1.0


def test_bad_input():
    maps, aff = _halfspace_maps(n=8)
    with pytest.raises(MrsimInputError, match=r"\(T, 6\)"):
        mrs_voxel_metrics(np.zeros((3, 5)), maps, aff, [0, 0, 0])
    with pytest.raises(MrsimInputError, match="lacks"):
        mrs_voxel_metrics(np.zeros((1, 6)), {"gm": maps["gm"]}, aff, [0, 0, 0])
    with pytest.raises(MrsimInputError, match="voxel size"):
        mrs_voxel_metrics(np.zeros((1, 6)), maps, aff, [0, 0, 0], size_mm=0)
