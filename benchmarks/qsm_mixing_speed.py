"""Benchmark: per-volume cost of approximate vs exact QSM motion mixing (issue 17 item 5).

Times :func:`mrsim.qsm.motion.simulate_qsm_motion` with ``mixing="approx"`` and
``mixing="exact"`` on the benchmark phantom of ``benchmarks/qsm_motion.py`` (MNI152 chi
phantom, 64^3 at 3 mm, seed-002 event profile, bound 5 mm / 5 deg, no noise), alternating
the two in one process, and prints the ratio exact / approx of each repeat with the load.

    .venv/bin/python benchmarks/qsm_mixing_speed.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import time

from mrsim.motion.generators import event_profile
from mrsim.qsm.motion import simulate_qsm_motion
from mrsim.qsm.phantom import make_qsm_phantom


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, default=64)
    ap.add_argument("--voxel-size", type=float, default=3.0)
    ap.add_argument("--level", type=float, default=5.0, help="event bound (mm and deg)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    ph = make_qsm_phantom((args.shape,) * 3, args.voxel_size)
    dur = simulate_qsm_motion(ph, None).schedule.duration_s
    traj = event_profile(
        duration_s=dur,
        n=max(200, int(dur / 0.5)),
        max_mm=args.level,
        max_deg=args.level,
        seed=args.seed,
    )
    simulate_qsm_motion(ph, traj, mixing="approx")  # warm-up (numba, FFT plans)
    print("| repeat | load (1 min) | states | approx (s) | exact (s) | exact / approx |")
    print("|---|---|---|---|---|---|")
    for r in range(args.repeat):
        times = {}
        for mixing in ("approx", "exact"):
            t = time.perf_counter()
            res = simulate_qsm_motion(ph, traj, mixing=mixing)
            times[mixing] = time.perf_counter() - t
        print(
            f"| {r} | {os.getloadavg()[0]:.1f} | {res.n_states} | {times['approx']:.2f} "
            f"| {times['exact']:.2f} | {times['exact'] / times['approx']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
