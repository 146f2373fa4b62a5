"""qsmnet training monitor: validation L1 on held-out subjects, best-checkpoint choice, curves.

Validation runs on whole volumes (UNet stage) or whole slices (PReNet stage) of the
``val`` split, so it is deterministic and independent of the training batch order.
Three losses, in the training units (chi / ``CHI_SCALE_PPM``, mean over voxels):

- ``val_l1_motion``: corrupted input -> motion-free target (the correction task);
- ``val_l1_identity``: motion-free input -> motion-free target (damage to clean input);
- ``val_l1``: ``(1 - f) val_l1_motion + f val_l1_identity`` with ``f`` the training
  share of identity pairs, i.e. the training objective on held-out data, which picks
  the kept ("best") weights of each stage.

``val_l1_input`` (the input itself against the target) is the do-nothing reference.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from correctors.common.curves import loss_figure, plot_train_loss, save_figure, write_csv

__all__ = ["ValidationSet", "validate", "write_curves", "plot_loss_curve", "VAL_FIELDS"]

VAL_FIELDS = (
    "stage",
    "step",
    "val_l1",
    "val_l1_motion",
    "val_l1_identity",
    "val_l1_input",
)


class ValidationSet:
    """Held-out (corrupted, motion-free input, target) volumes of one stage, in memory.

    Parameters
    ----------
    corrupted, clean_input, target : list of (X, Y, Z) float32 arrays (ppm)
        The stage's motion input, its identity input and the motion-free target.
    """

    def __init__(self, corrupted: list, clean_input: list, target: list) -> None:
        if not (len(corrupted) == len(clean_input) == len(target)):
            raise ValueError("validation lists differ in length")
        self.corrupted = [np.asarray(v, np.float32) for v in corrupted]
        self.clean_input = [np.asarray(v, np.float32) for v in clean_input]
        self.target = [np.asarray(v, np.float32) for v in target]

    def __len__(self) -> int:
        return len(self.target)


def _l1(apply: Callable[[np.ndarray], np.ndarray], xs: list, ys: list, scale: float) -> float:
    errs = [np.abs(apply(x) - y).mean() for x, y in zip(xs, ys, strict=True)]
    return float(np.mean(errs) / scale)


def validate(
    apply: Callable[[np.ndarray], np.ndarray],
    vs: ValidationSet,
    identity_fraction: float,
    scale_ppm: float,
) -> dict[str, float]:
    """Validation losses of ``apply`` (a volume -> volume map in ppm), see module docstring."""
    motion = _l1(apply, vs.corrupted, vs.target, scale_ppm)
    ident = _l1(apply, vs.clean_input, vs.target, scale_ppm)
    base = _l1(lambda v: v, vs.corrupted, vs.target, scale_ppm)
    f = float(identity_fraction)
    return {
        "val_l1": (1.0 - f) * motion + f * ident,
        "val_l1_motion": motion,
        "val_l1_identity": ident,
        "val_l1_input": base,
    }


def write_curves(out: Path, history: list[dict], val_history: list[dict]) -> None:
    """``history.csv`` (train L1 per step), ``val_history.csv`` and ``loss_curve.png``."""
    write_csv(out / "history.csv", history, ["stage", "step", "l1", "wall_s"])
    write_csv(out / "val_history.csv", val_history, [*VAL_FIELDS, "best"])
    if history or val_history:
        plot_loss_curve(history, val_history, out / "loss_curve.png")


def plot_loss_curve(history: list[dict], val_history: list[dict], path: str | Path) -> None:
    """One panel per stage: train L1 (moving mean), validation L1s, the kept step."""
    stages = [s for s in ("unet", "prenet") if any(h["stage"] == s for h in history + val_history)]
    fig, axes = loss_figure(max(1, len(stages)), (5.2, 3.8))
    for ax, st in zip(axes, stages, strict=False):
        tr = [h for h in history if h["stage"] == st]
        if tr:
            l1 = np.array([h["l1"] for h in tr])
            k = max(1, min(50, len(l1) // 5))
            steps = np.array([h["step"] for h in tr])
            plot_train_loss(
                ax, steps, l1, k, raw_color="0.85", raw_label="train (per step)", mean_label="train"
            )
        va = [v for v in val_history if v["stage"] == st]
        if va:
            vs = [v["step"] for v in va]
            ax.plot(vs, [v["val_l1"] for v in va], "C3o-", ms=3, label="val (objective)")
            ax.plot(vs, [v["val_l1_motion"] for v in va], "C1.--", label="val corrupted")
            ax.plot(vs, [v["val_l1_identity"] for v in va], "C2.--", label="val motion-free")
            ax.axhline(va[0]["val_l1_input"], color="k", ls=":", lw=1, label="val input (none)")
            best = [v for v in va if v.get("best")]
            if best:
                ax.axvline(best[-1]["step"], color="C3", ls=":", lw=1, label="kept")
        ax.set_title(f"{st}: L1 (units of 0.1 ppm)")
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    save_figure(fig, path, dpi=72)
