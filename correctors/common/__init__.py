"""Shared PyTorch pieces of the correctors: HDF5 readers (``readers``), SSIM (``ssim``)."""
