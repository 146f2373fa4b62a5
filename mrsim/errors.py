"""The one exception type for bad user input.

Everything that validates input a user gave (a file, a CLI flag, a recipe field, a library
argument) raises :class:`MrsimInputError`. The ``mrsim`` command prints it as one line and exits
with status 2; any other exception is a bug and keeps its traceback (exit 1), so a real defect is
never disguised as a user error.
"""

from __future__ import annotations


class MrsimInputError(ValueError):
    """Bad user input: the message names the file / field / flag and the expected form.

    A ``ValueError`` subclass, so library callers that already catch ``ValueError`` keep working.
    """


class MrsimFileNotFoundError(MrsimInputError, FileNotFoundError):
    """A user-named input file that does not exist (both a user error and an ``OSError``)."""


class MrsimWarning(UserWarning):
    """Input that is valid but suspicious (e.g. motion beyond physiological bounds): the
    ``mrsim`` command prints it as one ``mrsim COMMAND: warning: ...`` line on stderr."""


class MotionBoundsWarning(MrsimWarning):
    """A motion value beyond the documented physiological bounds (silence with
    ``--no-motion-warnings``; see docs/errors.md)."""
