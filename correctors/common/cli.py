"""The argparse pieces the correctors' command lines share (mcnet, qsmnet, vqprior).

Every corrector is ``python -m correctors.NAME train|eval|correct`` with the same flag
names (DESIGN.md): ``--data``, ``--out``, ``--model``, ``--split``, ``--threads``,
``--time-limit-min``, resume on re-run. The flags each corrector adds of its own (stage
steps, batch sizes, refinement options) stay in its ``__main__``. Errors: the commands
run under :func:`mrsim.command.run_command` with its default
:data:`~mrsim.command.USER_ERRORS` (only :class:`~mrsim.errors.MrsimInputError` is a
one-line user error); a step that hands a user's file to a reader raising plain
exceptions is wrapped in :func:`mrsim.command.user_input`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from mrsim.errors import MrsimInputError

__all__ = [
    "CONFIGS",
    "corrector_parser",
    "add_command",
    "add_data_out",
    "add_split",
    "add_config",
    "add_run_flags",
    "add_device",
    "add_threads",
    "add_model",
    "add_nifti_io",
    "set_threads",
    "time_limit_s",
    "require_rows",
]

#: Model / training configurations every corrector has (DESIGN.md).
CONFIGS = ("tiny", "cpu", "paper")

_FORMAT = argparse.RawDescriptionHelpFormatter


def corrector_parser(
    name: str, description: str
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The top parser ``python -m correctors.NAME`` and its (required) subcommands."""
    p = argparse.ArgumentParser(prog=f"python -m correctors.{name}", description=description)
    return p, p.add_subparsers(dest="command", required=True)


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    func: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    """A subcommand that runs ``func(args)``; ``epilog`` (examples) is printed as written."""
    c = sub.add_parser(
        name, help=help, epilog=epilog, formatter_class=_FORMAT, description=description
    )
    c.set_defaults(func=func)
    return c


def add_data_out(
    p: argparse.ArgumentParser,
    data_help: str = "dataset directory (or its dataset.h5)",
    out_help: str = "output directory",
) -> None:
    """``--data`` and ``--out``, both required."""
    p.add_argument("--data", required=True, help=data_help)
    p.add_argument("--out", required=True, help=out_help)


def add_split(p: argparse.ArgumentParser) -> None:
    """``--split`` (the dataset split to evaluate; default test)."""
    p.add_argument("--split", default="test")


def add_config(p: argparse.ArgumentParser) -> None:
    """``--config`` (tiny, cpu, paper; default cpu)."""
    p.add_argument(
        "--config", default="cpu", choices=CONFIGS, help="model config: tiny, cpu (default), paper"
    )


def add_run_flags(p: argparse.ArgumentParser, workers: bool = True) -> None:
    """Training's run control: ``--time-limit-min``, ``--no-resume``, ``--device``,
    ``--workers`` (DataLoader processes; with ``workers``) and ``--threads``."""
    p.add_argument(
        "--time-limit-min",
        type=float,
        default=None,
        help="stop (with a checkpoint) after this many minutes",
    )
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    add_device(p)
    if workers:
        p.add_argument("--workers", type=count(0), default=0, help="DataLoader worker processes")
    add_threads(p)


def count(minimum: int):
    """argparse type: an int >= ``minimum`` (a clear usage error otherwise, not a torch
    error later)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def add_device(p: argparse.ArgumentParser) -> None:
    """``--device`` (auto: CUDA if present)."""
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda")


def add_threads(p: argparse.ArgumentParser) -> None:
    """``--threads`` (torch CPU threads; default torch's)."""
    p.add_argument("--threads", type=count(1), default=None, help="torch CPU threads (>= 1)")


def add_model(p: argparse.ArgumentParser, help: str) -> None:
    """``--model`` (a trained model; default None: the shipped weights or none)."""
    p.add_argument("--model", default=None, help=help)


def add_nifti_io(
    p: argparse.ArgumentParser, input_help: str = "input NIfTI (.nii/.nii.gz)", axis: bool = True
) -> None:
    """``-i/--input``, ``-o/--output`` and (with ``axis``) the slice ``--axis``."""
    p.add_argument("-i", "--input", required=True, help=input_help)
    p.add_argument("-o", "--output", required=True, help="output NIfTI")
    if axis:
        p.add_argument("--axis", type=int, default=0, help="slice axis (default 0)")


def set_threads(args: argparse.Namespace) -> None:
    """``torch.set_num_threads(--threads)`` when the flag is given (torch imported lazily)."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


def time_limit_s(args: argparse.Namespace) -> float | None:
    """``--time-limit-min`` in seconds (None: no limit)."""
    return None if args.time_limit_min is None else 60.0 * args.time_limit_min


def require_rows(rows: Sequence[Any], data: str, split: str) -> None:
    """An evaluation that found no samples is the user's ``--data`` / ``--split``."""
    if not rows:
        raise MrsimInputError(f"{data}: split {split!r} has no samples")
