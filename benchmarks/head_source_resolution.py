"""Throughput and image effect of the ``mcnet_mprage`` source resolution (2 mm vs 1 mm).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/head_source_resolution.py \\
        --samples 6 --out docs/benchmarks/head_source_resolution.csv

The shipped recipe's defaults (full-head subject, echo-train contrast, 128^3 k-space at
2 mm, 10 sagittal slices) for one synthetic subject (recipe seed 2019, subject 0) and its
first ``--samples`` plan entries (trajectories 0.., variants rot / rot_trans), with the
object sampled at 2 mm (``source_oversample = 1``) and at 1 mm (``= 2``, seed 001's 1 mm
scans sampled to 128^3 k-space), in ONE run, interleaved sample by sample so that the
machine's load hits both alike. Inside the dataset builder's reuse block (as in a build),
the subject's head is built once per resolution: that time is reported apart
(``subject_build_s``, shared by the recipe's 156 samples per subject) from the per-sample
time. Per sample: wall and process CPU time, SSIM of corrupted vs clean (DESIGN.md: per
slice, data_range = clean volume max) for each resolution, and the SSIM between the two
resolutions' clean and corrupted slices (same data_range: the 1 mm clean max).

Output: one CSV row per (sample, resolution) plus summary lines printed (samples/min
from the per-sample CPU and wall time, with and without the subject build amortised over
156 samples).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

SAMPLES_PER_SUBJECT = 78 * 2  # the shipped recipe: 78 trajectories x 2 variants


def _plans(oversample: int) -> list[dict]:
    from mcnet_sweep import CPU_OVERRIDES, cpu_recipe

    from mrsim.dataset.build import plan_samples

    o = json.loads(json.dumps(CPU_OVERRIDES))
    o["params"]["source_oversample"] = oversample
    recipe = cpu_recipe(ROOT / "datasets" / "mcnet_mprage.toml", o)
    assert recipe.params["phantom"] == "head" and recipe.params["contrast"] == "echo-train"
    plan = plan_samples(recipe)
    return [p for p in plan if p["subject"] == plan[0]["subject"]]


def _timed(params: dict):
    from mrsim.dataset.samples import make_sample

    w, c = time.perf_counter(), time.process_time()
    s = make_sample(params, threads=1)
    return s, time.perf_counter() - w, time.process_time() - c


def _registration(clean_2mm: np.ndarray, clean_1mm: np.ndarray, ssim) -> None:
    """Print the SSIM of the 1 mm clean slices against the 2 mm ones shifted in-plane by
    0 / +-0.5 voxel (Fourier shift): how much of their difference is an offset of the grids."""
    k1 = np.fft.fftfreq(clean_2mm.shape[1])[:, None]
    k2 = np.fft.fftfreq(clean_2mm.shape[2])[None, :]
    f = np.fft.fft2(clean_2mm)
    dr = float(clean_1mm.max())
    scores = []
    for d1 in (-0.5, 0.0, 0.5):
        for d2 in (-0.5, 0.0, 0.5):
            moved = np.real(np.fft.ifft2(f * np.exp(-2j * np.pi * (k1 * d1 + k2 * d2))))
            scores.append((ssim(clean_1mm, moved, dr), d1, d2))
    best = max(scores)
    print(
        f"registration (sample 0): SSIM clean 1 mm vs 2 mm {scores[4][0]:.4f} unshifted, "
        f"{best[0]:.4f} with the 2 mm image shifted by ({best[1]:+g}, {best[2]:+g}) voxels"
    )


def main(argv=None) -> int:
    from mrsim.dataset import head_subjects
    from mrsim.kspace.reuse import reuse_spectra
    from mrsim.metrics import ssim

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=6)
    ap.add_argument(
        "--out", default=str(ROOT / "docs" / "benchmarks" / "head_source_resolution.csv")
    )
    a = ap.parse_args(argv)
    plans = {1: _plans(1)[: a.samples], 2: _plans(2)[: a.samples]}
    rows, caches = [], {}
    # Room for both resolutions' spectra, which alternate here (a build keeps one subject's:
    # mrsim.dataset.head_subjects.head_reuse_entries); with less, each resolution's samples
    # would push the other's out and every sample would recompute them.
    with reuse_spectra(64):
        for i in range(a.samples):
            got = {}
            for over in (1, 2):
                # one subject cache per resolution (a build keeps one subject at a time);
                # sample 0 starts empty, so its time includes the subject build
                head_subjects._CACHE.clear()
                head_subjects._CACHE.update(caches.get(over, {}))
                s, wall, cpu = _timed(plans[over][i])
                caches[over] = dict(head_subjects._CACHE)
                got[over] = s
                rows.append(
                    {
                        "sample": i,
                        "variant": plans[over][i]["variant"],
                        "trajectory": plans[over][i]["trajectory"],
                        "source_mm": 2.0 / over,
                        "wall_s": round(wall, 3),
                        "cpu_s": round(cpu, 3),
                        "ssim_corrupted": ssim(
                            s.arrays["clean"], s.arrays["corrupted"], s.attrs["clean_volume_max"]
                        ),
                    }
                )
            if i == 0:
                _registration(got[1].arrays["clean"], got[2].arrays["clean"], ssim)
            dr = got[2].attrs["clean_volume_max"]
            for r in rows[-2:]:
                r["ssim_clean_2mm_vs_1mm"] = ssim(
                    got[2].arrays["clean"], got[1].arrays["clean"], dr
                )
                r["ssim_corrupted_2mm_vs_1mm"] = ssim(
                    got[2].arrays["corrupted"], got[1].arrays["corrupted"], dr
                )
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"machine {platform.node()} ({platform.processor() or platform.machine()}), 1 thread")
    for over in (1, 2):
        mine = [r for r in rows if r["source_mm"] == 2.0 / over]
        rs = mine[1:]
        wall = float(np.mean([r["wall_s"] for r in rs]))
        cpu = float(np.mean([r["cpu_s"] for r in rs]))
        build_wall, build_cpu = mine[0]["wall_s"] - wall, mine[0]["cpu_s"] - cpu
        amort = cpu + build_cpu / SAMPLES_PER_SUBJECT
        print(
            f"source {2.0 / over:g} mm: per sample {wall:.2f} s wall / {cpu:.2f} s CPU "
            f"({60 / wall:.1f} samples/min wall, {60 / cpu:.1f} per CPU-min); subject build "
            f"~{build_wall:.1f} s wall / {build_cpu:.1f} s CPU, amortised over "
            f"{SAMPLES_PER_SUBJECT} samples: {60 / amort:.1f} samples per CPU-min; SSIM "
            f"corrupted {np.mean([r['ssim_corrupted'] for r in mine]):.4f}"
        )
    print(
        "2 mm vs 1 mm source: SSIM clean "
        f"{np.mean([r['ssim_clean_2mm_vs_1mm'] for r in rows[::2]]):.4f}, corrupted "
        f"{np.mean([r['ssim_corrupted_2mm_vs_1mm'] for r in rows[::2]]):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
