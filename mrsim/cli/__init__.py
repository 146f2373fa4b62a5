"""The ``mrsim`` command. A thin layer: each subcommand calls one library function.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``; the module is imported lazily so that ``mrsim --help``
stays fast and a broken optional dependency only affects its own command.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mrsim.command import USER_ERRORS, run_command
from mrsim.errors import MrsimInputError

__all__ = [
    "CLIError",
    "USER_ERRORS",
    "add_command",
    "add_motion_warnings_flag",
    "build_parser",
    "main",
    "run_command",
]

# (subcommand name, module under mrsim.cli, one-line help)
SUBCOMMANDS: list[tuple[str, str, str]] = [
    ("info", "info", "versions, NUFFT backends, threads, embedded data"),
    ("motion", "motion", "generate, convert and plot motion trajectories"),
    ("fd", "fd", "framewise displacement of a motion file"),
    ("phantom", "phantom", "write the embedded phantoms as NIfTI"),
    ("corrupt", "corrupt", "motion-corrupt a volume in k-space"),
    ("recon", "recon", "reconstruct k-space / MRD raw data (FFT, SENSE, known motion)"),
    ("qsm", "qsm", "QSM simulation with motion, and QSM reconstruction"),
    ("dataset", "dataset", "build, inspect and regenerate HDF5 datasets"),
]


class CLIError(MrsimInputError):
    """A bad flag combination found by a subcommand: a :class:`~mrsim.errors.MrsimInputError`
    (one line, exit status 2), named for the CLI modules that raise it."""


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    help_text: str,
    description: str | None,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand parser whose examples (``epilog``) keep their line breaks."""
    return subparsers.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_motion_warnings_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-motion-warnings``: for commands that read a motion file (see
    :mod:`mrsim.motion.bounds`; impossible poses are refused either way)."""
    parser.add_argument(
        "--no-motion-warnings",
        action="store_true",
        help="do not warn about motion beyond the physiological bounds (20 mm, 20 deg); "
        "impossible poses (300 mm, 180 deg) are refused either way",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mrsim",
        description="k-space simulation of head motion in MRI.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  mrsim motion generate pace --seed 0 -o pace.csv   # = examples/pace.csv\n"
            "  mrsim corrupt --trajectory pace.csv -o out/\n"
            "  mrsim fd rp_sub01.txt --format spm\n"
            "  mrsim info"
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module, help_text in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"mrsim.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mrsim.cli.{module}":
                raise
            continue  # subcommand not implemented in this build
        mod.register(sub, name, help_text)
    return parser


#: Library spellings in messages -> the flags every mrsim subcommand uses for them.
FLAG_SPELLINGS = {
    "tr_s= (CLI: --tr SECONDS)": "--tr SECONDS",
    "format= (CLI: --format)": "--format FORMAT",
    "mapping='stretch'": "--mapping stretch",
    "mapping='seconds'": "--mapping seconds",
    "granularity='shot'": "--granularity shot",
    "noise SNR must be": "--noise-snr must be",
}


def cli_spelling(msg: str) -> str:
    """A library message as the command line user needs it (flags, not keywords)."""
    for lib, flag in FLAG_SPELLINGS.items():
        msg = msg.replace(lib, flag)
    return msg


def main(argv: list[str] | None = None) -> int:
    """``mrsim``: :class:`~mrsim.errors.MrsimInputError` -> one line and exit 2; any other
    exception keeps its traceback (exit 1) (:func:`mrsim.command.run_command`)."""
    return run_command(build_parser(), argv, "mrsim", rewrite=cli_spelling)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
