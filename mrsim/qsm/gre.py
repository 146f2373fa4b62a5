"""Multi-echo GRE for QSM: the signal model (re-exported from :mod:`mrsim.signal.gre`, where
it now lives next to the MP-RAGE one) and real MGRE input (:func:`load_mgre`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mrsim.signal.gre import (
    GAMMA_HZ_PER_T,
    add_noise,
    echo_times,
    gre_signal,
    hz_to_ppm,
    ppm_to_hz,
)

__all__ = [
    "GAMMA_HZ_PER_T",
    "echo_times",
    "ppm_to_hz",
    "hz_to_ppm",
    "gre_signal",
    "add_noise",
    "load_mgre",
]


def _load_4d(paths: Sequence[str | Path] | str | Path, what: str) -> tuple[np.ndarray, np.ndarray]:
    from mrsim.io.nifti import load_volume

    if isinstance(paths, str | Path):
        paths = [paths]
    vols, affine = [], None
    for p in paths:
        data, aff = load_volume(p, ndim=None)
        data = np.asarray(data, dtype=float)
        if data.ndim == 3:
            data = data[..., None]
        if data.ndim != 4:
            raise ValueError(
                f"{p}: {what} must be 3D (one echo) or 4D (x, y, z, echo), got {data.shape}"
            )
        vols.append(data)
        affine = aff if affine is None else affine
    out = np.concatenate(vols, axis=-1)
    return out, affine


def load_mgre(
    magnitude: Sequence[str | Path] | str | Path,
    phase: Sequence[str | Path] | str | Path,
    te_s: Sequence[float],
    *,
    phase_units: str = "rad",
) -> tuple[np.ndarray, np.ndarray]:
    """Read real MGRE data (magnitude + phase NIfTIs) as one complex 4D array.

    Parameters
    ----------
    magnitude, phase : path or list of paths
        One 4D file (x, y, z, echo) or one 3D file per echo, in echo order.
    te_s : sequence of float
        Echo times (s); their number must match the echoes found.
    phase_units : {"rad", "siemens"}
        ``"rad"``: phase in radians within [-pi, pi]; ``"siemens"``: integers in
        [-4096, 4095] scaled by pi / 4096. Anything else outside the expected
        range is an error (no silent rescaling).

    Returns
    -------
    signal : complex128 ndarray (X, Y, Z, E)
    affine : (4, 4) ndarray
    """
    mag, affine = _load_4d(magnitude, "magnitude")
    ph, _ = _load_4d(phase, "phase")
    names = f"magnitude={magnitude!r}, phase={phase!r}"
    if mag.shape != ph.shape:
        raise ValueError(f"{names}: magnitude shape {mag.shape} != phase shape {ph.shape}")
    te = np.asarray(te_s, dtype=float).reshape(-1)
    if te.size != mag.shape[-1]:
        raise ValueError(
            f"{names}: {mag.shape[-1]} echoes in the files but {te.size} echo times given"
        )
    if phase_units == "siemens":
        if np.abs(ph).max() > 4096.5:
            raise ValueError(f"{phase!r}: phase_units='siemens' expects values in [-4096, 4095]")
        ph = ph * (np.pi / 4096.0)
    elif phase_units == "rad":
        if np.abs(ph).max() > np.pi + 1e-3:
            raise ValueError(
                f"{phase!r}: phase exceeds [-pi, pi] (max |phase| = {np.abs(ph).max():.4g}); "
                "pass phase_units='siemens' for [-4096, 4095] integer phase"
            )
    else:
        raise ValueError(f"phase_units must be 'rad' or 'siemens', got {phase_units!r}")
    if np.any(mag < 0):
        raise ValueError(f"{magnitude!r}: magnitude has negative values")
    return mag * np.exp(1j * ph), affine
