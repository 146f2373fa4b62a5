"""mrsim.metrics against analytic values and the documented convention."""

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from mrsim import metrics


def test_ssim_constant_images_analytic():
    # Two constant images a, b: variances and covariance vanish, so with a uniform
    # window SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = (K1 L)^2, L = data_range.
    a, b, L = 1.0, 0.8, 1.0
    ref = np.full((4, 20, 20), a)
    img = np.full((4, 20, 20), b)
    c1 = (0.01 * L) ** 2
    expected = (2 * a * b + c1) / (a**2 + b**2 + c1)
    assert metrics.ssim(ref, img) == pytest.approx(expected, rel=1e-12)


def test_ssim_uses_volume_max_and_averages_slices():
    rng = np.random.default_rng(0)
    ref = rng.random((8, 32, 32))
    ref[0] *= 0.2  # slice 0 has a much smaller max than the volume
    img = ref + 0.05 * rng.standard_normal(ref.shape)
    dr = ref.max()
    per_slice = [structural_similarity(ref[i], img[i], data_range=dr, win_size=7) for i in range(8)]
    assert metrics.ssim(ref, img) == pytest.approx(np.mean(per_slice), rel=1e-12)
    # slicing along another axis is a different (documented) average
    per_slice2 = [
        structural_similarity(ref[:, :, j], img[:, :, j], data_range=dr, win_size=7)
        for j in range(32)
    ]
    assert metrics.ssim(ref, img, axis=2) == pytest.approx(np.mean(per_slice2), rel=1e-12)


def test_ssim_identical_is_one_and_mask():
    rng = np.random.default_rng(1)
    ref = rng.random((2, 24, 24))
    assert metrics.ssim(ref, ref) == pytest.approx(1.0)
    mask = np.zeros(ref.shape, bool)
    mask[:, 8:16, 8:16] = True
    assert metrics.ssim(ref, ref, mask=mask) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no voxel"):
        metrics.ssim(ref, ref, mask=np.zeros_like(mask))


def test_psnr_rmse_nrmse_hand_computed():
    ref = np.zeros((4, 4, 4))
    ref[0, 0, 0] = 2.0
    img = ref + 0.1
    assert metrics.rmse(ref, img) == pytest.approx(0.1)
    assert metrics.psnr(ref, img) == pytest.approx(10 * np.log10(4.0 / 0.01))
    assert metrics.nrmse(ref, img) == pytest.approx(0.1 / 2.0)
    # euclidean: ||0.1 * ones(64)|| / ||ref|| = 0.1 * 8 / 2
    assert metrics.nrmse(ref, img, normalization="euclidean") == pytest.approx(0.4)
    assert metrics.psnr(ref, ref) == np.inf


def test_hfen_zero_and_linear():
    rng = np.random.default_rng(2)
    ref = rng.random((20, 20, 20))
    assert metrics.hfen(ref, ref) == 0.0
    # LoG is linear: LoG(2 ref) - LoG(ref) = LoG(ref), so HFEN = 1 exactly.
    assert metrics.hfen(ref, 2 * ref) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda r: r[:-1], "shape"),
        (lambda r: r + 0j, "real"),
        (lambda r: np.where(r > 0.5, np.nan, r), "NaN"),
    ],
)
def test_metrics_reject_bad_input(bad, match):
    ref = np.random.default_rng(3).random((3, 10, 10))
    with pytest.raises(ValueError, match=match):
        metrics.psnr(ref, bad(ref))
