"""Motion files of the common realignment tools, read to and written from
:class:`~mrsim.motion.trajectory.Trajectory` with units converted on load.

========== ============================== ========================================= ======
format     file (detected by name)        columns (units)                           times
========== ============================== ========================================= ======
mrsim      ``*.csv``                      header names columns with units:          t_s or
                                          ``t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,    tr_s
                                          rz_deg`` (``rx_rad``..., ``t_ms`` too)
fsl        ``*.par`` (mcflirt)            rx ry rz (rad), tx ty tz (mm)             tr_s
spm        ``rp_*.txt``                   tx ty tz (mm), rx ry rz (rad)             tr_s
afni       ``*.1D`` (3dvolreg -1Dfile;    roll pitch yaw (deg), dS dL dP (mm);      tr_s
           9-column -dfile accepted)      see the mapping below
hcp        ``Movement_Regressors*.txt``   tx ty tz (mm), rx ry rz (deg), then the   tr_s
                                          6 derivatives (12 columns)
fmriprep   ``*_desc-confounds_            named columns trans_x.. (mm), rot_x..     tr_s
           timeseries.tsv``               (rad); others ignored on read
========== ============================== ========================================= ======

AFNI mapping (3dvolreg: roll about I-S, pitch about R-L, yaw about A-P, "degrees CCW";
displacements toward Superior, Left, Posterior; its help states the parameters act like
``3drotate -rotate <roll>I <pitch>R <yaw>A -ashift <dS>S <dL>L <dP>P`` and 3drotate takes
positive angles by the right-hand rule about the axis pointing I->S, R->L, A->P). In RAS:
``tx = -dL, ty = -dP, tz = dS, rx = -pitch, ry = -yaw, rz = roll`` (the L and P axes are -x
and -y).

Rotation columns of every format are taken as mrsim's ``rx, ry, rz`` (``R = Rz Ry Rx``)
without converting the tools' own Euler orders or registration direction; see
``docs/motion.md`` for why this is the chosen convention.

Bad input raises ``ValueError`` naming the file, the line and what was expected: wrong column
count, a value that is not a finite number, non-increasing times, a header with unknown
columns or units, an empty file, or a format that cannot be told from the name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mrsim.motion.fd import power_fd
from mrsim.motion.trajectory import PARAM_NAMES, Trajectory

__all__ = [
    "FORMATS",
    "detect_format",
    "has_time_column",
    "read_trajectory",
    "write_trajectory",
]

PathLike = str | os.PathLike


@dataclass(frozen=True)
class _MatrixFormat:
    """A headerless whitespace-separated matrix of motion parameters."""

    name: str
    columns: str  # for messages: the expected layout
    ncols: tuple[int, ...]  # accepted column counts
    to_params: Callable[[np.ndarray], np.ndarray]  # (N, ncols) -> (N, 6) mm/deg
    from_params: Callable[[np.ndarray], np.ndarray]  # (N, 6) -> (N, ncols[0])


def _fsl_to(m: np.ndarray) -> np.ndarray:
    return np.concatenate([m[:, 3:6], np.rad2deg(m[:, 0:3])], axis=1)


def _fsl_from(p: np.ndarray) -> np.ndarray:
    return np.concatenate([np.deg2rad(p[:, 3:]), p[:, :3]], axis=1)


def _spm_to(m: np.ndarray) -> np.ndarray:
    return np.concatenate([m[:, 0:3], np.rad2deg(m[:, 3:6])], axis=1)


def _spm_from(p: np.ndarray) -> np.ndarray:
    return np.concatenate([p[:, :3], np.deg2rad(p[:, 3:])], axis=1)


def _afni_to(m: np.ndarray) -> np.ndarray:
    if m.shape[1] == 9:  # -dfile: n roll pitch yaw dS dL dP rmsold rmsnew
        m = m[:, 1:7]
    roll, pitch, yaw, ds, dl, dp = m.T
    return np.stack([-dl, -dp, ds, -pitch, -yaw, roll], axis=1)


def _afni_from(p: np.ndarray) -> np.ndarray:
    tx, ty, tz, rx, ry, rz = p.T
    return np.stack([rz, -rx, -ry, tz, -tx, -ty], axis=1)


def _hcp_to(m: np.ndarray) -> np.ndarray:
    return m[:, :6].copy()


def _hcp_from(p: np.ndarray) -> np.ndarray:
    # Derivative columns: backward differences, 0 for the first frame.
    d = np.concatenate([np.zeros((1, 6)), np.diff(p, axis=0)])
    return np.concatenate([p, d], axis=1)


_MATRIX_FORMATS = {
    "fsl": _MatrixFormat(
        "fsl", "rx ry rz (rad) tx ty tz (mm) [FSL mcflirt .par]", (6,), _fsl_to, _fsl_from
    ),
    "spm": _MatrixFormat(
        "spm", "tx ty tz (mm) rx ry rz (rad) [SPM rp_*.txt]", (6,), _spm_to, _spm_from
    ),
    "afni": _MatrixFormat(
        "afni",
        "roll pitch yaw (deg) dS dL dP (mm) [AFNI 3dvolreg -1Dfile; or the 9-column -dfile]",
        (6, 9),
        _afni_to,
        _afni_from,
    ),
    "hcp": _MatrixFormat(
        "hcp",
        "tx ty tz (mm) rx ry rz (deg) and their 6 derivatives [HCP Movement_Regressors.txt]",
        (12,),
        _hcp_to,
        _hcp_from,
    ),
}

#: Supported format names.
FORMATS: tuple[str, ...] = ("mrsim", "fsl", "spm", "afni", "hcp", "fmriprep")

_FMRIPREP_COLS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
_TIME_UNITS = {"s": 1.0, "ms": 1e-3}
_TRANS_UNITS = {"mm": 1.0}
_ROT_UNITS = {"deg": 1.0, "rad": 180.0 / np.pi}


_MISSING_HINT = (
    " (to get one: `mrsim motion generate pace --seed 0 -o pace.csv` writes the trace of "
    "examples/pace.csv)"
)


def _format_error_hint() -> str:
    return f"pass format= (CLI: --format) as one of {', '.join(FORMATS)}"


def _first_data_line(path: Path) -> str | None:
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if s and not s.startswith("#"):
                return s
    return None


def detect_format(path: PathLike) -> str:
    """Format of a motion file from its name, or its header where the name is not enough.

    Only unambiguous cases are detected (see the module table); anything else raises a
    ``ValueError`` asking for an explicit format.
    """
    p = Path(path)
    name = p.name
    low = name.lower()
    if low.endswith(".par"):
        return "fsl"
    if low.startswith("rp_") and low.endswith(".txt"):
        return "spm"
    if low.endswith(".1d"):
        return "afni"
    if name.startswith("Movement_Regressors") and low.endswith(".txt"):
        return "hcp"
    if low.endswith(".csv"):
        return "mrsim"
    if low.endswith(".tsv"):
        if "desc-confounds" in low:
            return "fmriprep"
        if p.is_file():
            head = _first_data_line(p) or ""
            if all(c in head.split("\t") for c in _FMRIPREP_COLS):
                return "fmriprep"
    if p.is_file():
        head = _first_data_line(p) or ""
        if re.search(r"(^|,)\s*t[xyz]_[a-z]+\s*(,|$)", head):
            return "mrsim"
    raise ValueError(
        f"{path}: cannot tell the motion file format from its name or header; "
        + _format_error_hint()
    )


def _parse_float(tok: str, path: Path, lineno: int, col: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise ValueError(f"{path}: line {lineno}, column {col}: '{tok}' is not a number") from None
    if not np.isfinite(v):
        raise ValueError(
            f"{path}: line {lineno}, column {col}: value '{tok}' is not a finite number "
            "(NaN/inf are not allowed)"
        )
    return v


def _data_lines(path: Path) -> list[tuple[int, str]]:
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which is not data
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file (cannot decode as UTF-8)") from None
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if s and not s.startswith("#"):
            out.append((i, s))
    return out


def _read_matrix(path: Path, fmt: _MatrixFormat) -> np.ndarray:
    lines = _data_lines(path)
    if not lines:
        raise ValueError(f"{path}: no data rows (empty file); expected rows of {fmt.columns}")
    rows = []
    ncols = None
    for lineno, s in lines:
        toks = s.split()
        if len(toks) not in fmt.ncols:
            want = " or ".join(str(c) for c in fmt.ncols)
            raise ValueError(
                f"{path}: line {lineno}: expected {want} whitespace-separated columns "
                f"({fmt.columns}), found {len(toks)}"
            )
        if ncols is not None and len(toks) != ncols:
            raise ValueError(
                f"{path}: line {lineno}: {len(toks)} columns, but earlier rows have {ncols}"
            )
        ncols = len(toks)
        rows.append([_parse_float(t, path, lineno, str(j + 1)) for j, t in enumerate(toks)])
    return np.asarray(rows, dtype=float)


def _times(path: Path, n: int, tr_s: float | None, fmt: str) -> np.ndarray:
    if tr_s is None:
        raise ValueError(
            f"{path}: {fmt} files have no time column; pass the sampling interval "
            "tr_s= (CLI: --tr SECONDS)"
        )
    if not (np.isfinite(tr_s) and tr_s > 0):
        raise ValueError(f"tr_s must be a positive number of seconds, got {tr_s}")
    return np.arange(n) * float(tr_s)


def _parse_mrsim_header(path: Path, lineno: int, header: str) -> list[tuple[str, float]]:
    """Map each CSV column to (parameter name or 't', factor to mrsim units)."""
    cols = [c.strip() for c in header.split(",")]
    spec = []
    seen = set()
    for c in cols:
        m = re.fullmatch(r"(t|tx|ty|tz|rx|ry|rz)(?:_([A-Za-z]+))?", c)
        if not m:
            sep = next((s for s in (";", "\t") if s in c), None)
            raise ValueError(
                f"{path}: line {lineno}: unknown column '{c}'; expected a header like "
                "t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg"
                + (
                    f" (columns are separated by {sep!r} here; an mrsim CSV uses commas)"
                    if sep
                    else ""
                )
            )
        base, unit = m.group(1), m.group(2)
        units = _TIME_UNITS if base == "t" else _TRANS_UNITS if base[0] == "t" else _ROT_UNITS
        if unit is None or unit not in units:
            what = "no unit" if unit is None else f"unknown unit '{unit}'"
            raise ValueError(
                f"{path}: line {lineno}: column '{c}' has {what}; expected "
                + " or ".join(f"{base}_{u}" for u in units)
            )
        if base in seen:
            raise ValueError(f"{path}: line {lineno}: column '{base}' appears twice")
        seen.add(base)
        spec.append((base, units[unit]))
    missing = [b for b in ("tx", "ty", "tz", "rx", "ry", "rz") if b not in seen]
    if missing:
        raise ValueError(
            f"{path}: line {lineno}: header lacks column(s) {', '.join(missing)}; expected "
            "t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg"
        )
    return spec


def _read_mrsim(path: Path, tr_s: float | None) -> Trajectory:
    lines = _data_lines(path)
    if not lines:
        raise ValueError(
            f"{path}: empty file; expected a header t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg "
            "and one row per sample"
        )
    hline, header = lines[0]
    spec = _parse_mrsim_header(path, hline, header)
    if len(lines) < 2:
        raise ValueError(f"{path}: no data rows after the header (line {hline})")
    names = [c.strip() for c in header.split(",")]
    order = {b: k for k, (b, _) in enumerate(spec)}
    t = []
    params = []
    for lineno, s in lines[1:]:
        toks = [x.strip() for x in s.split(",")]
        if len(toks) != len(spec):
            raise ValueError(
                f"{path}: line {lineno}: expected {len(spec)} comma-separated values "
                f"({','.join(names)}), found {len(toks)}"
            )
        vals = [
            _parse_float(tok, path, lineno, names[k]) * spec[k][1] for k, tok in enumerate(toks)
        ]
        params.append([vals[order[b]] for b in ("tx", "ty", "tz", "rx", "ry", "rz")])
        if "t" in order:
            tv = vals[order["t"]]
            if t and tv <= t[-1]:
                raise ValueError(
                    f"{path}: line {lineno}: time {toks[order['t']]} is not after the "
                    f"previous sample's; times must be strictly increasing"
                )
            t.append(tv)
    p = np.asarray(params)
    times = np.asarray(t) if "t" in order else _times(path, len(p), tr_s, "these mrsim CSV")
    return Trajectory(times, p)


def _read_fmriprep(path: Path, tr_s: float | None) -> Trajectory:
    lines = _data_lines(path)
    if not lines:
        raise ValueError(
            f"{path}: empty file; expected an fMRIPrep confounds TSV with columns "
            + ", ".join(_FMRIPREP_COLS)
        )
    hline, header = lines[0]
    names = header.split("\t")
    missing = [c for c in _FMRIPREP_COLS if c not in names]
    if missing:
        raise ValueError(
            f"{path}: line {hline}: header lacks column(s) {', '.join(missing)}; expected an "
            "fMRIPrep confounds TSV (tab-separated, trans_x..trans_z in mm, rot_x..rot_z in rad)"
        )
    idx = [names.index(c) for c in _FMRIPREP_COLS]
    rows = []
    for lineno, s in lines[1:]:
        toks = s.split("\t")
        if len(toks) != len(names):
            raise ValueError(
                f"{path}: line {lineno}: expected {len(names)} tab-separated values like the "
                f"header, found {len(toks)}"
            )
        rows.append([_parse_float(toks[j], path, lineno, names[j]) for j in idx])
    if not rows:
        raise ValueError(f"{path}: no data rows after the header (line {hline})")
    m = np.asarray(rows)
    p = np.concatenate([m[:, :3], np.rad2deg(m[:, 3:])], axis=1)
    return Trajectory(_times(path, len(p), tr_s, "fMRIPrep confounds"), p)


def has_time_column(path: PathLike, format: str | None = None) -> bool:
    """Whether a motion file stores sample times (only an mrsim CSV with a ``t_*`` column)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such motion file{_MISSING_HINT}")
    fmt = detect_format(p) if format is None else format.lower()
    if fmt != "mrsim":
        return False
    lines = _data_lines(p)
    if not lines:
        return False
    spec = _parse_mrsim_header(p, *lines[0])
    return any(base == "t" for base, _ in spec)


