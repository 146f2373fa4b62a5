"""Torch SSIM (correctors.common.ssim) agrees with mrsim.metrics.ssim (DESIGN.md: 1e-5)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skimage.metrics import structural_similarity  # noqa: E402

from correctors.common.ssim import ssim_slices  # noqa: E402
from mrsim.metrics import ssim  # noqa: E402


def _pair(shape, seed):
    rng = np.random.default_rng(seed)
    ref = rng.random(shape) * 50.0
    img = ref + rng.normal(scale=8.0, size=shape)
    return ref, img


@pytest.mark.parametrize("shape", [(4, 16, 16), (3, 23, 31)])
def test_agrees_with_numpy_metric(shape):
    ref, img = _pair(shape, 1)
    dr = float(ref.max())  # the reference-volume convention
    t64 = ssim_slices(torch.from_numpy(ref), torch.from_numpy(img), dr).numpy()
    per_slice = [
        structural_similarity(ref[i], img[i], data_range=dr, win_size=7) for i in range(shape[0])
    ]
    np.testing.assert_allclose(t64, per_slice, atol=1e-10)
    assert abs(t64.mean() - ssim(ref, img)) < 1e-10
    t32 = ssim_slices(torch.from_numpy(ref).float(), torch.from_numpy(img).float(), dr)
    assert abs(float(t32.mean()) - ssim(ref, img)) < 1e-5


def test_per_slice_data_range_tensor():
    ref, img = _pair((2, 3, 12, 12), 2)
    dr = ref.reshape(2, -1).max(axis=1)  # one volume max per leading item
    t = ssim_slices(torch.from_numpy(ref), torch.from_numpy(img), torch.from_numpy(dr)[:, None])
    assert t.shape == (2, 3)
    for v in range(2):
        assert abs(float(t[v].mean()) - ssim(ref[v], img[v])) < 1e-10


def test_identical_is_one_and_errors():
    x = torch.rand(2, 10, 10, dtype=torch.float64)
    np.testing.assert_allclose(ssim_slices(x, x, 1.0).numpy(), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        ssim_slices(x, x[:, :9], 1.0)
    with pytest.raises(ValueError, match="smaller than"):
        ssim_slices(x[:, :5, :5], x[:, :5, :5], 1.0)
    with pytest.raises(ValueError, match="real"):
        ssim_slices(x.to(torch.complex128), x.to(torch.complex128), 1.0)
