"""Per-line corruption cost as a ratio to one FFT, its split, a roofline account and scaling.

For each matrix size, in one process, alternating and repeated (``--repeat``):

* the unit: one complex64 ``scipy.fft.fftn`` of the grid (same threads);
* ``moved_kspace`` with one pose per MP-RAGE line (seed 001-like PACE trajectory), at each
  eps, end to end (fresh: upsampled grid + interpolation + ramps + scatter);
* the same call again with the object's upsampled grid reused
  (:func:`mrsim.kspace.reuse.reuse_spectra`, what a dataset build does for every sample
  but the first of a subject), which isolates the interpolation from the grid FFT.

Both wall and process-CPU times are recorded (the CPU ratio is less sensitive to other
jobs on a shared machine). The roofline part counts the interpolation's work: samples x
ns^3 taps, 4 flop per tap (complex x real multiply-add) and 8 bytes (one complex64 grid
value) read per tap, and compares the achieved rates with what this CPU does in plain numpy
(a large float32 BLAS matrix product for GFLOP/s, a 256 MB copy for GB/s).

Usage::

    .venv/bin/python benchmarks/corruption_ratio.py --threads 2 --repeat 3
    .venv/bin/python benchmarks/corruption_ratio.py --threads 2 --sizes 64 96 128 192 256 \\
        --eps 1e-3 --csv docs/benchmarks/corruption_scaling.csv \\
        --png docs/benchmarks/corruption_scaling.png
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.fft

from mrsim.kspace import NufftOptions, line_poses, moved_kspace
from mrsim.kspace.line_interp import finufft_kernel
from mrsim.kspace.reuse import reuse_spectra
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion import pace_like


def clock(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def shape_for(n: int) -> tuple[int, int, int]:
    return (n, n, max(16, int(round(n * 176 / 256 / 2)) * 2)) if n != 256 else (256, 256, 176)


def numpy_rates(threads: int) -> tuple[float, float]:
    """(GFLOP/s of a float32 matrix product, GB/s of a 256 MB copy) on this CPU."""
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    a @ a
    t, _, _ = clock(lambda: a @ a)
    gflops = 2 * 2048**3 / t / 1e9
    src = np.ones(32 * 2**20, np.float64)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    tc, _, _ = clock(lambda: np.copyto(dst, src))
    return gflops, 2 * src.nbytes / tc / 1e9


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256])
    ap.add_argument("--eps", type=float, nargs="+", default=[1e-3, 1e-4])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--echoes", type=int, nargs="*", default=[], help="echo counts to time")
    ap.add_argument("--csv", default=None)
    ap.add_argument("--png", default=None)
    args = ap.parse_args(argv)
    th = args.threads
    gflops_np, gbs_np = numpy_rates(th)
    load0 = os.getloadavg()[0]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"threads {th}, 1-min load {load0:.1f} at start; numpy float32 matmul "
        f"{gflops_np:.1f} GFLOP/s, copy {gbs_np:.1f} GB/s"
    )
    # Warm-up (numba kernel load, finufft kernel read-off), untimed, on a small problem.
    small = mprage_schedule((32, 32, 16), readout_axis=0)
    warm = line_poses(
        pace_like(n=16, duration_s=small.n_shots * 2.3, seed=0), small, mapping="stretch"
    )
    for eps in args.eps:
        moved_kspace(
            np.ones((32, 32, 16), np.float32),
            small,
            warm,
            options=NufftOptions(eps=eps, threads=th, fast_path=False),
        )
    rows = []
    for n in args.sizes:
        shape = shape_for(n)
        rng = np.random.default_rng(0)
        img = rng.random(shape, dtype=np.float32)
        sched = mprage_schedule(shape, readout_axis=0)
        traj = pace_like(n=128, duration_s=sched.n_shots * 2.3, seed=0)
        poses = line_poses(traj, sched, mapping="stretch", granularity="line")
        cimg = img.astype(np.complex64)
        for rep in range(args.repeat):
            fw, fc, _ = clock(functools.partial(scipy.fft.fftn, cimg, workers=th))
            for eps in args.eps:
                opt = NufftOptions(eps=eps, threads=th, fast_path=False)
                run = functools.partial(moved_kspace, img, sched, poses, options=opt)
                ew, ec, _ = clock(run)
                with reuse_spectra():
                    run()
                    iw, ic, _ = clock(run)
                ns = finufft_kernel(eps, 1.5, 3).ns
                samples = sched.n_lines * sched.n_readout
                taps = samples * ns**3
                rows.append(
                    {
                        "shape": "x".join(map(str, shape)),
                        "n_voxels": int(np.prod(shape)),
                        "eps": eps,
                        "repeat": rep,
                        "threads": th,
                        "fft_wall_s": fw,
                        "fft_cpu_s": fc,
                        "corrupt_wall_s": ew,
                        "corrupt_cpu_s": ec,
                        "ratio_wall": ew / fw,
                        "ratio_cpu": ec / fc,
                        "grid_reused_wall_s": iw,
                        "grid_reused_cpu_s": ic,
                        "ratio_reused_wall": iw / fw,
                        "ns": ns,
                        "samples": samples,
                        "interp_gflops": 4 * taps / iw / 1e9,
                        "interp_gbs_taps": 8 * taps / iw / 1e9,
                        "numpy_gflops": gflops_np,
                        "numpy_copy_gbs": gbs_np,
                        "load_1min": os.getloadavg()[0],
                    }
                )
                r = rows[-1]
                print(
                    f"{r['shape']} eps {eps:g} rep {rep}: FFT {fw:.3f} s; corrupt {ew:.2f} s "
                    f"= {r['ratio_wall']:.1f}x wall ({r['ratio_cpu']:.1f}x CPU); grid reused "
                    f"{iw:.2f} s = {r['ratio_reused_wall']:.1f}x; ns {ns}, {samples} samples, "
                    f"interp {r['interp_gflops']:.1f} GFLOP/s, {r['interp_gbs_taps']:.1f} GB/s "
                    f"of tap reads; load {r['load_1min']:.1f}",
                    flush=True,
                )
    for n_echo in args.echoes:
        # Cost vs echoes (a leading batch axis moved with the same poses, one NUFFT call).
        shape = shape_for(args.sizes[0])
        img = np.random.default_rng(0).random((n_echo, *shape), dtype=np.float32)
        sched = mprage_schedule(shape, readout_axis=0)
        traj = pace_like(n=128, duration_s=sched.n_shots * 2.3, seed=0)
        poses = line_poses(traj, sched, mapping="stretch", granularity="line")
        opt = NufftOptions(eps=args.eps[0], threads=th, fast_path=False)
        ew, ec, _ = clock(functools.partial(moved_kspace, img, sched, poses, options=opt))
        print(
            f"{'x'.join(map(str, shape))} eps {args.eps[0]:g}, {n_echo} echoes: {ew:.2f} s wall "
            f"({ew / n_echo:.2f} s per echo), {ec:.2f} CPU-s; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    if len(args.sizes) > 1:
        for eps in args.eps:
            sel = [r for r in rows if r["eps"] == eps]
            nv = np.array([r["n_voxels"] for r in sel], float)
            t = np.array([r["corrupt_wall_s"] for r in sel])
            slope = np.polyfit(np.log(nv), np.log(t), 1)[0]
            print(f"eps {eps:g}: fitted exponent of wall time vs voxels N^3: {slope:.2f}")
        if args.png:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(5, 4))
            for eps in args.eps:
                sel = [r for r in rows if r["eps"] == eps]
                ax.loglog(
                    [r["n_voxels"] for r in sel],
                    [r["corrupt_wall_s"] for r in sel],
                    "o",
                    label=f"per-line corruption, eps {eps:g}",
                )
            nv = np.array(sorted({r["n_voxels"] for r in rows}), float)
            fft = [min(r["fft_wall_s"] for r in rows if r["n_voxels"] == v) for v in nv]
            ax.loglog(nv, fft, "s", label="one complex64 FFT")
            ref = nv * np.log(nv)
            t_ref = max(r["corrupt_wall_s"] for r in rows)
            ax.loglog(nv, ref / ref[-1] * t_ref, "k--", label="N^3 log N (scaled)")
            ax.set_xlabel("voxels N^3")
            ax.set_ylabel("wall time (s)")
            ax.set_title(f"{th} threads, load {load0:.0f}-{os.getloadavg()[0]:.0f}")
            ax.legend(fontsize=7)
            fig.tight_layout()
            tmp = Path(args.png).with_suffix(".tmp.png")
            fig.savefig(tmp, dpi=110)
            os.replace(tmp, args.png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
