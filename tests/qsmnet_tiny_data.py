"""The tiny qsm_motion dataset (recon = true) of the qsmnet tests, built once per module."""

from __future__ import annotations

from pathlib import Path

from mrsim.dataset.build import build_dataset
from mrsim.dataset.recipe import recipe_from_dict

#: 3 subjects (1 / 1 / 1) x 2 profiles, 16 x 16 x 12 voxels of 12 mm, 3 echoes.
TINY_QSM = {
    "name": "qsm_tiny",
    "kind": "qsm_motion",
    "seed": 3,
    "samples_per_shard": 2,
    "subjects": {"source": "synthetic", "n": 3},
    "split": {"train": 1, "val": 1, "test": 1},
    "params": {
        "shape": [16, 16, 12],
        "voxel_size_mm": [12.0, 12.0, 12.0],
        "n_echoes": 3,
        "profiles_per_subject": 2,
        "profile_points": 32,
        "snr": 100.0,
        "recon": True,
    },
}


def build_tiny_qsm(out: Path) -> Path:
    """Build :data:`TINY_QSM` into ``out``; returns ``out``."""
    build_dataset(recipe_from_dict(TINY_QSM), out, progress=False)
    return out
