"""Benchmark: QSM reconstruction chain per stage, former vs fast solvers, in one run.

On the benchmark phantom of ``benchmarks/qsm_motion.py`` (MNI chi phantom 64^3 at 3 mm
with air / bone sources, 11 echoes, SNR 100, true brain mask) reconstructs the
motion-free signal and motion-corrupted signals (seed-002 event profiles, seeds
``--profiles``, +-5 mm / +-5 deg, approximate mixing) with

- ``before``: TV by lagged-diffusivity IRLS + CG (10 x 30 iterations, lambda 1e-5,
  float64) and
  PDF in float64 (the former defaults; PDF here already uses the real-FFT kernel, so
  the "before" PDF time is a lower bound of the former one);
- ``after``: TV by ADMM (FANSI splitting, 100 iterations, lambda 1.5e-5, float32) and
  PDF in float32
  (the current defaults);

both with complex fit and graph-cut unwrapping, and also ``after`` with Laplacian
unwrapping. Fit and graph cut are the current code in every configuration (their speed-ups
of issue 15's second session give bit-identical results), so the "before" fit and unwrap
times are lower bounds of the former ones too. Reports wall time per stage
(``qsm_recon(..., timings=...)``) and chi NRMSE against the true chi. Each configuration
runs ``--repeats`` times; the table gives the median time per stage.

    .venv/bin/python benchmarks/qsm_chain_speed.py --repeats 3
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
from pathlib import Path

import numpy as np

from mrsim.motion.generators import event_profile
from mrsim.qsm.metrics import chi_metrics
from mrsim.qsm.motion import simulate_qsm_motion
from mrsim.qsm.phantom import make_qsm_phantom
from mrsim.qsm.recon import data_weight, qsm_recon

CONFIGS = {
    "before": {"tv_solver": "irls", "pdf_dtype": np.float64, "unwrap": "graphcut"},
    "after": {"tv_solver": "admm", "pdf_dtype": np.float32, "unwrap": "graphcut"},
    "after+laplacian": {"tv_solver": "admm", "pdf_dtype": np.float32, "unwrap": "laplacian"},
}
STAGES = ("fit", "unwrap", "background", "inversion")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, default=64)
    ap.add_argument("--voxel-size", type=float, default=3.0)
    ap.add_argument("--snr", type=float, default=100.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profiles", type=int, nargs="+", default=[0, 1], help="motion seeds")
    ap.add_argument("--out-csv", default="docs/benchmarks/qsm_chain_speed.csv")
    ap.add_argument(
        "--sweep",
        action="store_true",
        help="instead: ADMM lambda / iteration sweep on the chain's local fields (chi NRMSE)",
    )
    ap.add_argument(
        "--criterion",
        type=float,
        nargs="+",
        default=None,
        metavar="LAMBDA",
        help="instead: chi NRMSE of the former chain (IRLS, float64 PDF) and of the ADMM chain "
        "at each LAMBDA on the same inputs, and the change in percentage points",
    )
    args = ap.parse_args()

    ph = make_qsm_phantom((args.shape,) * 3, args.voxel_size)
    clean = simulate_qsm_motion(ph, None, snr=args.snr)
    dur = clean.schedule.duration_s
    inputs = {"motion-free": clean.clean}
    for seed in args.profiles:
        traj = event_profile(
            duration_s=dur, n=max(200, int(dur / 0.5)), max_mm=5, max_deg=5, seed=seed
        )
        sim = simulate_qsm_motion(ph, traj, mixing="approx", snr=args.snr)
        inputs[f"corrupted (profile {seed})"] = sim.corrupted

    if args.sweep:
        _sweep(ph, clean.te_s, inputs)
        return
    if args.criterion:
        _criterion(ph, clean.te_s, inputs, args.criterion, args.out_csv)
        return
    rows = []
    for rep in range(args.repeats):  # interleaved so that load changes hit all configs alike
        for name, opts in CONFIGS.items():
            for what, sig in inputs.items():
                tm: dict[str, float] = {}
                rec = qsm_recon(sig, clean.te_s, ph.voxel_size_mm, mask=ph.mask, timings=tm, **opts)
                nrmse = chi_metrics(ph.chi_local_ppm, rec.chi_ppm, rec.mask)["nrmse_pct"]
                rows.append(
                    {
                        "config": name,
                        "input": what,
                        "repeat": rep,
                        **tm,
                        "total": sum(tm.values()),
                        "nrmse_pct": nrmse,
                    }
                )
                print(
                    f"{name:16s} {what:12s} total {rows[-1]['total']:6.2f} s  NRMSE {nrmse:.2f} %",
                    flush=True,
                )

    Path(args.out_csv).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(
        f"\nmachine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; {args.shape}^3 at {args.voxel_size} mm, "
        f"median of {args.repeats}\n"
    )
    cols = [*STAGES, "total"]
    print("| config | input | " + " | ".join(f"{c} (s)" for c in cols) + " | NRMSE vs true (%) |")
    print("|---" * (len(cols) + 3) + "|")
    med = {}
    for name in CONFIGS:
        for what in inputs:
            sel = [r for r in rows if r["config"] == name and r["input"] == what]
            med[name, what] = {c: float(np.median([r[c] for r in sel])) for c in cols}
            nr = sel[0]["nrmse_pct"]
            print(
                f"| {name} | {what} | "
                + " | ".join(f"{med[name, what][c]:.2f}" for c in cols)
                + f" | {nr:.2f} |"
            )
    for what in inputs:
        b, a = med["before", what], med["after", what]
        ratios = ", ".join(f"{c} {b[c] / max(a[c], 1e-9):.1f}x" for c in cols)
        print(f"\nspeed-up ({what}): {ratios}")


SWEEP = [
    {"lam": 1e-5, "n_iter": 30},
    {"lam": 1e-5, "n_iter": 50},
    {"lam": 1e-5, "n_iter": 100},
    {"lam": 1e-5, "n_iter": 500},
    {"lam": 1.25e-5, "n_iter": 100},
    {"lam": 1.4e-5, "n_iter": 100},
    {"lam": 1.5e-5, "n_iter": 100},
    {"lam": 2e-5, "n_iter": 100},
    {"lam": 2e-5, "n_iter": 150},
    {"lam": 3e-5, "n_iter": 100},
    {"lam": 1e-4, "n_iter": 100},
    {"lam": 1.5e-5, "n_iter": 100, "mu_grad": 1e-4},
    {"lam": 1.5e-5, "n_iter": 100, "mu_data": 3.0},
]


def _sweep(ph, te_s, inputs) -> None:
    """chi NRMSE of ADMM settings from the same local fields (fit, graph cut, float32 PDF)."""
    from mrsim.qsm.inversion import tv_inversion

    cases = {}
    for what, sig in inputs.items():
        rec = qsm_recon(sig, te_s, ph.voxel_size_mm, mask=ph.mask, inversion="tkd")
        weight = data_weight(rec.fit.freq_std_hz, ph.mask)
        cases[what] = (rec.local_field_ppm, rec.mask, weight, np.abs(sig[..., 0]))
    print("| ADMM setting | " + " | ".join(f"NRMSE {w} (%)" for w in cases) + " |")
    print("|---" * (1 + len(cases)) + "|")
    for kw in SWEEP:
        cells = []
        for local, mask, weight, mag in cases.values():
            chi = tv_inversion(
                local, mask, ph.voxel_size_mm, magnitude=mag, weight=weight, tol=0, **kw
            )
            cells.append(f"{chi_metrics(ph.chi_local_ppm, chi, mask)['nrmse_pct']:.2f}")
        name = ", ".join(f"{k} {v:g}" for k, v in kw.items())
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def _criterion(ph, te_s, inputs, lams, out_csv) -> None:
    """Issue 15's accuracy criterion: ADMM chain NRMSE within +-1 pp of the former chain's."""
    rows = []
    for what, sig in inputs.items():
        ref = qsm_recon(sig, te_s, ph.voxel_size_mm, mask=ph.mask, **CONFIGS["before"])
        before = chi_metrics(ph.chi_local_ppm, ref.chi_ppm, ref.mask)["nrmse_pct"]
        row = {"input": what, "before_nrmse_pct": before}
        for lam in lams:
            rec = qsm_recon(sig, te_s, ph.voxel_size_mm, mask=ph.mask, lam=lam)
            after = chi_metrics(ph.chi_local_ppm, rec.chi_ppm, rec.mask)["nrmse_pct"]
            row[f"lam_{lam:g}_nrmse_pct"] = after
            row[f"lam_{lam:g}_change_pp"] = after - before
        rows.append(row)
        print(row, flush=True)
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"\nmachine: {platform.platform()}, {os.cpu_count()} CPUs\n")
    print(
        "| input | before (%) | "
        + " | ".join(f"lambda {lam:g}: change (pp)" for lam in lams)
        + " |"
    )
    print("|---" * (2 + len(lams)) + "|")
    for r in rows:
        cells = [
            f"{r[f'lam_{lam:g}_nrmse_pct']:.2f} ({r[f'lam_{lam:g}_change_pp']:+.2f})"
            for lam in lams
        ]
        print(f"| {r['input']} | {r['before_nrmse_pct']:.2f} | " + " | ".join(cells) + " |")
    for lam in lams:
        worst = max(abs(r[f"lam_{lam:g}_change_pp"]) for r in rows)
        print(f"lambda {lam:g}: largest |change| {worst:.2f} pp, inside +-1: {worst <= 1.0}")


if __name__ == "__main__":
    main()
