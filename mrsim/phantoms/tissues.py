"""One table of 3 T tissue parameters shared by the MP-RAGE and GRE signal models.

Each row of :data:`TISSUES_3T` gives T1, T2, T2* (s), proton density PD (relative to
pure water = 1) and the volume magnetic susceptibility chi (ppm, SI, relative to
water/brain tissue so that the brain is near zero), with the sources of the numbers.
Values are rounded literature means for healthy adults; where no 3 T head measurement
was used, the row says which value is an estimate (``assumed``), so a user can see what
to replace with their own measurements.

Sources (``ref`` keys):

- ``wansapura``: Wansapura JP et al. NMR relaxation times in the human brain at 3.0 T.
  JMRI 1999;9:531-538 (GM / WM T1 and T2).
- ``stanisz``: Stanisz GJ et al. T1, T2 relaxation and magnetization transfer in tissue
  at 3T. MRM 2005;54:507-512 (skeletal muscle; also a second GM / WM reference).
- ``lu``: Lu H et al. Routine clinical brain MRI sequences for use at 3.0 Tesla. JMRI
  2005;22:13-22 (CSF T1).
- ``peters``: Peters AM et al. T2* measurements in human brain at 1.5, 3 and 7 T. MRI
  2007;25:748-753 (GM / WM T2*).
- ``debazelaire``: de Bazelaire CMJ et al. MR imaging relaxation times of abdominal and
  pelvic tissues measured in vivo at 3.0 T. Radiology 2004;230:652-659 (subcutaneous fat
  T1 382 ms / T2 68 ms, vertebral marrow T1 586 ms / T2 49 ms).
- ``qsm2``: Marques JP et al. QSM reconstruction challenge 2.0. MRM 2021;86:526-542, with
  the qsm-forward values (Stewart et al.) used by :mod:`mrsim.qsm.phantom` (GM, WM, CSF chi).
- ``schenck``: Schenck JF. The role of magnetic susceptibility in MRI. Med Phys
  1996;23:815-850 (air - water ~ +9.4 ppm; lipids ~ +0.6 ppm less diamagnetic than water).
- ``buch``: Buch S et al. Determination of the susceptibility of cortical bone. MRM
  2015;73:2185-2194 (cortical bone ~ -2 ppm relative to water).
- ``du``: Du J, Bydder GM. Qualitative and quantitative UTE imaging of cortical bone.
  JMR 2013;229:123 (cortical bone T2* ~ 0.4-0.5 ms at 3 T: no signal at MP-RAGE TEs).

Vitreous humour is close to water (T1 ~ 4 s at 3 T, like CSF); the eyes take CSF-like
values (``assumed``). Skin and scalp muscle share the muscle row (``stanisz``). T2* of
the non-brain tissues is not measured at 3 T in the sources above and is set to an
estimate (``assumed``): T2*/T2 ~ 0.5-0.7, as for GM/WM at 3 T.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from mrsim.errors import MrsimInputError

__all__ = ["Tissue", "TISSUES_3T", "tissue_table", "tissue_arrays", "jitter_tissues"]


@dataclass(frozen=True)
class Tissue:
    """3 T parameters of one tissue (SI units, seconds and ppm)."""

    name: str
    t1_s: float
    t2_s: float
    t2s_s: float
    pd: float
    chi_ppm: float
    ref: str
    note: str = ""

    @property
    def r2s_hz(self) -> float:
        """R2* = 1 / T2* (1/s); 0 for a tissue without signal (T2* = 0, e.g. air)."""
        return 0.0 if self.t2s_s <= 0 else 1.0 / self.t2s_s


def _t(name, t1, t2, t2s, pd, chi, ref, note=""):
    return Tissue(name, t1, t2, t2s, pd, chi, ref, note)


#: name -> Tissue. Order is the order of the head phantom's tissue axis.
TISSUES_3T: dict[str, Tissue] = {
    t.name: t
    for t in (
        _t("csf", 4.16, 2.0, 0.40, 1.00, 0.019, "lu; qsm2", "T2, T2* long (assumed)"),
        _t("gm", 1.33, 0.110, 0.066, 0.80, 0.020, "wansapura; peters; qsm2"),
        _t("wm", 0.83, 0.080, 0.053, 0.70, -0.030, "wansapura; peters; qsm2"),
        _t("fat", 0.382, 0.068, 0.035, 0.90, 0.60, "debazelaire; schenck", "T2*, PD assumed"),
        _t("marrow", 0.586, 0.049, 0.025, 0.80, 0.40, "debazelaire", "chi, T2*, PD assumed"),
        _t("muscle", 1.41, 0.050, 0.030, 0.72, -0.01, "stanisz", "skin shares it; T2* assumed"),
        _t("bone", 0.25, 0.0005, 0.0005, 0.15, -2.0, "du; buch", "T1, PD assumed"),
        _t("vitreous", 4.0, 1.5, 0.30, 1.00, 0.0, "assumed", "water-like (assumed)"),
        _t("air", 1.0, 0.0, 0.0, 0.0, 9.2, "schenck", "no protons: PD 0"),
    )
}


def tissue_table(tissues: Mapping[str, Tissue] | None = None) -> list[dict]:
    """Rows of the table as plain dicts (for JSON sidecars and docs)."""
    return [asdict(t) for t in (tissues or TISSUES_3T).values()]


def tissue_arrays(names, tissues: Mapping[str, Tissue] | None = None) -> dict[str, np.ndarray]:
    """Per-parameter arrays over ``names`` (``t1_s``, ``t2_s``, ``t2s_s``, ``pd``, ``chi_ppm``)."""
    tab = tissues or TISSUES_3T
    missing = [n for n in names if n not in tab]
    if missing:
        raise MrsimInputError(f"unknown tissue(s) {missing}; the table has {sorted(tab)}")
    keys = ("t1_s", "t2_s", "t2s_s", "pd", "chi_ppm")
    return {k: np.array([getattr(tab[n], k) for n in names], dtype=float) for k in keys}


def jitter_tissues(
    rng: np.random.Generator,
    rel_sd: float = 0.05,
    tissues: Mapping[str, Tissue] | None = None,
) -> dict[str, Tissue]:
    """Per-subject copy of the table with T1, T2, T2* and PD scaled by ``exp(N(0, rel_sd))``.

    chi is kept (the QSM ground truth stays the table's). Draws 4 numbers per tissue from
    ``rng`` in table order, so a seed gives the same subject every time.
    """
    if rel_sd < 0:
        raise MrsimInputError(f"rel_sd must be >= 0, got {rel_sd}")
    out = {}
    for name, t in (tissues or TISSUES_3T).items():
        f = np.exp(rel_sd * rng.standard_normal(4))
        out[name] = Tissue(
            t.name,
            t.t1_s * f[0],
            t.t2_s * f[1],
            t.t2s_s * f[2],
            min(1.0, t.pd * f[3]),
            t.chi_ppm,
            t.ref,
            t.note,
        )
    return out
