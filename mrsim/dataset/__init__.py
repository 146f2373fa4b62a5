"""Reproducible, resumable, parallel HDF5 datasets of motion-corrupted/clean pairs.

Recipes (TOML, shipped in the top-level ``datasets/`` folder) describe a dataset;
:func:`build_dataset` builds it into a directory of atomically written shards plus
a merged ``dataset.h5`` (see :mod:`mrsim.io.hdf5`). The command line is
``mrsim dataset build|info|regenerate``; the torch readers are in
``correctors.common.readers``.
"""

from mrsim.dataset.build import (
    BuildResult,
    build_dataset,
    plan_samples,
    regenerate_sample,
    verify_dataset,
)
from mrsim.dataset.recipe import Recipe, load_recipe, recipe_from_dict
from mrsim.dataset.samples import KINDS, make_sample

__all__ = [
    "BuildResult",
    "KINDS",
    "Recipe",
    "build_dataset",
    "load_recipe",
    "make_sample",
    "plan_samples",
    "recipe_from_dict",
    "regenerate_sample",
    "verify_dataset",
]
