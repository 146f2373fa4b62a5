"""qsmnet networks: shapes, receptive field, ConvLSTM step against a hand computation."""

from __future__ import annotations

import math

import pytest
import torch

from correctors.qsmnet.model import (
    PRENET_CONFIGS,
    UNET_CONFIGS,
    ConvLSTMCell,
    UNetConfig,
    build_prenet,
    build_unet,
    unet_receptive_field,
)


@pytest.mark.parametrize("name", ["tiny", "cpu"])
def test_shapes_and_identity_at_init(name):
    u, p = build_unet(name), build_prenet(name)
    x = torch.randn(2, 1, 16, 16, 8)
    assert u(x).shape == x.shape
    # zero-initialised UNet output conv: starts as the identity map; PReNet near it
    assert torch.equal(u(x), x)
    s = torch.randn(3, 1, 20, 24)
    stages = p(s, return_stages=True)
    assert len(stages) == PRENET_CONFIGS[name].stages
    assert all(t.shape == s.shape for t in stages)
    assert 0 < (stages[-1] - s).abs().max() < 0.1 * s.std()


def test_unet_rejects_bad_patch_size():
    with pytest.raises(ValueError, match="multiple of 4"):
        build_unet("cpu")(torch.zeros(1, 1, 18, 16, 16))


@pytest.mark.parametrize("features", [(4, 8), (4, 8, 8)])
def test_receptive_field_matches_formula(features):
    """Support of d out[c] / d in is exactly the analytic receptive field on every axis."""
    torch.manual_seed(0)
    u = build_unet(UNetConfig(features=features, residual=False)).eval()
    for prm in u.parameters():
        if prm.ndim == 1:  # positive biases keep every ReLU path open
            torch.nn.init.uniform_(prm, 0.0, 0.1)
    rf = unet_receptive_field(u.config)
    assert rf == {2: 18, 3: 44}[len(features)]
    n = 64
    x = torch.randn(1, 1, n, n, n, requires_grad=True)
    u(x)[0, 0, n // 2, n // 2, n // 2].backward()
    g = x.grad[0, 0].abs() > 0
    for ax in range(3):
        others = tuple(a for a in range(3) if a != ax)
        idx = torch.nonzero(g.any(dim=others)).flatten()
        assert int(idx.max() - idx.min()) + 1 == rf


def test_convlstm_step_hand_computed():
    """1 input and 1 hidden channel on a 1x1 image: only the centre taps act."""
    cell = ConvLSTMCell(1, 1, kernel_size=3)
    wx = [0.5, -0.3, 0.8, 0.1]  # gates i, f, g, o: weight on x
    wh = [0.2, 0.4, -0.6, 0.7]  # weight on h
    b = [0.1, 0.2, -0.1, 0.05]
    with torch.no_grad():
        cell.conv.weight.zero_()
        for j in range(4):
            cell.conv.weight[j, 0, 1, 1] = wx[j]
            cell.conv.weight[j, 1, 1, 1] = wh[j]
            cell.conv.bias[j] = b[j]
    x, h, c = 0.9, -0.4, 0.25

    def sig(v):
        return 1 / (1 + math.exp(-v))

    pre = [wx[j] * x + wh[j] * h + b[j] for j in range(4)]
    c_new = sig(pre[1]) * c + sig(pre[0]) * math.tanh(pre[2])
    h_new = sig(pre[3]) * math.tanh(c_new)
    t = lambda v: torch.full((1, 1, 1, 1), v)  # noqa: E731
    h_t, c_t = cell(t(x), (t(h), t(c)))
    assert float(c_t) == pytest.approx(c_new, abs=1e-6)
    assert float(h_t) == pytest.approx(h_new, abs=1e-6)
    # no state: zeros
    h0, c0 = cell(t(x))
    c_expect = sig(wx[0] * x + b[0]) * math.tanh(wx[2] * x + b[2])
    assert float(c0) == pytest.approx(c_expect, abs=1e-6)


def test_prenet_stage_input_is_concatenated():
    """Each stage sees [x0, x_{t-1}]: with a non-zero output conv, stages differ."""
    torch.manual_seed(1)
    p = build_prenet("tiny")
    assert p.f_in.in_channels == 2
    s = p(torch.randn(1, 1, 8, 8), return_stages=True)
    assert not torch.allclose(s[0], s[1])


def test_configs_sizes():
    assert UNET_CONFIGS["paper"].features == (64, 128, 256, 512)
    assert PRENET_CONFIGS["paper"].stages == 6


def test_convlstm_step_spatial_hand_computed():
    """3x3 taps on a 3x4 image with zero padding, input channel first, then hidden."""
    import numpy as np

    rng = np.random.default_rng(4)
    cell = ConvLSTMCell(1, 1, kernel_size=3)
    w = rng.normal(0, 0.5, (4, 2, 3, 3))
    b = rng.normal(0, 0.1, 4)
    with torch.no_grad():
        cell.conv.weight.copy_(torch.from_numpy(w))
        cell.conv.bias.copy_(torch.from_numpy(b))
    x, h, c = (rng.normal(0, 1, (3, 4)) for _ in range(3))
    stacked = [np.pad(x, 1), np.pad(h, 1)]  # channels [x, h], zero padding 1

    def sig(v):
        return 1 / (1 + math.exp(-v))

    c_new, h_new = np.zeros((3, 4)), np.zeros((3, 4))
    for r in range(3):
        for q in range(4):
            pre = [
                b[j]
                + sum(
                    w[j, ch, u, v] * stacked[ch][r + u, q + v]
                    for ch in range(2)
                    for u in range(3)
                    for v in range(3)
                )
                for j in range(4)
            ]  # cross-correlation, as torch's conv
            c_new[r, q] = sig(pre[1]) * c[r, q] + sig(pre[0]) * math.tanh(pre[2])
            h_new[r, q] = sig(pre[3]) * math.tanh(c_new[r, q])
    t = lambda a: torch.from_numpy(a)[None, None].float()  # noqa: E731
    h_t, c_t = cell(t(x), (t(h), t(c)))
    np.testing.assert_allclose(c_t[0, 0].detach().numpy(), c_new, atol=1e-5)
    np.testing.assert_allclose(h_t[0, 0].detach().numpy(), h_new, atol=1e-5)
