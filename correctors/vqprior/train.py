"""Training of the VQ prior corrector in four phases (seed 003; VQ-VAE-2 training recipe).

1. ``vqvae``: the two-level VQ-VAE on clean slices, ``L1(x_hat, x) + beta ||z - sg(e)||^2``
   at both levels (codebooks by EMA, dead codes restarted; perplexity logged).
2. ``prior_top``: the top-code transformer, cross-entropy of the clean slices' top codes.
3. ``prior_bottom``: the bottom-code PixelCNN given the top codes, same loss.
4. ``disentangle`` (the seed's disentangled variant, optional): a copy of the encoder,
   started from the clean one, is trained on *corrupted* slices to land on the clean
   slices' latents, with the codebooks, decoders and priors frozen:
   ``L1(D(Q(E'(y))), x) + w (||z'_t - z_t(x)||^2 + ||z'_b - z_b(x)||^2)``.

Phases 1-3 see motion-free slices only (the prior-only variant needs nothing else).
After phases 1-3 the correction is calibrated on clean slices (validation subjects when
given): the encoder-distance temperature of each level and quantiles of the per-token
prior log-likelihood (:func:`correctors.vqprior.refine.calibrate`).

Seeded and resumable as ``correctors.mcnet.train``: the batch order and augmentation are
pure functions of (seed, phase, step), the states (models, Adam, torch RNG) are saved
every ``checkpoint_every`` steps to ``OUT/checkpoint_last.pt``
(:func:`correctors.common.checkpoints.save_checkpoint`, atomic, loadable with
``weights_only=True``), and a resumed run reaches the same weights as an uninterrupted
one (tested). Outputs: ``model.pt`` (when all phases are done), ``checkpoint_last.pt``,
``history.csv``, ``val_history.csv``, ``config.json``, ``loss_curve.png``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from correctors.common.checkpoints import (
    load_checkpoint,
    require_same_config,
    save_checkpoint,
)
from correctors.common.curves import loss_figure, plot_train_loss, save_figure, write_csv
from correctors.common.optim import optimizer_step
from correctors.common.ssim import ssim_slices
from correctors.mcnet.train import collate_pairs, select_device
from correctors.vqprior.config import TrainConfig, model_config
from correctors.vqprior.corrector import VQPriorCorrector
from correctors.vqprior.model import slice_scale
from correctors.vqprior.refine import calibrate

__all__ = ["train", "TrainResult", "batch_indices", "random_shifts"]


@dataclass
class TrainResult:
    corrector: VQPriorCorrector
    history: list[dict]
    val_history: list[dict]
    out_dir: Path
    finished: bool


def _seed(*key: int) -> int:
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


def batch_indices(n: int, batch_size: int, seed: int, phase: int, step: int) -> list[int]:
    """Indices of batch ``step`` of a phase: epoch-wise permutations seeded by (seed, phase,
    epoch); the last incomplete batch of an epoch is dropped (as correctors.mcnet)."""
    if n == 0:
        raise ValueError("training data is empty")
    bs = min(batch_size, n)
    epoch, b = divmod(step, max(1, n // bs))
    g = torch.Generator().manual_seed(_seed(seed, phase, epoch))
    return torch.randperm(n, generator=g)[b * bs : (b + 1) * bs].tolist()


def random_shifts(n: int, max_px: int, seed: int, phase: int, step: int) -> list[tuple[int, int]]:
    """Integer (dy, dx) in [-max_px, max_px] per batch item, a function of (seed, phase, step)."""
    if max_px <= 0:
        return [(0, 0)] * n
    rng = np.random.default_rng(_seed(seed, phase, step, 1))
    return [tuple(int(v) for v in rng.integers(-max_px, max_px + 1, 2)) for _ in range(n)]


def _shift(x: torch.Tensor, shifts: list[tuple[int, int]]) -> torch.Tensor:
    # slices have a zero background, so a roll is a translation
    return torch.stack([torch.roll(x[i], s, dims=(-2, -1)) for i, s in enumerate(shifts)])


def _as_bank(x, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if t.ndim != 3 or t.shape[0] == 0:
        raise ValueError(
            f"{what}: expected clean slices (N, H, W) with N > 0, got {tuple(t.shape)}"
        )
    return t[:, None]


def _norm(x: torch.Tensor) -> torch.Tensor:
    return x / slice_scale(x)


def train(
    clean_train,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    *,
    clean_val=None,
    pairs_train: Dataset | None = None,
    pairs_val: Dataset | None = None,
    resume: bool = True,
    device: str | None = None,
    time_limit_s: float | None = None,
    stop_after_steps: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train the VQ-VAE, the priors and (with ``pairs_train``) the disentangled encoder.

    Parameters
    ----------
    clean_train : array (N, H, W)
        Motion-free training slices (H, W multiples of 8).
    out_dir : path
        Checkpoints, history and plots (created).
    config : TrainConfig, optional
        Defaults to the documented CPU configuration.
    clean_val : array (M, H, W), optional
        Held-out clean slices: validation and the correction's calibration.
    pairs_train, pairs_val : Dataset, optional
        (corrupted, clean) items for the ``disentangle`` phase (required if it has steps).
    resume : bool
        Continue from ``out_dir/checkpoint_last.pt`` (same config required).
    time_limit_s, stop_after_steps : optional
        End this call early with a checkpoint; ``finished`` is then False.

    Returns
    -------
    TrainResult
    """
    cfg = config or TrainConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = select_device(device)
    bank = _as_bank(clean_train, "clean_train")
    val_bank = None if clean_val is None else _as_bank(clean_val, "clean_val")
    image_shape = tuple(int(n) for n in bank.shape[-2:])
    if any(p.name == "disentangle" and p.steps > 0 for p in cfg.phases) and pairs_train is None:
        raise ValueError("the 'disentangle' phase needs pairs_train (corrupted, clean) pairs")
    torch.manual_seed(cfg.seed)
    vq_cfg, prior_cfg = model_config(cfg.model)
    corr = VQPriorCorrector(vq_cfg, prior_cfg, image_shape).to(dev)
    history: list[dict] = []
    val_history: list[dict] = []
    phase0, step0, opt_state = 0, 0, None
    ckpt_path = out / "checkpoint_last.pt"
    if resume and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path, map_location=dev)
        require_same_config(ckpt_path, ck.get("train_config"), cfg.to_dict())
        corr.load_state(ck)
        phase0, step0, opt_state = ck["phase_index"], ck["step"], ck["optimizer"]
        history, val_history = ck["history"], ck["val_history"]
        torch.set_rng_state(ck["rng_state"])
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    def checkpoint(phase_index: int, step: int, opt) -> None:
        save_checkpoint(
            corr.state()
            | {
                "train_config": cfg.to_dict(),
                "optimizer": None if opt is None else opt.state_dict(),
                "phase_index": phase_index,
                "step": step,
                "history": history,
                "val_history": val_history,
                "rng_state": torch.get_rng_state(),
            },
            ckpt_path,
        )

    total = sum(p.steps for p in cfg.phases)
    done = sum(p.steps for p in cfg.phases[:phase0]) + step0
    bar = tqdm(total=total, initial=done, disable=not progress, desc="vqprior train")
    t0, c0 = time.monotonic(), time.process_time()
    wall0 = history[-1]["wall_s"] if history else 0.0
    cpu0 = history[-1]["cpu_s"] if history else 0.0
    steps_this_call, finished = 0, True

    def over_limit() -> bool:
        return (stop_after_steps is not None and steps_this_call >= stop_after_steps) or (
            time_limit_s is not None and time.monotonic() - t0 >= time_limit_s
        )

    for pi in range(phase0, len(cfg.phases)):
        ph = cfg.phases[pi]
        start = step0 if pi == phase0 else 0
        if ph.name == "disentangle" and start == 0 and opt_state is None:
            corr.init_disentangled()
        corr.set_phase(ph.name)
        params = corr.trainable(ph.name)
        opt = torch.optim.Adam(params, lr=ph.lr)
        if pi == phase0 and opt_state is not None:
            opt.load_state_dict(opt_state)
            opt_state = None
        for step in range(start, ph.steps):
            corr.set_phase(ph.name)
            loss, parts = _phase_loss(corr, ph.name, cfg, bank, pairs_train, pi, step, dev)
            value = optimizer_step(opt, loss, f"phase {ph.name} step {step}")
            steps_this_call += 1
            gstep = sum(p.steps for p in cfg.phases[:pi]) + step + 1
            history.append(
                {"phase": ph.name, "step": step + 1, "global_step": gstep, "loss": value}
                | parts
                | {
                    "wall_s": wall0 + time.monotonic() - t0,
                    "cpu_s": cpu0 + time.process_time() - c0,
                }
            )
            bar.update(1)
            bar.set_postfix(phase=ph.name, loss=f"{value:.4g}")
            if cfg.val_every and (step + 1) % cfg.val_every == 0 and step + 1 < ph.steps:
                val_history.append(
                    _validate(corr, ph.name, cfg, bank, val_bank, pairs_val, gstep, dev)
                )
            stop = over_limit()
            if step + 1 < ph.steps and (stop or (step + 1) % cfg.checkpoint_every == 0):
                checkpoint(pi, step + 1, opt)
            if stop and step + 1 < ph.steps:
                finished = False
                break
        if not finished:
            break
        gend = sum(p.steps for p in cfg.phases[: pi + 1])
        val_history.append(_validate(corr, ph.name, cfg, bank, val_bank, pairs_val, gend, dev))
        if ph.name in ("vqvae", "prior_top", "prior_bottom"):
            corr.calibration.update(
                calibrate(corr, val_bank if val_bank is not None else bank, level=ph.name)
            )
        checkpoint(pi + 1, 0, None)
        if over_limit() and pi + 1 < len(cfg.phases):
            finished = False
            break
    bar.close()
    if finished:
        save_checkpoint(corr.state(), out / "model.pt")
    _write_history(out, history, val_history)
    if history:
        plot_loss_curve(history, out / "loss_curve.png")
    return TrainResult(corr, history, val_history, out, finished)


