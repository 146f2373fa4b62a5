"""Motion correction with a learned prior of clean images (seed 003).

A two-level VQ-VAE (VQ-VAE-2) of 2D MP-RAGE slices, autoregressive priors over its
codes trained on motion-free slices only, a coarse-to-fine code refinement under the
prior at inference, and the seed's disentangled variant (an encoder trained on
corrupted slices to land on the clean codebook). ``python -m correctors.vqprior
train|eval|correct``; see ``docs/correctors.md``.
"""

__all__ = ["config", "model", "quantizer", "prior", "refine", "corrector", "train", "data"]
