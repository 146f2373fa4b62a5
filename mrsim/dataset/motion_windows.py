"""Recipe kind ``motion_windows``: past poses -> next pose windows (seed 000).

Each sample is one motion sequence (one subject's run) with all its windows of
``n_past`` consecutive poses and the pose that follows
(:func:`mrsim.motion.windows.make_windows`, shared with
``correctors.recentre``). Sequences come from

- ``source = "generated"``: :func:`mrsim.motion.generators.realistic` at the
  HCP TR of 0.72 s, one sequence per subject and acquisition type
  (``acquisitions``: name -> frames; seed 000: resting state 1200, working
  memory 316, language 405). How much a sequence moves follows ``population``
  (default ``"ukb+abcd"``): its run-level mean Power FD is drawn from the
  log-normal fitted to the published UK Biobank or ABCD numbers
  (:mod:`mrsim.motion.populations`; subject ``s`` belongs to component
  ``s % 2`` in all its acquisitions, the target scaled by ``tr_s`` over the
  cohort's TR) and the generated run rescaled to it. ``population = ""``
  draws the magnitude uniformly in ``magnitude_mm`` instead (the draw before
  the retune); or
- ``source = "files"``: motion files matched by ``glob`` (any format
  :func:`mrsim.motion.formats.read_trajectory` reads; ``tr_s`` for files
  without times), one subject per file.

Arrays: ``trajectory`` ``(N, 7)`` (``t_s`` + 6 parameters, mm / deg),
``inputs`` ``(W, n_past, 6)`` and ``targets`` ``(W, 6)`` float32 absolute
poses. Splits are by subject. ``motion_magnitude`` is the mean Power FD (mm,
r = 50 mm) of the sequence.

References
----------
Seed 000: HCP motion parameters (TR 720 ms), 14 past points -> the 15th.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mrsim.dataset.fields import Field, length, non_negative, one_of, positive
from mrsim.dataset.samples import Kind, register_kind
from mrsim.dataset.subjects import assign_splits, seeded_rng
from mrsim.errors import MrsimInputError
from mrsim.io.hdf5 import Sample, file_sha256
from mrsim.motion.populations import matched_realistic, mixture_component, target_mean_fd

if TYPE_CHECKING:
    from mrsim.dataset.recipe import Recipe

__all__ = ["make_windows_sample"]

SCHEMA = {
    "source": Field(str, "generated", "'generated' or 'files'", one_of("generated", "files")),
    "n_subjects": Field(int, 1113, "generated: subjects (seed 000: 1113 HCP)", positive),
    "acquisitions": Field(
        dict, {"rest": 1200, "wm": 316, "language": 405}, "generated: acquisition name -> frames"
    ),
    "tr_s": Field(float, 0.72, "sampling interval (s); HCP 0.72", positive),
    "population": Field(
        str,
        "ukb+abcd",
        "generated: published population of the run-level mean FD ('ukb', 'abcd', 'ukb+abcd'; "
        "'' to use magnitude_mm)",
    ),
    "magnitude_mm": Field(
        list,
        [0.2, 1.5],
        "generated with population = '': range of sequence magnitudes (mm)",
        length(2, non_negative),
    ),
    "glob": Field(str, "", "files: glob of motion files, relative to the recipe"),
    "format": Field(str, "", "files: format name (empty: detect)"),
    "n_past": Field(int, 14, "past poses per window (seed 000: 7 x 2 = 14)", positive),
    "step": Field(int, 1, "stride between windows", positive),
}


def _validate(recipe: Recipe) -> None:
    p = recipe.params
    if p["source"] == "files" and not p["glob"]:
        raise MrsimInputError(
            f"{recipe.source}: field 'params.glob' is required when source = 'files'"
        )
    if p["source"] == "generated":
        acq = p["acquisitions"]
        bad = {k: v for k, v in acq.items() if not isinstance(v, int) or v <= p["n_past"]}
        if not acq or bad:
            raise MrsimInputError(
                f"{recipe.source}: field 'params.acquisitions' must map names to frame counts "
                f"> n_past ({p['n_past']}), got {acq}"
            )
        if p["population"]:
            try:
                mixture_component(p["population"], 0)
            except MrsimInputError as e:
                raise MrsimInputError(f"{recipe.source}: field 'params.population': {e}") from None
        lo, hi = p["magnitude_mm"]
        if lo > hi:
            raise MrsimInputError(
                f"{recipe.source}: field 'params.magnitude_mm' must be [low, high]"
            )


def _plan(recipe: Recipe, subjects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    p = recipe.params
    common = {k: p[k] for k in ("tr_s", "n_past", "step")}
    out = []
    if p["source"] == "generated":
        splits = assign_splits(p["n_subjects"], recipe.split, recipe.seed)
        for s in range(p["n_subjects"]):
            for name, frames in p["acquisitions"].items():
                out.append(
                    {
                        "subject": s,
                        "split": splits[s],
                        "variant": name,
                        "source": "generated",
                        "frames": frames,
                        "population": p["population"],
                        "magnitude_mm": p["magnitude_mm"],
                        **common,
                    }
                )
        return out
    pattern = Path(p["glob"]).expanduser()
    if not pattern.is_absolute() and recipe.source != "<dict>":
        pattern = Path(recipe.source).parent / pattern
    files = sorted(glob.glob(str(pattern)))
    if not files:
        raise FileNotFoundError(
            f"{recipe.source}: field 'params.glob' = {p['glob']!r} matches no file ({pattern})"
        )
    splits = assign_splits(len(files), recipe.split, recipe.seed)
    for s, path in enumerate(files):
        out.append(
            {
                "subject": s,
                "split": splits[s],
                "variant": "file",
                "source": "files",
                "path": str(Path(path).resolve()),
                "sha256": file_sha256(path),
                "format": p["format"],
                **common,
            }
        )
    return out


def make_windows_sample(params: dict[str, Any], threads: int = 1) -> Sample:
    """Build one ``motion_windows`` sample (one sequence and its windows)."""
    from mrsim.motion.fd import power_fd
    from mrsim.motion.formats import read_trajectory
    from mrsim.motion.generators import realistic
    from mrsim.motion.windows import make_windows

    if params["source"] == "generated":
        rng = seeded_rng(params["seed"])
        pop = params.get("population", "")
        if pop:
            name = mixture_component(pop, params["subject"])
            target = target_mean_fd(name, rng.standard_normal(), params["tr_s"])
            shape_seed = int(rng.integers(2**63))
            traj = matched_realistic(params["frames"], params["tr_s"], target, seed=shape_seed)
        else:
            lo, hi = params["magnitude_mm"]
            mag = float(rng.uniform(lo, hi))
            traj = realistic(params["frames"], tr_s=params["tr_s"], magnitude_mm=mag, seed=rng)
    else:
        path = params["path"]
        if file_sha256(path) != params["sha256"]:
            raise MrsimInputError(
                f"{path}: file changed since the dataset was planned (sha256 differs)"
            )
        traj = read_trajectory(path, format=params["format"] or None, tr_s=params["tr_s"])
    X, y = make_windows(
        traj,
        n_past=params["n_past"],
        step=params["step"],
        name=params.get("path", "generated sequence"),
    )
    return Sample(
        arrays={
            "trajectory": np.column_stack([traj.t_s, traj.params]),
            "inputs": X.astype(np.float32),
            "targets": y.astype(np.float32),
        },
        attrs={
            "motion_magnitude_unit": "mean Power FD (mm)",
            "motion_magnitude": float(np.mean(power_fd(traj))),
            "n_windows": len(y),
            "params_units": "tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg",
        },
        chunks={"inputs": True, "targets": True},
    )


register_kind(
    Kind(
        "motion_windows",
        SCHEMA,
        _plan,
        make_windows_sample,
        uses_subjects=False,
        validate=_validate,
    )
)