def _phase_loss(corr, name, cfg, bank, pairs, pi, step, dev) -> tuple[torch.Tensor, dict]:
    if name == "disentangle":
        idx = batch_indices(len(pairs), cfg.batch_size, cfg.seed, pi, step)
        y, x = collate_pairs([pairs[i] for i in idx])
        sh = random_shifts(len(idx), cfg.shift_px, cfg.seed, pi, step)
        y, x = _shift(y, sh).to(dev), _shift(x, sh).to(dev)
        scale = slice_scale(y)
        out = corr.vq.quantize(y / scale, encoder=corr.disentangled)
        with torch.no_grad():
            target = corr.vq.quantize(_norm(x))
        recon = corr.vq.decode_quantized(out["q_t"], out["q_b"])
        l1 = (recon - x / scale).abs().mean()
        latent = F.mse_loss(out["z_t"], target["z_t"]) + F.mse_loss(out["z_b"], target["z_b"])
        agree = 0.5 * (
            (out["codes_top"] == target["codes_top"]).float().mean()
            + (out["codes_bottom"] == target["codes_bottom"]).float().mean()
        )
        loss = l1 + cfg.disentangle_latent_weight * latent
        return loss, {
            "l1": float(l1.detach()),
            "latent_mse": float(latent.detach()),
            "code_agreement": float(agree),
        }
    idx = batch_indices(bank.shape[0], cfg.batch_size, cfg.seed, pi, step)
    x = _norm(_shift(bank[idx], random_shifts(len(idx), cfg.shift_px, cfg.seed, pi, step)).to(dev))
    if name == "vqvae":
        recon, out = corr.vq(x)
        l1 = (recon - x).abs().mean()
        loss = l1 + out["commit_top"] + out["commit_bottom"]
        return loss, {"l1": float(l1.detach())} | corr.vq.usage()
    ct, cb = corr.vq.encode(x)
    nll = corr.nll(ct, cb, level=name)
    return nll, {"nll": float(nll.detach())}


