"""Dataset recipes: TOML files that fully describe a dataset build.

A recipe has top-level keys ``name``, ``kind``, ``seed``, ``samples_per_shard``
and ``description``, and tables ``[subjects]``, ``[split]`` and ``[params]``
(the last one specific to the kind). An optional ``[small]`` table holds
overrides, merged key by key when the build is asked for ``--small``::

    kind = "mcnet_mprage"
    seed = 2019
    [subjects]
    source = "synthetic"
    n = 52
    [split]
    train = 35
    val = 5
    test = 12
    [params]
    n_trajectories = 78
    [small.params]
    n_trajectories = 2

Every field is checked on load against a schema; an unknown or ill-typed field
raises ``ValueError`` naming the file, the dotted field name and what was
expected.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrsim.dataset.fields import Field, length, non_negative, one_of, positive
from mrsim.dataset.samples import KINDS  # kinds register their [params] schema there
from mrsim.errors import MrsimInputError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = [
    "Field",  # re-exported from mrsim.dataset.fields
    "length",
    "non_negative",
    "one_of",
    "positive",
    "Recipe",
    "load_recipe",
    "recipe_from_dict",
    "find_recipe",
    "RECIPE_DIR",
    "shipped_recipe_dir",
    "COMMON_SCHEMA",
    "SUBJECTS_SCHEMA",
    "SPLIT_SCHEMA",
]


def shipped_recipe_dir() -> Path:
    """The folder of the shipped recipes: package data ``mrsim/recipes`` in an installed
    wheel (``importlib.resources``), else the source tree's top-level ``datasets/`` (an
    editable install or a checkout), which is the one copy the wheel is built from."""
    from importlib.resources import files

    packaged = files("mrsim").joinpath("recipes")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "datasets"


# The shipped recipes (see shipped_recipe_dir).
RECIPE_DIR = shipped_recipe_dir()

COMMON_SCHEMA: dict[str, Field] = {
    "name": Field(str, doc="dataset name"),
    "kind": Field(str, doc="recipe kind (which sample function builds it)"),
    "seed": Field(int, doc="recipe seed; per-sample seeds derive from it", check=non_negative),
    "samples_per_shard": Field(int, 8, "samples written per shard file", positive),
    "description": Field(str, "", "free text"),
}

SUBJECTS_SCHEMA: dict[str, Field] = {
    "source": Field(
        str, "synthetic", "'synthetic' (MNI152-derived) or 'nifti'", one_of("synthetic", "nifti")
    ),
    "n": Field(int, 0, "number of synthetic subjects (nifti: 0 = all files found)", non_negative),
    "glob": Field(str, "", "nifti only: glob pattern of T1 volumes, relative to the recipe"),
    "deform_mm": Field(
        float, 3.0, "synthetic: peak displacement of the random warp (mm)", non_negative
    ),
    "smooth_mm": Field(float, 15.0, "synthetic: Gaussian smoothness of the warp (mm)", positive),
    "scale_jitter": Field(
        float, 0.05, "synthetic: std of the random global scale (fraction)", non_negative
    ),
    "contrast_jitter": Field(
        float, 0.15, "synthetic: std of the log GM/WM/CSF intensity factors", non_negative
    ),
}

SPLIT_SCHEMA: dict[str, Field] = {
    "train": Field(float, 0.8, "subjects in train: a count (int) or a fraction"),
    "val": Field(float, 0.1, "subjects in val: a count (int) or a fraction"),
    "test": Field(float, 0.1, "subjects in test: a count (int) or a fraction"),
}


@dataclass
class Recipe:
    """A validated recipe.

    Attributes
    ----------
    name, kind, seed, samples_per_shard, description
        Top-level fields.
    subjects, split, params : dict
        Validated tables, defaults filled in.
    source : str
        The file it came from (for errors and provenance).
    small : bool
        Whether the ``[small]`` overrides were applied.
    """

    name: str
    kind: str
    seed: int
    samples_per_shard: int
    description: str
    subjects: dict[str, Any]
    split: dict[str, Any]
    params: dict[str, Any]
    source: str = "<dict>"
    small: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The resolved recipe (defaults filled, overrides applied), JSON-compatible."""
        return {
            "name": self.name,
            "kind": self.kind,
            "seed": self.seed,
            "samples_per_shard": self.samples_per_shard,
            "description": self.description,
            "subjects": self.subjects,
            "split": self.split,
            "params": self.params,
            "small": self.small,
        }

    def hash(self) -> str:
        """sha256 of the resolved recipe: a build directory belongs to one hash."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def _deep_merge(base: dict, over: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _type_name(t: type | tuple[type, ...]) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(
        {int: "integer", float: "number", str: "string", bool: "boolean", list: "list"}.get(
            x, x.__name__
        )
        for x in ts
    )


def _validate_table(
    table: Mapping[str, Any], schema: Mapping[str, Field], where: str, prefix: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    unknown = sorted(set(table) - set(schema))
    if unknown:
        raise MrsimInputError(
            f"{where}: unknown field {prefix + unknown[0]!r}; expected one of {sorted(schema)}"
        )
    for key, spec in schema.items():
        name = f"{prefix}{key}"
        if key not in table:
            if spec.required:
                raise MrsimInputError(f"{where}: missing required field {name!r} ({spec.doc})")
            out[key] = copy.deepcopy(spec.default)
            continue
        value = table[key]
        types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok and float in types and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise MrsimInputError(
                f"{where}: field {name!r} must be of type {_type_name(spec.type)} ({spec.doc}), "
                f"got {value!r}"
            )
        if spec.check is not None:
            try:
                reason = spec.check(value)
            except TypeError:  # e.g. a string inside a list of numbers
                reason = "has an element of the wrong type"
            if reason:
                raise MrsimInputError(
                    f"{where}: field {name!r} {reason} ({spec.doc}), got {value!r}"
                )
        out[key] = value
    return out


def recipe_from_dict(
    raw: Mapping[str, Any], *, source: str = "<dict>", small: bool = False
) -> Recipe:
    """Validate a parsed recipe (as from TOML) and return a :class:`Recipe`.

    Parameters
    ----------
    raw : mapping
        The parsed document.
    source : str
        Name used in error messages (the file path).
    small : bool
        Apply the ``[small]`` overrides.
    """

    raw = dict(raw)
    overrides = raw.pop("small", None)
    if small:
        if overrides is None:
            raise MrsimInputError(f"{source}: --small asked but the recipe has no [small] table")
        if not isinstance(overrides, Mapping):
            raise MrsimInputError(f"{source}: [small] must be a table of overrides")
        raw = _deep_merge(raw, overrides)
    tables = {k: raw.pop(k, {}) for k in ("subjects", "split", "params")}
    for key, value in tables.items():
        if not isinstance(value, Mapping):
            raise MrsimInputError(f"{source}: {key!r} must be a table ([{key}]), got {value!r}")
    top = _validate_table(raw, COMMON_SCHEMA, source, "")
    if top["kind"] not in KINDS:
        raise MrsimInputError(
            f"{source}: field 'kind' must be one of {sorted(KINDS)}, got {top['kind']!r}"
        )
    kind = KINDS[top["kind"]]
    subjects = _validate_table(tables["subjects"], SUBJECTS_SCHEMA, source, "subjects.")
    split = _validate_table(tables["split"], SPLIT_SCHEMA, source, "split.")
    params = _validate_table(tables["params"], kind.schema, source, "params.")
    if kind.uses_subjects:
        if subjects["source"] == "synthetic" and subjects["n"] < 1:
            raise MrsimInputError(
                f"{source}: field 'subjects.n' must be >= 1 for synthetic subjects"
            )
        if subjects["source"] == "nifti" and not subjects["glob"]:
            raise MrsimInputError(
                f"{source}: field 'subjects.glob' is required when source = 'nifti'"
            )
    fractions = [split[k] for k in ("train", "val", "test")]
    if any(v < 0 for v in fractions):
        raise MrsimInputError(f"{source}: [split] values must be >= 0, got {split}")
    if all(float(v).is_integer() for v in fractions) and sum(fractions) > 1:
        split = {k: int(v) for k, v in split.items()}
    elif abs(sum(fractions) - 1.0) > 1e-9:
        raise MrsimInputError(
            f"{source}: [split] must be subject counts (integers) or fractions summing to 1, "
            f"got {split}"
        )
    recipe = Recipe(
        name=top["name"],
        kind=top["kind"],
        seed=top["seed"],
        samples_per_shard=top["samples_per_shard"],
        description=top["description"],
        subjects=subjects,
        split=split,
        params=params,
        source=source,
        small=small,
    )
    if kind.validate is not None:
        kind.validate(recipe)
    return recipe


def find_recipe(name_or_path: str | os.PathLike) -> Path:
    """A recipe path, or the name of a recipe in the shipped ``datasets/`` folder."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = RECIPE_DIR / f"{name_or_path}.toml"
    if shipped.exists():
        return shipped
    known = sorted(p.stem for p in RECIPE_DIR.glob("*.toml")) if RECIPE_DIR.is_dir() else []
    raise FileNotFoundError(
        f"{name_or_path}: no such recipe file, and not a shipped recipe name {known}"
    )


def load_recipe(path: str | os.PathLike, *, small: bool = False) -> Recipe:
    """Load and validate a TOML recipe (a path, or a shipped recipe name).

    Raises
    ------
    FileNotFoundError
        No such file or shipped recipe.
    ValueError
        Malformed TOML or a field that fails validation; the message names the
        file, the field and the expected form.
    """
    path = find_recipe(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # BOM: not TOML
    except UnicodeDecodeError as exc:
        raise MrsimInputError(
            f"{path}: not a text file (cannot decode as UTF-8); expected a TOML recipe like "
            "datasets/mcnet_mprage.toml"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise MrsimInputError(f"{path}: invalid TOML ({exc})") from exc
    recipe = recipe_from_dict(raw, source=str(path), small=small)
    return recipe
