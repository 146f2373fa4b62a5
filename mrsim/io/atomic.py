"""All-or-nothing file writes: write under a temporary name in the same folder, then rename.

An interrupted or failed run therefore never leaves a truncated file under the final name
(``os.replace`` is atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def temporary_sibling(path: str | os.PathLike) -> Path:
    """A hidden temporary name next to ``path`` that keeps its suffix (``.nii.gz``, ``.h5``)."""
    p = Path(path)
    suffix = ".nii.gz" if p.name.endswith(".nii.gz") else p.suffix
    return p.with_name(f".{p.name}.{os.getpid()}.tmp{suffix}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success rename it to ``path``, on error delete it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> out.read_text()
    'hello'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(p)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()
