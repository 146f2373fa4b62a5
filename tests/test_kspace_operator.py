"""MotionOperator: forward == moved_kspace, exact adjoint (dot-product test), FFT at identity,
scipy / sigpy wrappers."""

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.kspace.coils import birdcage_sensitivities
from mrsim.kspace.corrupt import moved_kspace
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.operator import MotionOperator
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion.rigid import rotation_matrix

SHAPE = (16, 14, 12)
VOX = (1.0, 1.2, 1.5)


def _poses(L, rng, deg=4.0, mm=2.0, rotate=True):
    rot = rng.uniform(-deg, deg, (L, 3)) if rotate else np.zeros((L, 3))
    return rotation_matrix(rot), rng.uniform(-mm, mm, (L, 3))


def _rand(shape, rng):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _dot_rel(op, rng):
    x, y = _rand(op.ishape, rng), _rand(op.oshape, rng)
    lhs = np.vdot(y, op.forward(x))  # <A x, y>
    rhs = np.vdot(op.adjoint(y), x)  # <x, A^H y>
    return abs(lhs - rhs) / abs(lhs)


ORIENT = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # permuted + flipped


@pytest.mark.parametrize("readout_axis", [0, 2])
@pytest.mark.parametrize("rotate", [True, False])
def test_dot_product_single_coil_double(readout_axis, rotate):
    rng = np.random.default_rng(1)
    s = mprage_schedule(SHAPE, readout_axis=readout_axis)
    R, t = _poses(s.n_lines, rng, rotate=rotate)
    op = MotionOperator(s, R, t, VOX, orientation=ORIENT, eps=1e-9, nthreads=1)
    assert op.dtype == np.complex128
    assert _dot_rel(op, rng) < 10 * np.finfo(np.float64).eps * 10  # ~1e-14


@pytest.mark.parametrize("eps", [1e-4, 1e-3])
def test_dot_product_single_coil_single_precision(eps):
    """complex64: the adjoint transposes the engine's split pipeline (eps 1e-4: finufft
    interpolation; 1e-3: mrsim's line interpolation, whose float32 polynomial kernel agrees
    with finufft's spreading kernel to float rounding)."""
    rng = np.random.default_rng(2)
    s = mprage_schedule(SHAPE)
    R, t = _poses(s.n_lines, rng)
    op = MotionOperator(s, R, t, VOX, eps=eps, nthreads=1)
    assert op.dtype == np.complex64
    assert _dot_rel(op, rng) < 30 * np.finfo(np.float32).eps  # 3.6e-6


@pytest.mark.parametrize("rotate", [True, False])
@pytest.mark.parametrize("eps, tol", [(1e-9, 1e-13), (1e-4, 30 * np.finfo(np.float32).eps)])
def test_dot_product_multi_coil(rotate, eps, tol):
    rng = np.random.default_rng(3)
    s = mprage_schedule(SHAPE)
    R, t = _poses(s.n_lines, rng, rotate=rotate)
    sens = birdcage_sensitivities(SHAPE, VOX, 4, axis=1)
    op = MotionOperator(s, R, t, VOX, coil_sensitivities=sens, coil_terms=(1, 2, 1), eps=eps)
    assert op.oshape == (4, s.n_lines, s.n_readout)
    assert _dot_rel(op, rng) < tol


def test_dot_product_sigpy_backend():
    rng = np.random.default_rng(4)
    s = mprage_schedule(SHAPE)
    R, t = _poses(s.n_lines, rng)
    op = MotionOperator(s, R, t, VOX, backend="sigpy", eps=1e-6)
    assert _dot_rel(op, rng) < 1e-12


@pytest.mark.parametrize("eps", [1e-9, 1e-4])
def test_forward_equals_moved_kspace(eps):
    rng = np.random.default_rng(5)
    s = mprage_schedule(SHAPE, readout_axis=1)
    R, t = _poses(s.n_lines, rng)
    img = rng.standard_normal(SHAPE)
    kw = dict(orientation=ORIENT, eps=eps, nthreads=1, upsampfac=2.0 if eps < 1e-5 else None)
    op = MotionOperator(s, R, t, VOX, **kw)
    ref = moved_kspace(img, s, R, t, VOX, **kw)
    np.testing.assert_array_equal(op.forward(img), s.from_grid(ref))
    sens = birdcage_sensitivities(SHAPE, VOX, 3, axis=2)
    opc = MotionOperator(s, R, t, VOX, coil_sensitivities=sens, coil_terms=2, **kw)
    refc = moved_kspace(
        img, s, R, t, VOX, coil_sensitivities=sens, coil_method="fourier", coil_terms=2, **kw
    )
    np.testing.assert_array_equal(opc.forward(img), s.from_grid(refc))


