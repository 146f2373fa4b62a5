"""qsmnet between stages: UNet outputs streamed to unet_outputs.h5, resumable, read per slice."""

from __future__ import annotations

import tracemalloc

import h5py
import numpy as np
import pytest
import torch
from qsmnet_tiny_data import build_tiny_qsm
from torch.utils.data import DataLoader

from correctors.qsmnet import train as qtrain
from correctors.qsmnet.infer import Corrector, unet_volume
from correctors.qsmnet.model import build_unet
from correctors.qsmnet.train import KEYS, TrainConfig, _stage_data, _unet_outputs


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """3 subjects (1 / 1 / 1) x 2 profiles, 16 x 16 x 12 voxels of 12 mm, 3 echoes."""
    return build_tiny_qsm(tmp_path_factory.mktemp("qsmnet_outputs") / "ds")


def _unet(seed: int = 0):
    torch.manual_seed(seed)
    net = build_unet("tiny")
    with torch.no_grad():
        for t in net.parameters():
            t.add_(0.01 * torch.randn_like(t))  # not the identity of a fresh UNet
    return net


def _in_memory(net, data):
    """The former construction: every output stacked in memory."""
    from correctors.common.readers import H5Rows

    rows = H5Rows(data, "all", KEYS)
    keep = [int(r) for r in rows.rows if rows.index["split"][r] in ("train", "val")]
    model = Corrector(net.eval(), None)
    with torch.no_grad():
        cor = np.stack([unet_volume(model, rows.read(KEYS[0], (r,))) for r in keep])
        cln = [np.asarray(rows.read(KEYS[1], (r,)), np.float32) for r in keep]
        return keep, cor, np.stack([unet_volume(model, c) for c in cln]), np.stack(cln)


def test_streamed_file_equals_the_in_memory_stack(dataset, tmp_path):
    net = _unet()
    path = _unet_outputs(net, dataset, tmp_path, slice_axis=2)
    keep, cor, cln_out, cln = _in_memory(net, dataset)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["row"][()], keep)
        np.testing.assert_array_equal(f["unet"][()], cor)
        np.testing.assert_array_equal(f["unet_clean"][()], cln_out)
        np.testing.assert_array_equal(f["chi_clean"][()], cln)
        assert f["unet"].dtype == np.float32 and f["unet"].chunks == (1, 16, 16, 1)
        assert f["done"][()].tolist() == [1] * len(keep)
        assert sorted(f["split"][()].astype(str).tolist()) == ["train"] * 2 + ["val"] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unet_outputs.h5"]  # no partial left
    # chunks follow the PReNet's slice axis
    other = _unet_outputs(_unet(1), dataset, tmp_path / "ax0", slice_axis=0)
    with h5py.File(other, "r") as f:
        assert f["unet"].chunks == (1, 1, 16, 12)


def test_interrupted_build_resumes_at_the_first_missing_volume(dataset, tmp_path, monkeypatch):
    net = _unet()
    calls = []
    real = qtrain.unet_volume

    def flaky(model, v):
        calls.append(1)
        if len(calls) == 3:  # second volume, its motion-free input
            raise KeyboardInterrupt
        return real(model, v)

    monkeypatch.setattr(qtrain, "unet_volume", flaky)
    with pytest.raises(KeyboardInterrupt):
        _unet_outputs(net, dataset, tmp_path)
    assert not (tmp_path / "unet_outputs.h5").exists()
    with h5py.File(tmp_path / "unet_outputs.partial.h5", "r") as f:
        assert f["done"][()].tolist() == [1, 0, 0, 0]
    calls.clear()
    monkeypatch.setattr(qtrain, "unet_volume", lambda m, v: (calls.append(1), real(m, v))[1])
    path = _unet_outputs(net, dataset, tmp_path)
    assert len(calls) == 2 * 3  # volumes 2-4 only, two inputs each
    _, cor, cln_out, _ = _in_memory(net, dataset)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["unet"][()], cor)
        np.testing.assert_array_equal(f["unet_clean"][()], cln_out)


def test_partial_of_other_weights_or_unreadable_is_rebuilt(dataset, tmp_path):
    partial = tmp_path / "unet_outputs.partial.h5"
    partial.write_bytes(b"not an hdf5 file")  # e.g. killed while HDF5 was writing
    net = _unet()
    _unet_outputs(net, dataset, tmp_path)
    (tmp_path / "unet_outputs.h5").rename(partial)
    with h5py.File(partial, "r+") as f:
        f["done"][2] = 0
        f["unet"][2] = 123.0
    other = _unet(1)
    path = _unet_outputs(other, dataset, tmp_path)  # other weights: nothing of it is reused
    _, cor, _, _ = _in_memory(other, dataset)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["unet"][()], cor)


class _FakeRows:
    """n (32, 32, 24) volumes, all in the train split; reads make fresh arrays."""

    def __init__(self, n: int) -> None:
        self.index = {"split": np.array(["train"] * n)}
        self.rows = np.arange(n)
        self.shapes = {k: (n, 32, 32, 24) for k in KEYS}

    def read(self, key, sel):
        return np.random.default_rng(sel[0]).random((32, 32, 24), dtype=np.float32)


def _peak_bytes(n: int, tmp_path, monkeypatch) -> int:
    monkeypatch.setattr(qtrain, "H5Rows", lambda data, split, keys: _FakeRows(n))
    net = _unet()
    tracemalloc.start()
    try:
        _unet_outputs(net, "unused", tmp_path / f"n{n}")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_volumes(tmp_path, monkeypatch):
    vol = 32 * 32 * 24 * 4
    small, large = _peak_bytes(3, tmp_path, monkeypatch), _peak_bytes(24, tmp_path, monkeypatch)
    # stacking would hold 3 x 24 volumes (and copy them); streaming holds a few at a time
    assert large < small + 2 * vol, (small, large)
    assert large < 12 * vol, large


def test_prenet_stage_reads_one_slice_per_item(dataset, tmp_path, monkeypatch):
    cfg = TrainConfig.for_model("tiny", unet_steps=1, prenet_steps=1)
    ds, _ = _stage_data("prenet", cfg, dataset, tmp_path, _unet())
    reads = []
    real = h5py.Dataset.__getitem__

    def spy(self, sel):
        out = real(self, sel)
        if self.file.filename.endswith("unet_outputs.h5"):
            reads.append(np.shape(out))
        return out

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    batches = list(DataLoader(ds, batch_size=4, collate_fn=qtrain._collate))
    assert sum(b[0].shape[0] for b in batches) == len(ds)
    assert reads and set(reads) == {(16, 16)}  # one axial slice per read, never a volume
    assert len(reads) == 2 * len(ds)  # input and target of each item


def test_partial_with_other_split_labels_is_rebuilt(dataset, tmp_path):
    net = _unet()
    _unet_outputs(net, dataset, tmp_path)
    partial = tmp_path / "unet_outputs.partial.h5"
    (tmp_path / "unet_outputs.h5").rename(partial)
    with h5py.File(partial, "r+") as f:
        labels = f["split"][()]
        f["split"][...] = labels[::-1]  # same rows and weights, other train/val labels
        f["done"][:] = 1
        f["unet"][...] = 7.0  # would be reused if the labels were not compared
    path = _unet_outputs(net, dataset, tmp_path)
    _, cor, _, _ = _in_memory(net, dataset)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["unet"][()], cor)
        np.testing.assert_array_equal(f["split"][()], labels)
