"""Background field removal: PDF and V-SHARP on known local + external sources."""

import numpy as np
import pytest

from mrsim.qsm.background import pdf, vsharp
from mrsim.qsm.dipole import dipole_field


@pytest.fixture(scope="module")
def fields():
    n = 48
    g = np.arange(n) - n // 2
    X, Y, Z = np.meshgrid(g, g, g, indexing="ij")
    r = np.sqrt(X**2 + Y**2 + Z**2)

    def blob(c, s, a):
        return a * np.exp(-((X - c[0]) ** 2 + (Y - c[1]) ** 2 + (Z - c[2]) ** 2) / (2 * s * s))

    mask = r < 16
    local_chi = blob((4, 0, 2), 2.5, 0.1) + blob((-5, 4, -3), 2, -0.08) + blob((0, -6, 5), 2, 0.12)
    ext = np.zeros_like(r)
    ext[(np.abs(X) < 4) & (np.abs(Y - 2) < 5) & (np.abs(Z + 20) < 3)] = 9.0  # "sinus" air
    ext[(np.abs(X - 20) < 2) & (np.abs(Y) < 3) & (np.abs(Z) < 3)] = -2.0  # "bone"
    local = dipole_field(local_chi, 1.0)
    background = dipole_field(ext, 1.0)
    return local, background, mask, r


def _rms_demeaned(x):
    return float(np.sqrt(np.mean((x - x.mean()) ** 2)))


def test_pdf_removes_external_sources(fields):
    """Bound: residual error < 2 % of the background rms and < 60 % of the local rms
    over the whole mask, < 30 % in the interior (r < 12); measured 1.4 %, 50 %, 19 %.
    The error concentrates at the mask edge next to the 9 ppm source."""
    local, background, mask, r = fields
    est = pdf(local + background, mask, 1.0)
    assert np.all(est[~mask] == 0)
    err = (est - local)[mask]
    bg_rms = _rms_demeaned(background[mask])
    assert bg_rms > 30 * _rms_demeaned(local[mask])  # the background dominates the input
    assert _rms_demeaned(err) < 0.02 * bg_rms
    assert _rms_demeaned(err) < 0.6 * _rms_demeaned(local[mask])
    inner = r < 12
    assert _rms_demeaned((est - local)[inner]) < 0.3 * _rms_demeaned(local[inner])


def test_vsharp_removes_external_sources(fields):
    local, background, mask, _ = fields
    est, valid = vsharp(local + background, mask, 1.0, radii_mm=np.arange(8, 0.5, -1))
    assert valid.sum() > 0.8 * mask.sum() and not np.any(valid & ~mask)
    err = (est - local)[valid]
    assert _rms_demeaned(err) < 0.5 * _rms_demeaned(local[valid])  # measured 0.43


def test_background_shape_errors():
    with pytest.raises(ValueError, match="same 3D shape"):
        pdf(np.zeros((4, 4, 4)), np.ones((4, 4, 5), bool))
