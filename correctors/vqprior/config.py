"""Configurations of the VQ prior corrector: model sizes and training schedule.

Three named model configs, as every corrector has (``docs/correctors.md``):
``tiny`` (tests, 32 x 32 toy images), ``cpu`` (about an hour of one CPU thread for
the VQ-VAE, both priors and the disentangled encoder on 128 x 128 slices) and
``paper`` (VQ-VAE-2's ImageNet-256 sizes scaled to 128 x 128 slices; seed 003
gives no sizes). All are plain dataclasses whose ``to_dict()`` is stored in every
checkpoint, so a checkpoint is loaded with ``weights_only=True``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

__all__ = ["VQConfig", "PriorConfig", "PhaseConfig", "TrainConfig", "model_config", "PHASES"]


@dataclass(frozen=True)
class VQConfig:
    """Two-level VQ-VAE-2: bottom codes at 1/4, top codes at 1/8 of the slice size."""

    channels: int = 48  # feature channels of the encoders/decoders
    res_layers: int = 1  # residual units per level
    res_channels: int = 24
    embedding_dim: int = 32  # code vector dimension d (both levels)
    num_codes_top: int = 256
    num_codes_bottom: int = 256
    commitment_cost: float = 0.25
    decay: float = 0.99
    restart_threshold: float = 0.5

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PriorConfig:
    """Autoregressive priors: a transformer over the top codes, a PixelCNN over the bottom."""

    top_dim: int = 64
    top_depth: int = 3
    top_heads: int = 4
    bottom_channels: int = 48
    bottom_layers: int = 5
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


_MODELS = {
    "tiny": (
        VQConfig(
            channels=8,
            res_layers=1,
            res_channels=8,
            embedding_dim=4,
            num_codes_top=16,
            num_codes_bottom=16,
        ),
        PriorConfig(
            top_dim=16, top_depth=1, top_heads=2, bottom_channels=16, bottom_layers=2, dropout=0.0
        ),
    ),
    "cpu": (VQConfig(), PriorConfig()),
    "paper": (
        VQConfig(
            channels=128,
            res_layers=2,
            res_channels=64,
            embedding_dim=64,
            num_codes_top=512,
            num_codes_bottom=512,
        ),
        PriorConfig(top_dim=512, top_depth=12, top_heads=8, bottom_channels=256, bottom_layers=20),
    ),
}


def model_config(name: str | dict) -> tuple[VQConfig, PriorConfig]:
    """``(VQConfig, PriorConfig)`` of a named config or of a ``{"vq": .., "prior": ..}`` dict."""
    if isinstance(name, dict):
        try:
            return VQConfig(**name["vq"]), PriorConfig(**name["prior"])
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"model config dict must be {{'vq': {{..}}, 'prior': {{..}}}} with "
                f"the fields of VQConfig / PriorConfig ({exc})"
            ) from None
    if name not in _MODELS:
        raise ValueError(f"unknown vqprior config {name!r}; expected one of {sorted(_MODELS)}")
    return _MODELS[name]


#: Training phases in order; each trains different modules (see train.py).
PHASES = ("vqvae", "prior_top", "prior_bottom", "disentangle")


@dataclass(frozen=True)
class PhaseConfig:
    name: str
    steps: int
    lr: float

    def __post_init__(self) -> None:
        if self.name not in PHASES:
            raise ValueError(f"phase name must be one of {PHASES}, got {self.name!r}")
        if self.steps < 0 or self.lr <= 0:
            raise ValueError(f"phase {self.name!r}: steps must be >= 0 and lr > 0")


def _default_phases() -> tuple[PhaseConfig, ...]:
    return (
        PhaseConfig("vqvae", 800, 1e-3),
        PhaseConfig("prior_top", 500, 5e-4),
        PhaseConfig("prior_bottom", 500, 1e-3),
        PhaseConfig("disentangle", 500, 5e-4),
    )


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (stored in checkpoints).

    The defaults are the documented CPU configuration (``docs/correctors.md``).
    ``shift_px``: random integer translations (a zero-background roll) of each
    training slice, the only augmentation. ``disentangle_latent_weight`` weighs the
    latent-matching term against the image L1 in the disentangled phase.
    """

    model: str | dict = "cpu"
    phases: tuple[PhaseConfig, ...] = field(default_factory=_default_phases)
    batch_size: int = 8
    seed: int = 0
    shift_px: int = 4
    disentangle_latent_weight: float = 1.0
    checkpoint_every: int = 100
    val_every: int = 250
    val_max_items: int = 64

    def __post_init__(self) -> None:
        names = [p.name for p in self.phases]
        if names != [n for n in PHASES if n in names]:
            raise ValueError(f"phases must be a subsequence of {PHASES} in that order, got {names}")

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["phases"] = [asdict(p) for p in self.phases]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["phases"] = tuple(PhaseConfig(**p) for p in d["phases"])
        return cls(**d)
