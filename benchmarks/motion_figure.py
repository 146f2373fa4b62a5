"""Figure of one trajectory of each generator kind -> docs/img/motion_kinds.png.

Usage: .venv/bin/python benchmarks/motion_figure.py [--seed 0] [-o docs/img/motion_kinds.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mrsim.motion import event_profile, motion_std, pace_like, realistic  # noqa: E402
from mrsim.motion.plot import plot_trajectory  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "img" / "motion_kinds.png"))
    args = ap.parse_args()

    kinds = [
        ("pace_like (seed 001): 128 pts < 2 mm/2 deg, x8", pace_like(seed=args.seed)),
        ("event_profile (seed 002): 2-3 steps within +-5", event_profile(seed=args.seed)),
        ("realistic: drift+resp.+nods+jerks, 1 mm RMS", realistic(seed=args.seed)),
    ]
    fig, axes = plt.subplots(3, 3, figsize=(15, 8), sharex="col", constrained_layout=True)
    for j, (title, traj) in enumerate(kinds):
        s = motion_std(traj)
        plot_trajectory(
            traj,
            axes=axes[:, j],
            title=f"{title}\nstd: {s.translation_mm:.2f} mm, {s.rotation_deg:.2f} deg",
        )
    fig.suptitle(f"mrsim.motion generators, seed {args.seed}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
