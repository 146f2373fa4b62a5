"""MC-Net benchmark (seed 001): CPU-sized dataset, and SSIM vs motion magnitude sweep.

Two steps, around ``python -m correctors.mcnet train`` / ``eval``::

    # 1. a CPU-sized build of the shipped mcnet_mprage recipe (same physics: 128^3
    #    MP-RAGE k-space by NUFFT, 10 sagittal slices at 5 mm, PACE-like x8 motion,
    #    rot / rot_trans; only fewer synthetic subjects and trajectories). The recipe's
    #    anatomy, contrast and source resolution (full head, echo-train, 1 mm) can be set:
    #    the shipped head-trained weights used --phantom head --contrast echo-train
    #    --source-oversample 1, the earlier template-trained ones --phantom template
    #    --contrast static --source-oversample 1.
    .venv/bin/python benchmarks/mcnet_sweep.py data --out data/mcnet_cpu_head \
        --phantom head --contrast echo-train --source-oversample 1
    # 2. train, then evaluate on the test split (seed 001 Fig. 4 table)
    .venv/bin/python -m correctors.mcnet train --data data/mcnet_cpu --out runs/mcnet_cpu
    .venv/bin/python -m correctors.mcnet eval --model runs/mcnet_cpu --data data/mcnet_cpu \\
        --out runs/mcnet_cpu/eval
    # 3. the sweep (seed 001 Fig. 5): held-out subjects x held-out trajectories x scale
    .venv/bin/python benchmarks/mcnet_sweep.py sweep --model runs/mcnet_cpu \\
        --data data/mcnet_cpu --out docs/benchmarks/mcnet_sweep

The sweep uses the test-split subjects of the dataset (never seen in training).
For each one, each variant, each trajectory scale factor (seed 001 multiplies
by 8) and each of ``--seeds`` trajectories, it makes a fresh sample with
:func:`mrsim.dataset.samples.make_sample` (the dataset's own sample function,
so the physics is identical). The trajectory seeds are
``[recipe seed, DOMAIN_TRAJECTORY, 100000 + j]``, disjoint from the training
trajectories ``[.., .., j < n_trajectories]``. The motion magnitude is
seed 001's "standard deviation of motion across 128 time points" (the sample's
``motion_magnitude``: the mean over the variant's moving parameters of each
parameter's std). SSIM follows DESIGN.md (per 2D slice, data_range = max of
the whole clean reference volume, the sample's ``clean_volume_max``), averaged
over the sample's slices. Each bin (scale) reports mean and std over subjects x trajectories.

Outputs: ``OUT.csv`` (one row per sample), ``OUT_summary.csv`` (one row per
variant and scale) and ``OUT.png``. With ``--cache DIR`` the simulated samples are kept
(.npz, atomic) so another model is swept on the very same samples without re-simulating.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: Overrides of the shipped recipe for the CPU benchmark (everything else as shipped).
CPU_OVERRIDES = {
    "name": "mcnet_mprage_cpu",
    "subjects": {"n": 12},
    "split": {"train": 8, "val": 1, "test": 3},
    "params": {"n_trajectories": 16},
}

#: Trajectory seeds of the sweep start here (training trajectories use j < n_trajectories).
SWEEP_TRAJECTORY_OFFSET = 100_000


def cpu_recipe(recipe_path: Path, overrides: dict):
    """The shipped recipe with ``overrides`` merged table by table."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    from mrsim.dataset.recipe import recipe_from_dict

    raw = tomllib.loads(recipe_path.read_text())
    raw.pop("small", None)
    for key, value in overrides.items():
        if isinstance(value, dict):
            raw[key] = {**raw.get(key, {}), **value}
        else:
            raw[key] = value
    return recipe_from_dict(raw, source=str(recipe_path))


def cmd_data(a: argparse.Namespace) -> int:
    from mrsim.dataset.build import build_dataset

    overrides = json.loads(a.overrides) if a.overrides else json.loads(json.dumps(CPU_OVERRIDES))
    # the anatomy/contrast/source options on top (None: the recipe file's value)
    chosen = {
        "phantom": a.phantom,
        "contrast": a.contrast,
        "source_oversample": a.source_oversample,
    }
    chosen = {k: v for k, v in chosen.items() if v is not None}
    if chosen:
        overrides["params"] = {**overrides.get("params", {}), **chosen}
    recipe = cpu_recipe(Path(a.recipe), overrides)
    t0 = time.perf_counter()
    build_dataset(recipe, a.out, workers=a.workers, threads=a.threads)
    print(f"built {a.out} in {time.perf_counter() - t0:.0f} s with overrides {overrides}")
    return 0


