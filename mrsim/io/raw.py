"""Cartesian raw data in memory (:class:`RawData`) and the reader of mrsim k-space files.

Both readers of acquired lines, :func:`read_mrsim_kspace` (the ``--save-kspace`` HDF5 file
of ``mrsim corrupt``, read by :func:`mrsim.io.kspace_file.read_kspace_file`) and
:func:`mrsim.io.ismrmrd.read_ismrmrd` (MRD raw data), return a :class:`RawData`;
:mod:`mrsim.recon` reconstructs from it.
"""

from __future__ import annotations

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
    """Whether ``path`` is an mrsim k-space file (:mod:`mrsim.io.kspace_file`): an HDF5 file
    with ``format = "mrsim-kspace"``, or, written before that attribute existed, the root
    datasets ``kspace`` and ``line_pe_index``."""
    import h5py

    from mrsim.io.kspace_file import FORMAT

    try:
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
            if fmt is not None:
                return (fmt.decode() if isinstance(fmt, bytes) else str(fmt)) == FORMAT
            return "kspace" in f and "line_pe_index" in f
    except OSError:
        return False


def read_mrsim_kspace(path: str | Path) -> RawData:
    """The ``--save-kspace`` file of ``mrsim corrupt`` as :class:`RawData`.

    Read by :func:`mrsim.io.kspace_file.read_kspace_file` (the one reader of that format).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    RawData
        With the per-line poses and, for multi-coil files, the maps the data were simulated
        with.
    """
    from mrsim.io.kspace_file import read_kspace_file

    p = Path(path)
    kf = read_kspace_file(p)
    k = np.asarray(kf.kspace)
    multi = kf.coil_sensitivities is not None
    if k.ndim not in (3, 4) or (multi and k.ndim != 4):
        raise MrsimInputError(
            f"{p}: kspace has shape {k.shape}; expected (X, Y, Z), or (C, X, Y, Z) with "
            "coil_sensitivities"
        )
    try:
        schedule = kf.schedule()
    except ValueError as exc:
        raise MrsimInputError(f"{p}: line_pe_index / line_time_s / line_shot: {exc}") from exc
    params = np.asarray(kf.line_params, dtype=float)
    if params.shape != (schedule.n_lines, 6):
        raise MrsimInputError(
            f"{p}: line_params has shape {params.shape}, expected ({schedule.n_lines}, 6)"
        )
    lines = schedule.from_grid(k if multi else k[None])
    return RawData(
        lines=lines,
        schedule=schedule,
        affine=np.asarray(kf.affine, dtype=float),
        line_params=params,
        sensitivities=None if not multi else np.asarray(kf.coil_sensitivities),
        coil_terms=None if kf.coil_terms is None else tuple(kf.coil_terms),
        source=str(p),
        attrs={"settings": kf.settings, "noise_sigma": kf.noise_sigma},
    )
