"""Validation of the k-space motion engine against exact references.

Every reference here is independent of the engine's NUFFT: np.fft on exactly moved arrays
(integer shifts, 90 degree rotations), a brute-force DTFT, or closed-form Fourier transforms
of moved Gaussians and ellipsoids.
"""

import numpy as np
import pytest

from mrsim.kspace.coils import birdcage_sensitivities, combine_coils
from mrsim.kspace.corrupt import (
    image_domain_kspace,
    moved_kspace,
    orientation_from_affine,
    rigid_move,
)
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.schedule import cartesian2d_schedule, gre3d_schedule, mprage_schedule
from mrsim.motion.rigid import rotation_matrix
from mrsim.phantoms.shepp_logan import (
    ellipsoids_kspace,
    move_ellipsoids,
    shepp_logan_ellipsoids,
    shepp_logan_image,
)

RNG = np.random.default_rng(1234)


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def random_poses(n, max_mm=3.0, max_deg=8.0, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-max_mm, max_mm, (n, 3))
    return rotation_matrix(rng.uniform(-max_deg, max_deg, (n, 3))), t


@pytest.mark.parametrize("eps", [1e-6, 1e-4])
def test_identity_equals_fft(eps):
    img = RNG.standard_normal((12, 10, 9))
    s = mprage_schedule(img.shape, ordering="centric")
    ref = fft_centered(img)
    k_fast = moved_kspace(img, s, np.eye(3), np.zeros(3), eps=eps)
    assert np.array_equal(k_fast, ref)
    k_nufft = moved_kspace(img, s, np.eye(3), np.zeros(3), eps=eps, fast_path=False)
    assert rel(k_nufft, ref) < 5 * eps


@pytest.mark.parametrize("fast_path", [True, False])
def test_integer_translation_equals_roll(fast_path):
    img = RNG.standard_normal((16, 12, 10))
    vox = np.array([1.0, 1.5, 2.0])
    shift_vox = np.array([3, -2, 1])
    s = mprage_schedule(img.shape, readout_axis=1)
    k = moved_kspace(img, s, np.eye(3), shift_vox * vox, voxel_size_mm=vox, fast_path=fast_path)
    ref = fft_centered(np.roll(img, tuple(shift_vox), axis=(0, 1, 2)))
    assert rel(k, ref) < 5e-6


def test_rot90_equals_np_rot90_odd_cube():
    img = RNG.standard_normal((15, 15, 15))
    s = mprage_schedule(img.shape)
    # +90 deg about z maps (x, y) -> (-y, x): m_T(x, y) = m(y, -x) = np.rot90(m, 1, (0, 1))
    k = moved_kspace(img, s, rotation_matrix([0, 0, 90]), np.zeros(3))
    assert rel(k, fft_centered(np.rot90(img, 1, axes=(0, 1)))) < 5e-6
    kx = moved_kspace(img, s, rotation_matrix([90, 0, 0]), np.zeros(3))
    assert rel(kx, fft_centered(np.rot90(img, 1, axes=(1, 2)))) < 5e-6


def test_rot90_even_grid_about_voxel_n_over_2():
    # On even grids the rotation centre is voxel n//2, not the array centre: rot90 + roll.
    img = RNG.standard_normal((16, 16, 8))
    s = mprage_schedule(img.shape, readout_axis=2)
    k = moved_kspace(img, s, rotation_matrix([0, 0, 90]), np.zeros(3))
    ref = np.roll(np.rot90(img, 1, axes=(0, 1)), 1, axis=0)
    assert rel(k, fft_centered(ref)) < 5e-6


def test_2d_rot90_and_in_plane_only():
    img = RNG.standard_normal((17, 17))
    s = cartesian2d_schedule(img.shape)
    k = moved_kspace(img, s, rotation_matrix([0, 0, 90]), np.zeros(3))
    assert rel(k, fft_centered(np.rot90(img, 1))) < 5e-6
    with pytest.raises(ValueError, match="through-plane"):
        moved_kspace(img, s, rotation_matrix([5, 0, 0]), np.zeros(3))


