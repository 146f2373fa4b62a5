"""Streaming one-step-ahead prediction for real-time use.

:class:`Predictor` keeps the last ``n_past`` poses and, on each new pose, returns the
Gaussian prediction (mean, std) of the *next* pose, in mm and deg. The cost per
update is one GRU forward pass on a single window (benchmarked in
``benchmarks/recentre_eval.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from correctors.recentre.model import RecentreGRU
from correctors.recentre.normalisation import Normaliser
from correctors.recentre.training import load_checkpoint, std_from_logvar

__all__ = ["Predictor"]


class Predictor:
    """Stateful next-pose predictor.

    Parameters
    ----------
    model : RecentreGRU
    normaliser : Normaliser

    Examples
    --------
    >>> pred = Predictor.from_checkpoint("recentre.pt")  # doctest: +SKIP
    >>> for pose in stream:  # doctest: +SKIP
    ...     mean, std = pred.update(pose)  # prediction of the next pose
    """

    def __init__(self, model: RecentreGRU, normaliser: Normaliser) -> None:
        self.model = model.eval()
        self.norm = normaliser
        self.n_past = model.config.n_past
        # the buffer doubles as the model's input tensor: no copy per update
        self._x = torch.zeros((1, self.n_past, 6), dtype=torch.float32)
        self._buf = np.zeros((self.n_past, 6), dtype=np.float64)
        self._count = 0

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> Predictor:
        model, norm, _ = load_checkpoint(path)
        return cls(model, norm)

    @property
    def ready(self) -> bool:
        """True once ``n_past`` poses have been seen (predictions are defined)."""
        return self._count >= self.n_past

    def reset(self) -> None:
        """Forget all poses (start of a new scan)."""
        self._buf[:] = 0.0
        self._count = 0

    def update(self, pose) -> tuple[np.ndarray, np.ndarray]:
        """Add the newest pose and predict the next one.

        Parameters
        ----------
        pose : array_like, shape (6,)
            ``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg``.

        Returns
        -------
        mean, std : ndarray, shape (6,)
            Predicted next pose and its standard deviation (mm, deg). Both are NaN
            until ``n_past`` poses have been seen (see :attr:`ready`): the model is
            never run on a partial window.
        """
        p = np.asarray(pose, dtype=np.float64)
        if p.shape != (6,) or not np.all(np.isfinite(p)):
            raise ValueError(
                "pose must be 6 finite values (tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, "
                f"rz_deg), got {np.asarray(pose)!r}"
            )
        self._buf[:-1] = self._buf[1:]
        self._buf[-1] = p
        self._count += 1
        if self._count < self.n_past:
            nan = np.full(6, np.nan)
            return nan, nan.copy()
        xn, _, ref, unit = self.norm.transform(self._buf[None])
        self._x.copy_(torch.from_numpy(xn.astype(np.float32)))
        with torch.inference_mode():
            mu, lv = self.model(self._x)
        mean, std = self.norm.inverse(
            mu.double().numpy(), std_from_logvar(lv, self.model.config), ref, unit
        )
        return mean[0], std[0]
