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
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one_sample(args.one, args.recipe)))
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
    raw = tomllib.loads(Path(args.recipe).read_text())
    full = int(np.prod(raw["params"]["shape"]))
    n_samples = raw["subjects"]["n"] * raw["params"]["profiles_per_subject"]
    v = np.log([r["voxels"] for r in rows])
    print(f"\nmachine: {platform.platform()}, {os.cpu_count()} CPUs, one thread per sample")
    for key in ("amortised_wall_s", "amortised_cpu_s", "peak_rss_gb"):
        y = np.log([r[key] for r in rows])
        p, loga = np.polyfit(v, y, 1) if len(rows) > 1 else (1.0, y[0] - v[0])
        est = float(np.exp(loga) * full**p)
        print(f"{key}: exponent {p:.2f}; at {full} voxels (seed size) {est:.1f}")
        if key != "peak_rss_gb":
            print(
                f"full build ({n_samples} samples): {est * n_samples / 3600:.1f} CPU-hours; "
                f"{est * n_samples / 3600 / 16:.1f} h on 16 workers"
            )


if __name__ == "__main__":
    main()
