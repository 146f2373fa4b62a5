"""NIfTI I/O keeps data and affine and names the file in errors."""

import numpy as np
import pytest

from mrsim.io.nifti import axis_codes, load_volume, save_volume, voxel_size_mm


def test_round_trip_keeps_affine(tmp_path):
    data = np.random.default_rng(0).random((5, 6, 7)).astype(np.float32)
    affine = np.array([[0, 0, 1.5, -10], [-2.0, 0, 0, 20], [0, 3.0, 0, -5], [0, 0, 0, 1]])
    path = save_volume(tmp_path / "v.nii.gz", data, affine)
    back, aff = load_volume(path)
    np.testing.assert_array_equal(back, data)
    np.testing.assert_allclose(aff, affine)
    np.testing.assert_allclose(voxel_size_mm(aff), [2.0, 3.0, 1.5])
    assert axis_codes(aff) == ("P", "S", "R")  # axis 0 runs along -y
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary left behind


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.nii.gz"):
        load_volume(tmp_path / "missing.nii.gz")
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"not a nifti")
    with pytest.raises(ValueError, match="bad.nii.gz"):
        load_volume(bad)
    save_volume(tmp_path / "two_d.nii.gz", np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="expected a 3D volume"):
        load_volume(tmp_path / "two_d.nii.gz")
    nan = np.zeros((3, 3, 3), np.float32)
    nan[1, 1, 1] = np.nan
    save_volume(tmp_path / "nan.nii.gz", nan)
    with pytest.raises(ValueError, match="NaN"):
        load_volume(tmp_path / "nan.nii.gz")
