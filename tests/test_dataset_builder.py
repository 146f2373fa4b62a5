"""Generic dataset machinery on the cheap ``toy`` kind: schema, determinism,
resume after a kill, corrupt-shard detection, Dask, regeneration, splits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from mrsim.dataset.build import build_dataset, regenerate_sample, verify_dataset
from mrsim.dataset.recipe import load_recipe
from mrsim.dataset.subjects import assign_splits, split_counts
from mrsim.io.hdf5 import file_sha256, read_json, read_sample

TOY = """\
name = "toy_test"
kind = "toy"
seed = 11
samples_per_shard = {sps}
[subjects]
n = 6
[split]
train = 4
val = 1
test = 1
[params]
samples_per_subject = 2
variants = ["a", "b"]
shape = [3, 12, 10]
delay_s = {delay}
[small.subjects]
n = 3
[small.split]
train = 1
val = 1
test = 1
"""


def write_recipe(path: Path, sps: int = 3, delay: float = 0.0) -> Path:
    path.write_text(TOY.format(sps=sps, delay=delay))
    return path


def contents(out: Path) -> dict[str, np.ndarray]:
    """Every array of the merged view plus the index, as plain arrays."""
    out_arrays = {}
    with h5py.File(out / "dataset.h5", "r") as f:
        for k, ds in f["data"].items():
            out_arrays[f"data/{k}"] = ds[()]
        for k, ds in f["index"].items():
            if k != "shard_file":
                out_arrays[f"index/{k}"] = ds[()]
    return out_arrays


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        if a[k].dtype == object:  # strings: compare values, not pointers
            assert a[k].tolist() == b[k].tolist(), k
        else:
            assert a[k].tobytes() == b[k].tobytes(), k


def shard_hashes(out: Path) -> dict[str, str]:
    return {k: v["sha256"] for k, v in read_json(out / "manifest.json")["shards"].items()}


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("clean")
    recipe = load_recipe(write_recipe(d / "toy.toml"))
    build_dataset(recipe, d / "out", workers=1, progress=False)
    return d / "out"


def test_schema_and_index(clean_build):
    with h5py.File(clean_build / "dataset.h5", "r") as f:
        assert f["data/clean"].is_virtual
        assert f["data/clean"].shape == (24, 3, 12, 10)
        assert f["data/poses"].shape == (24, 8, 6)
        np.testing.assert_array_equal(f["index/sample"][()], np.arange(24))
        recipe = json.loads(f.attrs["recipe"])
        assert recipe["seed"] == 11
    arrays, attrs = read_sample(clean_build, 5)
    assert attrs["index"] == 5 and attrs["params"]["seed"] == [11, 0, 5]
    assert attrs["kind"] == "toy" and attrs["variant"] in ("a", "b")
    with h5py.File(clean_build / "dataset.h5", "r") as f:
        np.testing.assert_array_equal(f["data/corrupted"][5], arrays["corrupted"])
    assert verify_dataset(clean_build) == []


def test_one_vs_two_workers_identical(clean_build, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "toy.toml"))
    build_dataset(recipe, tmp_path / "w2", workers=2, progress=False)
    assert_same(contents(clean_build), contents(tmp_path / "w2"))
    # Every array and attribute of every shard is identical, except the fingerprint of the
    # code that made it (mrsim_code, the sha256 of mrsim's sources): the one-worker build
    # ran in this process, whose fingerprint was read when it was first needed, while the
    # two spawned workers read the sources anew. If the sources change in between (someone
    # editing the tree during a long, loaded test run: the one observed failure of this
    # test, reproduced by editing a file between the two builds), the shards rightly record
    # different code and their bytes differ in that attribute only.
    a, b = shard_contents(clean_build), shard_contents(tmp_path / "w2")
    code = {k: v for k, v in a.items() if k.endswith("@mrsim_code")}
    code_b = {k: v for k, v in b.items() if k.endswith("@mrsim_code")}
    assert code.keys() == code_b.keys()
    assert {k: v for k, v in a.items() if k not in code} == {
        k: v for k, v in b.items() if k not in code
    }
    if code == code_b:  # the same code: the shard files are byte-identical too
        assert shard_hashes(clean_build) == shard_hashes(tmp_path / "w2")


def shard_contents(out: Path) -> dict[str, object]:
    """Every array's bytes and every attribute of every shard, read from the shard files."""
    found: dict[str, object] = {}

    def visit(name: str, obj: h5py.HLObject) -> None:
        for key, value in obj.attrs.items():
            found[f"{name}@{key}"] = np.asarray(value).tolist()
        if isinstance(obj, h5py.Dataset):
            found[name] = (obj.dtype.str, obj.shape, obj[()].tobytes())

    for path in sorted((out / "shards").glob("shard-*.h5")):
        with h5py.File(path, "r") as f:
            f.visititems(lambda n, o, p=path.name: visit(f"{p}/{n}", o))
            visit(f"{path.name}/", f)
    return found


