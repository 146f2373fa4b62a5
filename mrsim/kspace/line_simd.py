"""Line interpolation with one SIMD vector per stencil row (kernels of up to 8 taps).

The interpolation of :mod:`mrsim.kspace.line_interp` sums, for every sample, ``ns^(d-1)``
stencil rows of the upsampled grid, each ``ns`` contiguous complex64 values (``2 ns`` floats)
along the readout axis, weighted by the product of the row's phase-encode tap weights, and
then applies the ``ns`` readout weights. Written as scalar code (numba), this runs at ~5 % of
the CPU's multiply-add rate (docs/benchmarks.md, roofline account): ``2 ns`` scalar
multiply-adds per row, and the ``d ns`` tap weights each a scalar Horner polynomial.

Here each row is **one** 16-float vector load and **one** vector multiply-add (the row's
``2 ns <= 16`` floats, interleaved real/imaginary, in the low lanes), the tap weights of an
axis are one vector Horner evaluation over its taps, and the readout weights are applied as
one vector product (weights duplicated per real/imaginary lane) and a pairwise tree sum of the
even and odd lanes. numba has no vector types, so the per-sample stencil is a numba
``intrinsic`` that emits the LLVM vector IR directly (:func:`make_stencil`); LLVM lowers it to
AVX-512, AVX2 or NEON as the CPU has. The loop around it (coordinates, wrapping, band,
phase ramp) is ordinary generated numba code (:func:`kernel_source`). Two memory measures
matter once the arithmetic is vectorised: each row load prefetches the row 128 bytes ahead,
and 8 neighbouring lines are interpolated side by side so that their shared stencil rows are
fetched into L1 once (:data:`PREFETCH_FLOATS`, :data:`LINES_PER_PASS`).

The lanes beyond ``2 ns`` read the next floats of the same grid row (a load of 16 floats is
issued only where ``i + 8 <= n`` along the readout, so it never leaves the row); their weights
are exactly zero (the coefficient rows are zero-padded), and grid values are finite, so they
add nothing. Samples whose readout stencil crosses the grid's periodic edge take a scalar
path that wraps tap by tap (~1.3 % of the samples of a 256-sample readout).

Same kernel (finufft's, :func:`mrsim.kspace.line_interp.finufft_kernel`), the same values up
to float rounding: the row sums are taken in another order than the scalar loop
(tests/test_kspace_line_simd.py).

References
----------
A. H. Barnett, J. Magland, L. af Klinteberg, "A parallel nonuniform fast Fourier transform
library based on an 'exponential of semicircle' kernel", SIAM J. Sci. Comput. 41 (2019).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

__all__ = [
    "VECTOR_FLOATS",
    "SIMD_MAX_NS",
    "PREFETCH_FLOATS",
    "LINES_PER_PASS",
    "simd_coefficients",
    "make_stencil",
    "kernel_source",
]

#: Floats per row vector (one AVX-512 register; two AVX2 registers).
VECTOR_FLOATS = 16
#: Widest kernel whose rows fit one vector: ``2 ns <= VECTOR_FLOATS`` complex parts.
SIMD_MAX_NS = VECTOR_FLOATS // 2
#: Each row load also prefetches the row 128 bytes further on: consecutive samples of a line
#: advance ~12 bytes along the readout, and the ~25 row streams of a stencil are more than
#: the hardware prefetcher follows (-11 to -14 % CPU time for the interpolation of the
#: 256 x 256 x 176 per-line corruption, docs/benchmarks.md).
PREFETCH_FLOATS = 32
#: Lines interpolated side by side, sample ``j`` of each before sample ``j + 1``: consecutive
#: lines of a shot (neighbouring partitions) share most stencil rows, so each grid cache line
#: is fetched once per pass, not once per line (-5 to -6 % CPU time, same case). The values
#: do not depend on it (each sample is computed alone, tested bytewise).
LINES_PER_PASS = 8


def simd_coefficients(coef: np.ndarray) -> np.ndarray:
    """Tap polynomials laid out for the vector Horner evaluation.

    Parameters
    ----------
    coef : ndarray, shape (nc, ns)
        :attr:`mrsim.kspace.line_interp.KernelTaps.coef` (highest power first).

    Returns
    -------
    ndarray, float32, shape (nc, 2, VECTOR_FLOATS)
        ``[k, 0, i]``: coefficient ``k`` of tap ``i`` (phase-encode axes); ``[k, 1, 2i]`` and
        ``[k, 1, 2i+1]``: the same, duplicated for the real and imaginary lanes of the readout
        axis. Lanes beyond the taps are zero, so their weights are exactly zero.
    """
    coef = np.asarray(coef, dtype=np.float32)
    nc, ns = coef.shape
    if ns > SIMD_MAX_NS:
        raise ValueError(f"a {ns}-tap kernel does not fit {VECTOR_FLOATS}-float rows")
    out = np.zeros((nc, 2, VECTOR_FLOATS), np.float32)
    out[:, 0, :ns] = coef
    out[:, 1, 0 : 2 * ns : 2] = coef
    out[:, 1, 1 : 2 * ns : 2] = coef
    return out


def make_stencil(d: int, ns: int, nc: int, prefetch_floats: int = PREFETCH_FLOATS):
    """numba intrinsic ``stencil(g, coef, z_0 .. z_{d-1}, rows_0 .. rows_{d-2}, c)``.

    Returns ``(re, im)`` (float32) of one sample: ``z_a`` is the sample's reduced offset on
    axis ``a`` (float32, the Horner variable of :class:`~mrsim.kspace.line_interp.KernelTaps`),
    ``rows_a`` a tuple of ``ns`` int64 float offsets (stencil row index times the axis'
    stride in floats, already wrapped), ``c`` the float offset of the first readout tap;
    ``g`` the grid viewed as float32 (any dimension, C-contiguous), ``coef`` the
    :func:`simd_coefficients` array (C-contiguous). Each row load prefetches the grid
    ``prefetch_floats`` floats further on (0: no prefetch).
    """
    import llvmlite.ir as ir
    from numba import types
    from numba.extending import intrinsic

    if d not in (2, 3) or not 1 <= ns <= SIMD_MAX_NS:
        raise ValueError(f"no vector stencil for d={d}, ns={ns}")
    vw = VECTOR_FLOATS
    fast = ("fast",)

    def codegen(context, builder, signature, args):
        f32, i32, i64 = ir.FloatType(), ir.IntType(32), ir.IntType(64)
        vt = ir.VectorType(f32, vw)
        undef = ir.Constant(vt, ir.Undefined)
        grid = context.make_array(signature.args[0])(context, builder, args[0]).data
        coefs = context.make_array(signature.args[1])(context, builder, args[1]).data

        def vload(base, offset):
            ptr = builder.gep(base, [offset], inbounds=True)
            return builder.load(builder.bitcast(ptr, vt.as_pointer()), align=4)

        prefetch_fn = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [grid.type, i32, i32, i32])
        )

        def prefetch(offset):
            # A hint, never a fault: the address may lie past the grid (plain gep).
            ptr = builder.gep(grid, [builder.add(offset, ir.Constant(i64, prefetch_floats))])
            builder.call(prefetch_fn, [ptr, *(ir.Constant(i32, v) for v in (0, 3, 1))])

        def splat(x):
            v = builder.insert_element(undef, x, ir.Constant(i32, 0))
            return builder.shuffle_vector(v, undef, ir.Constant(ir.VectorType(i32, vw), [0] * vw))

        def lanes(v, idx):
            return builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(i32, len(idx)), idx))

        def madd(a, b, acc):
            return builder.fadd(builder.fmul(a, b, flags=fast), acc, flags=fast)

        zs, rows, c = args[2 : 2 + d], args[2 + d : 1 + 2 * d], args[1 + 2 * d]
        weights = []  # per axis, the taps in lanes 0..ns-1 (readout: duplicated per lane pair)
        for a in range(d):
            plane = 1 if a == d - 1 else 0
            z = splat(zs[a])
            w = vload(coefs, ir.Constant(i64, plane * vw))
            for k in range(1, nc):
                w = madd(w, z, vload(coefs, ir.Constant(i64, (2 * k + plane) * vw)))
            weights.append(w)
        offsets = [[builder.extract_value(rows[a], i) for i in range(ns)] for a in range(d - 1)]

        def tap(a, i):
            return splat(builder.extract_element(weights[a], ir.Constant(i32, i)))

        def row_load(offset):
            if prefetch_floats:
                prefetch(offset)
            return vload(grid, offset)

        acc = ir.Constant(vt, None)
        if d == 2:
            for i in range(ns):
                acc = madd(tap(0, i), row_load(builder.add(offsets[0][i], c)), acc)
        else:
            inner = [tap(1, k) for k in range(ns)]
            for i in range(ns):
                base = builder.add(offsets[0][i], c)
                row = ir.Constant(vt, None)
                for k in range(ns):
                    row = madd(inner[k], row_load(builder.add(base, offsets[1][k])), row)
                acc = madd(tap(0, i), row, acc)
        t = builder.fmul(acc, weights[-1], flags=fast)
        # Pairwise tree over even (real) and odd (imaginary) lanes: halves of even width
        # keep each lane's parity.
        width = vw
        while width > 2:
            width //= 2
            t = builder.fadd(
                lanes(t, list(range(width))), lanes(t, list(range(width, 2 * width))), flags=fast
            )
        re = builder.extract_element(t, ir.Constant(i32, 0))
        im = builder.extract_element(t, ir.Constant(i32, 1))
        return context.make_tuple(builder, signature.return_type, [re, im])

    def signature(*arg_types):
        return types.UniTuple(types.float32, 2)(*arg_types), codegen

    # numba's intrinsic reads the typer's named arguments (a *args typer gets them packed).
    if d == 2:

        def stencil2(typingctx, g, coef, z0, z1, r0, c):
            return signature(g, coef, z0, z1, r0, c)

        return intrinsic(stencil2)

    def stencil3(typingctx, g, coef, z0, z1, z2, r0, r1, c):
        return signature(g, coef, z0, z1, z2, r0, r1, c)

    return intrinsic(stencil3)


def band_source(indent: str) -> list[str]:
    """Generated lines: line ``l``'s computed interval ``j0 .. j1`` (its band clipped to the
    samples) and zeros outside it, at ``indent`` (shared by the scalar and vector kernels)."""
    body = [
        "j0 = max(lo[l], 0)",
        "j1 = min(hi[l], nsamp - 1)",
        "for j in range(0, min(j0, nsamp)):",
        "    out[l, j] = 0",
        "for j in range(max(j1 + 1, 0), nsamp):",
        "    out[l, j] = 0",
    ]
    return [indent + line for line in body]


def _own_digest() -> str:
    """sha256 of this module's source: written into every generated kernel so that numba's
    cached machine code is keyed on the intrinsic's code too (the cache is named by the
    generated source's hash)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def kernel_source(
    d: int,
    ns: int,
    nc: int,
    prefetch_floats: int = PREFETCH_FLOATS,
    lines_per_pass: int = LINES_PER_PASS,
) -> str:
    """Source of the numba kernel ``kernel(g, org, step, nsamp, coef, lo, hi, ph0, dph,
    scale, out)`` with the signature and meaning of the scalar kernels of
    :mod:`mrsim.kspace.line_interp` (``g``: the grid as float32, ``coef``:
    :func:`simd_coefficients`). The prefetch distance and the lines per pass are part of the
    source (so of the cached machine code's key); ``prange`` runs over passes."""
    pe = list(range(d - 1))
    ro = d - 1
    vw = VECTOR_FLOATS
    src: list[str] = []
    emit = src.append
    emit(f'"""mrsim line interpolation kernel, vector rows, d={d} ns={ns} nc={nc} (generated).')
    emit("")
    emit(f"Vector stencil: mrsim.kspace.line_simd, source sha256 {_own_digest()}.")
    emit('"""')
    emit("import math")
    emit("")
    emit("import numba")
    emit("import numpy as np")
    emit("")
    emit("from mrsim.kspace.line_simd import make_stencil")
    emit("")
    emit(f"stencil = make_stencil({d}, {ns}, {nc}, prefetch_floats={int(prefetch_floats)})")
    emit("")
    emit("")
    # Scalar path for stencils crossing the readout edge: every tap wrapped.
    args = ", ".join([f"n{a}" for a in range(d)] + [f"z{a}" for a in range(d)])
    args += ", " + ", ".join(f"i{a}" for a in range(d))
    emit("@numba.njit(fastmath=True, nogil=True, inline='never', cache=True)")
    emit(f"def edge(g, coef, {args}):")
    for a in range(d):
        emit(f"    w{a} = np.empty({ns}, np.float32)")
    emit(f"    for t in range({ns}):")
    for a in range(d):
        emit(f"        w{a}[t] = coef[0, 0, t]")
    emit(f"        for k in range(1, {nc}):")
    for a in range(d):
        emit(f"            w{a}[t] = w{a}[t] * z{a} + coef[k, 0, t]")
    emit("    re = np.float32(0.0)")
    emit("    im = np.float32(0.0)")
    indent = "    "
    for a in pe:
        emit(f"{indent}for t{a} in range({ns}):")
        indent += "    "
        emit(f"{indent}r{a} = (i{a} + t{a}) % n{a}")
    weight = " * ".join([f"w{a}[t{a}]" for a in pe])
    emit(f"{indent}for t{ro} in range({ns}):")
    emit(f"{indent}    col = 2 * ((i{ro} + t{ro}) % n{ro})")
    emit(f"{indent}    w = {weight} * w{ro}[t{ro}]")
    row = ", ".join(f"r{a}" for a in pe)
    emit(f"{indent}    re += w * g[{row}, col]")
    emit(f"{indent}    im += w * g[{row}, col + 1]")
    emit("    return re, im")
    emit("")
    emit("")
    emit("@numba.njit(parallel=True, fastmath=True, nogil=True, cache=True)")
    emit("def kernel(g, org, step, nsamp, coef, lo, hi, ph0, dph, scale, out):")
    for a in range(d - 1):
        emit(f"    n{a} = g.shape[{a}]")
    emit(f"    n{ro} = g.shape[{ro}] // 2")
    if d == 3:
        emit("    st0 = n1 * g.shape[2]")
        emit("    st1 = g.shape[2]")
    else:
        emit("    st0 = g.shape[1]")
    emit(f"    hns = {ns / 2.0}")
    k = int(lines_per_pass)
    emit("    n_lines = org.shape[0]")
    emit(f"    for q in numba.prange((n_lines + {k - 1}) // {k}):")
    emit(f"        l0 = q * {k}")
    emit(f"        l1 = min(l0 + {k}, n_lines)")
    for name, dtype in (
        ("j0s", "np.int64"),
        ("j1s", "np.int64"),
        ("ecs", "np.float64"),
        ("ess", "np.float64"),
        ("crs", "np.float64"),
        ("srs", "np.float64"),
    ):
        emit(f"        {name} = np.empty({k}, {dtype})")
    emit("        jmin = nsamp")
    emit("        jmax = -1")
    emit("        for l in range(l0, l1):")
    emit("            m = l - l0")
    src.extend(band_source(" " * 12))
    emit("            j0s[m] = j0")
    emit("            j1s[m] = j1")
    emit("            crs[m] = math.cos(dph[l])")
    emit("            srs[m] = math.sin(dph[l])")
    emit("            ecs[m] = scale * math.cos(ph0[l] + j0 * dph[l])")
    emit("            ess[m] = scale * math.sin(ph0[l] + j0 * dph[l])")
    emit("            jmin = min(jmin, j0)")
    emit("            jmax = max(jmax, j1)")
    # Sample j of all the pass's lines before sample j + 1: neighbouring lines (the next
    # partitions of a shot) share most stencil rows, which are then still in L1.
    emit("        for j in range(jmin, jmax + 1):")
    emit("            for l in range(l0, l1):")
    emit("                m = l - l0")
    emit("                if j < j0s[m] or j > j1s[m]:")
    emit("                    continue")
    ind = " " * 16
    for a in range(d):
        emit(f"{ind}x{a} = org[l, {a}] + j * step[l, {a}] - hns")
        emit(f"{ind}s{a} = math.ceil(x{a})")
        emit(f"{ind}z{a} = np.float32(2.0 * (s{a} - x{a}) - 1.0)")
        emit(f"{ind}i{a} = int(s{a})")
    for a in pe:  # points lie within a few grid lengths: a modulo only when outside
        emit(f"{ind}if i{a} < 0 or i{a} >= n{a}:")
        emit(f"{ind}    i{a} = i{a} % n{a}")
    emit(f"{ind}if i{ro} >= 0 and i{ro} + {vw // 2} <= n{ro}:")
    for a in pe:
        for t in range(ns):
            emit(f"{ind}    a{a}_{t} = i{a} + {t}")
            emit(f"{ind}    if a{a}_{t} >= n{a}:")
            emit(f"{ind}        a{a}_{t} -= n{a}")
    tuples = [
        "(" + ", ".join(f"a{a}_{t} * st{a}" for t in range(ns)) + ",)" for a in pe
    ]  # fmt: skip
    zs = ", ".join(f"z{a}" for a in range(d))
    emit(f"{ind}    re, im = stencil(g, coef, {zs}, {', '.join(tuples)}, 2 * i{ro})")
    emit(f"{ind}else:")
    emit(f"{ind}    re, im = edge(g, coef, {args})")
    emit(f"{ind}ec = ecs[m]")
    emit(f"{ind}es = ess[m]")
    emit(f"{ind}out[l, j] = complex(re * ec - im * es, re * es + im * ec)")
    emit(f"{ind}ecs[m] = ec * crs[m] - es * srs[m]")
    emit(f"{ind}ess[m] = ec * srs[m] + es * crs[m]")
    return "\n".join(src) + "\n"