def _sweep_samples(plan: list[dict], scales: list[float], n_seeds: int, variants: list[str]):
    from mrsim.dataset.subjects import DOMAIN_TRAJECTORY

    templates = {}
    for p in plan:
        if p["split"] == "test" and p["variant"] in variants:
            templates.setdefault((p["subject"], p["variant"]), p)
    if not templates:
        raise ValueError("the recipe has no test-split samples for the requested variants")
    for (subject, variant), tpl in sorted(templates.items()):
        rseed = tpl["trajectory_seed"][0]
        for scale in scales:
            for j in range(n_seeds):
                params = dict(tpl)
                params["scale"] = float(scale)
                params["trajectory"] = SWEEP_TRAJECTORY_OFFSET + j
                params["trajectory_seed"] = [rseed, DOMAIN_TRAJECTORY, SWEEP_TRAJECTORY_OFFSET + j]
                yield subject, variant, scale, j, params


def cmd_sweep(a: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    from correctors.mcnet.evaluate import evaluate_samples
    from correctors.mcnet.infer import load_model
    from mrsim.dataset.build import plan_samples
    from mrsim.dataset.recipe import recipe_from_dict
    from mrsim.dataset.samples import make_sample
    from mrsim.io.hdf5 import read_json
    from mrsim.kspace.reuse import reuse_spectra

    if a.threads:
        torch.set_num_threads(a.threads)
    plan_doc = read_json(Path(a.data) / "plan.json")
    recipe = recipe_from_dict(plan_doc["recipe"], source=plan_doc["recipe_source"])
    plan = plan_samples(recipe)
    model = load_model(a.model, a.device)
    scales = [float(s) for s in a.scales.split(",")]
    variants = a.variants.split(",")
    jobs = list(_sweep_samples(plan, scales, a.seeds, variants))
    rows = []
    t0 = time.perf_counter()
    cache = Path(a.cache) if a.cache else None
    # as in a dataset build: one subject's spectra / head model reused by its samples
    # (bit-identical to recomputing, tests/test_perf_reuse.py, test_head_recipe_defaults.py)
    with reuse_spectra(2):
        for subject, variant, scale, j, params in tqdm(jobs, desc="mcnet sweep"):
            item = _sweep_item(params, cache, a.threads or 1, make_sample)
            per_slice = evaluate_samples(model, [item])
            rows.append(
                {
                    "subject": subject,
                    "variant": variant,
                    "scale": scale,
                    "trajectory": j,
                    "motion_std": item["motion_magnitude"],
                    "ssim_corrupted": float(np.mean([r["ssim_corrupted"] for r in per_slice])),
                    "ssim_corrected": float(np.mean([r["ssim_corrected"] for r in per_slice])),
                    "psnr_corrupted": float(np.mean([r["psnr_corrupted"] for r in per_slice])),
                    "psnr_corrected": float(np.mean([r["psnr_corrected"] for r in per_slice])),
                }
            )
    elapsed = time.perf_counter() - t0
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(rows, out.with_suffix(".csv"))
    summary = summarize_sweep(rows)
    _write_csv(summary, out.with_name(out.name + "_summary.csv"))
    plot_sweep(rows, summary, out.with_suffix(".png"))
    print(markdown_summary(summary))
    print(
        f"{len(rows)} samples in {elapsed:.0f} s on {platform.node()} "
        f"({platform.processor() or platform.machine()}), torch threads {torch.get_num_threads()}"
    )
    return 0


def _sweep_item(params: dict, cache: Path | None, threads: int, make_sample) -> dict:
    """One sweep sample's arrays: made by the dataset's sample function, or read back from
    ``cache`` (an .npz per sample, keyed by a digest of its params) so that a second model
    is evaluated on the same samples without re-simulating them. The key includes the
    fingerprint of mrsim's code, so samples cached by other physics are never reused."""
    import hashlib

    from mrsim.dataset.build import code_fingerprint

    path = None
    if cache is not None:
        keyed = {"params": params, "mrsim_code": code_fingerprint()}
        key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:24]
        path = cache / f"{key}.npz"
        if path.exists():
            with np.load(path) as z:
                return {
                    "corrupted": z["corrupted"],
                    "clean": z["clean"],
                    "data_range": float(z["data_range"]),
                    "motion_magnitude": float(z["motion_magnitude"]),
                }
    s = make_sample(params, threads=threads)
    item = {
        "corrupted": s.arrays["corrupted"],
        "clean": s.arrays["clean"],
        "data_range": s.attrs["clean_volume_max"],
        "motion_magnitude": s.attrs["motion_magnitude"],
    }
    if path is not None:
        from mrsim.io.atomic import atomic_path

        cache.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **item)
    return item


def summarize_sweep(rows: list[dict]) -> list[dict]:
    """Mean/std over subjects x trajectories per (variant, scale)."""
    out = []
    keys = sorted({(r["variant"], r["scale"]) for r in rows})
    for variant, scale in keys:
        rs = [r for r in rows if r["variant"] == variant and r["scale"] == scale]
        m = {k: np.array([r[k] for r in rs]) for k in rs[0] if k not in ("variant",)}
        gain = m["ssim_corrected"] - m["ssim_corrupted"]
        out.append(
            {
                "variant": variant,
                "scale": scale,
                "n_samples": len(rs),
                "motion_std_mean": float(m["motion_std"].mean()),
                "motion_std_min": float(m["motion_std"].min()),
                "motion_std_max": float(m["motion_std"].max()),
                "ssim_corrupted_mean": float(m["ssim_corrupted"].mean()),
                "ssim_corrupted_std": float(m["ssim_corrupted"].std()),
                "ssim_corrected_mean": float(m["ssim_corrected"].mean()),
                "ssim_corrected_std": float(m["ssim_corrected"].std()),
                "ssim_gain_mean": float(gain.mean()),
                "ssim_gain_min": float(gain.min()),
                "frac_improved": float(np.mean(gain > 0)),
            }
        )
    return out


