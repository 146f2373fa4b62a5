"""Motion data for the recentre predictor: generated HCP-like trajectories or files.

Seed 000 trains on HCP realignment parameters (TR 0.72 s; resting state 1200 frames,
working memory 316, language 405). Without those data, :func:`generate_trajectories`
draws trajectories from :func:`mrsim.motion.generators.realistic` with the same TR and
lengths; :func:`read_trajectories` reads real motion files through
:func:`mrsim.motion.formats.read_trajectory`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mrsim.motion.formats import read_trajectory
from mrsim.motion.generators import realistic
from mrsim.motion.trajectory import Trajectory

__all__ = ["HCP_TR_S", "HCP_LENGTHS", "generate_trajectories", "read_trajectories"]

#: HCP fMRI repetition time (s), seed 000.
HCP_TR_S = 0.72
#: HCP run lengths (frames): resting state, working memory, language (seed 000).
HCP_LENGTHS = (1200, 316, 405)


def generate_trajectories(
    n: int,
    *,
    lengths: Sequence[int] = HCP_LENGTHS,
    tr_s: float = HCP_TR_S,
    magnitude_mm: tuple[float, float] = (0.3, 3.0),
    seed: int = 0,
) -> list[Trajectory]:
    """``n`` realistic trajectories, HCP-like.

    Lengths cycle through ``lengths``; each trajectory's magnitude (largest RMS
    displacement of an 80 mm ball, see ``realistic``) is log-uniform in
    ``magnitude_mm``. Deterministic for ``seed``; trajectory ``i`` uses the generator
    seed ``(seed, i)``, so sets drawn with different ``seed`` never share a trajectory.

    Returns
    -------
    list of Trajectory
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    lo, hi = magnitude_mm
    if not 0 < lo <= hi:
        raise ValueError(f"magnitude_mm must be (lo, hi) with 0 < lo <= hi, got {magnitude_mm}")
    rng = np.random.default_rng([seed, 0x5EC])
    mags = np.exp(rng.uniform(np.log(lo), np.log(hi), size=n))
    return [
        realistic(
            int(lengths[i % len(lengths)]),
            tr_s=tr_s,
            magnitude_mm=float(mags[i]),
            seed=np.random.default_rng([seed, i]),
        )
        for i in range(n)
    ]


def read_trajectories(
    paths: Sequence[str], *, format: str | None = None, tr_s: float | None = HCP_TR_S
) -> list[Trajectory]:
    """Read motion files (any format ``read_trajectory`` supports)."""
    return [read_trajectory(p, format=format, tr_s=tr_s) for p in paths]
