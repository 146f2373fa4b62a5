"""Full-head phantom: MNI152 brain tissues plus derived extra-cerebral layers.

The brain (GM, WM, CSF partial volumes) is the MNI152 2009a template shipped with
nilearn (:func:`mrsim.phantoms.mni152.load_mni152`; nothing is downloaded). Everything
outside it is derived geometrically, with smooth (one-voxel linear ramp) partial volumes:

- by the distance ``d`` (mm) from the brain surface, the cranium: a CSF rim (subarachnoid
  space and meninges), the inner table (cortical bone), the diploe (marrow), the outer
  table (cortical bone);
- by the depth ``h`` (mm) below the outer surface of the head, the scalp: skin (with
  the galea and scalp muscle, muscle parameters) and subcutaneous fat; deeper tissue that
  is not cranium is muscle (face and neck);
- ellipsoids at approximate MNI positions: eyes (vitreous) in orbital fat, and the air
  cavities shared with the QSM phantom (:data:`AIR_CAVITIES`: ethmoid/frontal and
  sphenoid sinuses, ear canals);
- the head outline is the cranium plus the scalp, joined to a neck (elliptic cylinder)
  and a face (ellipsoid), smoothed; the brainstem's lowest template slice is extruded to
  the FOV edge as the spinal cord, so the cranial shells continue as the spinal canal.

Thicknesses (:data:`THICKNESS_MM`, means for adults, each jittered per synthetic subject):
extra-axial CSF ~1.5-3 mm; skull 6-7 mm in total (Lynnerup N, Forensic Sci Int
2001;117:45-51: mean vault thickness 6-7 mm) of which each cortical table ~1.5 mm and the
diploe the rest (Lillie EM et al., J Anat 2016;229:838-846: cortical tables ~1-2 mm); scalp
5-6 mm (skin ~2 mm, subcutaneous fat ~3-4 mm; Gray's Anatomy, 41st ed., the scalp). Eye
(axial length ~24 mm, radius 12 mm) and orbit sizes from the same text. Positions are
ellipsoid stand-ins, not segmentations; there is no nose, jaw, teeth or temporalis muscle.

Tissue parameters come from :data:`mrsim.phantoms.tissues.TISSUES_3T`; each label maps to
one tissue (:data:`LABEL_TISSUE`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from mrsim.errors import MrsimInputError
from mrsim.phantoms.edt import distance_transform_edt
from mrsim.phantoms.head_layers import LAYER_NAMES, compose_layers, ellipsoid_terms, outline_seed
from mrsim.phantoms.tissues import TISSUES_3T, Tissue, tissue_arrays, tissue_table

__all__ = [
    "HEAD_LABELS",
    "LABEL_TISSUE",
    "THICKNESS_MM",
    "AIR_CAVITIES",
    "DEFAULT_SHAPE",
    "DEFAULT_CENTRE_MM",
    "HeadPhantom",
    "make_head",
]

#: label value of each compartment of :attr:`HeadPhantom.labels`
HEAD_LABELS: dict[str, int] = {
    "background": 0,
    "csf": 1,
    "gm": 2,
    "wm": 3,
    "csf_rim": 4,
    "bone": 5,
    "marrow": 6,
    "skin": 7,
    "fat": 8,
    "muscle": 9,
    "vitreous": 10,
    "orbital_fat": 11,
    "air": 12,
}

#: label -> row of the tissue table
LABEL_TISSUE: dict[str, str] = {
    "csf": "csf",
    "gm": "gm",
    "wm": "wm",
    "csf_rim": "csf",
    "bone": "bone",
    "marrow": "marrow",
    "skin": "muscle",
    "fat": "fat",
    "muscle": "muscle",
    "vitreous": "vitreous",
    "orbital_fat": "fat",
    "air": "air",
}

#: mean layer thicknesses (mm), see the module docstring for sources
THICKNESS_MM: dict[str, float] = {
    "csf_rim": 2.0,
    "inner_table": 1.5,
    "diploe": 3.5,
    "outer_table": 1.5,
    "skin": 2.0,
    "fat": 3.5,
}

#: air cavities (centre MNI mm, semi-axes mm); shared with :mod:`mrsim.qsm.phantom`
AIR_CAVITIES: list[tuple[tuple[float, float, float], tuple[float, float, float]]] = [
    ((0.0, 40.0, -40.0), (12.0, 10.0, 10.0)),  # frontal/ethmoid sinus region
    ((0.0, 10.0, -50.0), (10.0, 8.0, 7.0)),  # sphenoid sinus
    ((58.0, -22.0, -40.0), (5.0, 8.0, 5.0)),  # right ear canal / mastoid
    ((-58.0, -22.0, -40.0), (5.0, 8.0, 5.0)),  # left
]
# eyes (right; mirrored in x): centre, radius (mm); orbital fat ellipsoid behind/around
_EYE = ((32.0, 58.0, -45.0), 12.0)
_ORBIT = ((31.0, 48.0, -45.0), (16.0, 22.0, 15.0))
# neck: elliptic cylinder (centre x, y; semi-axes x, y) below z_top; face ellipsoid
_NECK = ((0.0, -18.0), (52.0, 56.0), -35.0)
_FACE = ((0.0, 38.0, -48.0), (62.0, 46.0, 40.0))

#: sagittal 3D MP-RAGE-like default grid (x = L-R partitions, 1 mm) and its centre (MNI mm)
DEFAULT_SHAPE = (176, 256, 256)
DEFAULT_CENTRE_MM = (0.0, -16.0, -20.0)


@dataclass
class HeadPhantom:
    """Partial-volume maps of every head compartment on one grid.

    Attributes
    ----------
    fractions : ndarray float32, shape (K, X, Y, Z)
        Volume fraction of each label of :attr:`names` (``HEAD_LABELS`` order without the
        background); their sum is 1 inside the head and falls to 0 outside.
    names : tuple of str
        Label names of the first axis of ``fractions``.
    labels : ndarray int16
        Label of the largest fraction where the head fraction is >= 0.5, else 0.
    affine : (4, 4) voxel -> MNI/RAS mm.
    tissues : dict name -> Tissue (possibly jittered per subject).
    info : dict
        Thicknesses, centre, source; written to the JSON sidecar.
    """

    fractions: np.ndarray
    names: tuple[str, ...]
    labels: np.ndarray
    affine: np.ndarray
    tissues: dict[str, Tissue]
    info: dict = field(default_factory=dict)

    @property
    def voxel_size_mm(self) -> np.ndarray:
        return np.sqrt((self.affine[:3, :3] ** 2).sum(0))

    @property
    def brain_mask(self) -> np.ndarray:
        """GM + WM + CSF (inside the cranium) fraction >= 0.5."""
        idx = [self.names.index(k) for k in ("gm", "wm", "csf")]
        return self.fractions[idx].sum(0) >= 0.5

    def tissue_fractions(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Fractions summed per tissue (labels sharing a tissue row merged), (T, X, Y, Z)."""
        names = tuple(dict.fromkeys(LABEL_TISSUE[n] for n in self.names))
        out = np.zeros((len(names),) + self.fractions.shape[1:], np.float32)
        for k, n in enumerate(self.names):
            out[names.index(LABEL_TISSUE[n])] += self.fractions[k]
        return names, out

    def volumes_ml(self) -> dict[str, float]:
        """Partial-volume-weighted volume of each label (mL)."""
        dv = float(np.prod(self.voxel_size_mm)) / 1000.0
        return {
            n: float(self.fractions[k].sum(dtype=np.float64) * dv) for k, n in enumerate(self.names)
        }

    def tissue_signals(self, protocol, tissue_names: Sequence[str]) -> np.ndarray:
        """MP-RAGE signal of each tissue along the echo train, shape (T, n_echoes).

        ``PD * Mz_n * sin(flip) * exp(-TE / T2*)`` (:meth:`MPRAGEProtocol.signal` with the
        readout's T2* weighting at the protocol's TE; 0 for tissues without protons).
        """
        arr = tissue_arrays(tissue_names, self.tissues)
        t1 = np.where(arr["t1_s"] > 0, arr["t1_s"], 1.0)
        sig = protocol.signal(t1, arr["pd"])
        with np.errstate(divide="ignore", over="ignore"):
            decay = np.where(
                arr["t2s_s"] > 0, np.exp(-protocol.te_s / np.maximum(arr["t2s_s"], 1e-12)), 0.0
            )
        return sig * decay[:, None]

    def mprage_image(self, protocol, echo: int | None = None) -> np.ndarray:
        """Static-contrast MP-RAGE image: every voxel at one echo (default the centre one).

        Signed (negative where Mz has not crossed zero); the acquisition's magnitude is
        taken after reconstruction. float32, shape (X, Y, Z).
        """
        names, frac = self.tissue_fractions()
        sig = self.tissue_signals(protocol, names)
        e = protocol.centre if echo is None else int(echo)
        w = sig[:, e].astype(np.float32)
        return np.tensordot(w, frac, axes=(0, 0))

    def sidecar(self) -> dict:
        """JSON-compatible description: labels, their tissues, the tissue table, geometry."""
        return {
            "labels": {str(v): k for k, v in HEAD_LABELS.items()},
            "label_tissue": dict(LABEL_TISSUE),
            "tissues": tissue_table(self.tissues),
            "units": {"t1_s": "s", "t2_s": "s", "t2s_s": "s", "pd": "relative", "chi_ppm": "ppm"},
            **self.info,
        }


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


