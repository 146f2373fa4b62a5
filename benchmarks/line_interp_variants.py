"""What each line-interpolation idea gains: the per-line corruption's interpolation alone.

The lines and the upsampled grid are exactly those that ``moved_kspace`` interpolates for
the issue-17 per-line case (MNI152 T1 256 x 256 x 176, MP-RAGE linear ordering, one 6-DOF
pose per line from ``pace_like(seed=0)``, 45 056 lines of 256 samples), captured from one
call; then, interleaved and repeated, each kernel interpolates them:

* ``scalar``: the scalar numba loop (every tap and row unrolled; mrsim up to session 4);
* ``vector``: one 16-float SIMD vector per stencil row (:mod:`mrsim.kspace.line_simd`),
  no software prefetch;
* ``vector+prefetch``: the same with each row prefetched 128 bytes ahead;
* ``vector+prefetch+passes``: and 8 neighbouring lines interpolated side by side (sample
  ``j`` of each before ``j + 1``; the default);
* ``finufft``: finufft's own interpolation (``spreadinterponly`` type 2) of the same grid at
  the same points, point set-up (``setpts``) included, the phase ramp and band mask not
  (so it is a lower bound of that path).

Wall and process-CPU time are recorded per variant, thread count and eps; the roofline
columns count samples in the band x ns^3 taps, 4 flop and 8 bytes (one complex64 grid value)
per tap, against a float32 BLAS matrix product and a 256 MB copy in the same process.

Run::

    .venv/bin/python benchmarks/line_interp_variants.py --threads 1 2 --repeat 3

Writes ``docs/benchmarks/line_interp_variants.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
from pathlib import Path

import finufft
import numpy as np
from corruption_ratio import numpy_rates
from timing import timed

import mrsim.kspace.line_interp as line_interp
from mrsim.kspace import NufftOptions, line_poses, moved_kspace
from mrsim.kspace.line_simd import PREFETCH_FLOATS, kernel_source, simd_coefficients
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion import pace_like
from mrsim.phantoms.mni152 import load_mni152

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def captured_lines(eps: float) -> dict:
    """The grid and the line arguments of the one ``interp_lines`` call of a per-line
    ``moved_kspace`` (2 threads)."""
    shape = (256, 256, 176)
    img, _ = load_mni152("t1", shape=shape)
    schedule = mprage_schedule(shape)
    poses = line_poses(pace_like(seed=0), schedule)
    seen: dict = {}
    original = line_interp.interp_lines

    def spy(grid, origin, step, n_samples, kernel, **kw):
        seen.update(grid=grid, origin=origin, step=step, n=n_samples, kernel=kernel, **kw)
        return original(grid, origin, step, n_samples, kernel, **kw)

    line_interp.interp_lines = spy
    try:
        moved_kspace(
            img, schedule, poses.rotations, poses.translations_mm,
            options=NufftOptions(eps=eps, threads=2),
        )  # fmt: skip
    finally:
        line_interp.interp_lines = original
    if "grid" not in seen:
        raise RuntimeError("moved_kspace did not call interp_lines (no line interpolation?)")
    return seen


def variants(c: dict) -> dict:
    """name -> callable(nthreads) running one interpolation of the captured lines."""
    import numba

    grid, kernel = c["grid"], c["kernel"]
    d, ns, nc = grid.ndim, kernel.ns, kernel.coef.shape[0]
    lo, hi = (np.ascontiguousarray(b, np.int64) for b in c["band"])
    ph0, dph = (np.ascontiguousarray(p, np.float64) for p in c["phase"])
    origin, step, S = c["origin"], c["step"], int(c["n"])
    out = np.empty((origin.shape[0], S), np.complex64)
    g32 = grid.view(np.float32)
    scalar = line_interp._compile(d, ns, nc)

    def generated(prefetch, passes):
        src = kernel_source(d, ns, nc, prefetch_floats=prefetch, lines_per_pass=passes)
        return line_interp._load_generated(src, f"bench_{prefetch}_{passes}_{d}_{ns}_{nc}").kernel

    vcoef = simd_coefficients(kernel.coef)
    kernels = {
        "scalar": (scalar, kernel.coef.astype(np.float32)),
        "vector": (generated(0, 1), vcoef),
        "vector+prefetch": (generated(PREFETCH_FLOATS, 1), vcoef),
        "vector+prefetch+passes": (line_interp._compile_simd(d, ns, nc), vcoef),
    }

    def run(fn, coef):
        def call(nthreads):
            numba.set_num_threads(nthreads)
            fn(g32, origin, step, S, coef, lo, hi, ph0, dph, float(c["scale"]), out)
            return out

        return call

    runs = {name: run(fn, coef) for name, (fn, coef) in kernels.items()}
    # finufft at the same points: fine-grid index -> finufft's x in [-pi, pi)
    j = np.arange(S)
    pts = [
        (((origin[:, a, None] + j * step[:, a, None]) % grid.shape[a]) * 2 * np.pi / grid.shape[a]
         - np.pi).reshape(-1).astype(np.float32)
        for a in range(d)
    ]  # fmt: skip

    def run_finufft(nthreads):
        plan = finufft.Plan(
            2, grid.shape, eps=c["kernel_eps"], isign=-1, dtype=np.complex64,
            upsampfac=c["upsampfac"], spreadinterponly=1, nthreads=nthreads,
        )  # fmt: skip
        plan.setpts(*pts)
        return plan.execute(grid)

    runs["finufft"] = run_finufft
    return runs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--eps", type=float, nargs="+", default=[1e-3, 1e-4])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--csv", type=Path, default=OUT / "line_interp_variants.csv")
    args = ap.parse_args(argv)
    rows = []
    for eps in args.eps:
        c = captured_lines(eps)
        c["kernel_eps"], c["upsampfac"] = eps, 1.5
        lo, hi = c["band"]
        samples = int(np.clip(np.asarray(hi) - np.asarray(lo) + 1, 0, None).sum())
        taps = samples * c["kernel"].ns ** 3
        runs = variants(c)
        ref = runs["scalar"](2).copy()
        for name in ("vector", "vector+prefetch", "vector+prefetch+passes"):
            got = runs[name](2)
            err = float(np.linalg.norm(got - ref) / np.linalg.norm(ref))
            print(f"eps {eps:g}: {name} vs scalar, relative l2 {err:.2e}")
        for th in args.threads:
            for name in runs:
                runs[name](th)  # warm-up (compilation, first touch)
            best = {name: (np.inf, np.inf) for name in runs}
            for _ in range(args.repeat):  # interleaved, so that load changes hit all alike
                for name, fn in runs.items():
                    wall, _, cpu = timed(lambda fn=fn, th=th: fn(th))
                    best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
            gflops_np, gbs_np = numpy_rates(th)
            for name, (wall, cpu) in best.items():
                rows.append(
                    dict(
                        eps=eps, ns=c["kernel"].ns, threads=th, variant=name,
                        wall_s=round(wall, 4), cpu_s=round(cpu, 4),
                        x_scalar_wall=round(best["scalar"][0] / wall, 2),
                        gflops=round(4 * taps / wall / 1e9, 2),
                        gbs_taps=round(8 * taps / wall / 1e9, 2),
                        numpy_gflops=round(gflops_np, 1), numpy_copy_gbs=round(gbs_np, 1),
                        samples=samples, load_1min=round(os.getloadavg()[0], 2),
                    )
                )  # fmt: skip
                r = rows[-1]
                print(
                    f"eps {eps:g} ns {r['ns']} threads {th} {name:22s} wall {wall:.3f} s, "
                    f"CPU {cpu:.3f} s, {r['x_scalar_wall']:.2f}x scalar, {r['gflops']:.1f} "
                    f"GFLOP/s (BLAS {gflops_np:.0f}), load {r['load_1min']}"
                )
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with open(args.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.csv} ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
