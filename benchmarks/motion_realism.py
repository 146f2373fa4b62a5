"""Realism of the `realistic` generator vs published motion statistics and offline real traces.

Statistics (Power FD, r = 50 mm): mean FD per run, fraction of frames above 0.2 / 0.5 mm,
per-parameter step sizes (50 / 95 / 99 % quantiles of |delta|), the translation power
spectrum (Welch) and the share of the FD of high-motion frames (FD > 0.3 mm) carried by
pitch (rx) and the y / z translations, which Frew et al. (2022) found to dominate every
high-motion spike. The generator is run at the HCP rest protocol (TR 0.72 s, 1200 frames)
with the magnitudes the recentre predictor trains on (log-uniform 0.3-3 mm), with the jerk
style before (``isotropic``) and after (``nod``) the retune. The offline real traces are
nilearn's bundled SPM ``spm_confounds.txt`` (20 frames) and fMRIPrep
``test_desc-confounds_regressors.tsv`` (30 frames); their TR is not stated, so only
frame-to-frame quantities are compared.

Writes docs/motion_realism.md, docs/motion_realism.json, docs/img/motion_realism.png.

    python benchmarks/motion_realism.py --n 40
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import welch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mrsim.motion.fd import power_fd  # noqa: E402
from mrsim.motion.formats import read_trajectory  # noqa: E402
from mrsim.motion.generators import realistic  # noqa: E402
from mrsim.motion.trajectory import PARAM_NAMES  # noqa: E402

TR_S = 0.72
N_FRAMES = 1200
RESP_BAND_HZ = (0.31, 0.43)  # Fair et al. 2020, ABCD band-stop filter


def real_traces() -> dict:
    import nilearn

    base = Path(nilearn.__file__).parent
    files = {
        "SPM spm_confounds.txt": (base / "datasets" / "data" / "spm_confounds.txt", "spm"),
        "fMRIPrep test_desc-confounds_regressors.tsv": (
            base / "interfaces" / "fmriprep" / "data" / "test_desc-confounds_regressors.tsv",
            None,
        ),
    }
    return {k: read_trajectory(p, format=f, tr_s=2.0) for k, (p, f) in files.items() if p.is_file()}


def frame_stats(traj) -> dict:
    """Frame-to-frame statistics of one run."""
    p = np.asarray(traj.params)
    fd = power_fd(traj)[1:]
    d = np.abs(np.diff(p, axis=0))
    contrib = d.copy()
    contrib[:, 3:] *= 50.0 * np.pi / 180.0  # Power FD parts, mm
    hi = fd > 0.3
    share = (
        float((contrib[hi][:, [1, 2, 3]].sum()) / contrib[hi].sum()) if hi.any() else float("nan")
    )
    return {
        "n_frames": len(p),
        "mean_fd_mm": float(fd.mean()),
        "median_fd_mm": float(np.median(fd)),
        "frac_fd_gt_0.2": float((fd > 0.2).mean()),
        "frac_fd_gt_0.5": float((fd > 0.5).mean()),
        "n_fd_gt_0.3": int(hi.sum()),
        "pitch_y_z_share_of_fd_gt_0.3": share,
        "step_q50": np.quantile(d, 0.5, axis=0).tolist(),
        "step_q95": np.quantile(d, 0.95, axis=0).tolist(),
        "step_q99": np.quantile(d, 0.99, axis=0).tolist(),
        "fd": fd,
    }


#: Generator settings compared: the defaults before and after the retune.
CONFIGS = {
    "before": {"jerk_style": "isotropic", "jitter": 0.0},
    "after": {"jerk_style": "nod", "jitter": 0.03},
}


def generated(n: int, style: str, seed: int = 31) -> list:
    rng = np.random.default_rng([seed, 2])
    mags = np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    return [
        realistic(
            N_FRAMES,
            tr_s=TR_S,
            magnitude_mm=float(mags[i]),
            seed=np.random.default_rng([seed, i]),
            **CONFIGS[style],
        )
        for i in range(n)
    ]


def spectrum(trajs) -> tuple[np.ndarray, np.ndarray]:
    """Mean Welch spectrum of the (detrended) translations, summed over x, y, z."""
    ps = []
    for tr in trajs:
        f, pxx = welch(np.asarray(tr.params)[:, :3], fs=1 / TR_S, nperseg=256, axis=0)
        ps.append(pxx.sum(axis=1) / pxx.sum())
    return f, np.mean(ps, axis=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=40, help="generated runs per style")
    ap.add_argument("--out", default=str(ROOT / "docs"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    (out / "img").mkdir(parents=True, exist_ok=True)
    res: dict = {"generated": {}, "real": {}}
    fds, specs = {}, {}
    for style in CONFIGS:
        trajs = generated(args.n, style)
        st = [frame_stats(t) for t in trajs]
        fds[style] = np.concatenate([s["fd"] for s in st])
        specs[style] = spectrum(trajs)
        f, s = specs[style]
        band = (f >= RESP_BAND_HZ[0]) & (f <= RESP_BAND_HZ[1])
        shares = [s_["pitch_y_z_share_of_fd_gt_0.3"] for s_ in st]
        res["generated"][style] = {
            "mean_fd_mm_median_over_runs": float(np.median([s_["mean_fd_mm"] for s_ in st])),
            "mean_fd_mm_range": [
                float(min(s_["mean_fd_mm"] for s_ in st)),
                float(max(s_["mean_fd_mm"] for s_ in st)),
            ],
            "frac_fd_gt_0.2_pooled": float((fds[style] > 0.2).mean()),
            "frac_fd_gt_0.5_pooled": float((fds[style] > 0.5).mean()),
            "pitch_y_z_share_of_fd_gt_0.3_pooled": float(
                np.nanmean(shares) if np.isfinite(shares).any() else np.nan
            ),
            "n_frames_fd_gt_0.3": int(sum(s_["n_fd_gt_0.3"] for s_ in st)),
            "step_q95_median_over_runs": np.median([s_["step_q95"] for s_ in st], axis=0).tolist(),
            "spectrum_peak_hz": float(f[1:][np.argmax(s[1:])]),
            "translation_power_frac_0.31_0.43_hz": float(s[band].sum()),
        }
    for name, tr in real_traces().items():
        st = frame_stats(tr)
        st.pop("fd")
        res["real"][name] = st
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    bins = np.geomspace(1e-3, 3, 60)
    for style, c in (("before", "C0"), ("after", "C1")):
        axes[0].hist(
            fds[style],
            bins=bins,
            histtype="step",
            density=True,
            color=c,
            label=f"generated ({style} jerks)",
        )
    for (name, tr), c in zip(real_traces().items(), ("k", "C3"), strict=False):
        axes[0].hist(
            power_fd(tr)[1:],
            bins=bins,
            histtype="step",
            density=True,
            color=c,
            lw=1.5,
            label=name.split()[0] + " (real, few frames)",
        )
    for x in (0.2, 0.5):
        axes[0].axvline(x, color="gray", ls=":")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("Power FD (mm)")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=7)
    for style, c in (("before", "C0"), ("after", "C1")):
        f, s = specs[style]
        axes[1].semilogy(f[1:], s[1:], color=c, label=style)
    axes[1].axvspan(*RESP_BAND_HZ, color="C2", alpha=0.2, label="ABCD respiration band")
    axes[1].set_xlabel("frequency (Hz)")
    axes[1].set_ylabel("translation power (normalised)")
    axes[1].legend(fontsize=7)
    labels = ["before", "after"]
    vals = [res["generated"][k]["pitch_y_z_share_of_fd_gt_0.3_pooled"] for k in labels]
    axes[2].bar(labels, vals, color=["C0", "C1"])
    axes[2].axhline(0.5, color="gray", ls=":", label="3 of 6 parameters (no preference)")
    axes[2].set_ylim(0, 1)
    axes[2].set_ylabel("share of FD in frames > 0.3 mm from rx, ty, tz")
    axes[2].legend(fontsize=7)
    axes[2].set_title("Frew et al. 2022: high-motion spikes are pitch-z-y", fontsize=9)
    fig.suptitle(f"realistic generator, HCP rest protocol (TR {TR_S} s, {N_FRAMES} frames)")
    fig.tight_layout()
    fig.savefig(out / "img" / "motion_realism.png", dpi=110)
    plt.close(fig)
    cmd = "python benchmarks/motion_realism.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    res["command"] = cmd.strip()
    res["machine"] = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    res["wall_s"] = time.perf_counter() - t0
    (out / "motion_realism.json").write_text(json.dumps(res, indent=1))
    g = res["generated"]
    lines = [
        "# Motion realism (generated by `benchmarks/motion_realism.py`)",
        "",
        f"- command: `{res['command']}`; {res['machine']}; {res['wall_s']:.0f} s",
        f"- generated: {args.n} runs per style, TR {TR_S} s, {N_FRAMES} frames, magnitude "
        "log-uniform 0.3-3 mm (the recentre training distribution)",
        "",
        "| statistic | generated before the retune (isotropic jerks, no jitter) | generated "
        "after (nod jerks, jitter 0.03) |",
        "|---|---:|---:|",
    ]
    for key, fmt in (
        ("mean_fd_mm_median_over_runs", "{:.3f}"),
        ("frac_fd_gt_0.2_pooled", "{:.3f}"),
        ("frac_fd_gt_0.5_pooled", "{:.4f}"),
        ("n_frames_fd_gt_0.3", "{:d}"),
        ("pitch_y_z_share_of_fd_gt_0.3_pooled", "{:.3f}"),
        ("spectrum_peak_hz", "{:.3f}"),
        ("translation_power_frac_0.31_0.43_hz", "{:.4f}"),
    ):
        lines.append(f"| {key} | {fmt.format(g['before'][key])} | {fmt.format(g['after'][key])} |")
    lines += [
        "",
        "Step sizes (95 % quantile of |delta| per frame, median over runs; mm and deg):",
        "",
        "| | " + " | ".join(PARAM_NAMES) + " |",
        "|---|" + "---:|" * 6,
    ]
    for k in CONFIGS:
        lines.append(
            f"| generated {k} | "
            + " | ".join(f"{v:.4f}" for v in g[k]["step_q95_median_over_runs"])
            + " |"
        )
    for name, st in res["real"].items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.4f}" for v in st["step_q95"]) + " |")
    lines += ["", "Real traces (TR unknown; frame-to-frame only):", ""]
    lines += [
        "| trace | frames | mean FD mm | median FD mm | frac > 0.2 | frac > 0.5 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, st in res["real"].items():
        lines.append(
            f"| {name} | {st['n_frames']} | {st['mean_fd_mm']:.3f} | {st['median_fd_mm']:.3f} | "
            f"{st['frac_fd_gt_0.2']:.3f} | {st['frac_fd_gt_0.5']:.3f} |"
        )
    lines += ["", "![motion realism](img/motion_realism.png)"]
    (out / "motion_realism.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
