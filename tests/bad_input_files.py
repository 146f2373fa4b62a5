"""Input files for the bad-input table (tests/bad_input_cases.py): small volumes, motion files
in every layout the cases need, and a toy dataset with a missing and a damaged shard."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PACE = "pace.csv"


def _nii(path: Path, data: np.ndarray) -> None:
    import nibabel as nib

    nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))


def _rp(path: Path, rows) -> None:
    path.write_text("\n".join("  ".join(f"{v:.6g}" for v in r) for r in rows) + "\n")


TOY = """name = "toy_bom"
kind = "toy"
seed = 5
samples_per_shard = 4
[subjects]
n = 4
[split]
train = 2
val = 1
test = 1
[params]
samples_per_subject = 2
variants = ["rot"]
shape = [4, 8, 8]
"""


def make_inputs(d: Path) -> None:
    """Write every input the cases use into folder ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "examples" / "pace.csv", d / PACE)
    cube = np.zeros((16, 16, 16), np.float32)
    cube[4:12, 5:11, 3:13] = 1.0
    _nii(d / "cube.nii.gz", cube)
    tall = np.zeros((16, 300, 8), np.float32)
    tall[4:12, 40:260, 2:6] = 1.0
    _nii(d / "tall.nii.gz", tall)
    _nii(d / "cplx.nii.gz", (cube * np.exp(0.7j)).astype(np.complex64))
    _nii(d / "zero.nii.gz", np.zeros((16, 16, 16), np.float32))
    _nii(d / "tiny.nii.gz", np.ones((6, 6, 6), np.float32))
    _nii(d / "flat.nii.gz", np.ones((40, 40, 1), np.float32))
    hdr = "t_s,tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg\n"
    (d / "jittered.csv").write_text(hdr + "0,0,0,0,0,0,0\n0.5,1,0,0,0,0,0\n2.5,0,1,0,0,0,0\n")
    (d / "late.csv").write_text(hdr + "10,0,0,0,0,0,0\n12,1,0,0,0,0,0\n14,0,0,0,0,0,1\n")
    (d / "one.csv").write_text(hdr + "0,0.1,0,0,0,0,0\n")
    (d / "notime.csv").write_text(hdr[4:] + "0.1,0,0,0,0,0\n0,0,0,0,0,1\n")
    (d / "semi.csv").write_text(hdr.replace(",", ";") + "0;0;0;0;0;0;0\n")
    (d / "deg400.csv").write_text(hdr + "0,0,0,0,0,0,0\n1,0,0,0,0,400,0\n")
    (d / "metres.csv").write_text(hdr + "0,0,0,0,0,0,0\n1,0,0,5000,0,0,0\n")
    (d / "jump.csv").write_text(hdr + "0,0,0,0,0,0,0\n1,-12,0,0,0,0,0\n2,13,0,0,0,0,0\n")
    (d / "bom.csv").write_bytes(
        b"\xef\xbb\xbf"
        + (hdr + "0,0,0,0,0,0,0\n1,0.2,0,0,0,0,0\n2,0,0,0,0,0.1,0\n3,0,0,0,0,0,0\n")
        .replace("\n", "\r\n")
        .encode()
    )
    (d / "bom.toml").write_bytes(b"\xef\xbb\xbf" + TOY.encode())
    (d / "toy.toml").write_text(TOY)
    _rp(d / "rp_ok.txt", [[0, 0, 0, 0, 0, 0], [0.1, 0, 0, 0.001, 0, 0], [0, 0.2, 0, 0, 0, 0]])
    _rp(d / "rp_deg.txt", [[0, 0, 0, 0, 0, 0], [0.1, 0, 0, 0.5, 0.3, 0], [0, 0.2, 0, 1.2, 0, 0]])
    small = [[0, 0, 0, 0, 0, 0], [0.3, -0.2, 0.5, 0.3, -0.1, 0.2], [0.1, 0, 0.4, 0.25, 0, 0.1]]
    _rp(d / "rp_small_deg.txt", small)
    _rp(d / "rp_real.txt", [r[:3] + [v / 100 for v in r[3:]] for r in small])
    _rp(d / "rp_400.txt", [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 7.0]])
    _rp(d / "motion.txt", [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0.01]])
    _rp(d / "wide.par", [[0, 0, 0, 0, 0, 0], [0.6, 0, 0, 0, 0, 0]])
    import h5py

    with h5py.File(d / "plain.h5", "w") as f:
        f["x"] = np.arange(3)
    _datasets(d)


def _datasets(d: Path) -> None:
    from mrsim.dataset.build import build_dataset
    from mrsim.dataset.recipe import recipe_from_dict

    raw = {
        "name": "toy_errors",
        "kind": "toy",
        "seed": 5,
        "samples_per_shard": 4,
        "subjects": {"n": 4},
        "split": {"train": 2, "val": 1, "test": 1},
        "params": {"samples_per_subject": 2, "variants": ["rot"], "shape": [4, 8, 8]},
    }
    build_dataset(recipe_from_dict(raw), d / "ds_ok", progress=False)
    shutil.copytree(d / "ds_ok", d / "ds_missing")
    (d / "ds_missing" / "shards" / "shard-00001.h5").unlink()
    shutil.copytree(d / "ds_ok", d / "ds_damaged")
    shard = d / "ds_damaged" / "shards" / "shard-00000.h5"
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
