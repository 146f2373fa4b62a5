"""MP-RAGE closed form vs a step-by-step Bloch recursion, limits and protocol errors."""

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.phantoms.tissues import TISSUES_3T
from mrsim.signal.mprage import ADNI_3T, MPRAGEProtocol, mprage_signal, ti_to_first_excitation


def recursion(t1, *, ti_s, tr_s, esp_s, flip_deg, n_echoes, inv_eff=1.0, shots=400):
    """Play the sequence pulse by pulse from equilibrium until the shot repeats itself."""
    a = np.deg2rad(flip_deg)
    td = tr_s - ti_s - (n_echoes - 1) * esp_s

    def relax(mz, dt):
        return 1.0 + (mz - 1.0) * np.exp(-dt / t1)

    mz = 1.0
    prev = None
    for _ in range(shots):
        mz = -inv_eff * mz
        mz = relax(mz, ti_s)
        sig = []
        for e in range(n_echoes):
            sig.append(mz * np.sin(a))
            mz = mz * np.cos(a)
            mz = relax(mz, esp_s if e < n_echoes - 1 else td)
        sig = np.array(sig)
        if prev is not None and np.max(np.abs(sig - prev)) < 1e-15:
            break
        prev = sig
    return sig


@pytest.mark.parametrize(
    "kw",
    [
        dict(ti_s=0.275, tr_s=2.3, esp_s=7.1e-3, flip_deg=9.0, n_echoes=176),
        dict(ti_s=0.5, tr_s=3.0, esp_s=10e-3, flip_deg=20.0, n_echoes=64, inv_eff=0.96),
        dict(ti_s=0.01, tr_s=1.0, esp_s=5e-3, flip_deg=90.0, n_echoes=3),
        dict(ti_s=0.8, tr_s=0.8, esp_s=5e-3, flip_deg=7.0, n_echoes=1),  # TD = 0
    ],
)
@pytest.mark.parametrize("t1", [0.3, 0.83, 1.33, 4.16])
def test_closed_form_matches_recursion(kw, t1):
    closed = mprage_signal(t1, **kw)
    ref = recursion(t1, **kw)
    np.testing.assert_allclose(closed, ref, rtol=0, atol=1e-9)


def test_shapes_and_m0_broadcast():
    t1 = np.array([[0.8, 1.3, 4.0], [0.4, 0.6, 1.0]])
    m0 = np.array([1.0, 0.5, 2.0])
    s = mprage_signal(t1, m0, ti_s=0.3, tr_s=2.3, esp_s=7e-3, flip_deg=9, n_echoes=10)
    assert s.shape == (2, 3, 10)
    one = mprage_signal(t1, 1.0, ti_s=0.3, tr_s=2.3, esp_s=7e-3, flip_deg=9, n_echoes=10)
    np.testing.assert_allclose(s, one * m0[None, :, None], rtol=1e-14)


def test_inversion_recovery_limit():
    # One small-flip excitation with full recovery: classical IR, 1 - 2 exp(-TI/T1) (and
    # the null at TI = T1 ln 2).
    t1 = np.array([0.5, 0.83, 1.33])
    for ti in (0.1, 0.4, 0.9):
        s = mprage_signal(t1, ti_s=ti, tr_s=200.0, esp_s=1e-3, flip_deg=1e-4, n_echoes=1)
        np.testing.assert_allclose(
            s[..., 0] / np.sin(np.deg2rad(1e-4)), 1 - 2 * np.exp(-ti / t1), atol=1e-9
        )
    null = mprage_signal(
        0.83, ti_s=0.83 * np.log(2), tr_s=200.0, esp_s=1e-3, flip_deg=1e-4, n_echoes=1
    )
    assert abs(null[0]) < 1e-12


def test_train_approaches_flash_steady_state():
    # A long train relaxes to the spoiled-GRE steady state (1 - E1)/(1 - cos a E1) sin a.
    t1, esp, a = 0.83, 7e-3, 9.0
    s = mprage_signal(t1, ti_s=0.2, tr_s=40.0, esp_s=esp, flip_deg=a, n_echoes=5000)
    e1 = np.exp(-esp / t1)
    ca = np.cos(np.deg2rad(a))
    flash = (1 - e1) / (1 - ca * e1) * np.sin(np.deg2rad(a))
    assert abs(s[-1] - flash) < 1e-9


def test_adni_contrast():
    # ADNI 3 T protocol (Jack et al. 2008) at the k-space-centre echo: WM > GM > CSF
    # (T1-weighted), fat the brightest, as in the ADNI images.
    tab = TISSUES_3T
    sig = {n: ADNI_3T.signal(tab[n].t1_s, tab[n].pd)[ADNI_3T.centre] for n in tab if n != "air"}
    assert sig["wm"] > sig["gm"] > sig["csf"] > 0
    assert sig["fat"] > sig["wm"]
    # Plausibility bounds, not a published figure: T1-weighted 3 T MP-RAGE shows GM at
    # roughly 55-75 % of WM, CSF far below GM.
    assert 0.55 < sig["gm"] / sig["wm"] < 0.75
    assert sig["csf"] / sig["gm"] < 0.4
    # TI given to the centre: the first excitation is centre x esp earlier.
    assert ADNI_3T.ti_first_s == pytest.approx(0.9 - 88 * 7.1e-3)


def test_protocol_helper_matches_function():
    p = MPRAGEProtocol(tr_s=2.5, ti_centre_s=1.0, esp_s=8e-3, flip_deg=8, n_echoes=32)
    ref = mprage_signal(1.0, ti_s=1.0 - 16 * 8e-3, tr_s=2.5, esp_s=8e-3, flip_deg=8, n_echoes=32)
    np.testing.assert_array_equal(p.signal(1.0), ref)
    q = p.with_echoes(16, centre_echo=0)
    assert q.ti_first_s == 1.0 and q.n_echoes == 16


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(ti_s=2.0, tr_s=2.3, esp_s=0.01, flip_deg=9, n_echoes=176), "shorter than the shot"),
        (dict(ti_s=0.3, tr_s=2.3, esp_s=0.01, flip_deg=0, n_echoes=10), "flip_deg"),
        (dict(ti_s=0.3, tr_s=2.3, esp_s=0.01, flip_deg=-5, n_echoes=10), "flip_deg"),
        (dict(ti_s=0.3, tr_s=2.3, esp_s=0.01, flip_deg=9, n_echoes=0), "n_echoes"),
        (dict(ti_s=0.3, tr_s=2.3, esp_s=0.0, flip_deg=9, n_echoes=10), "esp_s"),
        (dict(ti_s=-0.1, tr_s=2.3, esp_s=0.01, flip_deg=9, n_echoes=10), "ti_s"),
    ],
)
def test_bad_protocols(kw, match):
    with pytest.raises(MrsimInputError, match=match):
        mprage_signal(1.0, **kw)


def test_bad_t1_and_ti_conversion():
    with pytest.raises(MrsimInputError, match="t1_s"):
        mprage_signal([1.0, 0.0], ti_s=0.3, tr_s=2.3, esp_s=0.01, flip_deg=9, n_echoes=4)
    with pytest.raises(MrsimInputError, match="shorter than the 88 readouts"):
        ti_to_first_excitation(0.5, esp_s=7.1e-3, centre_echo=88)
