"""MC-Net model: shapes, residual identity at initialisation, intensity scaling."""

import pytest

torch = pytest.importorskip("torch")

from correctors.mcnet.model import (  # noqa: E402
    CONFIGS,
    ModelConfig,
    build_model,
    count_parameters,
    normalize_pair,
)


def test_shapes_any_size_and_identity_at_init():
    torch.manual_seed(0)
    model = build_model("tiny").eval()
    x = torch.rand(3, 1, 37, 20)  # not multiples of 16: padded inside, cropped back
    with torch.no_grad():
        y = model(x)
    assert y.shape == x.shape
    # residual branch starts at zero: the untrained net is the identity
    assert torch.equal(y, x)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        model(torch.rand(1, 2, 16, 16))


def test_plain_unet_output_shape_and_correct_scales():
    torch.manual_seed(0)
    model = build_model(ModelConfig(features=(4, 4, 8, 8, 16), residual=False)).eval()
    x = torch.rand(2, 1, 32, 32)
    y = model.correct(x)
    assert y.shape == x.shape
    # correct() divides by the slice max and multiplies back: units do not matter
    # a power of two keeps x / max bit-identical, so the outputs scale exactly
    assert torch.equal(model.correct(256.0 * x), 256.0 * y)


def test_configs_and_errors():
    assert count_parameters(build_model("paper")) > 30_000_000  # Ronneberger widths
    assert count_parameters(build_model("tiny")) < 20_000
    assert build_model(CONFIGS["cpu"].to_dict()).config == CONFIGS["cpu"]
    with pytest.raises(ValueError, match="unknown model config"):
        build_model("huge")
    with pytest.raises(ValueError, match="5 positive ints"):
        ModelConfig(features=(4, 8))


def test_normalize_pair_uses_corrupted_max():
    c = torch.zeros(2, 1, 4, 4)
    c[0, 0, 1, 1] = 4.0  # second slice all zero: scale 1, no NaN
    r = torch.ones(2, 1, 4, 4)
    cn, rn = normalize_pair(c, r)
    assert float(cn[0].max()) == 1.0 and float(rn[0].max()) == 0.25
    assert torch.equal(rn[1], r[1])
