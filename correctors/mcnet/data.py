"""MC-Net access to ``mcnet_mprage`` HDF5 datasets, through :mod:`correctors.common.readers`.

Training streams single 2D slices (:class:`~correctors.common.readers.SliceDataset`);
evaluation needs whole samples (all slices of one corrupted volume) so that
the SSIM data range is shared by the sample's slices (DESIGN.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from correctors.common.readers import H5Rows, SliceDataset
from mrsim.errors import MrsimInputError

__all__ = ["open_pairs", "iter_samples"]


def open_pairs(
    path: str | os.PathLike, split: str, variant: str | None = None, required: bool = True
) -> SliceDataset | None:
    """(corrupted, clean) 2D slice pairs of one split; None for an empty, optional split."""
    ds = SliceDataset(path, split=split, keys=("corrupted", "clean"), variant=variant)
    if len(ds) == 0:
        if required:
            raise MrsimInputError(f"{ds.rows.path}: split {split!r} has no samples")
        return None
    return ds


def iter_samples(path: str | os.PathLike, split: str, variant: str | None = None) -> Iterator[dict]:
    """Whole samples of a split as dicts for :func:`correctors.mcnet.evaluate.evaluate_samples`.

    Each dict has ``corrupted`` and ``clean`` (S, H, W) arrays, ``data_range``
    and the index metadata ``sample``, ``subject``, ``variant`` and
    ``motion_magnitude``. ``data_range`` is the sample's ``clean_volume_max``
    attribute, the maximum of the whole clean reference volume (DESIGN.md);
    datasets written before that attribute existed fall back to the max of
    the stored clean slices, which can only be smaller or equal.

    The file is opened and checked here (a bad ``path`` / ``split`` raises at the call,
    not at the first sample); the samples are read one at a time as the iterator runs.
    """
    return _samples(H5Rows(path, split, ("corrupted", "clean"), variant))


def _samples(rows: H5Rows) -> Iterator[dict]:
    idx = rows.index
    for r in rows.rows:
        r = int(r)
        clean = rows.read("clean", (r,))
        out = {
            "corrupted": rows.read("corrupted", (r,)),
            "clean": clean,
            "data_range": float(
                idx["clean_volume_max"][r] if "clean_volume_max" in idx else np.max(clean)
            ),
        }
        for key in ("sample", "subject", "variant", "motion_magnitude"):
            if key in idx:
                v = idx[key][r]
                out[key] = v.item() if isinstance(v, np.generic) else v
        yield out
