"""Per-voxel layer arithmetic of :func:`mrsim.phantoms.head.make_head`, compiled (numba).

From the template maps and the two signed distances (``d`` from the brain, ``h`` below the
outer surface) every voxel's twelve fractions and its label follow by a few dozen scalar
operations. Done with whole-array NumPy expressions this made ~100 full-size float32 and
float64 temporaries; one compiled pass over the voxels makes none. The arithmetic is the
NumPy version's, operation for operation and in the same precision (float32 where its
operands were float32 and Python scalars, which NumPy casts to float32; float64 where a
float64 operand made NumPy compute in float64), so the maps are bit for bit those of the
NumPy expressions (tests/test_phantom_head_build.py compares with a frozen copy of them).
The model itself is documented in :mod:`mrsim.phantoms.head`; ``ramp(x) = clip(0.5 + x / w,
0, 1)`` is its one-voxel partial-volume step (``w`` the smallest voxel size, mm).
"""

from __future__ import annotations

import threading
from functools import cache

import numpy as np

__all__ = ["LAYER_NAMES", "ellipsoid_terms", "outline_seed", "compose_layers"]

#: output order of :func:`compose_layers` (``HEAD_LABELS`` without the background)
LAYER_NAMES = (
    "csf",
    "gm",
    "wm",
    "csf_rim",
    "bone",
    "marrow",
    "skin",
    "fat",
    "muscle",
    "vitreous",
    "orbital_fat",
    "air",
)


def ellipsoid_terms(xyz, ellipsoids, width: float):
    """Per-axis terms of the partial-volume ellipsoids ``ramp((1 - rho) * mean(semi), w)``.

    Returns ``t (3, E)`` lists of 1D float64 arrays ``((x_a - c_a) / s_a) ** 2`` (as the NumPy
    version formed them on its sparse grid), ``mean_semi (E,)`` and ``r2_zero (E,)``: where
    one term exceeds ``r2_zero`` the ellipsoid's fraction is exactly 0, since then
    ``rho > 1 + 2 width / mean_semi`` and the ramp's argument ``0.5 + (1 - rho) mean_semi /
    width`` is below -3/2 (the ramp is 0 from -1/2 on: the factor 2 leaves rounding no say).
    """
    terms = [[], [], []]
    mean_semi, r2_zero = [], []
    for centre, semi in ellipsoids:
        for a in range(3):
            terms[a].append(((xyz[a].ravel() - centre[a]) / semi[a]) ** 2)
        ms = float(np.mean(semi))
        mean_semi.append(ms)
        r2_zero.append((1.0 + 2.0 * width / ms) ** 2)
    return (
        [np.stack(t) for t in terms],
        np.asarray(mean_semi, float),
        np.asarray(r2_zero, float),
    )


def outline_seed(
    d, thr32, neck_tx, neck_ty, zc, z_top, fx, fy, fz, face_ms, face_r2z, w, out
) -> None:
    """``out = (d <= thr) | neck | face`` as float32 0/1 (the outline before smoothing).

    ``thr32``: the float32 threshold (NumPy compares a float32 array with a Python float in
    float32); ``neck_tx + neck_ty <= 1`` and ``zc <= z_top`` the elliptic neck cylinder;
    ``fx, fy, fz, face_ms, face_r2z`` the face ellipsoid's :func:`ellipsoid_terms`.
    """
    _compiled().outline_seed(
        d, thr32, neck_tx, neck_ty, zc, z_top, fx, fy, fz, face_ms, face_r2z, w, out
    )


def compose_layers(
    mask, gm, wm, csf, d, sd_outline, edges, skin32, scalp32, w, t0, t1, t2, ms, r2z, fr, labels
) -> None:
    """Fractions ``fr (12, X, Y, Z)`` in :data:`LAYER_NAMES` order and ``labels``.

    ``edges`` (float64) are the cranial shell boundaries from the brain (mm); ``t0..t2, ms,
    r2z`` the ellipsoid terms of :func:`ellipsoid_terms` in the order right orbit, left
    orbit, right eye, left eye, then the air cavities (merged by their maximum).
    """
    _compiled().compose_layers(
        mask, gm, wm, csf, d, sd_outline, edges, skin32, scalp32, w, t0, t1, t2, ms, r2z, fr,
        labels,
    )  # fmt: skip


