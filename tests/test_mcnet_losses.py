"""MC-Net losses (seed 001 Eq. 1-2) against hand-computed values."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from correctors.mcnet.losses import TV_EXPONENT, l1_loss, mcnet_loss, tv_loss  # noqa: E402

# I(i, j), i = row, j = column
HAND = [[0.0, 1.0, 3.0], [2.0, 2.0, 0.0], [1.0, 0.0, 0.0]]
# Eq. 2 summand ((I(i+1,j)-I(i,j))^2 + (I(i,j+1)-I(i,j))^2)^1.25 on the 2x2 grid i, j < 2:
#   (0,0): dx = 2-0 = 2,  dy = 1-0 = 1   -> 5^1.25
#   (0,1): dx = 2-1 = 1,  dy = 3-1 = 2   -> 5^1.25
#   (1,0): dx = 1-2 = -1, dy = 2-2 = 0   -> 1^1.25 = 1
#   (1,1): dx = 0-2 = -2, dy = 0-2 = -2  -> 8^1.25
# 5^1.25 = 7.476743906..., 8^1.25 = 13.454342644...
HAND_SUM = 29.407830456


def test_tv_hand_computed_sum_and_mean():
    assert TV_EXPONENT == 1.25
    assert math.isclose(2 * 5**1.25 + 1 + 8**1.25, HAND_SUM, rel_tol=1e-10)
    img = torch.tensor(HAND, dtype=torch.float64)
    assert float(tv_loss(img, reduction="sum")) == pytest.approx(HAND_SUM, rel=1e-9)
    assert float(tv_loss(img, reduction="mean")) == pytest.approx(HAND_SUM / 4, rel=1e-9)
    # batch and channel dims: mean over them of the per-image value
    batch = torch.stack([img, 2 * img])[:, None]  # (2, 1, 3, 3); 2I scales TV by 2^2.5
    expected = (HAND_SUM + 2**2.5 * HAND_SUM) / 2
    assert float(tv_loss(batch, reduction="sum")) == pytest.approx(expected, rel=1e-9)


def test_tv_ramp_and_constant():
    i, j = np.meshgrid(np.arange(5.0), np.arange(7.0), indexing="ij")
    a, b = 0.3, -0.2
    ramp = torch.from_numpy(a * i + b * j)
    expected = 4 * 6 * (a * a + b * b) ** 1.25
    assert float(tv_loss(ramp, reduction="sum")) == pytest.approx(expected, rel=1e-12)
    assert float(tv_loss(torch.full((6, 6), 3.0))) == 0.0


def test_tv_rejects_bad_input():
    with pytest.raises(ValueError, match="reduction"):
        tv_loss(torch.zeros(4, 4), reduction="max")
    with pytest.raises(ValueError, match="H, W >= 2"):
        tv_loss(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="exponent"):
        tv_loss(torch.zeros(4, 4), exponent=0.5)


def test_l1_and_hybrid_loss():
    out = torch.tensor(HAND, dtype=torch.float64)[None, None]
    ref = torch.zeros_like(out)
    l1 = sum(sum(abs(v) for v in row) for row in HAND) / 9
    assert float(l1_loss(out, ref)) == pytest.approx(l1)
    loss, parts = mcnet_loss(out, ref, alpha=1.0, beta=0.0)
    assert float(loss) == pytest.approx(l1)
    assert parts["tv"] == pytest.approx(HAND_SUM / 4)
    loss, parts = mcnet_loss(out, ref, alpha=2.0, beta=0.5, tv_reduction="sum")
    assert float(loss) == pytest.approx(2 * l1 + 0.5 * HAND_SUM)
    # TV acts on the residual output - reference: shifting both changes nothing
    loss2, _ = mcnet_loss(out + 5, ref + 5, alpha=2.0, beta=0.5, tv_reduction="sum")
    assert float(loss2) == pytest.approx(float(loss))
    with pytest.raises(ValueError, match="shape"):
        l1_loss(out, ref[..., :2])


def test_tv_gradient_finite_on_flat_residual():
    x = torch.zeros(1, 1, 8, 8, requires_grad=True)
    tv_loss(x).backward()
    assert torch.isfinite(x.grad).all()
    assert float(x.grad.abs().max()) == 0.0
