"""Deterministic, resumable, parallel dataset builds.

``build_dataset(recipe, out_dir)`` plans every sample (a params dict with a
seed ``[recipe_seed, 0, index]``), cuts the index range into fixed shards of
``samples_per_shard``, and builds the missing shards:

- in this process (``workers=1``), on a local process pool (``workers>1``), or
  on an existing Dask cluster (``scheduler="tcp://host:8786"``; the output
  directory must then be on a file system the workers share);
- each shard is written to a temporary file and renamed into place, and the
  driver records its sha256 in ``manifest.json`` (itself replaced
  atomically) as soon as it lands;
- a restarted build keeps every shard that validates (checksum when recorded,
  structure and last chunk otherwise), deletes leftover temporary files and
  rebuilds the rest, so it ends with the same content as an uninterrupted one;
- the result does not depend on the number of workers or completion order:
  a shard's content is a pure function of its sample params.

At the end the shards are merged into ``dataset.h5`` (HDF5 virtual datasets,
see :mod:`mrsim.io.hdf5`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import mrsim
from mrsim.dataset.recipe import Recipe
from mrsim.dataset.samples import KINDS, make_sample
from mrsim.dataset.subjects import DOMAIN_SAMPLE, subject_specs
from mrsim.dataset.timers import count, phase, take_phases
from mrsim.errors import MrsimInputError
from mrsim.io.hdf5 import (
    MANIFEST_NAME,
    MERGED_NAME,
    PLAN_NAME,
    SHARD_DIR,
    Sample,
    file_sha256,
    merge_shards,
    read_json,
    read_sample,
    shard_name,
    validate_shard,
    write_json_atomic,
    write_shard,
)

__all__ = [
    "BuildResult",
    "plan_samples",
    "plan_shards",
    "build_dataset",
    "build_shard",
    "verify_dataset",
    "regenerate_sample",
    "threads_per_worker",
    "code_fingerprint",
]


@dataclass
class BuildResult:
    """What a build did.

    Attributes
    ----------
    out_dir : Path
    merged : Path
        ``dataset.h5``.
    n_samples : int
    built_shards, kept_shards : list of int
        Shards written by this call / found valid and kept.
    rebuilt : dict of int -> str
        Shards found damaged, with the reason.
    wall_s : float
    phases_s : dict of str -> float
        Summed per-phase times over built shards (``make``, ``write``, and
        any phase a sample function reports, e.g. ``nufft``).
    """

    out_dir: Path
    merged: Path
    n_samples: int
    built_shards: list[int] = field(default_factory=list)
    kept_shards: list[int] = field(default_factory=list)
    rebuilt: dict[int, str] = field(default_factory=dict)
    wall_s: float = 0.0
    phases_s: dict[str, float] = field(default_factory=dict)


def plan_samples(recipe: Recipe) -> list[dict[str, Any]]:
    """Full params dict of every sample of a recipe, in index order.

    Each dict is everything :func:`mrsim.dataset.samples.make_sample` needs:
    the kind's own fields plus ``index``, ``kind`` and ``seed``.
    """
    kind = KINDS[recipe.kind]
    recipe_dir = Path(recipe.source).parent if recipe.source != "<dict>" else Path(".")
    subjects = (
        subject_specs(
            recipe.subjects,
            recipe.split,
            recipe.seed,
            recipe_dir=recipe_dir,
            source=recipe.source,
        )
        if kind.uses_subjects
        else []
    )
    plan = kind.plan(recipe, subjects)
    for i, params in enumerate(plan):
        for key in ("subject", "split", "variant"):
            if key not in params:
                raise RuntimeError(f"kind {recipe.kind!r}: plan entry {i} lacks {key!r}")
        params["index"] = i
        params["kind"] = recipe.kind
        params["seed"] = [recipe.seed, DOMAIN_SAMPLE, i]
    return plan


def plan_shards(n_samples: int, samples_per_shard: int) -> list[list[int]]:
    """Consecutive index blocks (the last one may be shorter)."""
    return [
        list(range(a, min(a + samples_per_shard, n_samples)))
        for a in range(0, n_samples, samples_per_shard)
    ]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (first 16 hex digits) of the ``mrsim`` package's Python sources.

    The version string does not change while the code is being developed; this
    does, so a dataset records exactly which simulator produced it, and a resume
    or a regeneration with different code is reported.
    """
    root = Path(mrsim.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """CPU threads each worker may use so that ``workers * threads <= cores``."""
    if cores is None:
        from mrsim.kspace.nufft import default_nthreads  # CPUs this process may run on

        cores = default_nthreads()
    return max(1, cores // max(1, workers))


def _sample_attrs(params: dict[str, Any], sample: Sample) -> dict[str, Any]:
    attrs = dict(sample.attrs)
    attrs.update(
        index=params["index"],
        kind=params["kind"],
        params=params,
        subject=params["subject"],
        split=params["split"],
        variant=params["variant"],
        mrsim_version=mrsim.__version__,
        mrsim_code=code_fingerprint(),
    )
    attrs.setdefault("motion_magnitude", float("nan"))
    return attrs


#: Arrays kept per worker (mrsim.kspace.reuse), all of one subject: the upsampled grid, the
#: static k-space, the clean image and its line energies, the contracted planes
#: (~130 MB for a 128^3 source); the plan is ordered by subject, so each worker meets the
#: subjects one after the other.
_REUSE_ENTRIES = 6


def _worker_init(parent_pid: int) -> None:
    """Pool ``initializer``: die with the parent (:func:`mrsim.dataset.workers.worker_init`)
    and keep each subject's spectra from shard to shard."""
    from mrsim.dataset.workers import worker_init
    from mrsim.kspace.reuse import keep_spectra

    worker_init(parent_pid)
    keep_spectra(_REUSE_ENTRIES)


def build_shard(
    out_dir: str,
    shard: int,
    params_list: Sequence[dict[str, Any]],
    threads: int = 1,
    shard_attrs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build and atomically write one shard; return its manifest entry.

    A top-level function so that process pools and Dask can ship it.

    Returns
    -------
    dict
        ``file``, ``samples``, ``sha256``, ``bytes`` and ``phases_s`` (the last
        one is dropped from the manifest).
    """
    samples, phases = _make_shard_samples(params_list, threads)
    return _write_shard_entry(out_dir, shard, samples, phases, shard_attrs)


_last_subject: dict[int, Any] = {}  # per thread: the subject of the last sample made


def _make_shard_samples(
    params_list: Sequence[dict[str, Any]], threads: int
) -> tuple[list[tuple[int, Sample]], dict[str, float]]:
    """The samples of one shard and the phase times spent making them (this thread)."""
    from mrsim.kspace.reuse import reuse_spectra

    take_phases()
    samples = []
    # The samples of a shard are consecutive plan entries, i.e. mostly one subject: its
    # upsampled grid and static k-space are computed once (bit-identical to recomputing).
    with reuse_spectra(_REUSE_ENTRIES):
        for params in params_list:
            # A subject's first sample in this process pays for the subject and its spectra:
            # timed apart ("make_first" / "make_rest", with counts) for the benchmarks.
            first = params.get("subject") != _last_subject.get(threading.get_ident())
            _last_subject[threading.get_ident()] = params.get("subject")
            part = "make_first" if first else "make_rest"
            count(f"n_{part}")
            with phase("make"), phase(part):
                sample = make_sample(params, threads)
            sample.attrs = _sample_attrs(params, sample)
            samples.append((params["index"], sample))
    return samples, take_phases()


def _write_shard_entry(
    out_dir: str,
    shard: int,
    samples: list[tuple[int, Sample]],
    phases: dict[str, float],
    shard_attrs: dict[str, Any] | None,
) -> dict[str, Any]:
    """Write one shard atomically; its manifest entry (with ``phases`` plus ``write``)."""
    rel = f"{SHARD_DIR}/{shard_name(shard)}"
    path = Path(out_dir) / rel
    t0 = time.perf_counter()
    digest = write_shard(path, samples, attrs=shard_attrs)
    return {
        "file": rel,
        "samples": [int(i) for i, _ in samples],
        "sha256": digest,
        "bytes": path.stat().st_size,
        "phases_s": {**phases, "write": phases.get("write", 0.0) + time.perf_counter() - t0},
    }


def _dask_threads(client: Any) -> int:
    """Threads per task on a Dask cluster: host cores / concurrent tasks on that host."""
    info = client.scheduler_info()["workers"]
    cores = client.run(os.cpu_count)
    per_host: dict[str, list[int]] = {}
    for addr, w in info.items():
        per_host.setdefault(w.get("host", addr), []).append(addr)
    out = []
    for addrs in per_host.values():
        slots = sum(info[a]["nthreads"] for a in addrs)
        host_cores = max(cores.get(a) or 1 for a in addrs)
        out.append(max(1, host_cores // max(1, slots)))
    return min(out) if out else 1


def build_dataset(
    recipe: Recipe,
    out_dir: str | os.PathLike,
    *,
    workers: int = 1,
    scheduler: str | Any | None = None,
    threads: int | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build (or resume) a dataset from a recipe.

    Parameters
    ----------
    recipe : Recipe
        From :func:`mrsim.dataset.recipe.load_recipe`.
    out_dir : path-like
        Dataset directory; created if missing. A directory holding a build of
        a different recipe is refused.
    workers : int, default 1
        Local worker processes (1: build in this process). Ignored with
        ``scheduler``.
    scheduler : str or distributed.Client, optional
        Address of a running Dask scheduler (or a connected client): shards
        are built as Dask tasks. The output directory must be shared.
    threads : int, optional
        CPU threads per worker for NUFFT/FFT; default ``cores // workers``
        (and, on Dask, host cores / task slots on that host).
    progress : bool, default True
        tqdm bar with samples/s and ETA.
    log : callable, optional
        Receives one-line messages (kept/rebuilt shards); default: tqdm.write.

    Returns
    -------
    BuildResult
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    out = Path(out_dir)
    (out / SHARD_DIR).mkdir(parents=True, exist_ok=True)
    say = log or tqdm.write
    plan = plan_samples(recipe)
    shards = plan_shards(len(plan), recipe.samples_per_shard)
    rhash = recipe.hash()
    plan_path = out / PLAN_NAME
    plan_doc = {
        "recipe": recipe.to_dict(),
        "recipe_source": recipe.source,
        "recipe_hash": rhash,
        "n_samples": len(plan),
        "shards": shards,
        "mrsim_version": mrsim.__version__,
        "mrsim_code": code_fingerprint(),
    }
    if plan_path.exists():
        old = read_json(plan_path)
        if old.get("mrsim_code") != code_fingerprint():
            say(
                f"warning: {out} was started with mrsim code {old.get('mrsim_code')}, this is "
                f"{code_fingerprint()}; kept shards may differ from rebuilt ones"
            )
        if old.get("recipe_hash") != rhash:
            raise MrsimInputError(
                f"{out}: holds a build of a different recipe (hash "
                f"{old.get('recipe_hash', '?')[:12]} vs {rhash[:12]}); use another --out directory"
            )
    else:
        write_json_atomic(plan_path, plan_doc)

    # Half-written shards of a killed build: atomic_path's temporary names, and the
    # "<name>.tmp-<pid>-<thread>" names of earlier versions.
    for pattern in (".*.tmp.h5", "*.tmp-*"):
        for stale in (out / SHARD_DIR).glob(pattern):
            stale.unlink()
    manifest_path = out / MANIFEST_NAME
    manifest = read_json(manifest_path) if manifest_path.exists() else {}
    recorded: dict[str, Any] = manifest.get("shards", {})
    entries: dict[int, dict[str, Any]] = {}
    result = BuildResult(out, out / MERGED_NAME, len(plan))
    todo: list[int] = []
    for k, indices in enumerate(shards):
        path = out / SHARD_DIR / shard_name(k)
        entry = recorded.get(str(k))
        if not path.exists():
            todo.append(k)
            continue
        reason = validate_shard(path, indices, sha256=entry["sha256"] if entry else None)
        if reason is None and entry is not None and entry.get("samples") != indices:
            reason = f"{path}: manifest lists samples {entry.get('samples')}, plan {indices}"
        if reason is None:
            if entry is None:  # finished before the driver could record it
                entry = {
                    "file": f"{SHARD_DIR}/{shard_name(k)}",
                    "samples": indices,
                    "sha256": file_sha256(path),
                    "bytes": path.stat().st_size,
                }
            entries[k] = entry
            result.kept_shards.append(k)
        else:
            say(f"shard {k} damaged, rebuilding: {reason}")
            result.rebuilt[k] = reason
            path.unlink()
            todo.append(k)

    def save_manifest(complete: bool = False) -> None:
        write_json_atomic(
            manifest_path,
            {
                "recipe_hash": rhash,
                "n_samples": len(plan),
                "n_shards": len(shards),
                "complete": complete,
                "shards": {str(k): entries[k] for k in sorted(entries)},
            },
        )

    save_manifest()
    if todo and result.merged.exists():
        result.merged.unlink()  # stale merged view: rewritten once every shard is back
    if result.kept_shards and todo:
        say(f"resuming: {len(result.kept_shards)} of {len(shards)} shards already built")
    shard_attrs = {"recipe_hash": rhash, "recipe_name": recipe.name}
    done_samples = sum(len(shards[k]) for k in entries)
    bar = tqdm(
        total=len(plan),
        initial=done_samples,
        unit="sample",
        desc=recipe.name,
        disable=not progress,
        smoothing=0.1,
    )

    def record(k: int, entry: dict[str, Any]) -> None:
        for name, secs in entry.pop("phases_s", {}).items():
            result.phases_s[name] = result.phases_s.get(name, 0.0) + secs
        entries[k] = entry
        result.built_shards.append(k)
        save_manifest()
        bar.update(len(entry["samples"]))

    try:
        if todo and scheduler is not None:
            _run_dask(scheduler, out, todo, shards, plan, threads, shard_attrs, record)
        elif todo and workers > 1:
            _run_pool(workers, out, todo, shards, plan, threads, shard_attrs, record)
        elif todo:
            _run_serial(out, todo, shards, plan, threads, shard_attrs, record)
    finally:
        bar.close()
    t_merge = time.perf_counter()
    merge_shards(
        out,
        [entries[k] for k in sorted(entries)],
        attrs={
            "recipe": recipe.to_dict(),
            "recipe_hash": rhash,
            "mrsim_version": mrsim.__version__,
        },
    )
    result.phases_s["merge"] = time.perf_counter() - t_merge
    save_manifest(complete=True)
    result.wall_s = time.perf_counter() - t0
    return result


def _run_serial(out, todo, shards, plan, threads, shard_attrs, record) -> None:
    """Build the shards in this process; each shard is written (HDF5, gzip, fsync, sha256)
    by a writer thread while the next one is being made (the files are the same as
    written inline: one shard at a time, in order; h5py and zlib release the GIL for much
    of the write). At most one made shard waits for its write."""
    from concurrent.futures import ThreadPoolExecutor

    from mrsim.kspace.reuse import reuse_spectra

    nthreads = threads or threads_per_worker(1)
    pending = None
    with reuse_spectra(_REUSE_ENTRIES), ThreadPoolExecutor(max_workers=1) as writer:
        try:
            for k in todo:
                samples, phases = _make_shard_samples([plan[i] for i in shards[k]], nthreads)
                if pending is not None:
                    done, pending = pending, None  # recorded once, even if record raises
                    record(*done.result())
                pending = writer.submit(
                    lambda k=k, s=samples, p=phases: (
                        k,
                        _write_shard_entry(str(out), k, s, p, shard_attrs),
                    )
                )
            if pending is not None:
                done, pending = pending, None
                record(*done.result())
        finally:
            if pending is not None:  # an error while making a shard: let its write land
                landed = pending.result()
                record(*landed)


def _run_pool(workers, out, todo, shards, plan, threads, shard_attrs, record) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    nthreads = threads or threads_per_worker(workers)
    # spawn: workers must not inherit the driver's threads (tqdm monitor, OpenMP pools).
    ctx = multiprocessing.get_context("spawn")
    from mrsim.dataset.workers import terminate_workers

    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
    ) as pool:
        futures = {
            pool.submit(
                build_shard, str(out), k, [plan[i] for i in shards[k]], nthreads, shard_attrs
            ): k
            for k in todo
        }
        try:
            for fut in as_completed(futures):
                record(futures[fut], fut.result())
        except BaseException:
            terminate_workers(pool)
            raise


def _run_dask(scheduler, out, todo, shards, plan, threads, shard_attrs, record) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a core dependency
        raise RuntimeError(
            "--scheduler needs dask.distributed (pip install 'dask[distributed]')"
        ) from exc

    own = not hasattr(scheduler, "submit")
    client = Client(scheduler) if own else scheduler
    try:
        nthreads = threads or _dask_threads(client)
        futures = {
            client.submit(
                build_shard,
                str(out.resolve()),
                k,
                [plan[i] for i in shards[k]],
                nthreads,
                shard_attrs,
                key=f"mrsim-shard-{k}-{os.getpid()}-{time.time_ns()}",
                pure=False,
            ): k
            for k in todo
        }
        by_key = {f.key: k for f, k in futures.items()}
        for fut in as_completed(list(futures)):
            record(by_key[fut.key], fut.result())
    finally:
        if own:
            client.close()


def verify_dataset(out_dir: str | os.PathLike) -> list[str]:
    """Check every shard of a dataset against its manifest; return the problems found."""
    out = Path(out_dir)
    manifest_path = out / MANIFEST_NAME
    if not manifest_path.exists():
        return [f"{out}: no {MANIFEST_NAME}"]
    manifest = read_json(manifest_path)
    plan = read_json(out / PLAN_NAME)
    problems = []
    for k, indices in enumerate(plan["shards"]):
        entry = manifest["shards"].get(str(k))
        if entry is None:
            problems.append(f"shard {k}: not built")
            continue
        reason = validate_shard(out / entry["file"], indices, sha256=entry["sha256"])
        if reason:
            problems.append(f"shard {k}: {reason}")
    if not manifest.get("complete"):
        problems.append(f"{out}: build not complete (run `mrsim dataset build` again to resume)")
    return problems


def regenerate_sample(
    path: str | os.PathLike, index: int, *, threads: int | None = None
) -> tuple[Sample, dict[str, np.ndarray], dict[str, Any]]:
    """Rebuild sample ``index`` from its stored attributes alone.

    Returns
    -------
    sample : Sample
        The regenerated arrays.
    stored : dict of str -> ndarray
        The arrays read from the dataset, for comparison.
    attrs : dict
        The stored attributes (``params`` decoded).
    """
    stored, attrs = read_sample(path, index)
    params = attrs["params"]
    sample = make_sample(params, threads or threads_per_worker(1))
    return sample, stored, attrs
