"""Torch datasets that stream 2D slices, 3D patches or motion windows from mrsim HDF5.

They read the merged ``dataset.h5`` written by ``mrsim dataset build`` (see
:mod:`mrsim.io.hdf5`): the small ``/index`` table is loaded once, and each
item reads only its own slice/patch from the virtual datasets ``/data/<key>``.
The HDF5 file is opened lazily in whichever process calls ``__getitem__`` (and
reopened after a fork), so the datasets are safe with ``DataLoader(...,
num_workers > 0)``: no HDF5 handle crosses a process boundary.

Splits are by subject (decided when the dataset was built); selecting
``split="train"`` never returns a slice of a validation or test subject.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from mrsim.errors import MrsimInputError
from mrsim.io.hdf5 import read_index, resolve_dataset_file

__all__ = [
    "H5Rows",
    "SliceDataset",
    "PatchDataset",
    "WindowDataset",
    "VolumeSlices",
    "MixedPairs",
]

SPLITS = ("train", "val", "test", "all")


class _LazyH5:
    """An HDF5 file opened on first use in each process (reopened after a fork, never pickled)."""

    path: Any
    _file: h5py.File | None = None
    _pid: int | None = None

    def file(self) -> h5py.File:
        """The open file for this process (opened on first use, reopened after fork)."""
        if self._file is None or self._pid != os.getpid():
            self._file = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._file

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_file"] = None
        state["_pid"] = None
        return state


class H5Rows(_LazyH5):
    """Lazy, fork-safe access to the rows of a merged dataset selected by split/variant.

    Parameters
    ----------
    path : str or Path
        Dataset directory or its ``dataset.h5``.
    split : {"train", "val", "test", "all"}
    keys : sequence of str
        Arrays under ``/data`` to read.
    variant : str or sequence of str, optional
        Keep only these variants (e.g. ``"rot"``); default all.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        split: str,
        keys: Sequence[str],
        variant: str | Sequence[str] | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.path = resolve_dataset_file(path)
        self.keys = tuple(keys)
        with h5py.File(self.path, "r") as f:
            self.index = read_index(f)
            missing = [k for k in self.keys if k not in f["data"]]
            if missing:
                raise KeyError(
                    f"{self.path}: no array(s) {missing} in /data; available {sorted(f['data'])}"
                )
            self.shapes = {k: f["data"][k].shape for k in self.keys}
            self.dtypes = {k: f["data"][k].dtype for k in self.keys}
        keep = np.ones(self.index["sample"].size, dtype=bool)
        if split != "all":
            keep &= self.index["split"] == split
        if variant is not None:
            wanted = [variant] if isinstance(variant, str) else list(variant)
            known = set(self.index["variant"].tolist())
            unknown = [v for v in wanted if v not in known]
            if unknown:
                raise ValueError(f"{self.path}: unknown variant(s) {unknown}; have {sorted(known)}")
            keep &= np.isin(self.index["variant"], wanted)
        self.rows = np.flatnonzero(keep)
        for k, dt in self.dtypes.items():
            if dt.kind not in "fiub":
                raise TypeError(f"{self.path}: /data/{k} has dtype {dt}; only real arrays stream")
        self._file = None
        self._pid = None

    def read(self, key: str, selection: tuple) -> np.ndarray:
        return self.file()["data"][key][selection]


def _to_tensor(arr: np.ndarray, add_channel: bool) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    return t.unsqueeze(0) if add_channel else t


