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

__all__ = [
    "HCP_TR_S",
    "HCP_LENGTHS",
    "generate_trajectories",
    "read_trajectories",
    "read_dataset_trajectories",
]

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


def read_dataset_trajectories(path: str, split: str = "train") -> list[Trajectory]:
    """The motion sequences of one split of a ``motion_windows`` HDF5 dataset.

    Reads each sequence's stored ``trajectory`` (``t_s`` + 6 parameters); windows are
    then cut with :func:`mrsim.motion.windows.make_windows`, the function the recipe
    used to write its ``inputs`` / ``targets``, so they are the same windows.

    Parameters
    ----------
    path : str
        Dataset directory or its ``dataset.h5`` (``mrsim dataset build motion_windows``).
    split : {"train", "val", "test", "all"}

    Returns
    -------
    list of Trajectory
    """
    from correctors.common.readers import H5Rows  # torch-side reader

    rows = H5Rows(path, split, ("trajectory",))
    off = rows.index.get("trajectory_offsets")
    out = []
    for r in rows.rows:
        sel = (slice(int(off[r]), int(off[r + 1])),) if off is not None else (int(r),)
        a = np.asarray(rows.read("trajectory", sel), dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 7:
            raise ValueError(
                f"{rows.path}: /data/trajectory row {r} has shape {a.shape}; expected (N, 7) "
                "(t_s then 6 parameters)"
            )
        out.append(Trajectory(a[:, 0], a[:, 1:]))
    if not out:
        raise ValueError(f"{rows.path}: no sequences in split {split!r}")
    return out
