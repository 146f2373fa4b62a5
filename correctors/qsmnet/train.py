"""qsmnet training (seed 002 Sec. 3.3): the 3D UNet on 3D patches, then the PReNet on its output.

Stage ``unet``: L1 between ``UNet(chi_corrupted)`` and ``chi_clean`` (the motion-free
reconstruction) on 3D patches (:class:`correctors.common.readers.PatchDataset`).
Between the stages the trained UNet corrects every train / val volume once, the
corrupted and the motion-free one; the outputs are streamed volume by volume into
``OUT/unet_outputs.h5`` (built as a resumable partial file, renamed when complete; memory
holds one volume, not the stack). Stage ``prenet``: L1 of the last PReNet stage against
``chi_clean`` on 2D axial slices of those outputs, read slice by slice
(:class:`correctors.common.readers.VolumeSlices`). Both: Adam; chi divided by
``CHI_SCALE_PPM`` so losses are in units of 0.1 ppm.

Identity pairs (not in seed 002): a share ``identity_fraction`` of the training items
are motion-free input -> motion-free target (``UNet(chi_clean)`` -> ``chi_clean`` for
the PReNet), mixed in by :class:`correctors.common.readers.MixedPairs`. Trained on
corrupted inputs only, the corrector learned to smooth and damaged clean maps
(docs/correctors.md); ``identity_fraction = 0`` gives the seed's recipe.

Validation (:mod:`correctors.qsmnet.monitor`): every ``val_every`` steps (0: once per
epoch of the stage's training items), at step 0 and at the last step, on the ``val``
subjects; each stage keeps the weights of its lowest validation objective, and the
PReNet is trained on the kept UNet's outputs.

Seeded and resumable as :mod:`correctors.mcnet.train`: the batch order is a pure function
of (seed, stage, step) (the same sampler), and model + Adam states, the kept weights,
step and histories go to ``OUT/checkpoint_last.pt`` (tensors and plain containers only,
loaded with ``weights_only=True``) every ``checkpoint_every`` steps and when a time
limit stops the call; re-running continues to the weights an uninterrupted run reaches
(tested). Outputs: ``checkpoint_last.pt``, ``unet.pt``, ``model.pt`` (UNet + PReNet, see
:func:`correctors.qsmnet.infer.load_model`), ``history.csv``, ``val_history.csv``,
``loss_curve.png``, ``config.json``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import DataLoader

from correctors.common.checkpoints import (
    load_checkpoint,
    require_same_config,
    save_checkpoint,
)
from correctors.common.optim import optimizer_step
from correctors.common.readers import H5Rows, MixedPairs, PatchDataset, VolumeSlices
from correctors.mcnet.train import _StageBatches, select_device
from correctors.qsmnet.infer import Corrector, prenet_volume, unet_volume
from correctors.qsmnet.model import CHI_SCALE_PPM, build_prenet, build_unet
from correctors.qsmnet.monitor import ValidationSet, validate, write_curves
from mrsim.errors import MrsimInputError

__all__ = ["TrainConfig", "TRAIN_DEFAULTS", "train", "KEYS", "IDENTITY_KEYS"]

#: Dataset arrays: network input, target.
KEYS = ("chi_corrupted", "chi_clean")
#: Identity pairs: motion-free input, motion-free target.
IDENTITY_KEYS = ("chi_clean", "chi_clean")

#: Per-config training defaults (paper = seed 002: patches 128x128x32, batch 28 / 60, lr 5e-5).
TRAIN_DEFAULTS = {
    "tiny": {"patch": (16, 16, 8), "unet_batch": 2, "prenet_batch": 4, "lr": 1e-3},
    "cpu": {"patch": (32, 32, 16), "unet_batch": 4, "prenet_batch": 8, "lr": 1e-3},
    "paper": {"patch": (128, 128, 32), "unet_batch": 28, "prenet_batch": 60, "lr": 5e-5},
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run (stored in the checkpoint; must match on resume).

    ``identity_fraction``: share of identity (motion-free -> motion-free) training items.
    ``val_every``: validation period in steps (0: once per epoch).
    """

    model: str = "cpu"
    unet_steps: int = 2000
    prenet_steps: int = 800
    unet_batch: int = 4
    prenet_batch: int = 8
    lr: float = 1e-3
    patch: tuple[int, int, int] = (32, 32, 16)
    slice_axis: int = 2
    seed: int = 0
    checkpoint_every: int = 100
    identity_fraction: float = 0.25
    val_every: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.identity_fraction < 1.0:
            raise MrsimInputError(
                f"identity_fraction must be in [0, 1), got {self.identity_fraction}"
            )
        if self.val_every < 0:
            raise MrsimInputError(f"val_every must be >= 0, got {self.val_every}")

    @classmethod
    def for_model(cls, model: str, **overrides) -> TrainConfig:
        d = {"model": model, **TRAIN_DEFAULTS[model]}
        d.update({k: v for k, v in overrides.items() if v is not None})
        d["patch"] = tuple(int(p) for p in d["patch"])
        return cls(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["patch"] = list(self.patch)
        return d


def _scaled(x: torch.Tensor, dev: torch.device) -> torch.Tensor:
    return x.to(dev) / CHI_SCALE_PPM


def _collate(items):
    return tuple(torch.stack(t) for t in zip(*items, strict=True))


def _weights_digest(net: torch.nn.Module) -> str:
    """sha256 of a network's parameters and buffers (names and bytes, in state-dict order)."""
    h = hashlib.sha256()
    for name, t in net.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().numpy().tobytes())
    return h.hexdigest()


#: Arrays of ``unet_outputs.h5``, one (X, Y, Z) float32 volume per kept dataset row.
OUTPUT_KEYS = ("unet", "unet_clean", "chi_clean")


def _unet_outputs(unet, data: str | Path, out: Path, slice_axis: int = 2) -> Path:
    """UNet-correct every train / val volume once (corrupted and motion-free input).

    Written volume by volume into ``OUT/unet_outputs.partial.h5`` (chunked so that one
    slice along ``slice_axis`` is one chunk, the PReNet's read) and renamed to
    ``OUT/unet_outputs.h5`` when every volume is in: memory holds one volume at a time,
    not the stack (seed size: ~37 GB), and an interrupted build resumes at the first
    volume not yet marked done in the partial file (when it was made by the same weights
    for the same rows; otherwise it is rebuilt).

    The finished file is reused (e.g. on resume) only when it was made by these very UNet
    weights: a run restarted with ``--no-resume`` or a retrained UNet rebuilds it, so the
    PReNet never trains on another UNet's outputs."""
    path = out / "unet_outputs.h5"
    digest = _weights_digest(unet)
    if path.exists():
        with h5py.File(path, "r") as f:
            if f.attrs.get("unet_sha256") == digest and "unet_clean" in f:
                return path
    rows = H5Rows(data, "all", KEYS)
    idx = rows.index
    keep = [int(r) for r in rows.rows if idx["split"][r] in ("train", "val")]
    split = np.asarray([str(idx["split"][r]) for r in keep], dtype="S5")
    shape = tuple(rows.shapes[KEYS[1]][1:])
    partial = out / "unet_outputs.partial.h5"
    out.mkdir(parents=True, exist_ok=True)
    model = Corrector(unet.eval(), None)
    try:
        with _partial_outputs(partial, digest, keep, split, shape, slice_axis) as f:
            done = f["done"]
            for i, r in enumerate(keep):
                if done[i]:
                    continue
                c = np.asarray(rows.read(KEYS[1], (r,)), np.float32)
                f["unet"][i] = unet_volume(model, rows.read(KEYS[0], (r,)))
                f["unet_clean"][i] = unet_volume(model, c)
                f["chi_clean"][i] = c
                # The volume's chunks reach the file before its done mark: HDF5 is not
                # crash-safe within one flush, and a mark without data would be trusted.
                f.flush()
                done[i] = 1
                f.flush()
    finally:
        unet.train()
    os.replace(partial, path)
    return path


def _partial_outputs(
    path: Path, digest: str, keep: list[int], split: np.ndarray, shape: tuple, slice_axis: int
) -> h5py.File:
    """The partial ``unet_outputs`` file to fill: the existing one if it was started by the
    same weights for the same rows and volume shape, else a new one (all volumes to do)."""
    if path.exists():
        try:
            f = h5py.File(path, "r+")
        except OSError:  # a build killed mid-write can leave an unreadable file: start over
            path.unlink()
        else:
            try:
                same = (
                    f.attrs.get("unet_sha256") == digest
                    and "done" in f
                    and "row" in f
                    and all(k in f and f[k].shape == (len(keep), *shape) for k in OUTPUT_KEYS)
                    and np.array_equal(f["row"][()], np.asarray(keep))
                    and "split" in f
                    and np.array_equal(f["split"][()], split)
                    and f["done"].shape == (len(keep),)
                )
            except (OSError, KeyError):  # damaged metadata: start over
                same = False
            if same:
                return f
            try:
                f.close()
            except OSError:  # a damaged file may not close cleanly; it is deleted anyway
                pass
            path.unlink()
    f = h5py.File(path, "w")
    chunk = tuple(1 if a == slice_axis else n for a, n in enumerate(shape))
    for k in OUTPUT_KEYS:
        f.create_dataset(k, shape=(len(keep), *shape), dtype=np.float32, chunks=(1, *chunk))
    f["row"] = np.asarray(keep)
    f["split"] = split
    f.create_dataset("done", data=np.zeros(len(keep), np.uint8))
    f.attrs["unet_sha256"] = digest
    return f


