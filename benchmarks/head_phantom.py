"""Full-head phantom benchmark: figure, SSIM vs motion magnitude, cost and low-rank error.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/head_phantom.py all --trajectories 78

Steps (``figure``, ``ssim``, ``cost`` or ``all``):

- ``figure``: three orthogonal slices of the default head (176 x 256 x 256 at 1 mm) in
  MP-RAGE contrast (ADNI 3 T protocol, k-space-centre echo) and its label map ->
  ``docs/img/head_phantom.png``.
- ``ssim``: seed 001 Fig. 5 layout. The ``mcnet_mprage`` recipe's acquisition (128^3 at
  2 mm, linear MP-RAGE, readout S-I, one pose per shot, 10 sagittal slices at 5 mm) and
  its trajectories (``pace_like`` x8 seeded ``[2019, DOMAIN_TRAJECTORY, j]``, variants
  rot / rot_trans), for one synthetic subject (recipe seed 2019, subject 0), in five
  conditions on the same trajectories: ``template_static`` (the recipe's own sample
  function: today's data), ``head_static`` (the head in MP-RAGE contrast at the centre
  echo), ``head_echo_train`` (each line at its own echo, :mod:`mrsim.kspace.echo_train`),
  and both again with the echo index in-plane (``*_inplane``: readout L-R, echo along
  A-P). SSIM per DESIGN.md (per sagittal slice, data_range = clean volume max), also
  averaged over the brain mask only (``*_brain``) ->
  ``docs/benchmarks/head_ssim.csv``, ``head_ssim_summary.csv``, ``docs/img/head_ssim.png``.
- ``cost``: time of the static corruption and of the echo-train one (same poses, one
  thread, best of 5 after a warm-up; wall and process CPU time, as the machine is shared)
  at 128^3 / 2 mm, the rank for 1e-3 (its
  factorisation, once per subject, timed apart) and the k-space error of the default
  echo-train k-space (rank for 1e-3, scaled NUFFT tolerances) against the exact one (all
  tissue terms, NUFFT eps 1e-7) ->
  ``docs/benchmarks/head_cost.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (128, 128, 128)
VOX = (2.0, 2.0, 2.0)
SPEC = {
    "source": "synthetic",
    "subject": 0,
    "seed": [2019, 1, 0],
    "deform_mm": 3.0,
    "smooth_mm": 15.0,
    "scale_jitter": 0.05,
    "contrast_jitter": 0.15,
}
SEED_001 = {"rot": 0.715, "rot_trans": 0.574}


def protocol(n_echoes: int):
    from mrsim.signal.mprage import MPRAGEProtocol

    # ADNI 3 T timing (TR 2.3 s, TI 0.9 s to the centre, 9 deg, TE 2.98 ms) with the
    # schedule's 7 ms echo spacing so that every condition has the same line times.
    return MPRAGEProtocol(esp_s=0.007, n_echoes=n_echoes)


def figure(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from mrsim.phantoms.head import HEAD_LABELS, make_head
    from mrsim.signal.mprage import ADNI_3T

    head = make_head()
    img = np.abs(head.mprage_image(ADNI_3T))
    lab = head.labels
    c = [n // 2 for n in img.shape]
    cut = [
        ("sagittal x=+12 mm", img[c[0] + 12], lab[c[0] + 12]),
        ("coronal", img[:, c[1] + 20], lab[:, c[1] + 20]),
        ("axial (eyes)", img[:, :, c[2] - 25], lab[:, :, c[2] - 25]),
    ]
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, 20))[: len(HEAD_LABELS)]
    colours[0] = (0, 0, 0, 1)
    cmap = ListedColormap(colours)
    fig, ax = plt.subplots(2, 3, figsize=(13, 8.5))
    vmax = np.percentile(img[lab > 0], 99.5)
    for i, (name, a, b) in enumerate(cut):
        ax[0, i].imshow(a.T, origin="lower", cmap="gray", vmin=0, vmax=vmax)
        ax[0, i].set_title(f"MP-RAGE {name}")
        im = ax[1, i].imshow(
            b.T,
            origin="lower",
            cmap=cmap,
            vmin=-0.5,
            vmax=len(HEAD_LABELS) - 0.5,
            interpolation="nearest",
        )
        for a_ in ax[:, i]:
            a_.set_xticks([])
            a_.set_yticks([])
    cb = fig.colorbar(im, ax=ax[1, :], ticks=range(len(HEAD_LABELS)), fraction=0.02)
    cb.ax.set_yticklabels(list(HEAD_LABELS))
    fig.suptitle(
        "mrsim head phantom (176x256x256, 1 mm): ADNI 3 T MP-RAGE contrast "
        "(TR 2.3 s, TI 0.9 s to the centre, 9 deg, esp 7.1 ms, 176 echoes, TE 2.98 ms) "
        "and labels",
        fontsize=9,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


def _poses(j: int, variant: str, sched):
    from mrsim.dataset.mcnet_mprage import variant_columns
    from mrsim.dataset.subjects import DOMAIN_TRAJECTORY, seeded_rng
    from mrsim.kspace.schedule import poses_for_schedule
    from mrsim.motion.generators import pace_like
    from mrsim.motion.trajectory import Trajectory

    traj = pace_like(
        n=128,
        limit_mm=2.0,
        limit_deg=2.0,
        scale=8.0,
        duration_s=sched.n_shots * 2.3,
        seed=seeded_rng([2019, DOMAIN_TRAJECTORY, j]),
    )
    cols = variant_columns(variant, 0)
    traj = Trajectory(traj.t_s, np.where(cols, traj.params, 0.0))
    R, t, _ = poses_for_schedule(
        traj,
        sched,
        mapping="stretch",
        method="linear",
        rereference_center=True,
        granularity="shot",
    )
    return R, t, float(np.std(traj.params, axis=0)[cols].mean())


def _ssim_slices(clean, corrupted) -> float:
    from mrsim import metrics
    from mrsim.dataset.mcnet_mprage import slice_indices

    idx = slice_indices(SHAPE[0], 10, 5.0, VOX[0])
    return metrics.ssim(clean[idx], corrupted[idx], data_range=float(clean.max()), axis=0)


CONDITIONS = (
    "template_static",
    "head_static",
    "head_echo_train",
    "head_static_inplane",
    "head_echo_train_inplane",
)


def ssim_sweep(n_traj: int, out_csv: Path, out_png: Path) -> None:
    from mrsim import metrics
    from mrsim.dataset.head_subjects import synthetic_head
    from mrsim.dataset.mcnet_mprage import SCHEMA, make_mcnet_sample, slice_indices
    from mrsim.dataset.subjects import load_subject
    from mrsim.kspace.corrupt import moved_kspace
    from mrsim.kspace.echo_train import echo_train_kspace, lowrank_contrast, protocol_for_schedule
    from mrsim.kspace.fft import ifft_centered
    from mrsim.kspace.schedule import mprage_schedule

    # recipe layout: readout S-I (axis 2), echo index along x (L-R, through-plane for the
    # sagittal slices), one shot per A-P line; "inplane": readout x, echo index along y
    # (A-P, in-plane), one shot per S-I line
    scheds = {
        "": mprage_schedule(SHAPE, ordering="linear", readout_axis=2, shot_tr_s=2.3),
        "_inplane": mprage_schedule(SHAPE, ordering="linear", readout_axis=0, shot_tr_s=2.3),
    }
    head = synthetic_head(SPEC, SHAPE, VOX)
    prot = protocol_for_schedule(protocol(SHAPE[0]), scheds[""])
    names, frac = head.tissue_fractions()
    sig = head.tissue_signals(prot, names)
    lr = lowrank_contrast(frac, sig, 1e-3)
    static = head.mprage_image(prot)
    eye, zero = np.eye(3), np.zeros(3)
    kw = dict(eps=1e-4, nthreads=1)
    idx = slice_indices(SHAPE[0], 10, 5.0, VOX[0])

    def recon(k):
        return np.abs(ifft_centered(k, workers=1))[idx]

    clean = {}
    for tag, sch in scheds.items():
        clean["head_static" + tag] = recon(moved_kspace(static, sch, eye, zero, VOX, **kw))
        clean["head_echo_train" + tag] = recon(echo_train_kspace(lr, sch, eye, zero, VOX, **kw))
    masks = {c: head.brain_mask[idx] for c in CONDITIONS}
    masks["template_static"] = load_subject(SPEC, SHAPE, VOX)["mask"][idx] > 0.5
    params = {k: f.default for k, f in SCHEMA.items()}
    params.update(subject_spec={k: v for k, v in SPEC.items()})
    rows = []
    done = set()
    if out_csv.exists():  # resumable
        with open(out_csv) as f:
            rows = list(csv.DictReader(f))
        done = {(int(r["trajectory"]), r["variant"]) for r in rows}
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    fields = ["trajectory", "variant", "motion_magnitude"]
    fields += list(CONDITIONS) + [c + "_brain" for c in CONDITIONS]
    for j in range(n_traj):
        for variant in ("rot", "rot_trans"):
            if (j, variant) in done:
                continue
            t0 = time.perf_counter()
            p = dict(params, variant=variant, trajectory=j, trajectory_seed=[2019, 2, j])
            p.update(subject=0, split="test")
            smp = make_mcnet_sample(p, threads=1)
            vols = {"template_static": (smp.arrays["clean"], smp.arrays["corrupted"])}
            dr = {"template_static": smp.attrs["clean_volume_max"]}
            for tag, sch in scheds.items():
                R, t, mag = _poses(j, variant, sch)
                if tag == "":
                    assert abs(mag - smp.attrs["motion_magnitude"]) < 1e-9  # same trajectory
                k_s = moved_kspace(static, sch, R, t, VOX, **kw)
                k_e = echo_train_kspace(lr, sch, R, t, VOX, **kw)
                for c, k in (("head_static" + tag, k_s), ("head_echo_train" + tag, k_e)):
                    vols[c] = (clean[c], recon(k))
            row = dict(trajectory=j, variant=variant, motion_magnitude=mag)
            for c, (ref, img) in vols.items():
                # data_range: the clean VOLUME max (the sample's own for the template)
                d = dr.get(c, float(np.abs(ref).max()))
                row[c] = metrics.ssim(ref, img, data_range=d)
                row[c + "_brain"] = metrics.ssim(ref, img, data_range=d, mask=masks[c])
            rows.append(row)
            with open(out_csv.with_suffix(".tmp"), "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=fields)
                w.writeheader()
                w.writerows(rows)
            out_csv.with_suffix(".tmp").replace(out_csv)
            vals = " ".join(f"{row[c]:.3f}" for c in CONDITIONS)
            print(
                f"traj {j} {variant}: mag {mag:.2f} SSIM {vals} ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    summarise(rows, out_csv, out_png, lr)


def summarise(rows, out_csv: Path, out_png: Path, lr) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = []
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    marks = ("o", "s", "^", "x", "v")
    for i, variant in enumerate(("rot", "rot_trans")):
        rr = [r for r in rows if r["variant"] == variant]
        mag = np.array([float(r["motion_magnitude"]) for r in rr])
        for c, mk in zip(CONDITIONS, marks, strict=True):
            v = np.array([float(r[c]) for r in rr])
            vb = np.array([float(r[c + "_brain"]) for r in rr])
            ax[i].scatter(mag, v, s=10, marker=mk, label=f"{c} ({v.mean():.3f})", alpha=0.7)
            summary.append(
                dict(
                    variant=variant,
                    condition=c,
                    n=len(v),
                    ssim_mean=v.mean(),
                    ssim_std=v.std(),
                    ssim_brain_mean=vb.mean(),
                    ssim_brain_std=vb.std(),
                    motion_magnitude_mean=mag.mean(),
                    seed001_corrupted=SEED_001[variant],
                )
            )
        ax[i].axhline(
            SEED_001[variant],
            color="k",
            ls="--",
            lw=1,
            label=f"seed 001 corrupted mean ({SEED_001[variant]})",
        )
        ax[i].set_title(f"{variant}: SSIM vs motion magnitude (x8, 128^3, 2 mm)", fontsize=9)
        ax[i].set_xlabel("motion magnitude: mean std of moving params (mm | deg)")
        ax[i].legend(fontsize=7)
    ax[0].set_ylabel("SSIM corrupted vs clean (10 sagittal slices)")
    fig.suptitle(
        f"one synthetic subject, {len(rows) // 2} trajectories, same poses; "
        f"echo-train rank {lr.rank} (bound {lr.error_bound:.1e})",
        fontsize=8,
    )
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=90)
    path = out_csv.with_name(out_csv.stem + "_summary.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(summary[0]))
        w.writeheader()
        w.writerows(summary)
    for s in summary:
        print(
            f"{s['variant']:10s} {s['condition']:24s} n={s['n']} SSIM {s['ssim_mean']:.3f} "
            f"+- {s['ssim_std']:.3f}  brain {s['ssim_brain_mean']:.3f} "
            f"(seed 001: {s['seed001_corrupted']})"
        )
    print(f"wrote {out_csv}, {path}, {out_png}")


def cost(out_csv: Path, repeats: int = 5) -> None:
    from mrsim.dataset.head_subjects import synthetic_head
    from mrsim.kspace.corrupt import moved_kspace
    from mrsim.kspace.echo_train import echo_train_kspace, lowrank_contrast, protocol_for_schedule
    from mrsim.kspace.schedule import mprage_schedule

    sched = mprage_schedule(SHAPE, ordering="linear", readout_axis=2, shot_tr_s=2.3)
    head = synthetic_head(SPEC, SHAPE, VOX)
    prot = protocol_for_schedule(protocol(SHAPE[0]), sched)
    names, frac = head.tissue_fractions()
    sig = head.tissue_signals(prot, names)
    static = head.mprage_image(prot)
    rows = []
    t0 = time.perf_counter()
    lr = lowrank_contrast(frac, sig, 1e-3)  # once per subject: independent of the motion
    t_lowrank = time.perf_counter() - t0
    full = lowrank_contrast(frac, sig, rank=len(names))
    for variant in ("rot", "rot_trans"):
        R, t, _ = _poses(0, variant, sched)
        kw = dict(eps=1e-4, nthreads=1)
        moved_kspace(static, sched, R, t, VOX, **kw)  # warm-up
        echo_train_kspace(lr, sched, R, t, VOX, **kw)
        ts, te, cs, ce = [], [], [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            moved_kspace(static, sched, R, t, VOX, **kw)
            ts.append(time.perf_counter() - t0)
            cs.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            k = echo_train_kspace(lr, sched, R, t, VOX, **kw)
            te.append(time.perf_counter() - t0)
            ce.append(time.process_time() - c0)
        # exact reference: every tissue term, tight NUFFT
        k_full = echo_train_kspace(full, sched, R, t, VOX, eps=1e-7, scale_eps=False, nthreads=1)
        err = float(np.linalg.norm(k - k_full) / np.linalg.norm(k_full))
        rows.append(
            dict(
                variant=variant,
                shape="x".join(map(str, SHAPE)),
                static_wall_s=min(ts),
                echo_train_wall_s=min(te),
                ratio_wall=min(te) / min(ts),
                static_cpu_s=min(cs),
                echo_train_cpu_s=min(ce),
                ratio_cpu=min(ce) / min(cs),
                lowrank_once_s=t_lowrank,
                rank=lr.rank,
                error_bound=lr.error_bound,
                kspace_rel_error_vs_exact=err,
                n_tissues=len(names),
                machine=f"{platform.node()} {platform.machine()}",
                threads=1,
                repeats=repeats,
                load_avg_1min=os.getloadavg()[0],
            )
        )
        print(rows[-1], flush=True)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out_csv}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("step", choices=["figure", "ssim", "cost", "all"])
    ap.add_argument("--trajectories", type=int, default=78)
    ap.add_argument("--out-dir", default=str(ROOT / "docs"))
    a = ap.parse_args(argv)
    d = Path(a.out_dir)
    if a.step in ("figure", "all"):
        figure(d / "img" / "head_phantom.png")
    if a.step in ("cost", "all"):
        cost(d / "benchmarks" / "head_cost.csv")
    if a.step in ("ssim", "all"):
        ssim_sweep(a.trajectories, d / "benchmarks" / "head_ssim.csv", d / "img" / "head_ssim.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
