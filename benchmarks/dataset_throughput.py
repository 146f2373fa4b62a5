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
    .venv/bin/python benchmarks/dataset_throughput.py --size medium --workers 1 --compare-reuse

``--compare-reuse`` also builds each configuration with spectrum reuse switched off
(``MRSIM_REUSE_SPECTRA=0``: every sample recomputes its subject's upsampled grid and
static k-space, the path before issue 17) in the same process, alternating, so the
ratio is measured under the same machine load, and checks that both builds wrote the
same arrays. The full-recipe estimate is ``8112 x`` (per-sample time without subject
generation) ``+ 52 x`` (per-subject generation time), divided by the workers.

What ``samples/min`` measures (the issue's definition, unchanged): the wall clock of the
whole ``medium`` build in this process, 16 samples of 2 subjects, i.e. including the
generation of both subjects (once per subject), each subject's first-sample spectra, the
process's first numba/finufft calls and the merge; only the MNI152 template load is done
before (printed). The full recipe has 156 samples per subject (52 subjects), so the medium
build weighs per-subject work ~20x more than the recipe does. The extra column
``recipe-weighted samples/min`` is ``60 / (steady per-sample + per-subject extra / 156)``
from the same run: the rate a full build runs at (a second definition, reported beside the
first, not instead of it). The builder times each subject's first sample apart
(``make_first`` / ``make_rest`` phases): ``steady`` is the mean of the other samples plus the
I/O per sample, ``extra`` the first samples' mean minus it (subject generation, the
subject's spectra and, in a fresh process, the first numba/finufft calls). Builders without
that split (before issue 17's second pass) fall back to (make + I/O - subject) / samples and
the subject phase. ``CPU (s)`` is the process CPU time of the build (all threads), less
sensitive than wall time to other jobs on a shared machine.

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

#: The configuration issue 17's baseline was measured on (the recipe's defaults until the
#: full-head phantom became them): template anatomy, one static image, source at the 2 mm
#: acquisition grid. ``--recipe-defaults`` measures the recipe file's current defaults instead.
BASELINE_PARAMS = {"phantom": "template", "contrast": "static", "source_oversample": 1}


def recipe_for(size: str, recipe_defaults: bool = False):
    if size == "small":
        return load_recipe("mcnet_mprage", small=True)
    r = load_recipe("mcnet_mprage")
    raw = r.to_dict()
    if not recipe_defaults:
        raw["params"].update(BASELINE_PARAMS)
    if size == "full":
        return recipe_from_dict(raw, source=r.source)
    raw.pop("small")
    raw["subjects"]["n"] = 2
    raw["split"] = {"train": 1, "val": 1, "test": 0}
    raw["params"]["n_trajectories"] = 4
    raw["samples_per_shard"] = 2
    raw["name"] = "mcnet_mprage_medium"
    return recipe_from_dict(raw, source=f"{r.source} (medium)")


def _n_full_samples(recipe) -> int:
    p = recipe.params
    return int(recipe.subjects["n"]) * int(p["n_trajectories"]) * len(p["variants"])


def _same_arrays(a_path: Path, b_path: Path) -> bool:
    import h5py

    with h5py.File(a_path) as a, h5py.File(b_path) as b:
        if sorted(a["data"]) != sorted(b["data"]):
            return False
        return all(a["data"][k][()].tobytes() == b["data"][k][()].tobytes() for k in a["data"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=("small", "medium", "full"), default="medium")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", default=None, help="scratch directory (default: a temp dir)")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--repeat", type=int, default=1, help="repeat every configuration")
    ap.add_argument(
        "--compare-reuse",
        action="store_true",
        help="also build with spectrum reuse off (MRSIM_REUSE_SPECTRA=0) and compare arrays",
    )
    ap.add_argument(
        "--recipe-defaults",
        action="store_true",
        help="measure the recipe file's defaults (full head, echo-train, 1 mm source) instead "
        "of the issue-17 baseline configuration (template, static, 2 mm source)",
    )
    args = ap.parse_args(argv)
    recipe = recipe_for(args.size, args.recipe_defaults)
    scratch = Path(args.out or tempfile.mkdtemp(prefix="mrsim-bench-"))
    full = load_recipe("mcnet_mprage")
    n_full = _n_full_samples(full)
    n_subjects_full = int(full.subjects["n"])
    rows = []
    modes = ("reuse", "recompute") if args.compare_reuse else ("reuse",)
    configs = [(w, m, r) for r in range(args.repeat) for w in args.workers for m in modes]
    # One-time per process (per worker): the MNI152 template maps. Loaded here so that every
    # build is timed alike; each build still generates its subjects (cache emptied).
    from mrsim.dataset import subjects as subj

    p = recipe.params
    src_shape = tuple(n * p["source_oversample"] for n in p["shape"])
    t_tpl = time.perf_counter()
    subj._template_maps(src_shape, tuple(p["fov_mm"] / n for n in src_shape))
    print(f"template maps loaded once in {time.perf_counter() - t_tpl:.1f} s (not timed below)")
    for workers, mode, rep in configs:
        subj._load_cached.cache_clear()
        out = scratch / f"w{workers}-{mode}-{rep}"
        shutil.rmtree(out, ignore_errors=True)
        os.environ["MRSIM_REUSE_SPECTRA"] = "1" if mode == "reuse" else "0"
        t0, c0 = time.perf_counter(), time.process_time()
        res = build_dataset(recipe, out, workers=workers, progress=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        os.environ.pop("MRSIM_REUSE_SPECTRA")
        ph = res.phases_s
        io = ph.get("write", 0.0) + ph.get("merge", 0.0)
        nufft = ph.get("nufft", 0.0)
        subject = ph.get("subject", 0.0)
        total = ph.get("make", 0.0) + io  # summed over workers
        n_subj = recipe.subjects["n"]
        per_sample = max(0.0, total - subject) / res.n_samples
        per_subject = subject / n_subj
        est_h = (n_full * per_sample + n_subjects_full * per_subject) / workers / 3600
        per_subject_samples = n_full / n_subjects_full
        # Builders that time a subject's first sample apart (make_first / make_rest): the
        # steady per-sample cost and the extra cost of a subject (generation, spectra, and in
        # a fresh process the first numba/finufft calls); otherwise the split above.
        if ph.get("n_make_rest") and ph.get("n_make_first"):
            steady = ph["make_rest"] / ph["n_make_rest"] + io / res.n_samples
            extra = ph["make_first"] / ph["n_make_first"] - ph["make_rest"] / ph["n_make_rest"]
            split = "first/rest"
        else:
            steady, extra, split = per_sample, per_subject, "subject phase"
        recipe_rate = 60.0 * workers / (steady + extra / per_subject_samples)
        rows.append(
            {
                "workers": workers,
                "mode": mode,
                "repeat": rep,
                "full_recipe_estimate_h": est_h,
                "threads_per_worker": threads_per_worker(workers),
                "samples": res.n_samples,
                "wall_s": wall,
                "samples_per_min": 60.0 * res.n_samples / wall,
                "recipe_weighted_samples_per_min": recipe_rate,
                "steady_per_sample_s": steady,
                "per_subject_extra_s": extra,
                "recipe_weighting_from": split,
                "full_recipe_estimate_weighted_h": (n_full * steady + n_subjects_full * extra)
                / workers
                / 3600,
                "cpu_s": cpu,
                "per_sample_s": per_sample,
                "per_subject_s": per_subject,
                "load_1min": os.getloadavg()[0],
                "nufft_s": nufft,
                "io_s": io,
                "subject_s": subject,
                "rest_s": max(0.0, total - nufft - io - subject),
                "bytes": sum(p.stat().st_size for p in (out / "shards").glob("*.h5")),
            }
        )
    if args.compare_reuse:
        for w in args.workers:
            for rep in range(args.repeat):
                same = _same_arrays(
                    scratch / f"w{w}-reuse-{rep}" / "dataset.h5",
                    scratch / f"w{w}-recompute-{rep}" / "dataset.h5",
                )
                print(f"workers {w} repeat {rep}: reuse and recompute arrays identical: {same}")
    for workers, mode, rep in configs:
        shutil.rmtree(scratch / f"w{workers}-{mode}-{rep}", ignore_errors=True)
    if args.out is None:
        shutil.rmtree(scratch, ignore_errors=True)
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"1-min load average {os.getloadavg()[0]:.1f} at the end"
    )
    import mrsim

    print(
        f"mcnet_mprage ({args.size}): {recipe.params['shape']} acquisition, "
        f"{rows[0]['samples']} samples of {recipe.subjects['n']} subjects; mrsim from "
        f"{Path(mrsim.__file__).parent}; machine: {machine}"
    )
    print(
        "| workers | spectra | threads/worker | samples/min | recipe-weighted samples/min | "
        "steady s/sample | subject extra (s) | wall (s) | CPU (s) | NUFFT (s) | I/O (s) | "
        f"subjects (s) | rest (s) | MB written | full recipe ({n_full} samples) est. (h) | "
        "weighted est. (h) | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workers']} | {r['mode']} | {r['threads_per_worker']} | "
            f"{r['samples_per_min']:.1f} | {r['recipe_weighted_samples_per_min']:.1f} | "
            f"{r['steady_per_sample_s']:.3f} | {r['per_subject_extra_s']:.2f} | "
            f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['nufft_s']:.1f} | {r['io_s']:.1f} | "
            f"{r['subject_s']:.1f} | {r['rest_s']:.1f} | {r['bytes'] / 1e6:.1f} | "
            f"{r['full_recipe_estimate_h']:.2f} | {r['full_recipe_estimate_weighted_h']:.2f} | "
            f"{r['load_1min']:.1f} |"
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
