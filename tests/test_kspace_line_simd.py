"""The vector-row line interpolation (mrsim.kspace.line_simd) against finufft and the
scalar loop.

* at every kernel width it serves (3 to 8 taps, 2D and 3D grids), interpolating a random
  grid along random lines that start outside the grid (periodic wrap on every axis, so both
  the vector path and the scalar edge path run) equals finufft's own ``spreadinterponly``
  interpolation in double precision to float rounding;
* the padded coefficient lanes are exactly zero (what makes the over-wide row loads add
  nothing);
* the values do not depend on how many lines are interpolated side by side;
* where the vector kernel cannot be built, a warning names the cause and the scalar loop
  gives the same values.
"""

import finufft
import numpy as np
import pytest

import mrsim.kspace.line_interp as line_interp
import mrsim.kspace.line_simd as line_simd
from mrsim.kspace.line_interp import finufft_kernel, interp_lines
from mrsim.kspace.line_simd import SIMD_MAX_NS, simd_coefficients


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def finufft_reference(g, origin, step, S, eps, upsampfac):
    """finufft's interpolation of ``g`` (spreadinterponly type 2, complex128) at the points."""
    nd = g.ndim
    X = origin[:, None, :] + np.arange(S)[None, :, None] * step[:, None, :]
    x = [((X[..., a] % g.shape[a]) * 2 * np.pi / g.shape[a] - np.pi).reshape(-1) for a in range(nd)]
    plan = finufft.Plan(
        2, g.shape, eps=eps, isign=-1, dtype=np.complex128, upsampfac=upsampfac, spreadinterponly=1
    )
    plan.setpts(*x)
    return plan.execute(g.astype(np.complex128)).reshape(origin.shape[0], S)


# (eps, upsampfac, nd) -> ns: 3, 5, 6, 7 (3D) and 5, 6, 7, 8 (2D)
CASES = [
    (1e-2, 1.5, 3),
    (1e-3, 1.5, 3),
    (1e-4, 1.5, 3),
    (3e-5, 1.5, 3),
    (1e-3, 1.5, 2),
    (1e-4, 1.5, 2),
    (1e-5, 1.5, 2),
    (3e-5, 1.25, 2),
]


@pytest.mark.parametrize("eps,upsampfac,nd", CASES)
def test_vector_rows_equal_finufft_interpolation(eps, upsampfac, nd):
    kernel = finufft_kernel(eps, upsampfac, nd)
    assert kernel.ns <= SIMD_MAX_NS
    rng = np.random.default_rng(int(kernel.ns) * 10 + nd)
    shape = (30, 26, 40)[-nd:]
    g = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    L, S = 250, 60
    origin = rng.uniform(-60.0, 100.0, (L, nd))  # outside the grid: wraps on every axis
    step = rng.uniform(-1.6, 1.6, (L, nd))
    step[:, -1] = rng.uniform(1.2, 1.8, L)  # readout-like lines, mostly along the last axis
    got = interp_lines(g, origin, step, S, kernel, nthreads=2)
    ref = finufft_reference(g, origin, step, S, eps, upsampfac)
    assert rel(got, ref) < 1e-6
    # each sample, not only the norm: the edge path and the vector path alike
    err = np.abs(got - ref) / np.abs(ref).max()
    assert err.max() < 1e-5


def test_padded_lanes_are_zero():
    kernel = finufft_kernel(1e-3, 1.5, 3)
    c = simd_coefficients(kernel.coef)
    ns = kernel.ns
    assert c.shape == (kernel.coef.shape[0], 2, 16) and c.dtype == np.float32
    assert np.all(c[:, 0, ns:] == 0) and np.all(c[:, 1, 2 * ns :] == 0)
    np.testing.assert_array_equal(c[:, 0, :ns], kernel.coef.astype(np.float32))
    np.testing.assert_array_equal(c[:, 1, 0 : 2 * ns : 2], c[:, 1, 1 : 2 * ns : 2])
    with pytest.raises(ValueError, match="does not fit"):
        simd_coefficients(np.zeros((7, 9)))


def test_falls_back_to_the_scalar_loop_with_a_warning(monkeypatch):
    rng = np.random.default_rng(5)
    kernel = finufft_kernel(1e-3, 1.5, 2)
    g = (rng.standard_normal((24, 32)) + 1j * rng.standard_normal((24, 32))).astype(np.complex64)
    origin, step = rng.uniform(-30, 60, (40, 2)), rng.uniform(-1.6, 1.6, (40, 2))
    vector = interp_lines(g, origin, step, 20, kernel)

    def broken(*args, **kwargs):
        raise NotImplementedError("no vector IR here")

    monkeypatch.setattr(line_simd, "make_stencil", broken)
    monkeypatch.setattr(line_interp, "_compile_simd", line_interp._compile_simd.__wrapped__)
    with pytest.warns(RuntimeWarning, match="no vector IR here"):
        scalar = interp_lines(g, origin, step, 20, kernel)
    assert rel(scalar, vector) < 1e-6


def test_scalar_switch_gives_the_same_values(monkeypatch):
    rng = np.random.default_rng(6)
    kernel = finufft_kernel(1e-3, 1.5, 2)
    g = (rng.standard_normal((20, 36)) + 1j * rng.standard_normal((20, 36))).astype(np.complex64)
    origin, step = rng.uniform(-30, 60, (50, 2)), rng.uniform(-1.6, 1.6, (50, 2))
    lo, hi = rng.integers(-3, 10, 50), rng.integers(5, 30, 50)
    kw = dict(band=(lo, hi), phase=(rng.uniform(-3, 3, 50), rng.uniform(-1, 1, 50)), scale=0.7)
    vector = interp_lines(g, origin, step, 24, kernel, **kw)
    monkeypatch.setattr(line_interp, "USE_SIMD", False)
    scalar = interp_lines(g, origin, step, 24, kernel, **kw)
    assert rel(vector, scalar) < 1e-6
    assert np.array_equal(vector == 0, scalar == 0)  # the same samples outside the band


def test_lines_per_pass_do_not_change_a_bit():
    rng = np.random.default_rng(7)
    kernel = finufft_kernel(1e-3, 1.5, 3)
    g = (rng.standard_normal((20, 18, 32)) + 1j * rng.standard_normal((20, 18, 32))).astype(
        np.complex64
    )
    L, S = 37, 30  # not a multiple of the pass length
    origin, step = rng.uniform(-30, 60, (L, 3)), rng.uniform(-1.6, 1.6, (L, 3))
    lo, hi = rng.integers(-3, 12, L), rng.integers(0, 40, L)  # some empty bands
    ph0, dph = rng.uniform(-3, 3, L), rng.uniform(-1, 1, L)
    coef = simd_coefficients(kernel.coef)
    outs = []
    for passes in (1, 3, 8):
        src = line_simd.kernel_source(3, kernel.ns, kernel.coef.shape[0], lines_per_pass=passes)
        fn = line_interp._load_generated(src, f"test_passes_{passes}").kernel
        out = np.empty((L, S), np.complex64)
        fn(g.view(np.float32), origin, step, S, coef, lo, hi, ph0, dph, 0.5, out)
        outs.append(out.tobytes())
    assert outs[0] == outs[1] == outs[2]
    default = interp_lines(g, origin, step, S, kernel, band=(lo, hi), phase=(ph0, dph), scale=0.5)
    assert default.tobytes() == outs[0]
