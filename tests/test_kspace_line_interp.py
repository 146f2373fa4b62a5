"""The line interpolator against finufft and against the direct DTFT.

* the kernel read off finufft is a polynomial per tap (to 1e-10), and interpolating a grid
  with it equals finufft's own ``spreadinterponly`` interpolation to float rounding, on 2D
  and 3D grids, with points beyond the grid (periodic wrap) on every axis;
* band, phase and scale options equal the formula;
* ``nufft_type2_lines`` reaches eps against a brute-force DTFT at eps 1e-3 and 1e-4, for
  real, complex and batched images, and its own interpolation agrees with finufft's (forced
  by ``MAX_NS = 0``);
* the values do not depend on the thread count.
"""

import finufft
import numpy as np
import pytest

import mrsim.kspace.line_interp as line_interp
from mrsim.kspace.line_interp import finufft_kernel, interp_lines
from mrsim.kspace.nufft import nufft_type2_lines


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def random_lines(rng, L, nd, lo=-60.0, hi=100.0):
    return rng.uniform(lo, hi, (L, nd)), rng.uniform(-1.6, 1.6, (L, nd))


# (1e-4, 3D) is left out here: it runs the vector kernel (tests/test_kspace_line_simd.py
# covers every width); the scalar 6-tap 3D loop takes ~25 s to compile.
@pytest.mark.parametrize("eps,nd", [(1e-3, 3), (1e-3, 2), (1e-4, 2)])
def test_kernel_is_polynomial_and_interpolation_equals_finufft(eps, nd):
    rng = np.random.default_rng(0)
    kernel = finufft_kernel(eps, 1.5, nd)
    assert kernel.fit_residual < 1e-10
    assert kernel.coef.shape[1] == kernel.ns
    shape = (40, 36, 48)[-nd:]
    g = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    L, S = 300, 64
    origin, step = random_lines(rng, L, nd)  # starts far outside the grid: wrap on all axes
    got = interp_lines(g, origin, step, S, kernel, nthreads=2)
    X = origin[:, None, :] + np.arange(S)[None, :, None] * step[:, None, :]
    x = [((X[..., a] % shape[a]) * 2 * np.pi / shape[a] - np.pi).reshape(-1) for a in range(nd)]
    plan = finufft.Plan(
        2, shape, eps=eps, isign=-1, dtype=np.complex128, upsampfac=1.5, spreadinterponly=1
    )
    plan.setpts(*x)
    ref = plan.execute(g.astype(np.complex128)).reshape(L, S)
    assert rel(got, ref) < 1e-6


def test_band_phase_and_scale_follow_the_formula():
    rng = np.random.default_rng(1)
    kernel = finufft_kernel(1e-3, 1.5, 3)
    g = (rng.standard_normal((24, 20, 32)) + 1j * rng.standard_normal((24, 20, 32))).astype(
        np.complex64
    )
    L, S = 200, 40
    origin, step = random_lines(rng, L, 3)
    plain = interp_lines(g, origin, step, S, kernel)
    lo = rng.integers(-5, 30, L)
    hi = lo + rng.integers(-3, 30, L)  # some empty bands (hi < lo)
    ph0, dph = rng.uniform(-4, 4, L), rng.uniform(-0.3, 0.3, L)
    got = interp_lines(g, origin, step, S, kernel, band=(lo, hi), phase=(ph0, dph), scale=0.3)
    j = np.arange(S)
    inside = (j >= lo[:, None]) & (j <= hi[:, None])
    expected = plain * 0.3 * np.exp(1j * (ph0[:, None] + j * dph[:, None]))
    assert np.all(got[~inside] == 0)
    np.testing.assert_allclose(got[inside], expected[inside], rtol=0, atol=2e-6 * abs(plain).max())


