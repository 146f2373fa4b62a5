"""Two-stage MC-Net training (seed 001): stage 1 L1, stage 2 fine-tune with L1 + TV.

Any ``torch.utils.data.Dataset`` of (corrupted, clean) 2D pairs works: an item
is a ``(corrupted, clean)`` tuple or a dict with those keys, each of shape
(H, W) or (1, H, W), real (magnitude) or complex (its magnitude is taken).

Training is seeded and resumable: the batch order is a pure function of
(seed, stage, step), the model and Adam states are checkpointed every
``checkpoint_every`` steps to ``out_dir/checkpoint_last.pt`` (atomic write), and
``train(..., resume=True)`` continues from there to the same weights an
uninterrupted run would reach (tested). ``time_limit_s`` / ``stop_after_steps``
end a call early with a checkpoint, so a long schedule can be run in pieces.

Outputs in ``out_dir``: ``checkpoint_last.pt``, one ``<stage>.pt`` per finished
stage and ``model.pt`` (the last stage; load with
:func:`correctors.mcnet.infer.load_model`), ``history.csv``, ``config.json``
and ``loss_curve.png``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm.auto import tqdm

from correctors.common.checkpoints import load_checkpoint, require_same_config
from correctors.common.checkpoints import save_checkpoint as _save_checkpoint
from correctors.common.curves import loss_figure, plot_train_loss, save_figure, write_csv
from correctors.common.optim import optimizer_step
from correctors.common.ssim import ssim_slices
from correctors.mcnet.losses import mcnet_loss
from correctors.mcnet.model import MCNet, build_model, normalize_pair

__all__ = [
    "StageConfig",
    "TrainConfig",
    "TrainResult",
    "train",
    "collate_pairs",
    "select_device",
    "plot_loss_curve",
]


@dataclass(frozen=True)
class StageConfig:
    """One training stage: loss weights (Eq. 1), length and Adam learning rate."""

    name: str
    alpha: float
    beta: float
    steps: int
    lr: float

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"stage name must be an identifier, got {self.name!r}")
        if self.steps < 0 or self.lr <= 0:
            raise ValueError(f"stage {self.name!r}: steps must be >= 0 and lr > 0")


def _default_stages() -> tuple[StageConfig, ...]:
    # seed 001: stage 1 (alpha, beta) = (1, 0); stage 2 fine-tunes with (1, 1)
    return (
        StageConfig("l1", alpha=1.0, beta=0.0, steps=6000, lr=1e-3),
        StageConfig("l1tv_ft", alpha=1.0, beta=1.0, steps=2000, lr=2e-4),
    )


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (stored in checkpoints).

    The defaults are the documented CPU configuration (``docs/correctors.md``).
    """

    model: str | dict = "cpu"
    stages: tuple[StageConfig, ...] = field(default_factory=_default_stages)
    batch_size: int = 8
    seed: int = 0
    tv_reduction: str = "mean"
    checkpoint_every: int = 200
    val_every: int = 200
    val_max_items: int = 256

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "stages": [vars(s).copy() for s in self.stages],
            "batch_size": self.batch_size,
            "seed": self.seed,
            "tv_reduction": self.tv_reduction,
            "checkpoint_every": self.checkpoint_every,
            "val_every": self.val_every,
            "val_max_items": self.val_max_items,
        }

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["stages"] = tuple(StageConfig(**s) for s in d["stages"])
        return cls(**d)


@dataclass
class TrainResult:
    model: MCNet
    history: list[dict]
    val_history: list[dict]
    out_dir: Path
    finished: bool


def select_device(device: str | None = None) -> torch.device:
    """``"auto"``/None: CUDA when present, else CPU; otherwise ``torch.device(device)``."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _as_tensor_2d(x, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x
    if t.is_complex():
        t = t.abs()
    if t.ndim == 3 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 2:
        raise ValueError(f"{what}: expected a 2D slice (H, W) or (1, H, W), got {tuple(t.shape)}")
    return t.to(torch.float32)


def _pair(item) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(item, dict):
        try:
            c, r = item["corrupted"], item["clean"]
        except KeyError as exc:
            raise ValueError(
                f"dataset item dict lacks key {exc}; expected keys 'corrupted' and 'clean'"
            ) from None
    elif isinstance(item, (tuple, list)) and len(item) >= 2:
        c, r = item[0], item[1]
    else:
        raise ValueError("dataset item must be (corrupted, clean) or a dict with those keys")
    c, r = _as_tensor_2d(c, "corrupted"), _as_tensor_2d(r, "clean")
    if c.shape != r.shape:
        raise ValueError(f"corrupted {tuple(c.shape)} and clean {tuple(r.shape)} differ in shape")
    return c, r


def collate_pairs(items: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack dataset items into (N, 1, H, W) corrupted and clean tensors."""
    pairs = [_pair(it) for it in items]
    return (
        torch.stack([p[0] for p in pairs])[:, None],
        torch.stack([p[1] for p in pairs])[:, None],
    )


