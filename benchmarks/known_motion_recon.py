"""Known-motion reconstruction: how well CG with the true poses undoes per-line motion.

Setup: the embedded MNI152 T1 resampled to N^3 (default 128^3 at 1.5 mm), MP-RAGE linear
schedule (readout axis 0, one partition per shot, N shots of 2.3 s), seed 001's motion
(``pace_like(scale=8)``, per-line poses at the lines' scan times, re-referenced at the
k-space centre), eps 1e-4 (complex64 NUFFT). Single coil and 8 birdcage coils
(``coil_method="fourier"``, default K = (3, 3, 0)), noiseless and at SNR 30. Each case is
corrupted by ``mrsim.kspace.corrupt.corrupt`` and reconstructed by
``mrsim.recon.known_motion_recon`` with the same poses, Tikhonov ``lambda`` 0 and 1e-2.

Reported per case: SSIM / PSNR (mrsim.metrics: slice SSIM, data_range = clean max) of the
corrupted image and of the reconstruction after 5, 10 and 30 iterations against the clean
(motion-free, noise-free) image; time of one ``forward``, one ``adjoint``, and of one CG
iteration (``normal`` + vector updates, metric time excluded) in units of one forward.

Run (single-threaded to share the machine; results are ratios measured in one run)::

    .venv/bin/python benchmarks/known_motion_recon.py --size 128 --threads 1

Writes ``docs/benchmarks/known_motion_recon_N.csv`` (one row per case and iteration),
``docs/benchmarks/known_motion_recon_N_timing.csv`` and
``docs/img/known_motion_recon_N.png``; each finished case is kept in
``runs/known_motion_recon_N/`` so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from timing import timed

from mrsim import metrics
from mrsim.geometry import orientation_from_affine
from mrsim.kspace.coils import birdcage_sensitivities
from mrsim.kspace.corrupt import corrupt
from mrsim.kspace.operator import MotionOperator
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion import pace_like
from mrsim.phantoms.mni152 import load_mni152
from mrsim.recon import known_motion_recon

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = (5, 10, 30)
EPS = 1e-4


def _cases(coil_counts, lams):
    for coils in coil_counts:
        for snr in (None, 30.0):
            for lam in lams:
                yield (coils if coils > 1 else None), snr, lam


def _name(coils, snr, lam) -> str:
    return f"coils{coils or 1}_snr{int(snr) if snr else 'inf'}_lam{lam:g}"


def run_case(image, affine, vox, coils, snr, lam, threads, traj, cache: dict) -> dict:
    shape = image.shape
    schedule = mprage_schedule(shape)
    orient = orientation_from_affine(affine)
    sens = birdcage_sensitivities(shape, vox, coils, axis=2) if coils else None
    key = (coils, snr)
    if key not in cache:
        res = corrupt(
            image, traj, schedule, vox, orientation=orient, eps=EPS, nthreads=threads,
            noise_snr=snr, output="complex", coil_sensitivities=sens, coil_method="fourier",
            seed=0,
        )  # fmt: skip
        cache.clear()
        cache[key] = res
    res = cache[key]
    op = MotionOperator(
        schedule, res.rotations, res.translations_mm, vox, orientation=orient,
        coil_sensitivities=sens, coil_terms=res.settings.get("coil_terms"), eps=EPS,
        nthreads=threads,
    )  # fmt: skip
    lines = schedule.from_grid(res.kspace)
    x = np.asarray(res.image, np.complex64)
    op.forward(x)  # warm-up (numba / plan caches)
    t_fwd, y, cpu_fwd = timed(lambda: op.forward(x), repeat=2)
    t_adj, _, cpu_adj = timed(lambda: op.adjoint(y), repeat=2)
    ref = np.abs(res.clean)
    rows = [
        {"iteration": 0, "kind": "corrupted", "ssim": metrics.ssim(ref, np.abs(res.image)),
         "psnr_db": metrics.psnr(ref, np.abs(res.image))}
    ]  # fmt: skip
    if snr:
        # The floor noise alone sets: the motion-free image plus noise of the same sigma
        # (a fresh draw; per coil, combined with the simulated maps as corrupt() does).
        rng = np.random.default_rng(1)
        shp = (coils,) + shape if coils else shape
        noise = res.noise_sigma * (rng.standard_normal(shp) + 1j * rng.standard_normal(shp))
        if coils:
            from mrsim.kspace.coils import combine_coils

            noise = combine_coils(noise, res.coil_sensitivities)
        floor = np.abs(res.clean + noise)
        rows.append({"iteration": 0, "kind": "motion-free, same noise",
                     "ssim": metrics.ssim(ref, floor),
                     "psnr_db": metrics.psnr(ref, floor)})  # fmt: skip
    metric_time = [0.0]
    snaps = {}

    def cb(k, xk):
        if k in CHECKPOINTS:
            t0 = time.perf_counter()
            mag = np.abs(xk)
            rows.append({"iteration": k, "kind": "known-motion CG", "ssim": metrics.ssim(ref, mag),
                         "psnr_db": metrics.psnr(ref, mag)})  # fmt: skip
            if k == CHECKPOINTS[-1]:
                snaps["recon"] = mag.astype(np.float32)
            metric_time[0] += time.perf_counter() - t0

    t0 = time.perf_counter()
    out = known_motion_recon(op, lines, iterations=max(CHECKPOINTS), tol=0.0, lam=lam, callback=cb)
    t_cg = time.perf_counter() - t0 - metric_time[0]
    t_iter = t_cg / max(out.iterations, 1)  # includes the one adjoint of A^H y, spread
    return {
        "case": _name(coils, snr, lam), "coils": coils or 1, "snr": snr or "inf", "lambda": lam,
        "rows": rows, "residuals": out.residuals,
        "forward_s": t_fwd, "adjoint_s": t_adj, "forward_cpu_s": cpu_fwd, "adjoint_cpu_s": cpu_adj,
        "cg_iteration_s": t_iter, "iteration_over_forward": t_iter / t_fwd,
        "adjoint_over_forward": t_adj / t_fwd, "adjoint_over_forward_cpu": cpu_adj / cpu_fwd,
        "n_states": res.severity["n_states"],
        "mean_displacement_mm": res.severity["mean_displacement_mm"],
        "max_displacement_mm": res.severity["max_displacement_mm"],
        "max_rotation_deg": float(np.abs(res.params[:, 3:]).max()),
        "max_translation_mm": float(np.abs(res.params[:, :3]).max()),
        "slices": {
            "clean": ref[:, :, ref.shape[2] // 2].tolist(),
            "corrupted": np.abs(res.image)[:, :, ref.shape[2] // 2].tolist(),
            "recon": snaps["recon"][:, :, ref.shape[2] // 2].tolist(),
        },
    }  # fmt: skip


def figure(results: list[dict], path: Path, n: int, scale: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    show = [r for r in results if r["lambda"] == 0.0]
    fig, axes = plt.subplots(3, max(len(show), 1) + 1, figsize=(3.0 * (len(show) + 1), 9.0))
    first = show[0]["slices"]
    clean = np.asarray(first["clean"])
    vmax = clean.max()

    def im(ax, a, **kw):
        ax.imshow(np.asarray(a).T, cmap="gray", origin="lower", **kw)

    im(axes[0, 0], clean, vmax=vmax)
    axes[0, 0].set_title("clean")
    axes[1, 0].axis("off")
    axes[2, 0].axis("off")
    for j, r in enumerate(show, start=1):
        ssim_c = r["rows"][0]["ssim"]
        ssim_r = [row for row in r["rows"] if row["iteration"] == CHECKPOINTS[-1]][0]["ssim"]
        sl = r["slices"]
        im(axes[0, j], sl["corrupted"], vmax=vmax)
        axes[0, j].set_title(f"{r['case']}\ncorrupted SSIM {ssim_c:.3f}", fontsize=8)
        im(axes[1, j], sl["recon"], vmax=vmax)
        axes[1, j].set_title(f"known motion, 30 it: SSIM {ssim_r:.4f}", fontsize=8)
        im(axes[2, j], np.abs(np.asarray(sl["recon"]) - np.asarray(sl["clean"])), vmax=vmax / 10)
        axes[2, j].set_title("|recon - clean| (x10)", fontsize=8)
    for a in axes.ravel():
        a.set_xticks([])
        a.set_yticks([])
    fig.suptitle(f"Known-motion CG, {n}^3 MNI152, MP-RAGE linear, pace_like x{scale:g} per line")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--voxel-mm", type=float, default=None, help="default 192 mm / size")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0, help="pace_like seed")
    ap.add_argument("--motion-scale", type=float, default=8.0, help="pace_like scale (seed 001: 8)")
    ap.add_argument("--coils", default="1,8", help="coil counts, e.g. 1,8 (default)")
    ap.add_argument("--lambdas", default="0,0.01", help="Tikhonov weights (default 0,0.01)")
    args = ap.parse_args()
    n = args.size
    vox = args.voxel_mm or 192.0 / n
    image, affine = load_mni152("t1", shape=(n, n, n), voxel_size_mm=vox)
    traj = pace_like(seed=args.seed, scale=args.motion_scale, duration_s=n * 2.3)
    tag = f"{n}" if args.motion_scale == 8.0 else f"{n}_x{args.motion_scale:g}"
    run_dir = ROOT / "runs" / f"known_motion_recon_{tag}"
    run_dir.mkdir(parents=True, exist_ok=True)
    results, cache = [], {}
    coil_counts = [int(c) for c in args.coils.split(",")]
    lams = [float(v) for v in args.lambdas.split(",")]
    for coils, snr, lam in _cases(coil_counts, lams):
        f = run_dir / f"{_name(coils, snr, lam)}.json"
        if f.exists():
            results.append(json.loads(f.read_text()))
            continue
        t0 = time.perf_counter()
        r = run_case(image, affine, vox, coils, snr, lam, args.threads, traj, cache)
        r["wall_s"] = time.perf_counter() - t0
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(r))
        os.replace(tmp, f)
        results.append(r)
        print(r["case"], [(row["iteration"], round(row["ssim"], 4)) for row in r["rows"]],
              f"iter/fwd {r['iteration_over_forward']:.2f} adj/fwd {r['adjoint_over_forward']:.2f}",
              flush=True)  # fmt: skip
    # Every case finished in this run folder (also by earlier runs with other --coils /
    # --lambdas), in case order.
    done = {r["case"] for r in results}
    for f in sorted(run_dir.glob("*.json")):
        r = json.loads(f.read_text())
        if r["case"] not in done:
            results.append(r)
    results.sort(key=lambda r: (r["coils"], r["snr"] != "inf", r["lambda"]))
    out = ROOT / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, " + (
        f"threads {args.threads}, load {os.getloadavg()[0]:.1f}"
    )
    with open(out / f"known_motion_recon_{tag}.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "coils", "snr", "lambda", "kind", "iteration", "ssim", "psnr_db"])
        for r in results:
            for row in r["rows"]:
                w.writerow([r["case"], r["coils"], r["snr"], r["lambda"], row["kind"],
                            row["iteration"], f"{row['ssim']:.5f}",
                            f"{row['psnr_db']:.2f}"])  # fmt: skip
    with open(out / f"known_motion_recon_{tag}_timing.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "forward_s", "adjoint_s", "adjoint_over_forward",
                    "adjoint_over_forward_cpu", "cg_iteration_s", "iteration_over_forward",
                    "n_states", "mean_displacement_mm", "final_residual", "machine"])  # fmt: skip
        for r in results:
            w.writerow([r["case"], f"{r['forward_s']:.3f}", f"{r['adjoint_s']:.3f}",
                        f"{r['adjoint_over_forward']:.2f}", f"{r['adjoint_over_forward_cpu']:.2f}",
                        f"{r['cg_iteration_s']:.3f}", f"{r['iteration_over_forward']:.2f}",
                        r["n_states"], f"{r['mean_displacement_mm']:.3f}",
                        f"{r['residuals'][-1]:.2e}", machine])  # fmt: skip
    img_dir = ROOT / "docs" / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    figure(results, img_dir / f"known_motion_recon_{tag}.png", n, args.motion_scale)
    print(f"wrote docs/benchmarks/known_motion_recon_{tag}*.csv and docs/img/ figure")


if __name__ == "__main__":
    main()
