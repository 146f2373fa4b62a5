"""RECENTRE-style one-step-ahead head-motion predictor (seed 000).

A GRU reads the last 14 poses (6 rigid parameters each, mm and deg) and predicts the
next pose with a Gaussian uncertainty per parameter; it is trained with
``NLL - beta * FD_gain`` and compared with numpy baselines on the same windows and
metrics.

Torch-free modules: :mod:`.normalisation`, :mod:`.baselines`, :mod:`.metrics`.
Torch modules: :mod:`.model`, :mod:`.losses`, :mod:`.training`, :mod:`.predictor`.
Command line: ``python -m correctors.recentre train|eval|predict``.

References
----------
.. [1] Annovi A. et al., "Real-Time Motion Correction in Magnetic Resonance
   Spectroscopy: AI solution inspired by fundamental science", EuCAIFCon 2025 (seed 000).
"""
