"""Frozen copy of ``mrsim.phantoms.head.make_head`` as of git 75e6096 (before the build-speed
work): the reference that the faster build must match bit for bit
(tests/test_phantom_head_build_speed.py, benchmarks/head_build_speed.py). Do not edit: it
is the old arithmetic, kept only to compare against. The constants (thicknesses,
ellipsoids, labels) are imported, so a deliberate change of the anatomy changes both.
"""
# ruff: noqa

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage

from mrsim.errors import MrsimInputError
from mrsim.phantoms.head import (
    AIR_CAVITIES,
    DEFAULT_CENTRE_MM,
    DEFAULT_SHAPE,
    HEAD_LABELS,
    THICKNESS_MM,
    HeadPhantom,
    _EYE,
    _FACE,
    _NECK,
    _ORBIT,
)
from mrsim.phantoms.tissues import TISSUES_3T, Tissue


# ---------------------------------------------------------------------- geometry
def _place(data: np.ndarray, affine: np.ndarray, shape, centre_mm) -> tuple[np.ndarray, np.ndarray]:
    """Pad/crop so that the world point ``centre_mm`` lands on voxel ``n // 2`` (integer shift)."""
    lin = affine[:3, :3]
    ic = np.rint(np.linalg.solve(lin, np.asarray(centre_mm, float) - affine[:3, 3])).astype(int)
    off = np.asarray(shape) // 2 - ic
    out = np.zeros(shape, data.dtype)
    src, dst = [], []
    for n_in, n_out, o in zip(data.shape, shape, off, strict=True):
        lo, hi = max(0, -o), min(n_in, n_out - o)
        src.append(slice(lo, max(lo, hi)))
        dst.append(slice(lo + o, max(lo, hi) + o))
    out[tuple(dst)] = data[tuple(src)]
    new = np.array(affine, float)
    new[:3, 3] = affine[:3, 3] - lin @ off
    return out, new


def _world(shape, affine) -> list[np.ndarray]:
    idx = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij", sparse=True)
    return [affine[a, a] * idx[a] + affine[a, 3] for a in range(3)]  # axis-aligned grid


def _ramp(x: np.ndarray, width: float) -> np.ndarray:
    """Smooth step: 0 for x < -w/2, 1 for x > w/2, linear between (partial volume)."""
    return np.clip(0.5 + x / width, 0.0, 1.0).astype(np.float32)


def _signed_distance(mask: np.ndarray, vox) -> np.ndarray:
    """mm from the surface of ``mask``, positive outside, negative inside.

    The EDT gives the distance between voxel centres; the surface lies half a voxel
    beyond the last voxel of the mask, hence the half-voxel shift. The EDT of a binary
    mask is quantised on the grid (a staircase); a one-voxel Gaussian turns it into a
    smooth level set (a linear distance is unchanged by it), so the ramps of
    :func:`_ramp` give partial volumes at every interface, oblique or not.
    """
    half = 0.5 * float(np.mean(vox))
    out = ndimage.distance_transform_edt(~mask, sampling=vox).astype(np.float32)
    inside = ndimage.distance_transform_edt(mask, sampling=vox).astype(np.float32)
    sd = np.where(mask, half - inside, out - half)
    return ndimage.gaussian_filter(sd, 1.0, mode="nearest")


def _ellipsoid(xyz, centre, semi, width) -> np.ndarray:
    rho = np.sqrt(sum(((xyz[a] - centre[a]) / semi[a]) ** 2 for a in range(3)))
    return _ramp((1.0 - rho) * float(np.mean(semi)), width)