@torch.no_grad()
def _validate(corr, name, cfg, bank, val_bank, pairs_val, gstep, dev) -> dict:
    corr.eval()
    row = {"phase": name, "global_step": gstep}
    if name == "disentangle":
        if pairs_val is None:
            return row
        n = min(len(pairs_val), cfg.val_max_items)
        y, x = collate_pairs([pairs_val[i] for i in range(n)])
        y, x = y.to(dev), x.to(dev)
        corrected = corr.correct(y, mode="disentangled_noprior")
        dr = x.amax(dim=(1, 2, 3)).clamp_min(1e-12)
        row["val_l1"] = float(((corrected - x).abs().mean(dim=(1, 2, 3)) / dr).mean())
        row["val_ssim"] = float(ssim_slices(x[:, 0], corrected[:, 0], dr).mean())
        return row
    ref = (val_bank if val_bank is not None else bank)[: cfg.val_max_items].to(dev)
    x = _norm(ref)
    if name == "vqvae":
        recon, _ = corr.vq(x)
        dr = x.amax(dim=(1, 2, 3)).clamp_min(1e-12)
        row["val_l1"] = float((recon - x).abs().mean())
        row["val_ssim"] = float(ssim_slices(x[:, 0], recon[:, 0], dr).mean())
        row |= {k: v for k, v in corr.vq.usage().items() if not k.startswith("restarts")}
        return row
    ct, cb = corr.vq.encode(x)
    row["val_nll"] = float(corr.nll(ct, cb, level=name))
    return row


def _write_history(out: Path, history: list[dict], val_history: list[dict]) -> None:
    for rows, name in ((history, "history.csv"), (val_history, "val_history.csv")):
        if rows:
            write_csv(out / name, rows)


def plot_loss_curve(history: list[dict], path: str | Path) -> None:
    """Training loss per phase (raw and 50-step mean), one panel per phase, to a PNG."""
    phases = list(dict.fromkeys(h["phase"] for h in history))
    fig, axes = loss_figure(len(phases), (3.5, 3.2))
    for ax, name in zip(axes, phases, strict=True):
        loss = np.array([h["loss"] for h in history if h["phase"] == name])
        plot_train_loss(ax, np.arange(len(loss)), loss, min(50, len(loss)), raw_color="0.75")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_yscale("log")
    axes[0].set_ylabel("training loss")
    save_figure(fig, path, dpi=110)
