"""Known-motion reconstruction (CG) and the direct FFT/SENSE reconstruction."""

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.kspace.coils import birdcage_sensitivities
from mrsim.kspace.corrupt import corrupt
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.operator import MotionOperator
from mrsim.kspace.schedule import mprage_schedule
from mrsim.metrics import nrmse
from mrsim.motion import pace_like
from mrsim.motion.rigid import rotation_matrix
from mrsim.phantoms.shepp_logan import shepp_logan_image
from mrsim.recon import conjugate_gradient, fft_recon, known_motion_recon

N = (32, 32, 32)
VOX = 2.0


@pytest.fixture(scope="module")
def corrupted():
    img = shepp_logan_image(N, VOX)  # band-limited, radial Hann window
    traj = pace_like(seed=3, scale=8.0)  # seed 001's x8 PACE-like motion, per line
    s = mprage_schedule(N)
    res = corrupt(img, traj, s, VOX, mapping="stretch", eps=1e-4, output="complex")
    return img, s, res


def test_known_motion_recovers_the_clean_image(corrupted):
    """Noiseless per-line motion (up to ~2.5 deg, 2.8 mm): CG with the true poses recovers
    the clean image to NRMSE < 1e-3, and < 1/50 of the corrupted image's NRMSE.

    Why the bound holds: the data are consistent with the operator (the same engine made
    them, so the model error is the NUFFT's ~1e-4 eps), and for rotations of a few degrees
    the rotated samples cover k-space densely except at the unpaired Nyquist faces of the
    even grid and the corners, where this windowed phantom has almost no energy (checked
    below: < 1e-6 of it), so A^H A is well conditioned on everything that matters and
    CG converges in ~12 iterations. Measured: 1.2e-4 vs 4.6e-2.
    """
    img, s, res = corrupted
    K = fft_centered(res.clean)
    face = np.zeros(N, bool)
    face[0], face[:, 0], face[:, :, 0] = True, True, True
    assert np.sum(np.abs(K[face]) ** 2) < 1e-6 * np.sum(np.abs(K) ** 2)
    op = MotionOperator(s, rotation_matrix(res.params[:, 3:]), res.params[:, :3], VOX, eps=1e-4)
    out = known_motion_recon(op, s.from_grid(res.kspace), iterations=20)
    err_corrupt = nrmse(np.abs(res.clean), np.abs(res.image))
    err_recon = nrmse(np.abs(res.clean), np.abs(out.image))
    assert err_corrupt > 0.02  # the motion matters
    assert err_recon < 1e-3
    assert err_recon < err_corrupt / 50
    # Converged (tol 1e-6) before the 20-iteration cap; one residual per iterate.
    assert out.converged and len(out.residuals) == out.iterations + 1
    assert out.residuals[-1] <= 1e-6


def test_zero_motion_cg_is_the_fft_and_sense():
    rng = np.random.default_rng(0)
    shape = (12, 10, 8)
    s = mprage_schedule(shape)
    x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    op = MotionOperator(s, np.eye(3), np.zeros(3))
    y = op.forward(x)
    out = known_motion_recon(op, y, iterations=3)
    np.testing.assert_allclose(out.image, fft_recon(s.to_grid(y)), atol=1e-12)
    assert out.converged and out.iterations == 1  # A^H A = I: one step
    shape = (24, 20, 16)
    s = mprage_schedule(shape)
    sens = birdcage_sensitivities(shape, 1.0, 4, axis=2)
    opc = MotionOperator(s, np.eye(3), np.zeros(3), coil_sensitivities=sens, coil_terms=2)
    g = np.exp(-sum(((np.indices(shape).T - np.array(shape) // 2).T / 2.0) ** 2))
    yc = opc.forward(g)
    sense = fft_recon(s.to_grid(yc), opc.sensitivities)
    cg = known_motion_recon(opc, yc, iterations=60, tol=1e-10)
    inner = (slice(6, -6), slice(5, -5), slice(4, -4))  # maps well above zero
    # Smooth object: S g is (nearly) band-limited to the grid, so R=1 SENSE and CG both
    # return g where the maps see it.
    np.testing.assert_allclose(sense[inner], g[inner], atol=1e-3)
    np.testing.assert_allclose(cg.image[inner], g[inner], atol=1e-3)


def test_tikhonov_shrinks_towards_zero():
    """For A^H A = I the regularised solution is exactly A^H y / (1 + lambda)."""
    rng = np.random.default_rng(1)
    shape = (8, 8, 6)
    s = mprage_schedule(shape)
    op = MotionOperator(s, np.eye(3), rng.uniform(-2, 2, 3))
    y = op.forward(rng.standard_normal(shape))
    out = known_motion_recon(op, y, lam=0.5, iterations=5)
    np.testing.assert_allclose(out.image, op.adjoint(y) / 1.5, atol=1e-12)


def test_cg_bad_input():
    with pytest.raises(MrsimInputError):
        conjugate_gradient(lambda v: v, np.ones(3), lam=-1.0)
    s = mprage_schedule((8, 8, 6))
    op = MotionOperator(s, np.eye(3), np.zeros(3))
    with pytest.raises(MrsimInputError, match="lines must have shape"):
        known_motion_recon(op, np.zeros((3, 3)))
