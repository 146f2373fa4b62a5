"""Cartesian raw data in memory (:class:`RawData`) and the reader of mrsim k-space files.

Both readers of acquired lines, :func:`read_mrsim_kspace` (the ``--save-kspace`` HDF5 file
of ``mrsim corrupt``) and :func:`mrsim.io.ismrmrd.read_ismrmrd` (MRD raw data), return a
:class:`RawData`; :mod:`mrsim.recon` reconstructs from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.kspace.schedule import Schedule

__all__ = ["RawData", "read_mrsim_kspace", "is_mrsim_kspace"]


@dataclass
class RawData:
    """Acquired Cartesian k-space lines with their geometry.

    Attributes
    ----------
    lines : ndarray, complex, shape (C, L, S)
        One row per acquired line (``C`` coils, 1 for a single coil), in acquisition order,
        centred k-space convention of :mod:`mrsim.kspace.fft` (DC at sample ``S // 2``).
    schedule : Schedule
        Phase-encode index, time and shot of each line; ``schedule.shape`` is the grid.
    affine : ndarray (4, 4)
        Voxel -> world (RAS+ mm) of the reconstruction grid (``schedule.shape``).
    line_params : ndarray (L, 6) or None
        True head pose of each line, ``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg`` (world,
        RAS), when the file records it.
    sensitivities : ndarray (C, *shape) or None
        Receive maps (scanner frame) when the file holds them.
    coil_terms : tuple of int or None
        Fourier half-widths the multi-coil data were simulated with (mrsim files).
    recon_shape : tuple of int or None
        Reconstruction matrix when it is smaller than the encoded one (readout oversampling):
        the image is cropped about voxel ``n // 2`` to it.
    source : str
        File (and group) the data came from, for messages.
    attrs : dict
        Anything else read (settings, header values).
    """

    lines: np.ndarray
    schedule: Schedule
    affine: np.ndarray
    line_params: np.ndarray | None = None
    sensitivities: np.ndarray | None = None
    coil_terms: tuple[int, ...] | None = None
    recon_shape: tuple[int, ...] | None = None
    source: str = ""
    attrs: dict = field(default_factory=dict)

    @property
    def n_coils(self) -> int:
        return int(self.lines.shape[0])

    def kspace(self) -> np.ndarray:
        """The lines on the Cartesian grid, shape (C, *schedule.shape), zero where unacquired."""
        return self.schedule.to_grid(self.lines)


def is_mrsim_kspace(path: str | Path) -> bool:
    """Whether ``path`` is an HDF5 file with the root datasets of ``--save-kspace``."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return "kspace" in f and "line_pe_index" in f
    except OSError:
        return False


def read_mrsim_kspace(path: str | Path) -> RawData:
    """Read the ``--save-kspace`` file of ``mrsim corrupt`` (mrsim.cli.corrupt.save_kspace_h5).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    RawData
        With the per-line poses and, for multi-coil files, the maps the data were simulated
        with.
    """
    import h5py

    p = Path(path)
    need = ("kspace", "line_pe_index", "line_time_s", "line_shot", "line_params", "affine")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise MrsimInputError(f"{p}: not a readable HDF5 file ({exc})") from exc
    with f:
        missing = [k for k in need if k not in f]
        if missing or "readout_axis" not in f.attrs:
            raise MrsimInputError(
                f"{p}: not an mrsim k-space file (missing {missing or ['readout_axis']}; "
                "expected the output of `mrsim corrupt --save-kspace`)"
            )
        k = np.asarray(f["kspace"][()])
        n_coils = int(f.attrs.get("n_coils", 0))
        sens = np.asarray(f["coil_sensitivities"][()]) if "coil_sensitivities" in f else None
        terms = None
        if "coil_terms" in f.attrs:
            t = [int(v) for v in np.asarray(f.attrs["coil_terms"]).reshape(-1)]
            terms = None if min(t) < 0 else tuple(t)
        schedule = Schedule(
            k.shape[1:] if n_coils else k.shape,
            int(f.attrs["readout_axis"]),
            np.asarray(f["line_pe_index"][()]),
            np.asarray(f["line_time_s"][()]),
            np.asarray(f["line_shot"][()]),
            name="from " + p.name,
        )
        params = np.asarray(f["line_params"][()], dtype=float)
        affine = np.asarray(f["affine"][()], dtype=float)
        settings = json.loads(f.attrs["settings"]) if "settings" in f.attrs else {}
        noise_sigma = float(f.attrs.get("noise_sigma", 0.0))
    if params.shape != (schedule.n_lines, 6):
        raise MrsimInputError(
            f"{p}: line_params has shape {params.shape}, expected ({schedule.n_lines}, 6)"
        )
    lines = schedule.from_grid(k if n_coils else k[None])
    return RawData(
        lines=lines,
        schedule=schedule,
        affine=affine,
        line_params=params,
        sensitivities=sens,
        coil_terms=terms,
        source=str(p),
        attrs={"settings": settings, "noise_sigma": noise_sigma},
    )
