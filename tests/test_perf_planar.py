"""Planar (separable) line interpolation: rotations about the first array axis."""

from __future__ import annotations

import numpy as np
import pytest

from mrsim.kspace.nufft import NufftOptions, nufft_type2, nufft_type2_lines


def _lines_about_axis0(n_lines, S, rng, shape, max_rad=0.2):
    # Lines in planes x_0 = const (a rotation about array axis 0): step[:, 0] == 0.
    theta = rng.uniform(-max_rad, max_rad, n_lines)
    k0 = rng.integers(-shape[0] // 2, shape[0] // 2, n_lines)
    k1 = rng.integers(-shape[1] // 2, shape[1] // 2, n_lines)
    origin = np.stack(
        [
            2 * np.pi * k0 / shape[0],
            2 * np.pi * (k1 * np.cos(theta) + (S // 2) * np.sin(theta)) / shape[1],
            2 * np.pi * (-k1 * np.sin(theta) - (S // 2) * np.cos(theta)) / shape[2],
        ],
        axis=1,
    )
    step = np.stack(
        [
            np.zeros(n_lines),
            -2 * np.pi * np.sin(theta) / shape[1],
            2 * np.pi * np.cos(theta) / shape[2],
        ],
        axis=1,
    )
    return origin, step


@pytest.mark.parametrize("eps,max_rad", [(1e-3, 0.2), (1e-4, 0.2), (1e-4, 1.6)])
def test_planar_lines_match_the_3d_nufft(eps, max_rad):
    # max_rad 1.6 (> 90 deg): steep lines take the per-plane branch
    rng = np.random.default_rng(0)
    shape = (20, 24, 28)
    img = rng.standard_normal(shape).astype(np.float32)
    S = 28
    origin, step = _lines_about_axis0(300, S, rng, shape, max_rad)
    assert np.all(step[:, 0] == 0)
    opt = NufftOptions(eps=eps, threads=2)
    got = nufft_type2_lines(img, origin, step, S, opt)
    j = np.arange(S)
    pts = [(origin[:, a, None] + step[:, a, None] * j).reshape(-1) for a in range(3)]
    ref = nufft_type2(img.astype(np.float64), pts, eps=1e-12).reshape(300, S)
    err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
    assert err < eps, err
    # As accurate as the general (3D) interpolation of the same grid, and close to it: at
    # eps 1e-3 both use the same kernel taps (float rounding apart); at 1e-4 the general
    # path is finufft's own single-precision evaluator, whose taps differ at ~1e-6.
    tilted = step.copy()
    tilted[:, 0] = 1e-300  # not exactly zero: the general path, numerically the same lines
    general = nufft_type2_lines(img, origin, tilted, S, opt)
    err_general = np.linalg.norm(general - ref) / np.linalg.norm(ref)
    assert err <= 1.05 * err_general, (err, err_general)
    assert np.linalg.norm(got - general) / np.linalg.norm(ref) < eps / 10


def test_planar_path_keeps_band_phase_scale_and_thread_independence():
    rng = np.random.default_rng(1)
    shape = (16, 16, 20)
    img = rng.random(shape).astype(np.float32)
    S = 20
    origin, step = _lines_about_axis0(120, S, rng, shape)
    band = (rng.integers(0, 5, 120), rng.integers(10, 20, 120))
    phase = (rng.uniform(-3, 3, 120), rng.uniform(-0.3, 0.3, 120))
    outs = [
        nufft_type2_lines(
            img,
            origin,
            step,
            S,
            NufftOptions(eps=1e-4, threads=n),
            band=band,
            phase=phase,
            scale=0.7,
        )
        for n in (1, 2)
    ]
    assert outs[0].tobytes() == outs[1].tobytes()
    plain = nufft_type2_lines(img, origin, step, S, NufftOptions(eps=1e-4, threads=1))
    j = np.arange(S)
    factor = 0.7 * np.exp(1j * (phase[0][:, None] + phase[1][:, None] * j))
    factor *= (j >= band[0][:, None]) & (j <= band[1][:, None])
    np.testing.assert_allclose(outs[0], plain * factor, rtol=0, atol=1e-5 * np.abs(plain).max())
