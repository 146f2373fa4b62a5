"""Data for the VQ prior: clean slice banks (VQ-VAE and priors), pairs, toy sets.

The VQ-VAE and the priors learn from **motion-free slices only**. An ``mcnet_mprage``
sample stores 10 clean slices, identical for every trajectory and variant of a
subject, so a dataset of S training subjects holds only 10 S distinct clean slices.
:func:`clean_slice_bank` therefore rebuilds each subject's clean 3D volume by the
dataset's own path (synthetic subject -> identity-pose k-space by
:func:`mrsim.kspace.corrupt.moved_kspace` -> inverse FFT -> magnitude, exactly the
``clean`` of :func:`mrsim.dataset.mcnet_mprage.make_mcnet_sample`) and cuts every
sagittal slice within ``band_mm`` of the centre. Only the subjects of the requested
split are used, so test subjects stay unseen.

The disentangled variant trains on (corrupted, clean) pairs, read with
:func:`correctors.mcnet.data.open_pairs` (the shared HDF5 slice reader).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mrsim.errors import MrsimInputError

__all__ = ["clean_volume", "clean_slice_bank", "dataset_plan", "toy_slices", "toy_pairs"]


def dataset_plan(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The per-sample parameter dicts of a built dataset (from its ``plan.json``)."""
    from mrsim.dataset.build import plan_samples
    from mrsim.dataset.recipe import recipe_from_dict
    from mrsim.io.hdf5 import read_json

    d = Path(path)
    if d.suffix == ".h5":
        d = d.parent
    plan_file = d / "plan.json"
    if not plan_file.is_file():
        raise MrsimInputError(
            f"{plan_file}: missing; --data must be a dataset directory built by "
            "`mrsim dataset build mcnet_mprage` (it holds plan.json and dataset.h5)"
        )
    doc = read_json(plan_file)
    recipe = recipe_from_dict(doc["recipe"], source=doc.get("recipe_source", str(plan_file)))
    if recipe.kind != "mcnet_mprage":
        raise MrsimInputError(
            f"{plan_file}: recipe kind {recipe.kind!r}; the VQ prior needs an mcnet_mprage dataset"
        )
    return plan_samples(recipe)


def clean_volume(params: dict[str, Any], threads: int = 1) -> np.ndarray:
    """Clean magnitude volume of an ``mcnet_mprage`` sample's subject (float32, ``shape``).

    The same operations as the sample function with every pose the identity.
    """
    from mrsim.dataset.subjects import load_subject
    from mrsim.kspace.corrupt import moved_kspace
    from mrsim.kspace.fft import ifft_centered
    from mrsim.kspace.schedule import mprage_schedule

    shape = tuple(int(n) for n in params["shape"])
    fov = float(params["fov_mm"])
    over = int(params["source_oversample"])
    src_shape = tuple(n * over for n in shape)
    src_vox = tuple(fov / n for n in src_shape)
    image = load_subject(params["subject_spec"], src_shape, src_vox)["t1"]
    sched = mprage_schedule(
        shape,
        ordering=params["ordering"],
        readout_axis=params["readout_axis"],
        shot_tr_s=params["shot_tr_s"],
    )
    k = moved_kspace(
        image,
        sched,
        np.eye(3),
        np.zeros(3),
        voxel_size_mm=src_vox,
        eps=float(params["nufft_eps"]),
        nthreads=threads,
    )
    return np.abs(ifft_centered(k, workers=threads)).astype(np.float32)


def clean_slice_bank(
    path: str | os.PathLike,
    split: str = "train",
    band_mm: float = 32.0,
    threads: int = 1,
    progress: bool = False,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Every clean slice within ``band_mm`` of the centre, for the subjects of one split.

    Parameters
    ----------
    path : path
        ``mcnet_mprage`` dataset directory (its ``plan.json`` is read).
    split : str
        ``train``, ``val``, ``test`` or ``all``.
    band_mm : float
        Half-width of the band of slices about the volume centre, along ``slice_axis``
        (the dataset's 10 slices lie within +-22.5 mm).
    threads : int
        NUFFT / FFT threads.

    Returns
    -------
    slices : ndarray, (N, H, W) float32
    info : list of dict
        ``subject``, ``slice_index``, ``position_mm``, ``volume_max`` per slice.
    """
    from tqdm.auto import tqdm

    if band_mm < 0:
        raise MrsimInputError(f"band_mm must be >= 0, got {band_mm}")
    plan = dataset_plan(path)
    first: dict[int, dict] = {}
    for p in plan:
        if split == "all" or p["split"] == split:
            first.setdefault(int(p["subject"]), p)
    if not first:
        raise MrsimInputError(f"{path}: split {split!r} has no subjects")
    slices, info = [], []
    for subject, p in tqdm(sorted(first.items()), disable=not progress, desc=f"clean {split}"):
        vol = np.moveaxis(clean_volume(p, threads), int(p["slice_axis"]), 0)
        n = vol.shape[0]
        vox = float(p["fov_mm"]) / n
        half = int(np.floor(band_mm / vox + 1e-9))
        for i in range(max(0, n // 2 - half), min(n, n // 2 + half + 1)):
            slices.append(vol[i])
            info.append(
                {
                    "subject": subject,
                    "slice_index": i,
                    "position_mm": (i - n // 2) * vox,
                    "volume_max": float(vol.max()),
                }
            )
    return np.stack(slices).astype(np.float32), info


def _ellipses(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random head-like toy slice: an outer ellipse with a few brighter/darker blobs."""
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    img = np.zeros((size, size))
    a, b = rng.uniform(0.6, 0.85, 2)
    img[(x / a) ** 2 + (y / b) ** 2 <= 1] = 0.6
    for _ in range(4):
        cx, cy = rng.uniform(-0.35, 0.35, 2)
        r = rng.uniform(0.1, 0.25, 2)
        img[((x - cx) / r[0]) ** 2 + ((y - cy) / r[1]) ** 2 <= 1] = rng.uniform(0.2, 1.0)
    return img.astype(np.float32)


def toy_slices(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``n`` clean toy slices (n, size, size) float32 of random ellipses (tests, ``tiny``)."""
    rng = np.random.default_rng(seed)
    return np.stack([_ellipses(rng, size) for _ in range(n)])


def toy_pairs(
    n: int, size: int = 32, seed: int = 0, shift_px: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """(corrupted, clean) toy pairs: every other k-space line of a shifted copy (ghosting).

    A translation by ``shift_px`` along x during half of the phase-encode lines (even
    ky) is the simplest rigid-motion artefact: a ghost at half the field of view.
    """
    clean = toy_slices(n, size, seed)
    k = np.fft.fft2(clean)
    kx = np.fft.fftfreq(size)
    ramp = np.exp(-2j * np.pi * kx * shift_px)[None, None, :]
    moved = k * ramp
    mixed = k.copy()
    mixed[:, ::2, :] = moved[:, ::2, :]
    return np.abs(np.fft.ifft2(mixed)).astype(np.float32), clean
