"""Training, batch prediction and checkpoints of the recentre GRU.

Training minimises ``NLL - beta * FD_gain`` (:func:`.losses.recentre_loss`) with Adam,
halves the learning rate when the validation loss stalls (3 epochs) and stops early
after ``config.patience`` epochs without improvement, keeping the best weights
(seed 000: "Adam optimizer and early stopping based on validation performance").

With ``state_path`` the whole training state (weights, optimiser, scheduler, RNG, history,
best weights) is written atomically after every epoch and a re-run with the same arguments
resumes from it, so a long background training survives being killed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from correctors.common.checkpoints import load_checkpoint as _load_safe
from correctors.common.checkpoints import save_checkpoint as _save_safe
from correctors.recentre.losses import predictive_variance, recentre_loss
from correctors.recentre.model import RecentreConfig, RecentreGRU, count_parameters
from correctors.recentre.normalisation import Normaliser

__all__ = [
    "train_model",
    "predict_windows",
    "save_checkpoint",
    "load_checkpoint",
    "CHECKPOINT_FORMAT",
    "std_from_logvar",
    "model_from_checkpoint",
    "load_model",
    "SHIPPED_NAME",
]

CHECKPOINT_FORMAT = "mrsim-recentre-v1"
STATE_FORMAT = "mrsim-recentre-train-state-v1"


def std_from_logvar(logvar: torch.Tensor, cfg: RecentreConfig) -> np.ndarray:
    """Predictive std (normalised units, float64): ``sqrt(exp(lv) + var_floor) * T``.

    The one place where the network's log-variance becomes a std, for batch and
    streaming prediction alike; ``T`` is the per-parameter temperature of ``cfg``.
    """
    var = predictive_variance(logvar.double(), cfg.var_floor)
    return torch.sqrt(var).numpy() * np.asarray(cfg.temperature, dtype=np.float64)


def _tensors(norm: Normaliser, X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, ...]:
    Xn, yn, ref, unit = norm.transform(X, y)
    prev = np.asarray(X, dtype=np.float64)[:, -1]
    f = torch.float32
    return tuple(torch.as_tensor(a, dtype=f) for a in (Xn, yn, ref, prev, unit))


def _evaluate_loss(model, tensors, cfg, batch_size=4096) -> tuple[float, dict]:
    model.eval()
    n = tensors[0].shape[0]
    tot, parts = 0.0, {"nll": 0.0, "fd_gain": 0.0}
    with torch.no_grad():
        for i in range(0, n, batch_size):
            xb, yb, rb, pb, ub = (t[i : i + batch_size] for t in tensors)
            mu, lv = model(xb)
            loss, p = recentre_loss(
                mu, lv, yb, rb, pb, ub, cfg.beta, cfg.fd_floor_mm, cfg.var_floor
            )
            w = xb.shape[0] / n
            tot += float(loss) * w
            for k in parts:
                parts[k] += p[k] * w
    return tot, parts


def train_model(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    config: RecentreConfig | None = None,
    *,
    progress: bool = True,
    max_minutes: float | None = None,
    resample: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None,
    state_path: str | Path | None = None,
) -> tuple[RecentreGRU, Normaliser, dict]:
    """Fit the GRU on windows (mm, deg).

    Parameters
    ----------
    X_train, X_val : ndarray, shape (W, n_past, 6)
    y_train, y_val : ndarray, shape (W, 6)
    config : RecentreConfig, optional
    progress : bool
        tqdm bar over epochs.
    max_minutes : float, optional
        Wall-clock budget; training stops after the epoch that exceeds it.
    resample : callable, optional
        ``resample(epoch) -> (X, y)`` gives fresh training windows for epochs >= 1
        (epoch 0 uses ``X_train``, which also fixes the normaliser). With generated
        motion this means no trajectory is seen twice, so the network cannot memorise
        the rare unpredictable jerks of a fixed training set and become overconfident
        elsewhere.
    state_path : str or Path, optional
        Training-state file written (atomically) after every epoch; when it exists at the
        start, training resumes from it (same data, config and ``resample`` expected; the
        config stored there must equal ``config``). ``max_minutes`` counts this run only.

    Returns
    -------
    model : RecentreGRU (best validation weights, eval mode)
    normaliser : Normaliser
    history : dict
        Per-epoch ``train_loss``, ``val_loss``, ``val_nll``, ``val_fd_gain``, ``lr``;
        ``best_epoch``, ``epochs``, ``seconds``, ``n_parameters``, ``stopped``.
    """
    cfg = config or RecentreConfig()
    for nm, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
        if len(X) == 0:
            raise ValueError(f"no {nm} windows (trajectories shorter than n_past + 1?)")
        if np.asarray(X).shape[1:] != (cfg.n_past, 6) or np.asarray(y).shape != (len(X), 6):
            raise ValueError(
                f"{nm} windows: expected X (W, {cfg.n_past}, 6) and y (W, 6), got "
                f"{np.asarray(X).shape}, {np.asarray(y).shape}"
            )
    torch.manual_seed(cfg.seed)
    norm = Normaliser.fit(
        X_train,
        y_train,
        relative=cfg.relative,
        per_window=cfg.per_window,
        window_floor=cfg.window_floor,
    )
    tr = _tensors(norm, X_train, y_train)
    va = _tensors(norm, X_val, y_val)
    model = RecentreGRU(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=3)
    gen = torch.Generator().manual_seed(cfg.seed)
    hist: dict = {k: [] for k in ("train_loss", "val_loss", "val_nll", "val_fd_gain", "lr")}
    best, best_state, best_epoch, bad = math.inf, None, -1, 0
    t0 = time.perf_counter()
    stopped = "max_epochs"
    n = tr[0].shape[0]
    start, prior_s = 0, 0.0
    if state_path is not None and Path(state_path).is_file():
        st = _load_safe(state_path)
        if st.get("format") != STATE_FORMAT or st.get("config") != cfg.to_dict():
            raise ValueError(
                f"{state_path}: training state of another run (format or config differ); "
                "delete it or use another --state path"
            )
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        gen.set_state(st["generator"])
        torch.set_rng_state(st["torch_rng"])
        hist = st["history"]
        best, best_epoch, bad = float(st["best"]), int(st["best_epoch"]), int(st["bad"])
        best_state = st["best_state"]
        start, prior_s = int(st["epoch"]) + 1, float(st["seconds"])
        if st.get("stopped") in ("early_stopping",):
            start, stopped = cfg.max_epochs, st["stopped"]
    bar = tqdm(range(start, cfg.max_epochs), desc="recentre train", disable=not progress)
    epoch = start - 1
    for epoch in bar:
        if resample is not None and epoch > 0:
            tr = _tensors(norm, *resample(epoch))
            n = tr[0].shape[0]
        model.train()
        perm = torch.randperm(n, generator=gen)
        run, seen = 0.0, 0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            xb, yb, rb, pb, ub = (t[idx] for t in tr)
            mu, lv = model(xb)
            loss, _ = recentre_loss(
                mu, lv, yb, rb, pb, ub, cfg.beta, cfg.fd_floor_mm, cfg.var_floor
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            run += float(loss.detach()) * len(idx)
            seen += len(idx)
        vloss, vparts = _evaluate_loss(model, va, cfg)
        sched.step(vloss)
        hist["train_loss"].append(run / seen)
        hist["val_loss"].append(vloss)
        hist["val_nll"].append(vparts["nll"])
        hist["val_fd_gain"].append(vparts["fd_gain"])
        hist["lr"].append(opt.param_groups[0]["lr"])
        bar.set_postfix(train=f"{run / seen:.3f}", val=f"{vloss:.3f}")
        if vloss < best:
            best, best_epoch, bad = vloss, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= cfg.patience:
                stopped = "early_stopping"
        if state_path is not None:
            _save_safe(
                {
                    "format": STATE_FORMAT,
                    "config": cfg.to_dict(),
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "history": hist,
                    "best": best,
                    "best_epoch": best_epoch,
                    "bad": bad,
                    "best_state": best_state,
                    "epoch": epoch,
                    "seconds": prior_s + time.perf_counter() - t0,
                    "stopped": stopped,
                },
                state_path,
            )
        if stopped == "early_stopping":
            break
        if max_minutes is not None and time.perf_counter() - t0 > 60 * max_minutes:
            stopped = "time_budget"
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    hist.update(
        best_epoch=best_epoch,
        epochs=len(hist["val_loss"]),
        seconds=prior_s + time.perf_counter() - t0,
        n_parameters=count_parameters(model),
        stopped=stopped,
        n_train_windows=int(len(X_train)),
        n_val_windows=int(len(X_val)),
    )
    return model, norm, hist


def predict_windows(
    model: RecentreGRU, norm: Normaliser, X: np.ndarray, batch_size: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian predictions ``(mean, std)`` (W, 6) in mm/deg for windows ``X (W, n_past, 6)``."""
    X = np.asarray(X, dtype=np.float64)
    if len(X) == 0:
        return np.zeros((0, 6)), np.zeros((0, 6))
    Xn, _, ref, unit = norm.transform(X)
    mus, sds = [], []
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            mu, lv = model(torch.as_tensor(Xn[i : i + batch_size], dtype=torch.float32))
            mus.append(mu.double().numpy())
            sds.append(std_from_logvar(lv, model.config))
    return norm.inverse(np.concatenate(mus), np.concatenate(sds), ref, unit)


