"""The training loops' shared optimiser step."""

import math

import pytest
import torch

from correctors.common.optim import optimizer_step


def test_step_returns_the_loss_and_moves_the_weights():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = torch.optim.SGD([w], lr=0.5)
    value = optimizer_step(opt, (w**2).sum(), "stage l1 step 0")
    assert value == pytest.approx(5.0)
    assert torch.allclose(w.detach(), torch.tensor([0.0, 0.0]))  # w - 0.5 * 2 w


def test_non_finite_loss_stops_before_the_weights_change():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = torch.optim.SGD([w], lr=0.5)
    with pytest.raises(FloatingPointError, match=r"stage l1 step 7: loss is nan"):
        optimizer_step(opt, (w * math.nan).sum(), "stage l1 step 7")
    assert torch.equal(w.detach(), torch.tensor([1.0, -2.0]))
    assert w.grad is None
