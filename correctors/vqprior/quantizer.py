"""Vector quantiser with EMA codebook updates, dead-code restart and usage statistics.

Built on MONAI's :class:`monai.networks.layers.vector_quantizer.EMAQuantizer`
(nearest-code assignment, EMA of cluster sizes and sums with Laplace smoothing,
commitment loss, straight-through estimator). Added here:

* **dead-code restart**: after each training step, every code whose EMA cluster
  size fell below ``restart_threshold`` is moved onto a randomly chosen encoder
  output of the batch (VQ-VAE-2 practice; Dhariwal et al. 2020, Jukebox), its EMA
  statistics reset to one assignment, so a code stuck far from the data comes back;
* **usage and perplexity** of the last batch, ``exp(H(p))`` of the code frequencies
  ``p`` (the effective number of codes in use), for the training log.

References
----------
van den Oord et al., "Neural discrete representation learning", NeurIPS 2017.
Razavi, van den Oord, Vinyals, "Generating diverse high-fidelity images with
VQ-VAE-2", NeurIPS 2019 (the EMA update, Appendix of van den Oord 2017).
"""

from __future__ import annotations

import torch
from monai.networks.layers.vector_quantizer import EMAQuantizer

__all__ = ["RestartingEMAQuantizer", "code_perplexity"]


def code_perplexity(codes: torch.Tensor, num_codes: int) -> tuple[float, float]:
    """Perplexity ``exp(-sum p log p)`` and the fraction of codes used, of integer ``codes``."""
    counts = torch.bincount(codes.reshape(-1).long(), minlength=num_codes).double()
    p = counts / counts.sum().clamp_min(1.0)
    h = -(p * torch.log(p.clamp_min(1e-30))).sum()
    return float(torch.exp(h)), float((counts > 0).double().mean())


class RestartingEMAQuantizer(EMAQuantizer):
    """2D EMA vector quantiser (MONAI) plus dead-code restart and usage statistics.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
        Codebook size ``K`` and code dimension ``d``.
    commitment_cost : float
        ``beta`` of the commitment loss ``beta ||z_e - sg(e)||^2``.
    decay : float
        EMA decay ``gamma`` of cluster sizes and sums.
    restart_threshold : float
        Codes whose EMA cluster size is below this (in assignments per batch) are
        restarted on encoder outputs; 0 disables restarts.

    Notes
    -----
    ``forward(z)`` takes ``z`` of shape (B, d, H, W) and returns
    ``(quantized, commitment_loss, codes)``, codes of shape (B, H, W) int64;
    gradients pass straight through: ``quantized = z + sg(e_c - z)``.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        commitment_cost: float = 0.25,
        decay: float = 0.99,
        restart_threshold: float = 0.5,
    ) -> None:
        super().__init__(
            spatial_dims=2,
            num_embeddings=num_embeddings,
            embedding_dim=embedding_dim,
            commitment_cost=commitment_cost,
            decay=decay,
            ddp_sync=False,
        )
        self.restart_threshold = float(restart_threshold)
        self.last_perplexity = float("nan")
        self.last_usage = float("nan")
        self.last_restarts = 0

    def distances(self, z: torch.Tensor) -> torch.Tensor:
        """Squared distances ``||z_i - e_k||^2``, shape (B, H, W, K), of z (B, d, H, W)."""
        flat = z.permute(0, 2, 3, 1).float()
        w = self.embedding.weight
        return (flat**2).sum(-1, keepdim=True) + (w**2).sum(-1) - 2.0 * flat @ w.t()

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if inputs.ndim != 4 or inputs.shape[1] != self.embedding_dim:
            raise ValueError(
                f"quantiser input must be (B, {self.embedding_dim}, H, W), "
                f"got {tuple(inputs.shape)}"
            )
        quantized, loss, codes = super().forward(inputs)
        with torch.no_grad():
            self.last_perplexity, self.last_usage = code_perplexity(codes, self.num_embeddings)
            if self.training and self.restart_threshold > 0:
                self._restart_dead(inputs)
        return quantized, loss, codes

    @torch.no_grad()
    def _restart_dead(self, inputs: torch.Tensor) -> None:
        dead = torch.nonzero(self.ema_cluster_size < self.restart_threshold).reshape(-1)
        self.last_restarts = int(dead.numel())
        if dead.numel() == 0:
            return
        flat = inputs.detach().permute(0, 2, 3, 1).reshape(-1, self.embedding_dim).float()
        # torch's global generator: seeded by the training loop, saved in its checkpoints
        pick = torch.randint(0, flat.shape[0], (dead.numel(),), device=flat.device)
        new = flat[pick]
        self.embedding.weight.data[dead] = new
        self.ema_w.data[dead] = new
        self.ema_cluster_size.data[dead] = 1.0

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Code vectors of integer ``codes`` (B, H, W) as (B, d, H, W)."""
        if codes.dtype not in (torch.int64, torch.int32) or codes.ndim != 3:
            raise ValueError(
                f"codes must be an integer (B, H, W) tensor, got {codes.dtype} {tuple(codes.shape)}"
            )
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.num_embeddings):
            raise ValueError(
                f"codes must lie in [0, {self.num_embeddings}), got "
                f"[{int(codes.min())}, {int(codes.max())}]"
            )
        return self.embed(codes.long())