def save_checkpoint(
    path: str | Path,
    model: RecentreGRU,
    norm: Normaliser,
    history: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """Write a checkpoint (config, weights, normaliser, history) loadable with
    ``torch.load(weights_only=True)``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save_safe(
        {
            "format": CHECKPOINT_FORMAT,
            "config": model.config.to_dict(),
            "state_dict": model.state_dict(),
            "normaliser": norm.to_dict(),
            "history": history or {},
            "extra": extra or {},
        },
        path,
    )
    return path


def load_checkpoint(path: str | Path) -> tuple[RecentreGRU, Normaliser, dict]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    model : RecentreGRU (eval mode)
    normaliser : Normaliser
    meta : dict with "history" and "extra"
    """
    path = Path(path)
    return model_from_checkpoint(_load_safe(path), str(path))  # weights_only=True


def model_from_checkpoint(
    ck: dict, source: str = "checkpoint"
) -> tuple[RecentreGRU, Normaliser, dict]:
    """Model, normaliser and meta from a loaded checkpoint dict (see :func:`load_checkpoint`)."""
    if ck.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{source}: not a recentre checkpoint (field 'format' should be {CHECKPOINT_FORMAT!r})"
        )
    model = RecentreGRU(RecentreConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    norm = Normaliser.from_dict(ck["normaliser"])
    return model, norm, {"history": ck.get("history", {}), "extra": ck.get("extra", {})}


#: Folder name of the shipped weights (``correctors/weights/recentre/``).
SHIPPED_NAME = "recentre"


def load_model(path: str | Path | None = None) -> tuple[RecentreGRU, Normaliser, dict]:
    """A checkpoint file, or (``path=None``) the shipped ``cpu`` weights after their sha256
    check against the model card (``correctors.common.checkpoints.load_verified``).

    Returns ``(model, normaliser, meta)``; for the shipped weights ``meta["card"]`` is the card.
    """
    if path is not None:
        return load_checkpoint(path)
    from correctors.common.checkpoints import load_verified, shipped_weights_dir

    folder = shipped_weights_dir(SHIPPED_NAME)
    ck, card = load_verified(folder)
    model, norm, meta = model_from_checkpoint(ck, str(folder / "model.pt"))
    meta["card"] = card
    return model, norm, meta
