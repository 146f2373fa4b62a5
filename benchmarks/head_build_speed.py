"""Build time of the full-head phantom: the old NumPy/scipy build against the current one.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/head_build_speed.py \
        --repeats 3

Two cases, one process, old and new alternated (so that the machine's load falls on both):

- ``default``: ``make_head()``, the 176 x 256 x 256 1 mm head of ``mrsim corrupt``;
- ``warped``: a synthetic subject of the ``mcnet_mprage`` recipe (seed 2019, subject 0) on
  its 256^3 1 mm source grid (``mrsim.dataset.head_subjects.synthetic_head``).

"old" is the frozen copy of ``make_head`` before the speed work
(``tests/head_build_reference.py``); each pair is also checked bit for bit (sha256 of
fractions, labels, affine). Process CPU time and wall time per build, after one warm-up
build of each (template files read, compiled kernels loaded); the first new build in this
process is reported apart (``first_new_*``: includes loading the compiled kernels from
numba's cache, or compiling them where the cache is empty). One thread. Writes
``docs/benchmarks/head_build_speed.csv`` (one row per build) and prints medians.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SPEC = {
    "source": "synthetic",
    "subject": 0,
    "seed": [2019, 1, 0],  # [recipe seed, DOMAIN_SUBJECT, subject]
    "deform_mm": 3.0,
    "smooth_mm": 15.0,
    "scale_jitter": 0.05,
    "contrast_jitter": 0.15,
}


def builders():
    from unittest import mock

    from head_build_reference import make_head_v1

    from mrsim.dataset import head_subjects
    from mrsim.phantoms.head import make_head

    def warped(fn):
        def build():
            with mock.patch.object(head_subjects, "make_head", fn):
                return head_subjects.synthetic_head(SPEC, (256, 256, 256), (1.0, 1.0, 1.0))

        return build

    return {
        "default": {"old": make_head_v1, "new": make_head},
        "warped": {"old": warped(make_head_v1), "new": warped(make_head)},
    }


def timed(fn):
    """(sha256 of the head's fractions, labels and affine, CPU s, wall s): only the digest is
    kept, so that two 256^3 heads (0.8 GB each) are never held at once."""
    c0, w0 = time.process_time(), time.perf_counter()
    head = fn()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    h = hashlib.sha256()
    for a in (head.fractions, head.labels, head.affine):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest(), cpu, wall


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", nargs="+", default=["default", "warped"])
    ap.add_argument("--out", type=Path, default=ROOT / "docs/benchmarks/head_build_speed.csv")
    args = ap.parse_args(argv)
    b = builders()
    rows = []
    load = os.getloadavg()[0]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {load:.2f}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")  # fmt: skip
    _, c, wl = timed(b["default"]["new"])
    print(f"first new build in this process (default head): cpu {c:.2f} s, wall {wl:.2f} s")
    first = {"first_new_cpu_s": round(c, 3), "first_new_wall_s": round(wl, 3)}
    for case in args.cases:
        timed(b[case]["old"])  # warm-up: template resampling caches, kernels loaded
        for rep in range(args.repeats):
            res = {}
            for kind in ("old", "new") if rep % 2 == 0 else ("new", "old"):
                res[kind] = timed(b[case][kind])
                rows.append(
                    {
                        "case": case,
                        "build": kind,
                        "repeat": rep,
                        "cpu_s": round(res[kind][1], 3),
                        "wall_s": round(res[kind][2], 3),
                        "load_1min": round(os.getloadavg()[0], 2),
                    }
                )
            ok = res["old"][0] == res["new"][0]
            rows[-1]["identical"] = rows[-2]["identical"] = ok
            del res
            if not ok:
                raise SystemExit(f"{case}: the new build differs from the old one")
    for r in rows:
        r.update(first)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    print("| case | old CPU s | new CPU s | CPU ratio | old wall s | new wall s | identical |")
    print("|---|---|---|---|---|---|---|")
    for case in args.cases:
        med = {
            (k, m): float(np.median([r[m] for r in rows if r["case"] == case and r["build"] == k]))
            for k in ("old", "new")
            for m in ("cpu_s", "wall_s")
        }
        ident = all(r["identical"] for r in rows if r["case"] == case)
        print(
            f"| {case} | {med['old', 'cpu_s']:.2f} | {med['new', 'cpu_s']:.2f} | "
            f"{med['old', 'cpu_s'] / med['new', 'cpu_s']:.1f}x | {med['old', 'wall_s']:.2f} | "
            f"{med['new', 'wall_s']:.2f} | {ident} |"
        )
    print(f"load at the end {os.getloadavg()[0]:.2f}; wrote {args.out}")


if __name__ == "__main__":
    main()
