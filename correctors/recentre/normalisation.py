"""Input/target normalisation of motion windows for the recentre predictor.

Two modes, chosen by ``relative``:

* ``relative=True`` (default): every window is expressed relative to its last input
  pose (parameter differences, :func:`mrsim.motion.windows.relative_windows`), so the
  network sees the recent *shape* of the motion and predicts the next increment
  ``y - x_last``. The subject's absolute position, which says nothing about the next
  step, is removed. Each parameter is then divided by ``scale[j]``, the RMS of the
  one-step increments ``y_j - x_last,j`` over the training windows (mm or deg).
* ``relative=False``: absolute poses, ``(p - offset) / scale`` with ``offset`` and
  ``scale`` the per-parameter mean and standard deviation of the training poses.

Optionally (``per_window=True``, relative mode only; the recentre default) each window
is further divided by its own motion level ``s_w``: the RMS over its 13 increments and
6 parameters of the globally scaled increments, floored at ``window_floor``. With the
default floor of 1, windows moving less than the training average keep the global
scale and windows moving more are brought down to it, so the network does not have to
learn every motion magnitude separately (subjects differ by an order of magnitude in
FD); the predicted std scales with the window's own motion. The floor keeps a still
window from turning the next small step into a huge normalised target.

In all modes a normalised prediction ``(mu, sigma)`` maps back to physical units as
``mean = ref + unit * mu`` and ``std = unit * sigma``, with ``ref`` the last input
pose (relative) or ``offset`` (absolute) and ``unit = scale * s_w`` (``s_w = 1`` unless
``per_window``). Per-parameter scaling makes the six outputs comparable in the NLL
whatever their units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mrsim.motion.windows import relative_windows

__all__ = ["Normaliser"]

# Floor on a scale (mm or deg) so a parameter that never moves in training does not
# divide by zero; far below any realignment precision.
_MIN_SCALE = 1e-6


@dataclass
class Normaliser:
    """Per-parameter scaling of windows; see the module docstring.

    Attributes
    ----------
    scale : ndarray, shape (6,)
        mm for translations, deg for rotations.
    offset : ndarray, shape (6,)
        Zero in relative mode.
    relative : bool
    """

    scale: np.ndarray
    offset: np.ndarray
    relative: bool = True
    per_window: bool = False
    window_floor: float = 1.0

    def __post_init__(self) -> None:
        if self.per_window and not self.relative:
            raise ValueError("per_window scaling needs relative=True")
        if not self.window_floor > 0:
            raise ValueError(f"window_floor must be > 0, got {self.window_floor}")

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        relative: bool = True,
        per_window: bool = False,
        window_floor: float = 1.0,
    ) -> Normaliser:
        """Estimate the scaling from training windows ``X (W, n_past, 6)``, ``y (W, 6)``."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if X.ndim != 3 or X.shape[-1] != 6 or y.shape != (X.shape[0], 6) or len(y) == 0:
            raise ValueError(
                f"expected non-empty X (W, n_past, 6) and y (W, 6), got {X.shape}, {y.shape}"
            )
        if relative:
            inc = y - X[:, -1]
            scale = np.sqrt(np.mean(inc**2, axis=0))
            offset = np.zeros(6)
        else:
            allp = np.concatenate([X.reshape(-1, 6), y])
            offset = allp.mean(axis=0)
            scale = allp.std(axis=0)
        return cls(
            np.maximum(scale, _MIN_SCALE),
            offset,
            bool(relative),
            bool(per_window),
            float(window_floor),
        )

    def reference(self, X: np.ndarray) -> np.ndarray:
        """The pose ``ref (W, 6)`` that normalised values are measured from."""
        X = np.asarray(X, dtype=np.float64)
        if self.relative:
            return X[:, -1, :].copy()
        return np.broadcast_to(self.offset, (X.shape[0], 6)).copy()

    def transform(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        """Normalise windows.

        Returns
        -------
        Xn : ndarray, shape (W, n_past, 6)
        yn : ndarray, shape (W, 6) or None
        ref : ndarray, shape (W, 6)
            Pose that normalised values are measured from (mm, deg).
        unit : ndarray, shape (W, 6)
            Physical size (mm, deg) of one normalised unit, per window and parameter.
        """
        X = np.asarray(X, dtype=np.float64)
        if self.relative:
            Xr, yr, ref = relative_windows(X, y, reference="last")
        else:
            ref = self.reference(X)
            Xr = X - self.offset
            yr = None if y is None else np.asarray(y, dtype=np.float64) - self.offset
        unit = np.broadcast_to(self.scale, ref.shape).copy()
        if self.per_window:
            inc = np.diff(Xr, axis=1) / self.scale
            s_w = np.sqrt(np.mean(inc**2, axis=(1, 2))) if inc.shape[1] else np.ones(len(X))
            unit *= np.maximum(s_w, self.window_floor)[:, None]
        Xn = Xr / unit[:, None, :]
        yn = None if yr is None else yr / unit
        return Xn, yn, ref, unit

    def inverse(
        self, mu: np.ndarray, sigma: np.ndarray, ref: np.ndarray, unit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Map a normalised Gaussian prediction back to mm/deg: ``(mean, std)``."""
        return ref + unit * np.asarray(mu), unit * np.asarray(sigma)

    def to_dict(self) -> dict:
        return {
            "scale": [float(v) for v in self.scale],
            "offset": [float(v) for v in self.offset],
            "relative": bool(self.relative),
            "per_window": bool(self.per_window),
            "window_floor": float(self.window_floor),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Normaliser:
        try:
            return cls(
                np.asarray(d["scale"], dtype=np.float64),
                np.asarray(d["offset"], dtype=np.float64),
                bool(d["relative"]),
                bool(d["per_window"]),
                float(d["window_floor"]),
            )
        except KeyError as exc:
            raise ValueError(f"normaliser record lacks field {exc}") from None
