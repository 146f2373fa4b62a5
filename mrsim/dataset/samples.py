"""Sample functions: one per recipe kind, each a pure function of its parameters.

A *kind* couples a ``[params]`` schema, a ``plan`` (the list of per-sample
parameter dicts of a recipe) and a ``make`` function ``make(params, threads) ->
Sample``. Everything a sample depends on is in its params dict (stored as JSON
in the sample's attributes), including its seed ``[recipe_seed, 0, index]``,
so ``make(json.loads(attrs["params"]))`` regenerates it bit for bit.

Kinds: ``toy`` (cheap deterministic pairs that exercise the builder, readers
and tests; no physics), ``mcnet_mprage`` (seed 001), ``qsm_motion`` (seed 002)
and ``motion_windows`` (seed 000). The last three are defined in their own
modules and registered here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage

from mrsim.dataset.fields import Field, length, non_negative, positive
from mrsim.dataset.subjects import DOMAIN_SUBJECT, seeded_rng
from mrsim.errors import MrsimInputError
from mrsim.io.hdf5 import Sample

if TYPE_CHECKING:
    from mrsim.dataset.recipe import Recipe

__all__ = ["Kind", "KINDS", "register_kind", "make_sample"]


@dataclass(frozen=True)
class Kind:
    """A recipe kind.

    Attributes
    ----------
    name : str
    schema : dict of str -> Field
        The ``[params]`` table.
    plan : callable
        ``plan(recipe, subjects) -> list[dict]``: per-sample params, each with
        at least ``subject`` (int), ``split`` and ``variant`` (str). The builder
        adds ``index``, ``kind`` and ``seed``.
    make : callable
        ``make(params, threads) -> Sample``; ``threads`` is the CPU thread
        budget of this sample (NUFFT/FFT), which must not change the result.
    uses_subjects : bool
        Whether the recipe's ``[subjects]`` table is used.
    validate : callable, optional
        Cross-field checks ``validate(recipe)`` raising ValueError.
    """

    name: str
    schema: dict[str, Field]
    plan: Callable[[Recipe, list[dict[str, Any]]], list[dict[str, Any]]]
    make: Callable[[dict[str, Any], int], Sample]
    uses_subjects: bool = True
    validate: Callable[[Recipe], None] | None = None


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Add a kind to :data:`KINDS` (one name, one kind)."""
    if kind.name in KINDS and KINDS[kind.name] is not kind:
        raise MrsimInputError(f"recipe kind {kind.name!r} is already registered")
    KINDS[kind.name] = kind
    return kind


def make_sample(params: dict[str, Any], threads: int = 1) -> Sample:
    """Build one sample from its full params dict (as stored in its attributes)."""
    _ensure_kinds()
    kind = params.get("kind")
    if kind not in KINDS:
        raise MrsimInputError(
            f"sample params: unknown kind {kind!r}; expected one of {sorted(KINDS)}"
        )
    return KINDS[kind].make(params, threads)


# --- toy ------------------------------------------------------------------------------------

TOY_SCHEMA = {
    "shape": Field(list, [4, 16, 16], "array shape per sample (slices, H, W)", length(3, positive)),
    "samples_per_subject": Field(int, 3, "samples per subject", positive),
    "variants": Field(list, ["a"], "variant names; every sample exists once per variant"),
    "noise": Field(float, 0.2, "std of the additive 'corruption' noise", non_negative),
    "delay_s": Field(float, 0.0, "sleep per sample (to test interrupted builds)", non_negative),
}


def _toy_plan(recipe: Recipe, subjects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    p = recipe.params
    out = []
    for spec in subjects:
        for j in range(p["samples_per_subject"]):
            for variant in p["variants"]:
                out.append(
                    {
                        "subject": spec["subject"],
                        "split": spec["split"],
                        "variant": str(variant),
                        "subject_seed": [recipe.seed, DOMAIN_SUBJECT, spec["subject"]],
                        "repeat": j,
                        "shape": p["shape"],
                        "noise": p["noise"],
                        "delay_s": p["delay_s"],
                    }
                )
    return out


def _toy_make(params: dict[str, Any], threads: int = 1) -> Sample:
    shape = tuple(params["shape"])
    # "anatomy" depends on the subject only; the "corruption" on the sample seed.
    clean = ndimage.gaussian_filter(seeded_rng(params["subject_seed"]).random(shape), 1.5)
    rng = seeded_rng(params["seed"])
    corrupted = clean + params["noise"] * rng.standard_normal(shape)
    poses = rng.standard_normal((8, 6))
    if params["delay_s"]:
        time.sleep(params["delay_s"])
    return Sample(
        arrays={
            "clean": clean.astype(np.float32),
            "corrupted": corrupted.astype(np.float32),
            "poses": poses.astype(np.float32),
        },
        attrs={"motion_magnitude": float(np.std(poses))},
    )


register_kind(Kind("toy", TOY_SCHEMA, _toy_plan, _toy_make))


# Modules that define and register the physics kinds (their heavy imports are
# inside their functions, so registering them is cheap).
_KIND_MODULES: tuple[str, ...] = ("mcnet_mprage", "qsm_motion", "motion_windows")


def _ensure_kinds() -> None:
    import importlib

    for name in _KIND_MODULES:
        importlib.import_module(f"mrsim.dataset.{name}")


_ensure_kinds()