def test_dask_local_cluster_equals_local_build(clean_build, tmp_path):
    distributed = pytest.importorskip("distributed")
    recipe = load_recipe(write_recipe(tmp_path / "toy.toml"))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        build_dataset(
            recipe, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False
        )
    assert_same(contents(clean_build), contents(tmp_path / "dask"))
    # Every array (bytes) and attribute of every shard is identical. The shard *files*
    # are not compared byte for byte here: HDF5's on-disk layout of a shard written by a
    # Dask worker has been seen to differ from the local build's (same content, different
    # object addresses and file size; cause not identified), so file checksums only
    # detect damage within one dataset (test_corrupt_shard_detected_and_rebuilt).
    assert shard_contents(clean_build) == shard_contents(tmp_path / "dask")


def test_killed_build_resumes_to_identical_result(clean_build, tmp_path):
    # Same recipe content except the per-sample sleep, which is a param: build a
    # reference with the same delay value so the recipe hash and params match.
    recipe_path = write_recipe(tmp_path / "toy.toml", delay=0.1)
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "mrsim",
        "dataset",
        "build",
        str(recipe_path),
        "--out",
        str(out),
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(list((out / "shards").glob("shard-*.h5"))) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "build finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "dataset.h5").exists()
    n_before = len(list((out / "shards").glob("shard-*.h5")))
    assert 3 <= n_before < 8
    (out / "shards" / "shard-00007.h5.tmp-999").write_bytes(b"half a shard")  # crash leftover
    res = build_dataset(load_recipe(recipe_path), out, progress=False)
    assert len(res.kept_shards) >= n_before - 1  # the last one may lack its manifest entry
    assert len(res.kept_shards) + len(res.built_shards) == 8
    assert not list((out / "shards").glob("*.tmp-*"))
    reference = tmp_path / "reference"
    build_dataset(load_recipe(recipe_path), reference, progress=False)
    assert_same(contents(reference), contents(out))
    assert shard_hashes(reference) == shard_hashes(out)


def test_corrupt_shard_detected_and_rebuilt(clean_build, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "toy.toml"))
    out = tmp_path / "damaged"
    build_dataset(recipe, out, progress=False)
    shard = out / "shards" / "shard-00002.h5"
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])  # truncated copy
    problems = verify_dataset(out)
    assert len(problems) == 1 and "shard 2" in problems[0] and "sha256" in problems[0]
    res = build_dataset(recipe, out, progress=False)
    assert list(res.rebuilt) == [2] and res.built_shards == [2]
    assert verify_dataset(out) == []
    assert_same(contents(clean_build), contents(out))


def test_flipped_byte_without_manifest_entry_is_caught(tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "toy.toml"))
    out = tmp_path / "d"
    build_dataset(recipe, out, progress=False)
    manifest = read_json(out / "manifest.json")
    del manifest["shards"]["1"]  # as if the driver died before recording it
    (out / "manifest.json").write_text(json.dumps(manifest))
    shard = out / "shards" / "shard-00001.h5"
    shard.write_bytes(shard.read_bytes()[:-4096])
    res = build_dataset(recipe, out, progress=False)
    assert 1 in res.rebuilt


def test_other_recipe_into_same_dir_refused(clean_build, tmp_path):
    other = load_recipe(write_recipe(tmp_path / "toy.toml", sps=5))
    with pytest.raises(ValueError, match="different recipe"):
        build_dataset(other, clean_build, progress=False)


