"""Recipe fields: :class:`Field` (type, default, doc, check) and the check helpers.

Used by the recipe tables (:mod:`mrsim.dataset.recipe`) and by each kind's ``[params]``
schema (:mod:`mrsim.dataset.samples` and the kind modules), which therefore do not import
the recipe loader (and the loader can import the kinds without a cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Field", "positive", "non_negative", "one_of", "length"]

_REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """Schema of one recipe field.

    Parameters
    ----------
    type : type or tuple of types
        Accepted Python type(s) after TOML parsing (``float`` also accepts int).
    default : object, optional
        Value when absent; fields without a default are required.
    doc : str
        What the field means, with its unit; shown in errors.
    check : callable, optional
        ``check(value) -> str | None``: the reason the value is invalid.
    """

    type: type | tuple[type, ...]
    default: Any = _REQUIRED
    doc: str = ""
    check: Callable[[Any], str | None] | None = None

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def positive(value: Any) -> str | None:
    """Check helper: value > 0 (elementwise for lists)."""
    vals = value if isinstance(value, list) else [value]
    return None if all(v > 0 for v in vals) else "must be > 0"


def non_negative(value: Any) -> str | None:
    """Check helper: value >= 0 (elementwise for lists)."""
    vals = value if isinstance(value, list) else [value]
    return None if all(v >= 0 for v in vals) else "must be >= 0"


def one_of(*choices: Any) -> Callable[[Any], str | None]:
    """Check helper: value in ``choices`` (every element, for lists)."""

    def check(value: Any) -> str | None:
        vals = value if isinstance(value, list) else [value]
        bad = [v for v in vals if v not in choices]
        return None if not bad else f"must be one of {list(choices)}, got {bad}"

    return check


def length(n: int, inner: Callable[[Any], str | None] | None = None):
    """Check helper: a list of exactly ``n`` items (then ``inner`` on it)."""

    def check(value: Any) -> str | None:
        if len(value) != n:
            return f"must have {n} items"
        return inner(value) if inner else None

    return check
