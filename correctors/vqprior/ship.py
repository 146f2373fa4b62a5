"""Ship trained VQ prior weights: ``correctors/weights/vqprior/model.pt`` + model card.

::

    python -m correctors.vqprior.ship --run runs/vqprior_cpu --data runs/vqprior_data \\
        --command "python -m correctors.vqprior train ..." --metrics docs/benchmarks/x.json

Only the model state (configs, weights, calibration; no optimizer, history or RNG) is
copied, through :func:`correctors.common.checkpoints.save_checkpoint`; the card written
by :func:`~correctors.common.checkpoints.write_model_card` records the exact command,
recipe, seeds, data sizes, metrics, mrsim version and the weights' sha256.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from correctors.common.checkpoints import (
    load_checkpoint,
    save_checkpoint,
    shipped_weights_dir,
    write_model_card,
)

STATE_KEYS = (
    "model_config",
    "image_shape",
    "vq",
    "prior_top",
    "prior_bottom",
    "disentangled",
    "has_disentangled",
    "calibration",
)


def ship(run: str | Path, card: dict, dest: str | Path | None = None) -> Path:
    """Copy ``run/model.pt``'s model state to ``dest`` (default: the shipped folder)."""
    import mrsim

    ck = load_checkpoint(Path(run) / "model.pt")
    folder = Path(dest) if dest else shipped_weights_dir("vqprior")
    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint({k: ck[k] for k in STATE_KEYS}, folder / "model.pt")
    cfg = json.loads((Path(run) / "config.json").read_text())
    full = {
        "name": "vqprior",
        "mrsim_version": mrsim.__version__,
        "train_config": cfg,
        "seeds": {"training": cfg["seed"]},
        "image_shape": ck["image_shape"],
        "calibration": ck["calibration"],
    } | card
    return write_model_card(folder, full)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, help="finished training directory")
    ap.add_argument("--data", required=True, help="dataset it was trained on")
    ap.add_argument("--command", required=True, help="the exact training command")
    ap.add_argument("--metrics", nargs="*", default=[], help="JSON/CSV files of measured metrics")
    ap.add_argument("--note", default="")
    ap.add_argument("--dest", default=None)
    a = ap.parse_args(argv)
    from correctors.vqprior.data import dataset_plan
    from mrsim.io.hdf5 import read_json

    plan_doc = read_json(Path(a.data) / "plan.json")
    plan = dataset_plan(a.data)
    run = Path(a.run)
    metrics = {}
    for m in a.metrics:
        p = Path(m)
        metrics[p.name] = json.loads(p.read_text()) if p.suffix == ".json" else p.read_text()
    import numpy as np

    card = {
        "command": a.command,
        "recipe": plan_doc["recipe"],
        "data": {
            "dataset": str(a.data),
            "samples": len(plan),
            "subjects_per_split": {
                s: sorted({int(p["subject"]) for p in plan if p["split"] == s})
                for s in ("train", "val", "test")
            },
            "clean_train_slices": int(np.load(run / "clean_train.npz")["slices"].shape[0]),
            "clean_val_slices": int(np.load(run / "clean_val.npz")["slices"].shape[0])
            if (run / "clean_val.npz").exists()
            else 0,
            "pair_train_slices": sum(int(p["n_slices"]) for p in plan if p["split"] == "train"),
        },
        "metrics": metrics,
        "note": a.note,
    }
    print(ship(run, card, a.dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
