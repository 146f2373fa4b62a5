"""``python -m correctors.mcnet train|eval|correct``: the MC-Net command line (seed 001)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from correctors.common import cli as ccli
from mrsim.command import run_command, user_input
from mrsim.errors import MrsimInputError

EXAMPLES_TRAIN = """examples:
  # build the (small) seed-001 dataset, then train the documented CPU config
  mrsim dataset build mcnet_mprage --out data/mcnet --small
  python -m correctors.mcnet train --data data/mcnet --out runs/mcnet
  # a quick run: 200 + 50 steps, at most 10 minutes (resume later with the same options)
  python -m correctors.mcnet train --data data/mcnet --out runs/quick \\
      --stage1-steps 200 --stage2-steps 50 --time-limit-min 10
  # single-stage baselines of seed 001 Fig. 4: "L1" and "L1+TV"
  python -m correctors.mcnet train --data data/mcnet --out runs/l1 --stage2-steps 0
  python -m correctors.mcnet train --data data/mcnet --out runs/l1tv --stage1-beta 1 \\
      --stage2-steps 0
"""

EXAMPLES_EVAL = """examples:
  python -m correctors.mcnet eval --model runs/mcnet --data data/mcnet --split test \\
      --out runs/mcnet/eval
  # corrupted-input baseline only (no model)
  python -m correctors.mcnet eval --data data/mcnet --split test --out runs/baseline
"""

EXAMPLES_CORRECT = """examples:
  # the shipped cpu weights (correctors/weights/mcnet/model.pt, see its model_card.json)
  python -m correctors.mcnet correct -i corrupted.nii.gz -o corrected.nii.gz
  # your own training run
  python -m correctors.mcnet correct --model runs/mcnet -i corrupted.nii.gz -o corrected.nii.gz
  # slices along the third array axis instead of the first (sagittal in RAS)
  python -m correctors.mcnet correct --model runs/mcnet/model.pt -i in.nii -o out.nii --axis 2
"""


def _parser() -> argparse.ArgumentParser:
    p, sub = ccli.corrector_parser(
        "mcnet",
        "MC-Net motion correction (seed 001): a 2D UNet trained in two stages "
        "(L1, then L1 + TV of the residual) on motion-corrupted / clean slice pairs.",
    )
    t = ccli.add_command(
        sub,
        "train",
        _train,
        help="train MC-Net",
        epilog=EXAMPLES_TRAIN,
        description="Train MC-Net on an mcnet_mprage HDF5 dataset (train split; "
        "the val split is monitored). Resumes from OUT/checkpoint_last.pt.",
    )
    ccli.add_data_out(t, out_help="output directory (checkpoints, plots)")
    ccli.add_config(t)
    t.add_argument("--stage1-steps", type=int, default=6000)
    t.add_argument("--stage2-steps", type=int, default=2000)
    t.add_argument("--stage1-lr", type=float, default=1e-3)
    t.add_argument("--stage2-lr", type=float, default=2e-4)
    t.add_argument("--stage1-beta", type=float, default=0.0, help="TV weight in stage 1")
    t.add_argument("--stage2-beta", type=float, default=1.0, help="TV weight in stage 2")
    t.add_argument("--tv-reduction", choices=("mean", "sum"), default="mean")
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--checkpoint-every", type=int, default=200)
    t.add_argument("--val-every", type=int, default=200)
    ccli.add_run_flags(t)

    e = ccli.add_command(
        sub,
        "eval",
        _eval,
        help="SSIM/PSNR table on a split",
        epilog=EXAMPLES_EVAL,
        description="Per-slice SSIM and PSNR (data_range = reference volume "
        "max) of corrupted and corrected test samples; writes rows.csv, "
        "table.md and summary.json.",
    )
    ccli.add_model(e, "model.pt / checkpoint or training directory")
    ccli.add_data_out(e)
    ccli.add_split(e)
    e.add_argument("--batch-size", type=int, default=16)
    ccli.add_device(e)
    ccli.add_threads(e)

    c = ccli.add_command(
        sub,
        "correct",
        _correct,
        help="correct a NIfTI volume slice-wise",
        epilog=EXAMPLES_CORRECT,
        description="Correct every 2D slice of a NIfTI volume along --axis and "
        "save the result with the input's affine to --output. Model files are read "
        "with torch.load(weights_only=True): a file that would run code is refused.",
    )
    ccli.add_model(
        c,
        "model.pt / checkpoint or training directory (default: the shipped cpu weights "
        "in correctors/weights/mcnet/, verified against their model card's sha256)",
    )
    ccli.add_nifti_io(c)
    c.add_argument("--batch-size", type=int, default=16)
    ccli.add_device(c)
    ccli.add_threads(c)
    return p


def _train(a: argparse.Namespace) -> int:
    from correctors.mcnet.data import open_pairs
    from correctors.mcnet.train import StageConfig, TrainConfig, train

    ccli.set_threads(a)
    stages = tuple(
        s
        for s in (
            StageConfig(
                "l1" if a.stage1_beta == 0 else "l1tv",
                1.0,
                a.stage1_beta,
                a.stage1_steps,
                a.stage1_lr,
            ),
            StageConfig("l1tv_ft", 1.0, a.stage2_beta, a.stage2_steps, a.stage2_lr),
        )
        if s.steps > 0
    )
    if not stages:
        raise MrsimInputError("--stage1-steps and --stage2-steps are both 0: nothing to train")
    cfg = TrainConfig(
        model=a.config,
        stages=stages,
        batch_size=a.batch_size,
        seed=a.seed,
        tv_reduction=a.tv_reduction,
        checkpoint_every=a.checkpoint_every,
        val_every=a.val_every,
    )
    with user_input(a.data):
        train_ds = open_pairs(a.data, "train")
        val_ds = open_pairs(a.data, "val", required=False)
    res = train(
        train_ds,
        a.out,
        cfg,
        val_ds=val_ds,
        resume=not a.no_resume,
        device=a.device,
        num_workers=a.workers,
        time_limit_s=ccli.time_limit_s(a),
    )
    state = "finished" if res.finished else "stopped early (run again to resume)"
    print(f"training {state}: {len(res.history)} steps, outputs in {res.out_dir}")
    return 0


def _eval(a: argparse.Namespace) -> int:
    from correctors.mcnet.data import iter_samples
    from correctors.mcnet.evaluate import (
        evaluate_samples,
        summarize,
        table_markdown,
        write_rows_csv,
    )
    from correctors.mcnet.infer import load_model

    ccli.set_threads(a)
    model = None if a.model is None else load_model(a.model, a.device)
    with user_input(a.data):
        samples = iter_samples(a.data, a.split)
    rows = evaluate_samples(model, samples, a.batch_size, progress=True)
    ccli.require_rows(rows, a.data, a.split)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_rows_csv(rows, out / "rows.csv")
    table = summarize(rows) + summarize(rows, pooled=True)
    md = table_markdown(table)
    (out / "table.md").write_text(md + "\n")
    (out / "summary.json").write_text(json.dumps(table, indent=2))
    print(md)
    return 0


def _correct(a: argparse.Namespace) -> int:
    from correctors.mcnet.infer import correct_nifti

    ccli.set_threads(a)
    correct_nifti(a.model, a.input, a.output, axis=a.axis, batch_size=a.batch_size, device=a.device)
    print(f"wrote {a.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; bad input (MrsimInputError) prints one line and exits 2."""
    return run_command(_parser(), argv, "mcnet")


if __name__ == "__main__":
    sys.exit(main())
