"""Dipole forward model against the analytic field of a uniformly magnetised sphere."""

import numpy as np
import pytest

from mrsim.qsm.dipole import dipole_field, dipole_kernel


def _sphere(n: int, radius: float, ss: int = 3) -> np.ndarray:
    """Partial-volume sphere centred on voxel n//2 (ss^3 sub-samples per voxel)."""
    off = (np.arange(ss) + 0.5) / ss - 0.5
    g = np.arange(n) - n // 2
    acc = np.zeros((n, n, n))
    for ox in off:
        for oy in off:
            for oz in off:
                X, Y, Z = np.meshgrid(g + ox, g + oy, g + oz, indexing="ij", sparse=True)
                acc += (X**2 + Y**2 + Z**2) <= radius**2
    return acc / ss**3


def test_kernel_basic_values():
    d = dipole_kernel((8, 8, 8), 1.0)
    c = 4
    assert d[c, c, c] == 0.0
    assert d[c, c, c + 1] == pytest.approx(-2 / 3)  # k along B0
    assert d[c + 1, c, c] == pytest.approx(1 / 3)  # k perpendicular to B0
    dx = dipole_kernel((8, 8, 8), 1.0, b0_dir=(1, 0, 0))
    assert dx[c + 1, c, c] == pytest.approx(-2 / 3)


def test_sphere_matches_analytic_field():
    """Outside: chi/3 (a/r)^3 (3 cos^2 - 1); inside: 0 (Lorentz-corrected, D(0) = 0).

    Tolerance: 0.5 % of the peak field 2 chi / 3 (measured ~0.1 %, set by the
    partial-volume staircase of a 6-voxel sphere).
    """
    n, a, chi0 = 48, 6.0, 0.1
    b = dipole_field(_sphere(n, a) * chi0, 1.0, pad_factor=2)
    g = np.arange(n) - n // 2
    X, Y, Z = np.meshgrid(g, g, g, indexing="ij")
    r = np.sqrt(X**2 + Y**2 + Z**2)
    cos = np.divide(Z, r, out=np.zeros_like(r), where=r > 0)
    analytic = np.where(r > a, chi0 / 3 * (a / np.maximum(r, 1e-9)) ** 3 * (3 * cos**2 - 1), 0.0)
    peak = 2 * chi0 / 3
    outside = (r >= 1.5 * a) & (r < n // 2 - 2)
    inside = r <= 0.5 * a
    assert np.abs(b - analytic)[outside].max() < 5e-3 * peak
    assert np.abs(b[inside]).max() < 5e-3 * peak
    # the field is not trivially small: at the pole it is 2 chi / 3 (a / r)^3
    assert b[n // 2, n // 2, n // 2 + 9] == pytest.approx(peak * (a / 9) ** 3, rel=0.02)


def test_b0_direction_is_a_relabelling_of_axes():
    rng = np.random.default_rng(0)
    chi = np.zeros((24, 24, 24))
    chi[8:16, 6:14, 10:18] = rng.normal(size=(8, 8, 8))
    bz = dipole_field(chi, (1.0, 1.5, 2.0), b0_dir=(0, 0, 1), pad_factor=1.5)
    # swap axes 0 and 2 (and voxel sizes): B0 along axis 0 of the swapped volume
    bx = dipole_field(chi.transpose(2, 1, 0), (2.0, 1.5, 1.0), b0_dir=(1, 0, 0), pad_factor=1.5)
    np.testing.assert_allclose(bx.transpose(2, 1, 0), bz, atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="b0_dir"):
        dipole_kernel((4, 4, 4), 1.0, b0_dir=(0, 0, 0))
    with pytest.raises(ValueError, match="3D"):
        dipole_field(np.zeros((4, 4)))