def test_front_door_inputs_line_poses_and_nufft_options():
    """``MotionOperator(schedule, line_poses(traj, schedule), options=NufftOptions(...))`` is
    the operator of the same poses given as arrays with the old keywords, and its forward is
    the engine's ``moved_kspace`` of those ``LinePoses``."""
    from mrsim.kspace.nufft_options import NufftOptions
    from mrsim.kspace.poses import line_poses
    from mrsim.motion import pace_like

    rng = np.random.default_rng(11)
    s = mprage_schedule(SHAPE)
    traj = pace_like(duration_s=s.duration_s + 1.0, seed=3, scale=4.0)
    poses = line_poses(traj, s, mapping="stretch")
    assert poses.n_states > 1
    opt = NufftOptions(eps=1e-4, threads=1)
    op = MotionOperator(s, poses, voxel_size_mm=VOX, orientation=ORIENT, options=opt)
    old = MotionOperator(
        s, poses.rotations, poses.translations_mm, VOX, orientation=ORIENT, eps=1e-4, nthreads=1
    )
    assert op.options == old.options and op.nthreads == 1 and op.eps == 1e-4
    img = rng.standard_normal(SHAPE)
    ref = moved_kspace(img, s, poses, None, VOX, orientation=ORIENT, options=opt)
    np.testing.assert_array_equal(op.forward(img), s.from_grid(ref))
    np.testing.assert_array_equal(op.forward(img), old.forward(img))
    y = _rand(op.oshape, rng)
    np.testing.assert_array_equal(op.adjoint(y), old.adjoint(y))
    ft = MotionOperator.from_trajectory(
        traj, s, VOX, mapping="stretch", orientation=ORIENT, options=opt
    )
    np.testing.assert_array_equal(ft.rotations, poses.rotations)
    with pytest.raises(MrsimInputError, match="translations_mm only with rotation arrays"):
        MotionOperator(s, poses, np.zeros(3))
    with pytest.raises(MrsimInputError, match="NUFFT eps"):
        MotionOperator(s, poses, options=NufftOptions(eps=2.0))
    with pytest.raises(TypeError, match="unexpected keyword"):
        MotionOperator(s, poses, epsilon=1e-4)


@pytest.mark.parametrize("fast_path", [True, False])
def test_identity_poses_are_the_fft_both_ways(fast_path):
    """Identity poses: A = P F (P: keep the scheduled lines), A^H = F^H P^T, either through
    the FFT path (exact) or through the NUFFT at identity coordinates (to eps)."""
    rng = np.random.default_rng(6)
    s = mprage_schedule(SHAPE)
    op = MotionOperator(s, np.eye(3), np.zeros(3), VOX, eps=1e-10, fast_path=fast_path)
    x, y = _rand(SHAPE, rng), _rand(op.oshape, rng)
    tol = 1e-13 if fast_path else 1e-8
    fx = s.from_grid(fft_centered(x))
    assert np.linalg.norm(op.forward(x) - fx) <= tol * np.linalg.norm(fx)
    fy = ifft_centered(s.to_grid(y))
    assert np.linalg.norm(op.adjoint(y) - fy) <= tol * np.linalg.norm(fy)


def test_normal_of_translation_only_full_sampling_is_identity():
    """Translations are unitary on a fully sampled grid: A^H A = I exactly."""
    rng = np.random.default_rng(7)
    s = mprage_schedule(SHAPE)
    R, t = _poses(s.n_lines, rng, rotate=False)
    op = MotionOperator(s, R, t, VOX)
    x = _rand(SHAPE, rng)
    np.testing.assert_allclose(op.normal(x), x, atol=1e-12)


