"""The optimiser step the correctors' training loops share."""

from __future__ import annotations

import math

import torch

__all__ = ["optimizer_step"]


def optimizer_step(opt: torch.optim.Optimizer, loss: torch.Tensor, where: str) -> float:
    """Back-propagate ``loss`` and step ``opt``; returns the loss value.

    A non-finite loss raises :class:`FloatingPointError` naming ``where`` (stage and step)
    before any weight changes, so the last checkpoint stays a good one to resume from.
    """
    value = float(loss.detach())
    if not math.isfinite(value):
        raise FloatingPointError(f"{where}: loss is {value}")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return value
