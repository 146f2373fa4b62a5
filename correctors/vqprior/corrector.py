"""The VQ prior corrector: VQ-VAE + priors (+ disentangled encoder) as one module.

``VQPriorCorrector.correct(x)`` maps motion-corrupted slices (B, 1, H, W), in any
intensity unit, to corrected slices in the same unit, so it plugs into
:func:`correctors.mcnet.evaluate.evaluate_samples` and
:func:`correctors.mcnet.infer.correct_slices` like an MC-Net. Modes:

* ``recon``: encode with the clean encoder, nearest codes, decode (the VQ-VAE's
  projection onto its codebook, no prior);
* ``prior``: the clean-only method, the clean encoder's codes refined under the
  priors (:mod:`correctors.vqprior.refine`); needs no corrupted/clean pairs;
* ``disentangled``: the seed's disentangled variant, the encoder trained on corrupted
  slices to map onto the clean codebook, then the same prior refinement;
* ``disentangled_noprior``: that encoder without the refinement (ablation).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from correctors.vqprior.config import PriorConfig, VQConfig
from correctors.vqprior.model import HierarchicalVQVAE, LatentEncoder, check_slices, slice_scale
from correctors.vqprior.prior import BottomPrior, TopPrior, code_log_likelihood
from correctors.vqprior.refine import refine_codes, refine_codes_raster
from mrsim.errors import MrsimInputError

__all__ = ["VQPriorCorrector", "MODES"]

MODES = ("recon", "prior", "disentangled", "disentangled_noprior")


class VQPriorCorrector(nn.Module):
    """Hierarchical VQ-VAE, top/bottom priors and the disentangled encoder.

    Parameters
    ----------
    vq_cfg, prior_cfg : VQConfig, PriorConfig
    image_shape : (H, W)
        Slice shape the priors are built for (their code grids are H/8 x W/8 and H/4 x W/4).

    Attributes
    ----------
    mode : str
        Default mode of :meth:`correct` (one of :data:`MODES`).
    threshold_quantile, prior_weight, iterations, temperature_scale :
        Refinement settings (``tau`` is the ``threshold_quantile`` of the clean per-token
        log-likelihood stored in ``calibration``; ``lambda``; passes per level; a factor
        on the calibrated encoder temperatures ``T``: larger trusts the encoder less).
    refine_order : {"parallel", "raster"}
        :func:`~correctors.vqprior.refine.refine_codes` (iterated, all positions at once)
        or :func:`~correctors.vqprior.refine.refine_codes_raster` (one sequential sweep).
    """

    def __init__(self, vq_cfg: VQConfig, prior_cfg: PriorConfig, image_shape) -> None:
        super().__init__()
        h, w = (int(n) for n in image_shape)
        if h % 8 or w % 8:
            raise ValueError(f"image_shape must be multiples of 8, got {(h, w)}")
        self.vq_cfg, self.prior_cfg, self.image_shape = vq_cfg, prior_cfg, (h, w)
        self.vq = HierarchicalVQVAE(vq_cfg)
        self.prior_top = TopPrior(prior_cfg, vq_cfg.num_codes_top, (h // 8, w // 8))
        self.prior_bottom = BottomPrior(prior_cfg, vq_cfg.num_codes_bottom, vq_cfg.num_codes_top)
        self.disentangled = LatentEncoder(vq_cfg)
        self.has_disentangled = False
        self.calibration: dict[str, Any] = {}
        self.mode = "prior"
        self.threshold_quantile = 0.05
        self.prior_weight = 1.0
        self.iterations = 3
        self.temperature_scale = 1.0
        self.refine_order = "parallel"
        self.last_replaced: dict[str, float] = {}

    # -- training support ---------------------------------------------------------
    def init_disentangled(self) -> None:
        """Start the disentangled encoder from the clean encoder's weights."""
        self.disentangled.load_state_dict(copy.deepcopy(self.vq.encoder.state_dict()))
        self.has_disentangled = True

    def _modules_of(self, phase: str) -> list[nn.Module]:
        return {
            "vqvae": [self.vq],
            "prior_top": [self.prior_top],
            "prior_bottom": [self.prior_bottom],
            "disentangle": [self.disentangled],
        }[phase]

    def trainable(self, phase: str) -> list[nn.Parameter]:
        return [p for m in self._modules_of(phase) for p in m.parameters() if p.requires_grad]

    def set_phase(self, phase: str) -> None:
        """Train mode and gradients for the phase's modules only (codebooks stay EMA-only)."""
        self.eval()
        self.requires_grad_(False)
        for m in self._modules_of(phase):
            m.train()
            m.requires_grad_(True)
        for q in (self.vq.quant_t, self.vq.quant_b):
            q.embedding.weight.requires_grad_(False)

    def nll(self, codes_top: torch.Tensor, codes_bottom: torch.Tensor, level: str) -> torch.Tensor:
        """Mean negative log-likelihood (nats per token) of one level's codes."""
        if level == "prior_top":
            return -code_log_likelihood(self.prior_top.log_probs(codes_top), codes_top).mean()
        if level == "prior_bottom":
            lp = self.prior_bottom.log_probs(codes_bottom, codes_top)
            return -code_log_likelihood(lp, codes_bottom).mean()
        raise ValueError(f"unknown level {level!r}; expected 'prior_top' or 'prior_bottom'")

    # -- state --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Plain-container state (loadable with ``weights_only=True``)."""
        return {
            "model_config": {"vq": self.vq_cfg.to_dict(), "prior": self.prior_cfg.to_dict()},
            "image_shape": list(self.image_shape),
            "vq": self.vq.state_dict(),
            "prior_top": self.prior_top.state_dict(),
            "prior_bottom": self.prior_bottom.state_dict(),
            "disentangled": self.disentangled.state_dict(),
            "has_disentangled": self.has_disentangled,
            "calibration": copy.deepcopy(self.calibration),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.vq.load_state_dict(state["vq"])
        self.prior_top.load_state_dict(state["prior_top"])
        self.prior_bottom.load_state_dict(state["prior_bottom"])
        self.disentangled.load_state_dict(state["disentangled"])
        self.has_disentangled = bool(state["has_disentangled"])
        self.calibration = copy.deepcopy(state["calibration"])

    @classmethod
    def from_state(cls, state: dict[str, Any], where: str = "checkpoint") -> VQPriorCorrector:
        try:
            mc = state["model_config"]
            obj = cls(VQConfig(**mc["vq"]), PriorConfig(**mc["prior"]), state["image_shape"])
            obj.load_state(state)
        except (KeyError, TypeError, RuntimeError) as exc:
            raise MrsimInputError(
                f"{where}: not a vqprior checkpoint ({type(exc).__name__}: {exc})"
            ) from None
        return obj

    # -- correction ---------------------------------------------------------------
    def _threshold(self, level: str) -> float:
        q = self.calibration.get(f"logp_quantiles_{level}")
        if not q or f"temperature_{level}" not in self.calibration:
            raise ValueError(f"the {level} prior is not trained/calibrated; use mode='recon'")
        key = str(self.threshold_quantile)
        if key not in q:
            raise ValueError(f"threshold_quantile must be one of {sorted(q)}, got {key}")
        return float(q[key])

    def _refine(self, dist, log_probs, temperature: float, threshold: float):
        t = self.temperature_scale * temperature
        if self.refine_order == "raster":
            return refine_codes_raster(dist, log_probs, t, threshold, self.prior_weight)
        if self.refine_order != "parallel":
            raise ValueError(
                f"refine_order must be 'parallel' or 'raster', got {self.refine_order!r}"
            )
        return refine_codes(dist, log_probs, t, threshold, self.prior_weight, self.iterations)

    @torch.no_grad()
    def correct(self, x: torch.Tensor, mode: str | None = None) -> torch.Tensor:
        """Corrected slices (B, 1, H, W) in the input's units (see module docstring)."""
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
        check_slices(x)
        use_prior = mode in ("prior", "disentangled")
        if use_prior and tuple(x.shape[-2:]) != self.image_shape:
            raise ValueError(
                f"the priors were trained on {self.image_shape} slices, got {tuple(x.shape[-2:])}"
            )
        if mode.startswith("disentangled") and not self.has_disentangled:
            raise ValueError(f"mode {mode!r}: this model has no trained disentangled encoder")
        if use_prior:
            thresholds = {level: self._threshold(level) for level in ("top", "bottom")}
        self.eval()
        vq = self.vq
        scale = slice_scale(x)
        enc = self.disentangled if mode.startswith("disentangled") else vq.encoder
        h_b, z_t = enc(x / scale)
        d_t = vq.quant_t.distances(z_t)
        ct = d_t.argmin(-1)
        stats = {}
        if use_prior:
            ct, rep = self._refine(
                d_t,
                self.prior_top.log_probs,
                self.calibration["temperature_top"],
                thresholds["top"],
            )
            stats["replaced_top"] = float(rep.float().mean())
        z_b = enc.bottom(h_b, vq.dec_t(vq.quant_t.lookup(ct)))
        d_b = vq.quant_b.distances(z_b)
        cb = d_b.argmin(-1)
        if use_prior:
            cb, rep = self._refine(
                d_b,
                lambda c: self.prior_bottom.log_probs(c, ct),
                self.calibration["temperature_bottom"],
                thresholds["bottom"],
            )
            stats["replaced_bottom"] = float(rep.float().mean())
        self.last_replaced = stats
        return vq.decode_codes(ct, cb) * scale
