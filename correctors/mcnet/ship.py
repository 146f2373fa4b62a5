"""Ship a trained MC-Net as ``correctors/weights/mcnet/`` (weights + model card).

``python -m correctors.mcnet.ship --model RUN --data DATA --eval RUN/eval`` copies the run's
``model.pt`` (model config as a plain dict and the state dict, nothing else: it loads with
``torch.load(weights_only=True)``) and writes ``model_card.json`` with everything needed to
reproduce it: the commands, the resolved recipe and its hash, the seeds, the data sizes, the
training schedule and time, the test metrics, the mrsim version and the sha256 of the weights
(checked by :func:`correctors.mcnet.infer.load_model` before the weights are loaded).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["build_card", "ship"]

#: How the shipped weights were made (docs/correctors.md, "Shipped weights").
DEFAULT_COMMANDS = {
    "data": "python benchmarks/mcnet_sweep.py data --out data/mcnet_cpu --workers 1 --threads 1",
    "train": "python -m correctors.mcnet train --data data/mcnet_cpu --out runs/mcnet_cpu "
    "--threads 1",
    "eval": "python -m correctors.mcnet eval --model runs/mcnet_cpu --data data/mcnet_cpu "
    "--split test --out runs/mcnet_cpu/eval",
    "ship": "python -m correctors.mcnet.ship --model runs/mcnet_cpu --data data/mcnet_cpu "
    "--eval runs/mcnet_cpu/eval",
}


def _data_sizes(data: Path) -> dict[str, Any]:
    import h5py

    from mrsim.io.hdf5 import read_index, resolve_dataset_file

    merged = resolve_dataset_file(data)
    with h5py.File(merged, "r") as f:
        index = read_index(f)
        shape = list(f["data"]["clean"].shape)
        recipe = json.loads(f.attrs["recipe"])
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
    split = np.asarray(index["split"]).astype(str)
    slices = int(shape[1])
    sizes = {}
    for name in ("train", "val", "test"):
        keep = split == name
        sizes[name] = {
            "samples": int(keep.sum()),
            "slices": int(keep.sum()) * slices,
            "subjects": sorted(int(s) for s in np.unique(np.asarray(index["subject"])[keep])),
        }
    return {
        "recipe": recipe,
        "recipe_hash": str(attrs.get("recipe_hash", "")),
        "dataset_mrsim_version": str(attrs.get("mrsim_version", "")),
        "array_shape_per_sample": shape[1:],
        "n_samples": int(split.size),
        "splits": sizes,
    }


def _training(run: Path, weights: str = "model.pt") -> dict[str, Any]:
    """Schedule, steps and time of the run up to the stage that ``weights`` ends."""
    config = json.loads((run / "config.json").read_text())
    if (run / "history.csv").is_file():
        with open(run / "history.csv", newline="") as fh:
            hist = list(csv.DictReader(fh))
        val = []
        if (run / "val_history.csv").is_file():
            with open(run / "val_history.csv", newline="") as fh:
                val = list(csv.DictReader(fh))
    else:  # an unfinished run: its history lives in the checkpoint
        from correctors.common.checkpoints import load_checkpoint

        ck = load_checkpoint(run / "checkpoint_last.pt")
        hist, val = ck["history"], ck["val_history"]
    stages = [st["name"] for st in config["stages"]]
    stem = Path(weights).stem
    if stem in stages:  # a <stage>.pt: only the rows up to the end of that stage
        keep = set(stages[: stages.index(stem) + 1])
        hist = [h for h in hist if h["stage"] in keep]
        val = [v for v in val if v["stage"] in keep]
    last = hist[-1]
    finished = int(last["global_step"]) == sum(int(st["steps"]) for st in config["stages"])
    if stem in stages:
        of_stage = stem
    elif finished:
        of_stage = stages[-1]
    else:  # a checkpoint of an unfinished run
        of_stage = f"unfinished: stage {last['stage']} step {int(last['step'])}"
    return {
        "config": config,
        "weights_of_stage": of_stage,
        "schedule_finished": finished,
        "steps": int(last["global_step"]),
        "wall_s": round(float(last["wall_s"]), 1),
        "process_cpu_s": round(float(last["cpu_s"]), 1),
        "final_val": {k: float(v) for k, v in val[-1].items() if k.startswith("val_")}
        if val
        else None,
    }


def build_card(
    run: Path,
    data: Path,
    eval_dir: Path,
    commands: dict[str, str],
    notes: str = "",
    weights: str = "model.pt",
) -> dict[str, Any]:
    """The model card (without the sha256, which :func:`write_model_card` adds)."""
    import torch

    import mrsim
    from correctors.common.checkpoints import load_checkpoint

    ck = load_checkpoint(run / weights)
    metrics = json.loads((eval_dir / "summary.json").read_text())
    d = _data_sizes(data)
    recipe = d.pop("recipe")
    train = _training(run, weights)
    n_params = int(sum(v.numel() for v in ck["model"].values() if v.dtype.is_floating_point))
    return {
        "name": "mcnet",
        "description": "MC-Net (seed 001): 2D UNet, motion-corrupted MP-RAGE slice -> "
        "motion-free slice, trained L1 then L1+TV fine-tune, documented cpu configuration",
        "model_config": ck["model_config"],
        "n_parameters": n_params,
        "input": "magnitude 2D slices along --axis (default 0: sagittal for RAS volumes); "
        "trained on 128 x 128 slices of 2 mm voxels (256 mm FOV); each slice is scaled by "
        "its own maximum inside the model, so any intensity unit works",
        "command": commands,
        "recipe": recipe,
        "recipe_source": "datasets/mcnet_mprage.toml with benchmarks/mcnet_sweep.py CPU_OVERRIDES",
        "seeds": {
            "recipe": recipe.get("seed"),
            "training": train["config"]["seed"],
            "note": "all dataset randomness derives from the recipe seed; training batches "
            "from (training seed, stage, step)",
        },
        "data": d,
        "training": train,
        "metrics": {
            "split": "test",
            "convention": "SSIM per 2D slice (skimage defaults), PSNR; data_range = max of "
            "the clean reference volume; mean and std over slices",
            "table": metrics,
        },
        "mrsim_version": mrsim.__version__,
        "torch_version": torch.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''} {platform.system()}",
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "notes": notes,
    }


def ship(
    run: str | Path,
    data: str | Path,
    eval_dir: str | Path,
    dest: str | Path | None = None,
    commands: dict[str, str] | None = None,
    notes: str = "",
    weights: str = "model.pt",
) -> Path:
    """Copy ``run/weights`` (default ``model.pt``) to ``dest`` (default
    ``correctors/weights/mcnet``) as ``model.pt``, with its card."""
    from correctors.common.checkpoints import (
        WEIGHTS_NAME,
        load_checkpoint,
        save_checkpoint,
        shipped_weights_dir,
        write_model_card,
    )

    run, data, eval_dir = Path(run), Path(data), Path(eval_dir)
    dest = Path(dest) if dest is not None else shipped_weights_dir("mcnet")
    card = build_card(run, data, eval_dir, commands or DEFAULT_COMMANDS, notes, weights)
    ck = load_checkpoint(run / weights)
    save_checkpoint({"model_config": ck["model_config"], "model": ck["model"]}, dest / WEIGHTS_NAME)
    return write_model_card(dest, card)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m correctors.mcnet.ship", description=__doc__)
    p.add_argument("--model", required=True, help="training output directory (its model.pt)")
    p.add_argument("--data", required=True, help="the dataset it was trained on")
    p.add_argument("--eval", required=True, help="output folder of `mcnet eval --split test`")
    p.add_argument("--dest", default=None, help="default correctors/weights/mcnet")
    p.add_argument("--notes", default="", help="free text stored in the card")
    p.add_argument("--weights", default="model.pt", help="file in --model to ship (<stage>.pt)")
    p.add_argument(
        "--command",
        action="append",
        default=[],
        metavar="STEP=CMD",
        help="override a recorded command, e.g. eval='python -m ...'",
    )
    a = p.parse_args(argv)
    commands = dict(DEFAULT_COMMANDS)
    for item in a.command:
        step, _, cmd = item.partition("=")
        commands[step] = cmd
    card = ship(
        a.model, a.data, a.eval, a.dest, commands=commands, notes=a.notes, weights=a.weights
    )
    print(f"wrote {card} and {card.parent / 'model.pt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
