"""VQ prior: the EMA quantiser (straight-through gradient, EMA update by hand, restarts)."""

import numpy as np
import pytest
import torch

from correctors.vqprior.quantizer import RestartingEMAQuantizer, code_perplexity


def _quantiser(k=2, d=1, decay=0.9, restart=0.0):
    q = RestartingEMAQuantizer(k, d, commitment_cost=0.25, decay=decay, restart_threshold=restart)
    return q


def test_straight_through_gradient_is_identity():
    q = _quantiser(k=4, d=3)
    z = torch.randn(2, 3, 4, 5, requires_grad=True)
    out, _, codes = q.eval()(z)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    # d(out)/dz = I: the gradient skips the non-differentiable nearest-code lookup
    assert torch.allclose(z.grad, w)
    # and the forward value is the chosen code vectors
    assert torch.allclose(out.detach(), q.lookup(codes))


def test_commitment_loss_value():
    q = _quantiser(k=2, d=1)
    q.embedding.weight.data[:] = torch.tensor([[0.0], [1.0]])
    z = torch.tensor([0.25, 0.9, -0.5, 2.0]).reshape(1, 1, 2, 2)
    _, loss, codes = q.eval()(z)
    assert codes.flatten().tolist() == [0, 1, 0, 1]
    expected = 0.25 * np.mean([0.25**2, 0.1**2, 0.5**2, 1.0**2])
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_ema_update_matches_hand_computation():
    decay, eps = 0.9, 1e-5
    q = _quantiser(k=2, d=1, decay=decay)
    q.embedding.weight.data[:] = torch.tensor([[0.0], [1.0]])
    q.ema_w.data[:] = torch.tensor([[0.0], [1.0]])
    z = torch.tensor([0.2, 0.4, 0.9, -0.1]).reshape(1, 1, 2, 2)  # codes 0, 0, 1, 0
    q.train()(z)
    # cluster sizes N = decay * 0 + (1 - decay) * counts; sums m = decay * m0 + (1 - decay) * sum
    counts = np.array([3.0, 1.0])
    size = (1 - decay) * counts
    m = decay * np.array([0.0, 1.0]) + (1 - decay) * np.array([0.2 + 0.4 - 0.1, 0.9])
    n = size.sum()
    smoothed = (size + eps) / (n + 2 * eps) * n  # Laplace smoothing (van den Oord 2017)
    assert np.allclose(q.ema_cluster_size.numpy(), size, atol=1e-7)
    assert np.allclose(q.embedding.weight.data[:, 0].numpy(), m / smoothed, rtol=1e-5)


def test_dead_code_restarts_on_an_encoder_output():
    torch.manual_seed(0)
    q = _quantiser(k=3, d=2, decay=0.99, restart=0.5)
    q.embedding.weight.data[:] = torch.tensor([[0.0, 0.0], [1.0, 1.0], [100.0, 100.0]])
    q.ema_w.data[:] = q.embedding.weight.data.clone()
    q.ema_cluster_size.data[:] = torch.tensor([10.0, 10.0, 0.0])  # code 2 is dead
    z = torch.rand(1, 2, 3, 3)
    q.train()(z)
    assert q.last_restarts == 1
    flat = z.permute(0, 2, 3, 1).reshape(-1, 2)
    # the dead code now sits exactly on one of the batch's encoder outputs
    assert torch.isclose(flat, q.embedding.weight.data[2]).all(dim=1).any()
    assert float(q.ema_cluster_size[2]) == 1.0


def test_perplexity_of_uniform_and_single_use():
    assert code_perplexity(torch.arange(4).repeat(5), 8) == pytest.approx((4.0, 0.5))
    assert code_perplexity(torch.zeros(10, dtype=torch.long), 8) == pytest.approx((1.0, 0.125))


def test_bad_shapes_and_codes_are_clear_errors():
    q = _quantiser(k=4, d=3)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        q(torch.zeros(1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        q.lookup(torch.full((1, 2, 2), 4))
    with pytest.raises(ValueError, match="integer"):
        q.lookup(torch.zeros(1, 2, 2))
