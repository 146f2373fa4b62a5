"""QSM phantom with the head's extra-cranial layers: marrow, fat, skin; brain unchanged."""

import numpy as np

from mrsim.phantoms.tissues import TISSUES_3T
from mrsim.qsm.phantom import LABELS, make_qsm_phantom


def test_qsm_head_layers():
    base = make_qsm_phantom((48, 56, 48), 4.0, background_smooth_voxels=0.0)
    head = make_qsm_phantom((48, 56, 48), 4.0, background_smooth_voxels=0.0, head_layers=True)
    np.testing.assert_array_equal(head.mask, base.mask)  # the brain mask stays the brain
    np.testing.assert_array_equal(head.chi_local_ppm, base.chi_local_ppm)
    inside = head.mask
    np.testing.assert_array_equal(head.m0[inside], base.m0[inside])
    for name in ("marrow", "fat"):
        assert (head.labels == LABELS[name]).sum() > 50, name
    fat = head.labels == LABELS["fat"]
    # skin (2 mm) is a partial volume at 4 mm: signal beyond the fat, none before
    beyond = (head.labels == 0) & (head.m0 > 0.1) & (base.m0 == 0)
    assert beyond.sum() > 50
    # chi, R2* and M0 of fat come from the tissue table (fat voxels > 50 % fat)
    assert np.median(head.chi_ppm[fat]) > 0.3
    assert np.median(head.m0[fat]) > 0.4 and base.m0[fat].max() == 0
    np.testing.assert_allclose(np.median(head.r2s_hz[fat]), TISSUES_3T["fat"].r2s_hz, rtol=0.2)
    marrow = head.labels == LABELS["marrow"]
    assert np.median(head.chi_ppm[marrow]) > np.median(base.chi_ppm[marrow])  # less diamagnetic
    assert head.info["head_layers"] and not base.info["head_layers"]
