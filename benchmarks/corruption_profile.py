"""Where the time of one per-line corruption goes (results in docs/benchmarks.md).

256 x 256 x 176 MNI152 T1, MP-RAGE linear ordering, one pose per line (45 056 lines,
11.5 M samples), ``moved_kspace`` at eps 1e-4 and 1e-3, run single-threaded so that every
stage's CPU time is its own (with threads, finufft's point setup overlaps the grid
preparation). Stages are timed by wrapping the library calls:

* interpolation: mrsim's line interpolation (``mrsim.kspace.line_interp.interp_lines``, used
  where finufft's kernel has <= 5 taps, e.g. eps 1e-3) or finufft's (``finufft.Plan.execute``
  with ``spreadinterponly``, e.g. eps 1e-4);
* finufft point setup (``finufft.Plan.setpts``: bounds check of every point);
* upsampled-grid FFT (``scipy.fft.fftn`` / ``rfftn``);
* scatter into the k-space array (``Schedule.to_grid``);
* the rest: NumPy work of mrsim (deconvolution and zero-padding, Hermitian completion, and
  on finufft's path the coordinates, translation ramps, scale and band mask, which the line
  interpolation does on the fly).

The unit is one complex64 ``scipy.fft.fftn`` of the 256 x 256 x 176 grid (same thread
count). With ``--sweep`` it also times the whole call (single-threaded, CPU) for several
finufft upsampling factors and measures each one's relative l2 error against a
double-precision run at eps 1e-9 (the choice of the single-precision default). Run::

    .venv/bin/python benchmarks/corruption_profile.py [--sweep]

Writes ``docs/benchmarks/corruption_profile.csv`` (and ``corruption_upsampfac.csv``).
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import time
from pathlib import Path

import finufft
import numpy as np
import scipy.fft

import mrsim.kspace.line_interp as line_interp
from mrsim.kspace.corrupt import moved_kspace
from mrsim.kspace.schedule import Schedule, mprage_schedule, poses_for_schedule
from mrsim.motion import pace_like
from mrsim.phantoms.mni152 import load_mni152

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"

STAGES = {
    "mrsim line interpolation (numba)": (line_interp, "interp_lines"),
    "finufft interpolation": (finufft.Plan, "execute"),
    "finufft setpts": (finufft.Plan, "setpts"),
    "upsampled-grid FFT (fftn)": (scipy.fft, "fftn"),
    "upsampled-grid FFT (rfftn)": (scipy.fft, "rfftn"),
    "scatter (Schedule.to_grid)": (Schedule, "to_grid"),
}


def instrument(spent: dict[str, float]) -> list[tuple[object, str, object]]:
    """Wrap each stage's function to add its CPU time to ``spent``; returns the originals."""
    saved = []
    for name, (owner, attr) in STAGES.items():
        orig = getattr(owner, attr)

        def wrapper(*a, _orig=orig, _name=name, **k):
            c0 = time.process_time()
            try:
                return _orig(*a, **k)
            finally:
                spent[_name] += time.process_time() - c0

        functools.update_wrapper(wrapper, orig)
        setattr(owner, attr, wrapper)
        saved.append((owner, attr, orig))
    return saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per eps; the fastest is kept")
    ap.add_argument("--sweep", action="store_true", help="also sweep the upsampling factor")
    args = ap.parse_args()
    shape = (256, 256, 176)
    img, _ = load_mni152("t1", shape=shape)
    s = mprage_schedule(shape)
    R, t, _ = poses_for_schedule(pace_like(seed=0), s)
    c64 = img.astype(np.complex64)
    fft_cpu = np.inf
    for _ in range(5):
        c0 = time.process_time()
        scipy.fft.fftn(c64, workers=1)
        fft_cpu = min(fft_cpu, time.process_time() - c0)
    print(f"one complex64 FFT of {shape}, 1 thread: {fft_cpu:.3f} CPU-s")
    rows = []
    for eps in (1e-4, 1e-3):
        moved_kspace(img, s, R, t, eps=eps, nthreads=1)  # warm-up (kernel series cache)
        best = None
        for _ in range(args.repeat):
            spent = dict.fromkeys(STAGES, 0.0)
            saved = instrument(spent)
            try:
                c0 = time.process_time()
                moved_kspace(img, s, R, t, eps=eps, nthreads=1)
                total = time.process_time() - c0
            finally:
                for owner, attr, orig in saved:
                    setattr(owner, attr, orig)
            if best is None or total < best[0]:
                best = (total, spent)
        total, spent = best
        spent = {k: v for k, v in spent.items() if v > 0}
        spent["mrsim NumPy (coordinates, grid prep, ramps, mask)"] = total - sum(spent.values())
        print(f"eps {eps:g}: total {total:.3f} CPU-s = {total / fft_cpu:.1f} FFT")
        for k, v in spent.items():
            print(f"  {k:52s} {v:6.3f} s  {100 * v / total:5.1f} %  {v / fft_cpu:5.1f} FFT")
            rows.append(dict(eps=eps, stage=k, cpu_seconds=v, share=v / total, x_fft=v / fft_cpu))
        rows.append(
            dict(eps=eps, stage="total", cpu_seconds=total, share=1.0, x_fft=total / fft_cpu)
        )
    print(f"load {os.getloadavg()}")
    OUT.mkdir(parents=True, exist_ok=True)
    write_csv(OUT / "corruption_profile.csv", rows)
    if args.sweep:
        write_csv(OUT / "corruption_upsampfac.csv", sweep(img, s, R, t, fft_cpu, args.repeat))


def sweep(img, s, R, t, fft_cpu, repeat) -> list[dict]:
    """Single-threaded CPU time and error of the whole call per upsampling factor."""
    ref = moved_kspace(img, s, R, t, eps=1e-9, nthreads=2)
    norm = np.linalg.norm(ref)
    rows = []
    for eps in (1e-4, 1e-3):
        for up in (1.25, 1.3, 1.4, 1.5, 1.75, 2.0):
            cpu = np.inf
            for _ in range(repeat):
                c0 = time.process_time()
                k = moved_kspace(img, s, R, t, eps=eps, nthreads=1, upsampfac=up)
                cpu = min(cpu, time.process_time() - c0)
            err = float(np.linalg.norm(k - ref) / norm)
            print(
                f"eps {eps:g} upsampfac {up}: {cpu:.3f} CPU-s = {cpu / fft_cpu:.1f} FFT, "
                f"error {err:.2e}"
            )
            rows.append(
                dict(eps=eps, upsampfac=up, cpu_seconds=cpu, x_fft=cpu / fft_cpu, rel_error=err)
            )
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})


if __name__ == "__main__":
    main()
