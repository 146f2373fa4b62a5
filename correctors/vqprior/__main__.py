"""``python -m correctors.vqprior train|eval|correct``: the VQ prior corrector (seed 003)."""

from __future__ import annotations

import argparse
import sys

from correctors.common import cli as ccli
from mrsim.command import run_command

_MODEL_HELP = "training dir / model.pt (default: shipped)"

EXAMPLES_TRAIN = """examples:
  # build a seed-001 dataset (clean slices train the VQ-VAE and priors, pairs the
  # disentangled encoder), then train the documented CPU config
  mrsim dataset build mcnet_mprage --out data/mcnet --small
  python -m correctors.vqprior train --data data/mcnet --out runs/vqprior
  # in pieces of 20 minutes (run the same command again to resume)
  python -m correctors.vqprior train --data data/mcnet --out runs/vqprior --time-limit-min 20
  # prior-only variant (no corrupted/clean pairs used at all)
  python -m correctors.vqprior train --data data/mcnet --out runs/vq_clean --disentangle-steps 0
"""

EXAMPLES_EVAL = """examples:
  python -m correctors.vqprior eval --model runs/vqprior --data data/mcnet --split test \\
      --out runs/vqprior/eval --mode prior
  python -m correctors.vqprior eval --data data/mcnet --out runs/vq_eval  # shipped weights
"""

EXAMPLES_CORRECT = """examples:
  python -m correctors.vqprior correct -i corrupted.nii.gz -o corrected.nii.gz  # shipped
  python -m correctors.vqprior correct --model runs/vqprior -i in.nii -o out.nii \\
      --mode disentangled --axis 0
"""


def _parser() -> argparse.ArgumentParser:
    from correctors.vqprior.corrector import MODES
    from correctors.vqprior.refine import QUANTILES

    p, sub = ccli.corrector_parser(
        "vqprior",
        "Motion correction with a learned prior of clean images (seed 003): "
        "a two-level VQ-VAE and autoregressive priors trained on motion-free slices; "
        "corrupted slices are encoded, their codes refined under the prior coarse-to-fine, "
        "and decoded. Optional disentangled encoder trained on corrupted slices.",
    )
    t = ccli.add_command(
        sub,
        "train",
        _train,
        help="train the VQ-VAE, the priors and the disentangled encoder",
        epilog=EXAMPLES_TRAIN,
        description="Train on an mcnet_mprage dataset: clean slices of the train-split "
        "subjects (rebuilt from the recipe, all slices within --band-mm of the centre) for "
        "the VQ-VAE and priors; its (corrupted, clean) pairs for the disentangled encoder. "
        "Resumes from OUT/checkpoint_last.pt.",
    )
    ccli.add_data_out(t, data_help="mcnet_mprage dataset directory")
    ccli.add_config(t)
    t.add_argument("--vqvae-steps", type=int, default=800)
    t.add_argument("--prior-top-steps", type=int, default=500)
    t.add_argument("--prior-bottom-steps", type=int, default=500)
    t.add_argument("--disentangle-steps", type=int, default=500, help="0: prior-only model")
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--band-mm", type=float, default=32.0, help="clean slices within +-this")
    t.add_argument("--checkpoint-every", type=int, default=100)
    t.add_argument("--val-every", type=int, default=250)
    ccli.add_run_flags(t, workers=False)

    def add_refine(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--mode",
            choices=MODES,
            default=None,
            help="correction mode (default: the model's, 'prior')",
        )
        q.add_argument(
            "--threshold-quantile",
            type=float,
            default=None,
            choices=QUANTILES,
            help="tau: quantile of the clean per-token log p",
        )
        q.add_argument("--prior-weight", type=float, default=None, help="lambda")
        q.add_argument("--iterations", type=int, default=None, help="refinement passes")
        q.add_argument(
            "--temperature-scale",
            type=float,
            default=None,
            help="factor on the calibrated encoder temperature T (default 1)",
        )
        q.add_argument("--batch-size", type=int, default=16)
        ccli.add_device(q)
        ccli.add_threads(q)

    e = ccli.add_command(
        sub,
        "eval",
        _eval,
        help="SSIM/PSNR table on a split",
        epilog=EXAMPLES_EVAL,
        description="Per-slice SSIM and PSNR (data_range = reference volume max) of corrupted "
        "and corrected samples; writes rows.csv, table.md and summary.json.",
    )
    ccli.add_model(e, _MODEL_HELP)
    ccli.add_data_out(e, data_help="dataset directory")
    ccli.add_split(e)
    add_refine(e)
    c = ccli.add_command(
        sub,
        "correct",
        _correct,
        help="correct a NIfTI volume slice-wise",
        epilog=EXAMPLES_CORRECT,
        description="Correct every 2D slice of a NIfTI volume along --axis (slices are "
        "zero-padded or centre-cropped to the model's slice shape and back) and save the "
        "result with the input's affine.",
    )
    ccli.add_model(c, _MODEL_HELP)
    ccli.add_nifti_io(c)
    add_refine(c)
    return p


def _train(a: argparse.Namespace) -> int:
    from correctors.vqprior.cli import train_command

    return train_command(a)


def _eval(a: argparse.Namespace) -> int:
    from correctors.vqprior.cli import eval_command

    return eval_command(a)


def _correct(a: argparse.Namespace) -> int:
    from correctors.vqprior.cli import correct_command

    return correct_command(a)


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; user errors (bad files, fields, shapes) print one line, exit 2."""
    return run_command(_parser(), argv, "vqprior")


if __name__ == "__main__":
    sys.exit(main())
