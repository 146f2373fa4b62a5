"""``mrsim qsm simulate`` / ``mrsim qsm recon`` end to end on a small grid."""

import json

import nibabel as nib
import numpy as np
import pytest

from mrsim.cli import main


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("qsm_sim")
    args = "qsm simulate --motion-seed 1 --shape 40 40 40 --voxel-size 5 --n-echoes 6"
    rc = main(args.split() + ["--mixing", "approx", "-o", str(out)])
    assert rc == 0
    return out


def test_simulate_outputs(simulated):
    out = simulated
    prm = json.loads((out / "params.json").read_text())
    assert prm["mixing"] == "approx" and len(prm["te_s"]) == 6 and prm["n_states"] >= 2
    clean = nib.load(out / "clean_phase.nii.gz").get_fdata()
    corr = nib.load(out / "corrupted_phase.nii.gz").get_fdata()
    assert clean.shape == corr.shape == (40, 40, 40, 6)
    assert np.abs(clean).max() <= np.pi + 1e-4
    mag_c = nib.load(out / "clean_mag.nii.gz").get_fdata()
    mag_m = nib.load(out / "corrupted_mag.nii.gz").get_fdata()
    assert np.linalg.norm(mag_m - mag_c) > 0.02 * np.linalg.norm(mag_c)  # motion did something
    for name in ("mask.nii.gz", "chi_true.nii.gz", "motion.csv", "qsm_simulate.png"):
        assert (out / name).exists()


def test_recon_with_reference(simulated, tmp_path):
    out = simulated
    nrmse = {}
    for which in ("clean", "corrupted"):
        rc = main(
            [
                "qsm",
                "recon",
                "--mag",
                str(out / f"{which}_mag.nii.gz"),
                "--phase",
                str(out / f"{which}_phase.nii.gz"),
                "--params",
                str(out / "params.json"),
                "--mask",
                str(out / "mask.nii.gz"),
                "--reference",
                str(out / "chi_true.nii.gz"),
                "--inversion",
                "tkd",
                "-o",
                str(tmp_path / which),
            ]
        )
        assert rc == 0
        nrmse[which] = json.loads((tmp_path / which / "metrics.json").read_text())["nrmse_pct"]
        chi = nib.load(tmp_path / which / "chi_ppm.nii.gz").get_fdata()
        assert chi.shape == (40, 40, 40) and np.isfinite(chi).all()
    assert nrmse["clean"] < 80  # measured 68 % (5 mm voxels, 6 echoes)
    assert nrmse["corrupted"] > nrmse["clean"]  # measured 72.7 % vs 68.9 %


def test_cli_errors(simulated, tmp_path, capsys):
    bad = tmp_path / "bad_phase.nii.gz"
    nib.save(nib.Nifti1Image(np.full((4, 4, 4, 2), 100.0, np.float32), np.eye(4)), bad)
    mag = tmp_path / "mag.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 4, 2), np.float32), np.eye(4)), mag)
    rc = main(
        [
            "qsm",
            "recon",
            "--mag",
            str(mag),
            "--phase",
            str(bad),
            "--te",
            "0.005",
            "0.01",
            "-o",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 2
    assert "bad_phase.nii.gz" in capsys.readouterr().err
    rc = main(["qsm", "simulate", "--motion", "x.csv", "--motion-seed", "1", "-o", str(tmp_path)])
    assert rc == 2
    rc = main(["qsm", "recon", "--mag", str(mag), "--phase", str(mag), "-o", str(tmp_path)])
    assert rc == 2 and "--te" in capsys.readouterr().err


def test_simulate_from_real_mgre_files(simulated, tmp_path):
    """Magnitude + phase NIfTIs go through the same (approx) motion code."""
    out = simulated
    te = json.loads((out / "params.json").read_text())["te_s"]
    args = ["qsm", "simulate", "--mag", str(out / "clean_mag.nii.gz"), "--phase"]
    args += [str(out / "clean_phase.nii.gz"), "--te", *map(str, te), "--motion-seed", "2"]
    assert main(args + ["-o", str(tmp_path)]) == 0
    clean = nib.load(tmp_path / "clean_mag.nii.gz").get_fdata()
    np.testing.assert_allclose(clean, nib.load(out / "clean_mag.nii.gz").get_fdata(), atol=1e-5)
    corr = nib.load(tmp_path / "corrupted_mag.nii.gz").get_fdata()
    assert np.linalg.norm(corr - clean) > 0.02 * np.linalg.norm(clean)
    assert main(args + ["--mixing", "exact", "-o", str(tmp_path / "x")]) == 2  # no chi map
