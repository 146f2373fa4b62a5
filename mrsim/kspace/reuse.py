"""Reuse of per-object spectra across calls: the upsampled grid and the static k-space.

Every sample of a dataset subject moves the *same* object: the NUFFT's upsampled
(deconvolved, zero-padded, FFT'd) grid and the unmoved object's k-space are the same for
all of them, only the interpolation points differ. Inside :func:`reuse_spectra` those
arrays are computed once per object and handed out again, read-only, to later calls with
the same input bytes and settings; outside it nothing is kept (a single ``mrsim corrupt``
would only pay memory for it).

The key is a BLAKE2b digest of the input's bytes, shape and dtype plus the settings that
change the result, so a different (or modified) object is never served a stale spectrum,
and a served spectrum is bit-identical to a recomputed one (the computation is
deterministic and independent of the thread count, tests/test_kspace_threads.py).

Hashing costs ~2 ms per MB (a 128^3 float32 source: ~15 ms) against ~0.3 s for the
upsampled grid it saves; a read-only volume (and its read-only bases) is hashed once per
object. Results derived from a stored one (:func:`memoized_derived`, e.g. the contracted
planes of :mod:`mrsim.kspace.planar_interp`) are keyed by the stored one's key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "reuse_spectra",
    "keep_spectra",
    "memoized",
    "memoized_derived",
    "drop_stored",
    "reserve_entries",
    "reuse_active",
    "reuse_stats",
]

_state: dict[str, Any] = {
    "depth": 0,
    "max_entries": 0,
    "cache": OrderedDict(),
    "digests": {},
    "hits": 0,
    "misses": 0,
}
#: Guards the two dicts above: a dask worker may run several shards in threads of one
#: process. Held for dict operations only, never while computing or hashing.
_LOCK = threading.Lock()


@contextlib.contextmanager
def reuse_spectra(max_entries: int = 2) -> Iterator[None]:
    """Keep up to ``max_entries`` spectra (least recently used dropped) while active.

    Nested uses share one cache; it is emptied when the outermost one exits. Memory: one
    entry per object and kind, e.g. the upsampled grid of a 128^3 source at upsampling
    1.5 is 192^3 complex64 = 57 MB.
    """
    if _state["depth"] == 0:
        _state["hits"] = _state["misses"] = 0
    _state["depth"] += 1
    _state["max_entries"] = max(_state["max_entries"], int(max_entries))
    try:
        yield
    finally:
        _state["depth"] -= 1
        if _state["depth"] == 0:
            _state["cache"].clear()
            _state["max_entries"] = 0


def keep_spectra(max_entries: int = 2) -> None:
    """Turn reuse on for the rest of this process (dataset worker processes, which build
    shard after shard of the same subjects)."""
    _state["depth"] += 1
    _state["max_entries"] = max(_state["max_entries"], int(max_entries))


def reserve_entries(n: int) -> None:
    """Make room for at least ``n`` entries in the active :func:`reuse_spectra` block (or
    :func:`keep_spectra`), for a path that knows its need only at run time (e.g. one entry
    per basis image of a subject whose rank comes from its contrast); no-op outside one."""
    if _state["depth"] > 0:
        with _LOCK:
            _state["max_entries"] = max(_state["max_entries"], int(n))


def drop_stored() -> None:
    """Empty the cache of the active block (it stays active): for a caller that knows the
    stored results belong to an object it is done with (the dataset's head subjects, whose
    next subject is built while the last one's spectra would otherwise still be held)."""
    with _LOCK:
        _state["cache"].clear()


def reuse_stats() -> dict[str, int]:
    """``hits`` and ``misses`` of :func:`memoized` / :func:`memoized_derived` lookups since
    the outermost :func:`reuse_spectra` block began (kept after it ends), the ``entries``
    held and the cache size ``max_entries``."""
    with _LOCK:
        return {
            "hits": _state["hits"],
            "misses": _state["misses"],
            "entries": len(_state["cache"]),
            "max_entries": _state["max_entries"],
        }


def reuse_active() -> bool:
    """Whether a :func:`reuse_spectra` block is active (and ``MRSIM_REUSE_SPECTRA`` is not
    ``0``, the switch benchmarks use to time the recomputing path in the same run)."""
    return _state["depth"] > 0 and os.environ.get("MRSIM_REUSE_SPECTRA", "1") != "0"


def _frozen(array: np.ndarray) -> bool:
    """Whether no one can write ``array``'s bytes through numpy: it and every base it is a
    view of are read-only (e.g. the subject volumes of :func:`mrsim.dataset.subjects.
    load_subject`, and every stored spectrum)."""
    a = array
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return a is None


def _content_digest(array: np.ndarray) -> bytes:
    """BLAKE2b of the array's bytes; remembered per object for frozen arrays (:func:`_frozen`),
    whose bytes cannot change, so a volume reused by many samples is hashed once."""
    owner = array  # views (e.g. np.moveaxis of a volume) are keyed by their owner
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    key = (
        id(owner),
        array.__array_interface__["data"][0],
        array.shape,
        array.strides,
        array.dtype.str,
    )
    with _LOCK:
        hit = _state["digests"].get(key)
    if hit is not None and hit[0]() is owner and _frozen(array):
        return hit[1]
    h = hashlib.blake2b(digest_size=20)
    h.update(np.ascontiguousarray(array).view(np.uint8).reshape(-1).data)
    digest = h.digest()
    if _frozen(array):
        with _LOCK:
            digests = _state["digests"]
            digests[key] = (weakref.ref(owner), digest)
            while len(digests) > 16:  # a few volumes per worker at a time
                digests.pop(next(iter(digests)))
    return digest


def _digest(kind: str, array: np.ndarray, settings: tuple) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((kind, array.shape, array.dtype.str, settings)).encode())
    h.update(_content_digest(array))
    return h.digest()