@pytest.mark.parametrize(
    ("vox", "max_deg", "eps"),
    [((1.0, 1.3, 0.8), 20, 1e-9), ((4.0, 1.0, 1.0), 60, 1e-9), ((1.0, 1.3, 0.8), 20, 1e-4)],
)
def test_against_brute_force_dtft(vox, max_deg, eps):
    """Rotated samples inside the band = DTFT of the samples; outside (possible far beyond
    3 pi with 4:1 voxels and large rotations) = 0."""
    n = (8, 7, 6)
    vox = np.asarray(vox)
    img = RNG.standard_normal(n) + 1j * RNG.standard_normal(n)
    s = mprage_schedule(n, readout_axis=2)
    R, t = random_poses(s.n_lines, max_deg=max_deg, seed=3)
    k = s.from_grid(moved_kspace(img, s, R, t, voxel_size_mm=vox, eps=eps))
    fov = np.asarray(n) * vox
    kap = s.kspace_coords() / fov  # cycles/mm
    r = np.stack(
        np.meshgrid(
            *[(np.arange(m) - m // 2) * v for m, v in zip(n, vox, strict=False)], indexing="ij"
        ),
        -1,
    ).reshape(-1, 3)
    ref = np.empty_like(k)
    for li in range(s.n_lines):
        kr = kap[li] @ R[li]  # rows: (R^T kappa)^T
        band = np.all(np.abs(kr * fov) <= np.asarray(n) / 2 * (1 + 1e-9), axis=1)
        dtft = np.exp(-2j * np.pi * kr @ r.T) @ img.ravel() / np.sqrt(img.size)
        ref[li] = np.where(band, dtft, 0) * np.exp(-2j * np.pi * kap[li] @ t[li])
    assert rel(k, ref) < max(1e-8, 5 * eps)


@pytest.mark.parametrize("shape", [(12, 10, 9), (17, 16), (7, 33, 8)])
def test_nufft_fft_methods_match_direct_sum(shape):
    """Both finufft pipelines (all-in-finufft, and interp-only + scipy FFT) reach eps."""
    from mrsim.kspace.nufft import nufft_type2

    rng = np.random.default_rng(0)
    f = rng.standard_normal((2, *shape)) + 1j * rng.standard_normal((2, *shape))
    x = [rng.uniform(-np.pi, np.pi, 300) for _ in shape]
    grids = np.meshgrid(*[np.arange(m) - m // 2 for m in shape], indexing="ij")
    phase = sum(g[..., None] * xa[None] for g, xa in zip(grids, x, strict=True))
    direct = f.reshape(2, -1) @ np.exp(-1j * phase).reshape(-1, 300)
    for eps in (1e-3, 1e-4):
        for method in ("scipy", "finufft"):
            got = nufft_type2(f, x, eps=eps, fft_method=method)
            assert got.dtype == np.complex64
            assert rel(got, direct) < 5 * eps, (method, eps)
    for method in ("scipy", "finufft"):  # double precision, upsampfac 2
        got = nufft_type2(f, x, eps=1e-9, fft_method=method)
        assert rel(got, direct) < 1e-8, method


def _gaussians(n_blobs=3, seed=5):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_blobs):
        Q = rotation_matrix(rng.uniform(-30, 30, 3))
        sig = rng.uniform(2.5, 3.2, 3)
        out.append((rng.uniform(0.5, 1.5), rng.uniform(-3, 3, 3), Q @ np.diag(sig**2) @ Q.T))
    return out


def _gauss_image(blobs, n, vox):
    r = np.stack(
        np.meshgrid(
            *[(np.arange(m) - m // 2) * v for m, v in zip(n, vox, strict=False)], indexing="ij"
        ),
        -1,
    )
    img = np.zeros(n)
    for a, c, S in blobs:
        d = r - c
        img += a * np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(S), d))
    return img


def _gauss_ft(blobs, kap, R, t):
    out = np.zeros(kap.shape[:-1], complex)
    for a, c, S in blobs:
        c2, S2 = R @ c + t, R @ S @ R.T
        q = np.einsum("...i,ij,...j->...", kap, S2, kap)
        out += (
            a
            * (2 * np.pi) ** 1.5
            * np.sqrt(np.linalg.det(S2))
            * np.exp(-2 * np.pi**2 * q - 2j * np.pi * kap @ c2)
        )
    return out


@pytest.mark.parametrize("eps", [1e-6, 1e-4])
def test_moved_gaussians_match_analytic_kspace(eps):
    """Engine on sampled Gaussians vs their closed-form moved spectrum: eps-limited.

    Gaussians of >= 1.7 voxels width have negligible aliasing and truncation (< 1e-12), so
    the sampled image's DTFT equals the continuous transform / voxel volume.
    """
    n, vox = (40, 36, 32), np.array([1.0, 1.25, 1.5])
    blobs = _gaussians()
    img = _gauss_image(blobs, n, vox)
    s = mprage_schedule(n, ordering="interleaved")
    shots = np.unique(s.shot)
    Rs, ts = random_poses(len(shots), max_mm=3, max_deg=10, seed=7)
    k = s.from_grid(moved_kspace(img, s, Rs[s.shot], ts[s.shot], voxel_size_mm=vox, eps=eps))
    kap = s.kspace_coords() / (np.asarray(n) * vox)
    ref = np.empty_like(k)
    for sh in shots:
        sel = s.shot == sh
        ref[sel] = _gauss_ft(blobs, kap[sel], Rs[sh], ts[sh])
    ref /= np.prod(vox) * np.sqrt(np.prod(n))
    err = rel(k, ref)
    assert err < 5 * eps, err


def test_shepp_logan_kspace_function_exact():
    """The engine fed the analytic ellipsoid spectrum reproduces the moved ellipsoids."""
    n, vox = (20, 18, 16), np.array([1.0, 1.2, 1.5])
    fov = np.asarray(n) * vox
    ell = shepp_logan_ellipsoids(0.4 * fov.min())
    s = mprage_schedule(n)
    Rs, ts = random_poses(len(np.unique(s.shot)), max_mm=4, max_deg=15, seed=9)
    k = s.from_grid(
        moved_kspace(
            lambda kap: ellipsoids_kspace(kap, ell), s, Rs[s.shot], ts[s.shot], voxel_size_mm=vox
        )
    )
    kap = s.kspace_coords() / fov
    ref = np.empty_like(k)
    for sh in np.unique(s.shot):
        sel = s.shot == sh
        ref[sel] = ellipsoids_kspace(kap[sel], move_ellipsoids(ell, Rs[sh], ts[sh]))
    assert rel(k, ref) < 1e-12


def test_finufft_and_sigpy_agree():
    img = RNG.standard_normal((16, 14, 12)).astype(np.float32)
    s = mprage_schedule(img.shape)
    R, t = random_poses(s.n_lines, seed=11)
    kf = moved_kspace(img, s, R, t, backend="finufft", eps=1e-6)
    ks = moved_kspace(img, s, R, t, backend="sigpy", eps=1e-6)
    assert rel(ks, kf) < 1e-5
    kf4 = moved_kspace(img, s, R, t, backend="finufft", eps=1e-4)
    ks4 = moved_kspace(img, s, R, t, backend="sigpy", eps=1e-4)
    assert kf4.dtype == np.complex64
    assert rel(ks4, kf) < 1e-3 and rel(kf4, kf) < 5e-4


def test_nufft_beats_image_domain_interpolation():
    """Moved band-limited Shepp-Logan: NUFFT NRMSE >= 4x lower than linear interpolation."""
    n, vox = (40, 40, 32), np.array([1.0, 1.0, 1.25])
    R, t = rotation_matrix([4.0, -3.0, 6.0]), np.array([1.3, -0.7, 2.1])
    img = shepp_logan_image(n, vox)
    truth = shepp_logan_image(n, vox, R, t)
    s = mprage_schedule(n)
    nufft = ifft_centered(moved_kspace(img, s, R, t, voxel_size_mm=vox)).real
    linear = ifft_centered(image_domain_kspace(img, s, R, t, vox, order=1)).real
    cubic = ifft_centered(image_domain_kspace(img, s, R, t, vox, order=3)).real
    e_n, e_l, e_c = (rel(x, truth) for x in (nufft, linear, cubic))
    print(f"NRMSE vs analytic: nufft {e_n:.2e}, linear {e_l:.2e}, cubic {e_c:.2e}")
    assert e_l >= 4 * e_n
    assert e_c > e_n


def test_rigid_move_matches_analytic_phantom():
    n, vox = (32, 32, 32), np.ones(3)
    R, t = rotation_matrix([0.0, 5.0, -7.0]), np.array([0.5, 1.5, -1.0])
    moved = rigid_move(shepp_logan_image(n, vox), R, t, vox)
    assert moved.dtype == np.float64
    assert rel(moved, shepp_logan_image(n, vox, R, t)) < 1e-2


def test_orientation_permuted_and_flipped_axes():
    """A world-frame pose gives the same object whichever way the array is stored."""
    img = RNG.standard_normal((11, 9, 7))  # odd: flips keep voxel n//2 fixed
    vox = np.array([1.0, 1.5, 2.0])
    R, t = rotation_matrix([10.0, -5.0, 20.0]), np.array([1.0, -2.0, 0.5])
    ras = np.diag(np.r_[vox, 1.0])
    # stored as (z, -x, y): array axis 0 = world z, axis 1 = -x, axis 2 = y
    stored = np.flip(np.transpose(img, (2, 0, 1)), axis=1)
    aff = np.zeros((4, 4))
    aff[:3, 0], aff[:3, 1], aff[:3, 2] = [0, 0, vox[2]], [-vox[0], 0, 0], [0, vox[1], 0]
    aff[3, 3] = 1
    D = orientation_from_affine(aff)
    ref = rigid_move(img, R, t, vox, orientation=orientation_from_affine(ras))
    got = rigid_move(stored, R, t, vox[[2, 0, 1]], orientation=D)
    back = np.transpose(np.flip(got, axis=1), (1, 2, 0))
    assert rel(back, ref) < 1e-5


def test_smaller_output_grid_keeps_fov_and_intensity():
    n, vox = (32, 32, 24), np.ones(3)
    img = shepp_logan_image(n, vox)
    s = mprage_schedule((16, 16, 12))
    t = np.array([2.0, 0.0, -2.0])
    k_fast = moved_kspace(img, s, np.eye(3), t, voxel_size_mm=vox)
    k_nufft = moved_kspace(img, s, np.eye(3), t, voxel_size_mm=vox, fast_path=False)
    assert rel(k_nufft, k_fast) < 5e-6
    # the central k-space block of the input, rescaled so that intensities are kept
    k_in = fft_centered(img)[8:24, 8:24, 6:18] * np.sqrt(np.prod(s.shape) / np.prod(n))
    k0 = moved_kspace(img, s, np.eye(3), np.zeros(3), voxel_size_mm=vox)
    assert rel(k0, k_in) < 1e-12
    low = ifft_centered(k0).real
    assert low.mean() == pytest.approx(img.mean() * 1.0, rel=1e-6)
    # a 2 mm translation on the 2 mm output grid is a one-voxel roll there
    assert rel(ifft_centered(k_fast).real, np.roll(low, (1, 0, -1), axis=(0, 1, 2))) < 1e-6


def test_batch_axis_moves_all_images_alike():
    imgs = RNG.standard_normal((2, 10, 9, 8))
    s = mprage_schedule(imgs.shape[1:])
    R, t = random_poses(s.n_lines, seed=2)
    kb = moved_kspace(imgs, s, R, t)
    kb4 = moved_kspace(imgs + 0.5j * imgs[::-1], s, R, t, eps=1e-4)  # single precision
    for i in range(2):
        assert rel(kb[i], moved_kspace(imgs[i], s, R, t)) < 1e-12
        ref = moved_kspace(imgs[i] + 0.5j * imgs[1 - i], s, R, t)
        assert rel(kb4[i], ref) < 5e-4


def test_multicoil_exact_with_two_states():
    """Coils fixed in the scanner: F{S_c m_T} per state, checked with exact rot90 moves."""
    img = RNG.standard_normal((13, 13, 9))
    s = gre3d_schedule(img.shape, segments=2)
    sens = birdcage_sensitivities(img.shape, n_coils=4)
    R = np.where(s.shot[:, None, None] == 1, rotation_matrix([0, 0, 90]), np.eye(3))
    t = np.where(s.shot[:, None] == 1, [0.0, 0.0, 2.0], 0.0)
    k = moved_kspace(img, s, R, t, coil_sensitivities=sens)
    assert k.shape == (4,) + img.shape
    m1 = np.roll(np.rot90(img, 1, axes=(0, 1)), 2, axis=2)
    masks = s.line_masks(s.shot)
    ref = masks[0] * fft_centered(sens * img, axes=(1, 2, 3)) + masks[1] * fft_centered(
        sens * m1, axes=(1, 2, 3)
    )
    assert rel(k, ref) < 5e-6
    # and without motion the sensitivity-weighted combination returns the object
    k0 = moved_kspace(img, s, np.eye(3), np.zeros(3), coil_sensitivities=sens)
    comb = combine_coils(ifft_centered(k0, axes=(1, 2, 3)), sens)
    inside = np.sum(np.abs(sens) ** 2, 0) > 1e-3
    assert np.allclose(comb[inside], img[inside], atol=1e-9)


def test_bad_inputs_name_the_problem():
    s = mprage_schedule((8, 8, 8))
    with pytest.raises(ValueError, match="one pose per schedule line"):
        moved_kspace(np.zeros((8, 8, 8)), s, np.tile(np.eye(3), (3, 1, 1)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="3D array"):
        moved_kspace(np.zeros((8, 8)), s, np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="backend"):
        moved_kspace(
            np.zeros((8, 8, 8)), s, rotation_matrix([0, 0, 5]), np.zeros(3), backend="cufinufft"
        )