class SliceDataset(Dataset):
    """2D slices of paired volumes, as float32 tensors ``(1, H, W)``.

    Parameters
    ----------
    path : str or Path
        Dataset directory or ``dataset.h5``.
    split : {"train", "val", "test", "all"}, default "train"
    keys : sequence of str, default ("corrupted", "clean")
        Arrays returned, in this order (input first, target second).
    variant : str or sequence of str, optional
        e.g. ``"rot"`` or ``"rot_trans"`` for ``mcnet_mprage``; default all.
    axis : int, default 0
        Axis of the per-sample array that indexes slices (``mcnet_mprage``
        stores ``(n_slices, H, W)``, so 0). Per-sample 2D arrays are one slice.
    transform : callable, optional
        Applied to the tuple of tensors.

    Returns
    -------
    tuple of torch.Tensor
        One ``(1, H, W)`` float32 tensor per key.

    Examples
    --------
    >>> ds = SliceDataset("data/mcnet", split="train", variant="rot")  # doctest: +SKIP
    >>> corrupted, clean = ds[0]  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike,
        split: str = "train",
        keys: Sequence[str] = ("corrupted", "clean"),
        variant: str | Sequence[str] | None = None,
        axis: int = 0,
        transform: Callable[[tuple[torch.Tensor, ...]], Any] | None = None,
    ) -> None:
        self.rows = H5Rows(path, split, keys, variant)
        shapes = {k: s[1:] for k, s in self.rows.shapes.items()}
        if len(set(shapes.values())) != 1:
            raise ValueError(f"{self.rows.path}: keys {list(keys)} differ in shape: {shapes}")
        shape = next(iter(shapes.values()))
        if len(shape) == 2:
            self.axis, n_slices = None, 1
        elif len(shape) == 3:
            if not -3 <= axis < 3:
                raise ValueError(f"axis must be in [-3, 2] for 3D samples, got {axis}")
            self.axis, n_slices = axis % 3, shape[axis % 3]
        else:
            raise ValueError(
                f"{self.rows.path}: SliceDataset needs 2D or 3D samples, keys have shape {shape}"
            )
        self.keys = tuple(keys)
        self.transform = transform
        self.items = [(int(r), s) for r in self.rows.rows for s in range(n_slices)]

    def __len__(self) -> int:
        return len(self.items)

    def info(self, i: int) -> dict[str, Any]:
        """Sample index, subject, variant and slice number of item ``i``."""
        row, s = self.items[i]
        idx = self.rows.index
        return {
            "sample": int(idx["sample"][row]),
            "subject": int(idx["subject"][row]),
            "variant": str(idx["variant"][row]),
            "slice": s,
        }

    @property
    def subjects(self) -> np.ndarray:
        """Subjects present in this split (sorted)."""
        return np.unique(self.rows.index["subject"][self.rows.rows])

    def __getitem__(self, i: int):
        row, s = self.items[i]
        sel: tuple = (row,) if self.axis is None else (row,) + (slice(None),) * self.axis + (s,)
        out = tuple(_to_tensor(self.rows.read(k, sel), True) for k in self.keys)
        return self.transform(out) if self.transform else out


def _tile_starts(n: int, size: int, stride: int) -> list[int]:
    if size >= n:
        return [0]
    starts = list(range(0, n - size + 1, stride))
    if starts[-1] != n - size:
        starts.append(n - size)  # last tile flush with the edge: every voxel covered
    return starts


class PatchDataset(Dataset):
    """3D patches tiling paired volumes, as float32 tensors ``(C, px, py, pz)``.

    Parameters
    ----------
    path : str or Path
        Dataset directory or ``dataset.h5``.
    split : {"train", "val", "test", "all"}, default "train"
    keys : sequence of str, default ("corrupted", "clean")
    patch_size : 3 ints, default (64, 64, 32)
        Clipped to the volume size.
    stride : 3 ints, optional
        Default: ``patch_size`` (non-overlapping tiles; the last tile on each
        axis is shifted back to end at the edge).
    variant : str or sequence of str, optional
    transform : callable, optional

    Notes
    -----
    Per-sample arrays of 3 dims give ``C = 1``; arrays of 4 dims are read as
    ``(C, X, Y, Z)`` (e.g. echoes).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        split: str = "train",
        keys: Sequence[str] = ("corrupted", "clean"),
        patch_size: Sequence[int] = (64, 64, 32),
        stride: Sequence[int] | None = None,
        variant: str | Sequence[str] | None = None,
        transform: Callable[[tuple[torch.Tensor, ...]], Any] | None = None,
    ) -> None:
        self.rows = H5Rows(path, split, keys, variant)
        spatial = {k: s[-3:] for k, s in self.rows.shapes.items()}
        if len(set(spatial.values())) != 1 or any(
            len(s) not in (4, 5) for s in self.rows.shapes.values()
        ):
            raise ValueError(
                f"{self.rows.path}: PatchDataset needs 3D or 4D samples of one spatial shape, "
                f"got {self.rows.shapes}"
            )
        vol = next(iter(spatial.values()))
        self.patch_size = tuple(min(int(p), n) for p, n in zip(patch_size, vol, strict=True))
        stride = tuple(int(s) for s in (stride or self.patch_size))
        if any(s < 1 for s in stride):
            raise ValueError(f"stride must be >= 1, got {stride}")
        grids = [
            _tile_starts(n, p, s) for n, p, s in zip(vol, self.patch_size, stride, strict=True)
        ]
        corners = [(a, b, c) for a in grids[0] for b in grids[1] for c in grids[2]]
        self.items = [(int(r), c) for r in self.rows.rows for c in corners]
        self.keys = tuple(keys)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        row, corner = self.items[i]
        box = tuple(slice(c, c + p) for c, p in zip(corner, self.patch_size, strict=True))
        out = []
        for k in self.keys:
            lead = (slice(None),) * (len(self.rows.shapes[k]) - 4)
            arr = self.rows.read(k, (row, *lead, *box))
            out.append(_to_tensor(arr, add_channel=arr.ndim == 3))
        out = tuple(out)
        return self.transform(out) if self.transform else out


