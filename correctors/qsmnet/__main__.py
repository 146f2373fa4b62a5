"""``python -m correctors.qsmnet train|eval|correct``: QSM motion correction (seed 002)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from correctors.common import cli as ccli
from mrsim.command import run_command, user_input

_MODEL_HELP = "model.pt or training dir (default: shipped)"

EXAMPLES_TRAIN = """examples:
  # build the CPU-size seed-002 dataset (corrupted + motion-free chi per sample), then train
  mrsim dataset build datasets/qsm_motion_cpu.toml --out data/qsm_cpu
  python -m correctors.qsmnet train --data data/qsm_cpu --out runs/qsmnet --threads 1
  # in pieces of at most 30 minutes (re-run the same command to resume)
  python -m correctors.qsmnet train --data data/qsm_cpu --out runs/qsmnet --time-limit-min 30
"""

EXAMPLES_EVAL = """examples:
  python -m correctors.qsmnet eval --model runs/qsmnet --data data/qsm_cpu --split test \\
      --out runs/qsmnet/eval
  # shipped weights on exact-mixing (Eq. 4) test data
  python -m correctors.qsmnet eval --data data/qsm_cpu_exact --split test --out runs/eval_exact
"""

EXAMPLES_CORRECT = """examples:
  python -m correctors.qsmnet correct -i chi_ppm.nii.gz -o chi_corrected.nii.gz
  python -m correctors.qsmnet correct --model runs/qsmnet -i chi.nii.gz -o out.nii.gz --no-prenet
"""


def _parser() -> argparse.ArgumentParser:
    p, sub = ccli.corrector_parser(
        "qsmnet",
        "QSM motion correction (seed 002): a 3D UNet on chi patches followed by a "
        "2D PReNet denoiser, trained on corrupted / motion-free chi pairs (qsm_motion, recon).",
    )
    t = ccli.add_command(
        sub,
        "train",
        _train,
        help="train UNet, then PReNet",
        epilog=EXAMPLES_TRAIN,
        description="Train on the train split of a qsm_motion dataset built with recon = true "
        "(validation on the val split; each stage keeps its best-validation weights). "
        "Resumes from OUT/checkpoint_last.pt.",
    )
    ccli.add_data_out(t)
    ccli.add_config(t)
    t.add_argument("--unet-steps", type=int, default=2000)
    t.add_argument("--prenet-steps", type=int, default=800)
    t.add_argument("--unet-batch", type=int, default=None, help="default per config")
    t.add_argument("--prenet-batch", type=int, default=None, help="default per config")
    t.add_argument("--lr", type=float, default=None, help="Adam lr (default per config)")
    t.add_argument("--patch", type=int, nargs=3, default=None, help="3D patch (default per config)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--checkpoint-every", type=int, default=100)
    t.add_argument(
        "--identity-fraction",
        type=float,
        default=0.25,
        help="share of motion-free -> motion-free training pairs (0: seed 002's corrupted "
        "pairs only)",
    )
    t.add_argument(
        "--val-every", type=int, default=0, help="validation period in steps (0: once per epoch)"
    )
    ccli.add_run_flags(t)

    e = ccli.add_command(
        sub,
        "eval",
        _eval,
        help="metrics table and box plot on a split",
        epilog=EXAMPLES_EVAL,
        description="SSIM / PSNR / RMSE against the motion-free recon and NRMSE / HFEN / XSIM "
        "against the true chi, for the corrupted input, UNet and UNet + PReNet; also on the "
        "motion-free input. Writes rows.csv, summary.json, table.md and boxplot.png.",
    )
    ccli.add_model(e, _MODEL_HELP)
    ccli.add_data_out(e)
    ccli.add_split(e)
    e.add_argument("--baseline", action="store_true", help="no model: corrupted input only")
    ccli.add_device(e)
    ccli.add_threads(e)

    c = ccli.add_command(
        sub,
        "correct",
        _correct,
        help="correct a chi NIfTI",
        epilog=EXAMPLES_CORRECT,
        description="Correct a 3D chi map (ppm) and save it with the input's affine.",
    )
    ccli.add_model(c, _MODEL_HELP)
    ccli.add_nifti_io(c, input_help="chi NIfTI (ppm, 3D, real)", axis=False)
    c.add_argument("--no-prenet", action="store_true", help="UNet only")
    c.add_argument(
        "--any-voxel-size",
        action="store_true",
        help="skip the check against the training voxel size",
    )
    ccli.add_device(c)
    ccli.add_threads(c)
    return p


def _train(a: argparse.Namespace) -> int:
    from correctors.common.readers import H5Rows
    from correctors.qsmnet.train import KEYS, TrainConfig, train

    ccli.set_threads(a)
    with user_input(a.data):  # the dataset's file and arrays, before any work
        H5Rows(a.data, "train", KEYS)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    cmd = "python -m correctors.qsmnet " + " ".join(sys.argv[1:])
    (Path(a.out) / "command.txt").write_text(cmd + "\n")
    cfg = TrainConfig.for_model(
        a.config,
        unet_steps=a.unet_steps,
        prenet_steps=a.prenet_steps,
        unet_batch=a.unet_batch,
        prenet_batch=a.prenet_batch,
        lr=a.lr,
        patch=a.patch,
        seed=a.seed,
        checkpoint_every=a.checkpoint_every,
        identity_fraction=a.identity_fraction,
        val_every=a.val_every,
    )
    done = train(
        a.data,
        a.out,
        cfg,
        resume=not a.no_resume,
        device=a.device,
        num_workers=a.workers,
        time_limit_s=ccli.time_limit_s(a),
    )
    state = "finished" if done else "stopped early (run the same command again to resume)"
    print(f"training {state}; outputs in {a.out}")
    return 0


def _eval(a: argparse.Namespace) -> int:
    from correctors.common.readers import H5Rows
    from correctors.qsmnet.evaluate import (
        KEYS,
        box_plot,
        evaluate,
        summarize,
        table_markdown,
        write_rows,
    )
    from correctors.qsmnet.infer import load_model

    ccli.set_threads(a)
    model = None if a.baseline else load_model(a.model, a.device)
    with user_input(a.data):
        split = H5Rows(a.data, a.split, KEYS)
    rows = evaluate(model, split, a.split)
    ccli.require_rows(rows, a.data, a.split)
    out = Path(a.out)
    write_rows(rows, out)
    box_plot(rows, out / "boxplot.png", title=f"{a.data} ({a.split})")
    md = table_markdown(summarize(rows))
    print(md)
    (out / "command.json").write_text(json.dumps({"argv": sys.argv}, indent=1))
    return 0


def _correct(a: argparse.Namespace) -> int:
    from correctors.qsmnet.infer import correct_nifti

    ccli.set_threads(a)
    correct_nifti(
        a.model,
        a.input,
        a.output,
        use_prenet=not a.no_prenet,
        any_voxel_size=a.any_voxel_size,
        device=a.device,
    )
    print(f"wrote {a.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(_parser(), argv, "qsmnet")


if __name__ == "__main__":
    sys.exit(main())
