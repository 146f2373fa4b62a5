"""Calibration and accuracy of a (calibrated) recentre checkpoint; optionally ship it.

Takes a checkpoint written by ``python -m correctors.recentre calibrate`` (NLL temperature
in its config, |z|-quantile table in ``extra.calibration``) and reports, on held-out
generated motion (24 trajectories, generator seed 2000, disjoint from training/validation)
and on the offline real traces (nilearn's SPM ``spm_confounds.txt`` and fMRIPrep
``test_desc-confounds_regressors.tsv``):

* R^2 per parameter (absolute poses and increments), MAE, NLL, FD_gain for the GRU and
  the baselines (persistence, linear extrapolation, constant-velocity Kalman, AR(6)),
  the baselines refitted on the checkpoint's training trajectories;
* coverage of the +-1 sigma and +-2 sigma intervals of the GRU before calibration, with
  the NLL temperature, and with the recalibrated interval shape (targets 68.27 +- 5 % and
  95.45 +- 3 %), and of the baselines;
* a calibration plot (observed vs nominal central-interval coverage).

With ``--ship`` the checkpoint is copied to ``correctors/weights/recentre/model.pt`` with a
model card (command, data, seeds, metrics, sha256).

    python benchmarks/recentre_calibration.py --model runs/recentre_cpu2/cal.pt --ship \\
        --train-command "$(cat runs/recentre_cpu2/cmd.txt)"
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

from correctors.recentre.baselines import default_baselines  # noqa: E402
from correctors.recentre.calibration import (  # noqa: E402
    NOMINAL_1SIGMA,
    NOMINAL_2SIGMA,
    calibrated_halfwidth,
    calibration_curve,
    interval_coverage,
)
from correctors.recentre.cli import _load_data, source_magnitudes  # noqa: E402
from correctors.recentre.data import (  # noqa: E402
    DEFAULT_MAGNITUDES,
    HCP_TR_S,
    LEGACY_MAGNITUDES,
    generate_trajectories,
)
from correctors.recentre.metrics import prediction_metrics  # noqa: E402
from correctors.recentre.training import load_model, predict_windows  # noqa: E402
from mrsim.motion.formats import read_trajectory  # noqa: E402
from mrsim.motion.populations import POPULATIONS, population_trajectories  # noqa: E402
from mrsim.motion.trajectory import PARAM_NAMES  # noqa: E402
from mrsim.motion.windows import make_windows_many  # noqa: E402


def real_files() -> dict:
    import nilearn

    base = Path(nilearn.__file__).parent
    return {
        "spm_confounds.txt": (base / "datasets" / "data" / "spm_confounds.txt", "spm"),
        "fmriprep test_desc-confounds_regressors.tsv": (
            base / "interfaces" / "fmriprep" / "data" / "test_desc-confounds_regressors.tsv",
            None,
        ),
    }


def bootstrap_ci(inside: np.ndarray, n_boot: int = 2000, seed: int = 0) -> list[float]:
    """95 % percentile interval of the coverage, resampling whole windows (rows).

    Windows overlap (each shares all but one frame with the next), so the resamples are not
    independent and the interval is, if anything, too narrow.
    """
    per_window = inside.mean(axis=1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per_window), size=(n_boot, len(per_window)))
    boot = per_window[idx].mean(axis=1)
    return [float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))]


def coverage_block(y, mean, std, table, temperature) -> dict:
    """Coverage at 1 and 2 sigma: raw std, NLL-temperature std, recalibrated shape."""
    raw = std / temperature
    out = {}
    for name, s in (("raw", raw), ("temperature", std)):
        out[name] = {
            "cov_1sigma": float(interval_coverage(y, mean, s, 1.0).mean()),
            "cov_2sigma": float(interval_coverage(y, mean, s, 2.0).mean()),
        }
    if table is not None:
        h1 = calibrated_halfwidth(std, table, NOMINAL_1SIGMA)
        h2 = calibrated_halfwidth(std, table, NOMINAL_2SIGMA)
        in1, in2 = np.abs(y - mean) <= h1, np.abs(y - mean) <= h2
        out["recalibrated"] = {
            "cov_1sigma": float(in1.mean()),
            "cov_2sigma": float(in2.mean()),
            "cov_1sigma_ci95": bootstrap_ci(in1),
            "cov_2sigma_ci95": bootstrap_ci(in2),
            "cov_1sigma_per_param": (np.abs(y - mean) <= h1).mean(axis=0).tolist(),
            "cov_2sigma_per_param": (np.abs(y - mean) <= h2).mean(axis=0).tolist(),
        }
    return out


def evaluate(model, norm, trajs, fit, table, temperature):
    X, y, _ = make_windows_many(trajs, n_past=model.config.n_past)
    prev = X[:, -1]
    mean, std = predict_windows(model, norm, X)
    rows = {"gru": prediction_metrics(y, mean, std, prev)}
    rows["gru"]["coverage"] = coverage_block(y, mean, std, table, temperature)
    lv, obs = calibration_curve(y, mean, std / temperature)
    curves = {"gru raw": obs.mean(axis=1).tolist(), "levels": lv.tolist()}
    if table is not None:
        curves["gru recalibrated"] = [
            float((np.abs(y - mean) <= calibrated_halfwidth(std, table, p)).mean())
            if table["levels"][0] <= p <= table["levels"][-1]
            else float("nan")
            for p in lv
        ]
    for b in default_baselines():
        b.fit(*fit)
        m, s = b.predict(X)
        rows[b.name] = prediction_metrics(y, m, s, prev)
        rows[b.name]["coverage"] = {
            "raw": {
                "cov_1sigma": float(interval_coverage(y, m, s, 1.0).mean()),
                "cov_2sigma": float(interval_coverage(y, m, s, 2.0).mean()),
            }
        }
        if b.name in ("persistence", "kalman_cv"):
            curves[b.name] = calibration_curve(y, m, s)[1].mean(axis=1).tolist()
    return rows, curves, len(y)


def roughness(X: np.ndarray, k: int = 4) -> np.ndarray:
    """RMS of the last ``k`` increments of each window, per parameter: (W, 6)."""
    d = np.diff(X, axis=1)[:, -k:]
    return np.sqrt((d**2).mean(axis=1))


def floor_experiment(model, norm, val, sets: dict) -> dict:
    """A domain-aware std floor fitted on generated validation windows only.

    ``std' = sqrt(std^2 + (c_j r)^2)`` with ``r`` the window's recent roughness
    (:func:`roughness`): where a trace moves more from frame to frame than the generated
    motion the GRU saw, the interval widens. ``c_j`` minimises the Gaussian NLL of
    parameter ``j`` on the validation windows (grid 0-1.5); the |z| quantile table is refitted
    with ``std'`` on the same windows. Nothing is fitted on the sets it is evaluated on.
    """
    from correctors.recentre.calibration import fit_z_quantiles

    def prep(trajs):
        X, y, _ = make_windows_many(trajs, n_past=model.config.n_past)
        m, sd = predict_windows(model, norm, X)
        return y, m, sd, roughness(X)

    yv, mv, sv, rv = prep(val)
    grid = np.linspace(0.0, 1.5, 31)

    def nll(y, m, sd):
        return (np.log(sd) + 0.5 * ((y - m) / sd) ** 2).mean(axis=0)

    c = np.array(
        [grid[np.argmin([nll(yv[:, j], mv[:, j], np.hypot(sv[:, j], g * rv[:, j])) for g in grid])]
         for j in range(6)]
    )  # fmt: skip
    table = fit_z_quantiles(yv, mv, np.hypot(sv, c * rv))
    out = {"c_per_param": c.tolist(), "sets": {}}
    for name, trajs in sets.items():
        y, m, sd, r = prep(trajs)
        s2 = np.hypot(sd, c * r)
        h1 = calibrated_halfwidth(s2, table, NOMINAL_1SIGMA)
        h2 = calibrated_halfwidth(s2, table, NOMINAL_2SIGMA)
        out["sets"][name] = {
            "cov_1sigma": float((np.abs(y - m) <= h1).mean()),
            "cov_2sigma": float((np.abs(y - m) <= h2).mean()),
            "median_abs_z_per_param": np.median(np.abs(y - m) / sd, axis=0).tolist(),
        }
    return out


def table_md(rows) -> list[str]:
    keys = [
        ("r2", "R2"),
        ("r2_increment", "R2 incr"),
        ("mae_mm", "MAE mm"),
        ("mae_deg", "MAE deg"),
        ("nll_median", "NLL med"),
        ("fd_gain", "FD_gain"),
        ("fd_gain_pooled", "FD_gain pooled"),
    ]
    out = [
        "| method | " + " | ".join(h for _, h in keys) + " | cov 1 sigma | cov 2 sigma |",
        "|---|" + "---:|" * (len(keys) + 2),
    ]
    for name, m in rows.items():
        cov = m["coverage"].get("recalibrated", m["coverage"]["raw"])
        tag = " (recalibrated)" if "recalibrated" in m["coverage"] else ""
        out.append(
            f"| {name}{tag} | "
            + " | ".join(f"{m[k]:.4g}" for k, _ in keys)
            + f" | {cov['cov_1sigma']:.3f} | {cov['cov_2sigma']:.3f} |"
        )
    return out


def ci(v: dict, k: int) -> str:
    """' [lo, hi]' (bootstrap over windows) where the block has it."""
    c = v.get(f"cov_{k}sigma_ci95")
    return f" [{c[0]:.3f}, {c[1]:.3f}]" if c else ""


def cov_param_md(blocks: dict) -> list[str]:
    out = ["| set | interval | " + " | ".join(PARAM_NAMES) + " |", "|---|---|" + "---:|" * 6]
    for name, g in blocks.items():
        rc = g["recalibrated"]
        for k in (1, 2):
            vals = rc[f"cov_{k}sigma_per_param"]
            out.append(f"| {name} | {k} sigma | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    return out


def magnitudes_text(spec: str) -> str:
    if ":" in spec:
        lo, hi = spec.split(":")
        return f"log-uniform {lo}-{hi} mm magnitudes (`{spec}`)"
    return f"run-level mean FD drawn from the published populations (`{spec}`)"


def population_md(pops: dict, n: int, seed: int, trained_on: str) -> list[str]:
    out = [
        "",
        f"## Held-out motion with published-population magnitudes ({n} trajectories each, "
        f"seed {seed}, TR {HCP_TR_S} s)",
        "",
        "`mrsim.motion.population_trajectories`: run-level mean FD drawn from the log-normal "
        "fitted to the published UK Biobank / ABCD numbers (docs/motion_realism.md), the same "
        "run duration as the cohort's runs, at the predictor's TR (target times TR / TR_cohort). "
        f"The predictor was trained and calibrated on {magnitudes_text(trained_on)}.",
        "",
        "| population | windows | method | R2 | FD_gain pooled | cov 1 sigma [95 % CI] "
        "| cov 2 sigma [95 % CI] |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for pop, d in pops.items():
        for name, m in d["rows"].items():
            if name not in ("gru", "persistence", "ar6"):
                continue
            cov = m["coverage"].get("recalibrated", m["coverage"]["raw"])
            out.append(
                f"| {pop} | {d['n_windows']} | {name} | {m['r2']:.4f} | "
                f"{m['fd_gain_pooled']:.3f} | {cov['cov_1sigma']:.3f}{ci(cov, 1)} | "
                f"{cov['cov_2sigma']:.3f}{ci(cov, 2)} |"
            )
    return out


COMPARE_SETS = (
    ("generated", "held-out generated (test magnitudes)"),
    ("generated_legacy", f"held-out generated, {LEGACY_MAGNITUDES} (before the retune)"),
    ("populations.ukb", "UK Biobank magnitudes"),
    ("populations.abcd", "ABCD magnitudes"),
    ("real", "real traces"),
)


def _rows_of(res: dict, key: str) -> dict | None:
    d = res
    for part in key.split("."):
        d = d.get(part) if isinstance(d, dict) else None
        if d is None:
            return None
    return d.get("rows")


def compare_md(res: dict, other: dict, other_name: str) -> list[str]:
    """GRU of this checkpoint next to another one evaluated by this script on the same sets."""
    out = [
        "",
        f"## This checkpoint vs {other_name}",
        "",
        f"Both evaluated by this script on the same windows; `{other_name}`: "
        f"`{other.get('command', '?')}` (checkpoint sha256 "
        f"{other.get('model_sha256', '?')[:16]}...).",
        "",
        "| set | model | R2 | FD_gain | FD_gain pooled | cov 1 sigma | cov 2 sigma |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in COMPARE_SETS:
        for name, r in (("this", res), (other_name, other)):
            rows = _rows_of(r, key)
            if rows is None:
                continue
            g = rows["gru"]
            cov = g["coverage"].get("recalibrated", g["coverage"]["raw"])
            out.append(
                f"| {label} | {name} | {g['r2']:.4f} | {g['fd_gain']:.3f} | "
                f"{g['fd_gain_pooled']:.3f} | {cov['cov_1sigma']:.3f}{ci(cov, 1)} | "
                f"{cov['cov_2sigma']:.3f}{ci(cov, 2)} |"
            )
    return out


def r2_md(rows) -> list[str]:
    out = ["| method | " + " | ".join(PARAM_NAMES) + " |", "|---|" + "---:|" * 6]
    for name, m in rows.items():
        out.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in m["r2_per_param"]) + " |")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", required=True, help="calibrated checkpoint")
    ap.add_argument("--n-test", type=int, default=24)
    ap.add_argument("--test-seed", type=int, default=2000)
    ap.add_argument(
        "--test-magnitudes",
        default=DEFAULT_MAGNITUDES,
        help=f"magnitudes of the held-out generated set (default {DEFAULT_MAGNITUDES}); "
        f"a second set always uses {LEGACY_MAGNITUDES}, the draw before the retune",
    )
    ap.add_argument("--stem", default="recentre_calibration", help="output file stem")
    ap.add_argument(
        "--compare",
        metavar="JSON",
        help="a report JSON of another checkpoint from this script: GRU side by side",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--ship", action="store_true", help="copy to correctors/weights/recentre/")
    ap.add_argument("--train-command", default="", help="training command for the model card")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model, norm, meta = load_model(args.model)
    extra = meta["extra"]
    cal = extra.get("calibration")
    if cal is None:
        raise SystemExit(
            f"{args.model}: not calibrated (run python -m correctors.recentre calibrate)"
        )
    table = cal.get("z_quantiles")
    T = np.asarray(model.config.temperature)
    train_all = _load_data(extra["train_data"])
    fit = make_windows_many(
        [train_all[i] for i in extra["train_index"]], n_past=model.config.n_past
    )[:2]
    trained_on = source_magnitudes(extra["train_data"])
    test = generate_trajectories(args.n_test, seed=args.test_seed, magnitudes=args.test_magnitudes)
    res = {"generated": {}, "real": {}, "trained_on": trained_on}
    rows, curves, nw = evaluate(model, norm, test, fit, table, T)
    res["generated"] = {
        "n_windows": nw,
        "rows": rows,
        "curves": curves,
        "magnitudes": args.test_magnitudes,
    }
    legacy = generate_trajectories(args.n_test, seed=args.test_seed, magnitudes=LEGACY_MAGNITUDES)
    lrows, _, lnw = evaluate(model, norm, legacy, fit, table, T)
    res["generated_legacy"] = {"n_windows": lnw, "rows": lrows, "magnitudes": LEGACY_MAGNITUDES}
    real = {
        k: read_trajectory(p, format=f, tr_s=2.0)
        for k, (p, f) in real_files().items()
        if p.is_file()
    }
    rrows, rcurves, rnw = evaluate(model, norm, list(real.values()), fit, table, T)
    res["real"] = {"files": list(real), "n_windows": rnw, "rows": rrows, "curves": rcurves}
    res["floor"] = floor_experiment(
        model,
        norm,
        [train_all[i] for i in extra["val_index"]],
        {"held-out generated": test, "real traces": list(real.values())},
    )
    res["populations"] = {}
    for pop, spec in POPULATIONS.items():  # same duration as the population's runs, TR 0.72 s
        n_frames = round(spec["n_frames"] * spec["tr_s"] / HCP_TR_S)
        trajs = population_trajectories(
            pop, args.n_test, seed=args.test_seed + 1, tr_s=HCP_TR_S, n_frames=n_frames
        )
        prow, _, pnw = evaluate(model, norm, trajs, fit, table, T)
        res["populations"][pop] = {"n_windows": pnw, "n_frames": n_frames, "rows": prow}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
    for ax, (title, cv) in zip(
        axes, (("held-out generated", curves), ("real traces", rcurves)), strict=True
    ):
        lv = np.asarray(cv["levels"])
        ax.plot([0, 1], [0, 1], "k:", lw=1, label="ideal")
        for k, v in cv.items():
            if k != "levels":
                ax.plot(lv, v, marker=".", label=k)
        ax.axvline(NOMINAL_1SIGMA, color="gray", lw=0.5)
        ax.axvline(NOMINAL_2SIGMA, color="gray", lw=0.5)
        ax.set_xlabel("nominal central-interval coverage")
        ax.set_ylabel("observed coverage")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(args.out)
    (out / "img").mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "img" / f"{args.stem}.png", dpi=110)
    plt.close(fig)
    cmd = "python benchmarks/recentre_calibration.py " + " ".join(
        a if " " not in a else repr(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    res["command"] = cmd
    from mrsim.io.hdf5 import file_sha256

    res["model_sha256"] = file_sha256(args.model)
    res["train_command"] = args.train_command
    res["calibration"] = {k: v for k, v in cal.items() if k != "z_quantiles"}
    res["machine"] = (
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"torch threads {args.threads}"
    )
    res["wall_s"] = time.perf_counter() - t0
    hist = meta["history"]
    g = rows["gru"]["coverage"]
    lines = [
        "# recentre GRU: calibration and accuracy "
        "(generated by `benchmarks/recentre_calibration.py`)",
        "",
        f"- command: `{cmd}` (checkpoint sha256 {res['model_sha256'][:16]}...)",
        f"- training: `{args.train_command}` ({hist.get('epochs')} epochs, best "
        f"{hist.get('best_epoch', -1) + 1}, {hist.get('stopped')}, {hist.get('seconds', 0):.0f} s)",
        f"- calibration: `python -m correctors.recentre calibrate` on {cal['n_val_windows']} "
        f"validation windows; NLL temperature per parameter "
        + ", ".join(f"{v:.3f}" for v in T)
        + "; |z| quantile table for the intervals",
        f"- machine: {res['machine']}",
        "",
        f"- trained and calibrated on: {magnitudes_text(trained_on)}",
        "",
        f"## Held-out generated motion ({args.n_test} trajectories, seed {args.test_seed}, "
        f"{nw} windows; {magnitudes_text(args.test_magnitudes)})",
        "",
        "GRU coverage of the +-1 sigma / +-2 sigma intervals "
        "(targets 0.683 +- 0.05, 0.954 +- 0.03):",
        "",
        "| GRU std | cov 1 sigma | cov 2 sigma |",
        "|---|---:|---:|",
    ]
    for k, v in g.items():
        lines.append(f"| {k} | {v['cov_1sigma']:.3f}{ci(v, 1)} | {v['cov_2sigma']:.3f}{ci(v, 2)} |")
    lines += [""] + table_md(rows) + ["", "R^2 per parameter (absolute poses):", ""] + r2_md(rows)
    lines += [
        "",
        f"## Held-out generated motion, magnitudes of before the retune ({args.n_test} "
        f"trajectories, seed {args.test_seed}, {lnw} windows; "
        f"{magnitudes_text(LEGACY_MAGNITUDES)})",
        "",
    ]
    lines += table_md(lrows) + ["", "R^2 per parameter (absolute poses):", ""] + r2_md(lrows)
    gr = rrows["gru"]["coverage"]
    lines += [
        "",
        f"## Offline real traces ({', '.join(real)}; {rnw} windows in all)",
        "",
        "| GRU std | cov 1 sigma | cov 2 sigma |",
        "|---|---:|---:|",
    ]
    for k, v in gr.items():
        lines.append(f"| {k} | {v['cov_1sigma']:.3f}{ci(v, 1)} | {v['cov_2sigma']:.3f}{ci(v, 2)} |")
    lines += [""] + table_md(rrows) + ["", "R^2 per parameter (absolute poses):", ""] + r2_md(rrows)
    lines += ["", "Recalibrated GRU coverage per parameter (real traces):", ""]
    lines += cov_param_md({"held-out generated": g, "real traces": gr})
    fl = res["floor"]
    lines += [
        "",
        "Median |error| / std of the GRU per parameter (0.674 for Gaussian errors; the generated "
        "errors are heavy-tailed, which the quantile table corrects; real-trace values above the "
        "generated ones are where the intervals are too narrow):",
        "",
        "| set | " + " | ".join(PARAM_NAMES) + " |",
        "|---|" + "---:|" * 6,
    ]
    for name, v in fl["sets"].items():
        z = v["median_abs_z_per_param"]
        lines.append(f"| {name} | " + " | ".join(f"{x:.2f}" for x in z) + " |")
    lines += [
        "",
        "Domain-aware std floor `sqrt(std^2 + (c_j r)^2)`, `r` the RMS of the window's last 4 "
        "increments, `c_j` fitted by NLL on the generated validation windows only ("
        + ", ".join(f"{x:.2f}" for x in fl["c_per_param"])
        + "), quantile table refitted: coverage "
        + "; ".join(
            f"{k} {v['cov_1sigma']:.3f} / {v['cov_2sigma']:.3f}" for k, v in fl["sets"].items()
        )
        + " at 1 / 2 sigma.",
    ]
    lines += population_md(res["populations"], args.n_test, args.test_seed + 1, trained_on)
    if args.compare:
        other = json.loads(Path(args.compare).read_text())
        lines += compare_md(res, other, Path(args.compare).stem)
    lines += ["", f"![calibration](img/{args.stem}.png)"]
    (out / f"{args.stem}.md").write_text("\n".join(lines) + "\n")
    (out / f"{args.stem}.json").write_text(json.dumps(res, indent=1))
    print("\n".join(lines))
    if args.ship:
        import mrsim
        from correctors.common.checkpoints import shipped_weights_dir, write_model_card
        from correctors.recentre.training import SHIPPED_NAME, save_checkpoint

        folder = shipped_weights_dir(SHIPPED_NAME)
        folder.mkdir(parents=True, exist_ok=True)
        save_checkpoint(folder / "model.pt", model, norm, hist, extra)
        keep = ("r2", "r2_increment", "mae_mm", "mae_deg", "fd_gain", "fd_gain_pooled")

        def short(r: dict) -> dict:
            return {k: r[k] for k in keep} | {"coverage": r["coverage"]}

        card = {
            "name": "recentre",
            "config": "cpu",
            "command": args.train_command,
            "calibration_command": "python -m correctors.recentre calibrate --model MODEL "
            f"-o {args.model}",
            "recipe": "generated realistic trajectories (mrsim.motion.generators.realistic, "
            "defaults), "
            f"HCP-like TR 0.72 s, lengths 1200/316/405, {magnitudes_text(trained_on)}, 60 "
            "trajectories (48 train / 12 val) with fresh training trajectories every epoch",
            "seeds": {
                "generator": extra["train_data"],
                "fresh_per_epoch": "seed + 100000 + epoch",
                "torch": model.config.seed,
                "test": args.test_seed,
                "test_magnitudes": args.test_magnitudes,
            },
            "data": {
                "train_windows_first_epoch": hist.get("n_train_windows"),
                "val_windows": hist.get("n_val_windows"),
                "test_windows": nw,
            },
            "model": model.config.to_dict(),
            "history": {k: hist.get(k) for k in ("epochs", "best_epoch", "stopped", "seconds")},
            "metrics": {
                "held_out_generated": {k: short(v) for k, v in rows.items()},
                "held_out_generated_legacy_magnitudes": {k: short(v) for k, v in lrows.items()},
                "populations": {
                    p: {k: short(v) for k, v in d["rows"].items()}
                    for p, d in res["populations"].items()
                },
                "real_traces": {k: short(v) for k, v in rrows.items()},
            },
            "mrsim_version": mrsim.__version__,
            "evaluation_command": cmd,
        }
        path = write_model_card(folder, card)
        print(f"shipped -> {folder / 'model.pt'}, {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
