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

import _thread
import argparse
import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator

from mrsim.errors import MotionBoundsWarning, MrsimInputError, MrsimWarning

__all__ = ["USER_ERRORS", "BROAD_USER_ERRORS", "INTERRUPTED_STATUS", "run_command", "user_input"]

#: Exit status after Ctrl-C (128 + SIGINT, as a shell reports it).
INTERRUPTED_STATUS = 130

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
    rewrite: Callable[[str], str] | None = None,
) -> int:
    """Parse ``argv``, call the chosen subcommand's ``func`` and return its exit status.

    ``user_errors`` (default :data:`USER_ERRORS`) become one ``PROG COMMAND: error: ...``
    line on stderr and status 2 (``rewrite``, if given, turns library spellings in the
    message into the command's flags); everything else propagates with its traceback.
    :class:`~mrsim.errors.MrsimWarning` s are one ``PROG COMMAND: warning: ...`` line each.
    Ctrl-C prints ``PROG COMMAND: interrupted; re-run to resume`` (status 130: finished
    work is kept by the resumable commands, and no command leaves a half-written file);
    a closed output pipe (``mrsim fd ... | head``) ends the command silently.
    """
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    where = f"{prog} {getattr(args, 'command', None) or ''}".rstrip()
    try:
        with (
            _one_line_warnings(where, quiet_motion=getattr(args, "no_motion_warnings", False)),
            _reliable_ctrl_c(),
        ):
            status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
        return status
    except user_errors as exc:
        msg = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
        print(f"{where}: error: {rewrite(msg) if rewrite else msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{where}: interrupted; re-run to resume", file=sys.stderr)
        return INTERRUPTED_STATUS
    except BrokenPipeError:
        _silence_stdout()
        return 0


@contextlib.contextmanager
def _one_line_warnings(where: str, quiet_motion: bool = False) -> Iterator[None]:
    """Show :class:`MrsimWarning` s as one stderr line (no source line); others unchanged.
    ``quiet_motion`` (``--no-motion-warnings``) drops :class:`MotionBoundsWarning` s."""
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, MrsimWarning):
            print(f"{where}: warning: {message}", file=sys.stderr if file is None else file)
        else:
            previous(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", MrsimWarning)
        if quiet_motion:
            warnings.simplefilter("ignore", MotionBoundsWarning)
        warnings.showwarning = show
        try:
            yield
        finally:
            warnings.showwarning = previous


@contextlib.contextmanager
def _reliable_ctrl_c() -> Iterator[None]:
    """Make one Ctrl-C stop the command even when it lands in a callback.

    Python drops a KeyboardInterrupt raised inside a weakref callback or a ``__del__``
    (h5py and numpy run many), printing "Exception ignored ..." and carrying on. After the
    first SIGINT a watchdog thread re-raises it in the main thread every 0.5 s until it has
    reached :func:`run_command`; the dropped ones are not printed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"pending": False}

    def repeat() -> None:
        while state["pending"]:
            time.sleep(0.5)
            if state["pending"]:
                _thread.interrupt_main()

    def handler(signum, frame):
        if not state["pending"]:
            state["pending"] = True
            threading.Thread(target=repeat, daemon=True).start()
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def hook(unraisable) -> None:
        if not (state["pending"] and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            previous_hook(unraisable)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):  # no signals here (e.g. an embedded interpreter)
        yield
        return
    sys.unraisablehook = hook
    try:
        yield
    finally:
        state["pending"] = False
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's final flush is silent
    (the Python docs' recipe for ``signal.SIGPIPE``)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass
