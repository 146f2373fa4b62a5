"""Prospective correction benchmark: MP-RAGE SSIM and MRS voxel placement vs latency.

For held-out realistic trajectories (seeds disjoint from the predictor's training and
validation sets) the scanner follows the head with four estimators (none, persistence,
constant-velocity Kalman, the recentre GRU's one-step predictions) fed by a tracker that
samples the pose every 0.72 s (the HCP TR the GRU was trained at), with latency 0 to
2 MP-RAGE shots. It reports

1. SSIM of a 64^3 MP-RAGE (MNI152 T1 at 3 mm, linear ordering, one frame update per shot)
   vs latency, per estimator (:func:`mrsim.motion.prospective.prospective_line_poses` ->
   :func:`mrsim.kspace.corrupt.corrupt`);
2. the overlap / tissue agreement / GM-WM-CSF change of a 20 mm MRS voxel (posterior
   cingulate, MNI (0, -52, 26)) over 128 transients of TR 2 s, one update per transient,
   vs latency (:func:`mrsim.motion.mrs_voxel.mrs_voxel_metrics` on the MNI152 maps);
3. the relation between seed 000's FD_gain of an estimator (pooled over the frame
   updates, relative to persistence at the same latency) and its SSIM gain over
   persistence.

Writes docs/prospective.md, docs/prospective.json and docs/img/prospective_*.png.

    python benchmarks/prospective.py --n-traj 12 --threads 1
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mrsim import metrics  # noqa: E402
from mrsim.kspace.corrupt import corrupt  # noqa: E402
from mrsim.kspace.schedule import mprage_schedule  # noqa: E402
from mrsim.motion.fd import fd_pred, fd_total  # noqa: E402
from mrsim.motion.generators import realistic  # noqa: E402
from mrsim.motion.mrs_voxel import mrs_voxel_metrics  # noqa: E402
from mrsim.motion.populations import run_seed, stream_seed  # noqa: E402
from mrsim.motion.prospective import (  # noqa: E402
    ProspectiveSettings,
    applied_poses,
    prospective_line_poses,
    update_times,
)
from mrsim.motion.trajectory import Trajectory  # noqa: E402
from mrsim.phantoms.mni152 import load_mni152  # noqa: E402

TRACKER_DT_S = 0.72
ESTIMATORS = ("none", "persistence", "kalman", "gru")
SHOT_TR_S = 2.3
MRS_TR_S = 2.0
MRS_TRANSIENTS = 128
VOXELS = {"PCC": (0.0, -52.0, 26.0)}


def held_out(n: int, seed: int = 7000, duration_s: float = 302.0) -> list[Trajectory]:
    """Realistic trajectories at the tracker rate, magnitude log-uniform in 0.5-3 mm."""
    from correctors.recentre.data import RANGE_MAGNITUDES_TAG

    # the magnitudes' own stream ([seed, 1] was run 1's shape stream)
    rng = np.random.default_rng(stream_seed(seed, RANGE_MAGNITUDES_TAG))
    mags = np.exp(rng.uniform(np.log(0.5), np.log(3.0), n))
    m = int(duration_s / TRACKER_DT_S) + 1
    return [
        realistic(m, tr_s=TRACKER_DT_S, magnitude_mm=float(mags[i]), seed=run_seed(seed, i))
        for i in range(n)
    ]


def gru_predictions(trajs, model_path):
    """One-step-ahead GRU predictions on the tracker grid (persistence for the first 14)."""
    from correctors.recentre.cli import warmup_persistence
    from correctors.recentre.training import load_model, predict_windows
    from mrsim.motion.windows import make_windows

    model, norm, meta = load_model(model_path)
    out = []
    for tr in trajs:
        X, _ = make_windows(tr, n_past=model.config.n_past)
        mean, _ = predict_windows(model, norm, X)
        out.append(warmup_persistence(tr, mean, model.config.n_past))
    src = model_path or "shipped weights " + meta.get("card", {}).get("sha256", "")[:12]
    return out, str(src)


def settings_for(est: str, latency_s: float, update: str) -> ProspectiveSettings:
    name = "file" if est == "gru" else est
    return ProspectiveSettings(
        name, latency_s=latency_s, update=update, measurement_interval_s=TRACKER_DT_S
    )


def fd_gain_pooled(true_u, applied, previous) -> float:
    """Seed 000 pooled FD_gain of the applied poses, ``previous`` = persistence's pose."""
    tot = fd_total(true_u, previous=previous).sum()
    return float(1.0 - fd_pred(true_u, applied).sum() / tot) if tot > 0 else float("nan")


