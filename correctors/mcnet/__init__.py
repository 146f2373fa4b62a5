"""MC-Net (seed 001): a 2D UNet motion corrector trained in two stages (L1, then L1 + TV).

Modules: :mod:`~correctors.mcnet.model` (network and configs),
:mod:`~correctors.mcnet.losses` (Eq. 1-2), :mod:`~correctors.mcnet.train`
(seeded, resumable two-stage training), :mod:`~correctors.mcnet.infer`
(slices, volumes, NIfTI), :mod:`~correctors.mcnet.evaluate` (metrics and the
seed's SSIM table), :mod:`~correctors.mcnet.data` (``mcnet_mprage`` HDF5
access). Command line: ``python -m correctors.mcnet train|eval|correct``.
See ``docs/correctors.md``.
"""
