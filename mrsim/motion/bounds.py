"""Plausibility of head poses read from files: warn beyond physiological bounds, refuse
what cannot be a head pose.

A realignment file in the wrong units reads without error: an SPM ``rp_*.txt`` whose
rotation columns hold degrees gives 57x too large rotations, a translation in metres or a
mistyped value a 5 m step. Real head motion stays well inside these bounds:

============================ ========================= ====================================
check                        bound                     outcome
============================ ========================= ====================================
translation (any sample)     ``|t| > 20 mm``           warning (:class:`MotionBoundsWarning`)
rotation (any sample)        ``|r| > 20 deg``          warning
step between samples         ``> 20 mm`` or ``20 deg`` warning
translation (any sample)     ``|t| > 300 mm``          error: larger than any head coil
rotation (any sample)        ``|r| > 180 deg``         error: not a head pose (nor an angle
                                                       a realignment tool reports)
============================ ========================= ====================================

A radian file whose rotations exceed 0.1 rad (5.7 deg) while moving the head (at the
50 mm radius of Power FD) more than 10x its translations gets a "these look like degrees"
warning: real head motion rotates and translates by similar displacements, a degree column
read as radians does not (an rp file of 0.3 deg rotations and 0.5 mm translations reads as
17 deg otherwise, under the 20 deg bound).

The warning bounds are above the largest motion of the seed papers (seed 001's PACE traces
x 8 reach ~16 mm / 16 deg, seed 002's events 5 mm / 5 deg) and far above typical fMRI motion
(FD ~0.1-0.5 mm). Files whose rotations are in radians (fsl, spm, fmriprep) get a hint that
the column may hold degrees. ``mrsim ... --no-motion-warnings`` silences the warnings (the
errors stay).
"""

from __future__ import annotations

import warnings

import numpy as np

from mrsim.errors import MotionBoundsWarning, MrsimInputError
from mrsim.motion.trajectory import PARAM_NAMES, Trajectory

__all__ = ["WARN_MM", "WARN_DEG", "MAX_MM", "MAX_DEG", "check_motion_bounds"]

WARN_MM = 20.0
WARN_DEG = 20.0
MAX_MM = 300.0
MAX_DEG = 180.0

#: Rotations (rad) above which a radian file is checked for degree values.
DEGREES_HINT_RAD = 0.1

#: Formats whose rotation columns are radians on disk.
RADIAN_FORMATS = ("fsl", "spm", "fmriprep")


#: Short column names (tx..rz) for the messages.
_NAMES = tuple(n.split("_")[0] for n in PARAM_NAMES)


def _value(j: int, v: float, fmt: str | None) -> str:
    name = _NAMES[j]
    if j >= 3 and fmt in RADIAN_FORMATS:
        return f"{name} = {v:.4g} deg ({np.deg2rad(v):.4g} rad in the {fmt} file)"
    return f"{name} = {v:.4g}"


def _looks_like_degrees(p: np.ndarray, source: str, fmt: str) -> bool:
    """Warn when a radian file's rotations look like degrees: above 0.1 rad (5.7 deg) and,
    at the 50 mm head radius of Power FD, moving the head > 10x more than its translations
    (real head motion moves both by similar amounts)."""
    rot_rad = np.deg2rad(np.abs(p[:, 3:]))
    j = int(np.argmax(rot_rad.max(axis=0)))
    peak = float(rot_rad[:, j].max())
    trans = float(np.abs(p[:, :3]).max())
    if peak <= DEGREES_HINT_RAD or 50.0 * peak <= 10.0 * trans:
        return False
    warnings.warn(
        f"{source}: column {_NAMES[3 + j]}: rotations up to {peak:.4g} rad ({np.rad2deg(peak):.3g} "
        f"deg) while the translations stay within {trans:.3g} mm: these look like degrees, but "
        f"{fmt} files store radians; if they are degrees, write an mrsim CSV with "
        "rx_deg,ry_deg,rz_deg columns (--no-motion-warnings silences this)",
        MotionBoundsWarning,
        stacklevel=4,
    )
    return True


def check_motion_bounds(traj: Trajectory, source: str, fmt: str | None = None) -> None:
    """Refuse impossible poses and warn beyond physiological bounds (module table).

    Parameters
    ----------
    traj : Trajectory
        In mrsim units (mm, deg).
    source : str
        The file the poses came from (named in the messages).
    fmt : str, optional
        Its format, for the radians/degrees hint.

    Raises
    ------
    MrsimInputError
        A translation beyond :data:`MAX_MM` or a rotation beyond :data:`MAX_DEG`.
    """
    p = np.asarray(traj.params, dtype=float)
    hint = ""
    if fmt in RADIAN_FORMATS:
        hint = (
            f"; {fmt} files store rotations in radians: if this file holds degrees, it is not "
            f"a valid {fmt} file (write an mrsim CSV with rx_deg,ry_deg,rz_deg columns)"
        )
    for j, (limit, unit) in enumerate([(MAX_MM, "mm")] * 3 + [(MAX_DEG, "deg")] * 3):
        i = int(np.argmax(np.abs(p[:, j])))
        if abs(p[i, j]) > limit:
            raise MrsimInputError(
                f"{source}: sample {i + 1}, column {_NAMES[j]}: {_value(j, p[i, j], fmt)} "
                f"cannot be a head pose (|{_NAMES[j]}| <= {limit:g} {unit})"
                + (hint if unit == "deg" else "; check the file's units (mm expected)")
            )
    for j, (limit, unit) in enumerate([(WARN_MM, "mm")] * 3 + [(WARN_DEG, "deg")] * 3):
        i = int(np.argmax(np.abs(p[:, j])))
        if abs(p[i, j]) > limit:
            warnings.warn(
                f"{source}: sample {i + 1}, column {_NAMES[j]}: {_value(j, p[i, j], fmt)} "
                f"is beyond the physiological bound {limit:g} {unit}"
                + (hint if unit == "deg" else "")
                + " (--no-motion-warnings silences this)",
                MotionBoundsWarning,
                stacklevel=3,
            )
            return  # one line per file: the first, most telling value
    if fmt in RADIAN_FORMATS and _looks_like_degrees(p, source, fmt):
        return
    if len(p) > 1:
        d = np.abs(np.diff(p, axis=0))
        for j, (limit, unit) in enumerate([(WARN_MM, "mm")] * 3 + [(WARN_DEG, "deg")] * 3):
            i = int(np.argmax(d[:, j]))
            if d[i, j] > limit:
                warnings.warn(
                    f"{source}: samples {i + 1}-{i + 2}, column {_NAMES[j]}: a step of "
                    f"{d[i, j]:.4g} {unit} is beyond the physiological bound {limit:g} {unit} "
                    "(--no-motion-warnings silences this)",
                    MotionBoundsWarning,
                    stacklevel=3,
                )
                return
