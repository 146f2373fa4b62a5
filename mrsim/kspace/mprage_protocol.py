"""MP-RAGE timing that fits the matrix: the protocol behind ``mrsim corrupt``.

:func:`~mrsim.kspace.schedule.mprage_schedule` places one train of ``n_ky`` readouts per
inversion, with the train's k-space-centre readout at ``TI`` after the inversion, so a
linear / interleaved train needs ``TI >= (n_ky // 2) * echo_spacing`` and every ordering
needs the train to end before the next inversion: ``TI - c * echo_spacing + n_ky *
echo_spacing <= shot_TR`` (``c`` = readouts before the centre). The seed 001 defaults
(TI 0.9 s, echo spacing 7 ms, shot TR 2.3 s) fit up to ``n_ky = 257``; a 0.7 mm HCP-like
T1 (311 phase-encode lines) or ``--matrix 288,288,192`` does not.

:func:`mprage_protocol` keeps what the user gave and derives the rest:

1. echo spacing (when not given): the default 7 ms, shortened just enough for the
   readouts before the centre to fit inside TI and the train inside the shot TR (so the
   scan keeps its duration), down to :data:`MIN_ECHO_SPACING_S` (5 ms: a 3 T MP-RAGE
   readout with a 256+ matrix needs ~5-8 ms);
2. TI (when not given): 0.9 s, raised to what the train before the centre needs;
3. shot TR (when not given): 2.3 s; where the train does not fit, raised so that the
   train ends 0.1 s (about the recovery MP-RAGE protocols keep after the train) before
   the next inversion. A longer shot TR lengthens the scan: a trajectory in scan seconds
   may then need ``--mapping stretch``.

Anything the user fixed that cannot fit is an error naming the flags (``--ti-s``,
``--echo-spacing-s``, ``--shot-tr-s``) and the values that would fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mrsim.errors import MrsimInputError

__all__ = ["MprageProtocol", "mprage_protocol", "DEFAULT_TI_S", "DEFAULT_ECHO_SPACING_S"]

DEFAULT_TI_S = 0.9
DEFAULT_ECHO_SPACING_S = 0.007
DEFAULT_SHOT_TR_S = 2.3
MIN_ECHO_SPACING_S = 0.005
RECOVERY_S = 0.1


@dataclass(frozen=True)
class MprageProtocol:
    """Timing of an MP-RAGE acquisition (seconds) and which values were derived."""

    ti_s: float
    echo_spacing_s: float
    shot_tr_s: float
    derived: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line, e.g. ``TI 0.9 s, echo spacing 6.21 ms, shot TR 2.3 s (derived: ...)``."""
        text = (
            f"TI {self.ti_s:.4g} s, echo spacing {1e3 * self.echo_spacing_s:.4g} ms, "
            f"shot TR {self.shot_tr_s:.4g} s"
        )
        if self.derived:
            text += " (derived to fit the matrix: " + ", ".join(self.derived) + ")"
        return text


_FLAGS = {"ti_s": "--ti-s", "echo_spacing_s": "--echo-spacing-s", "shot_tr_s": "--shot-tr-s"}


def mprage_protocol(
    n_ky: int,
    ordering: str = "linear",
    ti_s: float | None = None,
    echo_spacing_s: float | None = None,
    shot_tr_s: float | None = None,
    *,
    flags: dict[str, str] | None = None,
) -> MprageProtocol:
    """TI, echo spacing and shot TR for an MP-RAGE train of ``n_ky`` readouts.

    Parameters
    ----------
    n_ky : int
        Readouts per train (the inner phase-encode axis of
        :func:`~mrsim.kspace.schedule.mprage_schedule`).
    ordering : str
        ``centric`` trains start at the k-space centre; others have it in the middle;
        ``per-line`` has no inversions (only the echo spacing matters).
    ti_s, echo_spacing_s, shot_tr_s : float, optional
        Fixed values; None derives them (module docstring).
    flags : dict, optional
        Names to use for the three parameters in messages (default the CLI flags).

    Returns
    -------
    MprageProtocol

    Raises
    ------
    MrsimInputError
        A non-positive value, or fixed values that cannot fit the train.
    """
    names = dict(_FLAGS if flags is None else flags)
    for key, val in (("ti_s", ti_s), ("echo_spacing_s", echo_spacing_s), ("shot_tr_s", shot_tr_s)):
        if val is not None and not (val == val and 0 < val < 60):
            raise MrsimInputError(
                f"{names[key]} must be a positive number of seconds (below 60), got {val:g}"
            )
    n_ky = int(n_ky)
    before = 0 if ordering == "centric" else n_ky // 2
    derived = []
    es = echo_spacing_s
    if es is None and ordering == "per-line":
        es = DEFAULT_ECHO_SPACING_S  # one continuous train, no inversion to fit
    elif es is None:
        ti_cap = DEFAULT_TI_S if ti_s is None else ti_s
        tr_cap = DEFAULT_SHOT_TR_S if shot_tr_s is None else shot_tr_s
        fits = [DEFAULT_ECHO_SPACING_S]
        if before:
            fits.append(ti_cap / before)
        if tr_cap > ti_cap:
            fits.append((tr_cap - ti_cap) / (n_ky - before))
        es = math.floor(min(fits) * 1e6) / 1e6  # whole microseconds: the fit is not lost
        # to rounding
        if es < DEFAULT_ECHO_SPACING_S:
            es = max(MIN_ECHO_SPACING_S, es)
            derived.append(f"echo spacing {1e3 * es:.4g} ms")
    if ordering == "per-line":
        return MprageProtocol(
            DEFAULT_TI_S if ti_s is None else ti_s,
            es,
            DEFAULT_SHOT_TR_S if shot_tr_s is None else shot_tr_s,
            tuple(derived),
        )
    ti = ti_s
    if ti is None:
        ti = max(DEFAULT_TI_S, before * es)
        if ti > DEFAULT_TI_S:
            derived.append(f"TI {ti:.4g} s")
    elif before * es > ti and echo_spacing_s is None:
        raise MrsimInputError(
            f"{names['ti_s']} {ti:g} s is too short for a {n_ky}-line train: even at the "
            f"shortest echo spacing ({1e3 * es:g} ms) the {before} readouts before the centre "
            f"take {before * es:.4g} s; raise {names['ti_s']} to >= {before * es:.4g}, use "
            "--ordering centric (centre first), or a smaller --matrix"
        )
    elif before * es > ti:
        raise MrsimInputError(
            f"{names['ti_s']} {ti:g} s is shorter than the {before} readouts before the centre "
            f"of the {n_ky}-line train at {names['echo_spacing_s']} {es:g} s "
            f"({before * es:.4g} s): raise {names['ti_s']} to >= {before * es:.4g}, lower "
            f"{names['echo_spacing_s']} to <= {ti / max(before, 1):.4g}, or leave one of them "
            "out to have it derived"
        )
    end = ti - before * es + n_ky * es
    tr = shot_tr_s
    if tr is None:
        tr = DEFAULT_SHOT_TR_S
        if end > tr:
            tr = end + RECOVERY_S
            derived.append(f"shot TR {tr:.4g} s")
    elif end > tr:
        raise MrsimInputError(
            f"{names['shot_tr_s']} {tr:g} s is too short: the {n_ky}-line train at "
            f"{names['echo_spacing_s']} {es:g} s with {names['ti_s']} {ti:g} s ends "
            f"{end:.4g} s after the inversion; raise {names['shot_tr_s']} to >= {end:.4g}, "
            f"or leave it out to have it derived"
        )
    return MprageProtocol(float(ti), float(es), float(tr), tuple(derived))