def make_head_v1(
    shape: Sequence[int] = DEFAULT_SHAPE,
    voxel_size_mm: float | Sequence[float] = 1.0,
    *,
    centre_mm: Sequence[float] = DEFAULT_CENTRE_MM,
    thickness_mm: Mapping[str, float] | None = None,
    tissues: Mapping[str, Tissue] | None = None,
    warp_coords: Sequence[np.ndarray] | None = None,
) -> HeadPhantom:
    """Build the full-head phantom on an axis-aligned RAS grid.

    Parameters
    ----------
    shape : 3 ints
        Matrix; the default (176, 256, 256) at 1 mm is a sagittal 3D MP-RAGE FOV
        (176 L-R partitions, 256 mm A-P and S-I) down to the neck.
    voxel_size_mm : float or 3 floats
        Isotropic or per-axis voxel size; the template is resampled first.
    centre_mm : 3 floats
        MNI/RAS position of voxel ``n // 2`` (default: the head centred in x and y, the
        FOV reaching ~15 mm above the scalp and down into the neck).
    thickness_mm : mapping, optional
        Overrides of :data:`THICKNESS_MM` (keys as there, values > 0).
    tissues : mapping name -> Tissue, optional
        Parameter table (default :data:`~mrsim.phantoms.tissues.TISSUES_3T`).
    warp_coords : 3 arrays of shape ``shape``, optional
        Pull-back sampling coordinates (voxel units) of a smooth deformation applied to
        the template maps before the layers are derived (synthetic subjects,
        :func:`mrsim.dataset.head_subjects.synthetic_head`).

    Returns
    -------
    HeadPhantom

    References
    ----------
    Fonov V et al. NeuroImage 2011 (MNI152 2009a); thickness sources in the module doc.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 8:
        raise MrsimInputError(f"shape must be 3 ints >= 8, got {shape}")
    vox = np.broadcast_to(np.asarray(voxel_size_mm, float), (3,)).copy()
    if np.any(vox <= 0):
        raise MrsimInputError(f"voxel_size_mm must be > 0, got {tuple(vox)}")
    th = dict(THICKNESS_MM)
    for k, v in (thickness_mm or {}).items():
        if k not in th or not float(v) > 0:
            raise MrsimInputError(
                f"thickness_mm[{k!r}]={v!r}: expected a key of {sorted(th)} -> mm > 0"
            )
        th[k] = float(v)
    tab = dict(tissues or TISSUES_3T)
    from mrsim.phantoms.mni152 import load_mni152

    maps = {}
    affine = None
    for k in ("gm", "wm", "csf", "mask"):
        data, aff = load_mni152(k, voxel_size_mm=vox)
        maps[k], affine = _place(data, aff, shape, centre_mm)
    # spinal cord: extrude the lowest template slice with brain tissue down to the edge
    z_low = int(np.flatnonzero(maps["mask"].reshape(-1, shape[2]).max(0) > 0.5).min())
    for k in maps:
        maps[k][:, :, :z_low] = maps[k][:, :, z_low + 1 : z_low + 2]
    if warp_coords is not None:
        for k in maps:
            maps[k] = ndimage.map_coordinates(maps[k], warp_coords, order=1, mode="nearest").astype(
                np.float32
            )
    w = float(vox.min())
    brain_pv = np.clip(maps["mask"], 0.0, 1.0)
    brain = brain_pv >= 0.5
    tot = maps["gm"] + maps["wm"] + maps["csf"]
    tot = np.where(tot > 1e-6, tot, 1.0)
    xyz = _world(shape, affine)

    # head outline: cranium + scalp, neck cylinder, face ellipsoid; smoothed (3 mm)
    d = _signed_distance(brain, vox)
    cranium = th["csf_rim"] + th["inner_table"] + th["diploe"] + th["outer_table"]
    scalp = th["skin"] + th["fat"]
    (nx, ny), (ax_, ay), z_top = _NECK
    neck = (((xyz[0] - nx) / ax_) ** 2 + ((xyz[1] - ny) / ay) ** 2 <= 1.0) & (xyz[2] <= z_top)
    face = _ellipsoid(xyz, *_FACE, w) >= 0.5
    outline = (d <= cranium + scalp) | neck | face
    outline = ndimage.gaussian_filter(outline.astype(np.float32), 3.0 / vox) >= 0.5
    h = -_signed_distance(outline, vox)  # depth below the outer surface (mm), > 0 inside
    del outline

    head = _ramp(h, w)
    skin = head - _ramp(h - th["skin"], w)
    fat = _ramp(h - th["skin"], w) - _ramp(h - scalp, w)
    deep = _ramp(h - scalp, w)
    # cranial shells by distance from the brain (telescoping ramps: a partition of deep)
    edges = np.cumsum([0.0, th["csf_rim"], th["inner_table"], th["diploe"], th["outer_table"]])
    steps = [_ramp(d - e, w) for e in edges]
    shell = {
        "csf_rim": steps[0] - steps[1],
        "bone": (steps[1] - steps[2]) + (steps[3] - steps[4]),
        "marrow": steps[2] - steps[3],
        "muscle": steps[4],
    }
    outside_brain = np.where(steps[0] > 1e-6, 1.0 / np.maximum(steps[0], 1e-6), 0.0)
    nonbrain = 1.0 - brain_pv
    frac: dict[str, np.ndarray] = {}
    for k in ("gm", "wm", "csf"):
        frac[k] = (brain_pv * maps[k] / tot).astype(np.float32)
    for k, s in shell.items():
        frac[k] = (nonbrain * deep * s * outside_brain).astype(np.float32)
    # voxels of the partial-volume brain rim not reached by the ramp go to the CSF rim
    frac["csf_rim"] += (nonbrain * deep * (steps[0] <= 1e-6)).astype(np.float32)
    frac["skin"] = (nonbrain * skin).astype(np.float32)
    frac["fat"] = (nonbrain * fat).astype(np.float32)
    del steps, shell, skin, fat, deep

    # eyes in orbital fat, air cavities: they replace non-brain tissue, kept >= 3 mm from
    # the brain (the CSF rim and inner table stay closed)
    guard = _ramp(d - 3.0, w)

    def blend(weight: np.ndarray, name: str) -> None:
        wgt = (weight * guard * head).astype(np.float32)
        for k in frac:
            if k not in ("gm", "wm", "csf"):
                frac[k] *= 1.0 - wgt
        frac[name] = frac.get(name, np.zeros(shape, np.float32)) + wgt * nonbrain

    for sx in (1.0, -1.0):
        (cx, cy, cz), semi = _ORBIT
        blend(_ellipsoid(xyz, (sx * cx, cy, cz), semi, w), "orbital_fat")
    for sx in (1.0, -1.0):
        (cx, cy, cz), r = _EYE
        blend(_ellipsoid(xyz, (sx * cx, cy, cz), (r, r, r), w), "vitreous")
    air = np.zeros(shape, np.float32)
    for centre, semi in AIR_CAVITIES:
        air = np.maximum(air, _ellipsoid(xyz, centre, semi, w))
    blend(air, "air")
    del air, d, h

    names = tuple(n for n in HEAD_LABELS if n != "background")
    fr = np.empty((len(names),) + shape, np.float32)
    for k, n in enumerate(names):
        fr[k] = frac.pop(n)  # filled one by one: no second copy of every map
    total = fr.sum(0)
    labels = np.where(total >= 0.5, np.argmax(fr, axis=0) + 1, 0).astype(np.int16)
    info = {
        "source": "MNI152 2009a (nilearn) brain + derived layers (mrsim.phantoms.head)",
        "thickness_mm": th,
        "centre_mm": [float(c) for c in centre_mm],
        "voxel_size_mm": vox.tolist(),
        "shape": list(shape),
        "warped": warp_coords is not None,
    }
    return HeadPhantom(fr, names, labels, affine, tab, info)
