"""The ``mrsim`` command. A thin layer: each subcommand calls one library function.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``; the module is imported lazily so that ``mrsim --help``
stays fast and a broken optional dependency only affects its own command.
"""

from __future__ import annotations

import argparse
import importlib
import sys

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


class CLIError(Exception):
    """An error to print as one clean line (no traceback) and exit with status 2."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mrsim",
        description="k-space simulation of head motion in MRI.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  mrsim corrupt --trajectory examples/pace.csv -o out/\n"
            "  mrsim motion generate pace --seed 0 -o pace.csv\n"
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


# User errors: library errors already name the file/field, so they print as one line.
USER_ERRORS: tuple[type[BaseException], ...] = (CLIError, ValueError, KeyError, OSError)


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None, prog: str) -> int:
    """Parse ``argv``, call the chosen subcommand's ``func`` and turn user errors into
    one ``PROG COMMAND: error: ...`` line with exit status 2 (no traceback).

    Shared by ``mrsim`` and the correctors' command lines.
    """
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{prog} {args.command}: error: {msg}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, "mrsim")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
