"""HDF5 dataset schema: shards of samples, a manifest with checksums, a merged view.

A dataset directory built by :mod:`mrsim.dataset` looks like::

    DIR/
      plan.json             the resolved recipe and its hash (written first)
      manifest.json         one entry per finished shard: sample indices, sha256, bytes
      shards/shard-00000.h5 /samples/<index:07d>/<key>  (+ attrs), written atomically
      dataset.h5            the merged view: /data/<key> are HDF5 *virtual* datasets
                            over the shards, /index/* one row per sample

Shard files are written to a temporary name and renamed into place
(``os.replace``), so a shard either exists complete or not at all; a shard
damaged later (truncated copy, bad disk) fails its manifest checksum.

Each sample group holds its arrays and the attributes ``index``, ``kind``,
``params`` (JSON: everything needed to regenerate the sample), ``subject``,
``split``, ``variant``, ``motion_magnitude``, ``mrsim_version`` and
``schema_version``. Shard files are byte-for-byte reproducible: HDF5 object
timestamps are off and the file format version is pinned.

``/index`` of ``dataset.h5`` also holds, as float columns, every other numeric
scalar attribute that all samples carry (e.g. ``clean_volume_max``).

In ``dataset.h5`` a key whose arrays share one shape across samples is stacked
to ``(n_samples, *shape)``; a key whose arrays differ only along their first
axis is concatenated along that axis, with ``/index/<key>_offsets``
``(n_samples + 1,)`` giving each sample's rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.io.atomic import atomic_path

__all__ = [
    "SCHEMA_VERSION",
    "MERGED_NAME",
    "MANIFEST_NAME",
    "PLAN_NAME",
    "SHARD_DIR",
    "Sample",
    "shard_name",
    "write_shard",
    "validate_shard",
    "file_sha256",
    "write_json_atomic",
    "read_json",
    "read_sample",
    "merge_shards",
    "resolve_dataset_file",
    "read_index",
]

SCHEMA_VERSION = 1
MERGED_NAME = "dataset.h5"
MANIFEST_NAME = "manifest.json"
PLAN_NAME = "plan.json"
SHARD_DIR = "shards"

# Pinned format bounds + no timestamps -> identical bytes for identical content.
_LIBVER = ("v108", "v110")
# Attributes every sample group carries (beyond kind-specific extras).
_INDEX_ATTRS = ("subject", "split", "variant", "motion_magnitude")


@dataclass
class Sample:
    """One dataset sample: named arrays plus scalar/string attributes.

    Parameters
    ----------
    arrays : dict of str -> ndarray
        e.g. ``clean`` ``(S, H, W)``, ``corrupted``, ``poses`` ``(L, 6)``.
    attrs : dict
        JSON-compatible scalars and strings; the builder adds ``index``,
        ``kind``, ``params``, ``subject``, ``split``, ``variant``.
    chunks : dict of str -> tuple, optional
        HDF5 chunk shape per key (how readers will slice it); default: one
        chunk per leading index for arrays of 3 or more dimensions.
    """

    arrays: dict[str, np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)
    chunks: dict[str, tuple[int, ...]] = field(default_factory=dict)


def shard_name(shard: int) -> str:
    """File name of shard number ``shard`` inside ``DIR/shards``."""
    return f"shard-{shard:05d}.h5"


def _sample_group(index: int) -> str:
    return f"samples/{index:07d}"


def _default_chunks(arr: np.ndarray) -> tuple[int, ...] | bool:
    if arr.ndim >= 3:
        # Readers take one leading-axis slice at a time (2D slices / echoes).
        return (1,) * (arr.ndim - 2) + arr.shape[-2:]
    return True if arr.size else False


def _attr_value(value: Any) -> Any:
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value)
    ):
        return np.asarray(value)  # numeric lists: native HDF5 array attributes
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    if value is None:
        return "null"
    return value


def write_shard(
    path: str | os.PathLike,
    samples: Sequence[tuple[int, Sample]],
    *,
    attrs: Mapping[str, Any] | None = None,
    compression: str | None = "gzip",
    compression_level: int = 1,
) -> str:
    """Write samples to one shard file atomically and return its sha256.

    The file is written under a temporary name (:func:`mrsim.io.atomic.atomic_path`),
    flushed to disk and renamed onto ``path``, so a reader (or a resumed build) never sees
    half a shard.

    Parameters
    ----------
    path : path-like
        Final shard path.
    samples : sequence of (index, Sample)
        Samples in the order they are stored.
    attrs : mapping, optional
        Root attributes (e.g. shard number, recipe hash).
    compression, compression_level
        HDF5 filter for arrays (gzip level 1 + shuffle by default; ``None`` off).

    Returns
    -------
    str
        Hex sha256 of the final file.
    """
    path = Path(path)
    with atomic_path(path, fsync=True) as tmp:
        with h5py.File(tmp, "w", libver=_LIBVER, track_order=True) as f:
            for key, value in (attrs or {}).items():
                f.attrs[key] = _attr_value(value)
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["indices"] = np.asarray([i for i, _ in samples], dtype=np.int64)
            for index, sample in samples:
                g = f.create_group(_sample_group(index), track_order=True)
                for key, value in sample.attrs.items():
                    g.attrs[key] = _attr_value(value)
                for key, arr in sample.arrays.items():
                    arr = np.ascontiguousarray(arr)
                    chunks = sample.chunks.get(key, _default_chunks(arr))
                    filt = {}
                    if compression and chunks and arr.size:
                        filt = {"compression": compression, "shuffle": True}
                        if compression == "gzip":
                            filt["compression_opts"] = compression_level
                    g.create_dataset(key, data=arr, chunks=chunks or None, **filt)
            f.attrs["complete"] = True
        digest = file_sha256(tmp)
    return digest


def file_sha256(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def validate_shard(
    path: str | os.PathLike,
    indices: Iterable[int],
    *,
    sha256: str | None = None,
    keys: Iterable[str] | None = None,
) -> str | None:
    """Check a shard file; return ``None`` if it is good, else the reason.

    Parameters
    ----------
    path : path-like
        Shard file.
    indices : iterable of int
        Sample indices the shard must hold.
    sha256 : str, optional
        Expected checksum (from the manifest); checked first when given.
    keys : iterable of str, optional
        Array names every sample must have.
    """
    path = Path(path)
    if not path.exists():
        return f"{path}: missing"
    if sha256 is not None:
        actual = file_sha256(path)
        if actual != sha256:
            return f"{path}: sha256 {actual[:12]}... does not match manifest {sha256[:12]}..."
    try:
        with h5py.File(path, "r") as f:
            if not f.attrs.get("complete", False):
                return f"{path}: not marked complete"
            for index in indices:
                name = _sample_group(index)
                if name not in f:
                    return f"{path}: sample {index} missing"
                g = f[name]
                for key in keys or g.keys():
                    if key not in g:
                        return f"{path}: sample {index} has no dataset {key!r}"
                    ds = g[key]
                    if ds.size:
                        # Reading the last element touches the last chunk: a
                        # truncated file fails here rather than in training.
                        ds[(-1,) * ds.ndim]
    except (OSError, KeyError, ValueError) as exc:
        return f"{path}: unreadable ({exc})"
    return None


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON to ``path`` atomically (:func:`mrsim.io.atomic.atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, naming the file in the error if it is malformed."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise MrsimInputError(f"{path}: invalid JSON ({exc})") from exc


def _decode_attr(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, np.generic):
        value = value.item()
    return value


def resolve_dataset_file(path: str | os.PathLike, *, check_shards: bool = True) -> Path:
    """The merged ``dataset.h5`` for a dataset directory (or the file itself).

    A file that is not HDF5, or not an mrsim dataset, is refused naming it. For a merged
    file, every shard its virtual datasets read from must exist and open as a complete
    shard (:func:`check_merged_shards`): a missing shard would otherwise read as zeros.
    """
    path = Path(path)
    if path.is_dir():
        merged = path / MERGED_NAME
        if not merged.exists():
            raise FileNotFoundError(
                f"{path}: no {MERGED_NAME} (is the build finished? run `mrsim dataset build`)"
            )
        path = merged
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such dataset file or directory")
    keys = _root_keys(path)
    if "index" in keys and check_shards:
        check_merged_shards(path)
    elif "index" not in keys and not any(k.startswith("sample_") for k in keys):
        raise MrsimInputError(
            f"{path}: an HDF5 file but not an mrsim dataset (no /index or sample groups); "
            "expected a folder made by `mrsim dataset build`, its dataset.h5 or a shard"
        )
    return path


def check_merged_shards(merged: str | os.PathLike) -> None:
    """Refuse a merged file whose shards are missing, unreadable or not marked complete.

    HDF5 virtual datasets fill missing sources with the fill value (zeros), so without
    this check a lost shard silently yields all-zero training pairs.
    """
    merged = Path(merged)
    with h5py.File(merged, "r") as f:
        files = [_decode_attr(v) for v in f["index/shard_file"][()]]
        samples = f["index/sample"][()]
    for rel in dict.fromkeys(files):
        shard = merged.parent / rel
        which = samples[[k for k, r in enumerate(files) if r == rel]]
        held = f"samples {which.min()}-{which.max()}" if which.size > 1 else f"sample {which[0]}"
        advice = (
            "; restore it, or re-run `mrsim dataset build RECIPE --out "
            f"{merged.parent}` (it rebuilds missing and damaged shards)"
        )
        if not shard.exists():
            raise MrsimInputError(f"{merged}: shard {rel} ({held}) is missing{advice}")
        try:
            with h5py.File(shard, "r") as g:
                complete = bool(g.attrs.get("complete", False))
        except OSError as exc:
            raise MrsimInputError(
                f"{merged}: shard {rel} ({held}) is damaged (not a readable HDF5 file: "
                f"{exc}){advice}"
            ) from exc
        if not complete:
            raise MrsimInputError(f"{merged}: shard {rel} ({held}) is not marked complete{advice}")


def read_sample(path: str | os.PathLike, index: int) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and attributes of sample ``index`` from a dataset dir, merged file or shard.

    Returns
    -------
    arrays : dict of str -> ndarray
    attrs : dict
        With ``params`` decoded from JSON.
    """
    path = Path(path)
    if path.is_dir() or "index" in _root_keys(path):
        merged = resolve_dataset_file(path, check_shards=False)  # only one shard is read
        with h5py.File(merged, "r") as f:
            rows = np.flatnonzero(f["index/sample"][()] == index)
            if rows.size == 0:
                raise KeyError(f"{merged}: no sample {index}")
            shard_file = _decode_attr(f["index/shard_file"][rows[0]])
        path = merged.parent / shard_file
        if not path.exists():
            raise MrsimInputError(
                f"{merged}: shard {shard_file} (sample {index}) is missing; restore it, or "
                f"re-run `mrsim dataset build RECIPE --out {merged.parent}`"
            )
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise MrsimInputError(
            f"{path}: not a readable mrsim shard (damaged or not HDF5: {exc}); rebuild it with "
            "`mrsim dataset build RECIPE --out DIR`"
        ) from exc
    with f:
        name = _sample_group(index)
        if name not in f:
            raise KeyError(f"{path}: no sample {index}")
        g = f[name]
        arrays = {k: g[k][()] for k in g.keys()}
        attrs = {k: _decode_attr(v) for k, v in g.attrs.items()}
    if isinstance(attrs.get("params"), str):
        attrs["params"] = json.loads(attrs["params"])
    return arrays, attrs


