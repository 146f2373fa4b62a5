"""Benchmark: cost of one sample of the seed-sized ``qsm_motion`` recipe, and the full build.

The seed-sized recipe (``datasets/qsm_motion.toml``: 320 x 320 x 48 at 0.75 x 0.75 x 3 mm,
11 echoes, 70 subjects x 10 profiles, ``recon = true``) is too large to build on the 2-core
shared machine (one sample would exceed its 3 GB per-process budget, see the memory fit).
This script builds the first planned sample of exactly that recipe with only the in-plane
matrix reduced: the FOV, slices, echoes, motion, noise and reconstruction settings are
unchanged, the in-plane voxel size is ``240 mm / n``. Each size runs in a fresh subprocess;
reported are wall and CPU time, per-phase wall time and peak memory (``ru_maxrss``).
"Amortised" counts the subject phantom once per subject (a build caches it for the
subject's ``profiles_per_subject`` samples); the CPU time is scaled the same way
(approximately: the phases are timed in wall time only). A power law
``cost = a * voxels^p`` fitted to the sizes gives the estimate at 320 x 320 x 48 and for the
700-sample build.

    .venv/bin/python benchmarks/qsm_sample_cost.py --inplane 80 120 160
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

from mrsim.dataset.recipe import tomllib

RECIPE = "datasets/qsm_motion.toml"


def one_sample(n: int, recipe_path: str) -> dict:
    """Build sample 0 of the recipe at in-plane matrix n (same FOV); time and memory."""
    import resource
    import time

    from mrsim.dataset.build import plan_samples
    from mrsim.dataset.recipe import recipe_from_dict
    from mrsim.dataset.samples import make_sample
    from mrsim.dataset.timers import take_phases

    raw = tomllib.loads(Path(recipe_path).read_text())
    p = raw["params"]
    fov = [s * v for s, v in zip(p["shape"], p["voxel_size_mm"], strict=True)]
    p["shape"] = [n, n, p["shape"][2]]
    p["voxel_size_mm"] = [fov[0] / n, fov[1] / n, p["voxel_size_mm"][2]]
    recipe = recipe_from_dict(raw, source=recipe_path)
    params = plan_samples(recipe)[0]
    take_phases()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    sample = make_sample(params, threads=1)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    phases = take_phases()
    rss_gb = r1.ru_maxrss / 1024**2
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    # the subject phantom is built once per subject and cached for its profiles
    per_subject = int(raw["params"]["profiles_per_subject"])
    amortised = wall - phases.get("subject", 0.0) * (1 - 1 / per_subject)
    return {
        "inplane": n,
        "shape": "x".join(str(s) for s in params["shape"]),
        "voxels": int(np.prod(params["shape"])),
        "wall_s": wall,
        "cpu_s": cpu,
        "amortised_wall_s": amortised,
        "amortised_cpu_s": cpu * amortised / wall,
        **{f"{k}_s": v for k, v in sorted(phases.items())},
        "peak_rss_gb": rss_gb,
        "n_motion_states": sample.attrs["n_motion_states"],
        "bytes": int(sum(a.nbytes for a in sample.arrays.values())),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inplane", type=int, nargs="+", default=[80, 120, 160])
    ap.add_argument("--recipe", default=RECIPE)
    ap.add_argument("--out-csv", default="docs/benchmarks/qsm_sample_cost.csv")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--summarize", default=None, help="only summarize this CSV of a former run")
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one_sample(args.one, args.recipe)))
        return
    if args.summarize:
        with open(args.summarize) as fh:
            summarize(list(csv.DictReader(fh)), args.recipe)
        return
    rows = []
    for n in args.inplane:
        res = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--recipe", args.recipe],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k not in rows[0], k))
    Path(args.out_csv).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    summarize(rows, args.recipe)


def summarize(rows: list[dict], recipe: str) -> None:
    """Seed-size estimates: power law for time, linear (baseline + per voxel) for memory."""
    raw = tomllib.loads(Path(recipe).read_text())
    full = int(np.prod(raw["params"]["shape"]))
    n_samples = raw["subjects"]["n"] * raw["params"]["profiles_per_subject"]
    vox = np.array([float(r["voxels"]) for r in rows])
    print(f"\nmachine: {platform.platform()}, {os.cpu_count()} CPUs, one thread per sample")
    for key, what in (("amortised_cpu_s", "CPU"), ("amortised_wall_s", "wall (this load)")):
        y = np.array([float(r[key]) for r in rows])
        p, loga = np.polyfit(np.log(vox), np.log(y), 1)
        est = float(np.exp(loga) * full**p)
        print(
            f"{what} s per sample: exponent {p:.2f}; seed size ({full} voxels) {est:.0f} s; "
            f"{n_samples} samples: {est * n_samples / 3600:.1f} h on one worker"
        )
    mem = np.array([float(r["peak_rss_gb"]) for r in rows])
    b, a = np.polyfit(vox, mem, 1)
    print(
        f"peak memory: {a:.2f} GB + {b * 1e6:.2f} GB per million voxels; "
        f"seed size {a + b * full:.1f} GB per worker"
    )
    per_voxel = float(np.mean([float(r["bytes"]) / float(r["voxels"]) for r in rows]))
    print(
        f"arrays: {per_voxel:.0f} bytes per voxel; seed size {per_voxel * full / 1e9:.2f} GB per "
        f"sample, {per_voxel * full * n_samples / 1e9:.0f} GB for {n_samples} samples"
    )


if __name__ == "__main__":
    main()
