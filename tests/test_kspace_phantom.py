"""The analytic 3D Shepp-Logan phantom and its exact Fourier transform."""

import numpy as np
import pytest
from scipy import integrate

from mrsim.kspace.fft import fft_centered
from mrsim.motion.rigid import rotation_matrix
from mrsim.phantoms.shepp_logan import (
    SHEPP_LOGAN_3D,
    _ball_ft,
    ellipsoids_kspace,
    move_ellipsoids,
    shepp_logan_ellipsoids,
    shepp_logan_image,
)


@pytest.mark.parametrize("q", [0.0, 1e-5, 0.13, 0.7, 2.3])
def test_ball_transform_matches_quadrature(q):
    # FT of the unit ball: int_0^1 4 pi r^2 sinc(2 q r) dr, numpy sinc(x) = sin(pi x)/(pi x)
    ref, _ = integrate.quad(lambda r: 4 * np.pi * r**2 * np.sinc(2 * q * r), 0, 1, epsabs=1e-13)
    assert _ball_ft(np.array([q]))[0] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_dc_is_total_intensity():
    ell = shepp_logan_ellipsoids(50.0)
    total = sum(e.rho * 4 / 3 * np.pi * abs(np.linalg.det(e.matrix_mm)) for e in ell)
    assert ellipsoids_kspace(np.zeros(3), ell).real == pytest.approx(total, rel=1e-12)
    assert len(ell) == len(SHEPP_LOGAN_3D)


def test_analytic_transform_matches_fine_sampling():
    """Low-frequency DFT of a finely supersampled rasterisation ~ the analytic FT / dV."""
    n, vox = (48, 48, 48), np.full(3, 2.0)
    img = shepp_logan_image(n, vox, method="sample", supersample=3)
    k = fft_centered(img) * np.prod(vox) * np.sqrt(np.prod(n))
    fov = np.asarray(n) * vox
    ell = shepp_logan_ellipsoids(0.45 * fov.min())
    idx = np.arange(-3, 4)
    g = np.stack(np.meshgrid(idx, idx, idx, indexing="ij"), -1)
    ref = ellipsoids_kspace(g / fov, ell)
    got = k[tuple((g + 24).reshape(-1, 3).T)].reshape(ref.shape)
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 0.01


def test_moved_sampling_is_the_pose_applied_to_points():
    n, vox = (24, 24, 24), np.ones(3)
    R, t = rotation_matrix([10, 0, 30]), np.array([2.0, -1.0, 0.0])
    moved = shepp_logan_image(n, vox, R, t, method="sample")
    # m_T(r) = m(R^T (r - t)): evaluate the unmoved phantom at those points directly
    r = np.stack(np.meshgrid(*[np.arange(m) - m // 2 for m in n], indexing="ij"), -1)
    back = (r - t) @ R  # rows (R^T (r - t))^T
    ell = shepp_logan_ellipsoids(0.45 * 24)
    ref = np.zeros(n)
    for e in ell:
        u = (back - e.centre_mm) @ np.linalg.inv(e.matrix_mm).T
        ref += e.rho * (np.sum(u**2, -1) < 1)
    assert np.mean(moved != ref) < 1e-3  # only round-off on exact boundaries may differ


def test_move_ellipsoids_spectrum_identity():
    ell = shepp_logan_ellipsoids(40.0)
    R, t = rotation_matrix([5, -20, 12]), np.array([3.0, 1.0, -2.0])
    kap = np.random.default_rng(0).uniform(-0.2, 0.2, (50, 3))
    lhs = ellipsoids_kspace(kap, move_ellipsoids(ell, R, t))
    rhs = np.exp(-2j * np.pi * kap @ t) * ellipsoids_kspace(kap @ R, ell)
    assert np.allclose(lhs, rhs, rtol=1e-12, atol=1e-9)


def test_rasterisation_options_are_checked():
    with pytest.raises(ValueError, match="method"):
        shepp_logan_image((8, 8, 8), method="voxel")
    with pytest.raises(ValueError, match="window"):
        shepp_logan_image((8, 8, 8), window="kaiser")
