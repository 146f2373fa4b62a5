"""Input formats are read as data only (issue 20): NIfTI loading accepts NIfTI only."""

import nibabel as nib
import numpy as np
import pytest

from mrsim.io.nifti import load_volume


def test_other_nibabel_formats_are_not_read_as_nifti(tmp_path):
    arr = np.ones((4, 4, 4), np.float32)
    mgh = tmp_path / "vol.mgz"
    nib.save(nib.MGHImage(arr, np.eye(4)), str(mgh))
    assert isinstance(nib.load(str(mgh)), nib.MGHImage)  # nibabel alone would open it
    with pytest.raises(ValueError, match="vol.mgz: not a readable NIfTI file.*MGHImage"):
        load_volume(mgh)
    ok = tmp_path / "vol.nii.gz"
    nib.save(nib.Nifti1Image(arr, np.eye(4)), str(ok))
    data, _ = load_volume(ok)
    assert data.shape == (4, 4, 4)
