"""Autoregressive priors over the VQ-VAE codes, trained on motion-free slices only.

* **Top** codes ``c^t`` (raster order, ``L_t = H/8 * W/8`` tokens): MONAI's
  :class:`~monai.networks.nets.DecoderOnlyTransformer` (causal self-attention), with a
  begin-of-sequence token, models ``p(c^t) = prod_i p(c^t_i | c^t_<i)``.
* **Bottom** codes ``c^b`` given the top: a gated PixelCNN (van den Oord et al. 2016)
  of masked convolutions over the bottom grid, conditioned on the whole top code map
  (upsampled embeddings), ``p(c^b | c^t) = prod_j p(c^b_j | c^b_<j, c^t)``. VQ-VAE-2
  uses PixelSNAIL for both levels; a transformer over the 4x longer bottom sequence
  costs too much on a CPU, and the masked convolutions give all conditionals of a
  slice in one pass. Their receptive field is local, with the classic PixelCNN blind
  spot to the upper right, which a conditioning on the top codes partly covers.

Both return per-position log-probabilities of every code (teacher forcing), shape
(B, K, H, W): all the conditionals of a code map in one forward pass, which the
correction (:mod:`correctors.vqprior.refine`) uses.

References
----------
Razavi et al., VQ-VAE-2, NeurIPS 2019; van den Oord et al., "Conditional image
generation with PixelCNN decoders", NeurIPS 2016; Vaswani et al. 2017. Seed 003:
an autoregressive prior of motion-free images guides the correction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.networks.nets import DecoderOnlyTransformer
from torch import nn

from correctors.vqprior.config import PriorConfig

__all__ = ["TopPrior", "BottomPrior", "code_log_likelihood"]


class TopPrior(nn.Module):
    """Causal transformer over the top code map (raster order), begin token = K."""

    def __init__(self, cfg: PriorConfig, num_codes: int, shape: tuple[int, int]) -> None:
        super().__init__()
        self.num_codes, self.shape = int(num_codes), (int(shape[0]), int(shape[1]))
        self.net = DecoderOnlyTransformer(
            num_tokens=self.num_codes + 1,
            max_seq_len=self.shape[0] * self.shape[1],
            attn_layers_dim=cfg.top_dim,
            attn_layers_depth=cfg.top_depth,
            attn_layers_heads=cfg.top_heads,
            embedding_dropout_rate=cfg.dropout,
        )

    def log_probs(self, codes: torch.Tensor) -> torch.Tensor:
        """``log p(c_i = k | c_<i)`` for every position i and code k: (B, K, H, W)."""
        b, h, w = codes.shape
        if (h, w) != self.shape:
            raise ValueError(f"top prior was trained on {self.shape} code maps, got {(h, w)}")
        seq = codes.reshape(b, h * w)
        bos = torch.full((b, 1), self.num_codes, dtype=seq.dtype, device=seq.device)
        logits = self.net(torch.cat([bos, seq[:, :-1]], dim=1))[..., : self.num_codes]
        return F.log_softmax(logits.float(), dim=-1).permute(0, 2, 1).reshape(b, -1, h, w)


class _MaskedConv2d(nn.Conv2d):
    """Convolution seeing only pixels before the centre in raster order (``A``: not the
    centre itself; ``B``: the centre too, which is causal after a first ``A`` layer)."""

    def __init__(self, cin: int, cout: int, k: int, mask_type: str) -> None:
        super().__init__(cin, cout, k, padding=k // 2)
        mask = torch.ones(k, k)
        mask[k // 2, k // 2 + (mask_type == "B") :] = 0
        mask[k // 2 + 1 :] = 0
        self.register_buffer("mask", mask[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class BottomPrior(nn.Module):
    """Gated PixelCNN over bottom codes conditioned on the top code map."""

    def __init__(self, cfg: PriorConfig, num_codes: int, num_codes_top: int) -> None:
        super().__init__()
        c = cfg.bottom_channels
        self.num_codes = int(num_codes)
        self.embed = nn.Embedding(self.num_codes, c)
        self.embed_top = nn.Embedding(int(num_codes_top), c)
        # the top map is known in full when the bottom is modelled: no mask needed
        self.cond = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1)
        )
        self.first = _MaskedConv2d(c, c, 7, "A")
        self.layers = nn.ModuleList(
            _MaskedConv2d(c, 2 * c, 3, "B") for _ in range(cfg.bottom_layers)
        )
        self.cond_proj = nn.ModuleList(nn.Conv2d(c, 2 * c, 1) for _ in range(cfg.bottom_layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, self.num_codes, 1)
        )

    def log_probs(self, codes: torch.Tensor, codes_top: torch.Tensor) -> torch.Tensor:
        """``log p(c^b_j = k | c^b_<j, c^t)``: (B, K, H, W) for bottom codes (B, H, W)."""
        b, h, w = codes.shape
        if codes_top.shape != (b, h // 2, w // 2) or h % 2 or w % 2:
            raise ValueError(
                f"bottom codes {tuple(codes.shape)} need top codes (B, H/2, W/2), "
                f"got {tuple(codes_top.shape)}"
            )
        cond = self.embed_top(codes_top).permute(0, 3, 1, 2)
        cond = self.cond(F.interpolate(cond, scale_factor=2, mode="nearest"))
        x = self.first(self.embed(codes).permute(0, 3, 1, 2)) + cond
        for layer, proj in zip(self.layers, self.cond_proj, strict=True):
            a, g = (layer(F.relu(x)) + proj(cond)).chunk(2, dim=1)
            x = x + self.drop(torch.tanh(a) * torch.sigmoid(g))
        return F.log_softmax(self.out(x).float(), dim=1)


def code_log_likelihood(log_probs: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Per-position ``log p`` of the given codes, (B, H, W), from (B, K, H, W) log-probs."""
    return log_probs.gather(1, codes[:, None].long())[:, 0]
