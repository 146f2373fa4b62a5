"""Multi-coil moved k-space: coils fixed in the scanner while the head moves.

Coil ``c`` acquires ``F{S_c m_T}``; two ways to evaluate it (docs/physics.md, section 5):

- ``"states"``: per motion state, move the object by band-limited NUFFT interpolation,
  multiply by the coils, FFT, keep the state's lines; exact, cost grows as states x coils.
- ``"fourier"``: ``sum_p a_{c,p} M_T(k - p)`` with the ``|p_a| <= K_a`` Fourier
  coefficients of the maps (:func:`~mrsim.kspace.coils.sensitivity_fourier_coefficients`):
  every shifted line of every pose in one NUFFT, so the cost (about
  ``prod_{a != readout} (2 K_a + 1)`` times the single-coil NUFFT, plus a per-coil sum)
  does not depend on the number of states. It equals ``"states"`` run with the
  band-limited maps (:func:`~mrsim.kspace.coils.bandlimit_sensitivities`) except within
  ``K`` samples of the k-space border, where ``"states"`` wraps the product's spectrum
  around (circular convolution) and ``"fourier"`` does not.

Both are reached through :func:`mrsim.kspace.engine.moved_kspace` with a :class:`Coils`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.fft

from mrsim.errors import MrsimInputError
from mrsim.kspace.coils import (
    CoilMaps,
    bandlimited_maps,
    coil_terms_per_axis,
    default_coil_terms,
    sensitivity_fourier_coefficients,
)
from mrsim.kspace.engine import (
    Acquisition,
    apply_translation_ramp,
    dtft_scale,
    full_schedule,
    is_identity,
    line_values,
    moved_grid_image,
    pe_kappa,
    static_kspace,
    to_output_grid,
)
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.poses import motion_states
from mrsim.kspace.reuse import reuse_spectra
from mrsim.kspace.schedule import Schedule

__all__ = ["COIL_METHODS", "Coils", "fourier_terms"]

#: Multi-coil methods (docs/physics.md, section 5).
COIL_METHODS = ("states", "fourier")

#: Earlier keyword names of :class:`Coils` fields accepted by the engine functions.
COIL_KEYWORDS = {
    "coil_sensitivities": "sensitivities",
    "coil_method": "method",
    "coil_terms": "terms",
    "progress": "progress",
}


@dataclass(frozen=True, eq=False)
class Coils:
    """Receive coils of an acquisition.

    Attributes
    ----------
    sensitivities : ndarray, shape (C, *grid)
        Receive sensitivities in the scanner frame on the output grid (the coils do not
        move with the head).
    method : {"states", "fourier"}
        See the module docstring.
    terms : int or sequence of int, optional
        ``"fourier"`` only: half-width ``K`` of the Fourier box, for all axes or one per array
        axis, ``0 <= K_a <= n_a // 2``. Default ``min(3, n_a // 2)``, and 0 along axes where
        the maps are constant (:func:`~mrsim.kspace.coils.default_coil_terms`). Choose it
        with :func:`~mrsim.kspace.coils.sensitivity_truncation_error`.
    progress : bool
        Progress bar over motion states (``"states"``) or NUFFT blocks (``"fourier"``).
    """

    sensitivities: np.ndarray
    method: str = "states"
    terms: int | Sequence[int] | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        if self.method not in COIL_METHODS:
            raise MrsimInputError(f"coil_method must be one of {COIL_METHODS}, got {self.method!r}")
        object.__setattr__(self, "sensitivities", np.asarray(self.sensitivities))

    def check_grid(self, shape: Sequence[int]) -> None:
        """Refuse maps that are not ``(C, *shape)``."""
        sens = self.sensitivities
        if sens.ndim != len(shape) + 1 or sens.shape[1:] != tuple(shape):
            raise MrsimInputError(
                f"coil_sensitivities must have shape (C, *{tuple(shape)}) (scanner frame, "
                f"output grid), got {sens.shape}"
            )

    def resolved_terms(self) -> tuple[int, ...] | None:
        """``terms`` per axis for ``"fourier"`` (defaults filled in); None for ``"states"``."""
        if self.method != "fourier":
            return None
        return self._fourier_terms

    # Made once per Coils: an echo-train corruption calls the engine 2 x rank times with the
    # same coils, and each of these reads every map (issue 17: CPU and a full-map FFT's
    # temporaries per call). The maps are taken as fixed, like the rest of the dataclass.
    @cached_property
    def _fourier_terms(self) -> tuple[int, ...]:
        return fourier_terms(self.terms, self.sensitivities)

    @cached_property
    def fourier_coefficients(self) -> np.ndarray:
        """:func:`~mrsim.kspace.coils.sensitivity_fourier_coefficients` of the maps for the
        resolved terms (``"fourier"``)."""
        return sensitivity_fourier_coefficients(self.sensitivities, self._fourier_terms)

    def maps_used(self, lazy: bool = False) -> np.ndarray | CoilMaps:
        """The maps the data are simulated with: as given (``"states"``) or band-limited to
        the Fourier box (``"fourier"``); combine the coil images with these. ``lazy``: the
        band-limited maps as :class:`~mrsim.kspace.coils.CoilMaps` (each made when its coil
        is combined, the same values; none held)."""
        if self.method == "fourier":
            maps = bandlimited_maps(self.sensitivities, self.resolved_terms())
            return maps if lazy else maps.array()
        return self.sensitivities


def coils_from(coils: Coils | None, keywords: dict[str, Any]) -> Coils | None:
    """``coils``, or one built from the earlier keyword names (removed from ``keywords``)."""
    found = {COIL_KEYWORDS[k]: keywords.pop(k) for k in list(keywords) if k in COIL_KEYWORDS}
    if coils is not None:
        if not isinstance(coils, Coils):
            raise MrsimInputError(f"coils must be a Coils, got {type(coils).__name__}")
        if found:
            raise MrsimInputError(f"give coils or {sorted(found)}, not both")
        return coils
    if found.get("sensitivities") is None:
        if found.get("method", "states") not in COIL_METHODS:
            raise MrsimInputError(
                f"coil_method must be one of {COIL_METHODS}, got {found['method']!r}"
            )
        return None
    return Coils(**found)


def fourier_terms(terms: int | Sequence[int] | None, sens: np.ndarray) -> tuple[int, ...]:
    """``coil_terms`` validated per axis; None: :func:`~mrsim.kspace.coils.default_coil_terms`."""
    if terms is None:
        return default_coil_terms(sens)
    return coil_terms_per_axis(terms, sens.shape[1:])


def moved_kspace_coils(image: np.ndarray, acq: Acquisition, coils: Coils) -> np.ndarray:
    """Multi-coil k-space on ``acq``'s grid, leading coil axis after the batch axes."""
    coils.check_grid(acq.schedule.shape)
    if coils.method == "fourier":
        return _coils_fourier(image, acq, coils)
    return _coils_states(image, acq, coils)


