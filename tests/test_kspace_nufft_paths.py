"""The speed paths of the NUFFT pipeline agree with direct references.

* real images take a real-input FFT plus Hermitian completion; complex ones the full FFT:
  both must match a brute-force DTFT to eps, and each other;
* the translation ramp and scale applied in place block by block must equal the per-sample
  formula, across block boundaries.
"""

import numpy as np
import pytest

from mrsim.kspace.corrupt import moved_kspace
from mrsim.kspace.engine import apply_translation_ramp as _apply_translation_ramp
from mrsim.kspace.engine import pe_kappa as _pe_kappa
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.nufft import _hermitian_full, nufft_type2
from mrsim.kspace.schedule import mprage_schedule


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("nthreads", [1, 3])
@pytest.mark.parametrize("shape", [(8, 6, 10), (7, 9, 12), (5, 12), (2, 6, 8, 4)])
def test_hermitian_full_equals_complex_fft(shape, nthreads):
    rng = np.random.default_rng(0)
    g = rng.standard_normal(shape)
    nd = 3 if len(shape) == 4 else len(shape)  # (2, ...) : a batch axis before 3 axes
    axes = tuple(range(-nd, 0))
    got = _hermitian_full(np.fft.rfftn(g, axes=axes), shape[-1], nd, nthreads)
    np.testing.assert_allclose(got, np.fft.fftn(g, axes=axes), rtol=0, atol=1e-12 * g.size)


@pytest.mark.parametrize("shape", [(12, 10, 9), (17, 16), (7, 33, 8)])
@pytest.mark.parametrize("eps", [1e-3, 1e-4])
def test_real_and_complex_inputs_reach_eps(shape, eps):
    rng = np.random.default_rng(1)
    f = rng.standard_normal((2, *shape)).astype(np.float32)
    # a non-contiguous view, as the engine passes (readout axis moved last)
    f_view = np.moveaxis(np.moveaxis(f, 1, -1).copy(), -1, 1)
    assert not f_view.flags.c_contiguous
    x = [rng.uniform(-np.pi, np.pi, 400) for _ in shape]
    grids = np.meshgrid(*[np.arange(m) - m // 2 for m in shape], indexing="ij")
    phase = sum(g[..., None] * xa[None] for g, xa in zip(grids, x, strict=True))
    direct = f.reshape(2, -1).astype(float) @ np.exp(-1j * phase).reshape(-1, 400)
    got_real = nufft_type2(f_view, x, eps=eps, fft_method="scipy")
    got_cplx = nufft_type2(f.astype(np.complex64), x, eps=eps, fft_method="scipy")
    assert got_real.dtype == got_cplx.dtype == np.complex64
    assert rel(got_real, direct) < 5 * eps
    assert rel(got_cplx, direct) < 5 * eps
    # same algorithm, same kernel: the two FFT routes differ by float32 rounding only
    assert rel(got_real, got_cplx) < 1e-5


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_blockwise_ramp_and_scale_match_formula(dtype):
    s = mprage_schedule((40, 36, 30))  # 1080 lines: three blocks of the in-place ramp
    rng = np.random.default_rng(2)
    L, S = s.n_lines, s.n_readout
    fov = np.array([40.0, 45.0, 36.0])
    t = rng.uniform(-4, 4, (L, 3))
    lines = (rng.standard_normal((2, L, S)) + 1j * rng.standard_normal((2, L, S))).astype(dtype)
    kpe = _pe_kappa(s, fov)
    sr = s.readout_coords()
    kappa = kpe[:, None, :] + np.eye(3)[s.readout_axis] * sr[None, :, None] / fov
    expected = (
        lines.astype(np.complex128) * 0.37 * np.exp(-2j * np.pi * np.einsum("lsa,la->ls", kappa, t))
    )
    got = lines.copy()
    _apply_translation_ramp(got, s, kpe, t, fov, 0.37)
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    assert rel(got, expected) < tol


def test_integer_shift_through_nufft_path_across_ramp_blocks():
    """More lines than one ramp block, NUFFT path forced: an integer shift is np.roll."""
    rng = np.random.default_rng(3)
    n = (24, 40, 20)  # 800 lines
    img = rng.standard_normal(n)
    s = mprage_schedule(n)
    shift = np.array([2, -3, 1])
    k = moved_kspace(img, s, np.eye(3), shift.astype(float), eps=1e-9, fast_path=False)
    ref = fft_centered(np.roll(img, tuple(shift), axis=(0, 1, 2)))
    assert rel(k, ref) < 1e-8


@pytest.mark.parametrize("eps", [1e-3, 1e-4])
def test_single_precision_result_does_not_depend_on_threads(eps):
    """Interpolation is a per-point gather, the FFT splits into whole 1D transforms and the
    NumPy steps are elementwise: the bytes must not change with the thread count."""
    from mrsim.motion.rigid import rotation_matrix

    rng = np.random.default_rng(4)
    n = (32, 28, 24)
    img = rng.standard_normal(n).astype(np.float32)
    s = mprage_schedule(n)
    R = rotation_matrix(rng.uniform(-6, 6, (s.n_lines, 3)))
    t = rng.uniform(-2, 2, (s.n_lines, 3))
    ref = moved_kspace(img, s, R, t, eps=eps, nthreads=1)
    for nthreads in (2, 3):
        got = moved_kspace(img, s, R, t, eps=eps, nthreads=nthreads)
        assert got.tobytes() == ref.tobytes(), nthreads
