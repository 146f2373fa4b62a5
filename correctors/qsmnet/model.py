"""QSM motion corrector networks (seed 002, Sec. 3.3 and Fig. 2): 3D UNet + 2D PReNet.

Reading of seed 002
-------------------
* **3D UNet**: "a fully convolutional network architecture backboned with a VGG
  network", 3x3x3 kernels, skip connections. Built here from MONAI's UNet blocks
  (``TwoConv`` = two 3x3x3 conv + activation per level, ``Down`` = 2x max-pool then
  ``TwoConv``, ``UpCat`` = transposed-conv up-sampling, concatenation with the skip,
  ``TwoConv``), i.e. a VGG encoder of stacked 3x3x3 convolutions. ReLU as VGG; no
  normalisation layer (the seed names none, and instance norm would make the output at
  one voxel depend on the whole patch; without it the receptive field is finite and
  tested). Down-sampling is isotropic 2x; the depth is a config entry.
* **PReNet** (Ren et al. 2019, "Progressive image deraining networks"), seed 002 Fig.
  2(b, c): per stage t, the stage input ``x0`` (the UNet output slice) is concatenated
  with the previous estimate ``x_{t-1}`` (``x_0 = x0``), then (1) a 3x3 conv + ReLU,
  (2) a convolutional LSTM whose hidden and cell states pass from stage to stage,
  (3) residual blocks (two 3x3 conv + ReLU, identity skip, ReLU after the sum, as the
  PReNet code), (4) a 3x3 output conv; ``x_t = x0 + f_out(...)`` (PReNet's residual on
  the stage input). The weights are shared by the T stages (progressive recursion).

Choices the seed does not fix, documented and switchable in the config:

* ``residual`` (UNet): output = input + UNet(input), last conv initialised to zero, so
  training starts from the identity map (a motion-free input is passed through).
  The PReNet output conv starts near zero (weights N(0, 0.01^2), bias 0), so the PReNet
  starts near the identity. With an exactly zero init it did not leave the identity: on the
  cpu data, after 300 steps at lr 1e-3, the validation L1 was 0.01594 with zero init and
  0.01524 with this one (identity: 0.01575).
* Intensity scaling: chi (ppm) is divided by the fixed ``CHI_SCALE_PPM = 0.1`` before
  the networks and multiplied back after (chi has both signs and an absolute unit, so
  no per-image max scaling).

Configurations (``UNET_CONFIGS`` / ``PRENET_CONFIGS``): ``paper`` (64-128-256-512,
4 levels; PReNet 32 channels, 5 residual blocks, T = 6 as Ren et al.), ``cpu``
(8-16-32, 3 levels; PReNet 16 channels, 2 blocks, T = 3) and ``tiny`` (tests).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from monai.networks.nets.basic_unet import Down, TwoConv, UpCat
from torch import nn

__all__ = [
    "CHI_SCALE_PPM",
    "UNET_CONFIGS",
    "PRENET_CONFIGS",
    "UNetConfig",
    "PReNetConfig",
    "UNet3D",
    "ConvLSTMCell",
    "PReNet",
    "build_unet",
    "build_prenet",
    "count_parameters",
    "unet_receptive_field",
]

#: Fixed chi scale (ppm) of the network input and output.
CHI_SCALE_PPM = 0.1

#: Std of the PReNet output-conv weights at initialisation (bias 0).
PRENET_OUT_INIT_STD = 0.01


@dataclass(frozen=True)
class UNetConfig:
    """3D UNet: channels per level (first = full resolution), residual output."""

    features: tuple[int, ...] = (8, 16, 32)
    residual: bool = True

    def __post_init__(self) -> None:
        if len(self.features) < 2 or any(int(f) < 1 for f in self.features):
            raise ValueError(f"features must be >= 2 positive ints, got {self.features}")

    @property
    def multiple(self) -> int:
        """Patch sizes must be multiples of this (one 2x pooling per level below the top)."""
        return 2 ** (len(self.features) - 1)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["features"] = list(self.features)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> UNetConfig:
        return cls(features=tuple(int(f) for f in d["features"]), residual=bool(d["residual"]))


@dataclass(frozen=True)
class PReNetConfig:
    """PReNet: feature channels, residual blocks, recursive stages T."""

    channels: int = 16
    n_resblocks: int = 2
    stages: int = 3

    def __post_init__(self) -> None:
        if self.channels < 1 or self.n_resblocks < 0 or self.stages < 1:
            raise ValueError(f"invalid PReNet config {self}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> PReNetConfig:
        return cls(**{k: int(v) for k, v in d.items()})


UNET_CONFIGS = {
    "tiny": UNetConfig(features=(4, 8)),
    "cpu": UNetConfig(features=(8, 16, 32)),
    "paper": UNetConfig(features=(64, 128, 256, 512)),
}
PRENET_CONFIGS = {
    "tiny": PReNetConfig(channels=4, n_resblocks=1, stages=2),
    "cpu": PReNetConfig(channels=16, n_resblocks=2, stages=3),
    "paper": PReNetConfig(channels=32, n_resblocks=5, stages=6),
}

_ACT = ("relu", {"inplace": False})


class UNet3D(nn.Module):
    """VGG-style 3D UNet on ``(N, 1, X, Y, Z)`` chi patches (ppm / ``CHI_SCALE_PPM``).

    Each spatial size must be a multiple of ``config.multiple``.
    """

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        f = config.features
        self.inc = TwoConv(3, 1, f[0], _ACT, None, True)
        self.downs = nn.ModuleList(
            Down(3, f[i], f[i + 1], _ACT, None, True) for i in range(len(f) - 1)
        )
        self.ups = nn.ModuleList(
            UpCat(3, f[i + 1], f[i], f[i], _ACT, None, True, halves=True, is_pad=False)
            for i in reversed(range(len(f) - 1))
        )
        self.out = nn.Conv3d(f[0], 1, kernel_size=1)
        if config.residual:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.config.multiple
        if any(s % m for s in x.shape[2:]):
            raise ValueError(
                f"UNet3D input spatial shape {tuple(x.shape[2:])} not a multiple of {m}"
            )
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        h = skips.pop()
        for up in self.ups:
            h = up(h, skips.pop())
        y = self.out(h)
        return x + y if self.config.residual else y


def unet_receptive_field(config: UNetConfig) -> int:
    """Receptive-field width (voxels) of one output voxel of :class:`UNet3D`.

    Two 3x3 convs per level add ``2 * 2 * 2^i`` at level i on the way down and (for
    levels above the bottom) again on the way up; each 2x pooling adds ``2^i``; the
    2x transposed conv (kernel 2, stride 2) and the 1x1 output conv add nothing.
    """
    n = len(config.features)
    down = sum(4 * 2**i for i in range(n))
    pools = sum(2**i for i in range(n - 1))
    up = sum(4 * 2**i for i in range(n - 1))
    return 1 + down + pools + up


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell (Shi et al. 2015), as used in PReNet.

    ``i, f, g, o = conv([x, h])`` (one 3x3 conv with ``4 C`` outputs, split in this
    order); ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``, ``h' = sigmoid(o) tanh(c')``.
    """

    def __init__(self, in_channels: int, hidden: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.hidden = hidden
        self.conv = nn.Conv2d(
            in_channels + hidden, 4 * hidden, kernel_size, padding=kernel_size // 2
        )

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if state is None:
            z = x.new_zeros(x.shape[0], self.hidden, *x.shape[2:])
            state = (z, z)
        h, c = state
        i, f, g, o = torch.chunk(self.conv(torch.cat([x, h], dim=1)), 4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class _ResBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + torch.relu(self.c2(torch.relu(self.c1(x)))))


class PReNet(nn.Module):
    """Progressive recurrent denoiser on ``(N, 1, H, W)`` slices (seed 002 Fig. 2b, c)."""

    def __init__(self, config: PReNetConfig) -> None:
        super().__init__()
        self.config = config
        ch = config.channels
        self.f_in = nn.Conv2d(2, ch, 3, padding=1)
        self.lstm = ConvLSTMCell(ch, ch)
        self.res = nn.Sequential(*(_ResBlock(ch) for _ in range(config.n_resblocks)))
        self.f_out = nn.Conv2d(ch, 1, 3, padding=1)
        # near-identity start; an exactly zero output conv stayed stuck at the identity
        nn.init.normal_(self.f_out.weight, std=PRENET_OUT_INIT_STD)
        nn.init.zeros_(self.f_out.bias)

    def forward(self, x0: torch.Tensor, return_stages: bool = False):
        x, state, stages = x0, None, []
        for _ in range(self.config.stages):
            h = torch.relu(self.f_in(torch.cat([x0, x], dim=1)))
            state = self.lstm(h, state)
            x = x0 + self.f_out(self.res(state[0]))
            stages.append(x)
        return stages if return_stages else x


def build_unet(config: str | dict | UNetConfig = "cpu") -> UNet3D:
    """UNet3D from a config name, dict or :class:`UNetConfig`."""
    return UNet3D(_resolve(config, UNET_CONFIGS, UNetConfig))


def build_prenet(config: str | dict | PReNetConfig = "cpu") -> PReNet:
    """PReNet from a config name, dict or :class:`PReNetConfig`."""
    return PReNet(_resolve(config, PRENET_CONFIGS, PReNetConfig))


def _resolve(config, table: dict, cls):
    if isinstance(config, cls):
        return config
    if isinstance(config, str):
        if config not in table:
            raise ValueError(f"unknown config {config!r}; choose from {sorted(table)}")
        return table[config]
    if isinstance(config, dict):
        return cls.from_dict(config)
    raise TypeError(f"config must be a name, dict or {cls.__name__}, got {type(config).__name__}")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
