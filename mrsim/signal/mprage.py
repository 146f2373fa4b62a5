"""MP-RAGE echo-train signal in the periodic steady state of repeated inversions.

Sequence (one shot, repeated every ``tr_s``): inversion (efficiency ``inv_eff``:
``Mz -> -inv_eff Mz``), a delay ``ti_s`` to the first excitation, ``n_echoes`` excitations
of flip ``alpha`` spaced ``esp_s``, then a delay ``TD = tr_s - ti_s - (n - 1) esp_s`` to the
next inversion. Spoiling is ideal (no transverse coherence between excitations), T2* decay
during the readout is ignored, and ``m0`` is the equilibrium magnetisation.

With ``c = cos(alpha)``, ``E1 = exp(-esp/T1)``, ``q = c E1``, ``EA = exp(-TI/T1)``,
``ED = exp(-TD/T1)``, the longitudinal magnetisation just before excitation ``n`` is
(Deichmann et al. 2000; Marques et al. 2010, appendix)

    Mz_n = M_ss + (Mz_0 - M_ss) q^n,        M_ss = (1 - E1) / (1 - q)

and the steady state of the whole shot fixes ``Mz_0``:

    Mz_0 = [1 - EA - k EA (1 - ED + ED c M_ss (1 - q^(n-1)))] / (1 + k EA ED c q^(n-1))

with ``k = inv_eff`` (docs/physics.md, section 12). The signal of excitation ``n`` is
``m0 Mz_n sin(alpha)``; it is signed (negative before the null).

References
----------
R. Deichmann, C. D. Good, O. Josephs, J. Ashburner, R. Turner. Optimization of 3-D
MP-RAGE sequences for structural brain imaging. NeuroImage 12 (2000) 112-127.
J. P. Marques et al. MP2RAGE, a self bias-field corrected sequence for improved
segmentation and T1-mapping at high field. NeuroImage 49 (2010) 1271-1281, appendix.
C. R. Jack et al. The Alzheimer's disease neuroimaging initiative (ADNI): MRI methods.
JMRI 27 (2008) 685-691 (the ADNI 3 T Siemens protocol in :data:`ADNI_3T`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from mrsim.errors import MrsimInputError

__all__ = ["mprage_signal", "ti_to_first_excitation", "MPRAGEProtocol", "ADNI_3T"]


def _check_protocol(ti_s, tr_s, esp_s, flip_deg, n_echoes, inv_eff) -> None:
    n = int(n_echoes)
    if n != n_echoes or n < 1:
        raise MrsimInputError(f"n_echoes must be an integer >= 1, got {n_echoes!r}")
    if not (np.isfinite(flip_deg) and 0 < flip_deg <= 180):
        raise MrsimInputError(f"flip_deg must be in (0, 180] degrees, got {flip_deg!r}")
    if not esp_s > 0:
        raise MrsimInputError(f"esp_s (excitation spacing) must be > 0 s, got {esp_s!r}")
    if not ti_s >= 0:
        raise MrsimInputError(f"ti_s (inversion to first excitation) must be >= 0 s, got {ti_s!r}")
    if not 0 <= inv_eff <= 1:
        raise MrsimInputError(f"inv_eff must be in [0, 1], got {inv_eff!r}")
    shot = ti_s + (n - 1) * esp_s
    if not tr_s >= shot:
        raise MrsimInputError(
            f"tr_s={tr_s!r} s is shorter than the shot: ti_s + (n_echoes - 1) esp_s = "
            f"{ti_s} + {n - 1} x {esp_s} = {shot:.6g} s; lengthen tr_s or shorten the train"
        )


def mprage_signal(
    t1_s: np.ndarray | float,
    m0: np.ndarray | float = 1.0,
    *,
    ti_s: float,
    tr_s: float,
    esp_s: float,
    flip_deg: float,
    n_echoes: int,
    inv_eff: float = 1.0,
) -> np.ndarray:
    """Transverse signal right after each excitation of the MP-RAGE echo train.

    Parameters
    ----------
    t1_s : ndarray or float
        Longitudinal relaxation time(s) (s, > 0).
    m0 : ndarray or float
        Equilibrium magnetisation (e.g. proton density), broadcast against ``t1_s``.
    ti_s : float
        Inversion pulse to the FIRST excitation (s). For a TI quoted to the k-space centre
        use :func:`ti_to_first_excitation`.
    tr_s : float
        Inversion to inversion (s).
    esp_s : float
        Excitation to excitation (echo spacing, s).
    flip_deg : float
        Flip angle of every excitation, (0, 180] degrees.
    n_echoes : int
        Excitations per inversion (turbo factor).
    inv_eff : float
        Inversion efficiency in [0, 1] (1: perfect 180 degree inversion).

    Returns
    -------
    ndarray, float64, shape ``(*broadcast(t1_s, m0).shape, n_echoes)``
        ``m0 Mz_n sin(flip)``, signed.

    Raises
    ------
    MrsimInputError
        For a shot longer than ``tr_s``, a flip outside (0, 180], ``n_echoes < 1``, or
        non-positive T1 / spacing.

    References
    ----------
    Deichmann et al., NeuroImage 2000; Marques et al., NeuroImage 2010 (appendix).
    """
    _check_protocol(ti_s, tr_s, esp_s, flip_deg, n_echoes, inv_eff)
    t1 = np.asarray(t1_s, dtype=float)
    if np.any(~(t1 > 0)):
        raise MrsimInputError(f"t1_s must be > 0 s everywhere, got min {np.min(t1)!r}")
    t1, m0a = np.broadcast_arrays(t1, np.asarray(m0, dtype=float))
    n = int(n_echoes)
    a = np.deg2rad(flip_deg)
    c, s = np.cos(a), np.sin(a)
    td = tr_s - ti_s - (n - 1) * esp_s
    e1 = np.exp(-esp_s / t1)
    ea = np.exp(-ti_s / t1)
    ed = np.exp(-td / t1)
    q = c * e1
    m_ss = (1.0 - e1) / (1.0 - q)  # q < 1 since E1 < 1
    qn1 = q ** (n - 1)
    k = float(inv_eff)
    mz0 = (1.0 - ea - k * ea * (1.0 - ed + ed * c * m_ss * (1.0 - qn1))) / (
        1.0 + k * ea * ed * c * qn1
    )
    powers = q[..., None] ** np.arange(n)
    mz = m_ss[..., None] + (mz0 - m_ss)[..., None] * powers
    return m0a[..., None] * mz * s


def ti_to_first_excitation(ti_centre_s: float, *, esp_s: float, centre_echo: int) -> float:
    """Convert a TI quoted to the k-space-centre readout into :func:`mprage_signal`'s ``ti_s``.

    Scanners (and :func:`mrsim.kspace.schedule.mprage_schedule`) quote TI from the
    inversion to the excitation that reads the k-space centre, echo ``centre_echo`` of the
    train (0-based: ``n // 2`` for linear ordering, 0 for centric). The first excitation is
    ``centre_echo * esp_s`` earlier.
    """
    if centre_echo < 0 or int(centre_echo) != centre_echo:
        raise MrsimInputError(f"centre_echo must be an integer >= 0, got {centre_echo!r}")
    ti = float(ti_centre_s) - int(centre_echo) * float(esp_s)
    if ti < 0:
        raise MrsimInputError(
            f"TI to the k-space centre {ti_centre_s} s is shorter than the {centre_echo} "
            f"readouts before it ({centre_echo} x {esp_s} s): no room after the inversion"
        )
    return ti


@dataclass(frozen=True)
class MPRAGEProtocol:
    """An MP-RAGE protocol as quoted on a scanner (TI to the k-space centre).

    Attributes
    ----------
    tr_s, ti_centre_s, esp_s, flip_deg, te_s : float
        Inversion repetition time, TI to the centre readout, echo spacing, flip, echo time.
    n_echoes : int
        Readouts per inversion.
    centre_echo : int, optional
        Echo index of the k-space centre; default ``n_echoes // 2`` (linear ordering).
    inv_eff : float
    """

    tr_s: float = 2.3
    ti_centre_s: float = 0.9
    esp_s: float = 7.1e-3
    flip_deg: float = 9.0
    n_echoes: int = 176
    te_s: float = 2.98e-3
    centre_echo: int | None = None
    inv_eff: float = 1.0

    @property
    def centre(self) -> int:
        return self.n_echoes // 2 if self.centre_echo is None else int(self.centre_echo)

    @property
    def ti_first_s(self) -> float:
        return ti_to_first_excitation(self.ti_centre_s, esp_s=self.esp_s, centre_echo=self.centre)

    def with_echoes(self, n_echoes: int, centre_echo: int | None = None) -> MPRAGEProtocol:
        """Same timing with another train length (e.g. the lines per shot of a schedule)."""
        d = asdict(self)
        d.update(n_echoes=int(n_echoes), centre_echo=centre_echo)
        return MPRAGEProtocol(**d)

    def signal(self, t1_s: np.ndarray | float, m0: np.ndarray | float = 1.0) -> np.ndarray:
        """:func:`mprage_signal` of this protocol, shape ``(..., n_echoes)``."""
        return mprage_signal(
            t1_s,
            m0,
            ti_s=self.ti_first_s,
            tr_s=self.tr_s,
            esp_s=self.esp_s,
            flip_deg=self.flip_deg,
            n_echoes=self.n_echoes,
            inv_eff=self.inv_eff,
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "centre_echo": self.centre, "ti_first_s": self.ti_first_s}


#: ADNI (GO/2) 3 T Siemens sagittal MP-RAGE: TR 2300 ms, TI 900 ms, flip 9 deg, TE 2.98 ms,
#: 176 partitions read per inversion (Jack et al. 2008); echo spacing 7.1 ms (typical).
ADNI_3T = MPRAGEProtocol()