def test_scipy_and_sigpy_wrappers():
    import scipy.sparse.linalg as sla

    rng = np.random.default_rng(8)
    s = mprage_schedule(SHAPE)
    R, t = _poses(s.n_lines, rng, deg=2)
    # One thread: finufft's multi-threaded spreading (the adjoint) sums in a run-dependent
    # order, so repeated adjoints agree to rounding only; single-threaded they are bitwise.
    op = MotionOperator(s, R, t, VOX, eps=1e-9, nthreads=1)
    x, y = _rand(SHAPE, rng), _rand(op.oshape, rng)
    lin = op.as_linear_operator()
    assert lin.shape == (y.size, x.size)
    np.testing.assert_array_equal(lin.matvec(x.ravel()), op.forward(x).ravel())
    np.testing.assert_array_equal(lin.rmatvec(y.ravel()), op.adjoint(y).ravel())
    sp = op.as_sigpy()
    np.testing.assert_array_equal(sp(x), op.forward(x))
    np.testing.assert_array_equal(sp.H(y), op.adjoint(y))
    # LSQR with the wrapper inverts noiseless data of a smooth object. Odd grid: an even
    # axis has an unpaired Nyquist face whose rotated samples partly leave the band, which
    # leaves it under-determined (1e-2 error there at 16x14x12); odd grids have none.
    odd = (15, 13, 11)
    s = mprage_schedule(odd)
    R, t = _poses(s.n_lines, rng, deg=2)
    lin = MotionOperator(s, R, t, VOX, eps=1e-9).as_linear_operator()
    g = np.exp(-sum(((np.indices(odd).T - np.array(odd) // 2).T / 2.0) ** 2))
    sol = sla.lsqr(lin, lin.matvec(g.ravel()), atol=1e-12, btol=1e-12, iter_lim=80)[0]
    assert np.linalg.norm(sol.reshape(odd) - g) < 1e-8 * np.linalg.norm(g)


def test_bad_input_errors():
    s = mprage_schedule(SHAPE)
    with pytest.raises(MrsimInputError, match="one pose per schedule line"):
        MotionOperator(s, np.eye(3)[None].repeat(3, 0), np.zeros((3, 3)))
    with pytest.raises(MrsimInputError, match="coil_sensitivities"):
        MotionOperator(s, np.eye(3), np.zeros(3), coil_sensitivities=np.ones((2, 4, 4, 4)))
    op = MotionOperator(s, np.eye(3), np.zeros(3))
    with pytest.raises(MrsimInputError, match="image must have shape"):
        op.forward(np.zeros((4, 4, 4)))
    with pytest.raises(MrsimInputError, match="lines must have shape"):
        op.adjoint(np.zeros((3, 3)))


@pytest.mark.parametrize("coils", [None, 3])
def test_adjoint_cost_does_not_depend_on_the_number_of_states(monkeypatch, coils):
    """Two motion states or one per line: the adjoint spreads the same number of points in
    the same number of type-1 calls (all lines of all poses at once)."""
    import mrsim.kspace.operator as operator_module

    calls = []
    real = operator_module.nufft_type1_lines

    def counting(values, *args, **kwargs):
        calls.append(values.size)
        return real(values, *args, **kwargs)

    monkeypatch.setattr(operator_module, "nufft_type1_lines", counting)
    rng = np.random.default_rng(9)
    s = mprage_schedule(SHAPE)
    sens = None if coils is None else birdcage_sensitivities(SHAPE, VOX, coils, axis=2)
    R2, t2 = _poses(2, rng)
    two = (s.shot >= s.n_shots // 2).astype(int)
    Rl, tl = _poses(s.n_lines, rng)
    counts = []
    for R, t in ((R2[two], t2[two]), (Rl, tl)):
        calls.clear()
        op = MotionOperator(s, R, t, VOX, coil_sensitivities=sens, coil_terms=1, eps=1e-4)
        op.adjoint(_rand(op.oshape, rng))
        counts.append(list(calls))
    assert counts[0] == counts[1] and len(counts[0]) == 1


@pytest.mark.parametrize("rotate", [True, False])
def test_dot_product_image_grid_larger_than_acquired(rotate):
    """Image on a finer grid of the same FOV (seed 001: 256x256x160 -> 128^3 k-space)."""
    rng = np.random.default_rng(10)
    s = mprage_schedule(SHAPE)
    R, t = _poses(s.n_lines, rng, rotate=rotate)
    fine = (20, 18, 16)
    vox_fine = np.array(VOX) * np.array(SHAPE) / np.array(fine)
    op = MotionOperator(s, R, t, vox_fine, image_shape=fine, eps=1e-9)
    assert op.ishape == fine
    assert _dot_rel(op, rng) < 1e-13
    img = rng.standard_normal(fine)
    ref = moved_kspace(img, s, R, t, vox_fine, eps=1e-9, upsampfac=2.0)
    np.testing.assert_array_equal(op.forward(img), s.from_grid(ref))
