"""The shipped qsmnet cpu weights exist, match their model card and correct a small phantom."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np

from correctors.common.checkpoints import file_sha256, shipped_weights_dir
from correctors.qsmnet.infer import correct_nifti, correct_volume, load_model
from mrsim.qsm.phantom import make_qsm_phantom


def test_shipped_weights_card():
    folder = shipped_weights_dir("qsmnet")
    card = json.loads((folder / "model_card.json").read_text())
    assert card["sha256"] == file_sha256(folder / "model.pt")
    for key in ("command", "recipe", "seeds", "data", "metrics", "mrsim_version"):
        assert card.get(key), key
    assert (folder / "model.pt").stat().st_size < 5_000_000


def test_shipped_weights_run_on_phantom(tmp_path):
    model = load_model()  # default: shipped, sha256-verified
    assert model.prenet is not None and model.voxel_size_mm == (3.0, 3.0, 6.0)
    ph = make_qsm_phantom((48, 48, 24), (3.0, 3.0, 6.0))
    chi = ph.chi_local_ppm.astype(np.float32)
    out = correct_volume(model, chi)
    assert out.shape == chi.shape and np.all(np.isfinite(out))
    # a motion-free chi map is changed by much less than the tissue contrast
    m = ph.mask
    assert np.sqrt(np.mean((out - chi)[m] ** 2)) < 0.5 * chi[m].std()
    aff = np.diag([3.0, 3.0, 6.0, 1.0])
    nib.save(nib.Nifti1Image(chi, aff), tmp_path / "chi.nii.gz")
    res = correct_nifti(None, tmp_path / "chi.nii.gz", tmp_path / "out.nii.gz")
    np.testing.assert_allclose(nib.load(tmp_path / "out.nii.gz").affine, aff)
    np.testing.assert_allclose(res, out, atol=1e-6)
