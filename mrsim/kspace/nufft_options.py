"""NUFFT options: :class:`NufftOptions` (backend, accuracy, upsampling, threads, precision).

Kept apart from :mod:`mrsim.kspace.nufft` (the transforms), which re-exports them, so the
options can be built, validated and written as provenance without the NUFFT machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from mrsim.errors import MrsimInputError

__all__ = ["BACKENDS", "PRECISIONS", "NufftOptions", "single_precision"]

BACKENDS = ("finufft", "sigpy")


def positive_threads(threads: Any, name: str = "threads") -> int:
    """A thread count as a positive int (bad values raise :class:`MrsimInputError`)."""
    ok = isinstance(threads, (int, np.integer)) and not isinstance(threads, bool)
    if not ok or threads < 1:
        raise MrsimInputError(f"{name} must be a positive integer, got {threads!r}")
    return int(threads)


def single_precision(eps: float) -> bool:
    """Whether a tolerance is served in single precision (complex64): ``eps >= 1e-5``."""
    return float(eps) >= 1e-5


PRECISIONS = ("auto", "single", "double")


@dataclass(frozen=True)
class NufftOptions:
    """How the moved k-space is evaluated: NUFFT backend, accuracy, threads.

    Attributes
    ----------
    eps : float
        Requested relative accuracy: 1e-6 for validation (double precision), ~1e-4 for bulk
        data (single precision, complex64).
    upsampling : float, optional
        finufft upsampling factor sigma (default 1.5 in single precision, finufft's own
        choice in double; see :func:`nufft_type2`). Ignored by sigpy.
    backend : {"finufft", "sigpy"}
    threads : int, optional
        NUFFT/FFT threads (default: all CPUs available to the process). Results do not
        depend on it (single-precision path: tested bytewise).
    precision : {"auto", "single", "double"}
        The precision follows ``eps`` (single when ``eps >= 1e-5``,
        :func:`single_precision`); an explicit value is checked against that rule and
        recorded, so a request that the tolerance cannot honour fails instead of being
        silently changed.
    fast_path : bool
        When no line's pose rotates, use one FFT plus phase ramps (exact) instead of the
        NUFFT.
    """

    eps: float = 1e-6
    upsampling: float | None = None
    backend: str = "finufft"
    threads: int | None = None
    precision: str = "auto"
    fast_path: bool = True

    def __post_init__(self) -> None:
        try:
            eps = float(self.eps)
        except (TypeError, ValueError):
            eps = float("nan")
        if not (np.isfinite(eps) and 0 < eps < 1):
            raise MrsimInputError(f"NUFFT eps must be a number in (0, 1), got {self.eps!r}")
        object.__setattr__(self, "eps", eps)
        if self.backend not in BACKENDS:
            raise MrsimInputError(f"NUFFT backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.upsampling is not None:
            up = float(self.upsampling)
            if not (np.isfinite(up) and 1 < up <= 4):
                raise MrsimInputError(
                    f"NUFFT upsampling must be in (1, 4] (finufft sigma), got {self.upsampling!r}"
                )
            object.__setattr__(self, "upsampling", up)
        if self.threads is not None:
            object.__setattr__(self, "threads", positive_threads(self.threads))
        if self.precision not in PRECISIONS:
            raise MrsimInputError(
                f"NUFFT precision must be one of {PRECISIONS}, got {self.precision!r}"
            )
        implied = "single" if single_precision(eps) else "double"
        if self.precision not in ("auto", implied):
            raise MrsimInputError(
                f"NUFFT precision {self.precision!r} does not serve eps {eps:g}: single "
                "precision is used for eps >= 1e-5 and double below (choose eps accordingly)"
            )

    @property
    def single(self) -> bool:
        """Whether results come in single precision (complex64)."""
        return single_precision(self.eps)

    def to_dict(self) -> dict[str, Any]:
        """Provenance (JSON-able); ``precision`` is the one actually used."""
        return {
            "backend": self.backend,
            "eps": self.eps,
            "upsampling": self.upsampling,
            "precision": "single" if self.single else "double",
            "threads": self.threads,
            "fast_path": self.fast_path,
        }

    def updated(self, **changes: Any) -> NufftOptions:
        """A copy with some fields changed; also accepts the keyword names of mrsim <= 0.x
        functions (``nthreads``, ``upsampfac``) so older callers keep working."""
        aliases = {"nthreads": "threads", "upsampfac": "upsampling"}
        names = {f.name for f in fields(self)}
        kw = {}
        for k, v in changes.items():
            k = aliases.get(k, k)
            if k not in names:
                raise TypeError(f"unknown NUFFT option {k!r}; expected one of {sorted(names)}")
            kw[k] = v
        return replace(self, **kw) if kw else self


#: Keyword names accepted for the fields of :class:`NufftOptions` by the engine functions
#: (``nthreads`` and ``upsampfac`` are the names of earlier mrsim versions).
NUFFT_KEYWORDS = (
    "eps",
    "backend",
    "threads",
    "nthreads",
    "upsampling",
    "upsampfac",
    "precision",
    "fast_path",
)


def nufft_options_from(
    options: NufftOptions | None, keywords: dict[str, Any], default: NufftOptions
) -> NufftOptions:
    """``options`` (or ``default``) updated by the NUFFT keywords found in ``keywords``.

    The matching keys are removed from ``keywords``, so the caller can refuse the rest.
    """
    if options is not None and not isinstance(options, NufftOptions):
        raise MrsimInputError(f"options must be a NufftOptions, got {type(options).__name__}")
    base = default if options is None else options
    found = {k: keywords.pop(k) for k in list(keywords) if k in NUFFT_KEYWORDS}
    return base.updated(**found)
