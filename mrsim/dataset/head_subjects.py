"""Synthetic full-head subjects: the recipe's seeded deformation plus layer/tissue jitter.

The same ``spec`` as a synthetic template subject (:func:`mrsim.dataset.subjects.
synthetic_subject`) gives the SAME deformation here: the warp is drawn first from the
subject's stream by :func:`~mrsim.dataset.subjects.random_warp_coords`. Then, from the
same stream, each layer thickness of :data:`mrsim.phantoms.head.THICKNESS_MM` is scaled by
``exp(N(0, thickness_jitter))`` and T1, T2, T2*, PD of every tissue by
``exp(N(0, tissue_jitter))`` (:func:`mrsim.phantoms.tissues.jitter_tissues`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mrsim.dataset.subjects import random_warp_coords, seeded_rng
from mrsim.kspace.reuse import drop_stored, reuse_active
from mrsim.phantoms.head import THICKNESS_MM, HeadPhantom, make_head
from mrsim.phantoms.tissues import jitter_tissues

__all__ = [
    "synthetic_head",
    "head_contrast",
    "head_kspace",
    "head_clean_image",
    "head_reuse_entries",
]


def synthetic_head(
    spec: Mapping[str, Any],
    shape: Sequence[int],
    voxel_size_mm: Sequence[float],
    *,
    centre_mm: Sequence[float] | None = None,
) -> HeadPhantom:
    """A seeded synthetic head on the grid ``shape`` x ``voxel_size_mm``.

    Parameters
    ----------
    spec : mapping
        A synthetic subject spec (``seed``, ``deform_mm``, ``smooth_mm``, ``scale_jitter``;
        optional ``thickness_jitter`` (default 0.15) and ``tissue_jitter`` (default 0.05),
        relative standard deviations).
    shape, voxel_size_mm : grid
    centre_mm : 3 floats, optional
        MNI position of the grid centre (default :data:`mrsim.phantoms.head.DEFAULT_CENTRE_MM`).

    Returns
    -------
    HeadPhantom
    """
    from mrsim.phantoms.head import DEFAULT_CENTRE_MM

    shape = tuple(int(n) for n in shape)
    vox = np.broadcast_to(np.asarray(voxel_size_mm, dtype=float), (3,))
    rng = seeded_rng(spec["seed"])
    coords = random_warp_coords(spec, shape, vox, rng)
    sd_th = float(spec.get("thickness_jitter", 0.15))
    scale = np.exp(sd_th * rng.standard_normal(len(THICKNESS_MM)))
    thickness = {k: v * f for (k, v), f in zip(THICKNESS_MM.items(), scale, strict=True)}
    tissues = jitter_tissues(rng, float(spec.get("tissue_jitter", 0.05)))
    head = make_head(
        shape,
        vox,
        centre_mm=DEFAULT_CENTRE_MM if centre_mm is None else centre_mm,
        thickness_mm=thickness,
        tissues=tissues,
        warp_coords=coords,
    )
    head.info["subject_spec"] = {k: v for k, v in spec.items() if k != "split"}
    return head


def head_kspace(
    spec: Mapping[str, Any],
    shape: Sequence[int],
    voxel_size_mm: Sequence[float],
    schedule,
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    *,
    contrast: str = "echo-train",
    eps: float = 1e-4,
    threads: int = 1,
    subject_contrast=None,
) -> np.ndarray:
    """Moved k-space of a synthetic head (recipe option ``phantom = "head"``).

    ``contrast="static"``: the head at the k-space-centre echo, one corruption;
    ``"echo-train"``: each line at its own echo (rank for 1e-3,
    :mod:`mrsim.kspace.echo_train`). The protocol is
    :func:`~mrsim.kspace.echo_train.default_protocol` of the schedule. The moved k-space
    does not depend on ``threads`` (the engine is thread-count independent,
    tests/test_kspace_threads.py). The motion-free reference is :func:`head_clean_image`.
    ``subject_contrast``: the subject's :func:`head_contrast`, when the caller has it (so that
    a sample outside a reuse block builds the phantom once, not once per function).
    """
    if subject_contrast is None:
        subject_contrast = head_contrast(spec, shape, voxel_size_mm, schedule, contrast)
    return _kspace(
        subject_contrast,
        schedule,
        rotations,
        translations_mm,
        voxel_size_mm,
        eps,
        threads,
    )


def head_clean_image(
    spec: Mapping[str, Any],
    shape: Sequence[int],
    voxel_size_mm: Sequence[float],
    schedule,
    *,
    contrast: str = "echo-train",
    eps: float = 1e-4,
    threads: int = 1,
    subject_contrast=None,
) -> np.ndarray:
    """Magnitude of the motion-free reconstruction, ``|ifft(k_clean)|``, shape
    ``schedule.shape`` (same arguments as :func:`head_kspace`, no poses).

    It depends on the subject and the acquisition only, so inside the dataset builder's
    :func:`~mrsim.kspace.reuse.reuse_spectra` block it is computed once per subject and
    served read-only to its other samples (:func:`~mrsim.kspace.reuse.memoized`, keyed by
    the subject's image or basis bytes and everything else it depends on; the computation
    is deterministic, so served and recomputed references are the same bytes).
    ``subject_contrast`` as for :func:`head_kspace`.
    """
    from mrsim.kspace.fft import ifft_centered
    from mrsim.kspace.reuse import memoized

    obj = subject_contrast
    if obj is None:
        obj = head_contrast(spec, shape, voxel_size_mm, schedule, contrast)
    eye, zero = np.eye(3), np.zeros(3)

    def compute() -> np.ndarray:
        k = _kspace(obj, schedule, eye, zero, voxel_size_mm, eps, threads)
        return np.abs(ifft_centered(k, workers=threads))

    h = hashlib.blake2b(digest_size=20)
    for a in (schedule.pe_index, schedule.time_s, schedule.shot):  # echo of each line too
        h.update(np.ascontiguousarray(a).tobytes())
    key = (
        schedule.shape,
        schedule.readout_axis,
        h.hexdigest(),
        tuple(np.broadcast_to(np.asarray(voxel_size_mm, float), (3,)).tolist()),
        float(eps),
        contrast,
    )
    if contrast == "static":
        return memoized("head_clean_image", obj, key, compute)
    echo = (obj.coeffs.tobytes(), obj.singular_values.tobytes())  # weights and term eps
    return memoized("head_clean_image", obj.basis, key + echo, compute)


def head_reuse_entries(rank: int) -> int:
    """What one head subject keeps in :mod:`mrsim.kspace.reuse` over its samples, so that a
    subject's later samples find all of it (the cache drops the least recently used entry
    beyond its size, so one entry short and a needed one is recomputed every sample): per
    basis image (``rank``; one image for ``"static"``) its upsampled grid, contracted planes
    and static k-space (made for the first sample's clean reference), plus the clean image
    (:func:`head_clean_image`). tests/test_dataset_head_reuse.py checks that a subject's
    second sample is served entirely from the cache."""
    return 3 * int(rank) + 1


def head_contrast(spec, shape, voxel_size_mm, schedule, contrast: str):
    """The subject's image (``"static"``: the head at the k-space-centre echo, frozen) or
    :class:`~mrsim.kspace.echo_train.LowRankContrast` (frozen basis), built once per
    subject inside the dataset builder's reuse block (deterministic, so bit-identical);
    makes room in that block for what the subject's samples reuse
    (:func:`head_reuse_entries`)."""
    from mrsim.kspace.echo_train import default_protocol, lowrank_contrast, protocol_for_schedule
    from mrsim.kspace.reuse import reserve_entries

    if contrast not in ("static", "echo-train"):
        raise ValueError(f"contrast must be 'static' or 'echo-train', got {contrast!r}")
    prot = protocol_for_schedule(default_protocol(schedule), schedule)

    def frozen(a: np.ndarray) -> np.ndarray:
        # an owned, read-only copy: the spectrum memo then hashes its bytes once per subject
        # instead of once per sample (a writeable base would defeat its frozen check)
        out = np.array(a, copy=True)
        out.flags.writeable = False
        return out

    def build():
        head = synthetic_head(spec, shape, voxel_size_mm)
        names, frac = head.tissue_fractions()
        sig = head.tissue_signals(prot, names)
        if contrast == "static":
            return frozen(np.tensordot(sig[:, prot.centre].astype(np.float32), frac, axes=(0, 0)))
        lr = lowrank_contrast(frac, sig, 1e-3)
        return dataclasses.replace(lr, basis=frozen(lr.basis))

    key = (
        json.dumps({k: v for k, v in spec.items() if k != "split"}, sort_keys=True),
        tuple(int(n) for n in shape),
        tuple(np.broadcast_to(np.asarray(voxel_size_mm, float), (3,)).tolist()),
        contrast,
        json.dumps(prot.to_dict(), sort_keys=True),
    )
    obj = _subject_cache(key, build)
    reserve_entries(head_reuse_entries(1 if contrast == "static" else obj.rank))
    return obj


def _kspace(obj, schedule, rotations, translations_mm, voxel_size_mm, eps, threads):
    """Moved k-space of a :func:`head_contrast` object."""
    from mrsim.kspace.echo_train import echo_train_kspace
    from mrsim.kspace.engine import moved_kspace

    if isinstance(obj, np.ndarray):
        return moved_kspace(
            obj, schedule, rotations, translations_mm, voxel_size_mm, eps=eps, nthreads=threads
        )
    return echo_train_kspace(
        obj, schedule, rotations, translations_mm, voxel_size_mm, eps=eps, nthreads=threads
    )


#: The last subject's image or low-rank contrast (one entry: ~4 basis images of the source).
_CACHE: dict[tuple, Any] = {}
_CACHE_LOCK = threading.Lock()


def _subject_cache(key: tuple, build: Callable[[], Any]) -> Any:
    """``build()``, kept for the next call with the same key while the dataset builder's
    :func:`~mrsim.kspace.reuse.reuse_spectra` block is active (nothing kept outside it)."""
    if not reuse_active():
        with _CACHE_LOCK:
            _CACHE.clear()
        return build()
    with _CACHE_LOCK:  # dask workers may build shards in threads of one process
        hit = _CACHE.get(key)
    if hit is None:
        # The last subject's spectra (a 1 mm source: ~0.5 GB per basis image) are let go
        # before the next subject is built, not kept until its entries push them out.
        drop_stored()
        hit = build()
        with _CACHE_LOCK:
            _CACHE.clear()
            _CACHE[key] = hit
    return hit
