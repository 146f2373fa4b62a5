"""Motion data for the recentre predictor: generated HCP-like trajectories or files.

Seed 000 trains on HCP realignment parameters (TR 0.72 s; resting state 1200 frames,
working memory 316, language 405). Without those data, :func:`generate_trajectories`
draws trajectories from :func:`mrsim.motion.generators.realistic` with the same TR and
lengths, and by default run-level motion drawn from the published UK Biobank / ABCD
populations (:mod:`mrsim.motion.populations`); :func:`read_trajectories` reads real
motion files through :func:`mrsim.motion.formats.read_trajectory`.
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
    "DEFAULT_MAGNITUDES",
    "LEGACY_MAGNITUDES",
    "generate_trajectories",
    "parse_magnitudes",
    "read_trajectories",
    "read_dataset_trajectories",
]

#: HCP fMRI repetition time (s), seed 000.
HCP_TR_S = 0.72
#: HCP run lengths (frames): resting state, working memory, language (seed 000).
HCP_LENGTHS = (1200, 316, 405)


#: Default training magnitudes: each run's mean Power FD drawn from the equal mixture of the
#: log-normals fitted to the published UK Biobank and ABCD run-level numbers
#: (``mrsim.motion.POPULATIONS``; docs/motion.md section 7).
DEFAULT_MAGNITUDES = "ukb+abcd"
#: The magnitudes before the retune (shipped predictor up to then): log-uniform 0.3-3 mm.
#: Checkpoints whose ``train_data`` names no ``magnitudes`` were trained on these.
LEGACY_MAGNITUDES = "0.3:3"
#: Stream of the ``LO:HI`` magnitudes (``mrsim.motion.populations.stream_seed``). It was
#: ``[seed, 0x5EC]`` up to session 5, i.e. run 1516's shape stream; the values changed.
RANGE_MAGNITUDES_TAG = 0x5EC


def parse_magnitudes(spec: str) -> str | tuple[float, float]:
    """A population spec (``"ukb"``, ``"abcd"``, ``"ukb+abcd"``) or ``"LO:HI"`` (log-uniform mm).

    Returns the spec itself for a population, ``(lo, hi)`` for a range; a clear
    ``ValueError`` for anything else.
    """
    from mrsim.motion.populations import mixture_component

    spec = str(spec).strip()
    if ":" in spec:
        try:
            lo, hi = (float(v) for v in spec.split(":"))
        except ValueError:
            raise ValueError(
                f"magnitudes {spec!r}: expected LO:HI in mm (e.g. 0.3:3) or a population"
            ) from None
        if not 0 < lo <= hi:
            raise ValueError(f"magnitudes {spec!r}: need 0 < LO <= HI (mm)")
        return lo, hi
    try:
        mixture_component(spec, 0)
    except ValueError as e:
        raise ValueError(f"magnitudes {spec!r}: {e} (or LO:HI, log-uniform mm)") from None
    return spec


def generate_trajectories(
    n: int,
    *,
    lengths: Sequence[int] = HCP_LENGTHS,
    tr_s: float = HCP_TR_S,
    magnitudes: str = DEFAULT_MAGNITUDES,
    seed: int = 0,
) -> list[Trajectory]:
    """``n`` realistic trajectories, HCP-like.

    Trajectory ``i`` uses the generator seed ``[seed, i]``
    (``mrsim.motion.populations.run_seed``), so sets drawn with different ``seed`` never
    share a trajectory; its length is ``lengths[i % len(lengths)]`` for a range and
    ``mrsim.motion.populations.run_length`` (the lengths crossed with the mixture
    components, every pair equally often) for a population.
    ``magnitudes`` (:func:`parse_magnitudes`):

    - a population or mixture (default ``"ukb+abcd"``): run ``i`` is
      ``mrsim.motion.population_trajectories(magnitudes, n, seed, tr_s=tr_s,
      n_frames=lengths)[i]``, its run-level mean Power FD drawn from the published
      population (components alternate; the target scaled by ``tr_s`` over the cohort's TR);
    - ``"LO:HI"``: the largest RMS displacement of an 80 mm ball (``realistic``'s
      ``magnitude_mm``) log-uniform in ``[LO, HI]`` mm (``LEGACY_MAGNITUDES`` = the range
      before the retune), drawn from ``stream_seed(seed, RANGE_MAGNITUDES_TAG)``.

    Deterministic for ``seed``.

    Returns
    -------
    list of Trajectory
    """
    from mrsim.motion.populations import population_trajectories, run_seed, stream_seed

    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    spec = parse_magnitudes(magnitudes)
    if isinstance(spec, str):
        return population_trajectories(spec, n, seed, tr_s=tr_s, n_frames=[int(v) for v in lengths])
    lo, hi = spec
    rng = np.random.default_rng(stream_seed(seed, RANGE_MAGNITUDES_TAG))
    mags = np.exp(rng.uniform(np.log(lo), np.log(hi), size=n))
    return [
        realistic(
            int(lengths[i % len(lengths)]),
            tr_s=tr_s,
            magnitude_mm=float(mags[i]),
            seed=run_seed(seed, i),
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
