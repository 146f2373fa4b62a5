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


def _pace(tmp_path):
    from mrsim.motion.formats import write_trajectory
    from mrsim.motion.generators import pace_like

    path = tmp_path / "pace.csv"
    write_trajectory(pace_like(n=32, scale=4.0, duration_s=100.0, seed=5), path)
    return path


def test_corrupt_template_is_unchanged(tmp_path):
    # The static template path (--phantom template, the default of earlier versions, and
    # with the explicit --contrast static / --readout-axis 0) is corrupt() of the embedded
    # T1, bit for bit.
    from mrsim.io.nifti import voxel_size_mm
    from mrsim.kspace.corrupt import corrupt, orientation_from_affine
    from mrsim.kspace.schedule import mprage_schedule
    from mrsim.motion.formats import read_trajectory
    from mrsim.phantoms.mni152 import load_mni152

    traj = _pace(tmp_path)
    base = ["corrupt", "--trajectory", str(traj), "--matrix", "24", "--mapping", "stretch"]
    assert main(base + ["--phantom", "template", "-o", str(tmp_path / "a")]) == 0
    extra = ["--phantom", "template", "--contrast", "static", "--readout-axis", "0"]
    assert main(base + extra + ["-o", str(tmp_path / "b")]) == 0
    a, _ = load_volume(tmp_path / "a" / "corrupted.nii.gz")
    b, _ = load_volume(tmp_path / "b" / "corrupted.nii.gz")
    np.testing.assert_array_equal(a, b)
    t1, aff = load_mni152("t1", shape=(256, 256, 176))
    ref = corrupt(
        t1,
        read_trajectory(traj),
        mprage_schedule((24, 24, 24)),
        voxel_size_mm(aff),
        orientation=orientation_from_affine(aff),
        mapping="stretch",
        seed=0,
    )
    np.testing.assert_array_equal(a, ref.image)


def test_corrupt_head_echo_train(tmp_path):
    traj = _pace(tmp_path)
    base = ["corrupt", "--trajectory", str(traj), "--matrix", "22,32,32", "--mapping", "stretch"]
    out = tmp_path / "et"
    assert main(base + ["--phantom", "head", "--contrast", "echo-train", "-o", str(out)]) == 0
    info = json.loads((out / "corruption.json").read_text())
    assert info["settings"]["contrast"] == "echo-train"
    assert info["settings"]["lowrank_error_bound"] <= 1e-3
    assert 0 < info["ssim"] < 1
    st = tmp_path / "st"
    assert main(base + ["--phantom", "head", "--contrast", "static", "-o", str(st)]) == 0
    assert json.loads((st / "corruption.json").read_text())["settings"]["contrast"] == "static"
    rc = main(base + ["--phantom", "template", "--contrast", "echo-train"])
    assert rc != 0  # echo-train needs the head's tissue maps


def test_mcnet_recipe_head_echo_train(tmp_path):
    # recipe option: synthetic subjects from the head model with echo-train physics,
    # regenerated bit for bit and independent of the thread count
    import pytest

    from mrsim.dataset.build import build_dataset, regenerate_sample
    from mrsim.dataset.recipe import load_recipe, recipe_from_dict
    from mrsim.io.hdf5 import read_sample

    raw = load_recipe("mcnet_mprage", small=True).to_dict()
    raw.pop("small")
    raw["subjects"]["n"] = 3
    raw["params"].update(phantom="head", contrast="echo-train", shape=[32, 32, 32])
    recipe = recipe_from_dict(raw, source="head.toml")
    out = tmp_path / "ds"
    build_dataset(recipe, out, threads=1, progress=False)
    arrays, attrs = read_sample(out, 0)
    assert attrs["params"]["phantom"] == "head"
    assert arrays["clean"].shape == (4, 32, 32) and arrays["clean"].max() > 0
    sample, stored, _ = regenerate_sample(out, 1, threads=3)
    assert stored["corrupted"].tobytes() == sample.arrays["corrupted"].tobytes()
    bad = dict(raw, params=dict(raw["params"], phantom="template"))
    with pytest.raises(ValueError, match="params.contrast"):
        recipe_from_dict(bad, source="bad.toml")
