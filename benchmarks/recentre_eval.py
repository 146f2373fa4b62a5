"""Train (or load) the recentre GRU on generated HCP-like motion and compare it with baselines.

Trains the default configuration (266,668 parameters) on generated realistic
trajectories (TR 0.72 s; lengths 1200 / 316 / 405 frames as HCP resting state, working
memory and language, crossed with the mixture's cohorts), or with ``--model`` evaluates an
existing checkpoint (``--model shipped``: the shipped weights, sha256-checked) with the
baselines refitted on that checkpoint's own training trajectories. Evaluates on held-out
generated trajectories (independent seeds), on any real motion files given on the command
line and with ``--real-traces`` on the two offline real traces of
``benchmarks/recentre_calibration.py``, and times ``Predictor.update`` per step. Writes a
markdown report, a JSON file and figures.

Usage::

    .venv/bin/python benchmarks/recentre_eval.py [--n-train 60 --n-val 12 --n-test 24]
        [--max-minutes 8] [--threads 1] [FILE ...] [--format F --tr 0.72]
    .venv/bin/python benchmarks/recentre_eval.py --model shipped --real-traces

Outputs (default ``--out docs``): ``docs/img/recentre_*.png``,
``docs/recentre_eval.md``, ``docs/recentre_eval.json``; checkpoint (when training) in
``runs/recentre/recentre.pt``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from correctors.recentre.baselines import default_baselines  # noqa: E402
from correctors.recentre.cli import (  # noqa: E402
    _load_data,
    format_table,
    fresh_resampler,
    fresh_seed,
    plot_prediction,
    source_magnitudes,
)
from correctors.recentre.data import (  # noqa: E402
    DEFAULT_MAGNITUDES,
    HCP_LENGTHS,
    HCP_TR_S,
    generate_trajectories,
    read_trajectories,  # noqa: E402
)
from correctors.recentre.metrics import prediction_metrics  # noqa: E402
from correctors.recentre.model import RecentreConfig  # noqa: E402
from correctors.recentre.predictor import Predictor  # noqa: E402
from correctors.recentre.training import (  # noqa: E402
    load_model,
    predict_windows,
    save_checkpoint,
    train_model,
)
from mrsim.motion.fd import fd_gain  # noqa: E402
from mrsim.motion.trajectory import PARAM_NAMES  # noqa: E402
from mrsim.motion.windows import make_windows_many  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUN_NAMES = {1200: "rest (1200)", 316: "WM (316)", 405: "language (405)"}


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, CPU {cpu}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} thread(s), "
        f"Python {platform.python_version()}"
    )


def evaluate_all(model, norm, fitted, trajs, n_past):
    X, y, src = make_windows_many(trajs, n_past=n_past)
    prev = X[:, -1]
    preds = {"gru": predict_windows(model, norm, X)}
    for b in fitted:
        preds[b.name] = b.predict(X)
    rows = {k: prediction_metrics(y, m, s, prev) for k, (m, s) in preds.items()}
    return X, y, src, preds, rows


def per_subject_gain(y, prev, mean, src):
    g = fd_gain(y, mean, previous=prev)
    out = []
    for i in np.unique(src):
        gi = g[src == i]
        gi = gi[np.isfinite(gi)]
        out.append(gi.mean() if gi.size else np.nan)
    return np.asarray(out)


def time_updates(model, norm, traj_params, n_steps=2000):
    pred = Predictor(model, norm)
    P = traj_params
    for p in P[:50]:  # warm-up
        pred.update(p)
    times = np.empty(n_steps)
    for i in range(n_steps):
        p = P[i % len(P)]
        t0 = time.perf_counter()
        pred.update(p)
        times[i] = time.perf_counter() - t0
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="*", help="real motion files to evaluate on")
    ap.add_argument("--format", help="format of FILES when the name does not tell")
    ap.add_argument("--tr", type=float, default=HCP_TR_S, help="TR (s) of FILES without times")
    ap.add_argument("--n-train", type=int, default=60)
    ap.add_argument("--n-val", type=int, default=12)
    ap.add_argument("--n-test", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--magnitudes",
        default=None,
        help="generated motion: population (ukb, abcd, ukb+abcd) or LO:HI log-uniform mm "
        f"(default {DEFAULT_MAGNITUDES}; with --model, the checkpoint's training magnitudes)",
    )
    ap.add_argument(
        "--model",
        help="evaluate this checkpoint instead of training one: a .pt file or 'shipped' (the "
        "shipped weights, correctors/weights/recentre/, sha256-checked); the baselines are "
        "refitted on its training trajectories and the test set uses its seed + 2000",
    )
    ap.add_argument(
        "--real-traces",
        action="store_true",
        help="also evaluate on the offline real traces of benchmarks/recentre_calibration.py "
        "(nilearn's spm_confounds.txt and fMRIPrep test_desc-confounds_regressors.tsv)",
    )
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--max-minutes", type=float, default=8.0, help="training wall-clock budget")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument(
        "--fixed-train",
        action="store_true",
        help="reuse the same training trajectories every epoch (default: fresh ones)",
    )
    ap.add_argument("--out", default=str(ROOT / "docs"), help="docs directory")
    ap.add_argument("--checkpoint", default=str(ROOT / "runs" / "recentre" / "recentre.pt"))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    (out / "img").mkdir(parents=True, exist_ok=True)
    cmd = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    t_start = time.perf_counter()

    meta = {}
    if args.model:
        model, norm, meta = load_model(None if args.model == "shipped" else args.model)
        extra = meta["extra"]
        if "train_data" not in extra or "generate" not in extra["train_data"]:
            raise SystemExit(
                f"{args.model}: field 'extra.train_data' names no generated training set; "
                "cannot refit the baselines on the model's training trajectories"
            )
        src = extra["train_data"]
        args.seed = int(src["seed"])
        args.n_train = len(extra["train_index"])
        args.magnitudes = args.magnitudes or source_magnitudes(src)
        cfg, hist = model.config, meta["history"]
        train_all = _load_data(src)
        train = [train_all[i] for i in extra["train_index"]]
        test = generate_trajectories(args.n_test, seed=args.seed + 2000, magnitudes=args.magnitudes)
        Xtr, ytr, _ = make_windows_many(train, n_past=cfg.n_past)
        print(f"loaded {args.model}; baselines fitted on {len(Xtr)} training windows", flush=True)
    else:
        args.magnitudes = args.magnitudes or DEFAULT_MAGNITUDES
        # three disjoint generated sets (independent generator seeds)
        train = generate_trajectories(args.n_train, seed=args.seed, magnitudes=args.magnitudes)
        val = generate_trajectories(args.n_val, seed=args.seed + 1000, magnitudes=args.magnitudes)
        test = generate_trajectories(args.n_test, seed=args.seed + 2000, magnitudes=args.magnitudes)
        Xtr, ytr, _ = make_windows_many(train)
        Xva, yva, _ = make_windows_many(val)
        print(f"windows: train {len(Xtr)}, val {len(Xva)}", flush=True)

        cfg = RecentreConfig(max_epochs=args.epochs, seed=args.seed)

        resample = fresh_resampler(args.n_train, args.seed, args.magnitudes, cfg.n_past)
        model, norm, hist = train_model(
            Xtr,
            ytr,
            Xva,
            yva,
            cfg,
            max_minutes=args.max_minutes,
            resample=None if args.fixed_train else resample,
        )
        save_checkpoint(
            args.checkpoint,
            model,
            norm,
            hist,
            {
                "train_data": {
                    "generate": args.n_train,
                    "seed": args.seed,
                    "magnitudes": args.magnitudes,
                },
                "train_index": list(range(args.n_train)),
                "val_index": [],
                "note": "validation set: generate_trajectories(n_val, seed=seed + 1000)",
            },
        )
        print(
            f"trained {hist['epochs']} epochs ({hist['stopped']}), best {hist['best_epoch'] + 1}, "
            f"{hist['seconds']:.0f} s",
            flush=True,
        )

    fitted = []
    for b in default_baselines():
        b.fit(Xtr, ytr)
        fitted.append(b)

    report = {
        "command": cmd,
        "machine": machine(),
        "config": cfg.to_dict(),
        "normaliser": norm.to_dict(),
        "history": hist,
        "sets": {},
    }
    if args.model:
        card = meta.get("card", {})
        what = (
            f"shipped weights (correctors/weights/recentre/model.pt, sha256 "
            f"{card.get('sha256', '?')[:12]}, trained by `{card.get('command', '?')}`)"
            if args.model == "shipped"
            else f"checkpoint `{args.model}`"
        )
        report["model"] = {"source": args.model, "sha256": card.get("sha256")}
        data_line = (
            f"- data: baselines fitted on the model's own training trajectories ({args.n_train} "
            f"generated, seed {args.seed}, magnitudes `{args.magnitudes}`, {len(Xtr)} windows; "
            f"the first epoch's set: the model saw fresh ones every epoch); test {args.n_test} "
            f"generated trajectories (seed {args.seed + 2000}), TR {HCP_TR_S} s, lengths "
            f"{'/'.join(map(str, HCP_LENGTHS))} crossed with the cohorts"
        )
        model_line = (
            f"- model: {what}; {hist['n_parameters']} parameters; {hist['epochs']} epochs "
            f"({hist['stopped']}), best epoch {hist['best_epoch'] + 1}, training "
            f"{hist['seconds']:.0f} s. Its std includes the NLL temperature (`calibrate`); "
            "the coverage of the recalibrated intervals is in docs/recentre_calibration.md"
        )
    else:
        data_line = (
            f"- data: generated `realistic` trajectories, TR {HCP_TR_S} s, lengths "
            f"{'/'.join(map(str, HCP_LENGTHS))} (crossed with the cohorts), magnitudes "
            f"`{args.magnitudes}`; train {args.n_train} trajectories ({len(Xtr)} windows) "
            + (
                "reused every epoch"
                if args.fixed_train
                else f"drawn afresh every epoch (seeds {args.seed}, then "
                f"{fresh_seed(args.seed, 1)}, {fresh_seed(args.seed, 2)}, ...)"
            )
            + f", val {args.n_val} ({len(Xva)}), test {args.n_test} "
            f"(seeds {args.seed + 1000}, {args.seed + 2000})"
        )
        model_line = (
            f"- model: {hist['n_parameters']} parameters; {hist['epochs']} epochs "
            f"({hist['stopped']}), best epoch {hist['best_epoch'] + 1}, training "
            f"{hist['seconds']:.0f} s"
        )
    md = [
        "# recentre benchmark (generated by `benchmarks/recentre_eval.py`)",
        "",
        f"- command: `{cmd}`",
        f"- machine: {report['machine']}",
        data_line,
        model_line,
        "",
    ]

    sets = [("held-out generated", test)]
    if args.files:
        sets.append(("real files", read_trajectories(args.files, format=args.format, tr_s=args.tr)))
    if args.real_traces:
        from recentre_calibration import real_files  # benchmarks/ is the script's directory

        from mrsim.motion.formats import read_trajectory

        found = real_files()
        missing = [str(p) for p, _ in found.values() if not p.is_file()]
        if missing:
            raise SystemExit(f"--real-traces: missing trace file(s): {', '.join(missing)}")
        real = [read_trajectory(p, format=f, tr_s=2.0) for p, f in found.values()]
        sets.append(("real traces (" + ", ".join(found) + ")", real))
    for label, trajs in sets:
        X, y, src, preds, rows = evaluate_all(model, norm, fitted, trajs, model.config.n_past)
        report["sets"][label] = rows
        md += [
            f"## {label}: {len(trajs)} trajectories, {len(X)} windows",
            "",
            format_table(rows),
            "",
        ]
        # R^2 per parameter (seed 000 reports R^2 > 0.87)
        md += [
            "R² per parameter (absolute poses):",
            "",
            "| method | " + " | ".join(PARAM_NAMES) + " |",
            "|---|" + "---:|" * 6,
        ]
        for k, r in rows.items():
            md.append(f"| {k} | " + " | ".join(f"{v:.3f}" for v in r["r2_per_param"]) + " |")
        md.append("")
        if label == "held-out generated":
            lens = np.array([len(trajs[i]) for i in src])
            md += [
                "By acquisition type:",
                "",
                "| run | method | windows | R² | R²(incr) | NLL | NLL med | FDgain | FDgain pool |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for n_run in HCP_LENGTHS:
                sel = lens == n_run
                if not sel.any():
                    continue
                for k in ("gru", "persistence", "linear", "ar6"):
                    g = prediction_metrics(y[sel], *(a[sel] for a in preds[k]), X[sel, -1])
                    md.append(
                        f"| {RUN_NAMES[n_run]} | {k} | {sel.sum()} | {g['r2']:.3f} | "
                        f"{g['r2_increment']:.3f} | {g['nll']:.3f} | {g['nll_median']:.3f} | "
                        f"{g['fd_gain']:.3f} | {g['fd_gain_pooled']:.3f} |"
                    )
            md.append("")
            # figures: scatter (seed Fig. 3), per-subject FD gain (seed Fig. 4), example
            fig, axes = plt.subplots(2, 3, figsize=(12, 7.5))
            m = preds["gru"][0]
            for j, ax in enumerate(axes.ravel()):
                ax.plot(y[:, j], m[:, j], ".", ms=1, alpha=0.3)
                lim = [y[:, j].min(), y[:, j].max()]
                ax.plot(lim, lim, "k-", lw=0.6)
                ax.set_title(f"{PARAM_NAMES[j]}: R² {rows['gru']['r2_per_param'][j]:.3f}")
                ax.set_xlabel("true")
                ax.set_ylabel("predicted")
            fig.tight_layout()
            fig.savefig(out / "img" / "recentre_scatter.png", dpi=100)
            plt.close(fig)
            fig, ax = plt.subplots(figsize=(8, 4))
            for k in ("gru", "linear", "kalman_cv", "ar6"):
                gs = per_subject_gain(y, X[:, -1], preds[k][0], src)
                ax.plot(np.arange(len(gs)), gs, "o-", ms=3, lw=0.8, label=k)
            ax.axhline(0, color="k", lw=0.6)
            ax.set_xlabel("held-out trajectory")
            ax.set_ylabel("mean FD_gain")
            ax.set_ylim(-2, 1)
            ax.legend()
            ax.set_title("mean FD gain per trajectory (persistence = 0)")
            fig.tight_layout()
            fig.savefig(out / "img" / "recentre_fd_gain.png", dpi=100)
            plt.close(fig)
            i0 = int(np.argmax([len(t) == HCP_LENGTHS[1] for t in trajs]))
            sel = src == i0
            tt = trajs[i0].t_s[14:]
            plot_prediction(
                out / "img" / "recentre_example.png",
                tt,
                y[sel],
                preds["gru"][0][sel],
                preds["gru"][1][sel],
                title=f"held-out trajectory {i0} ({len(trajs[i0])} frames): "
                "next-pose GRU, 95 % band",
            )
    # loss curves
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, hist["epochs"] + 1), hist["train_loss"], label="train")
    ax.plot(np.arange(1, hist["epochs"] + 1), hist["val_loss"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("NLL - 0.1 FD_gain (normalised units)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "img" / "recentre_loss.png", dpi=100)
    plt.close(fig)

    # streaming latency
    times = time_updates(model, norm, test[0].params)
    lat = {
        "median_us": float(np.median(times) * 1e6),
        "p99_us": float(np.quantile(times, 0.99) * 1e6),
        "mean_us": float(times.mean() * 1e6),
        "n": int(times.size),
    }
    report["predictor_update"] = lat
    md += [
        f"`Predictor.update` ({lat['n']} steps, batch 1, {torch.get_num_threads()} torch "
        f"thread(s)): median {lat['median_us']:.0f} µs, mean {lat['mean_us']:.0f} µs, "
        f"99th percentile {lat['p99_us']:.0f} µs per step.",
        "",
    ]
    total = time.perf_counter() - t_start
    md += [f"Total benchmark wall time {total:.0f} s.", ""]
    report["wall_s"] = total
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        rev = ""
    report["git"] = rev
    (out / "recentre_eval.md").write_text("\n".join(md))
    (out / "recentre_eval.json").write_text(json.dumps(report, indent=1))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