def run_mprage(trajs, preds, latencies_s, shape, nthreads, update="shot"):
    img, _ = load_mni152("t1", shape=(shape,) * 3, voxel_size_mm=192.0 / shape)
    vox = 192.0 / shape
    sch = mprage_schedule(img.shape, shot_tr_s=SHOT_TR_S)
    t_up, _ = update_times(sch.time_s, sch.shot, update)
    rows = []
    for i, (tr, pr) in enumerate(zip(trajs, preds, strict=True)):
        for L in latencies_s:
            prev = applied_poses(tr, t_up, settings_for("persistence", L, update))
            true_u = tr.sample(t_up)
            for est in ESTIMATORS:
                if est == "none" and L != latencies_s[0]:
                    continue  # latency does not matter without correction
                s = settings_for(est, L, update)
                res = prospective_line_poses(
                    tr, sch.time_s, sch.shot, s, pose_file=pr if est == "gru" else None
                )
                out = corrupt(img, res.trajectory(), sch, vox, method="nearest", nthreads=nthreads)
                rows.append(
                    {
                        "traj": i,
                        "estimator": est,
                        "latency_s": L,
                        "ssim": metrics.ssim(out.clean, out.image),
                        "fd_gain_pooled": fd_gain_pooled(true_u, res.applied_params, prev)
                        if est != "none"
                        else float("nan"),
                        "mean_residual_mm": out.severity["mean_displacement_mm"],
                    }
                )
    return rows, sch


def run_mrs(trajs, preds, latencies_s):
    maps = {k: load_mni152(k)[0] for k in ("gm", "wm", "csf")}
    aff = load_mni152("gm")[1]
    t_tr = np.arange(MRS_TRANSIENTS) * MRS_TR_S + 1.0
    rows = []
    for i, (tr, pr) in enumerate(zip(trajs, preds, strict=True)):
        for L in latencies_s:
            for est in ESTIMATORS:
                if est == "none" and L != latencies_s[0]:
                    continue
                s = settings_for(est, L, "line")
                res = prospective_line_poses(
                    tr, t_tr, None, s, pose_file=pr if est == "gru" else None
                )
                for vname, c in VOXELS.items():
                    m = mrs_voxel_metrics(res.residual_params, maps, aff, c, 20.0)
                    rows.append(
                        {
                            "traj": i,
                            "voxel": vname,
                            "estimator": est,
                            "latency_s": L,
                            "mean_overlap": m["mean_overlap"],
                            "min_overlap": m["min_overlap"],
                            "mean_tissue_agreement": m["mean_tissue_agreement"],
                            "fraction_change": np.asarray(m["fraction_change"]).tolist(),
                            "max_abs_fraction_change": np.asarray(
                                m["max_abs_fraction_change"]
                            ).tolist(),
                        }
                    )
    return rows


def _summary(rows, key, latencies_s):
    """{estimator: [(mean, std) per latency]} over trajectories."""
    out = {}
    for est in ESTIMATORS:
        vals = []
        for L in latencies_s:
            Lq = latencies_s[0] if est == "none" else L
            v = [r[key] for r in rows if r["estimator"] == est and r["latency_s"] == Lq]
            vals.append((float(np.mean(v)), float(np.std(v))))
        out[est] = vals
    return out


