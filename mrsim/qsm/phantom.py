"""Susceptibility (chi), R2* and M0 head phantom built from the MNI152 tissue maps.

The brain is the MNI152 2009a template shipped with nilearn
(:func:`mrsim.phantoms.mni152.load_mni152`): GM/WM/CSF partial volumes give
chi, R2* and M0 as volume-weighted tissue values. Deep grey nuclei are added
as smooth-edged ellipsoids at approximate MNI positions, optionally with
veins (thin tubes) and a calcification (small sphere). Background sources
outside the brain (a skull shell and air cavities at the sinuses and ear
canals) make a realistic background field for background removal to remove.

Tissue values (:data:`TISSUES`): chi (ppm) as used by the qsm-forward model
(Stewart et al., github.com/astewartau/qsm-forward) adjusted to the QSM
reconstruction challenge 2.0 (Marques et al., MRM 2021;86:526-542), as listed in
the mrsim QSM issue. R2* defaults to 1/T2 of the 7 T T2 values of the same list
(a lower bound on R2*: it omits the R2' part; pass your own table for realistic
3 T R2*). M0 follows typical relative proton densities (WM ~0.7, GM ~0.8,
CSF 1.0; Tofts, Quantitative MRI of the Brain, 2003, ch. 4). Air (+9.2 ppm) and
bone (-2.0 ppm) susceptibilities are relative to water/tissue (Schenck, Med
Phys 1996;23:815 for air-water ~9.4 ppm; cortical bone ~ -2 ppm relative to
water, Buch et al. MRM 2015;73:2185), and scaled by ``background_scale``.

Nucleus positions and semi-axes (:data:`NUCLEI`) are approximate centroids
and extents in MNI152 space, rounded to the millimetre, read from standard
subcortical atlases (Harvard-Oxford subcortical, CIT168 for red nucleus and
substantia nigra, SUIT for the dentate); they are ellipsoid stand-ins, not
segmentations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from mrsim.phantoms.head import AIR_CAVITIES

__all__ = ["TISSUES", "NUCLEI", "LABELS", "QSMPhantom", "make_qsm_phantom", "phantom_from_chi"]

#: name -> (chi_ppm, r2s_hz, m0). R2* = 1000 / T2_ms of the 7 T list (see module doc).
TISSUES: dict[str, tuple[float, float, float]] = {
    "csf": (0.019, 1000 / 1030.0, 1.00),
    "gm": (0.020, 1000 / 84.7, 0.80),
    "wm": (-0.030, 1000 / 45.5, 0.70),
    "caudate": (0.044, 1000 / 57.5, 0.78),
    "putamen": (0.038, 1000 / 50.4, 0.78),
    "globus_pallidus": (0.1305, 1000 / 41.5, 0.72),
    "thalamus": (0.020, 1000 / 56.6, 0.75),
    "red_nucleus": (0.100, 1000 / 44.1, 0.72),
    "substantia_nigra": (0.111, 1000 / 47.3, 0.72),
    "dentate": (0.152, 1000 / 71.7, 0.72),
    "vein": (0.19, 1000 / 20.0, 0.70),
    "calcification": (-0.10, 100.0, 0.30),
    "bone": (-2.0, 0.0, 0.0),
    "air": (9.2, 0.0, 0.0),
}

#: name -> (right-hemisphere centre (x, y, z) MNI mm, semi-axes (x, y, z) mm); mirrored in x.
NUCLEI: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "caudate": ((13.0, 10.0, 10.0), (4.0, 12.0, 8.0)),
    "putamen": ((25.0, 2.0, 1.0), (5.0, 13.0, 8.0)),
    "thalamus": ((11.0, -18.0, 6.0), (7.0, 13.0, 8.0)),
    "globus_pallidus": ((19.0, -3.0, -1.0), (3.5, 8.0, 4.0)),
    "substantia_nigra": ((10.0, -16.0, -11.0), (2.5, 6.0, 2.5)),
    "red_nucleus": ((5.0, -19.0, -8.0), (3.0, 3.5, 3.5)),
    "dentate": ((15.0, -57.0, -34.0), (6.0, 8.0, 5.0)),
}

#: label values of :attr:`QSMPhantom.labels`
LABELS: dict[str, int] = {
    "background": 0,
    "csf": 1,
    "gm": 2,
    "wm": 3,
    "caudate": 4,
    "putamen": 5,
    "thalamus": 6,
    "globus_pallidus": 7,
    "substantia_nigra": 8,
    "red_nucleus": 9,
    "dentate": 10,
    "vein": 11,
    "calcification": 12,
    "bone": 13,
    "air": 14,
    "marrow": 15,
    "fat": 16,
    "skin": 17,
}

# Internal cerebral veins (both sides) as polylines in MNI mm, radius 1.5 mm.
_VEINS: list[tuple[list[tuple[float, float, float]], float]] = [
    ([(2.0, -2.0, 14.0), (2.0, -20.0, 15.0), (1.0, -34.0, 9.0)], 1.5),
    ([(-2.0, -2.0, 14.0), (-2.0, -20.0, 15.0), (-1.0, -34.0, 9.0)], 1.5),
]
# Air cavities outside the brain (centre MNI mm, semi-axes mm): shared with the head phantom
_AIR = AIR_CAVITIES
_CALCIFICATION = ((28.0, -12.0, 22.0), 3.0)  # centre (MNI mm), radius mm, in WM


@dataclass
class QSMPhantom:
    """chi / R2* / M0 maps on one grid (all arrays (X, Y, Z)).

    Attributes
    ----------
    chi_ppm : susceptibility, including background sources outside ``mask``.
    r2s_hz : R2* (1/s).
    m0 : magnitude at TE = 0 (0 outside the brain).
    mask : brain mask (bool), where QSM is evaluated.
    labels : int labels (:data:`LABELS`).
    affine : (4, 4) voxel -> MNI/RAS mm.
    voxel_size_mm : (3,) floats.
    """

    chi_ppm: np.ndarray
    r2s_hz: np.ndarray
    m0: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    affine: np.ndarray
    voxel_size_mm: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def chi_local_ppm(self) -> np.ndarray:
        """chi inside the brain mask only (the QSM ground truth)."""
        return np.where(self.mask, self.chi_ppm, 0.0)


def _world(shape: Sequence[int], affine: np.ndarray) -> np.ndarray:
    idx = np.indices(shape, dtype=float).reshape(3, -1)
    xyz = affine[:3, :3] @ idx + affine[:3, 3:4]
    return xyz.reshape(3, *shape)


def _ellipsoid_weight(xyz: np.ndarray, centre, semi, edge_mm: float) -> np.ndarray:
    """Smooth 0..1 indicator: logistic in the distance to the surface (width ``edge_mm``)."""
    c = np.asarray(centre, float).reshape(3, 1, 1, 1)
    a = np.asarray(semi, float).reshape(3, 1, 1, 1)
    rho = np.sqrt((((xyz - c) / a) ** 2).sum(0))
    dist_mm = (1.0 - rho) * float(np.mean(semi))  # approx. signed distance, >0 inside
    return 1.0 / (1.0 + np.exp(-np.clip(dist_mm / max(edge_mm, 1e-6), -50, 50)))


def _tube_weight(xyz: np.ndarray, points, radius: float, edge_mm: float) -> np.ndarray:
    d = np.full(xyz.shape[1:], np.inf)
    pts = np.asarray(points, float)
    for p0, p1 in zip(pts[:-1], pts[1:], strict=True):
        v = p1 - p0
        rel = xyz - p0.reshape(3, 1, 1, 1)
        t = np.clip((rel * v.reshape(3, 1, 1, 1)).sum(0) / (v @ v), 0, 1)
        closest = p0.reshape(3, 1, 1, 1) + t * v.reshape(3, 1, 1, 1)
        d = np.minimum(d, np.sqrt(((xyz - closest) ** 2).sum(0)))
    return 1.0 / (1.0 + np.exp(-np.clip((radius - d) / max(edge_mm, 1e-6), -50, 50)))


def _head_layers(mask, vox, d_in_mm: float, d_out_mm: float, bone: np.ndarray):
    """Diploe inside the bone shell, fat and skin outside it (partial volumes by distance).

    Returns M0, R2*, chi (unscaled, to ADD: the bone's own chi is replaced by the marrow
    fraction's difference) and a code map (1 marrow, 2 fat, 3 skin) of voxels > 0.5.
    """
    from mrsim.phantoms.head import THICKNESS_MM
    from mrsim.phantoms.tissues import TISSUES_3T as T

    d = ndimage.distance_transform_edt(~mask, sampling=vox)
    w = float(np.min(vox))

    def ramp(x):
        return np.clip(0.5 + x / w, 0.0, 1.0)

    # tables take 1.5 / 6.5 of the shell each (THICKNESS_MM proportions), marrow the rest
    th = THICKNESS_MM
    skull = th["inner_table"] + th["diploe"] + th["outer_table"]
    a = (d_out_mm - d_in_mm) * th["inner_table"] / skull
    b = (d_out_mm - d_in_mm) * th["outer_table"] / skull
    f_marrow = np.where(bone, ramp(d - d_in_mm - a) - ramp(d - d_out_mm + b), 0.0)
    outside = d > d_out_mm - 0.5 * w
    f_fat = np.where(outside & ~bone, ramp(d - d_out_mm) - ramp(d - d_out_mm - th["fat"]), 0.0)
    sk0 = d_out_mm + th["fat"]
    f_skin = np.where(outside & ~bone, ramp(d - sk0) - ramp(d - sk0 - th["skin"]), 0.0)
    m0 = f_marrow * T["marrow"].pd + f_fat * T["fat"].pd + f_skin * T["muscle"].pd
    chi = (
        f_marrow * (T["marrow"].chi_ppm - T["bone"].chi_ppm)
        + f_fat * T["fat"].chi_ppm
        + f_skin * T["muscle"].chi_ppm
    )
    wsum = np.maximum(f_marrow + f_fat + f_skin, 1e-12)
    r2s = (
        f_marrow * T["marrow"].r2s_hz + f_fat * T["fat"].r2s_hz + f_skin * T["muscle"].r2s_hz
    ) / wsum
    r2s = np.where(m0 > 0, r2s, 0.0)
    code = np.zeros(mask.shape, np.int8)
    code[f_marrow > 0.5] = 1
    code[f_fat > 0.5] = 2
    code[f_skin > 0.5] = 3
    return m0, r2s, chi, code


def make_qsm_phantom(
    shape: Sequence[int] = (64, 64, 64),
    voxel_size_mm: float | Sequence[float] = 3.0,
    *,
    veins: bool = True,
    calcification: bool = False,
    background: bool = True,
    background_scale: float = 1.0,
    tissues: dict[str, tuple[float, float, float]] | None = None,
    edge_mm: float | None = None,
    background_smooth_voxels: float = 1.0,
    head_layers: bool = False,
) -> QSMPhantom:
    """Build the chi / R2* / M0 head phantom on an MNI152-aligned grid.

    Parameters
    ----------
    shape : (3,) ints
        Matrix (the MNI brain is ~140 x 175 x 120 mm: choose ``shape * voxel``
        larger than that, e.g. 64^3 at 3 mm).
    voxel_size_mm : float or (3,) floats
    veins, calcification : bool
        Add internal cerebral veins / a 3 mm calcification in right WM.
    background : bool
        Add bone (skull shell around the brain) and air cavities outside it.
    background_scale : float
        Multiplies the air and bone susceptibilities (1 = realistic).
    tissues : dict, optional
        Overrides of :data:`TISSUES` entries, ``name -> (chi_ppm, r2s_hz, m0)``.
    edge_mm : float, optional
        Width of the smooth edges of nuclei/veins (default: half a voxel).
    background_smooth_voxels : float
        Gaussian sigma (voxels) applied to the air/bone sources. Their binary edges
        carry ppm-sized steps whose band-limited (sinc) motion would ring into the
        brain at the level of tissue chi; smoothing keeps the motion simulation
        faithful (docs/qsm.md). M0 and R2* fall off with the MNI partial-volume
        brain mask for the same reason.
    head_layers : bool
        With ``background``: the full-head phantom's extra-cranial layers
        (:mod:`mrsim.phantoms.head`): the skull shell gets a diploe (marrow) between its
        two cortical tables, and outside it lie subcutaneous fat and skin, with chi, R2*
        (1 / T2*) and M0 (PD) from :data:`mrsim.phantoms.tissues.TISSUES_3T` (chi scaled by
        ``background_scale`` like the other sources). These layers have signal, so they
        ghost when the head moves; the brain mask stays the brain. Fat's chemical shift
        (main methylene peak -3.4 ppm from water, about -434 Hz at 3 T) is NOT modelled: it
        would add an echo-dependent fat phase (an apparent -3.4 ppm field offset in fat
        voxels, larger than any tissue chi), a shift of the fat image along the readout by
        ``434 Hz / bandwidth-per-pixel`` voxels, and, with a multi-peak fat model, an
        echo-time modulation of the fat magnitude. Default False: the phantom (and the
        data sets built from it) stays as before.

    Returns
    -------
    QSMPhantom

    References
    ----------
    Marques JP et al. QSM reconstruction challenge 2.0. MRM 2021;86:526-542.
    Seed 002 (chi -> field -> MGRE simulation).
    """
    from mrsim.phantoms.mni152 import load_mni152

    tab = dict(TISSUES)
    for k, v in (tissues or {}).items():
        if k not in tab or len(v) != 3:
            raise ValueError(f"tissues[{k!r}]: expected a name in {sorted(tab)} -> (chi, r2s, m0)")
        tab[k] = tuple(float(x) for x in v)
    shape = tuple(int(s) for s in shape)
    vox = np.broadcast_to(np.asarray(voxel_size_mm, float), (3,)).copy()
    maps, affine = {}, None
    for k in ("gm", "wm", "csf", "mask"):
        data, affine = load_mni152(k, shape=shape, voxel_size_mm=vox)
        maps[k] = data.astype(float)
    edge = float(vox.min()) * 0.5 if edge_mm is None else float(edge_mm)
    mask = maps["mask"] > 0.5
    tot = maps["gm"] + maps["wm"] + maps["csf"]
    tot = np.where(tot > 1e-6, tot, 1.0)
    head = maps["mask"] > 0.0  # brain incl. its partial-volume rim
    frac = {k: np.where(head, maps[k] / tot, 0.0) for k in ("gm", "wm", "csf")}
    chi = sum(frac[k] * tab[k][0] for k in frac)
    r2s = sum(frac[k] * tab[k][1] for k in frac)
    m0 = sum(frac[k] * tab[k][2] for k in frac)
    labels = np.zeros(shape, np.int16)
    stacked = np.stack([frac["csf"], frac["gm"], frac["wm"]])
    labels[mask] = (np.argmax(stacked, axis=0) + 1)[mask]

    xyz = _world(shape, affine)

    def blend(w: np.ndarray, name: str) -> None:
        nonlocal chi, r2s, m0
        w = np.where(mask, w, 0.0)
        c, r, p = tab[name]
        chi = (1 - w) * chi + w * c
        r2s = (1 - w) * r2s + w * r
        m0 = (1 - w) * m0 + w * p
        labels[w > 0.5] = LABELS[name]

    for name, (centre, semi) in NUCLEI.items():
        for sx in (1.0, -1.0):
            blend(_ellipsoid_weight(xyz, (sx * centre[0], centre[1], centre[2]), semi, edge), name)
    if veins:
        for pts, rad in _VEINS:
            blend(_tube_weight(xyz, pts, rad, edge), "vein")
    if calcification:
        c, rad = _CALCIFICATION
        blend(_ellipsoid_weight(xyz, c, (rad, rad, rad), edge), "calcification")
    if background:
        chi_tissue = chi.copy()
        step = float(vox.min())
        # a gap of >= 3 voxels (and >= 4 mm) of tissue between brain and bone keeps the
        # smoothed bone edge out of the brain mask (its tail there is < 0.2 % of the step)
        n_in = max(3, int(round(4.0 / step)))
        inner = ndimage.binary_dilation(mask, iterations=n_in)
        outer = ndimage.binary_dilation(mask, iterations=n_in + max(2, int(round(7.0 / step))))
        bone = outer & ~inner
        chi = np.where(bone, tab["bone"][0] * background_scale, chi)
        labels[bone] = LABELS["bone"]
        extra_m0 = extra_r2s = None
        if head_layers:
            extra_m0, extra_r2s, extra_chi, extra_lab = _head_layers(
                mask, vox, n_in * step, (n_in + max(2, int(round(7.0 / step)))) * step, bone
            )
            chi = chi + background_scale * extra_chi
            for name, code in (("marrow", 1), ("fat", 2), ("skin", 3)):
                labels[extra_lab == code] = LABELS[name]
        air = np.zeros(shape)
        for centre, semi in _AIR:
            air = np.maximum(air, _ellipsoid_weight(xyz, centre, semi, edge))
        air = np.where(inner, 0.0, air)  # keep a tissue gap next to the brain
        chi = (1 - air) * chi + air * tab["air"][0] * background_scale
        labels[air > 0.5] = LABELS["air"]
        bg = chi - chi_tissue
        if background_smooth_voxels > 0:
            bg = ndimage.gaussian_filter(bg, background_smooth_voxels)
        chi = chi_tissue + np.where(mask, 0.0, bg)
    pv = np.clip(maps["mask"], 0.0, 1.0)  # partial-volume brain edge
    pv = np.where(pv < 0.01, 0.0, pv)  # drop the interpolation tail
    m0 = m0 * pv
    r2s = np.where(pv > 0, r2s, 0.0)
    if background and head_layers:
        m0 = m0 + np.where(pv > 0, 0.0, extra_m0)
        r2s = np.where(pv > 0, r2s, extra_r2s)
    return QSMPhantom(
        chi_ppm=chi,
        r2s_hz=r2s,
        m0=m0,
        mask=mask,
        labels=labels,
        affine=affine,
        voxel_size_mm=vox,
        info={
            "source": "MNI152 2009a (nilearn) + ellipsoid nuclei",
            "veins": veins,
            "calcification": calcification,
            "background": background,
            "background_scale": background_scale,
            "background_smooth_voxels": background_smooth_voxels,
            "head_layers": head_layers,
        },
    )


def phantom_from_chi(
    chi_ppm: np.ndarray,
    affine: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    m0: np.ndarray | float = 1.0,
    r2s_hz: np.ndarray | float = 20.0,
) -> QSMPhantom:
    """Wrap a user chi map (e.g. from a NIfTI) as a :class:`QSMPhantom`.

    ``mask`` defaults to ``chi != 0``; M0 and R2* default to uniform values
    inside the mask.
    """
    chi = np.asarray(chi_ppm, float)
    if chi.ndim != 3:
        raise ValueError(f"chi must be 3D, got shape {chi.shape}")
    m = (chi != 0) if mask is None else np.asarray(mask, bool)
    if m.shape != chi.shape:
        raise ValueError(f"mask shape {m.shape} != chi shape {chi.shape}")
    vox = np.sqrt((np.asarray(affine, float)[:3, :3] ** 2).sum(0))
    m0a = np.where(m, np.broadcast_to(np.asarray(m0, float), chi.shape), 0.0)
    r2a = np.where(m, np.broadcast_to(np.asarray(r2s_hz, float), chi.shape), 0.0)
    labels = m.astype(np.int16) * LABELS["gm"]
    return QSMPhantom(
        chi, r2a, m0a, m, labels, np.asarray(affine, float), vox, {"source": "user chi"}
    )