def _unet_val_set(data: str | Path) -> ValidationSet:
    rows = H5Rows(data, "val", KEYS)
    if rows.rows.size == 0:
        raise MrsimInputError(
            f"{rows.path}: the val split is empty; validation needs held-out subjects"
        )
    cor = [np.asarray(rows.read(KEYS[0], (int(r),)), np.float32) for r in rows.rows]
    cln = [np.asarray(rows.read(KEYS[1], (int(r),)), np.float32) for r in rows.rows]
    return ValidationSet(cor, cln, cln)


def _prenet_val_set(h5: Path) -> ValidationSet:
    with h5py.File(h5, "r") as f:
        sel = np.flatnonzero(f["split"][()].astype(str) == "val")
        return ValidationSet(
            [f["unet"][i] for i in sel],
            [f["unet_clean"][i] for i in sel],
            [f["chi_clean"][i] for i in sel],
        )


def _stage_data(name: str, cfg: TrainConfig, data, out: Path, unet):
    """The stage's training pairs (with identity pairs) and its validation set."""
    if name == "unet":
        kw = {"patch_size": cfg.patch, "stride": tuple(max(1, p // 2) for p in cfg.patch)}
        main = PatchDataset(data, "train", KEYS, **kw)
        extra = PatchDataset(data, "train", IDENTITY_KEYS, **kw)
        vs = _unet_val_set(data)
    else:
        h5 = _unet_outputs(unet, data, out, cfg.slice_axis)
        with h5py.File(h5, "r") as f:
            train_vols = np.flatnonzero(f["split"][()].astype(str) == "train")
        main = VolumeSlices(h5, ("unet", "chi_clean"), axis=cfg.slice_axis, volumes=train_vols)
        extra = VolumeSlices(
            h5, ("unet_clean", "chi_clean"), axis=cfg.slice_axis, volumes=train_vols
        )
        vs = _prenet_val_set(h5)
    stage_seed = [cfg.seed, 0 if name == "unet" else 1]
    seed = int(np.random.SeedSequence(stage_seed).generate_state(1)[0])
    return MixedPairs(main, extra, cfg.identity_fraction, seed=seed), vs


def train(
    data: str | Path,
    out_dir: str | Path,
    config: TrainConfig,
    *,
    resume: bool = True,
    device: str | None = None,
    num_workers: int = 0,
    time_limit_s: float | None = None,
    stop_after_steps: int | None = None,
    progress: bool = True,
) -> bool:
    """Train UNet then PReNet on a ``qsm_motion`` dataset built with ``recon = true``.

    Returns True when both stages are finished (``model.pt`` written), False when the
    call stopped early (time limit / ``stop_after_steps``) with a checkpoint to resume.
    """
    from tqdm.auto import tqdm

    cfg = config
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = select_device(device)
    torch.manual_seed(cfg.seed)
    unet = build_unet(cfg.model).to(dev)
    prenet = build_prenet(cfg.model).to(dev)
    stage0, step0, opt_state, history, val_history = 0, 0, None, [], []
    best: dict | None = None  # {"step", "val_l1", "state"} of the running stage
    selected: dict = {}  # stage -> {"step", "val_l1"} of the kept weights
    ckpt_path = out / "checkpoint_last.pt"
    if resume and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path, map_location=dev)
        require_same_config(ckpt_path, ck.get("train_config"), cfg.to_dict())
        unet.load_state_dict(ck["unet"])
        prenet.load_state_dict(ck["prenet"])
        stage0, step0, opt_state, history = ck["stage"], ck["step"], ck["optimizer"], ck["history"]
        val_history, best, selected = ck["val_history"], ck["best"], ck["selected"]
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    def checkpoint(stage: int, step: int, opt) -> None:
        save_checkpoint(
            {
                "train_config": cfg.to_dict(),
                "unet_config": unet.config.to_dict(),
                "prenet_config": prenet.config.to_dict(),
                "unet": unet.state_dict(),
                "prenet": prenet.state_dict(),
                "optimizer": None if opt is None else opt.state_dict(),
                "stage": stage,
                "step": step,
                "history": history,
                "val_history": val_history,
                "best": best,
                "selected": selected,
            },
            ckpt_path,
        )

    stages = [
        ("unet", cfg.unet_steps, cfg.unet_batch),
        ("prenet", cfg.prenet_steps, cfg.prenet_batch),
    ]
    t0 = time.monotonic()
    wall0 = history[-1]["wall_s"] if history else 0.0
    done_this_call = 0
    for si in range(stage0, len(stages)):
        name, n_steps, batch = stages[si]
        net = unet if name == "unet" else prenet
        ds, vs = _stage_data(name, cfg, data, out, unet)

        def run_validation(step: int, name=name, net=net, vs=vs) -> None:
            nonlocal best
            net.eval()
            model = Corrector(unet, prenet, cfg.slice_axis)
            apply = (
                (lambda v: unet_volume(model, v))
                if name == "unet"
                else (lambda v: prenet_volume(model, v))
            )
            rec = {
                "stage": name,
                "step": step,
                **validate(apply, vs, cfg.identity_fraction, CHI_SCALE_PPM),
                "best": 0,
            }
            net.train()
            val_history.append(rec)
            if best is None or rec["val_l1"] < best["val_l1"]:
                best = {
                    "step": step,
                    "val_l1": rec["val_l1"],
                    "state": copy.deepcopy(net.state_dict()),
                }

        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        start = step0 if si == stage0 else 0
        if si == stage0 and opt_state is not None:
            opt.load_state_dict(opt_state)
        sampler = _StageBatches(len(ds), batch, cfg.seed, si, start, n_steps)
        val_every = cfg.val_every or sampler.per_epoch
        if start == 0:
            best = None
            run_validation(0)
        loader = DataLoader(ds, batch_sampler=sampler, collate_fn=_collate, num_workers=num_workers)
        bar = tqdm(total=n_steps, initial=start, disable=not progress, desc=f"qsmnet {name}")
        step = start
        stopped = False
        for x, y in loader:
            x, y = _scaled(x, dev), _scaled(y, dev)
            loss = (net(x) - y).abs().mean()
            value = optimizer_step(opt, loss, f"{name} step {step}")
            step += 1
            done_this_call += 1
            history.append(
                {"stage": name, "step": step, "l1": value, "wall_s": wall0 + time.monotonic() - t0}
            )
            if step % val_every == 0 or step == n_steps:
                run_validation(step)
            bar.update(1)
            bar.set_postfix(l1=f"{value:.4g}")
            stopped = (stop_after_steps is not None and done_this_call >= stop_after_steps) or (
                time_limit_s is not None and time.monotonic() - t0 >= time_limit_s
            )
            if step < n_steps and (stopped or step % cfg.checkpoint_every == 0):
                checkpoint(si, step, opt)
            if stopped and step < n_steps:
                break
        bar.close()
        if step < n_steps:
            write_curves(out, history, val_history)
            return False
        # keep the weights of the lowest validation objective (the last step is a candidate)
        net.load_state_dict(best["state"])
        selected[name] = {"step": best["step"], "val_l1": best["val_l1"]}
        for rec in val_history:
            if rec["stage"] == name:
                rec["best"] = int(rec["step"] == best["step"])
        best = None
        if name == "unet":
            save_checkpoint(
                {"unet_config": unet.config.to_dict(), "unet": unet.state_dict()}, out / "unet.pt"
            )
        checkpoint(si + 1, 0, None)
        if stopped and si + 1 < len(stages):
            write_curves(out, history, val_history)
            return False
    save_checkpoint(
        {
            "unet_config": unet.config.to_dict(),
            "prenet_config": prenet.config.to_dict(),
            "unet": unet.state_dict(),
            "prenet": prenet.state_dict(),
            "train_config": cfg.to_dict(),
            "slice_axis": cfg.slice_axis,
            "voxel_size_mm": _voxel_size(data),
            "selected": selected,
        },
        out / "model.pt",
    )
    write_curves(out, history, val_history)
    return True


def _voxel_size(data: str | Path) -> list[float] | None:
    """The dataset's voxel size (mm) from its plan.json (recorded with the weights)."""
    from mrsim.io.hdf5 import read_json, resolve_dataset_file

    plan = resolve_dataset_file(data).parent / "plan.json"
    if not plan.exists():
        return None
    vox = read_json(plan).get("recipe", {}).get("params", {}).get("voxel_size_mm")
    return None if vox is None else [float(v) for v in vox]
