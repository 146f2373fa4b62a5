"""Implementations of ``python -m correctors.vqprior train|eval|correct``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from correctors.common.cli import require_rows, set_threads, time_limit_s
from mrsim.command import user_input
from mrsim.errors import MrsimInputError
from mrsim.io.atomic import atomic_path

__all__ = ["train_command", "eval_command", "correct_command", "cached_clean_bank"]


def cached_clean_bank(data: str, split: str, band_mm: float, out: Path, threads: int = 1):
    """Clean slice bank of a split, cached in ``out`` (rebuilt if the options differ)."""
    from correctors.vqprior.data import clean_slice_bank

    path = out / f"clean_{split}.npz"
    key = json.dumps({"data": str(Path(data).resolve()), "split": split, "band_mm": band_mm})
    if path.exists():
        z = np.load(path)
        if str(z["key"]) == key:
            return z["slices"]
    slices, info = clean_slice_bank(data, split, band_mm, threads=threads, progress=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, slices=slices, key=np.array(key), info=np.array(json.dumps(info)))
    return slices


def train_command(a: argparse.Namespace) -> int:
    from correctors.mcnet.data import open_pairs
    from correctors.vqprior.config import PhaseConfig, TrainConfig, _default_phases
    from correctors.vqprior.train import train

    set_threads(a)
    steps = {
        "vqvae": a.vqvae_steps,
        "prior_top": a.prior_top_steps,
        "prior_bottom": a.prior_bottom_steps,
        "disentangle": a.disentangle_steps,
    }
    phases = tuple(
        PhaseConfig(p.name, steps[p.name], p.lr) for p in _default_phases() if steps[p.name] > 0
    )
    if not phases:
        raise MrsimInputError("every phase has 0 steps: nothing to train")
    cfg = TrainConfig(
        model=a.config,
        phases=phases,
        batch_size=a.batch_size,
        seed=a.seed,
        checkpoint_every=a.checkpoint_every,
        val_every=a.val_every,
    )
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    clean_train = cached_clean_bank(a.data, "train", a.band_mm, out, a.threads or 1)
    try:
        clean_val = cached_clean_bank(a.data, "val", a.band_mm, out, a.threads or 1)
    except ValueError:
        clean_val = None
    with user_input(a.data):
        pairs = open_pairs(a.data, "train") if a.disentangle_steps > 0 else None
        pairs_val = open_pairs(a.data, "val", required=False) if pairs is not None else None
    res = train(
        clean_train,
        out,
        cfg,
        clean_val=clean_val,
        pairs_train=pairs,
        pairs_val=pairs_val,
        resume=not a.no_resume,
        device=a.device,
        time_limit_s=time_limit_s(a),
    )
    state = "finished" if res.finished else "stopped early (run again to resume)"
    print(f"training {state}: {len(res.history)} steps, outputs in {res.out_dir}")
    return 0


def _load(a: argparse.Namespace):
    from correctors.vqprior.infer import load_model

    set_threads(a)
    model = load_model(a.model, a.device)
    for opt, attr in (
        ("mode", "mode"),
        ("threshold_quantile", "threshold_quantile"),
        ("prior_weight", "prior_weight"),
        ("iterations", "iterations"),
        ("temperature_scale", "temperature_scale"),
        ("refine_order", "refine_order"),
    ):
        v = getattr(a, opt, None)
        if v is not None:
            setattr(model, attr, v)
    return model


def eval_command(a: argparse.Namespace) -> int:
    from correctors.mcnet.data import iter_samples
    from correctors.mcnet.evaluate import (
        evaluate_samples,
        summarize,
        table_markdown,
        write_rows_csv,
    )

    model = _load(a)
    with user_input(a.data):
        samples = iter_samples(a.data, a.split)
    rows = evaluate_samples(model, samples, a.batch_size, progress=True)
    require_rows(rows, a.data, a.split)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_rows_csv(rows, out / "rows.csv")
    table = summarize(rows) + summarize(rows, pooled=True)
    md = table_markdown(table)
    (out / "table.md").write_text(f"mode: {model.mode}\n\n{md}\n")
    (out / "summary.json").write_text(json.dumps({"mode": model.mode, "rows": table}, indent=2))
    print(f"mode {model.mode}\n{md}")
    return 0


def correct_command(a: argparse.Namespace) -> int:
    from correctors.vqprior.infer import correct_nifti

    correct_nifti(_load(a), a.input, a.output, axis=a.axis, batch_size=a.batch_size)
    print(f"wrote {a.output}")
    return 0
