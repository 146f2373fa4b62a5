"""The single-coil engine: k-space lines of a rigidly moving object, one NUFFT for all.

A rigid pose ``(R, t)`` moves the object about the FOV centre; in centred k-space

    M_T(k) = exp(-i 2 pi k . t) M(R^T k)                       (docs/physics.md, Eq. 2)

so each acquired line is the static object's spectrum at rotated coordinates times a
translation phase ramp. :func:`moved_kspace` evaluates every line of every pose in one
type-2 NUFFT call (:func:`mrsim.kspace.nufft.nufft_type2_lines`), so its cost does not grow
with the number of motion states; when no pose rotates, a single FFT plus phase ramps is
exact (``NufftOptions.fast_path``). With receive coils it hands over to
:mod:`mrsim.kspace.multicoil`.

Frames and units: poses are in mm and rotation matrices in the world frame; the image's
array axes are mapped to the world by ``orientation`` (direction cosines from the NIfTI
affine, :func:`mrsim.geometry.orientation_from_affine`; identity by default). Rotation is
about the FOV centre, voxel ``n // 2`` on each axis (:mod:`mrsim.geometry`).

The output grid (``schedule.shape``) may differ from the input image's: the FOV is kept, so
output sample ``u`` (cycles/FOV) has the same physical frequency ``u / FOV`` in both grids. A
smaller output matrix samples the central part of the input's k-space (coarser voxels); a
larger one is zero outside the input's band. k-space is scaled so that
:func:`~mrsim.kspace.fft.ifft_centered` of the output has the input's intensity scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import crop_or_pad, voxel_sizes
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.nufft import default_nthreads, modulate_lines, nufft_type2_lines
from mrsim.kspace.nufft_options import NufftOptions, nufft_options_from
from mrsim.kspace.poses import LinePoses
from mrsim.kspace.schedule import Schedule

__all__ = ["moved_kspace", "rigid_move", "KSpaceFunction"]

KSpaceFunction = Callable[[np.ndarray], np.ndarray]

#: Defaults of :func:`moved_kspace` and :func:`rigid_move` (validation accuracy).
DEFAULT_OPTIONS = NufftOptions(eps=1e-6)


@dataclass(frozen=True)
class Acquisition:
    """The resolved inputs of :func:`moved_kspace`: poses in the array frame (mm), the input
    voxel size and FOV, the output grid and the NUFFT options. Shared by the engine's and the
    multi-coil paths instead of long positional argument lists."""

    schedule: Schedule
    R: np.ndarray
    t: np.ndarray
    vox: np.ndarray
    fov: np.ndarray
    grid: tuple[int, ...]
    options: NufftOptions

    def with_lines(self, schedule: Schedule, R: np.ndarray, t: np.ndarray) -> Acquisition:
        """The same acquisition for other lines (e.g. shifted lines, one pose per line)."""
        return Acquisition(schedule, R, t, self.vox, self.fov, self.grid, self.options)


def is_identity(R: np.ndarray, atol: float = 1e-12) -> bool:
    return bool(np.max(np.abs(R - np.eye(R.shape[-1])), initial=0.0) <= atol)


def line_values(
    source: np.ndarray | KSpaceFunction, acq: Acquisition, scale: float = 1.0
) -> np.ndarray:
    """Moved k-space of every scheduled line times ``scale``: shape (B?, L, n_readout).

    Each line is a straight line of equispaced NUFFT points
    (:func:`~mrsim.kspace.nufft.nufft_type2_lines`), zero beyond the input's band, times the
    translation ramp and ``scale``, which the line NUFFT applies in the same pass.
    """
    schedule, R, t, fov, opt = acq.schedule, acq.R, acq.t, acq.fov, acq.options
    nd = schedule.ndim
    ro = schedule.readout_axis
    s = schedule.readout_coords()
    if callable(source):
        # kappa(l, s) = kpe_l + s e_ro / FOV_ro (cycles/mm); rotated: R_l^T kappa.
        kpe = pe_kappa(schedule, fov)
        base = np.einsum("lji,lj->li", R, kpe)  # R^T kpe
        direc = R[:, ro, :] / fov[ro]  # R^T e_ro is row `ro` of R
        kq = base[:, None, :] + direc[:, None, :] * s[None, :, None]
        vals = np.asarray(source(kq.reshape(-1, nd)), dtype=complex).reshape(kq.shape[:2])
        apply_translation_ramp(vals, schedule, kpe, t, fov, scale)
        return vals
    geo = line_geometry(acq)
    nth = default_nthreads() if opt.threads is None else int(opt.threads)
    batch = source.shape[:-nd]
    # The readout axis last (line_geometry's order): fastest in memory.
    src = np.moveaxis(source, len(batch) + ro, -1)
    return nufft_type2_lines(
        src,
        geo.origin,
        geo.step,
        len(s),
        opt.updated(threads=nth),
        band=geo.band,
        phase=geo.phase,
        scale=scale,
    )


@dataclass(frozen=True)
class LineGeometry:
    """The NUFFT description of a set of lines (:func:`line_geometry`): what
    :func:`~mrsim.kspace.nufft.nufft_type2_lines` and its adjoint
    (:func:`~mrsim.kspace.nufft_adjoint.nufft_type1_lines`) are given.

    ``origin`` and ``step`` (L, ndim) are in radians per input voxel with the axes in the
    order ``(*pe_axes, readout_axis)``; ``band`` the in-band sample range per line (None:
    all in band); ``phase`` the translation ramp ``(phase0, dphase)`` (None: no ramp).
    """

    origin: np.ndarray
    step: np.ndarray
    band: tuple[np.ndarray, np.ndarray] | None
    phase: tuple[np.ndarray, np.ndarray] | None


def line_geometry(acq: Acquisition) -> LineGeometry:
    """Rotated NUFFT points, band limits and translation ramps of ``acq``'s lines."""
    schedule, R, t, fov = acq.schedule, acq.R, acq.t, acq.fov
    ro = schedule.readout_axis
    kpe = pe_kappa(schedule, fov)
    s = schedule.readout_coords()
    # NUFFT coordinates in radians per input voxel, x_a = 2 pi kappa'_a d_a with
    # kappa' = R_l^T kappa: per line an origin (sample 0) and a step per sample.
    b = np.einsum("lji,lj->li", R, kpe) * (2 * np.pi * acq.vox)
    d = (R[:, ro, :] / fov[ro]) * (2 * np.pi * acq.vox)  # R^T e_ro is row `ro` of R
    # Band limit: the image holds |kappa'_a| <= n_a / (2 FOV_a), i.e. |x_a| <= pi. Outside it
    # the band-limited (sinc-interpolated) object has no energy, while the DTFT of the samples
    # would alias; those samples are set to zero. Along a line x is linear in s, so the in-band
    # part of each line is one interval [lo, hi] of s, found without touching every sample.
    lo, hi = _band_interval(b, d, s[0], s[-1])
    band = None
    if np.any((lo > s[0]) | (hi < s[-1])):
        j_lo = np.clip(np.ceil(lo - s[0]), 0, len(s)).astype(np.int64)
        j_hi = np.clip(np.floor(np.nan_to_num(hi - s[0], neginf=-1.0)), -1, len(s) - 1)
        band = (j_lo, j_hi.astype(np.int64))
    # Readout axis last (fastest in memory): consecutive samples of a line then touch
    # neighbouring grid cells, and the interpolation runs ~20 % faster.
    perm = (*schedule.pe_axes, ro)
    ph0, dph = _ramp_line_phases(schedule, kpe, t, fov)
    phase = (ph0, dph) if np.any(ph0) or np.any(dph) else None
    return LineGeometry((b + d * s[0])[:, perm], d[:, perm], band, phase)