class _StageBatches(Sampler[list[int]]):
    """Index batches of one stage, a pure function of (seed, stage, step).

    Each epoch is a fresh permutation (seeded by seed, stage and epoch); the
    last incomplete batch of an epoch is dropped so every batch has the same
    size (except when the dataset is smaller than one batch).
    """

    def __init__(self, n: int, batch_size: int, seed: int, stage: int, start: int, stop: int):
        if n == 0:
            raise ValueError("training dataset is empty")
        self.n, self.bs = n, min(batch_size, n)
        self.seed, self.stage, self.start, self.stop = seed, stage, start, stop
        self.per_epoch = max(1, n // self.bs)

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        epoch, perm = -1, None
        for step in range(self.start, self.stop):
            e, b = divmod(step, self.per_epoch)
            if e != epoch:
                g = torch.Generator().manual_seed(
                    int(np.random.SeedSequence([self.seed, self.stage, e]).generate_state(1)[0])
                )
                perm, epoch = torch.randperm(self.n, generator=g), e
            yield perm[b * self.bs : (b + 1) * self.bs].tolist()


@torch.no_grad()
def _validate(model: MCNet, ds: Dataset, cfg: TrainConfig, device: torch.device) -> dict:
    model.eval()
    n = min(len(ds), cfg.val_max_items)
    l1s, ssims = [], []
    for i0 in range(0, n, cfg.batch_size):
        c, r = collate_pairs([ds[i] for i in range(i0, min(n, i0 + cfg.batch_size))])
        c, r = normalize_pair(c.to(device), r.to(device))
        out = model(c)
        l1s.append((out - r).abs().mean(dim=(1, 2, 3)).cpu())
        # monitoring only: per-slice data range (the volume convention is in evaluate.py)
        dr = r.amax(dim=(1, 2, 3)).clamp_min(1e-12)
        ssims.append(ssim_slices(r[:, 0], out[:, 0], dr).cpu())
    model.train()
    return {"val_l1": float(torch.cat(l1s).mean()), "val_ssim": float(torch.cat(ssims).mean())}


def train(
    train_ds: Dataset,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    val_ds: Dataset | None = None,
    *,
    resume: bool = True,
    device: str | None = None,
    num_workers: int = 0,
    time_limit_s: float | None = None,
    stop_after_steps: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train MC-Net in the stages of ``config`` (default: seed 001's two stages).

    Parameters
    ----------
    train_ds : Dataset
        Items ``(corrupted, clean)`` (see module docstring).
    out_dir : path
        Checkpoints, history and plots go here (created).
    config : TrainConfig, optional
        Defaults to ``TrainConfig()`` (the documented CPU configuration).
    val_ds : Dataset, optional
        Held-out pairs; L1 and SSIM every ``config.val_every`` steps and at
        the end of each stage.
    resume : bool, default True
        Continue from ``out_dir/checkpoint_last.pt`` when it exists (its
        stored config must equal ``config``). False starts afresh.
    device : str, optional
        "auto" (default: CUDA if present), "cpu", "cuda", ...
    num_workers : int
        DataLoader worker processes.
    time_limit_s, stop_after_steps : optional
        End this call early (with a checkpoint) after this wall time or this
        many optimizer steps; ``TrainResult.finished`` is then False.
    progress : bool
        tqdm progress bar.

    Returns
    -------
    TrainResult
    """
    cfg = config or TrainConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = select_device(device)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(dev)
    history: list[dict] = []
    val_history: list[dict] = []
    stage0, step0, opt_state = 0, 0, None

    ckpt_path = out / "checkpoint_last.pt"
    if resume and ckpt_path.exists():
        # weights_only: a planted checkpoint_last.pt in a shared runs/ folder must not run code
        ck = load_checkpoint(ckpt_path, map_location=dev)
        require_same_config(ckpt_path, ck.get("train_config"), cfg.to_dict())
        model.load_state_dict(ck["model"])
        stage0, step0, opt_state = ck["stage_index"], ck["step"], ck["optimizer"]
        history, val_history = ck["history"], ck["val_history"]
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    def save_checkpoint(stage_index: int, step: int, opt: torch.optim.Optimizer | None) -> None:
        _save_checkpoint(
            {
                "train_config": cfg.to_dict(),
                "model_config": model.config.to_dict(),
                "model": model.state_dict(),
                "optimizer": None if opt is None else opt.state_dict(),
                "stage_index": stage_index,
                "step": step,
                "history": history,
                "val_history": val_history,
            },
            ckpt_path,
        )

    total = sum(s.steps for s in cfg.stages)
    done_before = sum(s.steps for s in cfg.stages[:stage0]) + step0
    bar = tqdm(total=total, initial=done_before, disable=not progress, desc="mcnet train")
    t_start = time.monotonic()
    c_start = time.process_time()
    # cumulative training time over resumed calls, for the s/step figures in the docs
    wall0 = history[-1].get("wall_s", 0.0) if history else 0.0
    cpu0 = history[-1].get("cpu_s", 0.0) if history else 0.0
    steps_this_call = 0
    finished = True
    model.train()
    for si in range(stage0, len(cfg.stages)):
        st = cfg.stages[si]
        start = step0 if si == stage0 else 0
        opt = torch.optim.Adam(model.parameters(), lr=st.lr)
        if si == stage0 and opt_state is not None:
            opt.load_state_dict(opt_state)
        sampler = _StageBatches(len(train_ds), cfg.batch_size, cfg.seed, si, start, st.steps)
        loader = DataLoader(
            train_ds, batch_sampler=sampler, collate_fn=collate_pairs, num_workers=num_workers
        )
        step = start
        for c, r in loader:
            c, r = normalize_pair(c.to(dev), r.to(dev))
            loss, parts = mcnet_loss(model(c), r, st.alpha, st.beta, cfg.tv_reduction)
            loss_value = optimizer_step(opt, loss, f"stage {st.name} step {step}")
            step += 1
            steps_this_call += 1
            history.append(
                {
                    "stage": st.name,
                    "step": step,
                    "global_step": sum(s.steps for s in cfg.stages[:si]) + step,
                    "loss": loss_value,
                    **parts,
                    "wall_s": wall0 + time.monotonic() - t_start,
                    "cpu_s": cpu0 + time.process_time() - c_start,
                }
            )
            bar.update(1)
            bar.set_postfix(stage=st.name, loss=f"{loss_value:.4g}")
            if val_ds is not None and cfg.val_every and step % cfg.val_every == 0:
                val_history.append(
                    {"stage": st.name, "global_step": history[-1]["global_step"]}
                    | _validate(model, val_ds, cfg, dev)
                )
            stop = (stop_after_steps is not None and steps_this_call >= stop_after_steps) or (
                time_limit_s is not None and time.monotonic() - t_start >= time_limit_s
            )
            if step < st.steps and (stop or step % cfg.checkpoint_every == 0):
                save_checkpoint(si, step, opt)
            if stop and step < st.steps:
                finished = False
                break
        if not finished:
            break
        # stage finished: keep its weights, start the next stage at step 0
        _save_checkpoint(
            {"model_config": model.config.to_dict(), "model": model.state_dict()},
            out / f"{st.name}.pt",
        )
        if val_ds is not None and (
            not val_history
            or val_history[-1]["global_step"] != sum(s.steps for s in cfg.stages[: si + 1])
        ):
            val_history.append(
                {"stage": st.name, "global_step": sum(s.steps for s in cfg.stages[: si + 1])}
                | _validate(model, val_ds, cfg, dev)
            )
        save_checkpoint(si + 1, 0, None)
        stop = (stop_after_steps is not None and steps_this_call >= stop_after_steps) or (
            time_limit_s is not None and time.monotonic() - t_start >= time_limit_s
        )
        if stop and si + 1 < len(cfg.stages):
            finished = False
            break
    bar.close()
    if finished:
        _save_checkpoint(
            {"model_config": model.config.to_dict(), "model": model.state_dict()}, out / "model.pt"
        )
    _write_history(out, history, val_history)
    if history:
        plot_loss_curve(history, val_history, out / "loss_curve.png")
    return TrainResult(model, history, val_history, out, finished)


def _write_history(out: Path, history: list[dict], val_history: list[dict]) -> None:
    keys = ["stage", "step", "global_step", "loss", "l1", "tv", "wall_s", "cpu_s"]
    write_csv(out / "history.csv", history, keys)
    if val_history:
        val_keys = ["stage", "global_step", "val_l1", "val_ssim"]
        write_csv(out / "val_history.csv", val_history, val_keys)


def plot_loss_curve(history: list[dict], val_history: list[dict], path: str | Path) -> None:
    """Training loss (raw and 50-step moving average) and validation L1 vs step, to a PNG."""
    g = np.array([h["global_step"] for h in history])
    l1 = np.array([h["l1"] for h in history])
    loss = np.array([h["loss"] for h in history])
    fig, (ax,) = loss_figure(1, (7, 4))
    k = min(50, len(l1))
    plot_train_loss(
        ax,
        g,
        loss,
        k,
        smoothed=l1,
        raw_label="train loss (per step)",
        mean_label=f"train L1 ({k}-step mean)",
    )
    if val_history:
        ax.plot(
            [v["global_step"] for v in val_history],
            [v["val_l1"] for v in val_history],
            "o-",
            color="C3",
            label="validation L1",
        )
    stages = [h["stage"] for h in history]
    for i in range(1, len(stages)):
        if stages[i] != stages[i - 1]:
            ax.axvline(g[i], color="k", ls=":", lw=1)
            ax.text(g[i], ax.get_ylim()[1], f" {stages[i]}", va="top", fontsize=8)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (units of corrupted slice max)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title("MC-Net training")
    save_figure(fig, path, dpi=120)
