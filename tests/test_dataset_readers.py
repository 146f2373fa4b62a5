"""Torch readers over built datasets: slices, patches, split isolation, worker safety."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import h5py  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from correctors.common.readers import PatchDataset, SliceDataset  # noqa: E402
from mrsim.dataset.build import build_dataset  # noqa: E402
from mrsim.dataset.recipe import recipe_from_dict  # noqa: E402

RAW = {
    "name": "toy_readers",
    "kind": "toy",
    "seed": 5,
    "samples_per_shard": 4,
    "subjects": {"n": 5},
    "split": {"train": 3, "val": 1, "test": 1},
    "params": {"samples_per_subject": 2, "variants": ["rot", "rot_trans"], "shape": [5, 16, 12]},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("readers") / "ds"
    build_dataset(recipe_from_dict(RAW), out, progress=False)
    return out


def test_slice_dataset_items_match_file(built):
    ds = SliceDataset(built, split="val", keys=("corrupted", "clean"))
    assert len(ds) == 1 * 2 * 2 * 5  # 1 subject x 2 samples x 2 variants x 5 slices
    x, y = ds[7]
    assert x.shape == (1, 16, 12) and x.dtype == torch.float32
    info = ds.info(7)
    with h5py.File(built / "dataset.h5", "r") as f:
        row = int(np.flatnonzero(f["index/sample"][()] == info["sample"])[0])
        np.testing.assert_array_equal(x[0].numpy(), f["data/corrupted"][row, info["slice"]])
        np.testing.assert_array_equal(y[0].numpy(), f["data/clean"][row, info["slice"]])
        assert f["index/split"].asstr()[row] == "val"


def test_splits_are_disjoint_by_subject(built):
    subjects = {
        s: set(SliceDataset(built, split=s).subjects.tolist()) for s in ("train", "val", "test")
    }
    assert len(subjects["train"]) == 3
    assert not subjects["train"] & subjects["val"]
    assert not subjects["train"] & subjects["test"]
    assert not subjects["val"] & subjects["test"]
    assert len(SliceDataset(built, split="all")) == 5 * 2 * 2 * 5


def test_variant_filter(built):
    ds = SliceDataset(built, split="train", variant="rot")
    assert {ds.info(i)["variant"] for i in range(len(ds))} == {"rot"}
    assert len(ds) == len(SliceDataset(built, split="train")) // 2
    with pytest.raises(ValueError, match="unknown variant"):
        SliceDataset(built, split="train", variant="nope")


def test_dataloader_with_workers_reads_everything_once(built):
    ds = SliceDataset(built, split="train")
    serial = torch.cat([ds[i][0] for i in range(len(ds))])
    dl = DataLoader(ds, batch_size=7, num_workers=2, shuffle=False)
    ds[0]  # the parent opened the file: workers must not reuse that handle
    batches = torch.cat([x for x, _ in dl])
    assert batches.shape == (len(ds), 1, 16, 12)
    assert torch.equal(batches[:, 0], serial)


def test_slice_axis_and_errors(built):
    ds = SliceDataset(built, split="test", axis=2)
    assert ds[0][0].shape == (1, 5, 16) and len(ds) == 4 * 12
    with pytest.raises(KeyError, match="no array"):
        SliceDataset(built, keys=("nope",))
    with pytest.raises(ValueError, match="split must be one of"):
        SliceDataset(built, split="training")
    with pytest.raises(FileNotFoundError, match="no dataset.h5"):
        SliceDataset(built / "shards")


def test_patch_dataset_tiles_cover_volume(built):
    ds = PatchDataset(built, split="val", patch_size=(4, 8, 8), stride=(4, 8, 8))
    # tiles per axis: 5 -> starts 0, 1; 16 -> 0, 8; 12 -> 0, 4 (last flush with the edge)
    assert len(ds) == 4 * 2 * 2 * 2
    x, y = ds[0]
    assert x.shape == (1, 4, 8, 8)
    covered = np.zeros((5, 16, 12), bool)
    for _, corner in ds.items[:8]:
        a, b, c = corner
        covered[a : a + 4, b : b + 8, c : c + 8] = True
    assert covered.all()
