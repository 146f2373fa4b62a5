"""Cost of per-line motion corruption vs the number of receive coils and of echoes.

Issue 17, item 4 (the matrix-size part is ``corruption_ratio.py --sizes ...``). In one
process, for one grid (default 128 x 128 x 88, the embedded MNI152 T1 resampled), MP-RAGE
linear ordering, one 6-DOF pose per line (``pace_like(seed=0)``), NUFFT eps 1e-3:

* coils: ``moved_kspace`` with ``C`` birdcage coils (1, 2, 4, 8 by default) by the Fourier
  method (``coil_method="fourier"``, default terms: the maps' Fourier box, 7 shifted NUFFTs
  of every line for these maps) against the single-coil call (no coils);
* echoes: a leading batch axis of ``E`` echo images moved with the same poses in one call
  (how the QSM approximate mixing and the MP-RAGE echo-train basis images go through the
  engine), ``E`` = 1, 2, 4, 8.

Each case is timed ``--repeat`` times interleaved with one complex64 FFT of the grid (the
unit); the best time of each case is kept. The fitted log-log slope of time against ``C``
and ``E`` is printed and drawn (1 = linear). Writes a CSV and a PNG.

Usage::

    .venv/bin/python benchmarks/corruption_coils_echoes.py --threads 2 \\
        --csv docs/benchmarks/corruption_coils_echoes.csv \\
        --png docs/benchmarks/corruption_coils_echoes.png
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.fft

from mrsim.kspace import NufftOptions, line_poses, moved_kspace
from mrsim.kspace.coils import birdcage_sensitivities
from mrsim.kspace.multicoil import Coils
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion import pace_like
from mrsim.phantoms.mni152 import load_mni152


def clock(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", type=int, nargs=3, default=(128, 128, 88))
    ap.add_argument("--coils", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--echoes", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--eps", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--csv", default=None)
    ap.add_argument("--png", default=None)
    args = ap.parse_args(argv)
    shape, th = tuple(args.shape), args.threads
    img, _ = load_mni152("t1", shape=shape, voxel_size_mm=(256.0 / shape[0],) * 3)
    vox = 256.0 / shape[0]
    sched = mprage_schedule(shape)
    poses = line_poses(pace_like(seed=0), sched)
    opt = NufftOptions(eps=args.eps, threads=th, fast_path=False)
    c64 = img.astype(np.complex64)
    load0 = os.getloadavg()[0]
    print(
        f"{'x'.join(map(str, shape))}, {sched.n_lines} lines (one pose each), eps {args.eps:g}, "
        f"threads {th}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"1-min load {load0:.1f}",
        flush=True,
    )
    maps = {
        c: birdcage_sensitivities(shape, vox, n_coils=c).astype(np.complex64) for c in args.coils
    }
    cases: list[tuple[str, int, object]] = [
        ("single coil", 1, lambda: moved_kspace(img, sched, poses, voxel_size_mm=vox, options=opt))
    ]
    for c in args.coils:
        cases.append(
            (
                "coils (fourier)",
                c,
                lambda c=c: moved_kspace(
                    img,
                    sched,
                    poses,
                    voxel_size_mm=vox,
                    options=opt,
                    coils=Coils(maps[c], "fourier"),
                ),
            )
        )
    stacks = {e: np.ascontiguousarray(np.broadcast_to(img, (e, *shape))) for e in args.echoes}
    for e in args.echoes:
        cases.append(
            (
                "echoes",
                e,
                lambda e=e: moved_kspace(stacks[e], sched, poses, voxel_size_mm=vox, options=opt),
            )
        )
    cases[0][2]()  # warm-up: kernels, kernel series
    best = {(name, n): (np.inf, np.inf) for name, n, _ in cases}
    ffts = []
    for _ in range(args.repeat):
        for name, n, fn in cases:
            ffts.append(clock(lambda: scipy.fft.fftn(c64, workers=th)))
            w, c = clock(fn)
            b = best[(name, n)]
            best[(name, n)] = (min(b[0], w), min(b[1], c))
            print(
                f"{name} {n}: {w:.2f} s wall, {c:.2f} CPU-s; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    fft_w = float(np.median([f[0] for f in ffts]))
    fft_c = float(np.median([f[1] for f in ffts]))
    rows = [
        {
            "case": name, "n": n, "wall_s": w, "cpu_s": c, "x_fft_wall": w / fft_w,
            "x_fft_cpu": c / fft_c, "x_single_coil_wall": w / best[("single coil", 1)][0],
            "fft_wall_median_s": fft_w, "shape": "x".join(map(str, shape)), "eps": args.eps,
            "threads": th, "load_1min_end": os.getloadavg()[0],
        }
        for (name, n), (w, c) in best.items()
    ]  # fmt: skip
    for r in rows:
        print(
            f"| {r['case']} | {r['n']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
            f"{r['x_fft_wall']:.1f} | {r['x_single_coil_wall']:.2f} |"
        )
    fits = {}
    for name, key in (("coils (fourier)", "coils"), ("echoes", "echoes")):
        sel = [r for r in rows if r["case"] == name]
        if len(sel) > 1:
            fits[key] = (
                slope([r["n"] for r in sel], [r["wall_s"] for r in sel]),
                slope([r["n"] for r in sel], [r["cpu_s"] for r in sel]),
            )
            print(
                f"fitted exponent of time vs {key}: {fits[key][0]:.2f} wall, {fits[key][1]:.2f} CPU"
            )
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 4))
        for name, key, mark in (("coils (fourier)", "coils", "o"), ("echoes", "echoes", "s")):
            sel = [r for r in rows if r["case"] == name]
            if not sel:
                continue
            n = np.array([r["n"] for r in sel], float)
            t = np.array([r["wall_s"] for r in sel])
            lab = f"{key} (fitted slope {fits[key][0]:.2f})" if key in fits else key
            ax.loglog(n, t, mark + "-", label=lab)
            ax.loglog(n, t[0] * n / n[0], "k:", lw=0.8)
        ax.axhline(best[("single coil", 1)][0], color="gray", ls="--", label="single coil")
        ax.set_xlabel("coils C or echoes E")
        ax.set_ylabel("wall time (s)")
        ax.set_title(
            f"{'x'.join(map(str, shape))}, per-line poses, eps {args.eps:g}, {th} threads, "
            f"load {load0:.0f}-{os.getloadavg()[0]:.0f} (dotted: slope 1)",
            fontsize=8,
        )
        ax.legend(fontsize=7)
        fig.tight_layout()
        tmp = Path(args.png).with_suffix(".tmp.png")
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, args.png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
