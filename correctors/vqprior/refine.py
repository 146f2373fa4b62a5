"""Correction under the prior: refine a slice's codes coarse-to-fine (seed 003).

For one level with encoder latents ``z_i`` (i over the code grid), codebook ``e_k`` and
autoregressive prior ``p(c_i | c_<i)`` (for the bottom level also conditioned on the
top codes), the encoder's evidence for code k at position i is a softmax over
distances,

    log q_i(k) = log softmax_k( -||z_i - e_k||^2 / T ),

with the temperature ``T`` = the mean nearest-code distance on clean slices. Starting
from the nearest codes ``c_i = argmin_k ||z_i - e_k||^2``, each iteration computes every
conditional of the prior in one pass (teacher forcing on the current codes) and, at the
positions where the current code is improbable under the prior,
``log p(c_i | c_<i) < tau`` (``tau``: a low quantile of the same quantity on clean
slices), replaces it by the MAP trade-off

    c_i <- argmax_k  lambda log p(k | c_<i) + log q_i(k).

Positions the prior finds plausible keep the encoder's code. This is iterated
conditional modes under the autoregressive factorisation; it stops when nothing
changes. The top level is refined first; the bottom latents are then recomputed from
the refined top (VQ-VAE-2's bottom encoder sees the decoded top), refined in the same
way given the refined top codes, and the two code maps are decoded: coarse-to-fine.

References
----------
Seed 003 (arXiv 2511.08365): the prior of motion-free images guides the correction at
inference. Razavi et al., VQ-VAE-2, NeurIPS 2019. Besag, "On the statistical analysis
of dirty pictures", JRSS-B 1986 (iterated conditional modes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from correctors.vqprior.model import slice_scale
from correctors.vqprior.prior import code_log_likelihood

__all__ = ["refine_codes", "refine_codes_raster", "calibrate", "QUANTILES"]

#: Quantiles of the clean per-token log-likelihood stored at calibration.
QUANTILES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def refine_codes(
    distances: torch.Tensor,
    log_probs: Callable[[torch.Tensor], torch.Tensor],
    temperature: float,
    threshold: float,
    prior_weight: float = 1.0,
    iterations: int = 3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MAP refinement of one code level (module docstring).

    Parameters
    ----------
    distances : tensor (B, H, W, K)
        Squared encoder-to-code distances.
    log_probs : callable
        codes (B, H, W) -> prior log-probabilities (B, K, H, W).
    temperature, threshold, prior_weight : float
        ``T``, ``tau`` and ``lambda``.
    iterations : int
        At most this many passes.

    Returns
    -------
    codes : tensor (B, H, W) int64
    replaced : tensor (B, H, W) bool
        Positions whose code differs from the encoder's nearest code.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    enc = F.log_softmax(-distances / temperature, dim=-1)
    nearest = distances.argmin(dim=-1)
    codes = nearest
    for _ in range(max(0, iterations)):
        lp = log_probs(codes)
        low = code_log_likelihood(lp, codes) < threshold
        if not bool(low.any()):
            break
        new = (prior_weight * lp.permute(0, 2, 3, 1) + enc).argmax(dim=-1)
        new = torch.where(low, new, codes)
        if bool((new == codes).all()):
            break
        codes = new
    return codes, codes != nearest


def refine_codes_raster(
    distances: torch.Tensor,
    log_probs: Callable[[torch.Tensor], torch.Tensor],
    temperature: float,
    threshold: float,
    prior_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequential variant of :func:`refine_codes`: one sweep in raster order.

    Improbable positions are visited in raster order, each judged and replaced under
    the prior's conditional recomputed on the codes refined so far (greedy decoding with
    the encoder's evidence): a replacement is consistent with those before it, and a
    position that becomes improbable because its past changed is visited too. Costs one
    prior pass per replaced position.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    enc = F.log_softmax(-distances / temperature, dim=-1)
    nearest = distances.argmin(dim=-1)
    codes = nearest.clone()
    b, h, w = codes.shape
    lp = log_probs(codes)
    last = -1
    while True:
        # the next position (after the last visited) that is improbable given the codes so far
        low = (code_log_likelihood(lp, codes) < threshold).reshape(b, -1)
        low[:, : last + 1] = False
        todo = torch.nonzero(low.any(0)).reshape(-1)
        if todo.numel() == 0:
            break
        last = int(todo[0])
        y, x = divmod(last, w)
        here = lp[:, :, y, x]  # (B, K)
        new = torch.where(
            low[:, last], (prior_weight * here + enc[:, y, x]).argmax(-1), codes[:, y, x]
        )
        if bool((new != codes[:, y, x]).any()):
            codes[:, y, x] = new
            lp = log_probs(codes)
    return codes, codes != nearest


@torch.no_grad()
def calibrate(corrector, bank: torch.Tensor, level: str, batch_size: int = 16) -> dict:
    """Calibration constants of one training phase from clean slices ``bank`` (N, 1, H, W).

    ``vqvae``: ``temperature_top`` / ``temperature_bottom``, the mean nearest-code squared
    distance. ``prior_top`` / ``prior_bottom``: ``logp_quantiles_<level>``, the
    :data:`QUANTILES` of the per-token prior log-likelihood, and ``logp_mean_<level>``.
    """
    dev = next(corrector.parameters()).device
    corrector.eval()
    vq = corrector.vq
    dist_t, dist_b, lps = [], [], []
    for i in range(0, bank.shape[0], batch_size):
        x = bank[i : i + batch_size].to(dev)
        out = vq.quantize(x / slice_scale(x))
        if level == "vqvae":
            dist_t.append(vq.quant_t.distances(out["z_t"]).amin(-1).reshape(-1).cpu())
            dist_b.append(vq.quant_b.distances(out["z_b"]).amin(-1).reshape(-1).cpu())
        elif level == "prior_top":
            lp = corrector.prior_top.log_probs(out["codes_top"])
            lps.append(code_log_likelihood(lp, out["codes_top"]).reshape(-1).cpu())
        elif level == "prior_bottom":
            lp = corrector.prior_bottom.log_probs(out["codes_bottom"], out["codes_top"])
            lps.append(code_log_likelihood(lp, out["codes_bottom"]).reshape(-1).cpu())
        else:
            raise ValueError(f"unknown calibration level {level!r}")
    if level == "vqvae":
        return {
            "temperature_top": max(float(torch.cat(dist_t).mean()), 1e-8),
            "temperature_bottom": max(float(torch.cat(dist_b).mean()), 1e-8),
        }
    name = level.split("_")[1]
    v = torch.cat(lps).double().numpy()
    return {
        f"logp_quantiles_{name}": {str(q): float(np.quantile(v, q)) for q in QUANTILES},
        f"logp_mean_{name}": float(v.mean()),
    }