def _signed_distance(mask: np.ndarray, vox) -> np.ndarray:
    """mm from the surface of ``mask``, positive outside, negative inside.

    The EDT gives the distance between voxel centres; the surface lies half a voxel
    beyond the last voxel of the mask, hence the half-voxel shift. The EDT of a binary
    mask is quantised on the grid (a staircase); a one-voxel Gaussian turns it into a
    smooth level set (a linear distance is unchanged by it), so the layers' linear ramps
    give partial volumes at every interface, oblique or not.
    """
    half = 0.5 * float(np.mean(vox))
    # scipy's EDT values, bit for bit, computed ~5x faster (mrsim.phantoms.edt)
    out = distance_transform_edt(~mask, vox, dtype=np.float32)
    inside = distance_transform_edt(mask, vox, dtype=np.float32)
    sd = np.where(mask, half - inside, out - half)
    return ndimage.gaussian_filter(sd, 1.0, mode="nearest")


def make_head(
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
    z_brain = np.flatnonzero(maps["mask"].reshape(-1, shape[2]).max(0) > 0.5)
    if z_brain.size == 0:
        raise MrsimInputError(
            f"centre_mm={tuple(centre_mm)}, shape={shape}, voxel_size_mm={tuple(vox)}: the grid "
            "holds no voxel of the template brain; expected a FOV that covers part of the head"
        )
    z_low = int(z_brain.min())
    for k in maps:
        maps[k][:, :, :z_low] = maps[k][:, :, z_low + 1 : z_low + 2]
    if warp_coords is not None:
        # scipy's map_coordinates(order=1, mode="nearest") bit for bit, the four maps sharing
        # the weights (mrsim.dataset.trilinear)
        from mrsim.dataset.trilinear import trilinear

        warped = trilinear(list(maps.values()), warp_coords, mode="nearest")
        maps = dict(zip(maps, warped, strict=True))
    w = float(vox.min())
    brain = np.clip(maps["mask"], 0.0, 1.0) >= 0.5
    xyz = _world(shape, affine)

    # head outline: cranium + scalp, neck cylinder, face ellipsoid; smoothed (3 mm)
    d = _signed_distance(brain, vox)
    cranium = th["csf_rim"] + th["inner_table"] + th["diploe"] + th["outer_table"]
    scalp = th["skin"] + th["fat"]
    (nx, ny), (ax_, ay), z_top = _NECK
    (fx, fy, fz), face_ms, face_r2z = ellipsoid_terms(xyz, [_FACE], w)
    seed = np.empty(shape, np.float32)
    outline_seed(
        d,
        np.float32(cranium + scalp),
        ((xyz[0].ravel() - nx) / ax_) ** 2,
        ((xyz[1].ravel() - ny) / ay) ** 2,
        xyz[2].ravel(),
        float(z_top),
        fx[0],
        fy[0],
        fz[0],
        face_ms[0],
        face_r2z[0],
        w,
        seed,
    )
    outline = ndimage.gaussian_filter(seed, 3.0 / vox) >= 0.5
    del seed
    # minus the depth below the outer surface (mm)
    sd_outline = _signed_distance(outline, vox)
    del outline

    # Per voxel (mrsim.phantoms.head_layers.compose_layers, one compiled pass):
    # - brain: GM, WM, CSF = the template fractions * clip(mask) / (GM + WM + CSF);
    # - scalp by the depth h: skin = ramp(h) - ramp(h - skin), fat = ramp(h - skin) -
    #   ramp(h - scalp), below it "deep" = ramp(h - scalp);
    # - cranial shells by the distance d from the brain, telescoping ramps at the cumulative
    #   thicknesses (a partition of deep): CSF rim, inner table + outer table (bone),
    #   diploe (marrow), then muscle; normalised by ramp(d) so that they fill the non-brain
    #   part, and brain-rim voxels the ramp does not reach go to the CSF rim;
    # - eyes in orbital fat, air cavities: they replace non-brain tissue, kept >= 3 mm from
    #   the brain (the CSF rim and inner table stay closed): weight = ellipsoid * ramp(d - 3)
    #   * ramp(h), every other non-brain fraction scaled by 1 - weight;
    # - label: the largest fraction where their sum is >= 0.5, else background.
    edges = np.cumsum([0.0, th["csf_rim"], th["inner_table"], th["diploe"], th["outer_table"]])
    ellipsoids = []
    for sx in (1.0, -1.0):
        (cx, cy, cz), semi = _ORBIT
        ellipsoids.append(((sx * cx, cy, cz), semi))
    for sx in (1.0, -1.0):
        (cx, cy, cz), r = _EYE
        ellipsoids.append(((sx * cx, cy, cz), (r, r, r)))
    ellipsoids += AIR_CAVITIES
    (t0, t1, t2), ms, r2z = ellipsoid_terms(xyz, ellipsoids, w)
    names = tuple(n for n in HEAD_LABELS if n != "background")
    if names != LAYER_NAMES:  # the compiled layer pass writes its maps in LAYER_NAMES order
        raise RuntimeError(f"head labels {names} differ from the layer order {LAYER_NAMES}")
    fr = np.empty((len(names),) + shape, np.float32)
    labels = np.empty(shape, np.int16)
    m = maps
    compose_layers(
        m["mask"], m["gm"], m["wm"], m["csf"], d, sd_outline, edges, np.float32(th["skin"]),
        np.float32(scalp), w, t0, t1, t2, ms, r2z, fr, labels,
    )  # fmt: skip
    del maps, m, d, sd_outline
    info = {
        "source": "MNI152 2009a (nilearn) brain + derived layers (mrsim.phantoms.head)",
        "thickness_mm": th,
        "centre_mm": [float(c) for c in centre_mm],
        "voxel_size_mm": vox.tolist(),
        "shape": list(shape),
        "warped": warp_coords is not None,
    }
    return HeadPhantom(fr, names, labels, affine, tab, info)
