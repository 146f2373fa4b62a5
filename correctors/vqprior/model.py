"""Hierarchical (two-level) VQ-VAE of 2D slices, after VQ-VAE-2 (Razavi et al. 2019).

Shapes, for a slice of H x W (both multiples of 8)::

    x (B, 1, H, W) --enc_b--> h_b (B, C, H/4, W/4) --enc_t--> z_t (B, d, H/8, W/8)
    z_t --quant_t--> q_t, codes_top (B, H/8, W/8)
    z_b = pre_b([h_b, dec_t(q_t)]) (B, d, H/4, W/4) --quant_b--> q_b, codes_bottom (B, H/4, W/4)
    x_hat = dec([up_t(q_t), q_b]) (B, 1, H, W)

The top level holds the coarse layout, the bottom level the detail given the top
(the bottom latent sees the decoded top codes, as in VQ-VAE-2 Fig. 2a), which is
what makes a coarse-to-fine correction possible (seed 003). The encoder half
(``enc_b``, ``enc_t``, ``pre_b``) is its own module, :class:`LatentEncoder`, so the
disentangled variant can train a copy of it on corrupted slices while the
codebooks and decoders stay those learned on clean slices.

Building blocks are MONAI's VQ-VAE ``Encoder`` / ``Decoder`` (strided convolutions
and residual units) and :class:`~correctors.vqprior.quantizer.RestartingEMAQuantizer`.

Intensities: each slice is divided by its RMS (:func:`slice_scale`) before the
network and the output multiplied back. Rigid motion moves k-space energy around
but keeps it (Parseval), so the RMS of a corrupted slice is close to that of the
clean one, whereas its maximum drops with ghosting.

References
----------
Razavi, van den Oord, Vinyals, "Generating diverse high-fidelity images with VQ-VAE-2",
NeurIPS 2019. Seed 003 (arXiv 2511.08365): hierarchical VQ-VAE, codebooks at several
resolutions for coarse-to-fine correction.
"""

from __future__ import annotations

import torch
from monai.networks.nets.vqvae import Decoder, Encoder
from torch import nn

from correctors.vqprior.config import VQConfig
from correctors.vqprior.quantizer import RestartingEMAQuantizer

__all__ = ["HierarchicalVQVAE", "LatentEncoder", "slice_scale", "check_slices"]

_DOWN = (2, 4, 1, 1)  # stride, kernel, dilation, padding: halves H and W
_UP = (2, 4, 1, 1, 0)  # ... output padding: doubles H and W


def slice_scale(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """RMS of each slice of x (B, 1, H, W), shape (B, 1, 1, 1), floored at eps."""
    return x.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(eps)


def check_slices(x: torch.Tensor, what: str = "input") -> None:
    """Raise a clear ValueError unless x is a finite (B, 1, H, W) batch with H, W % 8 == 0."""
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"{what}: expected slices of shape (B, 1, H, W), got {tuple(x.shape)}")
    if x.shape[2] % 8 or x.shape[3] % 8:
        raise ValueError(
            f"{what}: H and W must be multiples of 8 (two VQ levels at 1/4 and 1/8), "
            f"got {tuple(x.shape[2:])}"
        )
    if not torch.isfinite(x).all():
        raise ValueError(f"{what}: contains NaN or infinite values")


