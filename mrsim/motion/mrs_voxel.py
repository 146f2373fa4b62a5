"""Where a prescribed single MRS voxel really is while the head moves (seed 000's use case).

Single-voxel spectroscopy (PRESS, STEAM, sLASER) excites one box, typically 20 x 20 x 20 mm,
prescribed on an anatomical image at the start of the scan, and averages the transients of
several minutes. When the head moves, the box stays in the scanner (or follows the head only
as well as the prospective estimate ``P`` does), so part of it leaves the intended tissue and
its grey/white matter/CSF composition changes, which biases the metabolite concentrations
(tissue correction) and broadens the lines.

**Geometry.** Poses act about the FOV centre ``c`` (``docs/motion.md``). The box ``V0`` is
prescribed in the head's reference pose. At transient ``k`` the head is at ``A_k`` and the
scanner places the box with its frame ``P_k``, so in the head's own coordinates the excited
region is ``E_k^-1 V0`` with the residual ``E_k = P_k^-1 A_k``
(:func:`mrsim.motion.prospective.residual_poses`; without correction ``E_k = A_k``).

**Metrics** (per transient, then averaged over transients, as the spectrum is their average):

* ``overlap``: fraction of the excited volume inside the prescribed box,
  ``|E^-1 V0 ∩ V0| / |V0|`` (1 = no displacement).
* ``tissue_agreement``: fraction of the excited volume whose tissue class (the largest of the
  GM, WM, CSF probabilities, or "outside" where all are below 0.5 in sum) equals the class
  the same point of the box was prescribed on: the fraction that "stays on its intended
  tissue" (a shift inside homogeneous white matter keeps it at 1).
* ``fractions``: GM / WM / CSF fractions of the excited volume (mean probability over it);
  ``fraction_change`` is their difference from the prescribed voxel's, averaged over the
  transients (the bias of a tissue correction computed from the prescription), and
  ``max_abs_fraction_change`` the worst single transient.

The box is sampled on regular grids of cell-centre points (cell centres of an ``n^3``
partition, so every point stands for the same volume): ``n_points = 11`` per edge for the
tissue maps (trilinear interpolation; the 1 mm maps limit the resolution anyway) and
``n_overlap = 41`` for the overlap, which a grid only resolves to about half its spacing
(0.24 mm for 20 mm). A test checks the overlap of a pure shift against the analytic
``prod (1 - |d_i|/s_i)`` and of small rotations against the arc-length estimate.

References
----------
Seed 000 (RECENTRE): prospective voxel re-positioning for MRS from predicted poses.
Andronesi O.C. et al. (2021) Motion correction methods for MRS: experts' consensus
recommendations, NMR Biomed 34:e4364.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from mrsim.errors import MrsimInputError
from mrsim.motion.rigid import invert_affine, params_to_affine

__all__ = ["voxel_points", "fov_center_mm", "mrs_voxel_metrics", "TISSUES"]

#: Tissue classes, in the order of the ``fractions`` arrays.
TISSUES = ("gm", "wm", "csf")


def fov_center_mm(affine: ArrayLike, shape: Sequence[int]) -> np.ndarray:
    """World position (mm) of voxel ``n // 2`` on every axis, the engine's rotation centre."""
    aff = np.asarray(affine, dtype=float)
    idx = np.array([n // 2 for n in shape] + [1], dtype=float)
    return (aff @ idx)[:3]


def voxel_points(
    center_mm: ArrayLike, size_mm: float | Sequence[float] = 20.0, n_points: int = 11
) -> np.ndarray:
    """Cell-centre sample points of an axis-aligned box, shape (n^3, 3), world mm."""
    c = np.asarray(center_mm, dtype=float)
    s = np.broadcast_to(np.asarray(size_mm, dtype=float), (3,))
    if c.shape != (3,) or not np.all(np.isfinite(c)):
        raise MrsimInputError(f"voxel centre must be 3 finite numbers (mm), got {center_mm!r}")
    if np.any(~(s > 0)):
        raise MrsimInputError(f"voxel size must be > 0 mm, got {size_mm!r}")
    if n_points < 2:
        raise MrsimInputError(f"n_points must be >= 2, got {n_points}")
    u = (np.arange(n_points) + 0.5) / n_points - 0.5
    g = np.stack(np.meshgrid(u, u, u, indexing="ij"), axis=-1).reshape(-1, 3)
    return c + g * s


def _sample(maps: np.ndarray, affine: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Trilinear samples of ``maps`` (K, nx, ny, nz) at world points (M, 3) -> (K, M)."""
    # a voxel affine scales: general inverse, not invert_affine (rigid only)
    ijk = (np.linalg.inv(affine) @ np.c_[pts, np.ones(len(pts))].T)[:3]
    return np.stack([ndimage.map_coordinates(m, ijk, order=1, mode="constant") for m in maps])


def _classes(frac: np.ndarray) -> np.ndarray:
    """Tissue class per point: argmax of (GM, WM, CSF), or 3 (outside) where their sum < 0.5."""
    cls = np.argmax(frac, axis=0)
    return np.where(frac.sum(axis=0) < 0.5, len(TISSUES), cls)


def mrs_voxel_metrics(
    residual_params: ArrayLike,
    tissue_maps: Mapping[str, np.ndarray],
    affine: ArrayLike,
    center_mm: ArrayLike,
    size_mm: float | Sequence[float] = 20.0,
    *,
    fov_center: ArrayLike | None = None,
    n_points: int = 11,
    n_overlap: int = 41,
) -> dict:
    """Overlap and tissue composition of a prescribed MRS voxel under residual motion.

    Parameters
    ----------
    residual_params : array_like, shape (T, 6)
        Residual pose ``E_k`` of every transient (mm, deg), e.g.
        :attr:`mrsim.motion.prospective.ProspectiveResult.residual_params`, or the true
        motion itself for an uncorrected scan.
    tissue_maps : mapping
        ``{"gm": ..., "wm": ..., "csf": ...}`` probability maps on one 3D grid (e.g.
        ``mrsim.phantoms.mni152.load_mni152("gm")``).
    affine : array_like (4, 4)
        Voxel-to-world (mm) affine of the maps.
    center_mm : array_like (3,)
        Prescribed voxel centre, world mm (e.g. MNI coordinates on the MNI152 maps).
    size_mm : float or 3 floats
        Box edge lengths along world x, y, z (default 20 mm cube).
    fov_center : array_like (3,), optional
        Centre of rotation of the poses (world mm); default the maps' FOV centre
        (:func:`fov_center_mm`), the engine's convention.
    n_points : int
        Samples per box edge for the tissue fractions and agreement (the maps' own
        resolution limits them anyway).
    n_overlap : int
        Samples per box edge for ``overlap``: a point grid cannot see a displacement smaller
        than half its spacing, so the overlap uses a finer grid (41: 0.24 mm for 20 mm).

    Returns
    -------
    dict
        Per-transient arrays ``overlap`` (T,), ``tissue_agreement`` (T,), ``fractions``
        (T, 3); the prescription's ``fractions_prescribed`` (3,); and scalars
        ``mean_overlap``, ``min_overlap``, ``mean_tissue_agreement``,
        ``min_tissue_agreement``, ``fraction_change`` (3,) = mean over transients minus
        prescribed, ``max_abs_fraction_change`` (3,), ``tissues``.
    """
    E = np.asarray(residual_params, dtype=float)
    if E.ndim != 2 or E.shape[1] != 6 or len(E) == 0 or not np.all(np.isfinite(E)):
        raise MrsimInputError(
            f"residual_params must be a finite (T, 6) array (tx_mm..rz_deg), got {E.shape}"
        )
    missing = [t for t in TISSUES if t not in tissue_maps]
    if missing:
        raise MrsimInputError(f"tissue_maps lacks {missing}; expected keys {TISSUES}")
    maps = np.stack([np.asarray(tissue_maps[t], dtype=np.float32) for t in TISSUES])
    if maps.ndim != 4:
        raise MrsimInputError(f"tissue maps must be 3D arrays of one shape, got {maps.shape[1:]}")
    aff = np.asarray(affine, dtype=float)
    c_fov = fov_center_mm(aff, maps.shape[1:]) if fov_center is None else np.asarray(fov_center)
    size = np.broadcast_to(np.asarray(size_mm, dtype=float), (3,))
    pts = voxel_points(center_mm, size, n_points)
    centre = np.asarray(center_mm, dtype=float)
    frac0 = _sample(maps, aff, pts)
    cls0 = _classes(frac0)
    # head-frame position of the excited box: E^-1 applied about the FOV centre
    Einv = invert_affine(params_to_affine(E))
    rel = pts - c_fov
    rel_fine = voxel_points(centre, size, n_overlap) - c_fov
    T = len(E)
    frac = np.empty((T, len(TISSUES)))
    agree = np.empty(T)
    overlap = np.empty(T)
    for k in range(T):
        Rk, tk = Einv[k, :3, :3], Einv[k, :3, 3] + c_fov
        fk = _sample(maps, aff, rel @ Rk.T + tk)
        frac[k] = fk.mean(axis=1)
        agree[k] = np.mean(_classes(fk) == cls0)
        fine = rel_fine @ Rk.T + tk
        overlap[k] = np.mean(np.all(np.abs(fine - centre) <= size / 2, axis=-1))
    f0 = frac0.mean(axis=1)
    return {
        "tissues": list(TISSUES),
        "overlap": overlap,
        "tissue_agreement": agree,
        "fractions": frac,
        "fractions_prescribed": f0,
        "mean_overlap": float(overlap.mean()),
        "min_overlap": float(overlap.min()),
        "mean_tissue_agreement": float(agree.mean()),
        "min_tissue_agreement": float(agree.min()),
        "fraction_change": frac.mean(axis=0) - f0,
        "max_abs_fraction_change": np.abs(frac - f0).max(axis=0),
    }
