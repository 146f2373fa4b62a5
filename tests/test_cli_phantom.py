"""``mrsim phantom`` writes volumes with the right grid and affine."""

import numpy as np

from mrsim.cli import main
from mrsim.io.nifti import load_volume
from mrsim.phantoms.mni152 import load_mni152
from mrsim.phantoms.shepp_logan import shepp_logan_image


def test_phantom_mni152(tmp_path):
    out = tmp_path / "gm.nii.gz"
    assert (
        main(
            [
                "phantom",
                "mni152",
                "--kind",
                "gm",
                "--shape",
                "40",
                "48",
                "40",
                "--voxel-size",
                "4",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    data, affine = load_volume(out)
    ref, ref_aff = load_mni152("gm", shape=(40, 48, 40), voxel_size_mm=4)
    np.testing.assert_array_equal(data, ref)
    np.testing.assert_allclose(affine, ref_aff)


def test_phantom_shepp_logan_centred(tmp_path):
    out = tmp_path / "sl.nii.gz"
    assert (
        main(
            [
                "phantom",
                "shepp-logan",
                "--shape",
                "32",
                "32",
                "32",
                "--voxel-size",
                "2",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    data, affine = load_volume(out)
    np.testing.assert_allclose(data, shepp_logan_image((32, 32, 32), voxel_size_mm=2), atol=1e-6)
    # voxel n//2 is the world origin (the rotation centre of mrsim's motion model)
    np.testing.assert_allclose(affine @ [16, 16, 16, 1], [0, 0, 0, 1])
