"""Multi-coil corruption: per-state ("states") vs Fourier-series ("fourier") method.

Setup: the embedded MNI152 T1 resampled to 96 x 96 x 64 (2.5 x 2.5 x 3 mm), 8 birdcage coils
on the same grid, MP-RAGE linear schedule (readout along axis 0, 6 144 lines in 64 shots),
poses from ``pace_like(seed=0)`` stretched over the scan, eps 1e-4 (complex64).

Speed (results in docs/benchmarks.md):

* one single-coil ``moved_kspace`` (one NUFFT of every line) as the unit;
* ``coil_method="states"`` with 1 rotated state, one state per shot (64) measured, one state
  per line (6 144) **extrapolated** from the per-state cost of the per-shot run;
* ``coil_method="fourier"`` with K = 3 on every axis and with the default box
  (``default_coil_terms``: K = (3, 3, 0), the birdcage maps being constant along the ring
  axis 2) for 1, 64 and 6 144 states, and K = 1, 2, 4 per shot, measured.

Accuracy at per-shot granularity, for K = 1, 2, 3, 4 and the default box: relative l2
difference of the coil k-space to "states" with the full birdcage maps, and to "states"
with the band-limited maps (the method's own difference: the circular wrap of "states" at
the k-space border, see docs/physics.md section 5) overall and away from the border; the
maps' truncation error (``sensitivity_truncation_error``, whole grid and head mask); the
NRMSE of the coil-combined corrupted magnitude image against the "states" one.

Run (about 2 min on 2 cores)::

    .venv/bin/python benchmarks/multicoil_speed.py --threads 2

Writes ``docs/benchmarks/multicoil_speed.csv`` and ``docs/benchmarks/multicoil_accuracy.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

import numpy as np
from scipy import ndimage
from timing import timed

from mrsim.kspace.coils import (
    bandlimit_sensitivities,
    birdcage_sensitivities,
    combine_coils,
    default_coil_terms,
    sensitivity_truncation_error,
)
from mrsim.kspace.corrupt import motion_states, moved_kspace
from mrsim.kspace.fft import ifft_centered
from mrsim.kspace.schedule import mprage_schedule, poses_for_schedule
from mrsim.motion import pace_like

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
SHAPE = (96, 96, 64)
VOX = (2.5, 2.5, 3.0)


def rel(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--coils", type=int, default=8)
    ap.add_argument("--eps", type=float, default=1e-4)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()}")

    img, _ = load_image()
    sched = mprage_schedule(SHAPE)
    traj = pace_like(seed=0)
    sens = birdcage_sensitivities(SHAPE, VOX, args.coils)
    kw = dict(voxel_size_mm=VOX, eps=args.eps, nthreads=args.threads)
    poses = {}
    for gran in ("shot", "line"):
        R, t, _ = poses_for_schedule(traj, sched, mapping="stretch", granularity=gran)
        poses[gran] = (R, t)
    # "1 state": the pose of the last shot for every line (rotated, so the NUFFT path runs).
    R1, t1 = poses["shot"][0][-1], poses["shot"][1][-1]
    poses["one"] = (
        np.broadcast_to(R1, (sched.n_lines, 3, 3)),
        np.broadcast_to(t1, (sched.n_lines, 3)),
    )
    n_states = {g: len(motion_states(*poses[g])[0]) for g in poses}
    print(f"states: {n_states}")

    rows: list[dict] = []

    def label(K):
        return "default " + str(default_coil_terms(sens)) if K is None else K

    def add(method, K, gran, wall, cpu, how):
        rows.append(
            dict(
                method=method,
                coil_terms="" if method != "fourier" else label(K),
                granularity=gran,
                motion_states=n_states[gran],
                wall_s=round(wall, 3),
                cpu_s=round(cpu, 3),
                how=how,
            )
        )
        print(rows[-1])

    wall, _, cpu = timed(lambda: moved_kspace(img, sched, *poses["line"], **kw), repeat=2)
    add("single coil (unit)", None, "line", wall, cpu, "measured, best of 2")

    ks = {}
    for gran in ("one", "shot"):
        wall, ks[gran], cpu = timed(
            lambda g=gran: moved_kspace(img, sched, *poses[g], coil_sensitivities=sens, **kw),
            repeat=2 if gran == "one" else 1,
        )
        add("states", None, gran, wall, cpu, "measured" + (", best of 2" if gran == "one" else ""))
    per_state_wall = rows[-1]["wall_s"] / n_states["shot"]
    per_state_cpu = rows[-1]["cpu_s"] / n_states["shot"]
    add(
        "states",
        None,
        "line",
        per_state_wall * n_states["line"],
        per_state_cpu * n_states["line"],
        f"extrapolated: {per_state_wall:.3f} s/state (per-shot run) x {n_states['line']}",
    )
    for K in (1, 2, 3, 4, None):
        for gran in ("one", "shot", "line") if K in (3, None) else ("shot",):
            wall, _, cpu = timed(
                lambda g=gran, K=K: moved_kspace(
                    img,
                    sched,
                    *poses[g],
                    coil_sensitivities=sens,
                    coil_method="fourier",
                    coil_terms=K,
                    **kw,
                ),
                repeat=2,
            )
            add("fourier", K, gran, wall, cpu, "measured, best of 2")
    with open(OUT / "multicoil_speed.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    # ------------------------------------------------------------------ accuracy
    ax = (1, 2, 3)
    head = ndimage.binary_dilation(img > 0.05 * img.max(), iterations=4)
    R, t = poses["shot"]
    k_states = ks["shot"]
    img_states = np.abs(combine_coils(ifft_centered(k_states, axes=ax), sens))
    acc: list[dict] = []
    for K in (1, 2, 3, 4, None):
        Ks = default_coil_terms(sens) if K is None else (K,) * 3
        sK = bandlimit_sensitivities(sens, Ks)
        kf = moved_kspace(
            img, sched, R, t, coil_sensitivities=sens, coil_method="fourier", coil_terms=K, **kw
        )
        ksK = moved_kspace(img, sched, R, t, coil_sensitivities=sK, **kw)
        inner = (slice(None),) + tuple(slice(k, n - k) for k, n in zip(Ks, SHAPE, strict=True))
        img_f = np.abs(combine_coils(ifft_centered(kf, axes=ax), sK))
        acc.append(
            dict(
                coil_terms=label(K),
                fourier_terms=int(np.prod([2 * k + 1 for k in Ks])),
                nufft_shifts=(2 * Ks[1] + 1) * (2 * Ks[2] + 1),
                map_trunc_err_max=round(float(sensitivity_truncation_error(sens, Ks).max()), 4),
                map_trunc_err_head_max=round(
                    float(sensitivity_truncation_error(sens, Ks, mask=head).max()), 4
                ),
                kspace_err_vs_states=round(rel(kf, k_states), 4),
                kspace_err_vs_states_bandlimited=f"{rel(kf, ksK):.2e}",
                same_away_from_border=f"{rel(kf[inner], ksK[inner]):.2e}",
                combined_image_nrmse_vs_states=f"{rel(img_f, img_states):.2e}",
            )
        )
        print(acc[-1])
    with open(OUT / "multicoil_accuracy.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(acc[0]))
        w.writeheader()
        w.writerows(acc)
    print(f"load average after: {os.getloadavg()}")


def load_image():
    from mrsim.phantoms.mni152 import load_mni152

    return load_mni152("t1", shape=SHAPE, voxel_size_mm=VOX)


if __name__ == "__main__":
    main()
