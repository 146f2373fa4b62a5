"""Thread-count-independent NUFFT corruption for reproducible dataset builds.

finufft's multi-threaded transforms round differently for different thread
counts (measured: up to ~4e-5 relative in single precision between 1 and 2
threads), which would make a dataset depend on how many workers built it. A
single-threaded type-2 NUFFT, however, gives each k-space point a value that
does not depend on which other points are in the call (tested in
``tests/test_dataset_recipes.py``). So the lines are cut into ``threads``
blocks, each block is transformed single-threaded in its own thread (finufft
releases the GIL), and the disjoint line sets are copied into one grid: the
same bytes for any ``threads``, with near-linear speed-up on the interpolation.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["moved_kspace_threads"]


def moved_kspace_threads(
    image: np.ndarray,
    schedule,
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    voxel_size_mm: Sequence[float],
    *,
    eps: float = 1e-4,
    threads: int = 1,
) -> np.ndarray:
    """:func:`mrsim.kspace.corrupt.moved_kspace` whose result does not depend on ``threads``.

    Parameters
    ----------
    image : ndarray, shape (*n) or (B, *n)
    schedule : mrsim.kspace.Schedule
    rotations : ndarray (L, 3, 3)
    translations_mm : ndarray (L, 3)
    voxel_size_mm : sequence of float
    eps : float
        NUFFT tolerance.
    threads : int
        Line blocks transformed in parallel, one single-threaded NUFFT each.

    Returns
    -------
    ndarray, complex
        Centred k-space on ``schedule.shape`` (unacquired lines zero). The NUFFT
        path is always used (no FFT fast path), so results do not depend on
        which block happens to hold only unrotated lines.
    """
    from mrsim.kspace.corrupt import moved_kspace

    R = np.asarray(rotations)
    t = np.asarray(translations_mm)
    n_lines = schedule.n_lines
    blocks = np.array_split(np.arange(n_lines), max(1, min(int(threads), n_lines)))

    def run(idx: np.ndarray) -> np.ndarray:
        return moved_kspace(
            image,
            schedule.subset(idx),
            R[idx],
            t[idx],
            voxel_size_mm=voxel_size_mm,
            eps=eps,
            nthreads=1,
            fast_path=False,
        )

    if len(blocks) == 1:
        return run(blocks[0])
    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        parts = list(pool.map(run, blocks))
    out = parts[0]
    for idx, part in zip(blocks[1:], parts[1:], strict=True):
        # Copy (not add) each block's own lines: 0.0 + -0.0 would flip signed zeros.
        sub = schedule.subset(idx)
        mask = sub.to_grid(np.ones((sub.n_lines, sub.n_readout), dtype=bool))
        out[..., mask] = part[..., mask]
    return out
