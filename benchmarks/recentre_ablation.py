"""Small ablation of the recentre normalisation / regularisation choices.

Trains the default-size GRU for a fixed 10 epochs on 30 generated HCP-like
trajectories (validation 12, test 12, independent seeds) for each variant and
reports the held-out metrics next to persistence and AR(6). Single runs: the
differences between variants are of the order of the run-to-run spread.

Usage::

    .venv/bin/python benchmarks/recentre_ablation.py [--epochs 10] [--threads 1]

Writes ``docs/recentre_ablation.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from correctors.recentre.baselines import ARIncrements, Persistence
from correctors.recentre.data import generate_trajectories
from correctors.recentre.metrics import prediction_metrics
from correctors.recentre.model import RecentreConfig
from correctors.recentre.training import predict_windows, train_model
from mrsim.motion.windows import make_windows_many

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "relative, global scale, dropout 0": dict(per_window=False, dropout=0.0),
    "relative, global scale, dropout 0.1": dict(per_window=False, dropout=0.1),
    "per-window, floor 0.1, dropout 0": dict(per_window=True, window_floor=0.1, dropout=0.0),
    "per-window, floor 1, dropout 0": dict(per_window=True, window_floor=1.0, dropout=0.0),
    "per-window, floor 1, dropout 0.1 (default)": dict(
        per_window=True, window_floor=1.0, dropout=0.1
    ),
    "per-window, floor 2, dropout 0": dict(per_window=True, window_floor=2.0, dropout=0.0),
}
KEYS = ("r2", "r2_increment", "nll", "coverage68", "coverage95", "fd_gain", "fd_gain_pooled")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "recentre_ablation.md"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tr = generate_trajectories(30, seed=0)
    va = generate_trajectories(12, seed=1000)
    te = generate_trajectories(12, seed=2000)
    Xtr, ytr, _ = make_windows_many(tr)
    Xva, yva, _ = make_windows_many(va)
    Xte, yte, _ = make_windows_many(te)
    rows = {}
    for b in (Persistence(), ARIncrements(6)):
        b.fit(Xtr, ytr)
        rows[b.name] = (prediction_metrics(yte, *b.predict(Xte), Xte[:, -1]), "")
    for name, kw in VARIANTS.items():
        cfg = RecentreConfig(max_epochs=args.epochs, patience=10**6, **kw)
        model, norm, h = train_model(Xtr, ytr, Xva, yva, cfg, progress=False)
        m = prediction_metrics(yte, *predict_windows(model, norm, Xte), Xte[:, -1])
        rows[name] = (m, f"{h['best_epoch'] + 1}")
        print(name, " ".join(f"{k}={m[k]:.4g}" for k in KEYS), flush=True)
    cmd = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    md = [
        f"Command: `{cmd}`; {len(Xtr)} training, {len(Xva)} validation, {len(Xte)} test "
        f"windows; {args.epochs} epochs, best-validation weights.",
        "",
        "| variant | best epoch | " + " | ".join(KEYS) + " |",
        "|---|---:|" + "---:|" * len(KEYS),
    ]
    for name, (m, be) in rows.items():
        md.append(f"| {name} | {be} | " + " | ".join(f"{m[k]:.4g}" for k in KEYS) + " |")
    Path(args.output).write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