class LatentEncoder(nn.Module):
    """The encoder half of the VQ-VAE: x -> (h_b, z_t), and (h_b, dec_t(q_t)) -> z_b."""

    def __init__(self, cfg: VQConfig) -> None:
        super().__init__()
        c, d = cfg.channels, cfg.embedding_dim
        common = dict(
            spatial_dims=2,
            num_res_layers=cfg.res_layers,
            dropout=0.0,
            act="RELU",
        )
        self.enc_b = Encoder(
            in_channels=1,
            out_channels=c,
            channels=(max(1, c // 2), c),
            num_res_channels=(cfg.res_channels, cfg.res_channels),
            downsample_parameters=(_DOWN, _DOWN),
            **common,
        )
        self.enc_t = Encoder(
            in_channels=c,
            out_channels=d,
            channels=(c,),
            num_res_channels=(cfg.res_channels,),
            downsample_parameters=(_DOWN,),
            **common,
        )
        self.pre_b = nn.Conv2d(c + d, d, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h_b = self.enc_b(x)
        return h_b, self.enc_t(h_b)

    def bottom(self, h_b: torch.Tensor, top_features: torch.Tensor) -> torch.Tensor:
        return self.pre_b(torch.cat([h_b, top_features], dim=1))


class HierarchicalVQVAE(nn.Module):
    """Two-level VQ-VAE (module docstring). ``forward`` works in normalised units."""

    def __init__(self, cfg: VQConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = cfg or VQConfig()
        c, d = cfg.channels, cfg.embedding_dim
        self.encoder = LatentEncoder(cfg)
        q = dict(
            embedding_dim=d,
            commitment_cost=cfg.commitment_cost,
            decay=cfg.decay,
            restart_threshold=cfg.restart_threshold,
        )
        self.quant_t = RestartingEMAQuantizer(cfg.num_codes_top, **q)
        self.quant_b = RestartingEMAQuantizer(cfg.num_codes_bottom, **q)
        self.dec_t = Decoder(
            spatial_dims=2,
            in_channels=d,
            out_channels=d,
            channels=(c,),
            num_res_layers=cfg.res_layers,
            num_res_channels=(cfg.res_channels,),
            upsample_parameters=(_UP,),
            dropout=0.0,
            act="RELU",
            output_act=None,
        )
        self.up_t = nn.ConvTranspose2d(d, d, kernel_size=4, stride=2, padding=1)
        self.dec = Decoder(
            spatial_dims=2,
            in_channels=2 * d,
            out_channels=1,
            channels=(max(1, c // 2), c),
            num_res_layers=cfg.res_layers,
            num_res_channels=(cfg.res_channels, cfg.res_channels),
            upsample_parameters=(_UP, _UP),
            dropout=0.0,
            act="RELU",
            output_act=None,
        )

    # -- encoding -----------------------------------------------------------------
    def quantize(
        self, x: torch.Tensor, encoder: LatentEncoder | None = None
    ) -> dict[str, torch.Tensor]:
        """Latents, quantised latents, codes and commitment losses of normalised x."""
        enc = encoder or self.encoder
        h_b, z_t = enc(x)
        q_t, loss_t, codes_t = self.quant_t(z_t)
        z_b = enc.bottom(h_b, self.dec_t(q_t))
        q_b, loss_b, codes_b = self.quant_b(z_b)
        return {
            "h_b": h_b,
            "z_t": z_t,
            "q_t": q_t,
            "codes_top": codes_t,
            "z_b": z_b,
            "q_b": q_b,
            "codes_bottom": codes_b,
            "commit_top": loss_t,
            "commit_bottom": loss_b,
        }

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Reconstruction of normalised x (B, 1, H, W) and the quantisation outputs."""
        check_slices(x)
        out = self.quantize(x)
        return self.decode_quantized(out["q_t"], out["q_b"]), out

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes ``(top (B, H/8, W/8), bottom (B, H/4, W/4))`` of normalised x."""
        check_slices(x)
        out = self.quantize(x)
        return out["codes_top"], out["codes_bottom"]

    # -- decoding -----------------------------------------------------------------
    def decode_quantized(self, q_t: torch.Tensor, q_b: torch.Tensor) -> torch.Tensor:
        return self.dec(torch.cat([self.up_t(q_t), q_b], dim=1))

    def decode_codes(self, codes_top: torch.Tensor, codes_bottom: torch.Tensor) -> torch.Tensor:
        """Normalised image (B, 1, H, W) from integer codes."""
        ht, wt = codes_top.shape[-2:]
        if (
            codes_bottom.shape[-2:] != (2 * ht, 2 * wt)
            or codes_bottom.shape[0] != codes_top.shape[0]
        ):
            raise ValueError(
                f"bottom codes {tuple(codes_bottom.shape)} must be (B, 2 Ht, 2 Wt) for top codes "
                f"{tuple(codes_top.shape)}"
            )
        return self.decode_quantized(
            self.quant_t.lookup(codes_top), self.quant_b.lookup(codes_bottom)
        )

    def usage(self) -> dict[str, float]:
        """Perplexity and used fraction of each codebook on the last batch."""
        return {
            "perplexity_top": self.quant_t.last_perplexity,
            "usage_top": self.quant_t.last_usage,
            "perplexity_bottom": self.quant_b.last_perplexity,
            "usage_bottom": self.quant_b.last_usage,
            "restarts_top": float(self.quant_t.last_restarts),
            "restarts_bottom": float(self.quant_b.last_restarts),
        }