def read_trajectory(
    path: PathLike, format: str | None = None, tr_s: float | None = None
) -> Trajectory:
    """Read a motion file into a :class:`Trajectory` (translations mm, rotations deg).

    Parameters
    ----------
    path : str or path-like
    format : {"mrsim", "fsl", "spm", "afni", "hcp", "fmriprep"}, optional
        Detected from the file name (and header) when unambiguous, else required.
    tr_s : float, optional
        Sampling interval (s) for files without a time column (all but an mrsim CSV with
        ``t_s``); sample ``i`` is at ``i * tr_s``. Required for those files.

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError
        Naming the file, the line and the expected form, for malformed input.
    FileNotFoundError
        If the file does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{path}: no such motion file{_MISSING_HINT}")
    fmt = detect_format(p) if format is None else format.lower()
    if fmt == "mrsim":
        traj = _read_mrsim(p, tr_s)
    elif fmt == "fmriprep":
        traj = _read_fmriprep(p, tr_s)
    elif fmt not in _MATRIX_FORMATS:
        raise ValueError(f"unknown motion file format {format!r}; expected one of {FORMATS}")
    else:
        mf = _MATRIX_FORMATS[fmt]
        params = mf.to_params(_read_matrix(p, mf))
        times = _times(p, len(params), tr_s, mf.columns.split("[")[-1].rstrip("]"))
        traj = Trajectory(times, params)
    from mrsim.motion.bounds import check_motion_bounds

    check_motion_bounds(traj, str(path), fmt)
    return traj


def _fmt_rows(a: np.ndarray, sep: str, precision: int) -> list[str]:
    a = np.asarray(a, dtype=float) + 0.0  # + 0.0 turns -0.0 into 0.0 (no "-0" in files)
    return [sep.join(f"{v:.{precision}g}" for v in row) for row in a]


def write_trajectory(
    traj: Trajectory,
    path: PathLike,
    format: str | None = None,
    *,
    comment: str | None = None,
    precision: int = 12,
) -> Path:
    """Write a trajectory in one of :data:`FORMATS`.

    Parameters
    ----------
    traj : Trajectory
    path : str or path-like
    format : str, optional
        Detected from the file name when unambiguous (see :func:`detect_format`).
    comment : str, optional
        Text written as leading ``# `` lines (mrsim CSV and AFNI .1D only, whose readers skip
        them; other tools' files have no comment syntax, so a comment there raises).
    precision : int
        Significant digits.

    Returns
    -------
    Path
        The written file. Times are written only by the mrsim CSV; other formats store
        samples only (read them back with ``tr_s``).
    """
    p = Path(path)
    fmt = detect_format(p) if format is None else format.lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown motion file format {format!r}; expected one of {FORMATS}")
    if comment is not None and fmt not in ("mrsim", "afni"):
        raise ValueError(f"{fmt} files have no comment syntax; write the comment elsewhere")
    lines = [] if comment is None else ["# " + c for c in comment.splitlines()]
    params = np.asarray(traj.params)
    if fmt == "mrsim":
        lines.append(",".join(("t_s",) + PARAM_NAMES))
        lines += _fmt_rows(np.column_stack([traj.t_s, params]), ",", precision)
    elif fmt == "fmriprep":
        p_rad = np.concatenate([params[:, :3], np.deg2rad(params[:, 3:])], axis=1)
        fd = power_fd(traj)
        lines.append("\t".join(_FMRIPREP_COLS + ("framewise_displacement",)))
        for k, row in enumerate(_fmt_rows(p_rad, "\t", precision)):
            lines.append(row + "\t" + ("n/a" if k == 0 else f"{fd[k]:.{precision}g}"))
    else:
        sep = "  " if fmt in ("fsl", "hcp") else " "
        lines += _fmt_rows(_MATRIX_FORMATS[fmt].from_params(params), sep, precision)
    from mrsim.io.atomic import atomic_path

    with atomic_path(p) as tmp:  # all or nothing
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p
