"""GRU pose predictor with a Gaussian output (seed 000, Sec. 2).

Architecture (defaults): the 14 normalised past poses are grouped in 7 steps of two
consecutive samples (seed 000 Fig. 1), so the GRU reads a sequence of 7 vectors of
12 values. A 2-layer GRU (hidden 128) is followed by LayerNorm, a fully connected
layer (128 -> 800) with GELU, and a fully connected output layer (800 -> 12) giving
the mean and log-variance of each of the 6 parameters (normalised units).

Trainable parameters with the defaults (:func:`count_parameters`):

====================  ========
GRU layer 1 (12->128)   54,528
GRU layer 2 (128->128)  99,072
LayerNorm(128)             256
Linear 128 -> 800      103,200
Linear 800 -> 12         9,612
total                  266,668
====================  ========

Seed 000 states "a GRU layer with hidden size 128, followed by normalization,
non-linear activations and two fully connected layers ... approximately 270k"
parameters without giving the split; a single GRU layer would leave ~215k for the
two FC layers, so we use two stacked GRU layers and an 800-wide FC layer to match
the stated size (266,668 ~ 270k).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["RecentreConfig", "RecentreGRU", "count_parameters"]


@dataclass
class RecentreConfig:
    """Model and training settings (stored in checkpoints).

    Attributes
    ----------
    n_past : int
        Input samples per window (seed 000: 14).
    points_per_step : int
        Samples grouped into one GRU step (seed 000: 2, giving 7 steps).
    hidden : int
        GRU hidden size (seed 000: 128).
    num_layers : int
        Stacked GRU layers.
    fc_hidden : int
        Width of the first fully connected layer.
    dropout : float
        Dropout before the output layer.
    relative : bool
        Normalise relative to the last input pose (see ``normalisation``).
    per_window : bool
        Also divide each window by its own motion level (see ``normalisation``).
    window_floor : float
        Floor of that per-window level (units of the global scale).
    beta : float
        Weight of the FD_gain term in the loss (seed 000 Eq. 4: 0.1).
    fd_floor_mm : float
        Floor on FD_total in the loss's FD_gain denominator (mm); see ``losses``.
    var_floor : float
        Floor added to the predicted variance (normalised units) in the loss and at
        inference; see ``losses.predictive_variance``. 0 reproduces the original model.
    temperature : list of 6 floats
        Post-hoc per-parameter std multipliers fitted on validation data
        (``calibration.fit_temperature``); 1 means uncalibrated.
    logvar_min, logvar_max : float
        Clamp of the normalised log-variance.
    lr, batch_size, max_epochs, patience, weight_decay : training settings.
    seed : int
        Torch seed for initialisation and shuffling.
    """

    n_past: int = 14
    points_per_step: int = 2
    hidden: int = 128
    num_layers: int = 2
    fc_hidden: int = 800
    dropout: float = 0.1
    relative: bool = True
    per_window: bool = True
    window_floor: float = 1.0
    beta: float = 0.1
    fd_floor_mm: float = 0.01
    var_floor: float = 0.0
    temperature: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    logvar_min: float = -12.0
    logvar_max: float = 8.0
    lr: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 60
    patience: int = 8
    weight_decay: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_past < 1 or self.points_per_step < 1 or self.n_past % self.points_per_step:
            raise ValueError(
                f"n_past ({self.n_past}) must be a positive multiple of points_per_step "
                f"({self.points_per_step})"
            )
        if self.logvar_min >= self.logvar_max:
            raise ValueError("logvar_min must be < logvar_max")
        if self.var_floor < 0:
            raise ValueError(f"var_floor must be >= 0, got {self.var_floor}")
        self.temperature = tuple(float(v) for v in self.temperature)
        if len(self.temperature) != 6 or not all(v > 0 for v in self.temperature):
            raise ValueError(f"temperature must be 6 positive numbers, got {self.temperature}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["temperature"] = list(self.temperature)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RecentreConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown recentre config fields: {sorted(unknown)}")
        return cls(**d)


class RecentreGRU(nn.Module):
    """GRU -> LayerNorm -> FC -> GELU -> FC, outputting mean and log-variance.

    Input ``x`` (B, n_past, 6) normalised poses; output ``(mu, logvar)`` each (B, 6),
    normalised units.
    """

    def __init__(self, config: RecentreConfig | None = None) -> None:
        super().__init__()
        self.config = config or RecentreConfig()
        c = self.config
        self.n_steps = c.n_past // c.points_per_step
        self.gru = nn.GRU(
            input_size=6 * c.points_per_step,
            hidden_size=c.hidden,
            num_layers=c.num_layers,
            batch_first=True,
        )
        self.norm = nn.LayerNorm(c.hidden)
        self.fc1 = nn.Linear(c.hidden, c.fc_hidden)
        self.act = nn.GELU()
        self.drop = nn.Dropout(c.dropout)
        self.fc2 = nn.Linear(c.fc_hidden, 12)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        if x.ndim != 3 or x.shape[1] != c.n_past or x.shape[2] != 6:
            raise ValueError(f"expected input (B, {c.n_past}, 6), got {tuple(x.shape)}")
        # seed 000 Fig. 1: 7 sequences of two consecutive points each
        seq = x.reshape(x.shape[0], self.n_steps, 6 * c.points_per_step)
        out, _ = self.gru(seq)
        h = self.norm(out[:, -1])
        z = self.fc2(self.drop(self.act(self.fc1(h))))
        mu, raw = z[:, :6], z[:, 6:]
        logvar = torch.clamp(raw, c.logvar_min, c.logvar_max)
        return mu, logvar


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
