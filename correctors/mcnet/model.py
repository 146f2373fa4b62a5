"""MC-Net network: a 2D UNet (seed 001, Fig. 1) built from MONAI's ``BasicUNet``.

Reading of seed 001
-------------------
The abstract says only that MC-Net is "derived from UNet [7]" (Ronneberger et
al., MICCAI 2015) and "customized"; Fig. 1 (the architecture drawing) is not
in the text we have. The ``"paper"`` configuration therefore follows
Ronneberger's UNet: four 2x down-samplings, two 3x3 convolutions per level,
64-128-256-512-1024 channels, transposed-convolution up-sampling with skip
concatenation, a final 1x1 convolution to one channel. MONAI's ``BasicUNet``
is exactly that layout; it adds instance normalisation and LeakyReLU(0.1)
(MONAI defaults, kept because they make short trainings stable), where the
2015 UNet had no normalisation and ReLU.

Choices the abstract does not fix, documented here and switchable:

* ``residual=True``: the network predicts a correction added to its input
  (output = input + UNet(input)), with the last convolution initialised to
  zero so that training starts from the identity map. The seed's loss
  ("drive the network output to the reference") is unchanged; only the
  parametrisation differs. ``residual=False`` gives the plain UNet output.
* Intensity scaling: each input slice is divided by its own maximum before
  the network and the output multiplied back (:meth:`MCNet.correct`), so the
  same weights work for any intensity unit; training uses the same scaling
  (:func:`normalize_pair`) so losses are in units of the corrupted slice max.

Configurations (``CONFIGS``):

* ``"paper"``: features (64, 128, 256, 512, 1024), about 31 M parameters.
* ``"cpu"``: features (8, 16, 32, 64, 128), 0.49 M parameters: the
  documented CPU training configuration (``docs/correctors.md``); about
  0.2 s of CPU time per batch of 8 slices of 128x128 on one core.
* ``"tiny"``: features (4, 4, 8, 8, 16), for tests (seconds on a CPU).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from monai.networks.nets import BasicUNet
from torch import nn

__all__ = [
    "CONFIGS",
    "ModelConfig",
    "MCNet",
    "build_model",
    "count_parameters",
    "normalize_pair",
    "slice_scale",
]

#: Input height and width are zero-padded up to a multiple of this (4 poolings).
SIZE_MULTIPLE = 16


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of an MC-Net UNet.

    Parameters
    ----------
    features : tuple of 5 ints
        Channels at the five UNet levels (encoder); the decoder mirrors them
        and its last level uses ``features[0]`` channels.
    residual : bool
        Predict a correction added to the input (see module docstring).
    """

    features: tuple[int, int, int, int, int] = (8, 16, 32, 64, 128)
    residual: bool = True

    def __post_init__(self) -> None:
        if len(self.features) != 5 or any(int(f) < 1 for f in self.features):
            raise ValueError(f"features must be 5 positive ints, got {self.features}")

    def to_dict(self) -> dict:
        return {"features": list(self.features), "residual": self.residual}

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        unknown = set(d) - {"features", "residual"}
        if unknown:
            raise ValueError(f"unknown model config field(s) {sorted(unknown)}")
        return cls(features=tuple(int(f) for f in d["features"]), residual=bool(d["residual"]))


CONFIGS: dict[str, ModelConfig] = {
    "paper": ModelConfig(features=(64, 128, 256, 512, 1024)),
    "cpu": ModelConfig(features=(8, 16, 32, 64, 128)),
    "tiny": ModelConfig(features=(4, 4, 8, 8, 16)),
}


def slice_scale(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Per-slice intensity scale: max of |x| over (C, H, W), shape (N, 1, 1, 1).

    All-zero slices get scale 1 (so they map to zero, not to NaN).
    """
    s = x.abs().amax(dim=(-3, -2, -1), keepdim=True)
    return torch.where(s > eps, s, torch.ones_like(s))


def normalize_pair(
    corrupted: torch.Tensor, clean: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Divide both images of each pair by the corrupted slice's scale (what inference can see)."""
    s = slice_scale(corrupted)
    return corrupted / s, clean / s


class MCNet(nn.Module):
    """2D UNet motion corrector (seed 001).

    ``forward`` works in normalised units on (N, 1, H, W) tensors of any H, W
    (zero-padded to a multiple of 16 internally); :meth:`correct` takes images
    in their own intensity units.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or CONFIGS["cpu"]
        f = self.config.features
        self.unet = BasicUNet(spatial_dims=2, in_channels=1, out_channels=1, features=(*f, f[0]))
        if self.config.residual:
            # start at the identity map: output = input at step 0
            nn.init.zeros_(self.unet.final_conv.weight)
            nn.init.zeros_(self.unet.final_conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(f"MCNet takes (N, 1, H, W) tensors, got {tuple(x.shape)}")
        h, w = x.shape[-2:]
        ph = (-h) % SIZE_MULTIPLE
        pw = (-w) % SIZE_MULTIPLE
        xp = F.pad(x, (0, pw, 0, ph)) if ph or pw else x
        y = self.unet(xp)[..., :h, :w]
        return x + y if self.config.residual else y

    @torch.no_grad()
    def correct(self, x: torch.Tensor) -> torch.Tensor:
        """Correct (N, 1, H, W) slices given in any intensity unit."""
        s = slice_scale(x)
        return self(x / s) * s


def build_model(config: str | ModelConfig | dict = "cpu") -> MCNet:
    """An :class:`MCNet` from a configuration name (``CONFIGS``), object or dict."""
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ValueError(f"unknown model config {config!r}; expected one of {sorted(CONFIGS)}")
        config = CONFIGS[config]
    elif isinstance(config, dict):
        config = ModelConfig.from_dict(config)
    return MCNet(config)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
