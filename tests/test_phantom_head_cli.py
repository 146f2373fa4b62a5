"""``mrsim phantom head`` writes the MP-RAGE head, its label map and the JSON sidecar."""

import json

import numpy as np

from mrsim.cli import main
from mrsim.io.nifti import load_volume
from mrsim.phantoms.head import HEAD_LABELS, make_head
from mrsim.signal.mprage import ADNI_3T


def test_phantom_head_cli(tmp_path):
    out, lab = tmp_path / "head.nii.gz", tmp_path / "labels.nii.gz"
    args = ["phantom", "head", "--shape", "44", "64", "64", "--voxel-size", "4"]
    assert main(args + ["-o", str(out), "--labels", str(lab)]) == 0
    img, aff = load_volume(out)
    labels, aff2 = load_volume(lab)
    ref = make_head((44, 64, 64), 4.0)
    np.testing.assert_allclose(img, np.abs(ref.mprage_image(ADNI_3T)), rtol=1e-6)
    np.testing.assert_array_equal(labels, ref.labels)
    np.testing.assert_allclose(aff, ref.affine)
    np.testing.assert_allclose(aff2, ref.affine)
    side = json.loads((tmp_path / "labels.json").read_text())
    assert side["labels"] == {str(v): k for k, v in HEAD_LABELS.items()}
    assert side["protocol"]["ti_centre_s"] == 0.9
    assert side["thickness_mm"]["diploe"] > 0


def test_labels_only_for_head(tmp_path, capsys):
    rc = main(["phantom", "mni152", "-o", str(tmp_path / "t1.nii.gz"), "--labels", "x.nii.gz"])
    assert rc != 0
    assert "--labels" in capsys.readouterr().err