# The kernels as module source, compiled on first use with their machine code cached in
# mrsim's private kernel cache (compile_cached; docs/security.md), not beside this file.
_SOURCE = '''"""mrsim head layer kernels (from mrsim.phantoms.head_layers)."""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def _ellipsoid_fraction(t0, t1, t2, ms, r2z, w):
    # float64 as in NumPy: sum of the axis terms (0 + t0 + t1 + t2), root, ramp, to float32
    if t0 > r2z or t1 > r2z or t2 > r2z:
        return np.float32(0.0)
    rho = np.sqrt((t0 + t1) + t2)
    v = 0.5 + ((1.0 - rho) * ms) / w
    return np.float32(min(max(v, 0.0), 1.0))


@numba.njit(cache=True, nogil=True, inline="always")
def _ramp32(x, w32):
    # float32: 0.5 + x / w, clipped to [0, 1]; |x| >= w saturates (x / w >= 1 exactly, the
    # division being correctly rounded and monotone), which spares most divisions
    if x >= w32:
        return np.float32(1.0)
    if x <= -w32:
        return np.float32(0.0)
    v = np.float32(0.5) + x / w32
    return min(max(v, np.float32(0.0)), np.float32(1.0))


@numba.njit(cache=True, nogil=True, inline="always")
def _ramp64(x, w):
    # float64, then rounded to float32; saturation as in _ramp32
    if x >= w:
        return np.float32(1.0)
    if x <= -w:
        return np.float32(0.0)
    v = 0.5 + x / w
    return np.float32(min(max(v, 0.0), 1.0))


@numba.njit(cache=True, nogil=True)
def outline_seed(d, thr32, neck_tx, neck_ty, zc, z_top, fx, fy, fz, face_ms, face_r2z, w, out):
    """``out = (d <= thr) | neck | face`` as float32 0/1 (the outline before smoothing).

    ``thr32``: the float32 threshold (NumPy compares a float32 array with a Python float in
    float32); ``neck_tx + neck_ty <= 1`` and ``zc <= z_top`` the elliptic neck cylinder;
    ``fx, fy, fz, face_ms, face_r2z`` the face ellipsoid's :func:`ellipsoid_terms`.
    """
    nx, ny, nz = d.shape
    for i in range(nx):
        for j in range(ny):
            neck_xy = (neck_tx[i] + neck_ty[j]) <= 1.0
            for k in range(nz):
                inside = d[i, j, k] <= thr32 or (neck_xy and zc[k] <= z_top)
                if not inside:
                    f = _ellipsoid_fraction(fx[i], fy[j], fz[k], face_ms, face_r2z, w)
                    inside = f >= np.float32(0.5)
                out[i, j, k] = np.float32(1.0) if inside else np.float32(0.0)


@numba.njit(cache=True, nogil=True)
def compose_layers(
    mask, gm, wm, csf, d, sd_outline, edges, skin32, scalp32, w, t0, t1, t2, ms, r2z, fr, labels
):
    """Fractions ``fr (12, X, Y, Z)`` in :data:`LAYER_NAMES` order and ``labels``.

    ``edges`` (float64) are the cranial shell boundaries from the brain (mm); ``t0..t2, ms,
    r2z`` the ellipsoid terms of :func:`ellipsoid_terms` in the order right orbit, left
    orbit, right eye, left eye, then the air cavities (merged by their maximum).
    """
    nx, ny, nz = d.shape
    ne = ms.shape[0]
    w32 = np.float32(w)
    eps = np.float32(1e-6)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for i in range(nx):
        for j in range(ny):
            # any ellipsoid within reach of this column? (elsewhere every weight is +0, and a
            # blend with weight +0 leaves the other fractions unchanged and adds +0)
            near = False
            for e in range(ne):
                near = near or (t0[e, i] <= r2z[e] and t1[e, j] <= r2z[e])
            for k in range(nz):
                # brain: template fractions normalised to the (clipped) mask
                bpv = min(max(mask[i, j, k], zero), one)
                tot = (gm[i, j, k] + wm[i, j, k]) + csf[i, j, k]
                if not tot > eps:
                    tot = one
                f_gm = (bpv * gm[i, j, k]) / tot
                f_wm = (bpv * wm[i, j, k]) / tot
                f_csf = (bpv * csf[i, j, k]) / tot
                # scalp by depth below the surface (float32 ramps)
                h = -sd_outline[i, j, k]
                head = _ramp32(h, w32)
                r_skin = _ramp32(h - skin32, w32)
                deep = _ramp32(h - scalp32, w32)
                skin = head - r_skin
                fat = r_skin - deep
                # cranial shells by distance from the brain (float64 ramps: float64 edges)
                dd = d[i, j, k]
                d64 = np.float64(dd)
                s0 = _ramp64(d64 - edges[0], w)
                s1 = _ramp64(d64 - edges[1], w)
                s2 = _ramp64(d64 - edges[2], w)
                s3 = _ramp64(d64 - edges[3], w)
                s4 = _ramp64(d64 - edges[4], w)
                if s0 == one:
                    ob = one  # 1 / 1
                elif s0 > eps:
                    ob = one / max(s0, eps)
                else:
                    ob = zero
                nb = one - bpv
                nd = nb * deep
                f_rim = ((nd * (s0 - s1)) * ob) + nd * (one if s0 <= eps else zero)
                f_bone = (nd * ((s1 - s2) + (s3 - s4))) * ob
                f_marrow = (nd * (s2 - s3)) * ob
                f_muscle = (nd * s4) * ob
                f_skin = nb * skin
                f_fat = nb * fat
                # eyes, orbital fat, air replace non-brain tissue >= 3 mm from the brain
                guard = _ramp32(dd - np.float32(3.0), w32)
                f_orb = zero
                f_vit = zero
                f_air = zero
                air = zero
                for e in range(ne if near else 0):
                    v = _ellipsoid_fraction(t0[e, i], t1[e, j], t2[e, k], ms[e], r2z[e], w)
                    if e >= 4:
                        air = max(air, v)
                        if e < ne - 1:
                            continue
                        v = air
                    wgt = (v * guard) * head
                    keep = one - wgt
                    f_rim *= keep
                    f_bone *= keep
                    f_marrow *= keep
                    f_muscle *= keep
                    f_skin *= keep
                    f_fat *= keep
                    add = wgt * nb
                    if e == 0:
                        f_orb = zero + add
                    elif e == 1:
                        f_orb = f_orb * keep + add
                    elif e == 2:
                        f_orb *= keep
                        f_vit = zero + add
                    elif e == 3:
                        f_orb *= keep
                        f_vit = f_vit * keep + add
                    else:
                        f_orb *= keep
                        f_vit *= keep
                        f_air = zero + add
                fr[0, i, j, k] = f_csf
                fr[1, i, j, k] = f_gm
                fr[2, i, j, k] = f_wm
                fr[3, i, j, k] = f_rim
                fr[4, i, j, k] = f_bone
                fr[5, i, j, k] = f_marrow
                fr[6, i, j, k] = f_skin
                fr[7, i, j, k] = f_fat
                fr[8, i, j, k] = f_muscle
                fr[9, i, j, k] = f_vit
                fr[10, i, j, k] = f_orb
                fr[11, i, j, k] = f_air
                # sum in map order (NumPy's sum over the first axis), first largest (argmax)
                total = f_csf
                best = 0
                top = f_csf
                for c in range(1, 12):
                    v = fr[c, i, j, k]
                    total += v
                    if v > top:
                        top = v
                        best = c
                labels[i, j, k] = best + 1 if total >= np.float32(0.5) else 0
'''

_LOCK = threading.Lock()


@cache
def _load():
    from mrsim.kspace.line_interp import compile_cached

    return compile_cached(_SOURCE, "phantom_head_layers")


def _compiled():
    with _LOCK:
        return _load()
