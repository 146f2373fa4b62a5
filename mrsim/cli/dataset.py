"""``mrsim dataset``: build, inspect, verify and regenerate HDF5 datasets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mrsim.cli import CLIError, add_command
from mrsim.cli.arg_types import positive_int
from mrsim.command import user_input

EXAMPLES = """\
examples:
  mrsim dataset build mcnet_mprage --out data/mcnet --small
  mrsim dataset build datasets/qsm_motion.toml --out data/qsm --workers 2
  mrsim dataset build mcnet_mprage --out /shared/mcnet --scheduler tcp://10.0.0.5:8786
  mrsim dataset info data/mcnet
  mrsim dataset info data/mcnet --verify
  mrsim dataset regenerate data/mcnet 12
"""


def register(subparsers, name: str, help_text: str) -> None:
    p = add_command(
        subparsers,
        name,
        help_text,
        "Build paired motion datasets from recipes (datasets/*.toml), "
        "summarise them and regenerate single samples from their stored attributes.",
        EXAMPLES,
    )
    sub = p.add_subparsers(dest="dataset_command", metavar="ACTION")
    b = sub.add_parser(
        "build",
        help="build or resume a dataset",
        description="Build (or resume) a dataset. Re-running the same command after a crash "
        "keeps finished shards and rebuilds damaged or missing ones.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument(
        "recipe",
        help="recipe TOML file, or the name of a shipped recipe "
        "(mcnet_mprage, qsm_motion, motion_windows)",
    )
    b.add_argument(
        "--out",
        required=True,
        help="output directory: gets dataset.h5 (merged view), shards/*.h5, manifest and plan "
        "JSON; re-running resumes",
    )
    b.add_argument(
        "--workers", type=positive_int, default=1, help="local worker processes (default 1)"
    )
    b.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address (tcp://host:port); --out must be shared",
    )
    b.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="NUFFT/FFT threads per worker (default: cores // workers)",
    )
    b.add_argument("--small", action="store_true", help="apply the recipe's [small] overrides")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(action_func=run_build)

    i = sub.add_parser("info", help="summarise a dataset")
    i.add_argument("dir", help="dataset directory (or its dataset.h5)")
    i.add_argument("--verify", action="store_true", help="also check every shard's sha256")
    i.add_argument("--bins", type=int, default=10, help="motion histogram bins (default 10)")
    i.set_defaults(action_func=run_info)

    r = sub.add_parser(
        "regenerate",
        help="rebuild one sample from its attributes and compare",
        description="Rebuild sample SAMPLE from the parameters stored with it and report "
        "whether every array is bit-identical to the stored one.",
    )
    r.add_argument("file", help="dataset directory, dataset.h5 or a shard file")
    r.add_argument("sample", type=int, help="sample index")
    r.add_argument("--out", default=None, help="also write the regenerated sample to this .h5")
    r.set_defaults(action_func=run_regenerate)
    p.set_defaults(func=run, action_func=None, print_help=p.print_help)


def run(args: argparse.Namespace) -> int:
    if args.action_func is None:
        args.print_help()
        return 1
    return args.action_func(args)


def run_build(args: argparse.Namespace) -> int:
    from mrsim.dataset.build import build_dataset
    from mrsim.dataset.recipe import load_recipe

    if args.workers < 1:
        raise CLIError(f"--workers must be >= 1, got {args.workers}")
    if args.threads is not None and args.threads < 1:
        raise CLIError(f"--threads must be >= 1, got {args.threads}")
    from mrsim.io.output_set import check_writable

    check_writable(args.out, "--out", folder=True)
    with user_input(args.recipe):
        recipe = load_recipe(args.recipe, small=args.small)
    res = build_dataset(
        recipe,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        threads=args.threads,
        progress=not args.no_progress,
    )
    rate = len(res.built_shards) and res.n_samples / max(res.wall_s, 1e-9)
    print(
        f"{res.merged}: {res.n_samples} samples; built {len(res.built_shards)} shards, "
        f"kept {len(res.kept_shards)}, rebuilt {len(res.rebuilt)} damaged; "
        f"{res.wall_s:.1f} s" + (f" ({rate * 60:.1f} samples/min overall)" if rate else "")
    )
    return 0


def _histogram(values: np.ndarray, bins: int) -> list[str]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return ["  (no motion magnitudes recorded)"]
    counts, edges = np.histogram(values, bins=bins)
    width = 40 / max(1, counts.max())
    return [
        f"  {edges[j]:8.3f} - {edges[j + 1]:8.3f} | {'#' * int(round(c * width)):<40} {c}"
        for j, c in enumerate(counts)
    ]


def run_info(args: argparse.Namespace) -> int:
    import h5py

    from mrsim.dataset.build import verify_dataset
    from mrsim.io.hdf5 import read_index, resolve_dataset_file

    with user_input(args.dir):
        # --verify reports every problem itself; without it a missing shard is an error
        merged = resolve_dataset_file(args.dir, check_shards=not args.verify)
        with h5py.File(merged, "r") as f:
            idx = read_index(f)
            recipe = json.loads(f.attrs["recipe"])
            data = {k: (ds.shape, ds.dtype) for k, ds in f["data"].items()}
            unit = f.attrs.get("motion_magnitude_unit", "")
    n = idx["sample"].size
    print(
        f"{merged}: recipe {recipe['name']!r} (kind {recipe['kind']}, seed {recipe['seed']}"
        f"{', small' if recipe.get('small') else ''}), {n} samples"
    )
    print("splits:")
    for split in ("train", "val", "test"):
        rows = idx["split"] == split
        subj = np.unique(idx["subject"][rows])
        variants = {
            str(v): int(np.sum(idx["variant"][rows] == v)) for v in np.unique(idx["variant"][rows])
        }
        print(f"  {split:5s}: {int(rows.sum()):6d} samples, {subj.size:4d} subjects  {variants}")
    splits_of: dict[int, set[str]] = {}
    for subj, split in zip(idx["subject"].tolist(), idx["split"].tolist(), strict=True):
        splits_of.setdefault(int(subj), set()).add(str(split))
    shared = sorted(s for s, names in splits_of.items() if len(names) > 1)
    if shared:
        print(f"  WARNING: subjects in more than one split: {shared}")
    print("arrays (merged view):")
    for key, (shape, dtype) in data.items():
        print(f"  {key:20s} {str(shape):24s} {dtype}")
    mm = np.asarray(idx.get("motion_magnitude", np.array([])), dtype=float)
    print(
        f"motion magnitude{f' ({unit})' if unit else ''}: "
        + (
            f"mean {np.nanmean(mm):.3f}, min {np.nanmin(mm):.3f}, max {np.nanmax(mm):.3f}"
            if np.isfinite(mm).any()
            else "n/a"
        )
    )
    for line in _histogram(mm, args.bins):
        print(line)
    print("parameters:")
    for table in ("subjects", "split", "params"):
        print(f"  [{table}] " + json.dumps(recipe.get(table, {}), sort_keys=True))
    if args.verify:
        problems = verify_dataset(merged.parent)
        for p in problems:
            print(f"PROBLEM: {p}")
        print("verify: OK" if not problems else f"verify: {len(problems)} problem(s)")
        return 0 if not problems else 1
    return 0


def run_regenerate(args: argparse.Namespace) -> int:
    import mrsim
    from mrsim.dataset.build import regenerate_sample

    with user_input(args.file):
        sample, stored, attrs = regenerate_sample(args.file, args.sample)
    from mrsim.dataset.build import code_fingerprint

    if attrs.get("mrsim_code") not in (None, code_fingerprint()):
        print(
            f"note: stored with mrsim code {attrs.get('mrsim_code')}, "
            f"regenerating with {code_fingerprint()}"
        )
    if attrs.get("mrsim_version") != mrsim.__version__:
        print(
            f"note: stored with mrsim {attrs.get('mrsim_version')}, "
            f"regenerated with {mrsim.__version__}"
        )
    identical = True
    for key in sorted(set(stored) | set(sample.arrays)):
        if key not in stored or key not in sample.arrays:
            print(f"  {key:20s} only in {'stored' if key in stored else 'regenerated'}")
            identical = False
            continue
        a, b = stored[key], np.asarray(sample.arrays[key])
        same = a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
        diff = (
            float(np.max(np.abs(a.astype(complex) - b.astype(complex))))
            if (a.shape == b.shape and a.size)
            else float("nan")
        )
        print(f"  {key:20s} {'identical' if same else f'DIFFERS (max |diff| {diff:.3g})'}")
        identical &= same
    if args.out:
        from mrsim.io.hdf5 import write_shard

        sample.attrs = {k: v for k, v in attrs.items()}
        write_shard(Path(args.out), [(args.sample, sample)])
        print(f"wrote {args.out}")
    print(f"sample {args.sample}: " + ("bit-identical" if identical else "NOT identical"))
    return 0 if identical else 1
