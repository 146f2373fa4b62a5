"""Files an HDF5 file makes the library read besides itself, and a check that they stay put.

An HDF5 file can pull bytes from other files without the reader asking: a *virtual dataset*
maps regions of datasets in other files (mrsim's merged ``dataset.h5`` does this, over its own
``shards/``), *external storage* reads a dataset's raw bytes from any file by name, and an
*external link* opens another file when followed. A received dataset could therefore make a
training run or ``mrsim dataset regenerate --out`` read (and copy into its outputs) a file
outside the dataset folder. :func:`check_confined` refuses that before any data is read.

mrsim writes only virtual datasets whose sources are inside the dataset folder; it never
writes external storage or external links, so both are refused outright.
"""

from __future__ import annotations

import os
from pathlib import Path

from mrsim.errors import MrsimInputError

__all__ = ["file_references", "check_confined", "path_inside"]


def file_references(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """Every reference from ``path`` to another file, without following any of them.

    Returns
    -------
    list of (kind, object, target)
        ``kind`` is ``"virtual"`` (a virtual dataset's source file; ``"."`` is the file itself),
        ``"external"`` (external raw storage) or ``"external_link"``; ``object`` is the HDF5
        path holding the reference; ``target`` the file name as stored.
    """
    import h5py

    refs: list[tuple[str, str, str]] = []

    def visit(name: str, link) -> None:
        if isinstance(link, h5py.ExternalLink):
            refs.append(("external_link", name, link.filename))
            return
        if not isinstance(link, h5py.HardLink):
            return
        obj = f[name]
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.is_virtual:
            refs.extend(("virtual", name, m.file_name) for m in obj.virtual_sources())
        if obj.external:
            refs.extend(("external", name, str(e[0])) for e in obj.external)

    with h5py.File(path, "r") as f:
        f.visititems_links(visit)
    return refs


def path_inside(root: str | os.PathLike, relative: str | os.PathLike, what: str) -> Path:
    """``root / relative`` (or an absolute path), refused naming ``what`` unless it resolves
    inside ``root``."""
    root_r = Path(root).resolve()
    target = (root_r / relative).resolve()
    if target != root_r and root_r not in target.parents:
        raise MrsimInputError(
            f"{what}: names {str(relative)!r}, which is outside the dataset folder {root_r}; "
            "refused (a dataset only reads files inside its own folder)"
        )
    return target


def check_confined(path: str | os.PathLike, root: str | os.PathLike | None = None) -> None:
    """Refuse an HDF5 file that would read files outside ``root`` (default: its folder).

    Virtual-dataset sources must resolve inside ``root`` and are checked in turn (one level:
    a source that is itself virtual is refused); external storage and external links are
    refused. ``HDF5_VDS_PREFIX``, when set, is trusted (it is the user's environment).

    Raises
    ------
    MrsimInputError
        Naming the file, the HDF5 object and the referenced file.
    """
    path = Path(path)
    root = path.parent if root is None else Path(root)
    sources: set[Path] = set()
    for kind, obj, target in file_references(path):
        where = f"{path}: /{obj}"
        if kind != "virtual":
            raise MrsimInputError(
                f"{where} uses {kind.replace('_', ' ')} {target!r}; mrsim datasets never do, "
                "and it could read any file: refused"
            )
        if target != ".":
            sources.add(path_inside(root, path.parent.resolve() / target, where))
    for src in sorted(sources):
        if not src.is_file():
            continue  # reported by the dataset's own checks (missing shard)
        try:
            refs = file_references(src)
        except OSError:
            continue  # a damaged shard: reported by the dataset's own checks
        for kind, obj, target in refs:
            if kind != "virtual" or target != ".":
                raise MrsimInputError(
                    f"{src}: /{obj} refers to {target!r} ({kind}); a shard must hold its own "
                    "data: refused"
                )
