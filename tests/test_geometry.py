"""mrsim.geometry: the n // 2 centre, centred crop/pad, affines (against nibabel)."""

import nibabel as nib
import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.geometry import (
    centred_slices,
    crop_or_pad,
    fov_centre_world,
    orientation_from_affine,
    resampled_affine,
    voxel_size_from_affine,
    voxel_sizes,
    world_to_array,
)
from mrsim.kspace.fft import fft_centered


def test_crop_or_pad_keeps_the_dc_sample():
    x = np.arange(6 * 5).reshape(6, 5).astype(float)
    for shape in ((8, 7), (4, 3), (6, 5), (9, 4)):
        y = crop_or_pad(x, shape)
        assert y.shape == shape
        # the centre sample n // 2 stays at the centre
        assert y[shape[0] // 2, shape[1] // 2] == x[3, 2]
    # pad then crop is the identity
    np.testing.assert_array_equal(crop_or_pad(crop_or_pad(x, (11, 10)), x.shape), x)
    # a zero-padded spectrum is the same band-limited image on a finer grid (DC kept)
    k = fft_centered(np.ones((6, 6)))
    assert crop_or_pad(k, (10, 10))[5, 5] == k[3, 3]
    sl_in, sl_out = centred_slices((5,), (8,))
    assert sl_in == (slice(0, 5),) and sl_out == (slice(2, 7),)


def test_affine_helpers_agree_with_nibabel():
    A = nib.affines.from_matvec(
        np.array([[0.0, 0.0, -2.0], [1.2, 0.0, 0.0], [0.0, 1.2, 0.0]]), [5, -3, 8]
    )
    np.testing.assert_allclose(voxel_size_from_affine(A), nib.affines.voxel_sizes(A))
    D = orientation_from_affine(A)
    np.testing.assert_allclose(D.T @ D, np.eye(3), atol=1e-12)
    assert nib.aff2axcodes(A) == ("A", "S", "L")  # a sagittal grid
    # a world vector in array components, and back
    w = np.array([0.3, -0.4, 0.866])
    np.testing.assert_allclose(D @ world_to_array(w, D), w)
    # FOV centre: voxel n // 2
    shape = (10, 9, 8)
    np.testing.assert_allclose(fov_centre_world(A, shape), nib.affines.apply_affine(A, [5, 4, 4]))


def test_resampled_affine_keeps_the_centre_voxel():
    A = np.diag([1.0, 1.0, 1.2, 1.0])
    A[:3, 3] = [-128, -110, -90]
    B = resampled_affine(A, (256, 220, 150), (128, 110, 75))
    np.testing.assert_allclose(B[:3, :3], np.diag([2.0, 2.0, 2.4]))
    np.testing.assert_allclose(
        nib.affines.apply_affine(B, [64, 55, 37]), nib.affines.apply_affine(A, [128, 110, 75])
    )


def test_bad_geometry_is_a_user_error():
    with pytest.raises(MrsimInputError, match="voxel_size_mm"):
        voxel_sizes((1.0, -1.0, 1.0))
    with pytest.raises(MrsimInputError, match="voxel_size_mm"):
        voxel_sizes((1.0, 1.0), 3)
    with pytest.raises(MrsimInputError, match="sheared"):
        orientation_from_affine(
            np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
        )
    with pytest.raises(MrsimInputError, match="4x4"):
        voxel_size_from_affine(np.eye(3))
