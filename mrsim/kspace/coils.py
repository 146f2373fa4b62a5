"""Receive-coil sensitivities (synthetic, birdcage-like), their Fourier series, combination.

Coil sensitivities are fixed in the scanner frame: when the head moves, the coils do not.
:func:`mrsim.kspace.engine.moved_kspace` (with :class:`mrsim.kspace.multicoil.Coils`) uses
them exactly (see docs/physics.md, section 5), either per motion state or, with
``coil_method="fourier"``, through a truncated Fourier series of each map over the FOV,

    S_c(r) ~ sum_p a_{c,p} exp(+i 2 pi p . r / FOV),   |p_a| <= K_a,

whose coefficients, truncation error and band-limited maps are given here
(:func:`sensitivity_fourier_coefficients`, :func:`sensitivity_truncation_error`,
:func:`bandlimit_sensitivities`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import voxel_sizes
from mrsim.kspace.fft import fft_centered, ifft_centered

__all__ = [
    "DEFAULT_COIL_TERMS",
    "birdcage_sensitivities",
    "combine_coils",
    "combine_coil_kspace",
    "coil_terms_per_axis",
    "default_coil_terms",
    "sensitivity_fourier_coefficients",
    "bandlimit_sensitivities",
    "bandlimited_maps",
    "CoilMaps",
    "sensitivity_truncation_error",
]

#: Default half-width ``K`` of the Fourier box of ``coil_method="fourier"`` (7 terms per
#: axis; 0 along axes where the maps are constant, see :func:`default_coil_terms`). See
#: :func:`sensitivity_truncation_error` to choose it for a given map set.
DEFAULT_COIL_TERMS = 3


def birdcage_sensitivities(
    shape: Sequence[int],
    voxel_size_mm: float | Sequence[float] = 1.0,
    n_coils: int = 8,
    ring_radius: float = 0.6,
    width: float = 0.45,
    axis: int = 2,
) -> np.ndarray:
    """Smooth complex sensitivities of ``n_coils`` loops on a ring around ``axis``.

    Each coil ``c`` sits at angle ``2 pi c / n_coils`` on a ring of radius
    ``ring_radius * FOV / 2`` (in the plane perpendicular to ``axis``, through the FOV centre).
    Its sensitivity is a Gaussian fall-off with distance (``width`` x half-FOV) times a phase
    that winds with the azimuth, ``exp(i (phi - phi_c))``, as for a birdcage's modes. The set
    is scaled so that the root-sum-of-squares is 1 at its maximum.

    Parameters
    ----------
    shape : 2 or 3 ints
        Grid (the scanner-frame output grid).
    voxel_size_mm : float or sequence
    n_coils : int
    ring_radius, width : float
        In units of the half-FOV (smallest in-plane half-FOV).
    axis : int
        Ring axis (3D only; ignored in 2D).

    Returns
    -------
    ndarray, complex64, shape (n_coils, *shape)
    """
    shape = tuple(int(s) for s in shape)
    nd = len(shape)
    if nd not in (2, 3) or n_coils < 1:
        raise MrsimInputError(f"need a 2D/3D shape and n_coils >= 1, got {shape}, {n_coils}")
    vox = voxel_sizes(voxel_size_mm, nd)
    grids = np.meshgrid(
        *[(np.arange(n) - n // 2) * v for n, v in zip(shape, vox, strict=False)],
        indexing="ij",
        sparse=True,
    )
    plane = [a for a in range(nd) if nd == 2 or a != axis % nd][:2]
    half = 0.5 * min(shape[a] * vox[a] for a in plane)
    p, q = grids[plane[0]], grids[plane[1]]
    phi = np.arctan2(q, p)
    out = np.empty((n_coils,) + shape, dtype=np.complex64)
    for c in range(n_coils):
        ang = 2 * np.pi * c / n_coils
        cp, cq = ring_radius * half * np.cos(ang), ring_radius * half * np.sin(ang)
        d2 = (p - cp) ** 2 + (q - cq) ** 2
        mag = np.exp(-d2 / (2 * (width * half) ** 2))
        out[c] = np.broadcast_to(mag * np.exp(1j * (phi - ang)), shape)
    rss = np.sqrt(np.sum(np.abs(out) ** 2, axis=0))
    return (out / rss.max()).astype(np.complex64)


def combine_coils(coil_images: np.ndarray, sensitivities: np.ndarray) -> np.ndarray:
    """Sensitivity-weighted (SENSE, R=1) combination ``sum_c conj(S_c) m_c / sum_c |S_c|^2``.

    Exact for motion-free data (returns the object wherever some coil sees it; 0 where none
    does). ``coil_images`` has shape (..., C, *grid), ``sensitivities`` (C, *grid).
    """
    s = _maps(sensitivities)
    if coil_images.shape[-s.ndim :] != s.shape:
        raise MrsimInputError(
            f"coil images {coil_images.shape} do not end with the sensitivities' shape {s.shape}"
        )
    grid = (slice(None),) * (s.ndim - 1)
    return _sense_combination(s, lambda c: coil_images[(Ellipsis, c) + grid])


def combine_coil_kspace(
    kspace: np.ndarray, sensitivities: np.ndarray | CoilMaps, workers: int | None = None
) -> np.ndarray:
    """:func:`combine_coils` of the coil images of ``kspace`` (..., C, *grid), each coil's
    inverse centred FFT taken and added in turn, so no (..., C, *grid) image array is held
    (the same sums in the same order as ``combine_coils(ifft_centered(kspace), S)``).
    ``sensitivities`` may be a :class:`CoilMaps` (each map made when its coil is added)."""
    s = _maps(sensitivities)
    nd = s.ndim - 1
    axes = tuple(range(-nd, 0))
    if kspace.shape[-s.ndim :] != s.shape:
        raise MrsimInputError(
            f"coil k-space {kspace.shape} does not end with the sensitivities' shape {s.shape}"
        )
    grid = (slice(None),) * nd
    return _sense_combination(
        s, lambda c: ifft_centered(kspace[(Ellipsis, c) + grid], axes=axes, workers=workers)
    )


def _sense_combination(maps, coil_image) -> np.ndarray:
    """``sum_c conj(S_c) m_c / sum_c |S_c|^2`` coil by coil (``maps[c]`` and
    ``coil_image(c)`` asked once per coil): no (..., C, *grid) temporaries."""
    s0 = maps[0]
    den = np.abs(s0) ** 2
    num = np.conj(s0) * coil_image(0)
    for c in range(1, maps.shape[0]):
        sc = maps[c]
        den += np.abs(sc) ** 2
        num += np.conj(sc) * coil_image(c)
    return np.where(den > 1e-12, num / np.maximum(den, 1e-12), 0)


class CoilMaps:
    """Coil maps made on demand, one coil at a time: ``maps[c]`` (shape ``grid``).

    Stands in for a ``(C, *grid)`` array where the maps are used coil by coil (the
    combination of :func:`combine_coil_kspace`), so that they are never all held: at 1 mm,
    8 complex64 maps are 0.74 GB (issue 17, memory). :meth:`array` makes the full array.

    Parameters
    ----------
    n_coils : int
    grid : tuple of int
    dtype : numpy dtype
        Of every map (each is cast to it).
    make : callable
        ``make(c) -> ndarray`` of shape ``grid``; deterministic.
    """

    def __init__(self, n_coils: int, grid: Sequence[int], dtype, make) -> None:
        self.shape = (int(n_coils), *(int(n) for n in grid))
        self.ndim = len(self.shape)
        self.dtype = np.dtype(dtype)
        self._make = make

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, c: int) -> np.ndarray:
        if not -self.shape[0] <= c < self.shape[0]:
            raise IndexError(f"coil {c} out of range for {self.shape[0]} coils")
        return self._make(c % self.shape[0]).astype(self.dtype, copy=False)

    def array(self) -> np.ndarray:
        """All maps, shape ``(C, *grid)``."""
        out = np.empty(self.shape, self.dtype)
        for c in range(self.shape[0]):
            out[c] = self[c]
        return out


def _maps(sensitivities) -> np.ndarray | CoilMaps:
    return sensitivities if isinstance(sensitivities, CoilMaps) else np.asarray(sensitivities)


# ---------------------------------------------------------------------- Fourier series
def coil_terms_per_axis(terms: int | Sequence[int], shape: Sequence[int]) -> tuple[int, ...]:
    """Validate the half-width ``K`` of a sensitivity Fourier box, one entry per axis.

    Parameters
    ----------
    terms : int or sequence of int
        ``K`` for every axis, or one ``K_a`` per axis (array-axis order). Terms
        ``|p_a| <= K_a`` cycles/FOV are kept: ``2 K_a + 1`` per axis.
    shape : sequence of int
        Grid of the sensitivities (2 or 3 axes).

    Returns
    -------
    tuple of int
        ``K_a`` per axis, each in ``[0, shape[a] // 2]``.
    """
    shape = tuple(int(n) for n in shape)
    nd = len(shape)
    if isinstance(terms, (bool, np.bool_)):
        raise MrsimInputError(f"coil_terms must be an int or {nd} ints, got {terms!r}")
    if np.ndim(terms) == 0:
        terms = (terms,) * nd
    terms = tuple(terms)
    if len(terms) != nd or not all(
        isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)) for k in terms
    ):
        raise MrsimInputError(
            f"coil_terms must be an int or a sequence of {nd} ints (one per array axis), got "
            f"{terms!r}"
        )
    for a, (k, n) in enumerate(zip(terms, shape, strict=True)):
        if not 0 <= k <= n // 2:
            raise MrsimInputError(
                f"coil_terms K={k} on axis {a} must lie in [0, {n // 2}] (the grid of {n} "
                f"samples holds frequencies |p| <= {n // 2} cycles/FOV)"
            )
    return tuple(int(k) for k in terms)


def default_coil_terms(sensitivities: np.ndarray) -> tuple[int, ...]:
    """Default Fourier box: ``min(DEFAULT_COIL_TERMS, n_a // 2)`` per axis, 0 where constant.

    Maps that do not vary along an axis (e.g. :func:`birdcage_sensitivities` along the ring
    axis) need no terms there: with ``K_a = 0`` their series is exact along that axis and,
    for a phase-encode axis, the Fourier method evaluates ``2 K_a + 1`` times fewer shifted
    lines.

    Parameters
    ----------
    sensitivities : ndarray, shape (C, *grid)

    Returns
    -------
    tuple of int
        ``K_a`` per grid axis.
    """
    s = _check_sensitivities(sensitivities)
    # Coil by coil (the same maxima): no (C, *grid) difference array (issue 17, memory).
    scale = max((float(np.max(np.abs(c), initial=0.0)) for c in s), default=0.0)
    terms = []
    for a, n in enumerate(s.shape[1:]):
        change = max(
            (float(np.max(np.abs(c - np.take(c, [0], axis=a)), initial=0.0)) for c in s),
            default=0.0,
        )
        terms.append(0 if change <= 1e-6 * scale else min(DEFAULT_COIL_TERMS, n // 2))
    return tuple(terms)


def _check_sensitivities(sensitivities: np.ndarray) -> np.ndarray:
    s = np.asarray(sensitivities)
    if s.ndim not in (3, 4) or not np.issubdtype(s.dtype, np.number):
        raise MrsimInputError(
            f"sensitivities must be a numeric array of shape (C, *grid) with a 2D or 3D grid, "
            f"got shape {s.shape}"
        )
    if not np.all(np.isfinite(s)):
        raise MrsimInputError("sensitivities contain NaN or inf")
    return s


def sensitivity_fourier_coefficients(
    sensitivities: np.ndarray, terms: int | Sequence[int] = DEFAULT_COIL_TERMS
) -> np.ndarray:
    """Fourier-series coefficients ``a_{c,p}`` of sensitivity maps over the FOV.

    On the grid (voxel ``j``, position ``r_j = (j - n // 2) FOV / n`` along each axis)

        S_c[j] = sum_p a_{c,p} exp(+i 2 pi p . (j - n // 2) / n),

    so ``a_{c,p} = N^(-1/2) fft_centered(S_c)[p + n // 2]`` (``N`` voxels). Keeping the terms
    ``|p_a| <= K_a`` is the least-squares best approximation of the maps on the grid by
    that many terms.

    Parameters
    ----------
    sensitivities : ndarray, shape (C, *grid)
        Coil maps on a 2D or 3D grid (scanner frame).
    terms : int or sequence of int
        Half-width ``K`` of the box, per axis or for all (:func:`coil_terms_per_axis`).

    Returns
    -------
    ndarray, complex128, shape (C, 2 K_0 + 1, 2 K_1 + 1[, 2 K_2 + 1])
        ``a[c, p_0 + K_0, p_1 + K_1, ...]``. On an even axis with ``K_a = n_a / 2`` the entry
        ``p_a = +n_a / 2`` does not exist on the grid and is 0.

    References
    ----------
    .. [1] docs/physics.md, section 5 (multi-coil acquisitions).
    """
    s = _check_sensitivities(sensitivities)
    grid = s.shape[1:]
    K = coil_terms_per_axis(terms, grid)
    axes = tuple(range(0, s.ndim - 1))

    def one_coil(sc: np.ndarray) -> np.ndarray:
        # Coil by coil: a full-grid complex128 FFT of one coil at a time (8 coils of
        # 256 x 256 x 176 at once held several GB, docs/benchmarks.md "Memory").
        spec = fft_centered(sc.astype(np.complex128), axes=axes) / np.sqrt(np.prod(grid))
        for a, (k, n) in enumerate(zip(K, grid, strict=True)):
            idx = np.arange(-k, k + 1) + n // 2
            valid = idx < n
            spec = np.take(spec, np.minimum(idx, n - 1), axis=a)
            if not valid.all():
                shape = [1] * spec.ndim
                shape[a] = len(idx)
                spec = spec * valid.reshape(shape)
        return spec

    return np.stack([one_coil(sc) for sc in s])


def bandlimit_sensitivities(
    sensitivities: np.ndarray, terms: int | Sequence[int] = DEFAULT_COIL_TERMS
) -> np.ndarray:
    """The maps represented exactly by the ``|p_a| <= K_a`` Fourier terms.

    These are the sensitivities that ``coil_method="fourier"`` of
    :func:`mrsim.kspace.engine.moved_kspace` simulates; combine its coil images with them
    (:func:`combine_coils`) to recover the object exactly in the absence of motion.

    Parameters
    ----------
    sensitivities : ndarray, shape (C, *grid)
    terms : int or sequence of int
        As in :func:`sensitivity_fourier_coefficients`.

    Returns
    -------
    ndarray, shape (C, *grid)
        Complex, in the input's precision (complex64 for complex64 / float32 maps).
    """
    return bandlimited_maps(sensitivities, terms).array()


def bandlimited_maps(
    sensitivities: np.ndarray, terms: int | Sequence[int] = DEFAULT_COIL_TERMS
) -> CoilMaps:
    """:func:`bandlimit_sensitivities` as :class:`CoilMaps`: each coil's band-limited map
    made when asked (the same values), none held."""
    s = _check_sensitivities(sensitivities)
    grid = s.shape[1:]
    K = coil_terms_per_axis(terms, grid)
    axes = tuple(range(0, s.ndim - 1))
    mask = np.ones(grid, dtype=bool)
    for a, (k, n) in enumerate(zip(K, grid, strict=True)):
        shape = [1] * len(grid)
        shape[a] = n
        mask = mask & (np.abs(np.arange(n) - n // 2) <= k).reshape(shape)
    single = s.dtype in (np.dtype(np.complex64), np.dtype(np.float32), np.dtype(np.float16))

    def make(c: int) -> np.ndarray:
        return ifft_centered(fft_centered(s[c], axes=axes) * mask, axes=axes)

    return CoilMaps(s.shape[0], grid, np.complex64 if single else np.complex128, make)


def sensitivity_truncation_error(
    sensitivities: np.ndarray,
    terms: int | Sequence[int] = DEFAULT_COIL_TERMS,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Relative l2 error of each coil map's ``|p_a| <= K_a`` Fourier truncation.

    ``||S_c - S_c^K|| / ||S_c||`` over the grid, or over ``mask`` (e.g. the head, dilated by
    the expected motion: only the product ``S_c m`` is acquired, so errors where there is no
    object do not matter). Use it to choose ``coil_terms`` for ``coil_method="fourier"``:
    the coil k-space error of that method relative to the exact one is about this number
    (docs/physics.md, section 5, has measured examples).

    Parameters
    ----------
    sensitivities : ndarray, shape (C, *grid)
    terms : int or sequence of int
        As in :func:`sensitivity_fourier_coefficients`.
    mask : ndarray of bool, shape grid, optional
        Voxels where the error is measured; default all.

    Returns
    -------
    ndarray, float64, shape (C,)
        0 for a coil whose map is 0 where measured (nothing to represent).

    Examples
    --------
    >>> s = birdcage_sensitivities((32, 32, 16), n_coils=4)
    >>> err = sensitivity_truncation_error(s, terms=2)
    >>> err.shape
    (4,)
    """
    s = _check_sensitivities(sensitivities)
    approx = bandlimit_sensitivities(s.astype(np.complex128), terms)
    diff = (approx - s).reshape(s.shape[0], -1)
    ref = s.reshape(s.shape[0], -1)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != s.shape[1:]:
            raise MrsimInputError(f"mask shape {m.shape} must equal the maps' grid {s.shape[1:]}")
        diff, ref = diff[:, m.reshape(-1)], ref[:, m.reshape(-1)]
    num = np.linalg.norm(diff, axis=1)
    den = np.linalg.norm(ref, axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
