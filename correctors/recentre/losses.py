"""Training loss of the recentre predictor: Gaussian NLL - beta * FD_gain (seed 000 Eq. 4).

The FD terms are differentiable torch versions of seed 000 Eqs. 1-3 on the same
footing as :mod:`mrsim.motion.fd` (translations in mm, rotations in degrees weighted
by ``50 pi / 180`` mm/deg, i.e. arc length on a 50 mm sphere); they are tested against
:func:`mrsim.motion.fd.fd_gain`.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "gaussian_nll",
    "predictive_variance",
    "fd_norm_torch",
    "fd_gain_torch",
    "recentre_loss",
    "SEED000_RADIUS_MM",
]

#: Sphere radius (mm) behind seed 000's ``50 pi / 180`` rotation weight (rotations in deg).
SEED000_RADIUS_MM = 50.0

_LOG_2PI = math.log(2.0 * math.pi)


def predictive_variance(logvar: torch.Tensor, var_floor: float = 0.0) -> torch.Tensor:
    """``exp(logvar) + var_floor``: the variance the network predicts, floored.

    The floor (normalised units) keeps the NLL's ``err^2 / var`` term bounded on still
    windows where the network would otherwise drive the variance towards zero and then
    pay ``|z| ~ 300`` on the next unpredictable jerk. The same floor is used at
    inference (:func:`correctors.recentre.training.predict_windows`), so the reported
    std is the one the loss was trained with.
    """
    return torch.exp(logvar) + var_floor


def gaussian_nll(
    mu: torch.Tensor, logvar: torch.Tensor, target: torch.Tensor, var_floor: float = 0.0
) -> torch.Tensor:
    """Mean Gaussian negative log-likelihood (nats per parameter, constant included).

    ``0.5 * (log 2 pi + log v + (target - mu)^2 / v)`` with
    ``v = exp(logvar) + var_floor`` (:func:`predictive_variance`), averaged over all
    elements. With ``var_floor = 0`` this is the textbook Gaussian NLL.
    """
    var = predictive_variance(logvar, var_floor)
    return 0.5 * (_LOG_2PI + torch.log(var) + (target - mu) ** 2 / var).mean()


def fd_norm_torch(d: torch.Tensor, radius_mm: float = SEED000_RADIUS_MM) -> torch.Tensor:
    """``sum |d_trans| + radius * pi/180 * sum |d_rot_deg|`` over the last axis (6)."""
    a = d.abs()
    return a[..., :3].sum(-1) + (radius_mm * math.pi / 180.0) * a[..., 3:].sum(-1)


def fd_gain_torch(
    true: torch.Tensor,
    pred: torch.Tensor,
    previous: torch.Tensor,
    floor_mm: float = 0.0,
    radius_mm: float = SEED000_RADIUS_MM,
) -> torch.Tensor:
    """Per-sample FD_gain (seed 000 Eq. 3), differentiable in ``pred``.

    ``FD_total = |true - previous|_FD`` (Eq. 1), ``FD_pred = |pred - true|_FD`` (Eq. 2),
    ``FD_gain = (FD_total - FD_pred) / max(FD_total, floor_mm)``.

    Parameters
    ----------
    true, pred, previous : Tensor, shape (..., 6)
        mm and degrees.
    floor_mm : float
        With 0 (default) this equals :func:`mrsim.motion.fd.fd_gain` with ``previous``,
        including NaN where ``FD_total = 0``. A positive floor keeps the ratio bounded on
        near-still samples, whose gain would otherwise dominate a training batch.
    radius_mm : float

    Returns
    -------
    Tensor, shape (...)
    """
    tot = fd_norm_torch(true - previous, radius_mm)
    prd = fd_norm_torch(pred - true, radius_mm)
    if floor_mm > 0:
        return (tot - prd) / torch.clamp(tot, min=floor_mm)
    nan = torch.full_like(tot, float("nan"))
    return torch.where(tot > 0, (tot - prd) / torch.where(tot > 0, tot, 1.0), nan)


def recentre_loss(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    target_n: torch.Tensor,
    ref: torch.Tensor,
    previous: torch.Tensor,
    unit: torch.Tensor,
    beta: float = 0.1,
    fd_floor_mm: float = 0.01,
    var_floor: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """``NLL - beta * mean(FD_gain)`` for a batch.

    The NLL is taken in normalised units (each parameter divided by its scale, so the
    six parameters weigh alike); FD_gain is computed on the de-normalised prediction in
    mm/deg, as in seed 000.

    Parameters
    ----------
    mu, logvar : Tensor, shape (B, 6)
        Network output, normalised.
    target_n : Tensor, shape (B, 6)
        Normalised target.
    ref : Tensor, shape (B, 6)
        Reference pose of the normalisation (mm, deg).
    previous : Tensor, shape (B, 6)
        Last input pose of each window (mm, deg), the ``t`` of Eq. 1.
    unit : Tensor, shape (6,) or (B, 6)
        Physical size (mm, deg) of one normalised unit (``Normaliser.transform``).
    beta : float
        Seed 000: 0.1.
    fd_floor_mm : float
        See :func:`fd_gain_torch`.
    var_floor : float
        Variance floor of the NLL (normalised units), see :func:`predictive_variance`.

    Returns
    -------
    loss : Tensor (scalar)
    parts : dict with float "nll" and "fd_gain"
    """
    nll = gaussian_nll(mu, logvar, target_n, var_floor)
    pred = ref + unit * mu
    true = ref + unit * target_n
    gain = fd_gain_torch(true, pred, previous, floor_mm=fd_floor_mm).mean()
    loss = nll - beta * gain
    return loss, {"nll": float(nll.detach()), "fd_gain": float(gain.detach())}
