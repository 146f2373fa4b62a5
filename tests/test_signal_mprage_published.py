"""mprage_signal against published MP-RAGE contrast statements for stated 3 T protocols.

References
----------
Wang J, He L, Zheng H, Lu Z-L. Optimizing the magnetization-prepared rapid gradient-echo
(MP-RAGE) sequence. PLoS ONE 2014;9:e96899 (abstract: at 3.0 T the contrast-optimal
parameters are a flip angle of 12 deg, an effective inversion time (to the k-space
centre) within 900-1100 ms and a delay time of 0 ms).
Kecskemeti S et al. MPnRAGE. Magn Reson Med 2016;75:1040-1053 (introduction: "in most
MPRAGE acquisitions, the center of k-space is acquired shortly after the null point of
CSF").
"""

import numpy as np
import pytest

from mrsim.phantoms.tissues import TISSUES_3T
from mrsim.signal.mprage import ADNI_3T, mprage_signal

T1 = {name: TISSUES_3T[name].t1_s for name in ("wm", "gm", "csf")}
PD = {name: TISSUES_3T[name].pd for name in ("wm", "gm", "csf")}


def _centre_signals(ti_centre_s, n, esp_s, flip_deg, delay_s=0.0, t1=T1):
    centre = n // 2
    ti_first = ti_centre_s - centre * esp_s
    tr = ti_first + n * esp_s + delay_s
    return {
        k: float(
            mprage_signal(
                t1[k], PD[k], ti_s=ti_first, tr_s=tr, esp_s=esp_s, flip_deg=flip_deg, n_echoes=n
            )[centre]
        )
        for k in t1
    }


@pytest.mark.parametrize("n_partitions", [160, 176, 192])
@pytest.mark.parametrize("esp_s", [0.0071, 0.0084])
def test_wang_2014_optimal_effective_ti(n_partitions, esp_s):
    # Wang 2014: flip 12 deg, delay 0 -> the effective TI of maximal GM/WM contrast lies in
    # 900-1100 ms. Their train length and echo spacing are not in the abstract, so the claim
    # is tested for sagittal 1 mm trains of 160-192 partitions at 7.1-8.4 ms; the contrast
    # is the WM - GM signal difference at the k-space-centre readout. The tolerance is the
    # published range itself (a 10 ms TI grid).
    tis = np.arange(0.60, 1.60, 0.01)
    ok = tis - (n_partitions // 2) * esp_s >= 0
    contrast = [
        (s := _centre_signals(ti, n_partitions, esp_s, 12.0))["wm"] - s["gm"] for ti in tis[ok]
    ]
    best = float(tis[ok][int(np.argmax(contrast))])
    assert 0.9 - 1e-9 <= best <= 1.1 + 1e-9, best


@pytest.mark.parametrize("t1_csf_s", [3.5, 4.16, 4.5])
def test_kecskemeti_centre_shortly_after_csf_null(t1_csf_s):
    # ADNI 3 T (TR 2.3 s, TI 0.9 s to the centre, 9 deg, 7.1 ms, 176 partitions): CSF's
    # longitudinal magnetisation crosses zero during the train before the centre readout
    # ("shortly after the null point"), for the 3 T CSF T1 range 3.5-4.5 s; "shortly" is
    # taken as within the last 40 % of the time from the first readout to the centre.
    p = ADNI_3T.with_echoes(176)
    s = mprage_signal(
        t1_csf_s,
        ti_s=p.ti_first_s,
        tr_s=p.tr_s,
        esp_s=p.esp_s,
        flip_deg=p.flip_deg,
        n_echoes=p.n_echoes,
    )
    crossings = np.flatnonzero(np.diff(np.sign(s)) != 0)
    assert len(crossings) == 1 and s[0] < 0 < s[p.centre]
    null_echo = int(crossings[0])
    assert 0.6 * p.centre <= null_echo < p.centre, null_echo