def _plot_vs_latency(path, latencies, summ, ylabel, title, xunit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for est, vals in summ.items():
        m = np.array([v[0] for v in vals])
        s = np.array([v[1] for v in vals])
        ax.errorbar(latencies, m, yerr=s / np.sqrt(max(1, NTRAJ)), marker="o", capsize=3, label=est)
    ax.set_xlabel(xunit)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


NTRAJ = 1


def spearman_cluster_ci(pairs, n_boot: int = 2000, seed: int = 0) -> list[float]:
    """95 % percentile interval of Spearman rho, resampling whole trajectories.

    The cases of one trajectory (two estimators x five latencies) are correlated, so
    trajectories, not cases, are the independent units.
    """
    from scipy.stats import spearmanr

    trajs = sorted({p[4] for p in pairs})
    by = {t: [(p[2], p[3]) for p in pairs if p[4] == t] for t in trajs}
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        pick = rng.choice(trajs, size=len(trajs), replace=True)
        gd = np.array([x for t in pick for x in by[t]])
        vals.append(spearmanr(gd[:, 0], gd[:, 1]).statistic)
    return [float(np.nanquantile(vals, 0.025)), float(np.nanquantile(vals, 0.975))]


def main(argv=None) -> int:
    global NTRAJ
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n-traj", type=int, default=12)
    ap.add_argument("--shape", type=int, default=64, help="MP-RAGE matrix (cube)")
    ap.add_argument("--model", default=None, help="recentre checkpoint (default: shipped)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument(
        "--update",
        choices=["shot", "line"],
        default="shot",
        help="MP-RAGE frame updates once per shot (default) or before every line",
    )
    ap.add_argument("--skip-mrs", action="store_true", help="MP-RAGE part only")
    ap.add_argument("--tag", default="", help="suffix of the output names (prospective_TAG.md)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    NTRAJ = args.n_traj
    t0 = time.perf_counter()
    out = Path(args.out)
    (out / "img").mkdir(parents=True, exist_ok=True)
    trajs = held_out(args.n_traj)
    preds, model_src = gru_predictions(trajs, args.model)
    shots = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0]
    lat_mp = [round(f * SHOT_TR_S, 4) for f in shots]
    mp_rows, sch = run_mprage(trajs, preds, lat_mp, args.shape, args.threads, args.update)
    t_mp = time.perf_counter() - t0
    lat_mrs = [round(f * MRS_TR_S, 4) for f in shots]
    mrs_rows = [] if args.skip_mrs else run_mrs(trajs, preds, lat_mrs)
    ssim = _summary(mp_rows, "ssim", lat_mp)
    ovl = _summary(mrs_rows, "mean_overlap", lat_mrs) if mrs_rows else {}
    agr = _summary(mrs_rows, "mean_tissue_agreement", lat_mrs) if mrs_rows else {}
    sfx = f"_{args.tag}" if args.tag else ""
    # FD_gain vs SSIM gain over persistence (latency > 0, estimators that predict)
    pairs = []
    for r in mp_rows:
        if r["estimator"] in ("kalman", "gru") and r["latency_s"] > 0:
            base = next(
                q
                for q in mp_rows
                if q["estimator"] == "persistence"
                and q["traj"] == r["traj"]
                and q["latency_s"] == r["latency_s"]
            )
            pairs.append(
                (
                    r["estimator"],
                    r["latency_s"],
                    r["fd_gain_pooled"],
                    r["ssim"] - base["ssim"],
                    r["traj"],
                )
            )
    from scipy.stats import spearmanr

    g = np.array([p[2] for p in pairs])
    d = np.array([p[3] for p in pairs])
    rho = spearmanr(g, d)
    rho_ci = spearman_cluster_ci(pairs)
    rho_by_lat = {
        lat: float(spearmanr([p[2] for p in pairs if p[1] == lat],
                             [p[3] for p in pairs if p[1] == lat]).statistic)
        for lat in sorted({p[1] for p in pairs})
    }  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _plot_vs_latency(
        out / "img" / f"prospective{sfx}_ssim.png",
        np.array(shots),
        ssim,
        "SSIM (mean over trajectories, +- s.e.)",
        f"MP-RAGE {args.shape}^3, {sch.n_shots} shots x {SHOT_TR_S} s, update per {args.update}, "
        f"tracker every {TRACKER_DT_S} s",
        "latency (shots of 2.3 s)",
    )
    if mrs_rows:
        _plot_vs_latency(
            out / "img" / "prospective_mrs.png",
            np.array(shots),
            ovl,
            "mean voxel overlap with prescription",
            f"MRS 20 mm voxel at PCC, {MRS_TRANSIENTS} transients x TR {MRS_TR_S} s",
            "latency (TR of 2 s)",
        )
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for est, mk in (("kalman", "s"), ("gru", "o")):
        sel = [p for p in pairs if p[0] == est]
        ax.scatter([p[2] for p in sel], [p[3] for p in sel], marker=mk, s=18, alpha=0.7, label=est)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("FD_gain (pooled over frame updates, vs persistence)")
    ax.set_ylabel("SSIM gain over persistence")
    ax.set_title(
        f"Spearman rho = {rho.statistic:.2f} (95 % CI {rho_ci[0]:.2f}-{rho_ci[1]:.2f}, "
        f"n = {len(pairs)})",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "img" / f"prospective{sfx}_fdgain.png", dpi=110)
    plt.close(fig)
    wall = time.perf_counter() - t0
    cmd = "python benchmarks/prospective.py " + " ".join(argv if argv is not None else sys.argv[1:])
    info = {
        "command": cmd.strip(),
        "machine": f"{platform.system()} {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"torch threads {args.threads}, Python {platform.python_version()}",
        "model": model_src,
        "n_traj": args.n_traj,
        "wall_s": wall,
        "mprage_wall_s": t_mp,
        "latencies_mprage_s": lat_mp,
        "latencies_mrs_s": lat_mrs,
        "ssim": ssim,
        "mrs_overlap": ovl,
        "mrs_tissue_agreement": agr,
        "fdgain_vs_ssimgain_spearman": [float(rho.statistic), float(rho.pvalue), len(pairs)],
        "fdgain_vs_ssimgain_spearman_ci95": rho_ci,
        "fdgain_vs_ssimgain_spearman_by_latency_s": rho_by_lat,
        "mprage_rows": mp_rows,
        "mrs_rows": mrs_rows,
    }
    (out / f"prospective{sfx}.json").write_text(json.dumps(info, indent=1))
    lines = [
        "# Prospective correction benchmark (generated by `benchmarks/prospective.py`)",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['machine']}; wall time {wall:.0f} s (MP-RAGE part {t_mp:.0f} s)",
        f"- GRU: {model_src}",
        f"- {args.n_traj} held-out `realistic` trajectories (seeds (7000, i)), magnitude "
        "log-uniform 0.5-3 mm, tracker every 0.72 s, no tracking noise",
        "",
        f"## MP-RAGE SSIM ({args.shape}^3, 3 mm, {sch.n_shots} shots, one update per "
        f"{args.update}), "
        "mean +- std over trajectories",
        "",
        "| estimator | " + " | ".join(f"L = {f:g} shot" for f in shots) + " |",
        "|---|" + "---:|" * len(shots),
    ]
    for est, vals in ssim.items():
        lines.append(f"| {est} | " + " | ".join(f"{m:.4f} +- {s:.4f}" for m, s in vals) + " |")
    if mrs_rows:
        lines += [
            "",
            f"## MRS voxel (20 mm, PCC), {MRS_TRANSIENTS} transients, TR {MRS_TR_S} s: "
            "mean overlap",
            "",
            "| estimator | " + " | ".join(f"L = {f:g} TR" for f in shots) + " |",
            "|---|" + "---:|" * len(shots),
        ]
        for est, vals in ovl.items():
            lines.append(f"| {est} | " + " | ".join(f"{m:.4f} +- {s:.4f}" for m, s in vals) + " |")
        lines += [
            "",
            "Tissue agreement (fraction of the voxel on its prescribed tissue class):",
            "",
        ]
        lines += [
            "| estimator | " + " | ".join(f"L = {f:g} TR" for f in shots) + " |",
            "|---|" + "---:|" * len(shots),
        ]
        for est, vals in agr.items():
            lines.append(f"| {est} | " + " | ".join(f"{m:.4f} +- {s:.4f}" for m, s in vals) + " |")
        fc = {
            est: np.mean(
                [
                    np.abs(r["fraction_change"])
                    for r in mrs_rows
                    if r["estimator"] == est
                    and r["latency_s"] == (lat_mrs[0] if est == "none" else lat_mrs[3])
                ],
                axis=0,
            )
            for est in ESTIMATORS
        }
        lines += [
            "",
            "Mean |change| of the GM / WM / CSF fractions (time-averaged over the transients) at "
            "L = 1 TR (none: any L):",
            "",
            "| estimator | GM | WM | CSF |",
            "|---|---:|---:|---:|",
        ]
        for est, v in fc.items():
            lines.append(f"| {est} | " + " | ".join(f"{x:.4f}" for x in v) + " |")
    lines += [
        "",
        "## FD_gain vs SSIM gain",
        "",
        f"Over {len(pairs)} (trajectory, estimator in kalman/gru, latency > 0) cases: Spearman "
        f"rho = {rho.statistic:.3f} (95 % CI {rho_ci[0]:.3f} to {rho_ci[1]:.3f}, bootstrap over "
        f"trajectories; p = {rho.pvalue:.3g}) between the pooled FD_gain of the "
        "applied poses (relative to persistence at the same latency) and the SSIM gain over "
        "persistence. Within one latency (kalman and gru, "
        f"{len([p for p in pairs if p[1] == min(rho_by_lat)])} cases each), so that the "
        "latency itself does not drive the correlation:",
        "",
        "| latency (s) | " + " | ".join(f"{k:g}" for k in rho_by_lat) + " |",
        "|---|" + "---:|" * len(rho_by_lat),
        "| Spearman rho | " + " | ".join(f"{v:.3f}" for v in rho_by_lat.values()) + " |",
        "",
        f"![SSIM vs latency](img/prospective{sfx}_ssim.png)",
        f"![FD_gain vs SSIM gain](img/prospective{sfx}_fdgain.png)",
    ]
    if mrs_rows:
        lines.append("![MRS overlap vs latency](img/prospective_mrs.png)")
    (out / f"prospective{sfx}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
