"""GRE signal: the Ernst steady state vs a pulse recursion; the QSM names still work."""

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.signal.gre import gre_signal, spoiled_gre_m0


def test_spoiled_steady_state_matches_recursion():
    for t1, a, tr in [(0.83, 15.0, 0.03), (1.33, 5.0, 0.01), (4.16, 60.0, 0.5)]:
        mz = 1.0
        for _ in range(20000):
            s = mz * np.sin(np.deg2rad(a))
            mz = 1 + (mz * np.cos(np.deg2rad(a)) - 1) * np.exp(-tr / t1)
        assert abs(spoiled_gre_m0(1.0, t1, flip_deg=a, tr_s=tr) - s) < 1e-9
    # Ernst angle maximises the signal
    t1, tr = 0.83, 0.03
    ernst = np.rad2deg(np.arccos(np.exp(-tr / t1)))
    s0 = spoiled_gre_m0(1.0, t1, flip_deg=ernst, tr_s=tr)
    assert s0 > spoiled_gre_m0(1.0, t1, flip_deg=ernst + 2, tr_s=tr)
    assert s0 > spoiled_gre_m0(1.0, t1, flip_deg=ernst - 2, tr_s=tr)
    with pytest.raises(MrsimInputError):
        spoiled_gre_m0(1.0, t1, flip_deg=0.0, tr_s=tr)


def test_qsm_gre_names_reexported():
    import mrsim.qsm.gre as q
    import mrsim.signal.gre as s

    for name in ("gre_signal", "echo_times", "ppm_to_hz", "hz_to_ppm", "add_noise"):
        assert getattr(q, name) is getattr(s, name)
    assert q.GAMMA_HZ_PER_T == s.GAMMA_HZ_PER_T
    out = gre_signal(np.ones(3), 20.0, np.zeros(3), [0.0, 0.01])
    np.testing.assert_allclose(np.abs(out[:, 1]), np.exp(-0.2))
