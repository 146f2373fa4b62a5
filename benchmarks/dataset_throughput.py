"""Throughput of ``mcnet_mprage`` dataset builds: samples/minute with 1 and 2 workers.

Builds the same recipe into fresh directories with each worker count and reports
samples per minute (wall clock, including worker start-up, subject generation
and the final merge) and where the time goes, summed over workers:

- ``nufft``: the corrupted-k-space NUFFT (plus the clean FFT path);
- ``io``: shard writes (HDF5 + gzip + fsync + sha256) and the final merge;
- ``subject``: synthetic-subject generation (once per subject per worker);
- ``rest``: trajectories/schedules, inverse FFTs, slicing, pickling, driver.

Usage::

    .venv/bin/python benchmarks/dataset_throughput.py --size medium --workers 1 2

Sizes: ``small`` (the recipe's --small: 48^3, 6 samples), ``medium`` (full
128^3 acquisition, 2 subjects x 4 trajectories x 2 variants = 16 samples),
``full`` (the whole seed-001 recipe: hours).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from mrsim.dataset.build import build_dataset, threads_per_worker
from mrsim.dataset.recipe import load_recipe, recipe_from_dict


def recipe_for(size: str):
    if size == "small":
        return load_recipe("mcnet_mprage", small=True)
    r = load_recipe("mcnet_mprage")
    if size == "full":
        return r
    raw = r.to_dict()
    raw.pop("small")
    raw["subjects"]["n"] = 2
    raw["split"] = {"train": 1, "val": 1, "test": 0}
    raw["params"]["n_trajectories"] = 4
    raw["samples_per_shard"] = 2
    raw["name"] = "mcnet_mprage_medium"
    return recipe_from_dict(raw, source=f"{r.source} (medium)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=("small", "medium", "full"), default="medium")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", default=None, help="scratch directory (default: a temp dir)")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)
    recipe = recipe_for(args.size)
    scratch = Path(args.out or tempfile.mkdtemp(prefix="mrsim-bench-"))
    rows = []
    for workers in args.workers:
        out = scratch / f"w{workers}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        res = build_dataset(recipe, out, workers=workers, progress=False)
        wall = time.perf_counter() - t0
        ph = res.phases_s
        io = ph.get("write", 0.0) + ph.get("merge", 0.0)
        nufft = ph.get("nufft", 0.0)
        subject = ph.get("subject", 0.0)
        total = ph.get("make", 0.0) + io  # summed over workers
        rows.append(
            {
                "workers": workers,
                "threads_per_worker": threads_per_worker(workers),
                "samples": res.n_samples,
                "wall_s": wall,
                "samples_per_min": 60.0 * res.n_samples / wall,
                "nufft_s": nufft,
                "io_s": io,
                "subject_s": subject,
                "rest_s": max(0.0, total - nufft - io - subject),
                "bytes": sum(p.stat().st_size for p in (out / "shards").glob("*.h5")),
            }
        )
        shutil.rmtree(out, ignore_errors=True)
    if args.out is None:
        shutil.rmtree(scratch, ignore_errors=True)
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"1-min load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"mcnet_mprage ({args.size}): {recipe.params['shape']} acquisition, "
        f"{rows[0]['samples']} samples; machine: {machine}"
    )
    print(
        "| workers | threads/worker | samples/min | wall (s) | NUFFT (s) | I/O (s) | "
        "subjects (s) | rest (s) | MB written |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workers']} | {r['threads_per_worker']} | {r['samples_per_min']:.1f} | "
            f"{r['wall_s']:.1f} | {r['nufft_s']:.1f} | {r['io_s']:.1f} | "
            f"{r['subject_s']:.1f} | {r['rest_s']:.1f} | {r['bytes'] / 1e6:.1f} |"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "size": args.size,
                    "machine": machine,
                    "command": " ".join(sys.argv),
                    "rows": rows,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
