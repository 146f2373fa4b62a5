"""Dipole inversion (TKD, MEDI-style TV) and the full recon chain on the MNI chi phantom.

Thresholds are set just above measured values (48^3 at 4 mm, no motion): from the
true local field TKD reaches NRMSE 32.0 % / RMSE 0.0056 ppm and TV (lambda 1e-5,
5 x 20 iterations) 24.5 % / 0.0043 ppm (64^3 at 3 mm: 31.8 % and 22.5 %), matching the
scale of published open pipelines on the QSM challenge 2.0 phantom (~37 % TKD,
~26 % tuned TV; issue 5).
"""

import numpy as np
import pytest
from scipy import ndimage

from mrsim.qsm.dipole import dipole_field
from mrsim.qsm.gre import add_noise, echo_times, gre_signal
from mrsim.qsm.inversion import gradient_mask, tkd, tv_inversion
from mrsim.qsm.metrics import chi_metrics
from mrsim.qsm.phantom import LABELS, make_qsm_phantom
from mrsim.qsm.recon import qsm_recon


@pytest.fixture(scope="module")
def phantom():
    return make_qsm_phantom((48, 48, 48), 4.0)


@pytest.fixture(scope="module")
def local_field(phantom):
    return dipole_field(phantom.chi_local_ppm, phantom.voxel_size_mm)


def test_phantom_values(phantom):
    p = phantom
    assert p.mask.sum() > 20_000
    for name in ("globus_pallidus", "putamen", "caudate", "thalamus", "dentate"):
        sel = p.labels == LABELS[name]
        assert sel.sum() >= 2, name
    gp = p.chi_ppm[p.labels == LABELS["globus_pallidus"]].max()
    assert 0.1 < gp <= 0.1305 + 1e-9
    assert p.chi_ppm[p.labels == LABELS["air"]].max() > 2  # background sources present
    assert p.chi_ppm[p.labels == LABELS["bone"]].min() < -1
    # M0 falls off over the partial-volume rim of the brain mask and is 0 beyond it
    assert np.all(p.m0[~ndimage.binary_dilation(p.mask, iterations=3)] == 0)


def test_tkd_beats_stated_rmse(phantom, local_field):
    chi = tkd(local_field, phantom.mask, phantom.voxel_size_mm)
    m = chi_metrics(phantom.chi_local_ppm, chi, phantom.mask)
    assert m["nrmse_pct"] < 35.0
    assert m["rmse_ppm"] < 0.0062


def test_tv_beats_stated_rmse_and_tkd(phantom, local_field):
    chi = tv_inversion(
        local_field, phantom.mask, phantom.voxel_size_mm, magnitude=phantom.m0, n_outer=5, n_cg=20
    )
    m = chi_metrics(phantom.chi_local_ppm, chi, phantom.mask)
    assert m["nrmse_pct"] < 27.0
    assert m["rmse_ppm"] < 0.0047
    assert 0 < m["hfen"] < 1 and 0 < m["xsim"] <= 1


def test_gradient_mask_fraction(phantom):
    mg = gradient_mask(phantom.m0, phantom.mask, percentage=0.9)
    frac_edges = 1 - mg[phantom.mask].mean()
    assert frac_edges == pytest.approx(0.1, abs=0.01)


def test_full_chain_without_motion(phantom):
    """Fit -> graph-cut unwrap -> PDF -> TKD from noisy 11-echo data with background field.

    Measured NRMSE 60 % (64 % at 64^3, 3 mm; published full pipelines on the challenge
    phantom: 68-77 %)."""
    p = phantom
    te = echo_times()
    s = gre_signal(p.m0, p.r2s_hz, dipole_field(p.chi_ppm, p.voxel_size_mm), te)
    s = add_noise(s, 100, seed=0)
    rec = qsm_recon(s, te, p.voxel_size_mm, mask=p.mask, inversion="tkd")
    m = chi_metrics(p.chi_local_ppm, rec.chi_ppm, rec.mask)
    assert m["nrmse_pct"] < 66.0
    # an inversion of the unremoved total field is far worse: background removal did work
    bad = tkd(rec.total_field_ppm, rec.mask, p.voxel_size_mm)
    assert chi_metrics(p.chi_local_ppm, bad, rec.mask)["nrmse_pct"] > 2 * m["nrmse_pct"]
