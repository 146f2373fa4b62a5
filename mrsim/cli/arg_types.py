"""argparse ``type=`` converters shared by the subcommands: the error names the flag (argparse
adds ``argument --FLAG:``) and the expected form."""

from __future__ import annotations

import argparse

import numpy as np

__all__ = ["positive_int", "positive_mm", "seconds", "tolerance"]


def tolerance(text: str) -> float:
    """A NUFFT tolerance in [1e-15, 0.1] (finufft's useful range)."""
    try:
        val = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number like 1e-4, got {text!r}") from exc
    if not (1e-15 <= val <= 1e-1):
        raise argparse.ArgumentTypeError(
            "the NUFFT tolerance must be between 1e-15 and 0.1 (e.g. 1e-6 for validation, "
            f"1e-4 for bulk data), got {text!r}"
        )
    return val


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        val = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected seconds (e.g. 0.9), got {text!r}") from exc
    if not (val > 0 and np.isfinite(val)):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return val


def positive_int(text: str) -> int:
    """An integer >= 1 (threads, workers, coils)."""
    try:
        val = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if val < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return val


def positive_mm(text: str) -> float:
    """A positive, finite length in mm (e.g. an FD head radius)."""
    try:
        val = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a length in mm (e.g. 50), got {text!r}"
        ) from exc
    if not (val > 0 and np.isfinite(val)):
        raise argparse.ArgumentTypeError(f"expected a positive number of mm, got {text!r}")
    return val
