"""Rigid-motion corruption of Cartesian k-space, line by line.

A rigid pose ``(R, t)`` moves the object about the FOV centre; in centred k-space

    M_T(k) = exp(-i 2 pi k . t) M(R^T k)                       (docs/physics.md, Eq. 2)

so each acquired line is the static object's spectrum at rotated coordinates times a
translation phase ramp. :func:`moved_kspace` evaluates every line of every pose in one
type-2 NUFFT call (:func:`mrsim.kspace.nufft.nufft_type2`), so its cost does not grow with
the number of motion states; when no pose rotates, a single FFT plus phase ramps is exact.

Frames and units: poses are in mm and rotation matrices in the world frame; the image's
array axes are mapped to the world by ``orientation`` (direction cosines from the NIfTI
affine, identity by default). Rotation is about the FOV centre, voxel ``n // 2`` on each
axis (the origin of :mod:`mrsim.kspace.fft`).

The output grid (``schedule.shape``) may differ from the input image's: the FOV is kept, so
output sample ``u`` (cycles/FOV) has the same physical frequency ``u / FOV`` in both grids. A
smaller output matrix samples the central part of the input's k-space (coarser voxels); a
larger one is zero outside the input's band. k-space is scaled so that
:func:`~mrsim.kspace.fft.ifft_centered` of the output has the input's intensity scale.

The image-domain method (:func:`image_domain_kspace`: resample the image per motion state,
FFT, keep that state's lines; TorchIO's approach) is here only as a baseline for tests and
benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.fft

from mrsim.kspace.coils import (
    bandlimit_sensitivities,
    coil_terms_per_axis,
    combine_coils,
    default_coil_terms,
    sensitivity_fourier_coefficients,
)
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.nufft import (
    default_nthreads,
    modulate_lines,
    nufft_type2_lines,
)
from mrsim.kspace.schedule import Schedule, mprage_schedule, poses_for_schedule

__all__ = [
    "moved_kspace",
    "rigid_move",
    "image_domain_kspace",
    "motion_states",
    "orientation_from_affine",
    "motion_severity",
    "noise_sigma_for_snr",
    "corrupt",
    "CorruptionResult",
]

KSpaceFunction = Callable[[np.ndarray], np.ndarray]

#: Multi-coil methods of :func:`moved_kspace` (docs/physics.md, section 5).
COIL_METHODS = ("states", "fourier")


# ---------------------------------------------------------------------- helpers
def _as_poses(
    rotations: np.ndarray, translations_mm: np.ndarray, n_lines: int, nd: int
) -> tuple[np.ndarray, np.ndarray]:
    R = np.asarray(rotations, dtype=float)
    t = np.asarray(translations_mm, dtype=float)
    if R.ndim == 2:
        R = np.broadcast_to(R, (n_lines,) + R.shape)
    if t.ndim == 1:
        t = np.broadcast_to(t, (n_lines,) + t.shape)
    if nd == 2 and R.shape[-2:] == (3, 3):
        # A 2D image can only follow in-plane motion: take the (x, y) block and refuse
        # through-plane rotation instead of silently dropping it.
        if np.max(np.abs(R[:, 2, :2])) > 1e-9 or np.max(np.abs(R[:, :2, 2])) > 1e-9:
            raise ValueError("a 2D image cannot follow through-plane rotations (rx, ry != 0)")
        R = R[:, :2, :2]
    if t.shape[-1] == 3 and nd == 2:
        t = t[:, :2]
    if R.shape != (n_lines, nd, nd) or t.shape != (n_lines, nd):
        raise ValueError(
            f"rotations must have shape ({n_lines}, {nd}, {nd}) (or ({nd}, {nd})) and "
            f"translations_mm ({n_lines}, {nd}) (or ({nd},)), one pose per schedule line; got "
            f"{np.shape(rotations)} and {np.shape(translations_mm)}"
        )
    return R, t


def _to_array_frame(
    R: np.ndarray, t: np.ndarray, orientation: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """World-frame poses -> array-axis frame (mm along each array axis)."""
    if orientation is None:
        return R, t
    D = np.asarray(orientation, dtype=float)
    nd = R.shape[-1]
    if D.shape != (nd, nd) or not np.allclose(D.T @ D, np.eye(nd), atol=1e-6):
        raise ValueError(
            f"orientation must be a {nd}x{nd} orthonormal matrix of direction cosines "
            "(columns: world direction of each array axis), e.g. from mrsim.kspace.corrupt."
            f"orientation_from_affine; got {D.tolist()}"
        )
    # A world displacement w has array-frame components D^T w; R_a = D^T R D.
    return np.einsum("ji,ljk,km->lim", D, R, D), t @ D


def orientation_from_affine(affine: np.ndarray) -> np.ndarray:
    """Direction cosines (3x3, columns = world direction of each array axis) of an affine.

    Handles any orientation (axis permutations, flips, obliques); shears are refused.
    """
    A = np.asarray(affine, dtype=float)[:3, :3]
    vox = np.linalg.norm(A, axis=0)
    if np.any(vox <= 0):
        raise ValueError(f"affine has a zero-length axis: {A.tolist()}")
    D = A / vox
    if not np.allclose(D.T @ D, np.eye(3), atol=1e-4):
        raise ValueError("affine has sheared (non-orthogonal) axes; resample the image first")
    return D


def _voxel(voxel_size_mm: float | Sequence[float], nd: int) -> np.ndarray:
    v = np.broadcast_to(np.asarray(voxel_size_mm, dtype=float), (nd,)).copy()
    if np.any(v <= 0) or not np.all(np.isfinite(v)):
        raise ValueError(f"voxel_size_mm must be positive, got {tuple(v)}")
    return v


def _is_identity(R: np.ndarray, atol: float = 1e-12) -> bool:
    return bool(np.max(np.abs(R - np.eye(R.shape[-1])), initial=0.0) <= atol)


def motion_states(
    rotations: np.ndarray, translations_mm: np.ndarray, decimals: int = 9
) -> tuple[np.ndarray, np.ndarray]:
    """Group lines with identical poses into motion states.

    Returns
    -------
    first : ndarray of int, shape (S,)
        Index of one line of each state.
    state_of_line : ndarray of int, shape (L,)
    """
    L = rotations.shape[0]
    key = np.round(np.concatenate([rotations.reshape(L, -1), translations_mm], axis=1), decimals)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return first, inv.reshape(-1)


def _line_values(
    source: np.ndarray | KSpaceFunction,
    in_shape: tuple[int, ...],
    vox_in: np.ndarray,
    schedule: Schedule,
    R: np.ndarray,
    t: np.ndarray,
    fov: np.ndarray,
    backend: str,
    eps: float,
    nthreads: int | None,
    upsampfac: float | None,
    scale: float = 1.0,
) -> np.ndarray:
    """Moved k-space of every scheduled line times ``scale``: shape (B?, L, n_readout).

    Each line is a straight line of equispaced NUFFT points
    (:func:`~mrsim.kspace.nufft.nufft_type2_lines`), zero beyond the input's band, times the
    translation ramp and ``scale``, which the line NUFFT applies in the same pass.
    """
    nd = schedule.ndim
    ro = schedule.readout_axis
    # kappa(l, s) = kpe_l + s e_ro / FOV_ro (cycles/mm); rotated: R_l^T kappa.
    kpe = _pe_kappa(schedule, fov)
    s = schedule.readout_coords()
    base = np.einsum("lji,lj->li", R, kpe)  # R^T kpe
    direc = R[:, ro, :] / fov[ro]  # R^T e_ro is row `ro` of R
    if callable(source):
        kq = base[:, None, :] + direc[:, None, :] * s[None, :, None]
        vals = np.asarray(source(kq.reshape(-1, nd)), dtype=complex).reshape(kq.shape[:2])
        _apply_translation_ramp(vals, schedule, kpe, t, fov, scale)
        return vals
    # NUFFT coordinates in radians per input voxel, x_a = 2 pi kappa'_a d_a: per line an
    # origin (sample 0) and a step per sample.
    b = base * (2 * np.pi * vox_in)
    d = direc * (2 * np.pi * vox_in)
    nth = default_nthreads() if nthreads is None else int(nthreads)
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
    batch = source.shape[:-nd]
    # Put the readout axis last (fastest in memory): consecutive samples of a line then
    # touch neighbouring grid cells, and the interpolation runs ~20 % faster.
    perm = (*schedule.pe_axes, ro)
    src = np.moveaxis(source, len(batch) + ro, -1)
    origin = (b + d * s[0])[:, perm]
    ph0, dph = _ramp_line_phases(schedule, kpe, t, fov)
    phase = (ph0, dph) if np.any(ph0) or np.any(dph) else None
    out = nufft_type2_lines(
        src, origin, d[:, perm], len(s), backend, eps, nth, upsampfac, band, phase, scale
    )
    return out


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


def _scale(in_shape: Sequence[int], out_shape: Sequence[int]) -> float:
    """Raw DTFT sum -> k-space whose ifft_centered on ``out_shape`` keeps the intensity."""
    return float(np.sqrt(np.prod(out_shape)) / np.prod(in_shape))


def _pe_kappa(schedule: Schedule, fov: np.ndarray) -> np.ndarray:
    """Phase-encode position of each line in cycles/mm, shape (L, ndim) (readout entry 0)."""
    kpe = np.zeros((schedule.n_lines, schedule.ndim))
    for col, a in enumerate(schedule.pe_axes):
        kpe[:, a] = schedule.pe_index[:, col] / fov[a]
    return kpe


def _apply_translation_ramp(
    lines: np.ndarray,
    schedule: Schedule,
    kpe: np.ndarray,
    t: np.ndarray,
    fov: np.ndarray,
    scale: float = 1.0,
    nthreads: int | None = 1,
) -> None:
    """``lines (..., L, S) *= scale * exp(-i 2 pi kappa . t_l)``, in place, block by block
    (:func:`~mrsim.kspace.nufft.modulate_lines`); only the scale when nothing translates."""
    ph0, dph = _ramp_line_phases(schedule, kpe, t, fov)
    if np.any(ph0) or np.any(dph):
        modulate_lines(lines, ph0, dph, scale, nthreads)
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


def _fft_lines(
    image: np.ndarray,
    schedule: Schedule,
    t: np.ndarray,
    fov: np.ndarray,
    workers: int | None,
) -> np.ndarray:
    """Translation-only fast path: one FFT, crop/pad (FOV kept), phase ramp per line.

    Exact; works in the image's precision (complex64 for float32/complex64 input).
    """
    nd = schedule.ndim
    in_shape = image.shape[-nd:]
    k = fft_centered(image, axes=tuple(range(-nd, 0)), workers=workers)
    k = _resize_kspace(k, schedule.shape)
    k *= np.sqrt(np.prod(schedule.shape) / np.prod(in_shape))
    lines = schedule.from_grid(k)
    if np.any(t):
        _apply_translation_ramp(lines, schedule, _pe_kappa(schedule, fov), t, fov, nthreads=workers)
    return lines


def _resize_kspace(k: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Centred crop / zero-pad of the last len(shape) axes (DC stays at n // 2)."""
    nd = len(shape)
    src = k.shape[-nd:]
    if tuple(src) == tuple(shape):
        return k
    out = np.zeros(k.shape[:-nd] + tuple(shape), dtype=k.dtype)
    sl_in, sl_out = [], []
    for n_in, n_out in zip(src, shape, strict=False):
        m = min(n_in, n_out)
        sl_in.append(slice(n_in // 2 - m // 2, n_in // 2 - m // 2 + m))
        sl_out.append(slice(n_out // 2 - m // 2, n_out // 2 - m // 2 + m))
    out[(Ellipsis, *sl_out)] = k[(Ellipsis, *sl_in)]
    return out


def _full_schedule(shape: Sequence[int]) -> Schedule:
    """All lines of a grid (readout axis 0), for whole-volume moves."""
    shape = tuple(int(s) for s in shape)
    pe = np.stack(
        np.meshgrid(*[np.arange(n) - n // 2 for n in shape[1:]], indexing="ij"), -1
    ).reshape(-1, len(shape) - 1)
    L = pe.shape[0]
    return Schedule(shape, 0, pe, np.zeros(L), np.zeros(L, dtype=int), name="full grid")


# ---------------------------------------------------------------------- public API
def moved_kspace(
    image: np.ndarray | KSpaceFunction,
    schedule: Schedule,
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    voxel_size_mm: float | Sequence[float] = 1.0,
    backend: str = "finufft",
    eps: float = 1e-6,
    nthreads: int | None = None,
    out_shape: Sequence[int] | None = None,
    *,
    orientation: np.ndarray | None = None,
    upsampfac: float | None = None,
    coil_sensitivities: np.ndarray | None = None,
    coil_method: str = "states",
    coil_terms: int | Sequence[int] | None = None,
    fast_path: bool = True,
    progress: bool = False,
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
    rotations : ndarray, shape (L, 3, 3) or (3, 3)
        Per-line rotation matrices (world frame), ``L = schedule.n_lines``.
    translations_mm : ndarray, shape (L, 3) or (3,)
        Per-line translations (mm, world frame).
    voxel_size_mm : float or sequence
        Input voxel size along the array axes.
    backend : {"finufft", "sigpy"}
    eps : float
        NUFFT tolerance: 1e-6 for validation (double precision), ~1e-4 for bulk data
        (single precision, complex64, faster).
    nthreads : int, optional
        NUFFT/FFT threads (default: all CPUs available to the process).
    out_shape : sequence of int, optional
        Returned grid; default ``schedule.shape``. A larger grid zero-fills about the centre.
    orientation : ndarray (3, 3), optional
        Direction cosines of the array axes in the world frame (see
        :func:`orientation_from_affine`); default: array axes are world x, y, z.
    upsampfac : float, optional
        finufft upsampling factor (default 1.5 in single precision, see
        :func:`mrsim.kspace.nufft.nufft_type2`).
    coil_sensitivities : ndarray, shape (C, *schedule.shape), optional
        Receive sensitivities in the scanner frame on the output grid: coil ``c`` acquires
        ``F{S_c m_T}`` (the coils do not move with the head), see ``coil_method``.
    coil_method : {"states", "fourier"}
        How ``F{S_c m_T}`` is evaluated (docs/physics.md, section 5). ``"states"``: per
        motion state, move the object by band-limited NUFFT interpolation, multiply by the
        coils, FFT, keep the state's lines; exact, cost grows as states x coils.
        ``"fourier"``: ``sum_p a_{c,p} M_T(k - p)`` with the ``|p_a| <= K_a`` Fourier
        coefficients of the maps (:func:`~mrsim.kspace.coils.sensitivity_fourier_coefficients`):
        every shifted line of every pose in one NUFFT, so the cost (about
        ``prod_{a != readout} (2 K_a + 1)`` times the single-coil NUFFT, plus a per-coil sum)
        does not depend on the number of states. It equals ``"states"`` run with the
        band-limited maps (:func:`~mrsim.kspace.coils.bandlimit_sensitivities`) except
        within ``K`` samples of the k-space border, where ``"states"`` wraps the product's
        spectrum around (circular convolution) and ``"fourier"`` does not.
    coil_terms : int or sequence of int, optional
        ``"fourier"`` only: half-width ``K`` of the Fourier box, for all axes or one per array
        axis, ``0 <= K_a <= n_a // 2``. Default ``min(3, n_a // 2)``, and 0 along axes where
        the maps are constant (:func:`~mrsim.kspace.coils.default_coil_terms`). Choose it
        with :func:`~mrsim.kspace.coils.sensitivity_truncation_error`.
    fast_path : bool
        Use FFT + phase ramps when no pose rotates (exact; default True).
    progress : bool
        Progress bar over motion states (``"states"``) or NUFFT blocks (``"fourier"``).

    Returns
    -------
    ndarray, complex, shape (*out_shape), (B, *out_shape), (C, *out_shape) or (B, C, ...)
        Centred k-space (DC at n // 2); unacquired lines are zero.

    References
    ----------
    Seed 001: motion-corrupted k-space "calculated and sampled with non-uniform FFT".
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a mrsim.kspace.Schedule, got {type(schedule).__name__}")
    if coil_method not in COIL_METHODS:
        raise ValueError(f"coil_method must be one of {COIL_METHODS}, got {coil_method!r}")
    nd = schedule.ndim
    R, t = _as_poses(rotations, translations_mm, schedule.n_lines, nd)
    R, t = _to_array_frame(R, t, orientation)
    vox = _voxel(voxel_size_mm, nd)
    grid = schedule.shape if out_shape is None else tuple(int(s) for s in out_shape)
    if callable(image):
        if coil_sensitivities is not None:
            raise ValueError("coil sensitivities need an image, not a k-space function")
        fov = np.asarray(schedule.shape) * vox
        lines = _line_values(
            image, schedule.shape, vox, schedule, R, t, fov, backend, eps, nthreads, upsampfac
        )
        return schedule.to_grid(lines, grid)
    image = np.asarray(image)
    if image.ndim not in (nd, nd + 1) or not np.issubdtype(image.dtype, np.number):
        raise ValueError(
            f"image must be a numeric {nd}D array (optionally with one leading batch axis) to "
            f"match the {nd}D schedule; got shape {image.shape}"
        )
    if not np.all(np.isfinite(image)):
        raise ValueError("image contains NaN or inf")
    in_shape = image.shape[-nd:]
    fov = np.asarray(in_shape) * vox  # FOV kept: the output grid spans the same mm
    workers = nthreads
    if coil_sensitivities is not None:
        acq = _Acquisition(
            schedule, R, t, vox, fov, grid, backend, eps, nthreads, upsampfac, fast_path, progress
        )
        sens = np.asarray(coil_sensitivities)
        if sens.ndim != nd + 1 or sens.shape[1:] != schedule.shape:
            raise ValueError(
                f"coil_sensitivities must have shape (C, *{schedule.shape}) (scanner frame, "
                f"output grid), got {sens.shape}"
            )
        if coil_method == "fourier":
            return _moved_kspace_coils_fourier(image, acq, sens, coil_terms)
        return _moved_kspace_coils(image, acq, sens)
    if fast_path and _is_identity(R):
        lines = _fft_lines(image, schedule, t, fov, workers)
    else:
        lines = _line_values(
            image,
            in_shape,
            vox,
            schedule,
            R,
            t,
            fov,
            backend,
            eps,
            nthreads,
            upsampfac,
            _scale(in_shape, schedule.shape),
        )
    k = schedule.to_grid(lines, grid)
    if grid != schedule.shape:
        k *= np.sqrt(np.prod(grid) / np.prod(schedule.shape))
    return k


@dataclass(frozen=True)
class _Acquisition:
    """The resolved inputs of :func:`moved_kspace` (array frame, mm) for its coil paths."""

    schedule: Schedule
    R: np.ndarray
    t: np.ndarray
    vox: np.ndarray
    fov: np.ndarray
    grid: tuple[int, ...]
    backend: str
    eps: float
    nthreads: int | None
    upsampfac: float | None
    fast_path: bool
    progress: bool


def _moved_kspace_coils(image: np.ndarray, acq: _Acquisition, sens: np.ndarray) -> np.ndarray:
    """Multi-coil k-space per motion state (docs/physics.md, section 5.1)."""
    from tqdm.auto import tqdm

    schedule, R, t, vox, fov, grid = acq.schedule, acq.R, acq.t, acq.vox, acq.fov, acq.grid
    backend, eps, nthreads, upsampfac = acq.backend, acq.eps, acq.nthreads, acq.upsampfac
    nd = schedule.ndim
    first, state = motion_states(R, t)
    full = _full_schedule(schedule.shape)
    batch = image.shape[:-nd]
    lines = np.zeros(batch + (sens.shape[0], schedule.n_lines, schedule.n_readout), np.complex128)
    axes = tuple(range(-nd, 0))
    for s_idx in tqdm(range(len(first)), desc="motion states", disable=not acq.progress):
        i = first[s_idx]
        moved = _moved_grid_image(
            image, full, R[i], t[i], vox, fov, backend, eps, nthreads, upsampfac, acq.fast_path
        )
        coil_imgs = moved[..., None, :, :, :] if nd == 3 else moved[..., None, :, :]
        kc = fft_centered(coil_imgs * sens, axes=axes, workers=nthreads)
        sel = state == s_idx
        lines[..., sel, :] = schedule.subset(sel).from_grid(kc)
    k = schedule.to_grid(lines, grid)
    if grid != schedule.shape:
        k *= np.sqrt(np.prod(grid) / np.prod(schedule.shape))
    return k


# Most NUFFT samples per call of the Fourier multi-coil path. Bounds the memory (float32
# coordinates + complex64 values + their readout FFTs, ~40 B per sample in single
# precision: ~1.3 GiB); the number of calls depends on the grid and K, never on the states.
_COIL_BLOCK_SAMPLES = 2**25


class _ShiftedLines(Schedule):
    """Readout lines at arbitrary in-grid phase-encode positions, repeats allowed.

    The Fourier multi-coil path evaluates line ``l`` shifted by ``-p_pe`` for every term, so
    the same position occurs for several (line, term) pairs, with different poses. Only for
    :func:`_line_values` (and ``from_grid``); not a valid acquisition (no time, no shots).
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "readout_axis", int(self.readout_axis) % len(self.shape))
        object.__setattr__(self, "pe_index", np.asarray(self.pe_index, dtype=np.int64))
        n = self.pe_index.shape[0]
        object.__setattr__(self, "time_s", np.zeros(n))
        object.__setattr__(self, "shot", np.zeros(n, dtype=np.int64))


def _fourier_terms(terms: int | Sequence[int] | None, sens: np.ndarray) -> tuple[int, ...]:
    """``coil_terms`` validated per axis; None: :func:`~mrsim.kspace.coils.default_coil_terms`."""
    if terms is None:
        return default_coil_terms(sens)
    return coil_terms_per_axis(terms, sens.shape[1:])


def _moved_kspace_coils_fourier(
    image: np.ndarray,
    acq: _Acquisition,
    sens: np.ndarray,
    terms: int | Sequence[int] | None,
) -> np.ndarray:
    """Multi-coil k-space as ``sum_p a_{c,p} M_T(k - p)`` (docs/physics.md, section 5).

    ``M_T(k - p)`` of line ``l`` is the moved object's spectrum on the line with
    phase-encode position ``pe_l - p_pe`` and readout positions ``s - p_ro``, at the line's
    own pose: the translation ramp is that of the shifted position. Lines for every
    phase-encode shift are evaluated together (one NUFFT per block of at most
    :data:`_COIL_BLOCK_SAMPLES` samples); the readout shifts and the sum over terms are a
    short convolution along the readout, done by FFT (zero-padded: a sample shifted beyond
    the output band, like a line shifted beyond the phase-encode band, is 0, as for an
    object band-limited to the output grid), batched over coils as one matrix product per
    readout frequency.
    """
    from tqdm.auto import tqdm

    schedule, R, t, vox, fov, grid = acq.schedule, acq.R, acq.t, acq.vox, acq.fov, acq.grid
    backend, eps, nthreads, upsampfac = acq.backend, acq.eps, acq.nthreads, acq.upsampfac
    nd = schedule.ndim
    K = _fourier_terms(terms, sens)
    ro, pe_axes = schedule.readout_axis, schedule.pe_axes
    n_coils = sens.shape[0]
    # a[c, p_pe..., p_ro] -> (C, P_pe, 2 K_ro + 1), phase-encode terms in pe_axes order.
    coef = np.moveaxis(sensitivity_fourier_coefficients(sens, K), 1 + ro, -1)
    coef = coef.reshape(n_coils, -1, 2 * K[ro] + 1)
    shifts = np.stack(
        np.meshgrid(*[np.arange(-K[a], K[a] + 1) for a in pe_axes], indexing="ij"), -1
    ).reshape(-1, nd - 1)
    n_pe = len(shifts)
    n_ro, L = schedule.n_readout, schedule.n_lines
    # Readout convolution by FFT: z[s] = sum_r h[r] v[s - r] for s < n_ro needs a length of at
    # least n_ro + K_ro so that v's zero padding absorbs the wrap-around.
    n_fft = scipy.fft.next_fast_len(n_ro + K[ro])
    h = np.zeros((n_coils, n_pe, n_fft), dtype=np.complex128)
    h[..., : K[ro] + 1] = coef[..., K[ro] :]
    if K[ro]:
        h[..., -K[ro] :] = coef[..., : K[ro]]
    h_f = np.ascontiguousarray(np.moveaxis(scipy.fft.fft(h, axis=-1), -1, 0))  # (F, C, P_pe)

    in_shape = image.shape[-nd:]
    batch = image.shape[:-nd]
    n_batch = int(np.prod(batch))
    scale = _scale(in_shape, schedule.shape)
    lo = np.array([-(schedule.shape[a] // 2) for a in pe_axes])
    hi = np.array([schedule.shape[a] - schedule.shape[a] // 2 - 1 for a in pe_axes])
    k_fft = None
    if acq.fast_path and _is_identity(R):
        # Translation only: the moved object's spectrum on the output grid is one FFT.
        k_fft = _resize_kspace(
            fft_centered(image, axes=tuple(range(-nd, 0)), workers=nthreads), schedule.shape
        )
        k_fft *= np.sqrt(np.prod(schedule.shape) / np.prod(in_shape))
    lines = None
    block = max(1, _COIL_BLOCK_SAMPLES // (n_pe * n_ro))
    starts = range(0, L, block)
    for l0 in tqdm(starts, desc="coil Fourier blocks", disable=not acq.progress):
        idx = np.arange(l0, min(l0 + block, L))
        nb = len(idx)
        pe = schedule.pe_index[idx][None, :, :] - shifts[:, None, :]  # (P_pe, nb, nd - 1)
        valid = np.all((pe >= lo) & (pe <= hi), axis=-1).reshape(-1)
        pairs_line = np.broadcast_to(idx, (n_pe, nb)).reshape(-1)[valid]
        sub = _ShiftedLines(schedule.shape, ro, pe.reshape(-1, nd - 1)[valid], (), ())
        if k_fft is not None:
            vals = sub.from_grid(k_fft)
            if np.any(t):
                _apply_translation_ramp(
                    vals, sub, _pe_kappa(sub, fov), t[pairs_line], fov, nthreads=nthreads
                )
        else:
            vals = _line_values(
                image,
                in_shape,
                vox,
                sub,
                R[pairs_line],
                t[pairs_line],
                fov,
                backend,
                eps,
                nthreads,
                upsampfac,
                scale,
            )
        vals = vals.reshape(n_batch, -1, n_ro)
        cdt = vals.dtype
        v = np.zeros((n_batch, n_pe * nb, n_ro), dtype=cdt)
        v[:, valid] = vals
        del vals
        v_f = scipy.fft.fft(v, n=n_fft, axis=-1, workers=nthreads)
        del v
        # (B, P_pe, nb, F) -> (F, P_pe, B * nb): one (C x P_pe) @ (P_pe x B nb) per frequency.
        v_f = v_f.reshape(n_batch, n_pe, nb, n_fft).transpose(3, 1, 0, 2)
        v_f = np.ascontiguousarray(v_f).reshape(n_fft, n_pe, n_batch * nb)
        z = np.matmul(h_f.astype(cdt, copy=False), v_f)  # (F, C, B nb)
        del v_f
        z = z.reshape(n_fft, n_coils, n_batch, nb).transpose(2, 1, 3, 0)
        z = scipy.fft.ifft(z, axis=-1, workers=nthreads)[..., :n_ro]
        if lines is None:
            lines = np.zeros((n_batch, n_coils, L, n_ro), dtype=cdt)
        lines[:, :, idx] = z
    lines = lines.reshape(batch + (n_coils, L, n_ro))
    k = schedule.to_grid(lines, grid)
    if grid != schedule.shape:
        k *= np.sqrt(np.prod(grid) / np.prod(schedule.shape))
    return k


def _moved_grid_image(image, full, R1, t1, vox, fov, backend, eps, nthreads, upsampfac, fast_path):
    """The object at one pose on the output grid (band-limited), complex."""
    nd = full.ndim
    L = full.n_lines
    Rl = np.broadcast_to(R1, (L, nd, nd))
    tl = np.broadcast_to(t1, (L, nd))
    in_shape = image.shape[-nd:]
    if fast_path and _is_identity(Rl[:1]):
        lines = _fft_lines(image, full, tl, fov, nthreads)
    else:
        lines = _line_values(
            image,
            in_shape,
            vox,
            full,
            Rl,
            tl,
            fov,
            backend,
            eps,
            nthreads,
            upsampfac,
            _scale(in_shape, full.shape),
        )
    return ifft_centered(full.to_grid(lines), axes=tuple(range(-nd, 0)), workers=nthreads)


def rigid_move(
    image: np.ndarray,
    rotation: np.ndarray,
    translation_mm: np.ndarray,
    voxel_size_mm: float | Sequence[float] = 1.0,
    backend: str = "finufft",
    eps: float = 1e-6,
    nthreads: int | None = None,
    *,
    orientation: np.ndarray | None = None,
    upsampfac: float | None = None,
    out_shape: Sequence[int] | None = None,
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
    voxel_size_mm, backend, eps, nthreads, orientation, upsampfac
        As in :func:`moved_kspace`.
    out_shape : sequence of int, optional
        Output matrix (same FOV); default the input's.

    Returns
    -------
    ndarray
        Same dtype kind as the input: real for real input (the imaginary part, which only
        the unpaired Nyquist samples of even-sized axes produce, is dropped), else complex.
    """
    image = np.asarray(image)
    R = np.asarray(rotation, dtype=float)
    if R.shape not in ((2, 2), (3, 3)):
        raise ValueError(f"rotation must be a 3x3 (or 2x2) matrix, got shape {R.shape}")
    nd = R.shape[-1]
    if image.ndim not in (nd, nd + 1):
        raise ValueError(
            f"a {nd}x{nd} rotation needs a {nd}D image (+1 batch axis), got {image.shape}"
        )
    shape = tuple(image.shape[-nd:]) if out_shape is None else tuple(int(s) for s in out_shape)
    full = _full_schedule(shape)
    R1, t1 = _as_poses(R, translation_mm, 1, nd)
    R1, t1 = _to_array_frame(R1, t1, orientation)
    vox = _voxel(voxel_size_mm, nd)
    fov = np.asarray(image.shape[-nd:]) * vox
    out = _moved_grid_image(
        image, full, R1[0], t1[0], vox, fov, backend, eps, nthreads, upsampfac, True
    )
    if np.isrealobj(image):
        return out.real.astype(image.dtype if image.dtype.kind == "f" else np.float64)
    return out


def image_domain_kspace(
    image: np.ndarray,
    schedule: Schedule,
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    voxel_size_mm: float | Sequence[float] = 1.0,
    order: int = 1,
    *,
    orientation: np.ndarray | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Baseline: resample the image per motion state, FFT, keep that state's lines.

    This is the image-domain approach of augmentation libraries (TorchIO's ``Motion``): cost
    grows with the number of states (one interpolation + one FFT each) and interpolation
    blurs. For benchmarks and tests only; use :func:`moved_kspace`.

    Parameters
    ----------
    image : ndarray, shape == schedule.shape (2D or 3D)
    schedule, rotations, translations_mm, voxel_size_mm, orientation
        As in :func:`moved_kspace`.
    order : int
        ``scipy.ndimage.affine_transform`` spline order (1 linear, 3 cubic); outside the FOV
        is 0.

    Returns
    -------
    ndarray, complex128, shape schedule.shape
    """
    from scipy import ndimage
    from tqdm.auto import tqdm

    image = np.asarray(image)
    nd = schedule.ndim
    if image.shape != schedule.shape:
        raise ValueError(f"image shape {image.shape} must equal schedule.shape {schedule.shape}")
    R, t = _as_poses(rotations, translations_mm, schedule.n_lines, nd)
    R, t = _to_array_frame(R, t, orientation)
    vox = _voxel(voxel_size_mm, nd)
    c = np.array([n // 2 for n in image.shape], dtype=float)
    first, state = motion_states(R, t)
    lines = np.zeros((schedule.n_lines, schedule.n_readout), dtype=np.complex128)
    for s_idx in tqdm(range(len(first)), desc="image-domain states", disable=not progress):
        Ri, ti = R[first[s_idx]], t[first[s_idx]]
        # output voxel o -> input voxel D^-1 R^T (D (o - c) - t) + c
        mat = (Ri.T * vox[None, :]) / vox[:, None]
        off = c - mat @ c - (Ri.T @ ti) / vox
        parts = [image.real, image.imag] if np.iscomplexobj(image) else [image]
        moved = [ndimage.affine_transform(p, mat, off, order=order, mode="constant") for p in parts]
        mv = moved[0] + 1j * moved[1] if len(moved) == 2 else moved[0]
        sel = state == s_idx
        lines[sel] = schedule.subset(sel).from_grid(fft_centered(mv, workers=workers))
    return schedule.to_grid(lines)


# ---------------------------------------------------------------------- severity, noise
def motion_severity(
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    line_weights: np.ndarray | None = None,
    radius_mm: float = 64.0,
    moved_threshold_mm: float = 0.5,
) -> dict[str, float]:
    """How much the per-line poses matter, weighted by where k-space energy lies.

    Per line, ``d_l`` is the RMS displacement of the points of a sphere of radius
    ``radius_mm`` about the FOV centre between the line's pose and the reference (identity)
    pose (Jenkinson 1999: ``d^2 = |t|^2 + r^2 / 5 * tr((R - I)^T (R - I))``). Weights are the
    clean k-space energy of each line (motion while the centre is acquired matters most).

    Returns
    -------
    dict
        ``mean_displacement_mm`` (energy-weighted mean of d), ``max_displacement_mm``,
        ``energy_fraction_moved`` (weight of lines with ``d > moved_threshold_mm``),
        ``rms_displacement_mm`` (unweighted RMS of d over lines), ``radius_mm``,
        ``moved_threshold_mm``.
    """
    from mrsim.motion.rigid import rms_deviation

    R = np.asarray(rotations, dtype=float)
    t = np.asarray(translations_mm, dtype=float)
    if R.shape[-2:] != (3, 3) or t.shape != R.shape[:-1]:
        raise ValueError(
            f"need rotations (L, 3, 3) and translations (L, 3), got {R.shape}, {t.shape}"
        )
    A = np.zeros(R.shape[:-2] + (4, 4))
    A[..., :3, :3], A[..., :3, 3], A[..., 3, 3] = R, t, 1.0
    d = rms_deviation(A, radius_mm=radius_mm)
    w = np.ones(len(d)) if line_weights is None else np.asarray(line_weights, dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(d), 1.0 / max(len(d), 1))
    return {
        "mean_displacement_mm": float(np.sum(w * d)),
        "max_displacement_mm": float(d.max(initial=0.0)),
        "energy_fraction_moved": float(np.sum(w[d > moved_threshold_mm])),
        "rms_displacement_mm": float(np.sqrt(np.mean(d**2))) if len(d) else 0.0,
        "radius_mm": float(radius_mm),
        "moved_threshold_mm": float(moved_threshold_mm),
    }


def noise_sigma_for_snr(clean_image: np.ndarray, snr: float, threshold: float = 0.1) -> float:
    """Noise std per real/imaginary component giving ``snr`` in the image.

    ``SNR = mean(|clean| over voxels above threshold x max) / sigma``. With orthonormal FFTs
    the same sigma applies per k-space sample.
    """
    if not snr > 0:
        raise ValueError(f"noise SNR must be > 0, got {snr}")
    mag = np.abs(clean_image)
    obj = mag > threshold * mag.max()
    if not obj.any():
        raise ValueError("clean image is empty; cannot set noise from an SNR")
    return float(mag[obj].mean() / snr)


@dataclass
class CorruptionResult:
    """Output of :func:`corrupt`.

    Attributes
    ----------
    kspace : ndarray, complex
        Motion-corrupted (noisy if asked) k-space on ``schedule.shape`` ((C, ...) with coils).
    image : ndarray
        Reconstructed corrupted image (magnitude float32 or complex64).
    clean : ndarray
        Motion-free, noise-free reference on the same grid, same type as ``image``.
    params : ndarray, shape (L, 6)
        Per-line poses ``(tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg)`` actually applied.
    rotations, translations_mm : ndarray
        Same poses as matrices / vectors.
    schedule : Schedule
    severity : dict
        :func:`motion_severity` figures plus ``motion_std`` of the trajectory and
        ``n_states``.
    noise_sigma : float
        Added noise std per component (0 when none).
    settings : dict
        Everything needed to regenerate the result.
    coil_sensitivities : ndarray, shape (C, *schedule.shape), optional
        The maps the data were simulated with and combined by: the given ones
        (``coil_method="states"``) or their band-limited version
        (:func:`~mrsim.kspace.coils.bandlimit_sensitivities`, ``"fourier"``); None for one
        coil.
    """

    kspace: np.ndarray
    image: np.ndarray
    clean: np.ndarray
    params: np.ndarray
    rotations: np.ndarray
    translations_mm: np.ndarray
    schedule: Schedule
    severity: dict = field(default_factory=dict)
    noise_sigma: float = 0.0
    settings: dict = field(default_factory=dict)
    coil_sensitivities: np.ndarray | None = None


def corrupt(
    image: np.ndarray,
    trajectory,
    schedule: Schedule | None = None,
    voxel_size_mm: float | Sequence[float] = 1.0,
    *,
    orientation: np.ndarray | None = None,
    mapping: str = "seconds",
    method: str = "linear",
    rereference_center: bool = True,
    granularity: str = "line",
    backend: str = "finufft",
    eps: float = 1e-4,
    nthreads: int | None = None,
    upsampfac: float | None = None,
    noise_snr: float | None = None,
    output: str = "magnitude",
    coil_sensitivities: np.ndarray | None = None,
    coil_method: str = "states",
    coil_terms: int | Sequence[int] | None = None,
    seed: int | None = None,
    progress: bool = False,
) -> CorruptionResult:
    """Motion-corrupt a volume: trajectory -> per-line poses -> moved k-space -> image.

    Parameters
    ----------
    image : ndarray, 2D or 3D
        Clean object in the reference pose.
    trajectory : mrsim.motion.Trajectory
    schedule : Schedule, optional
        Default: :func:`~mrsim.kspace.schedule.mprage_schedule` (linear) on the image grid.
    voxel_size_mm, orientation, backend, eps, nthreads, upsampfac
        As in :func:`moved_kspace` (``eps`` defaults to 1e-4 here: bulk data).
    coil_sensitivities, coil_method, coil_terms
        As in :func:`moved_kspace`. The images are then combined with
        :func:`~mrsim.kspace.coils.combine_coils` (R=1 SENSE), using the maps the data
        were simulated with: the given ones for ``"states"``, their band-limited version
        (:func:`~mrsim.kspace.coils.bandlimit_sensitivities`) for ``"fourier"``, so that
        the clean reference is the object itself wherever the coils see it.
    mapping, method, rereference_center, granularity
        As in :func:`~mrsim.kspace.schedule.poses_for_schedule`.
    noise_snr : float, optional
        Add complex Gaussian noise to the acquired samples (:func:`noise_sigma_for_snr` of the
        clean image); None for no noise.
    output : {"magnitude", "complex"}
        Image type of ``image`` and ``clean``.
    seed : int, optional
        Noise seed (``numpy.random.default_rng``).
    progress : bool

    Returns
    -------
    CorruptionResult
    """
    from mrsim.motion.magnitude import motion_std

    if output not in ("magnitude", "complex"):
        raise ValueError(f"output must be 'magnitude' or 'complex', got {output!r}")
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be 2D or 3D, got shape {image.shape}")
    if schedule is None:
        if image.ndim != 3:
            raise ValueError("a 2D image needs an explicit schedule (cartesian2d_schedule)")
        schedule = mprage_schedule(image.shape)
    if schedule.ndim != image.ndim:
        raise ValueError(f"schedule is {schedule.ndim}D but the image is {image.ndim}D")
    if coil_method not in COIL_METHODS:
        raise ValueError(f"coil_method must be one of {COIL_METHODS}, got {coil_method!r}")
    sens_used = None
    terms_used = None
    if coil_sensitivities is not None:
        sens_used = np.asarray(coil_sensitivities)
        if sens_used.ndim != schedule.ndim + 1 or sens_used.shape[1:] != schedule.shape:
            raise ValueError(
                f"coil_sensitivities must have shape (C, *{schedule.shape}) (scanner frame, "
                f"output grid), got {sens_used.shape}"
            )
        if coil_method == "fourier":
            terms_used = _fourier_terms(coil_terms, sens_used)
            sens_used = bandlimit_sensitivities(sens_used, terms_used)
    R, t, params = poses_for_schedule(
        trajectory,
        schedule,
        mapping=mapping,
        method=method,
        rereference_center=rereference_center,
        granularity=granularity,
    )
    kw = dict(
        voxel_size_mm=voxel_size_mm,
        backend=backend,
        eps=eps,
        nthreads=nthreads,
        orientation=orientation,
        upsampfac=upsampfac,
        coil_sensitivities=coil_sensitivities,
        coil_method=coil_method,
        coil_terms=terms_used,
    )
    eye = np.eye(3)
    zero = np.zeros(3)
    if image.ndim == 2:
        eye, zero = np.eye(2), np.zeros(2)
    k_clean = moved_kspace(image, schedule, eye, zero, **kw)
    k = moved_kspace(image, schedule, R, t, progress=progress, **kw)
    nd = schedule.ndim
    axes = tuple(range(-nd, 0))

    def recon(kk: np.ndarray) -> np.ndarray:
        img = ifft_centered(kk, axes=axes, workers=nthreads)
        if sens_used is not None:
            img = combine_coils(img, sens_used)
        return img

    clean_c = recon(k_clean)
    sigma = 0.0
    if noise_snr is not None:
        sigma = noise_sigma_for_snr(clean_c, noise_snr)
        rng = np.random.default_rng(seed)
        acquired = schedule.to_grid(np.ones((schedule.n_lines, schedule.n_readout), bool))
        noise = rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape)
        k = k + sigma * noise * acquired
    img_c = recon(k)
    if output == "magnitude":
        img_out, clean_out = np.abs(img_c).astype(np.float32), np.abs(clean_c).astype(np.float32)
    else:
        img_out, clean_out = img_c.astype(np.complex64), clean_c.astype(np.complex64)
    energy = np.sum(np.abs(schedule.from_grid(k_clean)) ** 2, axis=-1)
    while energy.ndim > 1:
        energy = energy.sum(axis=0)
    # Severity is measured in the world frame (poses as given, not in array axes).
    sev = motion_severity(R if nd == 3 else R, t, line_weights=energy)
    sev["motion_std"] = float(motion_std(trajectory).combined)
    sev["n_states"] = int(len(motion_states(R, t)[0]))
    settings = dict(
        voxel_size_mm=list(np.broadcast_to(np.asarray(voxel_size_mm, float), (nd,))),
        mapping=mapping,
        method=method,
        rereference_center=rereference_center,
        granularity=granularity,
        backend=backend,
        eps=eps,
        upsampfac=upsampfac,
        noise_snr=noise_snr,
        output=output,
        seed=seed,
        schedule=schedule.name,
        shape=list(schedule.shape),
        readout_axis=schedule.readout_axis,
        n_coils=0 if sens_used is None else int(sens_used.shape[0]),
    )
    if sens_used is not None:  # single-coil settings stay as they were
        settings["coil_method"] = coil_method
        settings["coil_terms"] = None if terms_used is None else list(terms_used)
    return CorruptionResult(
        kspace=k,
        image=img_out,
        clean=clean_out,
        params=params,
        rotations=R,
        translations_mm=t,
        schedule=schedule,
        severity=sev,
        noise_sigma=sigma,
        settings=settings,
        coil_sensitivities=sens_used,
    )
