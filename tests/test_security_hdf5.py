"""A received HDF5 dataset cannot make mrsim read files outside its folder (issue 20)."""

import json

import h5py
import numpy as np
import pytest

from mrsim.dataset.build import build_dataset, regenerate_sample
from mrsim.dataset.recipe import load_recipe
from mrsim.errors import MrsimInputError
from mrsim.io.h5refs import check_confined, file_references
from mrsim.io.hdf5 import read_sample, resolve_dataset_file

TOY = """\
name = "toy_sec"
kind = "toy"
seed = 1
samples_per_shard = 2
[subjects]
n = 3
[split]
train = 1
val = 1
test = 1
[params]
samples_per_subject = 1
shape = [2, 8, 8]
"""


def _first_sample(f):
    return f["samples"][sorted(f["samples"])[0]]


@pytest.fixture()
def dataset(tmp_path):
    (tmp_path / "toy.toml").write_text(TOY)
    out = tmp_path / "data"
    build_dataset(load_recipe(tmp_path / "toy.toml"), out, progress=False)
    return out


@pytest.fixture()
def secret(tmp_path):
    p = tmp_path / "secret.bin"
    p.write_bytes(np.arange(8 * 8 * 2, dtype=np.float32).tobytes())
    return p


def test_a_real_dataset_passes(dataset):
    refs = file_references(dataset / "dataset.h5")
    assert refs and all(kind == "virtual" for kind, _, _ in refs)
    assert resolve_dataset_file(dataset) == dataset / "dataset.h5"
    arrays, attrs = read_sample(dataset, 0)
    assert arrays["clean"].shape == (2, 8, 8) and attrs["params"]["kind"] == "toy"


def test_external_storage_naming_another_file_is_refused(dataset, secret):
    shard = sorted((dataset / "shards").glob("*.h5"))[0]
    with h5py.File(shard, "a") as f:
        g = _first_sample(f)
        assert g["clean"].shape == (2, 8, 8)
        del g["clean"]
        g.create_dataset("clean", shape=(2, 8, 8), dtype="f4", external=[(str(secret), 0, 512)])
        # without the check, h5py reads the secret's bytes as if they were the sample
        assert np.array_equal(g["clean"][()].ravel(), np.arange(128, dtype=np.float32))
    assert any(kind == "external" for kind, _, _ in file_references(shard))
    with pytest.raises(MrsimInputError, match="external"):
        resolve_dataset_file(dataset)
    with pytest.raises(MrsimInputError, match="external"):
        check_confined(shard)


def test_virtual_source_outside_the_folder_is_refused(dataset, tmp_path):
    outside = tmp_path / "elsewhere.h5"
    with h5py.File(outside, "w") as f:
        f["x"] = np.ones((4, 8, 8), np.float32)
    merged = dataset / "dataset.h5"
    with h5py.File(merged, "a") as f:
        layout = h5py.VirtualLayout(shape=(4, 8, 8), dtype="f4")
        layout[:] = h5py.VirtualSource(str(outside), "x", shape=(4, 8, 8))
        f["data"].create_virtual_dataset("stolen", layout)
    with pytest.raises(MrsimInputError, match="outside the dataset folder"):
        resolve_dataset_file(dataset)


def test_external_link_is_refused(dataset, tmp_path):
    with h5py.File(dataset / "dataset.h5", "a") as f:
        f["data/link"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/x")
    with pytest.raises(MrsimInputError, match="external link"):
        resolve_dataset_file(dataset)


def test_index_shard_file_pointing_outside_is_refused(dataset, tmp_path):
    # a copy of a real shard outside the dataset, named by the index with ../
    shard = sorted((dataset / "shards").glob("*.h5"))[0]
    (tmp_path / "copy.h5").write_bytes(shard.read_bytes())
    with h5py.File(dataset / "dataset.h5", "a") as f:
        col = f["index/shard_file"]
        values = col[()]
        values[:] = b"../copy.h5" if values.dtype.kind == "S" else "../copy.h5"
        del f["index/shard_file"]
        f["index/shard_file"] = values
    with pytest.raises(MrsimInputError, match="outside the dataset folder"):
        read_sample(dataset, 0)
    with pytest.raises(MrsimInputError, match="outside the dataset folder"):
        regenerate_sample(dataset, 0)


def test_stored_params_are_json_not_code(dataset):
    # regenerate only ever json-decodes the stored params; an unknown kind is an error
    shard = sorted((dataset / "shards").glob("*.h5"))[0]
    with h5py.File(shard, "a") as f:
        g = _first_sample(f)
        g_name = g.name.rsplit("/", 1)[1]
        params = json.loads(g.attrs["params"])
        params["kind"] = "__import__('os').system('touch pwned')"
        g.attrs["params"] = json.dumps(params)
    with pytest.raises(ValueError, match="unknown kind"):
        regenerate_sample(shard, int(g_name))
