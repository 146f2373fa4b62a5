"""Dipole forward model: susceptibility (ppm) -> relative field shift (ppm).

The field perturbation of a susceptibility distribution chi in a main field
along the unit vector ``b0_dir`` is, in k-space (Salomir et al. 2003;
Marques & Bowtell 2005),

    b(k) = D(k) chi(k),    D(k) = 1/3 - (k . b0_dir)^2 / |k|^2,   D(0) = 0,

with the Lorentz sphere correction already applied (the 1/3). ``D(0) = 0``
fixes the arbitrary field offset so that a uniformly magnetised sphere has zero
field inside. The convolution is computed with the centred FFTs of
:mod:`mrsim.kspace.fft` on a zero-padded grid, so that sources near one edge of
the field of view do not wrap around onto the other.

Directions here are in *array axis* order (axis 0, 1, 2) with physical voxel
sizes; the default ``b0_dir=(0, 0, 1)`` is the third array axis, which is
scanner z only for an axial RAS/LAS/LPS volume. Callers with a NIfTI affine
convert a world-frame B0 direction with :func:`mrsim.geometry.world_to_array`
(as :mod:`mrsim.qsm.motion` and ``mrsim qsm`` do).

References
----------
Salomir R, de Senneville BD, Moonen CT. A fast calculation method for magnetic
field inhomogeneity due to an arbitrary distribution of bulk susceptibility.
Concepts Magn Reson B 2003;19B:26-34.
Marques JP, Bowtell R. Application of a Fourier-based method for rapid
calculation of field inhomogeneity due to spatial variation of magnetic
susceptibility. Concepts Magn Reson B 2005;25B:65-78.
Seed 002, Eq. 2 (b = d * chi).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import centred_slices, crop_or_pad, voxel_sizes
from mrsim.kspace.fft import fft_centered, ifft_centered

__all__ = ["dipole_kernel", "dipole_convolve", "dipole_field", "padded_shape"]


def _unit(b0_dir: Sequence[float]) -> np.ndarray:
    v = np.asarray(b0_dir, dtype=float).reshape(-1)
    if v.shape != (3,) or not np.all(np.isfinite(v)) or np.linalg.norm(v) == 0:
        raise MrsimInputError(f"b0_dir must be a non-zero 3-vector, got {b0_dir!r}")
    return v / np.linalg.norm(v)


def _voxel(voxel_size_mm: Sequence[float] | float) -> np.ndarray:
    # kept for the QSM modules that import it; the one parser is mrsim.geometry.voxel_sizes
    return voxel_sizes(voxel_size_mm, 3)


def dipole_kernel(
    shape: Sequence[int],
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
) -> np.ndarray:
    """Dipole kernel ``D(k) = 1/3 - (k.b0)^2/|k|^2`` on a centred k-space grid.

    Parameters
    ----------
    shape : (3,) ints
        Grid shape (array axes 0, 1, 2).
    voxel_size_mm : float or (3,) floats
        Voxel size; sets the physical k spacing ``1 / (n * voxel)`` per axis.
    b0_dir : (3,) floats
        Main-field direction in array-axis coordinates (normalised here).

    Returns
    -------
    ndarray, float64, shape ``shape``
        The kernel with DC (index ``n // 2`` on every axis) set to 0.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise MrsimInputError(f"dipole_kernel needs a 3D shape, got {shape}")
    vox = _voxel(voxel_size_mm)
    b = _unit(b0_dir)
    k = [(np.arange(n) - n // 2) / (n * d) for n, d in zip(shape, vox, strict=True)]
    kx, ky, kz = np.meshgrid(*k, indexing="ij", sparse=True)
    k2 = kx**2 + ky**2 + kz**2
    kb = kx * b[0] + ky * b[1] + kz * b[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        d = 1.0 / 3.0 - kb**2 / k2
    d[tuple(n // 2 for n in shape)] = 0.0
    return d


def padded_shape(shape: Sequence[int], pad_factor: float = 2.0) -> tuple[int, ...]:
    """Even grid at least ``pad_factor`` times ``shape`` on every axis."""
    if pad_factor < 1:
        raise MrsimInputError(f"pad_factor must be >= 1, got {pad_factor}")
    return tuple(int(2 * np.ceil(n * pad_factor / 2)) for n in shape)


def _pad_centered(x: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple[slice, ...]]:
    """Zero-pad about the FOV centre (voxel n//2 at index N//2, :mod:`mrsim.geometry`) and
    return the slices of the original grid inside the padded one."""
    out = crop_or_pad(x, shape)
    return (out.copy() if out is x else out), centred_slices(x.shape, shape)[1]


def dipole_convolve(
    chi: np.ndarray,
    kernel: np.ndarray,
    *,
    threads: int | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """Periodic convolution ``ifft(kernel * fft(chi))`` on the kernel's grid (real part).

    ``chi`` must already have ``kernel.shape``. Used by the iterative solvers,
    which build the kernel once. ``threads``: FFT threads (``workers``: its earlier name).
    """
    if chi.shape != kernel.shape:
        raise MrsimInputError(f"chi shape {chi.shape} differs from kernel shape {kernel.shape}")
    n = threads if threads is not None else workers
    return ifft_centered(kernel * fft_centered(chi, workers=n), workers=n).real


def dipole_field(
    chi_ppm: np.ndarray,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
    *,
    pad_factor: float = 2.0,
    threads: int | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """Relative field shift ``b = d * chi`` (same units as ``chi``, e.g. ppm).

    Parameters
    ----------
    chi_ppm : (X, Y, Z) real array
        Susceptibility (ppm, SI volume susceptibility x 1e6).
    voxel_size_mm : float or (3,) floats
        Voxel size.
    b0_dir : (3,) floats
        Main-field direction in array-axis coordinates (a world direction ``w`` is
        ``mrsim.geometry.world_to_array(w, orientation)``).
    pad_factor : float
        The grid is zero-padded to ``pad_factor`` times its size before the FFT
        (2 removes wrap-around of the 1/r^3 tails to first order; 1 = periodic).
    threads : int, optional
        FFT threads (``workers``: its earlier name).

    Returns
    -------
    ndarray, float64, shape (X, Y, Z)
        Field shift ``b`` with ``b(k) = D(k) chi(k)`` and ``D(0) = 0``.

    References
    ----------
    Seed 002 Eq. 2; Marques & Bowtell 2005 (Concepts Magn Reson B 25B:65).
    """
    chi = np.asarray(chi_ppm, dtype=float)
    if chi.ndim != 3:
        raise MrsimInputError(f"chi must be 3D, got shape {chi.shape}")
    big = padded_shape(chi.shape, pad_factor)
    xp, sl = _pad_centered(chi, big)
    d = dipole_kernel(big, voxel_size_mm, b0_dir)
    return dipole_convolve(xp, d, threads=threads if threads is not None else workers)[sl]