def _root_keys(path: Path) -> list[str]:
    try:
        with h5py.File(path, "r") as f:
            return list(f.keys())
    except OSError as exc:
        raise MrsimInputError(
            f"{path}: not an mrsim dataset (cannot open it as HDF5: {exc}); expected a folder "
            "made by `mrsim dataset build`, its dataset.h5 or a shard"
        ) from exc


def merge_shards(
    out_dir: str | os.PathLike,
    shards: Sequence[Mapping[str, Any]],
    *,
    attrs: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``DIR/dataset.h5``: virtual datasets over the shards plus a per-sample index.

    Parameters
    ----------
    out_dir : path-like
        Dataset directory; shard paths are stored relative to it, so the
        directory can be moved as a whole.
    shards : sequence of mappings
        Manifest entries with ``file`` (relative path) and ``samples`` (indices).
    attrs : mapping, optional
        Root attributes (recipe, recipe hash, ...).

    Returns
    -------
    Path
        The merged file.
    """
    out_dir = Path(out_dir)
    rows: list[tuple[int, str]] = []  # (sample index, shard file)
    for entry in shards:
        rows.extend((int(i), entry["file"]) for i in entry["samples"])
    rows.sort()
    n = len(rows)
    # Gather shapes/dtypes and index attrs sample by sample (metadata only).
    info: dict[str, list[tuple[tuple[int, ...], np.dtype]]] = {}
    index_cols: dict[str, list[Any]] = {k: [] for k in _INDEX_ATTRS}
    params: list[str] = []
    scalars: dict[str, list[float]] = {}  # other numeric scalar attributes, per sample
    units: set[str] = set()
    open_files: dict[str, h5py.File] = {}
    try:
        for index, rel in rows:
            if rel not in open_files:
                open_files[rel] = h5py.File(out_dir / rel, "r")
            g = open_files[rel][_sample_group(index)]
            for key in g.keys():
                info.setdefault(key, []).append((g[key].shape, g[key].dtype))
            for k in _INDEX_ATTRS:
                index_cols[k].append(_decode_attr(g.attrs.get(k, "" if k != "subject" else -1)))
            for k, v in g.attrs.items():
                v = _decode_attr(v)
                if k not in _INDEX_ATTRS and k != "index" and isinstance(v, (int, float)):
                    scalars.setdefault(k, []).append(float(v))
            params.append(_decode_attr(g.attrs.get("params", "{}")))
            units.add(_decode_attr(g.attrs.get("motion_magnitude_unit", "")))
    finally:
        for f in open_files.values():
            f.close()

    merged = out_dir / MERGED_NAME
    str_dt = h5py.string_dtype()
    with atomic_path(merged) as tmp, h5py.File(tmp, "w", libver=_LIBVER, track_order=True) as f:
        for key, value in (attrs or {}).items():
            f.attrs[key] = _attr_value(value)
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["n_samples"] = n
        if len(units) == 1:
            f.attrs["motion_magnitude_unit"] = units.pop()
        idx = f.create_group("index")
        idx.create_dataset("sample", data=np.array([r[0] for r in rows], dtype=np.int64))
        idx.create_dataset(
            "shard_file", data=np.array([r[1] for r in rows], dtype=object), dtype=str_dt
        )
        idx.create_dataset("subject", data=np.asarray(index_cols["subject"], dtype=np.int64))
        for k in ("split", "variant"):
            idx.create_dataset(k, data=np.array(index_cols[k], dtype=object), dtype=str_dt)
        idx.create_dataset(
            "motion_magnitude", data=np.asarray(index_cols["motion_magnitude"] or [], dtype=float)
        )
        idx.create_dataset("params", data=np.array(params, dtype=object), dtype=str_dt)
        for k, values in scalars.items():
            if len(values) == n and k not in idx:  # only attributes every sample has
                idx.create_dataset(k, data=np.asarray(values, dtype=float))
        data = f.create_group("data")
        for key, shapes in info.items():
            if len(shapes) != n:
                raise MrsimInputError(
                    f"{out_dir}: dataset {key!r} present in only {len(shapes)} of {n} samples"
                )
            dtypes = {d for _, d in shapes}
            if len(dtypes) != 1:
                raise MrsimInputError(
                    f"{out_dir}: dataset {key!r} has mixed dtypes {sorted(map(str, dtypes))}"
                )
            dtype = dtypes.pop()
            if dtype.kind in "OSU":
                continue  # strings stay in the shards (read_sample)
            same = {s for s, _ in shapes}
            if len(same) == 1:
                shape = same.pop()
                layout = h5py.VirtualLayout(shape=(n, *shape), dtype=dtype)
                for row, (index, rel) in enumerate(rows):
                    layout[row] = h5py.VirtualSource(
                        rel, f"{_sample_group(index)}/{key}", shape=shape
                    )
            elif len({s[1:] for s, _ in shapes}) == 1 and shapes[0][0]:
                lengths = np.array([s[0] for s, _ in shapes], dtype=np.int64)
                offsets = np.concatenate([[0], np.cumsum(lengths)])
                tail = shapes[0][0][1:]
                layout = h5py.VirtualLayout(shape=(int(offsets[-1]), *tail), dtype=dtype)
                for row, (index, rel) in enumerate(rows):
                    src = h5py.VirtualSource(
                        rel, f"{_sample_group(index)}/{key}", shape=(int(lengths[row]), *tail)
                    )
                    layout[int(offsets[row]) : int(offsets[row + 1])] = src
                idx.create_dataset(f"{key}_offsets", data=offsets)
            else:
                continue  # ragged in several axes: only via read_sample
            data.create_virtual_dataset(key, layout)
    return merged


def read_index(f: h5py.File) -> dict[str, np.ndarray]:
    """Load the small ``/index`` table of an open merged file into memory.

    String columns are returned as arrays of ``str``.
    """
    out = {}
    for key, ds in f["index"].items():
        arr = ds[()]
        if ds.dtype.kind == "O":
            arr = np.array([v.decode() if isinstance(v, bytes) else v for v in arr], dtype=object)
        out[key] = arr
    return out
