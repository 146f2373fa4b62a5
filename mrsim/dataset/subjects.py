"""Subjects for dataset recipes: user NIfTI volumes or synthetic MNI152 anatomies.

A subject is described by a small JSON-compatible *spec* (stored in every
sample's attributes, so a sample can be regenerated from them alone):

- ``{"source": "synthetic", "subject": s, "seed": [recipe_seed, 1, s], ...}``:
  the MNI152 template (:func:`mrsim.phantoms.mni152.load_mni152`) warped by a
  seeded smooth random displacement field and a random global scale, with
  randomised GM/WM/CSF intensities, so training sees more than one anatomy
  without downloads.
- ``{"source": "nifti", "subject": s, "path": ..., "sha256": ...}``: a user
  volume resampled (trilinear) onto the recipe grid, centred on the volume
  centre; the checksum guards regeneration against a changed file.

Subjects are assigned to train/val/test by a seeded permutation of subject
numbers, so splits are by subject, never by slice or sample.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from mrsim.dataset.trilinear import trilinear
from mrsim.errors import MrsimInputError
from mrsim.io.hdf5 import file_sha256

__all__ = [
    "SPLITS",
    "seeded_rng",
    "split_counts",
    "assign_splits",
    "subject_specs",
    "load_subject",
    "synthetic_subject",
    "random_warp_coords",
    "warp",
]

SPLITS = ("train", "val", "test")

# SeedSequence spawn-key domains: independent streams for each use of the recipe seed.
DOMAIN_SAMPLE = 0
DOMAIN_SUBJECT = 1
DOMAIN_TRAJECTORY = 2
DOMAIN_SPLIT = 3


def seeded_rng(seed: Sequence[int] | int) -> np.random.Generator:
    """Generator for a seed ``[entropy, *spawn_key]`` (or a plain int).

    ``[recipe_seed, domain, i]`` gives a stream that depends only on the
    recipe seed, the use (domain) and the item number, never on worker or
    completion order (NumPy ``SeedSequence`` spawn keys).
    """
    if isinstance(seed, (int, np.integer)):
        return np.random.default_rng(np.random.SeedSequence(int(seed)))
    entropy, *key = (int(v) for v in seed)
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=tuple(key)))


def split_counts(n_subjects: int, split: Mapping[str, float | int]) -> dict[str, int]:
    """Subjects per split from counts (ints summing to ``n_subjects``) or fractions.

    Fractions are rounded so that every split with a positive fraction gets at
    least one subject when there are enough subjects; the remainder goes to train.
    """
    vals = {k: split[k] for k in SPLITS}
    if all(isinstance(v, int) for v in vals.values()):
        if sum(vals.values()) != n_subjects:
            raise MrsimInputError(
                f"[split] counts {vals} sum to {sum(vals.values())}, but there are "
                f"{n_subjects} subjects"
            )
        return dict(vals)
    counts = {k: int(round(float(v) * n_subjects)) for k, v in vals.items()}
    for k in ("val", "test"):
        if vals[k] > 0 and counts[k] == 0 and n_subjects >= 3:
            counts[k] = 1
    counts["train"] = n_subjects - counts["val"] - counts["test"]
    if counts["train"] < 0:
        raise MrsimInputError(f"[split] {vals} cannot be met with {n_subjects} subjects")
    return counts


def assign_splits(n_subjects: int, split: Mapping[str, float | int], seed: int) -> list[str]:
    """Split name of each subject: a seeded permutation cut by :func:`split_counts`."""
    counts = split_counts(n_subjects, split)
    order = seeded_rng([seed, DOMAIN_SPLIT]).permutation(n_subjects)
    names = np.empty(n_subjects, dtype=object)
    start = 0
    for name in SPLITS:
        names[order[start : start + counts[name]]] = name
        start += counts[name]
    return [str(v) for v in names]


def subject_specs(
    subjects: Mapping[str, Any],
    split: Mapping[str, float | int],
    seed: int,
    *,
    recipe_dir: str | Path = ".",
    source: str = "<recipe>",
) -> list[dict[str, Any]]:
    """Specs of every subject of a recipe, with its split.

    Parameters
    ----------
    subjects : mapping
        The recipe's validated ``[subjects]`` table.
    split : mapping
        The ``[split]`` table.
    seed : int
        Recipe seed.
    recipe_dir : path-like
        Directory a relative ``glob`` is taken from.
    source : str
        Recipe file name for error messages.
    """
    specs: list[dict[str, Any]] = []
    if subjects["source"] == "synthetic":
        for s in range(subjects["n"]):
            specs.append(
                {
                    "source": "synthetic",
                    "subject": s,
                    "seed": [seed, DOMAIN_SUBJECT, s],
                    "deform_mm": subjects["deform_mm"],
                    "smooth_mm": subjects["smooth_mm"],
                    "scale_jitter": subjects["scale_jitter"],
                    "contrast_jitter": subjects["contrast_jitter"],
                }
            )
    else:
        pattern = Path(subjects["glob"]).expanduser()
        if not pattern.is_absolute():
            pattern = Path(recipe_dir) / pattern
        files = sorted(glob.glob(str(pattern)))
        if not files:
            raise FileNotFoundError(
                f"{source}: field 'subjects.glob' = {subjects['glob']!r} matches no file "
                f"(looked for {pattern}; expected NIfTI volumes .nii/.nii.gz)"
            )
        if subjects["n"]:
            files = files[: subjects["n"]]
        for s, path in enumerate(files):
            specs.append(
                {
                    "source": "nifti",
                    "subject": s,
                    "path": str(Path(path).resolve()),
                    "sha256": file_sha256(path),
                }
            )
    names = assign_splits(len(specs), split, seed)
    for spec, name in zip(specs, names, strict=True):
        spec["split"] = name
    return specs


def _smooth_fields(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    sigma_vox: np.ndarray,
    n_fields: int,
    threads: int = 1,
) -> list[np.ndarray]:
    # Smooth noise computed on a coarse grid then upsampled: the same field
    # (to interpolation accuracy) at a fraction of the cost of a full-grid blur. The fields
    # are drawn one after the other and upsampled together (same points).
    factor = np.maximum(1, np.floor(sigma_vox / 2)).astype(int)
    coarse_shape = tuple(int(np.ceil(n / f)) + 2 for n, f in zip(shape, factor, strict=True))
    coarse = []
    for _ in range(n_fields):
        noise = rng.standard_normal(coarse_shape)
        smooth = ndimage.gaussian_filter(noise, sigma_vox / factor, mode="wrap")
        smooth /= np.abs(smooth).max() + 1e-12
        coarse.append(smooth)
    coords = np.meshgrid(
        *[np.arange(n) / f + 0.5 for n, f in zip(shape, factor, strict=True)], indexing="ij"
    )
    return trilinear(coarse, coords, "nearest", threads)


def random_warp_coords(
    spec: Mapping[str, Any],
    shape: Sequence[int],
    voxel_size_mm: Sequence[float],
    rng: np.random.Generator,
    threads: int = 1,
) -> list[np.ndarray]:
    """Pull-back sampling coordinates of a random smooth warp (see :func:`synthetic_subject`).

    Output voxel ``x`` reads the template at ``c + (x - c) / s + u(x)`` (voxel units),
    with ``s ~ 1 + N(0, scale_jitter)`` and ``u`` smoothed noise of peak
    ``deform_mm`` and width ``smooth_mm``. Draws from ``rng`` in a fixed order. ``threads``
    only splits the work (the result does not depend on it).
    """
    shape = tuple(int(n) for n in shape)
    vox = np.asarray(voxel_size_mm, dtype=float)
    scale = 1.0 + spec["scale_jitter"] * rng.standard_normal()
    sigma_vox = spec["smooth_mm"] / vox
    fields = _smooth_fields(rng, shape, sigma_vox, 3, threads)
    centre = np.array([n // 2 for n in shape], dtype=float)
    out = []
    for a in range(3):
        # c + (x - c) / s + u(x), elementwise in this order; the first two terms depend on
        # x_a only, so they are made along that axis and broadcast (no full grids).
        along = centre[a] + (np.arange(shape[a], dtype=float) - centre[a]) / scale
        coords = fields[a]
        coords *= spec["deform_mm"] / vox[a]
        coords += along.reshape([-1 if b == a else 1 for b in range(3)])
        out.append(coords)
    return out


def warp(
    volume: np.ndarray, coords: Sequence[np.ndarray], order: int = 1, threads: int = 1
) -> np.ndarray:
    """Sample ``volume`` at warp coordinates (zero outside), keeping its dtype.

    Order 1 (trilinear) by :func:`mrsim.dataset.trilinear.trilinear`, bit-identical to
    scipy's ``map_coordinates`` and faster; other orders by scipy. ``threads`` only splits
    the work (the result does not depend on it).
    """
    if order == 1 and volume.dtype in (np.float32, np.float64):
        return trilinear([volume], coords, "constant", threads)[0]
    return ndimage.map_coordinates(volume, coords, order=order, mode="constant", cval=0.0).astype(
        volume.dtype, copy=False
    )


@lru_cache(maxsize=2)
def _template_maps(shape: tuple[int, ...], vox: tuple[float, ...]) -> dict[str, np.ndarray]:
    from mrsim.phantoms.mni152 import load_mni152

    return {
        k: load_mni152(k, shape=shape, voxel_size_mm=vox)[0]
        for k in ("t1", "gm", "wm", "csf", "mask")
    }


def synthetic_subject(
    spec: Mapping[str, Any],
    shape: Sequence[int],
    voxel_size_mm: Sequence[float],
    threads: int = 1,
) -> dict[str, np.ndarray]:
    """A synthetic T1-weighted subject on the grid ``shape`` x ``voxel_size_mm``.

    The MNI152 tissue maps are warped by ``x -> c + s (x - c) + u(x)`` with a
    global scale ``s ~ 1 + N(0, scale_jitter)`` and a displacement ``u`` of
    Gaussian-smoothed noise (width ``smooth_mm``) scaled to a peak of
    ``deform_mm`` per axis. The T1 contrast is rebuilt as
    ``sum_t c_t P_t + residual``: ``c_t`` are the template's own GM/WM/CSF
    intensities (least squares on the brain mask) times ``exp(N(0,
    contrast_jitter))``, and the residual keeps the template's texture.

    ``threads`` splits the warps' work (the result does not depend on it).

    Returns
    -------
    dict of str -> ndarray float32
        ``t1`` (max 1), ``gm``, ``wm``, ``csf``, ``mask``; plus ``contrast``
        ``(3,)`` (the GM, WM, CSF intensities used).
    """
    shape = tuple(int(n) for n in shape)
    vox = np.asarray(voxel_size_mm, dtype=float)
    maps = _template_maps(shape, tuple(float(v) for v in vox))
    rng = seeded_rng(spec["seed"])
    coords = random_warp_coords(spec, shape, vox, rng, threads)
    # one pass for the five maps (same points: the weights are computed once)
    names = list(maps)
    samples = trilinear([maps[k] for k in names], coords, "constant", threads)
    warped = dict(zip(names, samples, strict=True))
    tissues = np.stack([warped["gm"], warped["wm"], warped["csf"]], axis=-1)
    inside = warped["mask"] > 0.5
    base, *_ = np.linalg.lstsq(tissues[inside], warped["t1"][inside], rcond=None)
    contrast = base * np.exp(spec["contrast_jitter"] * rng.standard_normal(3))
    residual = warped["t1"] - tissues @ base
    t1 = np.clip(tissues @ contrast + residual, 0.0, None)
    t1 /= t1.max() + 1e-12
    out = {k: warped[k] for k in ("gm", "wm", "csf", "mask")}
    out["t1"] = t1.astype(np.float32)
    out["contrast"] = contrast.astype(np.float32)
    return out


def _nifti_subject(
    spec: Mapping[str, Any], shape: Sequence[int], voxel_size_mm: Sequence[float]
) -> dict[str, np.ndarray]:
    import nibabel as nib

    from mrsim.io.nifti import load_volume

    path = spec["path"]
    # the hash is required: a dataset's stored params may only re-read a file whose content
    # its author already knew (no reading other files through a received dataset)
    if not spec.get("sha256"):
        raise MrsimInputError(f"{path}: the subject spec has no sha256; refusing to read the file")
    if file_sha256(path) != spec["sha256"]:
        raise MrsimInputError(
            f"{path}: file changed since the dataset was planned (sha256 differs)"
        )
    data, affine = load_volume(path)
    # Resample the volume (about its centre, in RAS) onto the recipe grid.
    canon = nib.as_closest_canonical(nib.Nifti1Image(data, affine))
    data = np.asarray(canon.dataobj, dtype=np.float32)
    src_vox = np.sqrt((canon.affine[:3, :3] ** 2).sum(axis=0))
    dst_vox = np.asarray(voxel_size_mm, dtype=float)
    shape = tuple(int(n) for n in shape)
    zoom = dst_vox / src_vox
    sigma = np.where(zoom > 1, 0.5 * (zoom - 1), 0.0)  # anti-alias when coarsening
    if np.any(sigma > 0):
        data = ndimage.gaussian_filter(data, sigma)
    src_centre = (np.array(data.shape) - 1) / 2.0
    dst_centre = np.array([n // 2 for n in shape], dtype=float)
    offset = src_centre - zoom * dst_centre
    t1 = ndimage.affine_transform(data, zoom, offset=offset, output_shape=shape, order=1)
    t1 = np.clip(t1, 0.0, None)
    t1 /= np.percentile(t1[t1 > 0], 99.5) if np.any(t1 > 0) else 1.0
    return {"t1": np.clip(t1, 0.0, None).astype(np.float32)}


_LOAD_THREADS = {"n": 1}  # threads of the current load_subject call (not part of the key)


@lru_cache(maxsize=2)
def _load_cached(spec_json: str, shape: tuple[int, ...], vox: tuple[float, ...]):
    spec = json.loads(spec_json)
    if spec["source"] == "synthetic":
        out = synthetic_subject(spec, shape, vox, threads=_LOAD_THREADS["n"])
    elif spec["source"] == "nifti":
        out = _nifti_subject(spec, shape, vox)
    else:
        raise MrsimInputError(
            f"unknown subject source {spec['source']!r}; expected synthetic or nifti"
        )
    # Shared by every sample of the subject: read-only, so that an in-place change raises
    # instead of leaking into later samples, and so that mrsim.kspace.reuse hashes each
    # volume once (its bytes cannot change).
    for arr in out.values():
        arr.flags.writeable = False
    return out


def load_subject(
    spec: Mapping[str, Any],
    shape: Sequence[int],
    voxel_size_mm: Sequence[float],
    threads: int = 1,
) -> dict[str, np.ndarray]:
    """Volumes of one subject on the recipe grid (cached per process).

    ``threads`` splits the generation of a synthetic subject (the volumes do not depend on
    it).

    Returns
    -------
    dict of str -> ndarray
        Always ``t1`` (float32, ~[0, 1]); synthetic subjects also carry the
        tissue maps ``gm``, ``wm``, ``csf``, ``mask``. Read-only arrays (copy to modify).
    """
    key = json.dumps({k: v for k, v in spec.items() if k != "split"}, sort_keys=True)
    _LOAD_THREADS["n"] = max(1, int(threads))
    try:
        return _load_cached(
            key, tuple(int(n) for n in shape), tuple(float(v) for v in voxel_size_mm)
        )
    finally:
        _LOAD_THREADS["n"] = 1
