"""Running a command line: user errors as one line (exit 2), bugs with a traceback (exit 1).

Shared by the ``mrsim`` command (:mod:`mrsim.cli`) and the correctors' command lines, which
must not import :mod:`mrsim.cli` (DESIGN.md: lower layers never import higher ones).

- :class:`~mrsim.errors.MrsimInputError` (bad user input: the message names the file, field
  or flag and the expected form) is printed as ``PROG COMMAND: error: MESSAGE`` and the
  exit status is 2;
- any other exception propagates with its traceback (Python exits with status 1), so a real
  defect is never disguised as a user error.

Library code that validates input raises :class:`MrsimInputError` itself. Where a command
hands a user's file to a reader that raises plain ``ValueError`` / ``OSError`` /
``KeyError`` (code outside the engine), it wraps that one step in :func:`user_input`, which
re-raises those as :class:`MrsimInputError` naming the file: only the reading step, so an
error in the computation that follows still shows its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from mrsim.errors import MrsimInputError

__all__ = ["USER_ERRORS", "BROAD_USER_ERRORS", "run_command", "user_input"]

#: Exceptions printed as one line with exit status 2.
USER_ERRORS: tuple[type[BaseException], ...] = (MrsimInputError,)

#: The earlier rule (any ValueError / KeyError / OSError is a user error), for command lines
#: whose code does not raise MrsimInputError yet (the correctors' at the time of writing). It
#: can hide a bug behind a one-line message: move to USER_ERRORS when the code is converted.
BROAD_USER_ERRORS: tuple[type[BaseException], ...] = (
    MrsimInputError,
    ValueError,
    KeyError,
    OSError,
)


@contextlib.contextmanager
def user_input(what: str, *, convert: bool = True) -> Iterator[None]:
    """Name ``what`` (a file or flag the user gave) in the user errors raised inside.

    :class:`MrsimInputError` messages get ``what:`` in front unless they already name it.
    With ``convert`` (for readers outside the engine that raise plain exceptions),
    ``ValueError`` / ``OSError`` / ``KeyError`` become :class:`MrsimInputError` too; without
    it, they propagate untouched (with their traceback), as they should from a computation.
    """
    try:
        yield
    except MrsimInputError as exc:
        if what in str(exc):
            raise
        raise MrsimInputError(f"{what}: {exc}") from exc
    except (ValueError, OSError, KeyError) as exc:
        if not convert:
            raise
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        if what not in str(msg):
            msg = f"{what}: {msg}"
        raise MrsimInputError(msg) from exc


def run_command(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    prog: str,
    user_errors: tuple[type[BaseException], ...] = USER_ERRORS,
) -> int:
    """Parse ``argv``, call the chosen subcommand's ``func`` and return its exit status.

    ``user_errors`` (default :data:`USER_ERRORS`) become one ``PROG COMMAND: error: ...``
    line on stderr and status 2; everything else propagates with its traceback.
    """
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except user_errors as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{prog} {args.command}: error: {msg}", file=sys.stderr)
        return 2
