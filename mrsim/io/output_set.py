"""Several output files written all or nothing, and output paths checked before the work.

A command that writes several results (``mrsim corrupt``: two NIfTIs, a figure, a JSON and
optionally a k-space file) must not leave some of them behind when a later step fails:
files that look like results but are not. :class:`StagedOutputs` hands out temporary
names next to each final path (:func:`mrsim.io.atomic.temporary_sibling`) and renames them
all into place only when the whole block succeeded; on any error (or Ctrl-C) it deletes
them. :func:`check_writable` is called before the (long) computation so that an
unwritable ``-o`` / ``--save-kspace`` fails in the first second, not after it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mrsim.errors import MrsimInputError
from mrsim.io.atomic import temporary_sibling

__all__ = ["StagedOutputs", "check_writable"]


def check_writable(path: str | os.PathLike, what: str, *, folder: bool = False) -> Path:
    """Refuse an output path that cannot be written, before any work is done.

        ``path`` is a file (or with ``folder`` a folder) to be created; its nearest existing
        ancestor must be a folder in which a file can be created (probed with a temporary file,
    removed at once). Nothing else is created.
    """
    p = Path(path)
    if folder:
        if p.exists() and not p.is_dir():
            raise MrsimInputError(f"{what} {p}: exists and is not a folder")
        probe = p
    else:
        if p.is_dir():
            raise MrsimInputError(f"{what} {p}: is a folder; expected a file name")
        probe = p.parent
    anc = probe
    while not anc.exists():
        if anc.parent == anc:
            break
        anc = anc.parent
    if not anc.is_dir():
        raise MrsimInputError(f"{what} {p}: {anc} is not a folder")
    try:  # a real probe: os.access says yes to root even on read-only file systems
        with tempfile.TemporaryFile(dir=anc):
            pass
    except OSError as exc:
        raise MrsimInputError(f"{what} {p}: cannot write in {anc} ({exc.strerror})") from exc
    if not folder and p.exists() and not os.access(p, os.W_OK):
        raise MrsimInputError(f"{what} {p}: the existing file is not writable")
    return p


class StagedOutputs:
    """Context manager: ``tmp = stage.path(final)``; all renamed on success, deleted on error.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with StagedOutputs() as stage:
    ...     _ = stage.path(d / "a.txt").write_text("a")
    ...     _ = stage.path(d / "b.txt").write_text("b")
    >>> sorted(p.name for p in d.iterdir())
    ['a.txt', 'b.txt']
    """

    def __init__(self) -> None:
        self._pairs: list[tuple[Path, Path]] = []

    def path(self, final: str | os.PathLike) -> Path:
        """A temporary name (same folder, same suffix) to write ``final`` to."""
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_sibling(final)
        self._pairs.append((tmp, final))
        return tmp

    def __enter__(self) -> StagedOutputs:
        return self

    def __exit__(self, typ, exc, tb) -> bool:
        if exc is None:
            for tmp, final in self._pairs:
                os.replace(tmp, final)
        else:
            for tmp, _ in self._pairs:
                tmp.unlink(missing_ok=True)
        return False
