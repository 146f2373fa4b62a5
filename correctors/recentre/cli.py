"""``python -m correctors.recentre train|eval|predict|calibrate``.

A thin layer over :mod:`.training`, :mod:`.baselines`, :mod:`.metrics` and
:mod:`.predictor`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mrsim.command import BROAD_USER_ERRORS, run_command

__all__ = ["main", "build_parser"]

EPILOG_TRAIN = """\
examples:
  # 60 generated HCP-like trajectories (TR 0.72 s, 1200/316/405 frames), 20 % for validation;
  # run-level motion of the published UK Biobank / ABCD cohorts (--magnitudes ukb+abcd)
  python -m correctors.recentre train --generate 60 --seed 0 -o recentre.pt
  # real realignment files (SPM rp_*.txt, FSL .par, HCP Movement_Regressors.txt, ...)
  python -m correctors.recentre train --files sub*/Movement_Regressors.txt --tr 0.72 -o r.pt
"""

EPILOG_EVAL = """\
examples:
  python -m correctors.recentre eval -c recentre.pt --generate 15 --seed 2
  python -m correctors.recentre eval -c recentre.pt --files rp_sub01.txt --tr 2.0 --json m.json

Baselines (persistence, linear extrapolation, Kalman CV, AR(6)) are refitted on the
training data recorded in the checkpoint and evaluated on the same windows.
"""

EPILOG_PREDICT = """\
examples:
  python -m correctors.recentre predict true.csv -o predicted.csv        # shipped weights
  mrsim corrupt --trajectory true.csv --applied-poses predicted.csv --latency-s 0 -o out
  python -m correctors.recentre predict rp_sub01.txt --model recentre.pt --tr 2.0 -o pred
  -> pred.csv (predicted trajectory, mrsim CSV), pred_intervals.csv (truth, mean, std,
     68 % and 95 % bounds per sample), pred.png (truth, prediction, 95 % band)