class WindowDataset(Dataset):
    """Motion windows (``motion_windows`` recipe): past poses -> next pose.

    Parameters
    ----------
    path : str or Path
        Dataset directory or ``dataset.h5``.
    split : {"train", "val", "test", "all"}, default "train"
    keys : sequence of str, default ("inputs", "targets")
        Row-concatenated arrays (``/index/<key>_offsets`` gives each
        sequence's rows): ``inputs`` ``(W, n_past, 6)``, ``targets`` ``(W, 6)``.

    Returns
    -------
    tuple of torch.Tensor
        ``inputs`` ``(n_past, 6)`` and ``targets`` ``(6,)``, float32, in the
        units stored (mm and degrees unless the recipe says otherwise).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        split: str = "train",
        keys: Sequence[str] = ("inputs", "targets"),
        variant: str | Sequence[str] | None = None,
    ) -> None:
        self.rows = H5Rows(path, split, keys, variant)
        self.keys = tuple(keys)
        offsets = {k: self.rows.index.get(f"{k}_offsets") for k in keys}
        ref = offsets[self.keys[0]]
        if ref is None:
            # Every sequence has the same number of windows: stacked (N, W, ...).
            w = self.rows.shapes[self.keys[0]][1]
            ref = np.arange(self.rows.index["sample"].size + 1) * w
            self._stacked = True
        else:
            self._stacked = False
        self._offsets = ref
        self.items = [(int(r), j) for r in self.rows.rows for j in range(int(ref[r + 1] - ref[r]))]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        row, j = self.items[i]
        sel = (row, j) if self._stacked else (int(self._offsets[row]) + j,)
        return tuple(_to_tensor(self.rows.read(k, sel), False) for k in self.keys)


class VolumeSlices(_LazyH5, Dataset):
    """2D slices of stacked volumes ``(N, X, Y, Z)`` in any HDF5 file, streamed lazily.

    For intermediate files that are not built datasets (no ``/index``), e.g. the
    3D UNet outputs on which the qsmnet PReNet is trained. Each item reads one
    slice of each key; the file is opened per process, so ``num_workers > 0`` is
    safe.

    Parameters
    ----------
    path : str or Path
        HDF5 file.
    keys : sequence of str
        Datasets of one shape ``(N, X, Y, Z)``, returned in this order.
    axis : int, default 2
        Spatial axis (0, 1 or 2 of the volume) that indexes the slices.
    volumes : sequence of int, optional
        Volume indices to use (default all).

    Returns
    -------
    tuple of torch.Tensor
        One ``(1, H, W)`` float32 slice per key.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        keys: Sequence[str],
        axis: int = 2,
        volumes: Sequence[int] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.keys = tuple(keys)
        if axis not in (0, 1, 2):
            raise ValueError(f"axis must be 0, 1 or 2, got {axis}")
        self.axis = axis
        with h5py.File(self.path, "r") as f:
            missing = [k for k in self.keys if k not in f]
            if missing:
                raise KeyError(f"{self.path}: no dataset(s) {missing}; available {sorted(f)}")
            shapes = {k: f[k].shape for k in self.keys}
        if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 4:
            raise ValueError(f"{self.path}: keys must share one (N, X, Y, Z) shape, got {shapes}")
        n, *vol = next(iter(shapes.values()))
        vols = range(n) if volumes is None else [int(v) for v in volumes]
        self.items = [(v, s) for v in vols for s in range(vol[axis])]
        self._file = None
        self._pid = None

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        v, s = self.items[i]
        sel = (v,) + (slice(None),) * self.axis + (s,)
        f = self.file()
        return tuple(_to_tensor(f[k][sel], True) for k in self.keys)


class MixedPairs(Dataset):
    """Items of ``main`` followed by a seeded selection of items of ``extra``.

    For data augmentation by a fixed fraction of other pairs, e.g. identity pairs
    (motion-free input -> motion-free target) among corrupted -> motion-free pairs,
    so that a corrector learns to leave clean input alone. Which ``extra`` items are
    used is fixed at construction (a pure function of ``seed``), so a seeded batch
    order over this dataset stays reproducible and resumable.

    Parameters
    ----------
    main, extra : Dataset
        Map-style datasets returning tuples of tensors of the same shapes.
    fraction : float in [0, 1)
        Share of ``extra`` items in the result:
        ``len(extra part) = round(len(main) * fraction / (1 - fraction))``.
    seed : int
        Seed of the selection (without replacement while ``extra`` is large enough).
    """

    def __init__(self, main: Dataset, extra: Dataset, fraction: float, seed: int = 0) -> None:
        if not 0.0 <= fraction < 1.0:
            raise MrsimInputError(f"fraction must be in [0, 1), got {fraction}")
        self.main, self.extra = main, extra
        n_main, n_extra = len(main), len(extra)
        m = int(round(n_main * fraction / (1.0 - fraction)))
        if m and n_extra == 0:
            raise MrsimInputError("extra dataset is empty but fraction > 0")
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x1D]))
        self.extra_items = (
            rng.choice(n_extra, size=m, replace=m > n_extra).astype(int) if m else np.zeros(0, int)
        )

    def __len__(self) -> int:
        return len(self.main) + self.extra_items.size

    def is_extra(self, i: int) -> bool:
        """Whether item ``i`` comes from ``extra``."""
        return i >= len(self.main)

    def __getitem__(self, i: int):
        n = len(self.main)
        if i < 0 or i >= len(self):
            raise IndexError(i)
        return self.main[i] if i < n else self.extra[int(self.extra_items[i - n])]