def _coils_states(image: np.ndarray, acq: Acquisition, coils: Coils) -> np.ndarray:
    """Multi-coil k-space per motion state (docs/physics.md, section 5.1)."""
    from tqdm.auto import tqdm

    schedule, R, t = acq.schedule, acq.R, acq.t
    sens = coils.sensitivities
    nd = schedule.ndim
    first, state = motion_states(R, t)
    full = full_schedule(schedule.shape)
    batch = image.shape[:-nd]
    lines = np.zeros(batch + (sens.shape[0], schedule.n_lines, schedule.n_readout), np.complex128)
    axes = tuple(range(-nd, 0))
    for s_idx in tqdm(range(len(first)), desc="motion states", disable=not coils.progress):
        i = first[s_idx]
        moved = moved_grid_image(image, full, R[i], t[i], acq)
        coil_imgs = moved[..., None, :, :, :] if nd == 3 else moved[..., None, :, :]
        kc = fft_centered(coil_imgs * sens, axes=axes, workers=acq.options.threads)
        sel = state == s_idx
        lines[..., sel, :] = schedule.subset(sel).from_grid(kc)
    return to_output_grid(lines, acq)


# Most NUFFT samples per call of the Fourier multi-coil path. Bounds the memory (complex64
# values, their readout FFTs and the per-coil products, ~40 B per sample in single
# precision: ~330 MiB); the number of calls depends on the grid and K, never on the states,
# and the object's upsampled grid is shared by the calls (it was 2**25, ~1.3 GiB, before
# the grid was reused: docs/benchmarks.md, "Memory").
_COIL_BLOCK_SAMPLES = 2**23


