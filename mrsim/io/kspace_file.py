"""mrsim k-space files (``mrsim corrupt --save-kspace``): writer and reader.

One HDF5 file per acquisition:

========================  ==========================================================
``kspace``                complex64, centred (DC at n // 2), orthonormal; ``(X, Y, Z)``
                          or ``(C, X, Y, Z)`` with coils; ``attrs["axes"]`` names the axes
``coil_sensitivities``    complex64 ``(C, X, Y, Z)`` (multi-coil only): the maps the data
                          were simulated with (scanner frame, output grid)
``line_params``           float64 ``(L, 6)``: ``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg``
                          per line (world frame)
``line_time_s``           float64 ``(L,)``; ``line_pe_index`` int ``(L, 2)``; ``line_shot``
``affine``                float64 ``(4, 4)``: voxel -> world (RAS+ mm) of the k-space grid
root attributes           ``format`` ("mrsim-kspace"), ``format_version``, ``readout_axis``,
                          ``schedule_name``, ``n_coils``, ``coil_method``, ``coil_terms``
                          (-1 when not applicable), ``convention``, ``settings`` (JSON:
                          :meth:`mrsim.kspace.corrupt.CorruptionSettings.to_dict` with the
                          orientation and affine), ``severity`` (JSON), ``noise_sigma``
========================  ==========================================================

Files written before ``format`` existed (no ``format`` attribute) read the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mrsim.errors import MrsimFileNotFoundError, MrsimInputError
from mrsim.io.atomic import atomic_path

__all__ = ["KSpaceFile", "write_kspace_file", "read_kspace_file", "FORMAT", "FORMAT_VERSION"]

FORMAT = "mrsim-kspace"
FORMAT_VERSION = 1
CONVENTION = (
    "centred k-space (DC at n//2), orthonormal; "
    "line_params columns tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg"
)


@dataclass
class KSpaceFile:
    """The content of an mrsim k-space file (see the module docstring for the layout)."""

    kspace: np.ndarray
    line_params: np.ndarray
    line_time_s: np.ndarray
    line_pe_index: np.ndarray
    line_shot: np.ndarray
    readout_axis: int
    affine: np.ndarray
    schedule_name: str = ""
    coil_sensitivities: np.ndarray | None = None
    coil_method: str | None = None
    coil_terms: list[int] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    severity: dict[str, Any] = field(default_factory=dict)
    noise_sigma: float = 0.0

    @property
    def n_coils(self) -> int:
        return 0 if self.coil_sensitivities is None else int(self.coil_sensitivities.shape[0])

    def schedule(self):
        """The acquisition :class:`~mrsim.kspace.schedule.Schedule` of the stored lines."""
        from mrsim.kspace.schedule import Schedule

        shape = self.kspace.shape[-3:]
        return Schedule(
            shape,
            self.readout_axis,
            self.line_pe_index,
            self.line_time_s,
            self.line_shot,
            name=self.schedule_name,
        )


def write_kspace_file(path: str | Path, result, affine: np.ndarray) -> Path:
    """Write a :class:`~mrsim.kspace.corrupt.CorruptionResult` as an mrsim k-space file.

    Parameters
    ----------
    path : str or Path
        Output ``.h5`` file, written atomically.
    result : CorruptionResult
    affine : ndarray (4, 4)
        Voxel -> world affine of the k-space (output) grid.

    Returns
    -------
    Path
    """
    import h5py

    s = result.schedule
    sens = getattr(result, "coil_sensitivities", None)
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        kd = f.create_dataset(
            "kspace",
            data=result.kspace.astype(np.complex64),
            compression="gzip",
            compression_opts=1,
        )
        grid_axes = ["array axis 0", "array axis 1", "array axis 2"][: s.ndim]
        kd.attrs["axes"] = json.dumps((["coil"] if sens is not None else []) + grid_axes)
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["n_coils"] = 0 if sens is None else int(sens.shape[0])
        if sens is not None:
            sd = f.create_dataset(
                "coil_sensitivities",
                data=np.asarray(sens).astype(np.complex64),
                compression="gzip",
                compression_opts=1,
            )
            sd.attrs["description"] = (
                "receive sensitivities (scanner frame, output grid) the k-space was simulated "
                "with; coil images combine as sum conj(S_c) m_c / sum |S_c|^2"
            )
            terms = result.settings.get("coil_terms")
            f.attrs["coil_method"] = str(result.settings.get("coil_method"))
            f.attrs["coil_terms"] = np.asarray(terms if terms is not None else [-1] * s.ndim)
        f.create_dataset("line_params", data=result.params)
        f.create_dataset("line_time_s", data=s.time_s)
        f.create_dataset("line_pe_index", data=s.pe_index)
        f.create_dataset("line_shot", data=s.shot)
        f.create_dataset("affine", data=np.asarray(affine, dtype=float))
        f.attrs["readout_axis"] = s.readout_axis
        f.attrs["schedule_name"] = s.name
        f.attrs["convention"] = CONVENTION
        f.attrs["settings"] = json.dumps(result.settings)
        f.attrs["severity"] = json.dumps(result.severity)
        f.attrs["noise_sigma"] = result.noise_sigma
    return path


def read_kspace_file(path: str | Path) -> KSpaceFile:
    """Read an mrsim k-space file (errors name the file and what is missing)."""
    import h5py

    p = Path(path)
    if not p.exists():
        raise MrsimFileNotFoundError(f"{p}: no such file (expected an mrsim k-space .h5 file)")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise MrsimInputError(f"{p}: not an HDF5 file ({exc})") from exc
    with f:
        fmt = f.attrs.get("format", FORMAT)
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != FORMAT:
            raise MrsimInputError(f"{p}: attribute 'format' is {fmt!r}, expected {FORMAT!r}")
        version = int(f.attrs.get("format_version", 1))
        if version > FORMAT_VERSION:
            raise MrsimInputError(
                f"{p}: format_version {version} is newer than this mrsim reads ({FORMAT_VERSION})"
            )
        need = ("kspace", "line_params", "line_time_s", "line_pe_index", "line_shot", "affine")
        missing = [k for k in need if k not in f]
        if missing or "readout_axis" not in f.attrs:
            raise MrsimInputError(
                f"{p}: not an mrsim k-space file (missing {missing or ['readout_axis']})"
            )
        sens = f["coil_sensitivities"][()] if "coil_sensitivities" in f else None
        terms = None
        if "coil_terms" in f.attrs:
            t = [int(v) for v in np.asarray(f.attrs["coil_terms"]).ravel()]
            terms = None if all(v < 0 for v in t) else t
        method = f.attrs.get("coil_method") if sens is not None else None
        return KSpaceFile(
            kspace=f["kspace"][()],
            line_params=f["line_params"][()],
            line_time_s=f["line_time_s"][()],
            line_pe_index=f["line_pe_index"][()],
            line_shot=f["line_shot"][()],
            readout_axis=int(f.attrs["readout_axis"]),
            affine=f["affine"][()],
            schedule_name=str(f.attrs.get("schedule_name", "")),
            coil_sensitivities=sens,
            coil_method=None if method is None else str(method),
            coil_terms=terms,
            settings=json.loads(f.attrs.get("settings", "{}")),
            severity=json.loads(f.attrs.get("severity", "{}")),
            noise_sigma=float(f.attrs.get("noise_sigma", 0.0)),
        )
