"""VQ prior benchmark (seed 003): does a clean-image prior generalise to unseen motion?

On the held-out (test-split) subjects of an ``mcnet_mprage`` dataset, fresh corrupted
volumes are simulated with :func:`mrsim.kspace.corrupt.corrupt` (the engine's front door)
for three groups of motion:

* ``a``, what MC-Net and the disentangled encoder were trained on: PACE-like x8
  trajectories (seed 001), ``rot`` and ``rot_trans``, linear ordering, S-I readout, one
  pose per shot; trajectories held out (seeds ``[recipe seed, 2, 100000 + j]``);
* ``b``, what none of the correctors saw (all in-plane ``rot_trans`` parameters):
  ``events`` seed-002 event steps (2-3 sudden moves within +-5 mm / +-5 deg,
  :func:`mrsim.motion.generators.event_profile`); ``jitter`` independent random poses per
  k-space line (Gaussian, ``--jitter`` mm / deg std, ``granularity="line"``, nearest);
  ``centric`` PACE-like x8 with centric ordering; ``readout_ap`` PACE-like x8 with the
  readout along A-P (array axis 1) instead of S-I;
* ``c``, a severity sweep: PACE-like ``rot_trans`` at scale 1, 2, 4, 8, 12.

Every method corrects the same ten sagittal slices (the dataset's positions); SSIM and
PSNR follow DESIGN.md (per slice, ``data_range`` = max of the clean volume). Methods:
``mcnet`` (if ``--mcnet-model`` is given or shipped weights exist), and the VQ modes
(``recon``: VQ-VAE projection; ``prior``: clean-only prior refinement; ``disentangled``;
``disentangled_noprior``). Also the VQ-VAE's ceiling (SSIM of its reconstruction of the
clean slices) and its codebook usage on the test subjects' clean slices.

Outputs: ``OUT.csv`` (one row per sample x method, means over slices), ``OUT_summary.csv``
(per case x method: mean, std, min of SSIM / PSNR gain, fraction improved),
``OUT_ceiling.json``, ``OUT.png``::

    .venv/bin/python benchmarks/vqprior_eval.py --model runs/vqprior_cpu \\
        --data runs/vqprior_data --out docs/benchmarks/vqprior_eval --threads 1
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

SWEEP_TRAJECTORY_OFFSET = 100_000
EXAMPLE_CASES = ("pace_rot_trans", "events", "jitter", "readout_ap")
DOMAIN_BENCH = 7  # seeds of event / jitter trajectories: [recipe seed, 7, case, j]
CASES = (
    ("a", "pace_rot"),
    ("a", "pace_rot_trans"),
    ("b", "events"),
    ("b", "jitter"),
    ("b", "centric"),
    ("b", "readout_ap"),
    ("c", "scale_1"),
    ("c", "scale_2"),
    ("c", "scale_4"),
    ("c", "scale_8"),
    ("c", "scale_12"),
)


def _trajectory(case: str, p: dict, j: int, jitter: float, n_lines: int):
    from mrsim.dataset.mcnet_mprage import variant_columns
    from mrsim.dataset.subjects import DOMAIN_TRAJECTORY, seeded_rng
    from mrsim.motion.generators import event_profile, pace_like
    from mrsim.motion.trajectory import Trajectory

    seed = int(p["trajectory_seed"][0])
    duration = 128 * float(p["shot_tr_s"])
    variant = "rot" if case == "pace_rot" else "rot_trans"
    cols = variant_columns(variant, int(p["slice_axis"]))
    if case == "events":
        traj = event_profile(
            duration_s=duration,
            n=128,
            max_mm=5.0,
            max_deg=5.0,
            seed=seeded_rng([seed, DOMAIN_BENCH, 0, j]),
        )
    elif case == "jitter":
        rng = seeded_rng([seed, DOMAIN_BENCH, 1, j])
        t = np.linspace(0.0, duration, n_lines)
        traj = Trajectory(t, jitter * rng.standard_normal((n_lines, 6)))
    else:
        scale = float(case.split("_")[1]) if case.startswith("scale_") else float(p["scale"])
        traj = pace_like(
            n=int(p["trajectory_points"]),
            limit_mm=float(p["limit_mm"]),
            limit_deg=float(p["limit_deg"]),
            scale=scale,
            duration_s=duration,
            seed=seeded_rng([seed, DOMAIN_TRAJECTORY, SWEEP_TRAJECTORY_OFFSET + j]),
        )
    return Trajectory(traj.t_s, np.where(cols, traj.params, 0.0))


def simulate(case: str, p: dict, image: np.ndarray, j: int, jitter: float, threads: int):
    """(corrupted, clean) magnitude volumes and the motion std of one benchmark sample."""
    from mrsim.kspace.corrupt import corrupt
    from mrsim.kspace.schedule import mprage_schedule

    shape = tuple(int(n) for n in p["shape"])
    readout = 1 if case == "readout_ap" else int(p["readout_axis"])
    ordering = "centric" if case == "centric" else p["ordering"]
    sched = mprage_schedule(
        shape, ordering=ordering, readout_axis=readout, shot_tr_s=float(p["shot_tr_s"])
    )
    n_lines = int(np.prod(shape)) // shape[readout]
    traj = _trajectory(case, p, j, jitter, n_lines)
    line = case == "jitter"
    res = corrupt(
        image,
        traj,
        sched,
        float(p["fov_mm"]) / shape[0],
        mapping="stretch",
        method="nearest" if line else "linear",
        rereference_center=True,
        granularity="line" if line else "shot",
        eps=float(p["nufft_eps"]),
        nthreads=threads,
    )
    moving = np.any(traj.params != 0, axis=0)
    return res.image, res.clean, float(np.std(traj.params, axis=0)[moving].mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="vqprior training dir / model.pt")
    ap.add_argument("--data", required=True, help="mcnet_mprage dataset (its test subjects)")
    ap.add_argument("--out", required=True, help="output prefix")
    ap.add_argument("--mcnet-model", default=None, help="MC-Net model (dir or .pt)")
    ap.add_argument("--modes", default="recon,prior,disentangled,disentangled_noprior")
    ap.add_argument("--cases", default=",".join(c for _, c in CASES))
    ap.add_argument("--seeds", type=int, default=2, help="trajectories per subject and case")
    ap.add_argument("--subjects", type=int, default=None, help="at most this many subjects")
    ap.add_argument("--jitter", type=float, default=0.5, help="per-line jitter std (mm | deg)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--split", default="test", help="subjects of this split (val: tuning)")
    ap.add_argument("--temperature-scale", type=float, default=1.0)
    ap.add_argument("--refine-order", choices=("parallel", "raster"), default="parallel")
    ap.add_argument("--prior-weight", type=float, default=1.0)
    ap.add_argument("--threshold-quantile", type=float, default=0.05)
    ap.add_argument("--cache", default=None, help="folder of simulated samples (reused)")
    ap.add_argument("--simulate-only", action="store_true", help="fill --cache and stop")
    a = ap.parse_args(argv)

    import torch

    from correctors.common.checkpoints import shipped_weights_dir
    from correctors.mcnet.evaluate import evaluate_samples
    from correctors.mcnet.infer import correct_slices
    from correctors.vqprior.data import dataset_plan
    from correctors.vqprior.infer import load_model
    from mrsim.dataset.mcnet_mprage import slice_indices
    from mrsim.dataset.subjects import load_subject
    from mrsim.metrics import ssim

    torch.set_num_threads(a.threads)
    vq = load_model(a.model)
    vq.temperature_scale, vq.prior_weight = a.temperature_scale, a.prior_weight
    vq.threshold_quantile, vq.refine_order = a.threshold_quantile, a.refine_order
    methods: dict[str, object] = {m: vq for m in a.modes.split(",") if m}
    mc_path = a.mcnet_model
    if mc_path is None and (shipped_weights_dir("mcnet") / "model.pt").exists():
        mc_path = str(shipped_weights_dir("mcnet"))
    if mc_path is not None:
        from correctors.mcnet.infer import load_model as load_mcnet

        methods = {"mcnet": load_mcnet(mc_path)} | methods
    plan = dataset_plan(a.data)
    tests: dict[int, dict] = {}
    for p in plan:
        if p["split"] == a.split:
            tests.setdefault(int(p["subject"]), p)
    subjects = sorted(tests)[: a.subjects]
    cases = [c for c in a.cases.split(",") if c]
    rows, ceiling = [], {"ssim": [], "codes_top": [], "codes_bottom": []}
    examples: dict[str, dict] = {}
    t0 = time.perf_counter()
    for s in subjects:
        p = tests[s]
        shape = tuple(int(n) for n in p["shape"])
        vox = float(p["fov_mm"]) / shape[0]
        image = _Lazy(
            lambda p=p, shape=shape, vox=vox: load_subject(p["subject_spec"], shape, (vox,) * 3)[
                "t1"
            ]
        )
        idx = slice_indices(shape[0], int(p["n_slices"]), float(p["slice_step_mm"]), vox)
        for case in cases:
            group = next(g for g, c in CASES if c == case)
            for j in range(a.seeds):
                sample, mstd = _sample(a, case, p, s, j, idx, image.get)
                if a.simulate_only:
                    continue
                if case == cases[0] and j == 0:
                    _ceiling(vq, sample["clean"], sample["data_range"], ceiling, ssim)
                show = s == subjects[0] and j == 0 and case in EXAMPLE_CASES
                if show:
                    k = sample["clean"].shape[0] // 2
                    examples[case] = {
                        "clean": sample["clean"][k],
                        "corrupted": sample["corrupted"][k],
                    }
                for name, model in methods.items():
                    if name != "mcnet":
                        vq.mode = name
                    vq.last_replaced = {}
                    per = evaluate_samples(model, [sample])
                    rep = dict(vq.last_replaced) if name != "mcnet" else {}
                    if show:
                        examples[case][name] = correct_slices(
                            model, sample["corrupted"][k : k + 1]
                        )[0]
                    rows.append(
                        {
                            "group": group,
                            "case": case,
                            "subject": s,
                            "trajectory": j,
                            "motion_std": mstd,
                            "method": name,
                        }
                        | {
                            k: float(np.mean([r[k] for r in per]))
                            for k in (
                                "ssim_corrupted",
                                "ssim_corrected",
                                "psnr_corrupted",
                                "psnr_corrected",
                            )
                        }
                        | {
                            f"replaced_{lv}": rep.get(f"replaced_{lv}", 0.0)
                            for lv in ("top", "bottom")
                        }
                    )
                print(
                    f"subject {s} {case} {j}: "
                    + ", ".join(
                        f"{r['method']} {r['ssim_corrupted']:.3f}->{r['ssim_corrected']:.3f}"
                        for r in rows[-len(methods) :]
                    ),
                    flush=True,
                )
    elapsed = time.perf_counter() - t0
    if a.simulate_only:
        print(f"simulated into {a.cache} in {elapsed:.0f} s")
        return 0
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(rows, out.with_suffix(".csv"))
    summary = summarize(rows)
    _write_csv(summary, out.with_name(out.name + "_summary.csv"))
    cz = _ceiling_summary(ceiling, vq)
    meta = {
        "command": " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
        "machine": f"{platform.node()} {platform.machine()} {platform.processor()}",
        "torch_threads": torch.get_num_threads(),
        "elapsed_s": round(elapsed, 1),
        "subjects": subjects,
        "refine": {
            "threshold_quantile": vq.threshold_quantile,
            "prior_weight": vq.prior_weight,
            "iterations": vq.iterations,
            "temperature_scale": vq.temperature_scale,
            "refine_order": vq.refine_order,
        },
    }
    (out.with_name(out.name + "_ceiling.json")).write_text(
        json.dumps(cz | {"meta": meta}, indent=1)
    )
    plot(summary, out.with_suffix(".png"))
    plot_examples(examples, out.with_name(out.name + "_examples.png"))
    print(markdown(summary))
    print(json.dumps(cz, indent=1))
    print(f"{len(rows)} rows in {elapsed:.0f} s")
    return 0


class _Lazy:
    def __init__(self, fn):
        self.fn, self.value = fn, None

    def get(self):
        if self.value is None:
            self.value = self.fn()
        return self.value


def _sample(a, case, p, subject, j, idx, image):
    """The benchmark sample (10 slices of corrupted and clean, data range), cached."""
    f = None if a.cache is None else Path(a.cache) / f"{case}_s{subject}_j{j}_jit{a.jitter}.npz"
    if f is not None and f.exists():
        z = np.load(f)
        return {
            "corrupted": z["corrupted"],
            "clean": z["clean"],
            "data_range": float(z["data_range"]),
        }, float(z["motion_std"])
    cor, clean, mstd = simulate(case, p, image(), j, a.jitter, a.threads)
    sample = {"corrupted": cor[idx], "clean": clean[idx], "data_range": float(clean.max())}
    if f is not None:
        from mrsim.io.atomic import atomic_path

        f.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(f) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, motion_std=mstd, **sample)
    return sample, mstd


def _ceiling(vq, clean_slices, data_range, acc, ssim) -> None:
    import torch

    x = torch.from_numpy(np.ascontiguousarray(clean_slices, dtype=np.float32))[:, None]
    with torch.no_grad():
        rec = vq.correct(x, mode="recon")[:, 0].numpy()
        ct, cb = vq.vq.encode(x / x.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt())
    acc["ssim"] += [
        ssim(c, r, data_range=data_range) for c, r in zip(clean_slices, rec, strict=True)
    ]
    acc["codes_top"].append(ct.reshape(-1))
    acc["codes_bottom"].append(cb.reshape(-1))


def _ceiling_summary(acc, vq) -> dict:
    import torch

    from correctors.vqprior.quantizer import code_perplexity

    out = {
        "vq_recon_ssim_mean": float(np.mean(acc["ssim"])),
        "vq_recon_ssim_std": float(np.std(acc["ssim"])),
        "clean_slices": len(acc["ssim"]),
    }
    for level, k in (("top", vq.vq_cfg.num_codes_top), ("bottom", vq.vq_cfg.num_codes_bottom)):
        perp, used = code_perplexity(torch.cat(acc[f"codes_{level}"]), k)
        out[f"perplexity_{level}"], out[f"usage_{level}"], out[f"codebook_{level}"] = perp, used, k
    return out


def summarize(rows: list[dict]) -> list[dict]:
    """Per (group, case, method): mean / std / min of the SSIM and PSNR gains."""
    out = []
    keys = list(dict.fromkeys((r["group"], r["case"], r["method"]) for r in rows))
    for g, c, m in keys:
        rs = [r for r in rows if (r["group"], r["case"], r["method"]) == (g, c, m)]
        gain = np.array([r["ssim_corrected"] - r["ssim_corrupted"] for r in rs])
        pg = np.array([r["psnr_corrected"] - r["psnr_corrupted"] for r in rs])
        out.append(
            {
                "group": g,
                "case": c,
                "method": m,
                "n_samples": len(rs),
                "motion_std_mean": float(np.mean([r["motion_std"] for r in rs])),
                "ssim_corrupted_mean": float(np.mean([r["ssim_corrupted"] for r in rs])),
                "ssim_corrected_mean": float(np.mean([r["ssim_corrected"] for r in rs])),
                "ssim_gain_mean": float(gain.mean()),
                "ssim_gain_std": float(gain.std()),
                "ssim_gain_min": float(gain.min()),
                "psnr_gain_mean_db": float(pg.mean()),
                "psnr_gain_std_db": float(pg.std()),
                "frac_improved": float(np.mean(gain > 0)),
                "replaced_top_mean": float(np.mean([r["replaced_top"] for r in rs])),
                "replaced_bottom_mean": float(np.mean([r["replaced_bottom"] for r in rs])),
            }
        )
    return out


def markdown(summary: list[dict]) -> str:
    lines = [
        "| group | case | method | n | motion std | SSIM corrupted | SSIM corrected | SSIM gain "
        "(mean ± std, min) | PSNR gain dB | improved |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        lines.append(
            f"| {s['group']} | {s['case']} | {s['method']} | {s['n_samples']} | "
            f"{s['motion_std_mean']:.2f} | {s['ssim_corrupted_mean']:.3f} | "
            f"{s['ssim_corrected_mean']:.3f} | {s['ssim_gain_mean']:+.3f} ± "
            f"{s['ssim_gain_std']:.3f} ({s['ssim_gain_min']:+.3f}) | "
            f"{s['psnr_gain_mean_db']:+.2f} ± {s['psnr_gain_std_db']:.2f} | "
            f"{100 * s['frac_improved']:.0f}% |"
        )
    return "\n".join(lines)


def plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(s["method"] for s in summary))
    cases = [c for c in dict.fromkeys(s["case"] for s in summary) if not c.startswith("scale_")]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    w = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        vals = [
            next((s for s in summary if s["case"] == c and s["method"] == m), None) for c in cases
        ]
        ax.bar(
            np.arange(len(cases)) + (i - (len(methods) - 1) / 2) * w,
            [v["ssim_gain_mean"] if v else np.nan for v in vals],
            w,
            yerr=[v["ssim_gain_std"] if v else 0 for v in vals],
            label=m,
            capsize=2,
        )
        sw = sorted(
            (s for s in summary if s["case"].startswith("scale_") and s["method"] == m),
            key=lambda s: float(s["case"].split("_")[1]),
        )
        if sw:
            bx.errorbar(
                [float(s["case"].split("_")[1]) for s in sw],
                [s["ssim_gain_mean"] for s in sw],
                [s["ssim_gain_std"] for s in sw],
                marker="o",
                capsize=2,
                label=m,
            )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(cases)), cases, rotation=20)
    ax.set_ylabel("SSIM gain (corrected - corrupted)")
    ax.set_title("(a) trained-on motion, (b) unseen motion")
    ax.legend(fontsize=7)
    bx.axhline(0, color="k", lw=0.8)
    bx.set_xlabel("trajectory scale (rot_trans, PACE-like)")
    bx.set_title("(c) severity sweep")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_examples(examples: dict[str, dict], path: Path) -> None:
    """The middle slice of the first subject's first trajectory per case, every method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not examples:
        return
    cols = list(next(iter(examples.values())))
    fig, axes = plt.subplots(
        len(examples), len(cols), figsize=(1.9 * len(cols), 2.0 * len(examples)), squeeze=False
    )
    for r, (case, ex) in enumerate(examples.items()):
        vmax = float(ex["clean"].max())
        for c, name in enumerate(cols):
            ax = axes[r][c]
            ax.imshow(np.rot90(ex[name]), cmap="gray", vmin=0, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=8)
        axes[r][0].set_ylabel(case, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
