"""qsmnet: the QSM motion corrector of seed 002 (3D UNet + 2D PReNet on chi maps).

``python -m correctors.qsmnet train|eval|correct``; networks in :mod:`.model`, training in
:mod:`.train`, inference in :mod:`.infer`, metrics in :mod:`.evaluate`. See docs/correctors.md.
"""
