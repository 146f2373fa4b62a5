"""Motion windows for next-pose prediction (mrsim.motion.windows)."""

import numpy as np
import pytest

from mrsim.motion.trajectory import Trajectory
from mrsim.motion.windows import (
    absolute_from_relative,
    make_windows,
    make_windows_many,
    relative_windows,
)


def _ramp(n):
    # row i holds 100 * i + column index, so every entry names its sample
    return 100.0 * np.arange(n)[:, None] + np.arange(6)[None, :]


def test_windows_content_and_shapes():
    P = _ramp(20)
    X, y = make_windows(P, n_past=14)
    assert X.shape == (6, 14, 6) and y.shape == (6, 6)
    for w in range(6):
        np.testing.assert_array_equal(X[w], P[w : w + 14])
        np.testing.assert_array_equal(y[w], P[w + 14])


def test_windows_step_and_trajectory_input():
    P = _ramp(30)
    traj = Trajectory(np.arange(30) * 0.72, P)
    X, y = make_windows(traj, n_past=14, step=4)
    assert len(X) == (30 - 14 - 1) // 4 + 1 == 4
    np.testing.assert_array_equal(X[:, 0, 0], [0, 400, 800, 1200])
    np.testing.assert_array_equal(y[:, 0], [1400, 1800, 2200, 2600])


def test_windows_too_short_gives_none():
    X, y = make_windows(_ramp(14), n_past=14)
    assert X.shape == (0, 14, 6) and y.shape == (0, 6)


@pytest.mark.parametrize(
    "arg, match",
    [
        (np.zeros((10, 5)), r"bad\.par: .*shape \(N, 6\)"),
        (np.full((20, 6), np.nan), r"bad\.par: .*finite"),
    ],
)
def test_windows_bad_input_names_source(arg, match):
    with pytest.raises(ValueError, match=match):
        make_windows(arg, name="bad.par")


def test_windows_bad_options():
    with pytest.raises(ValueError, match="n_past"):
        make_windows(_ramp(20), n_past=0)
    with pytest.raises(ValueError, match="step"):
        make_windows(_ramp(20), step=0)


def test_windows_many_never_straddle():
    a, b = _ramp(16), _ramp(17) + 10_000
    X, y, src = make_windows_many([a, b], n_past=14)
    assert len(X) == 2 + 3
    np.testing.assert_array_equal(src, [0, 0, 1, 1, 1])
    # every window's samples and target come from one trajectory, consecutive
    d = np.diff(np.concatenate([X[:, :, 0], y[:, None, 0]], axis=1), axis=1)
    assert np.all(d == 100)


def test_relative_roundtrip():
    rng = np.random.default_rng(0)
    X, y = make_windows(np.cumsum(rng.normal(size=(40, 6)), axis=0))
    Xr, yr, ref = relative_windows(X, y, reference="last")
    np.testing.assert_array_equal(Xr[:, -1], 0.0)
    np.testing.assert_allclose(yr, y - X[:, -1])
    np.testing.assert_allclose(absolute_from_relative(yr, ref), y)
    Xf, _, ref0 = relative_windows(X, reference="first")
    np.testing.assert_array_equal(Xf[:, 0], 0.0)
    np.testing.assert_array_equal(ref0, X[:, 0])
    with pytest.raises(ValueError, match="reference"):
        relative_windows(X, reference="middle")