Sample i (i >= 14) is predicted from samples i-14 .. i-1, one sample at a time; samples
0..13 are filled by persistence (--warmup none leaves them out). Without --model the
shipped cpu weights (correctors/weights/recentre/, sha256-checked) are used.
"""

TABLE_KEYS = (
    ("r2", "R2"),
    ("r2_increment", "R2(incr)"),
    ("mae_mm", "MAE mm"),
    ("mae_deg", "MAE deg"),
    ("nll", "NLL"),
    ("nll_median", "NLL med"),
    ("coverage68", "cov68"),
    ("coverage95", "cov95"),
    ("fd_total_mm", "FDtot mm"),
    ("fd_pred_mm", "FDpred mm"),
    ("fd_gain", "FDgain"),
    ("fd_gain_pooled", "FDgain pool"),
)


def format_table(rows: dict[str, dict]) -> str:
    """Markdown table of metric dicts keyed by method name."""
    head = "| method | " + " | ".join(h for _, h in TABLE_KEYS) + " |"
    sep = "|---|" + "---:|" * len(TABLE_KEYS)
    lines = [head, sep]
    for name, m in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{m[k]:.4g}" for k, _ in TABLE_KEYS) + " |")
    return "\n".join(lines)


def _add_data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--generate", type=int, metavar="N", help="generate N HCP-like trajectories")
    g.add_argument("--files", nargs="+", metavar="FILE", help="motion files")
    g.add_argument(
        "--dataset",
        metavar="PATH",
        help="motion_windows HDF5 dataset (train: its train/val splits; eval: --split)",
    )
    p.add_argument("--seed", type=int, default=0, help="generator seed (with --generate)")
    p.add_argument(
        "--magnitudes",
        default=None,
        metavar="SPEC",
        help="with --generate: run-level motion, a published population (ukb, abcd, ukb+abcd; "
        "default ukb+abcd) or LO:HI (log-uniform magnitude, mm; 0.3:3 before the retune)",
    )
    p.add_argument("--format", help="motion file format when the name does not tell")
    p.add_argument("--tr", type=float, default=0.72, help="sampling interval (s) for files")


def _add_model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        "-c",
        "--checkpoint",
        dest="model",
        default=None,
        help="checkpoint (.pt); default: the shipped cpu weights (correctors/weights/recentre/)",
    )


def _load_data(source: dict, split: str | None = None):
    from correctors.recentre.data import (
        generate_trajectories,
        read_dataset_trajectories,
        read_trajectories,
    )

    if source.get("dataset") is not None:
        return read_dataset_trajectories(source["dataset"], split or source.get("split", "all"))
    if source.get("generate") is not None:
        return generate_trajectories(
            int(source["generate"]), seed=int(source["seed"]), magnitudes=source_magnitudes(source)
        )
    return read_trajectories(source["files"], format=source.get("format"), tr_s=source["tr"])


def source_magnitudes(source: dict) -> str:
    """The ``magnitudes`` of a generated data source; sources recorded before the retune
    name none and were drawn log-uniform 0.3-3 mm."""
    from correctors.recentre.data import LEGACY_MAGNITUDES

    return str(source.get("magnitudes", LEGACY_MAGNITUDES))


def _source(args) -> dict:
    if args.generate is not None:
        from correctors.recentre.data import DEFAULT_MAGNITUDES, parse_magnitudes

        if args.generate < 1:
            raise ValueError(f"--generate must be >= 1, got {args.generate}")
        mags = DEFAULT_MAGNITUDES if args.magnitudes is None else args.magnitudes
        parse_magnitudes(mags)
        # "streams": the seed streams of mrsim.motion.populations / recentre.data since
        # session 5 (split, scores and ranges no longer share a run's stream); a source
        # without it was drawn before and regenerates a different set (docs/correctors.md).
        return {"generate": args.generate, "seed": args.seed, "magnitudes": mags, "streams": 2}
    if args.magnitudes is not None:
        raise ValueError("--magnitudes needs --generate")
    if args.dataset is not None:
        return {"dataset": str(Path(args.dataset).resolve()), "split": getattr(args, "split", None)}
    return {
        "files": [str(Path(f).resolve()) for f in args.files],
        "format": args.format,
        "tr": args.tr,
    }


def fresh_seed(seed: int, epoch: int) -> int:
    """Generator seed of the fresh training set of ``epoch`` (>= 1).

    Far from ``seed`` and the ``seed + 1000`` / ``seed + 2000`` that the benchmark uses
    for validation and test, so fresh training trajectories never repeat those.
    """
    return seed + 100_000 + epoch


def fresh_resampler(n: int, seed: int, magnitudes: str, n_past: int):
    """``resample(epoch)`` for :func:`~correctors.recentre.training.train_model`: the
    windows ``(X, y)`` of ``n`` trajectories generated afresh for ``epoch``
    (:func:`fresh_seed`), drawn like the training set (``magnitudes``)."""
    from correctors.recentre.data import generate_trajectories
    from mrsim.motion.windows import make_windows_many

    def resample(epoch: int):
        fresh = generate_trajectories(n, seed=fresh_seed(seed, epoch), magnitudes=magnitudes)
        return make_windows_many(fresh, n_past=n_past)[:2]

    return resample


#: Stream of the train / validation permutation (``mrsim.motion.populations.stream_seed``).
#: It was ``default_rng(seed)`` up to session 5, which NumPy seeds exactly like run 0's
#: ``[seed, 0]`` (entropy is zero-padded to 4 words).
SPLIT_TAG = 0x5B17


def _split(trajs, val_fraction: float, seed: int):
    from mrsim.motion.populations import stream_seed

    if not 0 < val_fraction < 1:
        raise ValueError(f"--val-fraction must be in (0, 1), got {val_fraction}")
    if len(trajs) < 2:
        raise ValueError("need at least 2 trajectories (one for validation)")
    order = np.random.default_rng(stream_seed(seed, SPLIT_TAG)).permutation(len(trajs))
    n_val = min(max(1, round(val_fraction * len(trajs))), len(trajs) - 1)
    val = sorted(order[:n_val].tolist())
    train = sorted(order[n_val:].tolist())
    return train, val


def cmd_train(args) -> int:
    import torch

    from correctors.recentre.model import RecentreConfig
    from correctors.recentre.training import save_checkpoint, train_model
    from mrsim.motion.windows import make_windows_many

    if args.fresh_per_epoch and args.generate is None:
        raise ValueError("--fresh-per-epoch needs --generate (it draws new trajectories)")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = RecentreConfig(
        hidden=args.hidden,
        num_layers=args.num_layers,
        fc_hidden=args.fc_hidden,
        relative=not args.absolute,
        per_window=not args.no_per_window,
        window_floor=args.window_floor,
        dropout=args.dropout,
        beta=args.beta,
        var_floor=args.var_floor,
        lr=args.lr,
        batch_size=args.batch_size,
        max_epochs=args.epochs,
        patience=args.patience,
        seed=args.seed,
    )
    src = _source(args)
    if "dataset" in src:
        # the dataset's own subject-level splits
        train_trajs = _load_data(src, "train")
        val_trajs = _load_data(src, "val")
        tr_idx, va_idx = list(range(len(train_trajs))), []
        src = {"dataset": src["dataset"], "split": "train"}
    else:
        trajs = _load_data(src)
        tr_idx, va_idx = _split(trajs, args.val_fraction, args.seed)
        train_trajs = [trajs[i] for i in tr_idx]
        val_trajs = [trajs[i] for i in va_idx]
    Xtr, ytr, _ = make_windows_many(train_trajs, n_past=cfg.n_past)
    Xva, yva, _ = make_windows_many(val_trajs, n_past=cfg.n_past)
    print(
        f"training on {len(Xtr)} windows ({len(train_trajs)} trajectories), "
        f"validating on {len(Xva)} ({len(val_trajs)})"
    )
    resample = None
    if args.fresh_per_epoch:
        resample = fresh_resampler(len(train_trajs), args.seed, src["magnitudes"], cfg.n_past)

    model, norm, hist = train_model(
        Xtr,
        ytr,
        Xva,
        yva,
        cfg,
        progress=not args.quiet,
        max_minutes=args.max_minutes,
        resample=resample,
        state_path=args.state,
    )
    extra = {"train_data": src, "train_index": tr_idx, "val_index": va_idx}
    out = save_checkpoint(args.output, model, norm, hist, extra)
    print(
        f"best epoch {hist['best_epoch'] + 1}/{hist['epochs']} ({hist['stopped']}), "
        f"val loss {min(hist['val_loss']):.4f}, {hist['seconds']:.1f} s, "
        f"{hist['n_parameters']} parameters -> {out}"
    )
    return 0


def evaluate(model, norm, trajs, baselines_fit_on, n_past: int = 14) -> dict[str, dict]:
    """Metrics of the model and of the default baselines on windows of ``trajs``.

    ``baselines_fit_on`` is ``(X, y)`` training windows for the baselines.
    """
    from correctors.recentre.baselines import default_baselines
    from correctors.recentre.metrics import prediction_metrics
    from correctors.recentre.training import predict_windows
    from mrsim.motion.windows import make_windows_many

    X, y, _ = make_windows_many(trajs, n_past=n_past)
    if len(X) == 0:
        raise ValueError(f"no windows: every trajectory has <= {n_past} samples")
    prev = X[:, -1]
    rows = {}
    mean, std = predict_windows(model, norm, X)
    rows["gru"] = prediction_metrics(y, mean, std, prev)
    Xf, yf = baselines_fit_on
    for b in default_baselines():
        b.fit(Xf, yf)
        m, s = b.predict(X)
        rows[b.name] = prediction_metrics(y, m, s, prev)
    return rows


def cmd_eval(args) -> int:
    from correctors.recentre.training import load_model
    from mrsim.motion.windows import make_windows_many

    model, norm, meta = load_model(args.model)
    n_past = model.config.n_past
    extra = meta["extra"]
    if "train_data" not in extra:
        raise ValueError(
            f"{args.model or 'shipped weights'}: field 'extra.train_data' missing; cannot refit "
            "baselines on the model's training data"
        )
    train_all = _load_data(extra["train_data"])
    Xf, yf, _ = make_windows_many([train_all[i] for i in extra["train_index"]], n_past=n_past)
    trajs = _load_data(_source(args))
    rows = evaluate(model, norm, trajs, (Xf, yf), n_past=n_past)
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
        print(f"metrics -> {args.json}")
    return 0


def predict_trajectory(predictor_model, norm, traj):
    """Per-sample predictions of a trajectory: ``(t_s (M,), true, mean, std)``, M = N - n_past."""
    from correctors.recentre.training import predict_windows
    from mrsim.motion.windows import make_windows

    n_past = predictor_model.config.n_past
    X, y = make_windows(traj, n_past=n_past)
    if len(X) == 0:
        raise ValueError(f"trajectory has {len(traj)} samples; need more than {n_past}")
    mean, std = predict_windows(predictor_model, norm, X)
    return traj.t_s[n_past:], y, mean, std


def plot_prediction(path, t_s, true, mean, std, title: str = "") -> None:
    """Truth, prediction and 95 % band for the six parameters (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from correctors.recentre.metrics import Z95
    from mrsim.motion.trajectory import PARAM_NAMES

    fig, axes = plt.subplots(6, 1, figsize=(10, 11), sharex=True)
    for j, ax in enumerate(axes):
        ax.fill_between(
            t_s,
            mean[:, j] - Z95 * std[:, j],
            mean[:, j] + Z95 * std[:, j],
            color="C1",
            alpha=0.3,
            lw=0,
            label="95 % interval",
        )
        ax.plot(t_s, true[:, j], "k-", lw=0.8, label="truth")
        ax.plot(t_s, mean[:, j], "C1-", lw=0.8, label="prediction")
        ax.set_ylabel(PARAM_NAMES[j])
    axes[0].legend(loc="upper right", ncol=3, fontsize=8)
    axes[-1].set_xlabel("t (s)")
    axes[0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def warmup_persistence(traj, mean, n_past: int):
    """Full-length predicted trajectory: the first ``n_past`` samples (no full window yet)
    predicted by persistence (sample ``i`` <- sample ``i - 1``, sample 0 <- itself), the rest
    by the model, so a prospective scan can use the file from its first update."""
    from mrsim.motion.trajectory import Trajectory

    p = np.asarray(traj.params)
    head = np.concatenate([p[:1], p[: n_past - 1]])
    return Trajectory(traj.t_s, np.concatenate([head, mean]))


def cmd_predict(args) -> int:
    from correctors.recentre.metrics import Z95, prediction_metrics
    from correctors.recentre.training import load_model
    from mrsim.motion.formats import read_trajectory, write_trajectory
    from mrsim.motion.trajectory import PARAM_NAMES

    model, norm, meta = load_model(args.model)
    traj = read_trajectory(args.input, format=args.format, tr_s=args.tr)
    t, true, mean, std = predict_trajectory(model, norm, traj)
    n_past = model.config.n_past
    out = Path(args.output)
    stem = out.with_suffix("") if out.suffix == ".csv" else out
    stem.parent.mkdir(parents=True, exist_ok=True)
    traj_path = stem.with_suffix(".csv")
    source = args.model or "shipped weights " + meta.get("card", {}).get("sha256", "")[:12]
    if args.warmup == "persistence":
        pred_traj = warmup_persistence(traj, mean, n_past)
        note = f"samples 0..{n_past - 1}: persistence (window not full yet); then GRU"
    else:
        from mrsim.motion.trajectory import Trajectory

        pred_traj = Trajectory(t, mean)
        note = f"GRU from sample {n_past}"
    write_trajectory(
        pred_traj,
        traj_path,
        format="mrsim",
        comment=f"recentre GRU next-pose predictions of {Path(args.input).name} ({source}); {note}",
    )
    cols = ["t_s"]
    blocks = [t[:, None]]
    h68, h95 = std, Z95 * std
    table = meta["extra"].get("calibration", {}).get("z_quantiles")
    if table is not None:  # recalibrated interval shape (calibrate subcommand)
        from correctors.recentre.calibration import NOMINAL_1SIGMA, calibrated_halfwidth

        h68 = calibrated_halfwidth(std, table, NOMINAL_1SIGMA)
        h95 = calibrated_halfwidth(std, table, 0.95)
    for prefix, arr in (
        ("true", true),
        ("mean", mean),
        ("std", std),
        ("lo68", mean - h68),
        ("hi68", mean + h68),
        ("lo95", mean - h95),
        ("hi95", mean + h95),
    ):
        cols += [f"{prefix}_{n}" for n in PARAM_NAMES]
        blocks.append(arr)
    int_path = stem.parent / (stem.name + "_intervals.csv")
    np.savetxt(
        int_path,
        np.concatenate(blocks, axis=1),
        delimiter=",",
        header=",".join(cols),
        comments="",
        fmt="%.6g",
    )
    png = stem.parent / (stem.name + ".png")
    plot_prediction(png, t, true, mean, std, title=f"{Path(args.input).name}: next-pose GRU")
    m = prediction_metrics(true, mean, std, np.asarray(traj.params)[model.config.n_past - 1 : -1])
    print(
        f"{args.input}: {len(t)} predicted samples; R2 {m['r2']:.3f}, MAE "
        f"{m['mae_mm']:.4f} mm / {m['mae_deg']:.4f} deg, FD_gain {m['fd_gain']:.3f} "
        f"(pooled {m['fd_gain_pooled']:.3f}), 95 % coverage {m['coverage95']:.3f}"
    )
    print(f"-> {traj_path}, {int_path}, {png}")
    return 0


def validation_windows(meta: dict, n_past: int):
    """The validation windows recorded in a checkpoint (its training data and val_index)."""
    from mrsim.motion.windows import make_windows_many

    extra = meta["extra"]
    if "train_data" not in extra or not extra.get("val_index"):
        raise ValueError(
            "checkpoint records no validation trajectories (extra.train_data / val_index); "
            "calibrate needs the held-out validation set of the training run"
        )
    src = extra["train_data"]
    if "dataset" in src:
        trajs = _load_data(src, "val")
    else:
        allt = _load_data(src)
        trajs = [allt[i] for i in extra["val_index"]]
    X, y, _ = make_windows_many(trajs, n_past=n_past)
    return X, y


def cmd_calibrate(args) -> int:
    from correctors.recentre.calibration import (
        fit_temperature,
        fit_z_quantiles,
        interval_coverage,
    )
    from correctors.recentre.training import load_model, predict_windows, save_checkpoint

    model, norm, meta = load_model(args.model)
    X, y = validation_windows(meta, model.config.n_past)
    model.config.temperature = (1.0,) * 6
    mean, std = predict_windows(model, norm, X)
    T = fit_temperature(y, mean, std, args.method)
    before = [float(interval_coverage(y, mean, std, k).mean()) for k in (1.0, 2.0)]
    after = [float(interval_coverage(y, mean, std * T, k).mean()) for k in (1.0, 2.0)]
    model.config.temperature = tuple(float(v) for v in T)
    extra = dict(meta["extra"])
    extra["calibration"] = {
        "method": args.method,
        "temperature": T.tolist(),
        "n_val_windows": int(len(y)),
        "val_coverage_1sigma_before": before[0],
        "val_coverage_2sigma_before": before[1],
        "val_coverage_1sigma_after": after[0],
        "val_coverage_2sigma_after": after[1],
        # shape recalibration of the temperature-scaled std (calibration.fit_z_quantiles)
        "z_quantiles": fit_z_quantiles(y, mean, std * T),
    }
    save_checkpoint(args.output, model, norm, meta["history"], extra)
    print(
        f"temperature ({args.method}, {len(y)} validation windows): "
        + " ".join(f"{v:.3f}" for v in T)
        + f"\nvalidation coverage 1 sigma {before[0]:.3f} -> {after[0]:.3f}, "
        f"2 sigma {before[1]:.3f} -> {after[1]:.3f}  -> {args.output}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m correctors.recentre",
        description="GRU next-pose predictor with uncertainty (seed 000, RECENTRE).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "train", help="train on generated or real motion", epilog=EPILOG_TRAIN, formatter_class=fmt
    )
    _add_data_args(p)
    p.add_argument("-o", "--output", required=True, help="checkpoint path (.pt)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="trajectories for validation")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--patience", type=int, default=8, help="early-stopping patience (epochs)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--beta", type=float, default=0.1, help="FD_gain weight in the loss")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--fc-hidden", type=int, default=800)
    p.add_argument("--absolute", action="store_true", help="absolute instead of relative poses")
    p.add_argument(
        "--no-per-window",
        action="store_true",
        help="do not scale each window by its own motion level",
    )
    p.add_argument("--window-floor", type=float, default=1.0, help="floor of that level")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument(
        "--fresh-per-epoch",
        action="store_true",
        help="with --generate: draw new training trajectories every epoch",
    )
    p.add_argument(
        "--var-floor",
        type=float,
        default=0.0,
        help="variance floor of the Gaussian NLL (normalised units; default 0)",
    )
    p.add_argument(
        "--state",
        help="training-state file saved every epoch; an existing one is resumed",
    )
    p.add_argument("--max-minutes", type=float, help="wall-clock training budget")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "eval", help="metrics of a checkpoint vs baselines", epilog=EPILOG_EVAL, formatter_class=fmt
    )
    _add_model_arg(p)
    _add_data_args(p)
    p.add_argument("--split", default="test", help="split of --dataset to evaluate (default test)")
    p.add_argument("--json", help="write all metrics to this JSON file")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "predict",
        help="predict a motion file sample by sample",
        epilog=EPILOG_PREDICT,
        formatter_class=fmt,
    )
    p.add_argument("input", help="motion file (mrsim csv, fsl, spm, afni, hcp, fmriprep)")
    _add_model_arg(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="predicted.csv or an output stem (writes STEM.csv, STEM_intervals.csv, STEM.png)",
    )
    p.add_argument(
        "--warmup",
        choices=["persistence", "none"],
        default="persistence",
        help="first 14 samples (no full window): persistence (default; the file then covers "
        "the whole scan, as mrsim corrupt --applied-poses needs) or left out",
    )
    p.add_argument("--format", help="input format when the name does not tell")
    p.add_argument("--tr", type=float, help="sampling interval (s) for files without times")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "calibrate",
        help="fit the per-parameter std temperature on the checkpoint's validation set",
    )
    _add_model_arg(p)
    p.add_argument("-o", "--output", required=True, help="calibrated checkpoint (.pt)")
    p.add_argument(
        "--method",
        choices=["coverage", "nll"],
        default="nll",
        help="temperature: nll (NLL-optimal, default) or coverage (68.27 %% of validation "
        "truths within 1 std); the |z| quantile table for the intervals is stored either way",
    )
    p.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, "recentre", user_errors=BROAD_USER_ERRORS)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