class _ShiftedLines(Schedule):
    """Readout lines at arbitrary in-grid phase-encode positions, repeats allowed.

    The Fourier multi-coil path evaluates line ``l`` shifted by ``-p_pe`` for every term, so
    the same position occurs for several (line, term) pairs, with different poses. Only for
    :func:`~mrsim.kspace.engine.line_values` (and ``from_grid``); not a valid acquisition
    (no time, no shots).
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "readout_axis", int(self.readout_axis) % len(self.shape))
        object.__setattr__(self, "pe_index", np.asarray(self.pe_index, dtype=np.int64))
        n = self.pe_index.shape[0]
        object.__setattr__(self, "time_s", np.zeros(n))
        object.__setattr__(self, "shot", np.zeros(n, dtype=np.int64))


def readout_filters(
    schedule: Schedule,
    sens: np.ndarray,
    K: tuple[int, ...],
    coefficients: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The Fourier coil path's terms: readout filters ``h`` (C, P_pe, n_fft) (the maps'
    coefficients ``a_{c,p}`` along the readout, zero-padded for a linear convolution by FFT),
    the phase-encode shifts ``p_pe`` (P_pe, ndim - 1) in ``pe_axes`` order, and ``n_fft``.
    ``coefficients``: :func:`~mrsim.kspace.coils.sensitivity_fourier_coefficients` of
    ``sens`` for ``K`` when already made."""
    nd, ro, pe_axes = schedule.ndim, schedule.readout_axis, schedule.pe_axes
    n_coils = sens.shape[0]
    if coefficients is None:
        coefficients = sensitivity_fourier_coefficients(sens, K)
    # a[c, p_pe..., p_ro] -> (C, P_pe, 2 K_ro + 1), phase-encode terms in pe_axes order.
    coef = np.moveaxis(coefficients, 1 + ro, -1)
    coef = coef.reshape(n_coils, -1, 2 * K[ro] + 1)
    shifts = np.stack(
        np.meshgrid(*[np.arange(-K[a], K[a] + 1) for a in pe_axes], indexing="ij"), -1
    ).reshape(-1, nd - 1)
    # Readout convolution by FFT: z[s] = sum_r h[r] v[s - r] for s < n_ro needs a length of at
    # least n_ro + K_ro so that v's zero padding absorbs the wrap-around.
    n_fft = scipy.fft.next_fast_len(schedule.n_readout + K[ro])
    h = np.zeros((n_coils, len(shifts), n_fft), dtype=np.complex128)
    h[..., : K[ro] + 1] = coef[..., K[ro] :]
    if K[ro]:
        h[..., -K[ro] :] = coef[..., : K[ro]]
    return h, shifts, n_fft