def direct_dtft(image, origin, step, S):
    """sum_j f_j exp(-i x . (j - n//2)) at every sample, brute force in double precision."""
    nd = origin.shape[1]
    n = image.shape[-nd:]
    pos = np.meshgrid(*[np.arange(m) - m // 2 for m in n], indexing="ij")
    X = origin[:, None, :] + np.arange(S)[None, :, None] * step[:, None, :]
    phase = sum(p.reshape(-1)[:, None] * X[..., a].reshape(-1)[None] for a, p in enumerate(pos))
    flat = image.reshape(image.shape[:-nd] + (-1,)).astype(complex)
    return (flat @ np.exp(-1j * phase)).reshape(image.shape[:-nd] + (X.shape[0], S))


@pytest.mark.parametrize("eps", [1e-3, 1e-4])
@pytest.mark.parametrize(
    "shape,complex_input",
    [((12, 10, 16), False), ((2, 12, 10, 16), True), ((14, 18), False)],
)
def test_nufft_type2_lines_reaches_eps(eps, shape, complex_input):
    rng = np.random.default_rng(2)
    image = rng.standard_normal(shape)
    if complex_input:
        image = image + 1j * rng.standard_normal(shape)
    image = image.astype(np.complex64 if complex_input else np.float32)
    nd = 3 if len(shape) != 2 else 2
    L, S = 120, 16
    origin = rng.uniform(-np.pi, np.pi, (L, nd))
    step = rng.uniform(-0.25, 0.25, (L, nd))  # stays inside [-3 pi, 3 pi]
    got = nufft_type2_lines(image, origin, step, S, eps=eps, nthreads=2)
    assert got.shape == image.shape[:-nd] + (L, S) and got.dtype == np.complex64
    assert rel(got, direct_dtft(image, origin, step, S)) < 5 * eps


def test_both_paths_agree(monkeypatch):
    """Own interpolation and finufft's, with the same kernel and grid, differ by rounding."""
    rng = np.random.default_rng(3)
    image = rng.standard_normal((20, 16, 24)).astype(np.float32)
    L, S = 150, 24
    origin = rng.uniform(-np.pi, np.pi, (L, 3))
    step = rng.uniform(-0.2, 0.2, (L, 3))
    lo, hi = rng.integers(0, 8, L), rng.integers(10, S, L)
    kw = dict(eps=1e-3, band=(lo, hi), phase=(rng.uniform(-3, 3, L), rng.uniform(-1, 1, L)))
    own = nufft_type2_lines(image, origin, step, S, scale=2.0, **kw)
    monkeypatch.setattr(line_interp, "MAX_NS", 0)  # force finufft's interpolation
    theirs = nufft_type2_lines(image, origin, step, S, scale=2.0, **kw)
    assert rel(own, theirs) < 1e-5
    j = np.arange(S)
    outside = (j < lo[:, None]) | (j > hi[:, None])
    assert np.all(own[outside] == 0) and np.all(theirs[outside] == 0)


def test_values_do_not_depend_on_threads():
    rng = np.random.default_rng(4)
    image = rng.standard_normal((16, 18, 20)).astype(np.float32)
    origin = rng.uniform(-np.pi, np.pi, (500, 3))
    step = rng.uniform(-0.2, 0.2, (500, 3))
    ref = nufft_type2_lines(image, origin, step, 20, eps=1e-3, nthreads=1)
    for nthreads in (2, 3):
        got = nufft_type2_lines(image, origin, step, 20, eps=1e-3, nthreads=nthreads)
        assert got.tobytes() == ref.tobytes()


def test_bad_inputs_raise():
    kernel = finufft_kernel(1e-3, 1.5, 3)
    g = np.zeros((8, 8, 8), np.complex64)
    with pytest.raises(ValueError, match="complex64"):
        interp_lines(g.astype(np.complex128), np.zeros((2, 3)), np.zeros((2, 3)), 4, kernel)
    with pytest.raises(ValueError, match="shape"):
        interp_lines(g, np.zeros((2, 2)), np.zeros((2, 3)), 4, kernel)
    with pytest.raises(ValueError, match="shape"):
        nufft_type2_lines(np.zeros((8, 8, 8)), np.zeros((2, 3)), np.zeros((3, 3)), 4)
    with pytest.raises(ValueError, match="axes"):
        nufft_type2_lines(np.zeros((8, 8)), np.zeros((2, 3)), np.zeros((2, 3)), 4)


SOURCE = "import numba\n\n\n@numba.njit(cache=True)\ndef kernel(x):\n    return x + 1\n"


def test_generated_code_is_written_to_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MRSIM_CACHE_DIR", str(tmp_path))
    module = line_interp._load_generated(SOURCE, "test")
    assert module.kernel(1) == 2
    written = list((tmp_path / "line_kernels").glob("mrsim_line_kernel_test_*.py"))
    assert len(written) == 1 and written[0].read_text() == SOURCE


def test_generated_code_compiles_in_memory_when_the_cache_is_not_writable(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setenv("MRSIM_CACHE_DIR", str(blocker))
    assert line_interp._load_generated(SOURCE.replace("+ 1", "+ 2"), "test").kernel(1) == 3