def test_regenerate_from_attributes(clean_build):
    for index in (0, 17):
        sample, stored, attrs = regenerate_sample(clean_build, index)
        assert set(stored) == set(sample.arrays)
        for k, v in stored.items():
            assert v.tobytes() == np.asarray(sample.arrays[k]).tobytes()
    # also from a shard file directly
    sample, stored, _ = regenerate_sample(clean_build / "shards" / "shard-00000.h5", 1)
    assert stored["clean"].tobytes() == sample.arrays["clean"].tobytes()


def test_cli_regenerate_and_info(clean_build, capsys):
    from mrsim.cli import main

    assert main(["dataset", "regenerate", str(clean_build), "4"]) == 0
    assert "bit-identical" in capsys.readouterr().out
    assert main(["dataset", "info", str(clean_build), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "train:" in out and "verify: OK" in out and "motion magnitude" in out


def test_no_subject_in_two_splits(clean_build):
    with h5py.File(clean_build / "dataset.h5", "r") as f:
        split = f["index/split"].asstr()[()]
        subject = f["index/subject"][()]
    seen = {}
    for s, sp in zip(subject, split, strict=True):
        assert seen.setdefault(int(s), sp) == sp
    assert sorted(set(split)) == ["test", "train", "val"]
    counts = {sp: len({s for s, x in seen.items() if x == sp}) for sp in ("train", "val", "test")}
    assert counts == {"train": 4, "val": 1, "test": 1}


def test_split_assignment():
    assert split_counts(70, {"train": 0.8, "val": 0.1, "test": 0.1}) == {
        "train": 56,
        "val": 7,
        "test": 7,
    }
    assert split_counts(52, {"train": 35, "val": 5, "test": 12}) == {
        "train": 35,
        "val": 5,
        "test": 12,
    }
    with pytest.raises(ValueError, match="sum to"):
        split_counts(10, {"train": 3, "val": 1, "test": 1})
    a = assign_splits(20, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=3)
    assert a == assign_splits(20, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=3)
    assert a != assign_splits(20, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=4)


def test_small_overrides(tmp_path):
    r = load_recipe(write_recipe(tmp_path / "toy.toml"), small=True)
    assert r.subjects["n"] == 3 and r.small
    assert r.hash() != load_recipe(tmp_path / "toy.toml").hash()


@pytest.mark.parametrize(
    "edit, match",
    [
        (("seed = 11", 'seed = "x"'), "field 'seed' must be of type integer"),
        (("[params]", "[params]\nbogus = 1"), "unknown field 'params.bogus'"),
        (('kind = "toy"', 'kind = "nope"'), "field 'kind' must be one of"),
        (("seed = 11\n", ""), "missing required field 'seed'"),
        (("n = 6", "n = -1"), "field 'subjects.n' must be >= 0"),
        (("shape = [3, 12, 10]", "shape = [3, 12]"), "field 'params.shape' must have 3 items"),
        (("shape = [3, 12, 10]", 'shape = [3, "a", 10]'), "has an element of the wrong type"),
        (("train = 4", "train = 5"), None),
        (("name", "name = = "), "invalid TOML"),
    ],
)
def test_recipe_errors_name_file_and_field(tmp_path, edit, match):
    path = write_recipe(tmp_path / "bad.toml")
    path.write_text(path.read_text().replace(*edit, 1))
    if match is None:  # counts that do not add up fail when the subjects are planned
        recipe = load_recipe(path)
        with pytest.raises(ValueError, match="sum to 7, but there are 6 subjects"):
            build_dataset(recipe, tmp_path / "o", progress=False)
        return
    with pytest.raises(ValueError, match=match) as info:
        load_recipe(path)
    assert str(path) in str(info.value)


def test_small_without_table_is_an_error(tmp_path):
    path = write_recipe(tmp_path / "t.toml")
    path.write_text(path.read_text().split("[small.subjects]")[0])
    with pytest.raises(ValueError, match="no \\[small\\] table"):
        load_recipe(path, small=True)


def test_checksum_is_of_file_bytes(clean_build):
    entry = read_json(clean_build / "manifest.json")["shards"]["0"]
    assert file_sha256(clean_build / entry["file"]) == entry["sha256"]


def test_threads_per_worker_never_oversubscribes():
    from mrsim.dataset.build import threads_per_worker

    for cores in (1, 2, 3, 16):
        for workers in range(1, 20):
            t = threads_per_worker(workers, cores)
            assert t >= 1 and (workers * t <= cores or t == 1)
    assert threads_per_worker(4, 16) == 4
