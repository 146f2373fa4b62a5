"""Benchmark: qsmnet (3D UNet + PReNet, seed 002) on held-out subjects; Fig. 6 box plots.

Evaluates a trained model on the test split of the approximate-mixing (Eq. 5) CPU dataset
and, if given, of the exact-mixing (Eq. 4) one; writes the tables (Markdown to stdout),
``docs/benchmarks/qsmnet_eval.json`` and the box plots ``docs/img/qsmnet_boxplot*.png``.
``--compare MODEL`` evaluates a second model (e.g. the previously shipped weights) on the
same data in the same run; ``--loss-fig`` redraws the run's training / validation curves
(``history.csv``, ``val_history.csv`` of the ``--model`` folder) into docs.
With ``--ship DIR`` it also copies the model to ``DIR/model.pt`` and writes its model card
(command, recipe, seeds, data sizes, these metrics, mrsim version, sha256).

    .venv/bin/python benchmarks/qsmnet_eval.py --model runs/qsmnet_cpu --data data/qsm_cpu \\
        --exact data/qsm_cpu_exact --compare runs/qsmnet_prev/model.pt \\
        --loss-fig docs/img/qsmnet_loss_curve.png --ship correctors/weights/qsmnet
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from correctors.common.checkpoints import load_checkpoint, save_checkpoint, write_model_card
from correctors.common.readers import H5Rows
from correctors.qsmnet.evaluate import box_plot, evaluate, summarize, table_markdown
from correctors.qsmnet.infer import load_model
from mrsim import __version__
from mrsim.io.hdf5 import read_json, resolve_dataset_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="approx-mixing dataset (test split)")
    ap.add_argument("--exact", default=None, help="exact-mixing dataset (test split)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--out-json", default="docs/benchmarks/qsmnet_eval.json")
    ap.add_argument("--out-fig", default="docs/img/qsmnet_boxplot.png")
    ap.add_argument("--ship", default=None, help="write model.pt + model_card.json here")
    ap.add_argument("--compare", default=None, help="second model, same data (e.g. previous)")
    ap.add_argument("--loss-fig", default=None, help="loss-curve PNG of the --model run")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model = load_model(args.model)
    other = load_model(args.compare) if args.compare else None
    results = {}
    sets = {"approx (Eq. 5)": args.data}
    if args.exact:
        sets["exact (Eq. 4)"] = args.exact
    for name, path in sets.items():
        rows = evaluate(model, path, args.split)
        table = summarize(rows)
        results[name] = {"data": str(path), "rows": rows, "summary": table}
        print(f"\n### {name}: {path} ({args.split}, {len(rows) // 6} volumes)\n")
        print(table_markdown(table))
        fig = (
            args.out_fig
            if name.startswith("approx")
            else args.out_fig.replace(".png", "_exact.png")
        )
        box_plot(rows, fig, title=f"qsmnet cpu, held-out subjects, {name} test data")
        if other is not None:
            prev = summarize(evaluate(other, path, args.split))
            results[f"{name}, compared model"] = {"data": str(path), "summary": prev}
            print(f"\n### {name}: compared model {args.compare}\n")
            print(table_markdown(prev))
    if args.loss_fig:
        _loss_fig(Path(args.model), Path(args.loss_fig))
    results["offsets"] = {"summary": _offsets(args.data, args.split)}
    print("\nmean in mask, |clean - corrupted| (ppm):", results["offsets"]["summary"])
    Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "args": vars(args),
    }
    Path(args.out_json).write_text(
        json.dumps({**meta, **{k: v["summary"] for k, v in results.items()}}, indent=1)
    )
    if args.ship:
        _ship(args, results)


def _offsets(data: str, split: str) -> dict:
    """Does intensity differ? Offset of the masked means vs the mean |difference|, per volume."""
    rows = H5Rows(data, split, ("chi_clean", "chi_corrupted", "chi_mask"))
    off, diff = [], []
    for r in rows.rows:
        m = rows.read("chi_mask", (int(r),)).astype(bool)
        c, x = rows.read("chi_clean", (int(r),))[m], rows.read("chi_corrupted", (int(r),))[m]
        off.append(abs(float(c.mean() - x.mean())))
        diff.append(float(np.abs(c - x).mean()))
    return {
        "mean_offset_max_ppm": max(off),
        "mean_abs_diff_min_ppm": min(diff),
        "mean_abs_diff_max_ppm": max(diff),
    }


def _loss_fig(model: Path, path: Path) -> None:
    import csv

    from correctors.qsmnet.monitor import plot_loss_curve

    run = model if model.is_dir() else model.parent

    def rows(name: str) -> list[dict]:
        with open(run / name) as fh:
            out = list(csv.DictReader(fh))
        for r in out:
            for k, v in r.items():
                if k != "stage":
                    r[k] = float(v) if "." in v or "e" in v else int(v)
        return out

    path.parent.mkdir(parents=True, exist_ok=True)
    plot_loss_curve(rows("history.csv"), rows("val_history.csv"), path)


def _ship(args, results) -> None:
    src = Path(args.model)
    src = src / "model.pt" if src.is_dir() else src
    ck = load_checkpoint(src)
    dst = Path(args.ship)
    dst.mkdir(parents=True, exist_ok=True)
    save_checkpoint(ck, dst / "model.pt")
    run = src.parent
    plan = read_json(resolve_dataset_file(args.data).parent / "plan.json")
    sizes = {
        s: int(H5Rows(args.data, s, ("chi_clean",)).rows.size) for s in ("train", "val", "test")
    }
    hist = (
        (run / "history.csv").read_text().strip().splitlines()
        if (run / "history.csv").exists()
        else []
    )
    card = {
        "name": "qsmnet",
        "description": "seed 002 QSM motion corrector: 3D UNet (VGG-style, 3x3x3) + 2D PReNet "
        "(ConvLSTM, progressive recursion), cpu config",
        "command": (run / "command.txt").read_text().strip()
        if (run / "command.txt").exists()
        else None,
        "train_config": ck.get("train_config"),
        "unet_config": ck.get("unet_config"),
        "prenet_config": ck.get("prenet_config"),
        "voxel_size_mm": ck.get("voxel_size_mm"),
        "recipe": plan.get("recipe"),
        "seeds": {
            "training": ck.get("train_config", {}).get("seed"),
            "recipe": plan.get("recipe", {}).get("seed"),
        },
        "data": {
            "train_volumes": sizes["train"],
            "val_volumes": sizes["val"],
            "test_volumes": sizes["test"],
            "dataset": str(args.data),
        },
        "training_steps_logged": max(len(hist) - 1, 0),
        "selected_by_validation": ck.get("selected"),
        "metrics": {
            k: v["summary"] for k, v in results.items() if "compared" not in k and k != "offsets"
        },
        "mrsim_version": __version__,
        "eval_command": "benchmarks/qsmnet_eval.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None),
    }
    write_model_card(dst, card)
    print(f"shipped {dst / 'model.pt'} ({(dst / 'model.pt').stat().st_size} bytes)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