def _block_lines(schedule: Schedule, n_pe: int) -> int:
    return max(1, _COIL_BLOCK_SAMPLES // (n_pe * schedule.n_readout))


def blocks_count(schedule: Schedule, n_pe: int) -> int:
    """Number of blocks :func:`shifted_line_blocks` yields."""
    return len(range(0, schedule.n_lines, _block_lines(schedule, n_pe)))


def shifted_line_blocks(schedule: Schedule, shifts: np.ndarray):
    """Blocks of at most :data:`_COIL_BLOCK_SAMPLES` samples of (line, shift) pairs.

    Yields ``(idx, valid, pairs_line, sub)``: the block's lines, which (shift, line) pairs
    stay inside the phase-encode band (flattened shift-major), the line of each kept pair,
    and the kept shifted lines as a :class:`_ShiftedLines`.
    """
    nd, ro, pe_axes = schedule.ndim, schedule.readout_axis, schedule.pe_axes
    n_pe, L = len(shifts), schedule.n_lines
    lo = np.array([-(schedule.shape[a] // 2) for a in pe_axes])
    hi = np.array([schedule.shape[a] - schedule.shape[a] // 2 - 1 for a in pe_axes])
    block = _block_lines(schedule, n_pe)
    for l0 in range(0, L, block):
        idx = np.arange(l0, min(l0 + block, L))
        pe = schedule.pe_index[idx][None, :, :] - shifts[:, None, :]  # (P_pe, nb, nd - 1)
        valid = np.all((pe >= lo) & (pe <= hi), axis=-1).reshape(-1)
        pairs_line = np.broadcast_to(idx, (n_pe, len(idx))).reshape(-1)[valid]
        sub = _ShiftedLines(schedule.shape, ro, pe.reshape(-1, nd - 1)[valid], (), ())
        yield idx, valid, pairs_line, sub


def _coils_fourier(image: np.ndarray, acq: Acquisition, coils: Coils) -> np.ndarray:
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

    schedule, R, t, fov = acq.schedule, acq.R, acq.t, acq.fov
    threads = acq.options.threads
    sens = coils.sensitivities
    nd = schedule.ndim
    K = coils.resolved_terms()
    ro, pe_axes = schedule.readout_axis, schedule.pe_axes
    n_coils = sens.shape[0]
    h, shifts, n_fft = readout_filters(schedule, sens, K, coils.fourier_coefficients)
    n_pe = len(shifts)
    n_ro, L = schedule.n_readout, schedule.n_lines
    h_f = np.ascontiguousarray(np.moveaxis(scipy.fft.fft(h, axis=-1), -1, 0))  # (F, C, P_pe)
    in_shape = image.shape[-nd:]
    batch = image.shape[:-nd]
    n_batch = int(np.prod(batch))
    scale = dtft_scale(in_shape, schedule.shape)
    k_fft = None
    if acq.options.fast_path and is_identity(R):
        # Translation only: the moved object's spectrum on the output grid is one FFT.
        k_fft = static_kspace(image, schedule.shape, threads)
    lines = None
    direct = tuple(acq.grid) == tuple(schedule.shape) and not isinstance(schedule, _ShiftedLines)
    pe_shape = tuple(schedule.shape[a] for a in pe_axes)
    blocks = shifted_line_blocks(schedule, shifts)
    n_blocks = blocks_count(schedule, n_pe)
    # Every block interpolates the same object: its upsampled grid is made once
    # (mrsim.kspace.reuse), so small blocks (bounded memory) cost no extra grid FFTs.
    with reuse_spectra(1):
        for idx, valid, pairs_line, sub in tqdm(
            blocks, total=n_blocks, desc="coil Fourier blocks", disable=not coils.progress
        ):
            nb = len(idx)
            if k_fft is not None:
                vals = sub.from_grid(k_fft)
                if np.any(t):
                    apply_translation_ramp(
                        vals, sub, pe_kappa(sub, fov), t[pairs_line], fov, threads=threads
                    )
            else:
                vals = line_values(image, acq.with_lines(sub, R[pairs_line], t[pairs_line]), scale)
            vals = vals.reshape(n_batch, -1, n_ro)
            cdt = vals.dtype
            v = np.zeros((n_batch, n_pe * nb, n_ro), dtype=cdt)
            v[:, valid] = vals
            del vals
            v_f = scipy.fft.fft(v, n=n_fft, axis=-1, workers=threads)
            del v
            # (B, P_pe, nb, F) -> (F, P_pe, B * nb): one (C x P_pe) @ (P_pe x B nb) per frequency.
            v_f = v_f.reshape(n_batch, n_pe, nb, n_fft).transpose(3, 1, 0, 2)
            v_f = np.ascontiguousarray(v_f).reshape(n_fft, n_pe, n_batch * nb)
            z = np.matmul(h_f.astype(cdt, copy=False), v_f)  # (F, C, B nb)
            del v_f
            z = z.reshape(n_fft, n_coils, n_batch, nb).transpose(2, 1, 3, 0)
            z = scipy.fft.ifft(z, axis=-1, workers=threads)[..., :n_ro]
            if direct:
                # Straight onto the output grid (readout last), as Schedule.to_grid lays it
                # out: no (C, L, n_ro) line array next to the grid (docs/benchmarks.md).
                if lines is None:
                    lines = np.zeros((n_batch, n_coils, *pe_shape, n_ro), dtype=cdt)
                gi = tuple(
                    schedule.pe_index[idx, c] + schedule.shape[a] // 2
                    for c, a in enumerate(pe_axes)
                )
                lines[(slice(None), slice(None), *gi, slice(None))] = z
                continue
            if lines is None:
                lines = np.zeros((n_batch, n_coils, L, n_ro), dtype=cdt)
            lines[:, :, idx] = z
    if direct:
        k = np.moveaxis(lines, -1, 2 + ro)
        return k.reshape(batch + (n_coils, *schedule.shape))
    lines = lines.reshape(batch + (n_coils, L, n_ro))
    return to_output_grid(lines, acq)