def markdown_summary(summary: list[dict]) -> str:
    lines = [
        "| variant | scale | samples | motion std (mm/deg) | SSIM corrupted | SSIM MC-Net "
        "| mean gain | min gain | improved |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        lines.append(
            f"| {s['variant']} | {s['scale']:g} | {s['n_samples']} | "
            f"{s['motion_std_mean']:.2f} ({s['motion_std_min']:.2f}-{s['motion_std_max']:.2f}) | "
            f"{s['ssim_corrupted_mean']:.3f} ± {s['ssim_corrupted_std']:.3f} | "
            f"{s['ssim_corrected_mean']:.3f} ± {s['ssim_corrected_std']:.3f} | "
            f"{s['ssim_gain_mean']:+.3f} | {s['ssim_gain_min']:+.3f} | "
            f"{100 * s['frac_improved']:.0f}% |"
        )
    return "\n".join(lines)


def plot_sweep(rows: list[dict], summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = sorted({r["variant"] for r in rows})
    fig, axes = plt.subplots(1, len(variants), figsize=(5.5 * len(variants), 4.2), squeeze=False)
    for ax, v in zip(axes[0], variants, strict=True):
        rs = [r for r in rows if r["variant"] == v]
        x = np.array([r["motion_std"] for r in rs])
        ax.scatter(x, [r["ssim_corrupted"] for r in rs], s=10, color="C3", alpha=0.4)
        ax.scatter(x, [r["ssim_corrected"] for r in rs], s=10, color="C0", alpha=0.4)
        ss = [s for s in summary if s["variant"] == v]
        xm = [s["motion_std_mean"] for s in ss]
        ax.errorbar(
            xm,
            [s["ssim_corrupted_mean"] for s in ss],
            yerr=[s["ssim_corrupted_std"] for s in ss],
            color="C3",
            marker="o",
            capsize=3,
            label="corrupted",
        )
        ax.errorbar(
            xm,
            [s["ssim_corrected_mean"] for s in ss],
            yerr=[s["ssim_corrected_std"] for s in ss],
            color="C0",
            marker="s",
            capsize=3,
            label="MC-Net",
        )
        for s in ss:
            ax.annotate(
                f"x{s['scale']:g}",
                (s["motion_std_mean"], s["ssim_corrupted_mean"]),
                textcoords="offset points",
                xytext=(3, -12),
                fontsize=7,
            )
        ax.set_xlabel("motion std over 128 points (mm / deg)")
        ax.set_ylabel("SSIM vs clean")
        ax.set_title(f"{v}: held-out subjects and trajectories")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data", help="build the CPU-sized mcnet_mprage dataset")
    d.add_argument("--recipe", default=str(ROOT / "datasets" / "mcnet_mprage.toml"))
    d.add_argument("--out", required=True)
    d.add_argument(
        "--overrides",
        default=None,
        help=f"JSON overrides of the recipe (default {json.dumps(CPU_OVERRIDES)})",
    )
    d.add_argument("--phantom", choices=("template", "head"), default=None, help="params.phantom")
    d.add_argument(
        "--contrast", choices=("static", "echo-train"), default=None, help="params.contrast"
    )
    d.add_argument("--source-oversample", type=int, default=None, help="params.source_oversample")
    d.add_argument("--workers", type=int, default=1)
    d.add_argument("--threads", type=int, default=None)
    s = sub.add_parser("sweep", help="SSIM vs motion magnitude on held-out data")
    s.add_argument("--model", required=True, help="trained model (dir or .pt)")
    s.add_argument("--data", required=True, help="dataset dir built by `data` (its plan.json)")
    s.add_argument(
        "--out",
        default=str(ROOT / "docs" / "benchmarks" / "mcnet_sweep"),
        help="output stem: STEM.csv, STEM_summary.csv, STEM.png",
    )
    s.add_argument("--scales", default="1,2,4,8,12", help="trajectory scale factors")
    s.add_argument("--seeds", type=int, default=3, help="held-out trajectories per scale")
    s.add_argument("--variants", default="rot,rot_trans")
    s.add_argument("--threads", type=int, default=None)
    s.add_argument("--device", default="auto")
    s.add_argument(
        "--cache",
        default=None,
        help="folder of simulated sweep samples (.npz): written on the first run, read by "
        "later runs with other models",
    )
    a = ap.parse_args(argv)
    return {"data": cmd_data, "sweep": cmd_sweep}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