def _band_interval(
    b: np.ndarray, d: np.ndarray, s0: float, s1: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per line, the interval of s in [s0, s1] where every |b_a + d_a s| <= pi."""
    lim = np.pi * (1 + 1e-6)
    lo = np.full(b.shape[0], float(s0))
    hi = np.full(b.shape[0], float(s1))
    with np.errstate(divide="ignore", invalid="ignore"):
        for a in range(b.shape[1]):
            da, ba = d[:, a], b[:, a]
            flat = np.abs(da) < 1e-15
            e1 = np.where(flat, -np.inf, (-lim - ba) / da)
            e2 = np.where(flat, np.inf, (lim - ba) / da)
            lo = np.maximum(lo, np.minimum(e1, e2))
            hi = np.minimum(hi, np.maximum(e1, e2))
            out_flat = flat & (np.abs(ba) > lim)
            hi[out_flat] = -np.inf
    return lo, hi


def dtft_scale(in_shape: Sequence[int], out_shape: Sequence[int]) -> float:
    """Raw DTFT sum -> k-space whose ifft_centered on ``out_shape`` keeps the intensity."""
    return float(np.sqrt(np.prod(out_shape)) / np.prod(in_shape))


def pe_kappa(schedule: Schedule, fov: np.ndarray) -> np.ndarray:
    """Phase-encode position of each line in cycles/mm, shape (L, ndim) (readout entry 0)."""
    kpe = np.zeros((schedule.n_lines, schedule.ndim))
    for col, a in enumerate(schedule.pe_axes):
        kpe[:, a] = schedule.pe_index[:, col] / fov[a]
    return kpe


def apply_translation_ramp(
    lines: np.ndarray,
    schedule: Schedule,
    kpe: np.ndarray,
    t: np.ndarray,
    fov: np.ndarray,
    scale: float = 1.0,
    threads: int | None = 1,
) -> None:
    """``lines (..., L, S) *= scale * exp(-i 2 pi kappa . t_l)``, in place, block by block
    (:func:`~mrsim.kspace.nufft.modulate_lines`); only the scale when nothing translates."""
    ph0, dph = _ramp_line_phases(schedule, kpe, t, fov)
    if np.any(ph0) or np.any(dph):
        modulate_lines(lines, ph0, dph, scale, threads)
    elif scale != 1.0:
        lines *= lines.real.dtype.type(scale)


def _ramp_line_phases(
    schedule: Schedule, kpe: np.ndarray, t: np.ndarray, fov: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Phase of ``exp(-i 2 pi kappa . t_l)`` at sample ``j`` of line ``l`` as
    ``phase0_l + j dphase_l`` (radians, float64): ``kappa`` is the line's phase-encode
    position plus ``s_j e_ro / FOV_ro`` with ``s_j = s_0 + j``."""
    ro = schedule.readout_axis
    s0 = schedule.readout_coords()[0]
    dph = -2 * np.pi * t[:, ro] / fov[ro]
    return -2 * np.pi * np.einsum("li,li->l", kpe, t) + dph * s0, dph


def static_kspace(image: np.ndarray, shape: Sequence[int], threads: int | None) -> np.ndarray:
    """The unmoved object's k-space on the same-FOV grid ``shape``: one FFT, centred crop /
    pad, intensity kept. Works in the image's precision. Inside
    :func:`mrsim.kspace.reuse.reuse_spectra` it is computed once per object (read-only)."""
    from mrsim.kspace.reuse import memoized

    shape = tuple(int(n) for n in shape)
    return memoized(
        "static_kspace", image, shape, lambda: _compute_static_kspace(image, shape, threads)
    )


def _compute_static_kspace(
    image: np.ndarray, shape: tuple[int, ...], threads: int | None
) -> np.ndarray:
    nd = len(shape)
    in_shape = image.shape[-nd:]
    k = crop_or_pad(fft_centered(image, axes=tuple(range(-nd, 0)), workers=threads), shape)
    k *= np.sqrt(np.prod(shape) / np.prod(in_shape))
    return k


def fft_lines(
    image: np.ndarray, schedule: Schedule, t: np.ndarray, fov: np.ndarray, threads: int | None
) -> np.ndarray:
    """Translation-only fast path: one FFT, crop/pad (FOV kept), phase ramp per line.

    Exact; works in the image's precision (complex64 for float32/complex64 input).
    """
    lines = schedule.from_grid(static_kspace(image, schedule.shape, threads))
    if np.any(t):
        apply_translation_ramp(lines, schedule, pe_kappa(schedule, fov), t, fov, threads=threads)
    return lines


def full_schedule(shape: Sequence[int]) -> Schedule:
    """All lines of a grid (readout axis 0), for whole-volume moves."""
    shape = tuple(int(s) for s in shape)
    pe = np.stack(
        np.meshgrid(*[np.arange(n) - n // 2 for n in shape[1:]], indexing="ij"), -1
    ).reshape(-1, len(shape) - 1)
    L = pe.shape[0]
    return Schedule(shape, 0, pe, np.zeros(L), np.zeros(L, dtype=int), name="full grid")


def moved_grid_image(
    image: np.ndarray, full: Schedule, R1: np.ndarray, t1: np.ndarray, acq: Acquisition
) -> np.ndarray:
    """The object at one pose ``(R1, t1)`` (array frame) on the grid of ``full``
    (band-limited), complex."""
    nd = full.ndim
    L = full.n_lines
    Rl = np.broadcast_to(R1, (L, nd, nd))
    tl = np.broadcast_to(t1, (L, nd))
    in_shape = image.shape[-nd:]
    if acq.options.fast_path and is_identity(Rl[:1]):
        lines = fft_lines(image, full, tl, acq.fov, acq.options.threads)
    else:
        lines = line_values(image, acq.with_lines(full, Rl, tl), dtft_scale(in_shape, full.shape))
    return ifft_centered(
        full.to_grid(lines), axes=tuple(range(-nd, 0)), workers=acq.options.threads
    )


def resolve_poses(
    rotations: np.ndarray | LinePoses,
    translations_mm: np.ndarray | None,
    n_lines: int,
    ndim: int,
) -> LinePoses:
    """``(rotations, translations_mm)`` arrays, or a :class:`LinePoses`, checked."""
    if isinstance(rotations, LinePoses):
        if translations_mm is not None:
            raise MrsimInputError("give translations_mm only with rotation arrays, not LinePoses")
        return LinePoses.from_arrays(rotations.rotations, rotations.translations_mm, n_lines, ndim)
    if translations_mm is None:
        raise MrsimInputError("translations_mm is required with rotation arrays")
    return LinePoses.from_arrays(rotations, translations_mm, n_lines, ndim)


def _refuse(name: str, keywords: dict[str, Any]) -> None:
    if keywords:
        raise TypeError(f"{name}() got unexpected keyword arguments {sorted(keywords)}")


# ---------------------------------------------------------------------- public API
def moved_kspace(
    image: np.ndarray | KSpaceFunction,
    schedule: Schedule,
    rotations: np.ndarray | LinePoses,
    translations_mm: np.ndarray | None = None,
    voxel_size_mm: float | Sequence[float] = 1.0,
    *,
    orientation: np.ndarray | None = None,
    options: NufftOptions | None = None,
    coils=None,
    out_shape: Sequence[int] | None = None,
    **keywords: Any,
) -> np.ndarray:
    """k-space of a rigidly moving object, each line acquired at its own pose.

    Parameters
    ----------
    image : ndarray, shape (*n) or (B, *n), or callable
        The static object in the reference pose (real or complex), 2D or 3D, with an
        optional leading batch axis moved with the same poses (e.g. echoes). Or a function
        ``f(kappa)`` of k in cycles/mm, ``kappa`` shape (M, ndim) in array-axis order,
        returning its (continuous) Fourier transform; the lines are then ``f(R^T k) *
        exp(-i 2 pi k.t)`` exactly (no NUFFT, no scaling) on the grid ``schedule.shape`` with
        ``voxel_size_mm``, which is how the analytic Shepp-Logan validation works.
    schedule : Schedule
        Acquired lines; ``schedule.shape`` is the output matrix (FOV kept, see module doc).
    rotations : ndarray, shape (L, 3, 3) or (3, 3), or LinePoses
        Per-line rotation matrices (world frame), ``L = schedule.n_lines``; or the poses
        of :func:`mrsim.kspace.poses.line_poses` (then no ``translations_mm``).
    translations_mm : ndarray, shape (L, 3) or (3,)
        Per-line translations (mm, world frame).
    voxel_size_mm : float or sequence
        Input voxel size along the array axes.
    orientation : ndarray (3, 3), optional
        Direction cosines of the array axes in the world frame
        (:func:`mrsim.geometry.orientation_from_affine`); default: array axes are world
        x, y, z.
    options : NufftOptions, optional
        Backend, tolerance (default eps 1e-6: validation), upsampling, threads, fast path.
    coils : mrsim.kspace.multicoil.Coils, optional
        Receive coils fixed in the scanner (docs/physics.md, section 5): sensitivities on
        the output grid and the multi-coil method; the result gains a coil axis.
    out_shape : sequence of int, optional
        Returned grid; default ``schedule.shape``. A larger grid zero-fills about the centre.
    **keywords
        The keyword names of earlier versions, still accepted: ``eps``, ``backend``,
        ``nthreads``/``threads``, ``upsampfac``, ``fast_path`` (fields of ``options``) and
        ``coil_sensitivities``, ``coil_method``, ``coil_terms``, ``progress`` (of ``coils``).

    Returns
    -------
    ndarray, complex, shape (*out_shape), (B, *out_shape), (C, *out_shape) or (B, C, ...)
        Centred k-space (DC at n // 2); unacquired lines are zero. complex64 when
        ``options.eps >= 1e-5``.

    References
    ----------
    Seed 001: motion-corrupted k-space "calculated and sampled with non-uniform FFT".
    """
    from mrsim.kspace.multicoil import coils_from, moved_kspace_coils

    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a mrsim.kspace.Schedule, got {type(schedule).__name__}")
    opt = nufft_options_from(options, keywords, DEFAULT_OPTIONS)
    coils = coils_from(coils, keywords)
    _refuse("moved_kspace", keywords)
    nd = schedule.ndim
    poses = resolve_poses(rotations, translations_mm, schedule.n_lines, nd)
    R, t = poses.in_array_frame(orientation)
    vox = voxel_sizes(voxel_size_mm, nd)
    grid = schedule.shape if out_shape is None else tuple(int(s) for s in out_shape)
    if callable(image):
        if coils is not None:
            raise MrsimInputError("coil sensitivities need an image, not a k-space function")
        acq = Acquisition(schedule, R, t, vox, np.asarray(schedule.shape) * vox, grid, opt)
        return schedule.to_grid(line_values(image, acq), grid)
    image = np.asarray(image)
    if image.ndim not in (nd, nd + 1) or not np.issubdtype(image.dtype, np.number):
        raise MrsimInputError(
            f"image must be a numeric {nd}D array (optionally with one leading batch axis) to "
            f"match the {nd}D schedule; got shape {image.shape}"
        )
    if not np.all(np.isfinite(image)):
        raise MrsimInputError("image contains NaN or inf")
    in_shape = image.shape[-nd:]
    fov = np.asarray(in_shape) * vox  # FOV kept: the output grid spans the same mm
    acq = Acquisition(schedule, R, t, vox, fov, grid, opt)
    if coils is not None:
        return moved_kspace_coils(image, acq, coils)
    if opt.fast_path and is_identity(R):
        lines = fft_lines(image, schedule, t, fov, opt.threads)
    else:
        lines = line_values(image, acq, dtft_scale(in_shape, schedule.shape))
    return to_output_grid(lines, acq)


def to_output_grid(lines: np.ndarray, acq: Acquisition) -> np.ndarray:
    """Scatter lines onto the output grid, scaled so a larger grid keeps the intensity."""
    k = acq.schedule.to_grid(lines, acq.grid)
    if acq.grid != acq.schedule.shape:
        k *= np.sqrt(np.prod(acq.grid) / np.prod(acq.schedule.shape))
    return k


def rigid_move(
    image: np.ndarray,
    rotation: np.ndarray,
    translation_mm: np.ndarray,
    voxel_size_mm: float | Sequence[float] = 1.0,
    *,
    orientation: np.ndarray | None = None,
    options: NufftOptions | None = None,
    out_shape: Sequence[int] | None = None,
    **keywords: Any,
) -> np.ndarray:
    """The image moved by one rigid pose, by band-limited (NUFFT) interpolation.

    ``m_T(r) = m(R^T (r - c - t) + c)`` with ``c`` the FOV centre: the image's spectrum
    evaluated at rotated k (zero outside the input's band), times the translation ramp,
    transformed back on the (same-FOV) output grid.

    Parameters
    ----------
    image : ndarray, shape (*n) or (B, *n)
    rotation : ndarray, shape (3, 3) (or (2, 2) for 2D)
    translation_mm : ndarray, shape (3,) (or (2,))
    voxel_size_mm, orientation, options
        As in :func:`moved_kspace`.
    out_shape : sequence of int, optional
        Output matrix (same FOV); default the input's.
    **keywords
        Earlier keyword names of ``options`` fields (``eps``, ``backend``, ``nthreads``,
        ``upsampfac``, ``fast_path``).

    Returns
    -------
    ndarray
        Same dtype kind as the input: real for real input (the imaginary part, which only
        the unpaired Nyquist samples of even-sized axes produce, is dropped), else complex.
    """
    opt = nufft_options_from(options, keywords, DEFAULT_OPTIONS)
    _refuse("rigid_move", keywords)
    image = np.asarray(image)
    R = np.asarray(rotation, dtype=float)
    if R.shape not in ((2, 2), (3, 3)):
        raise MrsimInputError(f"rotation must be a 3x3 (or 2x2) matrix, got shape {R.shape}")
    nd = R.shape[-1]
    if image.ndim not in (nd, nd + 1):
        raise MrsimInputError(
            f"a {nd}x{nd} rotation needs a {nd}D image (+1 batch axis), got {image.shape}"
        )
    shape = tuple(image.shape[-nd:]) if out_shape is None else tuple(int(s) for s in out_shape)
    full = full_schedule(shape)
    R1, t1 = LinePoses.from_arrays(R, translation_mm, 1, nd).in_array_frame(orientation)
    vox = voxel_sizes(voxel_size_mm, nd)
    fov = np.asarray(image.shape[-nd:]) * vox
    acq = Acquisition(full, R1, t1, vox, fov, shape, opt)
    out = moved_grid_image(image, full, R1[0], t1[0], acq)
    if np.isrealobj(image):
        return out.real.astype(image.dtype if image.dtype.kind == "f" else np.float64)
    return out