def memoized(
    kind: str, array: np.ndarray, settings: tuple, compute: Callable[[], np.ndarray]
) -> np.ndarray:
    """``compute()``, or its stored result for the same ``kind``, ``array`` bytes and
    ``settings`` inside :func:`reuse_spectra`. Stored results are returned read-only (an
    in-place change by a caller raises instead of corrupting later samples); outside the
    block ``compute()`` is returned as is."""
    if not reuse_active():
        return compute()
    cache: OrderedDict = _state["cache"]
    key = _digest(kind, array, settings)
    return _lookup_or_store(cache, key, compute)


def memoized_derived(
    kind: str, parent: np.ndarray, settings: tuple, compute: Callable[[], np.ndarray]
) -> np.ndarray:
    """:func:`memoized` for a result derived from a *stored* result ``parent`` (e.g. the
    contracted planes of a stored upsampled grid): keyed by the stored array's own key and
    where ``parent`` sits in it (it may be a view of a stored array, e.g. one batch entry),
    so the parent's (large) bytes are not hashed again. A ``parent`` that is neither a stored
    array nor a view of one is not memoized: ``compute()`` is returned as is."""
    if not reuse_active():
        return compute()
    cache: OrderedDict = _state["cache"]
    stored, a = None, parent
    with _LOCK:
        while isinstance(a, np.ndarray) and stored is None:
            stored = next((k for k, v in cache.items() if v is a), None)
            base, a = a, a.base
    if stored is None:
        return compute()
    view = (
        parent.__array_interface__["data"][0] - base.__array_interface__["data"][0],
        parent.shape,
        parent.strides,
        parent.dtype.str,
    )
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((kind, settings, view)).encode())
    h.update(stored)
    key = h.digest()
    return _lookup_or_store(cache, key, compute)


def _lookup_or_store(cache: OrderedDict, key: bytes, compute: Callable[[], np.ndarray]):
    """The stored result of ``key`` (made most recent), else ``compute()`` stored read-only,
    dropping the least recently used entries beyond the cache size."""
    with _LOCK:
        if key in cache:
            cache.move_to_end(key)
            _state["hits"] += 1
            return cache[key]
        _state["misses"] += 1
    out = compute()  # outside the lock: another thread may compute the same key meanwhile
    out.flags.writeable = False
    with _LOCK:
        cache[key] = out
        while len(cache) > _state["max_entries"]:
            cache.popitem(last=False)
    return out
