"""Speed and accuracy of the k-space motion corruption (results in docs/benchmarks.md).

Speed, on a 256 x 256 x 176 volume (the embedded MNI152 T1), a fixed thread count:

* one complex64 FFT of the grid (``scipy.fft.fftn``) as the unit;
* ``moved_kspace`` (one NUFFT of every line of every pose) with 1 rotated state, 176 states
  (one per MP-RAGE shot) and one state per line (45 056), at eps 1e-4 and 1e-3, end to end
  (coordinates, NUFFT, phase ramps, scatter); the translation-only FFT fast path;
* the sigpy backend (per line, eps 1e-4; timed on 1/8 of the lines, x 8);
* the image-domain method (per state: scipy linear / cubic resampling + FFT) and TorchIO's
  ``Motion`` transform: per-state cost measured on a few states, then extrapolated to 176
  and 45 056 states (marked ``extrapolated`` in the CSV).

Accuracy, on the analytic Shepp-Logan (128 x 128 x 96, per-shot poses from a seed 001-like
trajectory): NRMSE of the corrupted image against the exact corrupted image (the closed-form
spectrum of the moved ellipsoids on every line, radial Hann window), for the NUFFT method
and image-domain linear / cubic interpolation.

Run (about 5 min on 2 cores)::

    .venv/bin/python benchmarks/corruption_speed.py --threads 2

The per-line ratio alone, interleaved with FFT timings and repeated (median and minimum
over the repeats; robust to other jobs on a shared machine)::

    .venv/bin/python benchmarks/corruption_speed.py --threads 2 --per-line-repeats 5

Writes ``docs/benchmarks/corruption_speed.csv``, ``corruption_accuracy.csv`` and
``corruption_speed.png``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
from pathlib import Path

import numpy as np
import scipy.fft
from timing import timed

from mrsim.kspace import NufftOptions, image_domain_kspace, line_poses, moved_kspace
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion import pace_like
from mrsim.motion.rigid import rotation_matrix
from mrsim.phantoms.mni152 import load_mni152
from mrsim.phantoms.shepp_logan import (
    ellipsoids_kspace,
    move_ellipsoids,
    shepp_logan_ellipsoids,
    shepp_logan_image,
)

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def torchio_per_state(
    img: np.ndarray, threads: int, n_states=(2, 4)
) -> tuple[float, float, float, float]:
    """TorchIO Motion for a few state counts -> per-state and fixed cost (wall, then CPU), s."""
    import torch
    import torchio as tio

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    subj = tio.Subject(im=tio.ScalarImage(tensor=torch.from_numpy(img[None].copy())))
    times, cpus = [], []
    tio.Motion(
        degrees=np.ones((1, 3)),
        translation=np.ones((1, 3)),
        times=np.array([0.5]),
        image_interpolation="linear",
    )(subj)  # warm-up (first-call costs)
    for s in n_states:
        m = s - 1  # TorchIO adds the identity as the first state
        tr = tio.Motion(
            degrees=rng.uniform(-3, 3, (m, 3)),
            translation=rng.uniform(-3, 3, (m, 3)),
            times=np.sort(rng.uniform(0.1, 0.9, m)),
            image_interpolation="linear",
        )
        wall, _, cpu = timed(lambda tr=tr: tr(subj))
        times.append(wall)
        cpus.append(cpu)
    slope, icpt = np.polyfit(n_states, times, 1)
    cslope, cicpt = np.polyfit(n_states, cpus, 1)
    return float(slope), float(icpt), float(cslope), float(cicpt)


def image_domain_per_state(img, order, threads, n=3) -> tuple[float, float]:
    """Wall and CPU time of one state of the image-domain method (resample + FFT), best of n."""
    from scipy import ndimage

    R = rotation_matrix([2.0, -1.5, 3.0])
    c = np.array([s // 2 for s in img.shape], float)
    off = c - R.T @ c - R.T @ np.array([1.0, 2.0, -1.0])
    wall, _, cpu = timed(
        lambda: fft_centered(
            ndimage.affine_transform(img, R.T, off, order=order, mode="constant"),
            workers=threads,
        ),
        repeat=n,
    )
    return wall, cpu


def speed(shape, threads, rows):
    img, _ = load_mni152("t1", shape=shape)
    s = mprage_schedule(shape)
    traj = pace_like(seed=0)
    print(f"grid {shape}, {s.n_lines} lines, {s.n_shots} shots, threads {threads}")
    c64 = img.astype(np.complex64)
    t_fft, _, c_fft = timed(lambda: scipy.fft.fftn(c64, workers=threads), repeat=5)
    rows.append(
        dict(
            method="scipy.fft.fftn complex64",
            states=0,
            eps="",
            seconds=t_fft,
            x_fft=1.0,
            cpu_seconds=c_fft,
            cpu_x_fft=1.0,
            note="measured, best of 5",
        )
    )
    print(f"FFT {t_fft:.3f} s")
    # warm-up: library loading and first-call costs are not part of the corruption time
    for backend in ("finufft", "sigpy"):  # includes sigpy's numba compilation
        moved_kspace(
            img[:32, :32, :32],
            mprage_schedule((32, 32, 32)),
            rotation_matrix([1, 2, 3]),
            np.zeros(3),
            options=NufftOptions(eps=1e-4, threads=threads, backend=backend),
        )
    per_line = line_poses(traj, s)
    per_shot = line_poses(traj, s, granularity="shot")
    R_line, t_line = per_line.rotations, per_line.translations_mm
    R_shot, t_shot = per_shot.rotations, per_shot.translations_mm
    R_one = np.broadcast_to(rotation_matrix([2.0, -1.5, 3.0]), (s.n_lines, 3, 3))
    t_one = np.broadcast_to([1.0, 2.0, -1.0], (s.n_lines, 3))
    cases = [
        ("1", R_one, t_one),
        (str(s.n_shots), R_shot, t_shot),
        (str(s.n_lines), R_line, t_line),
    ]
    for eps in (1e-4, 1e-3):
        # warm-up: kernel series, finufft's kernel (line interpolation), cached numba code
        opt = NufftOptions(eps=eps, threads=threads)
        moved_kspace(img, s, R_line, t_line, options=opt)
        for name, R, t in cases:
            dt, _, cpu = timed(
                lambda R=R, t=t, opt=opt: moved_kspace(img, s, R, t, options=opt),
                repeat=3,
            )
            rows.append(
                dict(
                    method="mrsim moved_kspace finufft",
                    states=int(name),
                    eps=eps,
                    seconds=dt,
                    x_fft=dt / t_fft,
                    cpu_seconds=cpu,
                    cpu_x_fft=cpu / c_fft,
                    note="measured, best of 3 after a warm-up call",
                )
            )
            print(f"mrsim finufft eps {eps:g} states {name}: {dt:.2f} s = {dt / t_fft:.1f} FFT")
    dt, _, cpu = timed(
        lambda: moved_kspace(
            img, s, np.eye(3), t_line, options=NufftOptions(eps=1e-4, threads=threads)
        ),
        repeat=2,
    )
    rows.append(
        dict(
            method="mrsim translation-only fast path",
            states=s.n_lines,
            eps="",
            seconds=dt,
            x_fft=dt / t_fft,
            cpu_seconds=cpu,
            cpu_x_fft=cpu / c_fft,
            note="measured, best of 2",
        )
    )
    print(f"fast path (translations only, per line): {dt:.2f} s")
    # sigpy's CPU gridding is single-threaded and slow (minutes for all 11.5 M samples):
    # time it on every 8th line and scale by 8 (its oversampled-grid FFT, which does not
    # scale with the lines, is then counted 8 times: an upper bound).
    sub = np.arange(0, s.n_lines, 8)
    dt8, _, cpu8 = timed(
        lambda: moved_kspace(
            img,
            s.subset(sub),
            R_line[sub],
            t_line[sub],
            options=NufftOptions(eps=1e-4, threads=threads, backend="sigpy"),
        )
    )
    dt = 8 * dt8
    rows.append(
        dict(
            method="mrsim moved_kspace sigpy",
            states=s.n_lines,
            eps=1e-4,
            seconds=dt,
            x_fft=dt / t_fft,
            cpu_seconds=8 * cpu8,
            cpu_x_fft=8 * cpu8 / c_fft,
            note=f"extrapolated: {dt8:.2f} s on 1/8 of the lines x 8",
        )
    )
    print(f"sigpy per line: {dt:.2f} s")
    for order, label in ((1, "linear"), (3, "cubic")):
        per, per_cpu = image_domain_per_state(img, order, threads)
        for n in (1, s.n_shots, s.n_lines):
            rows.append(
                dict(
                    method=f"image-domain scipy {label}",
                    states=n,
                    eps="",
                    seconds=per * n,
                    x_fft=per * n / t_fft,
                    cpu_seconds=per_cpu * n,
                    cpu_x_fft=per_cpu * n / c_fft,
                    note="measured" if n == 1 else f"extrapolated: {per:.3f} s/state x {n}",
                )
            )
        print(f"image-domain {label}: {per:.3f} s per state")
    try:
        slope, icpt, cslope, cicpt = torchio_per_state(img, threads)
    except ImportError:
        print("torchio not installed (pip install torchio, the [bench] extra): skipped")
        return
    for n in (1, s.n_shots, s.n_lines):
        sec = icpt + slope * n
        rows.append(
            dict(
                method="TorchIO Motion (linear)",
                states=n,
                eps="",
                seconds=sec,
                x_fft=sec / t_fft,
                cpu_seconds=cicpt + cslope * n,
                cpu_x_fft=(cicpt + cslope * n) / c_fft,
                note=f"extrapolated: {slope:.3f} s/state + {icpt:.3f} s (fit on 2 and 4 states)",
            )
        )
    print(f"TorchIO: {slope:.3f} s per state + {icpt:.3f} s")


def per_line_repeats(shape, threads, repeats, eps_list=(1e-3, 1e-4)):
    """The per-line ratio to one FFT, robust to a loaded machine (issue 17).

    The same input as :func:`speed` (MNI152 T1, MP-RAGE linear, one pose per line from
    ``pace_like(seed=0)``). Each repeat times, interleaved: three FFTs, the corruption at
    each eps, three FFTs again; a repeat's ratio is the corruption time over the median of
    the six FFT timings around it (wall and process CPU). Over the repeats the median and
    the minimum ratio are reported, and the ratio of the fastest corruption to the fastest
    FFT. Returns the rows (one per repeat and eps).
    """
    import time

    img, _ = load_mni152("t1", shape=shape)
    s = mprage_schedule(shape)
    poses = line_poses(pace_like(seed=0), s)
    c64 = img.astype(np.complex64)

    def clock(fn):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - t0, time.process_time() - c0

    def ffts(n=3):
        return [clock(lambda: scipy.fft.fftn(c64, workers=threads)) for _ in range(n)]

    opts = {eps: NufftOptions(eps=eps, threads=threads) for eps in eps_list}
    for opt in opts.values():  # warm-up: kernel series, finufft's kernel, numba code
        moved_kspace(img, s, poses, options=opt)
    ffts(2)
    rows = []
    for rep in range(repeats):
        for eps, opt in opts.items():
            before = ffts()
            wall, cpu = clock(lambda opt=opt: moved_kspace(img, s, poses, options=opt))
            around = before + ffts()
            fw = float(np.median([a[0] for a in around]))
            fc = float(np.median([a[1] for a in around]))
            rows.append(
                dict(
                    repeat=rep, eps=eps, corrupt_wall_s=wall, corrupt_cpu_s=cpu,
                    fft_wall_median_s=fw, fft_cpu_median_s=fc,
                    fft_wall_min_s=min(a[0] for a in around), ratio_wall=wall / fw,
                    ratio_cpu=cpu / fc, load_1min=os.getloadavg()[0],
                )
            )  # fmt: skip
            r = rows[-1]
            print(
                f"rep {rep} eps {eps:g}: corrupt {wall:.3f} s ({cpu:.2f} CPU-s), FFT median "
                f"{fw:.4f} s ({fc:.4f} CPU-s): {r['ratio_wall']:.1f}x wall, "
                f"{r['ratio_cpu']:.1f}x CPU; load {r['load_1min']:.1f}",
                flush=True,
            )
    for eps in eps_list:
        sel = [r for r in rows if r["eps"] == eps]
        rw = [r["ratio_wall"] for r in sel]
        rc = [r["ratio_cpu"] for r in sel]
        best = min(r["corrupt_wall_s"] for r in sel) / min(r["fft_wall_min_s"] for r in sel)
        print(
            f"eps {eps:g}, {len(sel)} repeats: x one FFT wall median {np.median(rw):.1f}, "
            f"min {min(rw):.1f}, max {max(rw):.1f}; CPU median {np.median(rc):.1f}, min "
            f"{min(rc):.1f}; fastest corruption / fastest FFT {best:.1f}"
        )
    return rows


def accuracy(threads, rows):
    """NRMSE of corrupted images vs the exact (analytic) corrupted image."""
    n, vox = (128, 128, 96), np.array([1.5, 1.5, 2.0])
    fov = np.asarray(n) * vox
    s = mprage_schedule(n)
    traj = pace_like(seed=3, duration_s=s.time_s.max() + 1.0)
    poses = line_poses(traj, s, granularity="shot")
    R, t = poses.rotations, poses.translations_mm
    img = shepp_logan_image(n, vox)
    ell = shepp_logan_ellipsoids(0.45 * fov.min())
    kap = s.kspace_coords() / fov
    win_rad = np.linalg.norm(kap, axis=-1) / (0.5 / vox.max())
    win = np.where(win_rad < 1, np.cos(0.5 * np.pi * win_rad) ** 2, 0.0)
    lines = np.empty(kap.shape[:2], complex)
    for sh in np.unique(s.shot):
        sel = s.shot == sh
        i = np.flatnonzero(sel)[0]
        lines[sel] = ellipsoids_kspace(kap[sel], move_ellipsoids(ell, R[i], t[i])) * win[sel]
    lines /= np.prod(vox) * np.sqrt(np.prod(n))
    truth = np.abs(ifft_centered(s.to_grid(lines)))

    def nrmse(k):
        x = np.abs(ifft_centered(k))
        return float(np.linalg.norm(x - truth) / np.linalg.norm(truth))

    results = {}
    for eps in (1e-6, 1e-4, 1e-3):
        results[f"mrsim NUFFT eps {eps:g}"] = nrmse(
            moved_kspace(img, s, R, t, vox, options=NufftOptions(eps=eps, threads=threads))
        )
    for order, label in ((1, "linear"), (3, "cubic")):
        results[f"image-domain {label}"] = nrmse(
            image_domain_kspace(img, s, R, t, vox, order=order, threads=threads)
        )
    results["no correction (clean vs corrupted truth)"] = nrmse(fft_centered(img))
    for k, v in results.items():
        rows.append(dict(method=k, nrmse=v, grid="x".join(map(str, n)), states=s.n_shots))
        print(f"NRMSE {k}: {v:.3e}")


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    methods = [
        "mrsim moved_kspace finufft",
        "image-domain scipy linear",
        "image-domain scipy cubic",
        "TorchIO Motion (linear)",
    ]
    for m in methods:
        pts = [
            (r["states"], r["seconds"])
            for r in rows
            if r["method"] == m and r.get("eps") in ("", 1e-4)
        ]
        if pts:
            x, y = zip(*sorted(pts), strict=True)
            ax.plot(x, y, "o-", label=m + (" (eps 1e-4)" if "finufft" in m else ""))
    fft = [r["seconds"] for r in rows if r["method"].startswith("scipy.fft")][0]
    ax.axhline(fft, color="k", ls=":", label="one FFT of the grid")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("motion states")
    ax.set_ylabel("time (s)")
    ax.set_title(
        "Motion corruption of 256x256x176 (per-state costs beyond 1 are "
        "extrapolated for image-domain/TorchIO)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=3, default=(256, 256, 176))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument(
        "--per-line-repeats",
        type=int,
        default=0,
        help="only the per-line ratio to one FFT, interleaved and repeated N times "
        "(writes corruption_per_line_repeats.csv)",
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.per_line_repeats:
        rows = per_line_repeats(tuple(args.shape), args.threads, args.per_line_repeats)
        with open(OUT / "corruption_per_line_repeats.csv", "w", newline="") as f:
            w = csv.DictWriter(f, list(rows[0]))
            w.writeheader()
            for r in rows:
                w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})
        machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible"
        print(f"machine: {machine}; threads {args.threads}; load {os.getloadavg()}")
        return
    rows: list[dict] = []
    if not args.skip_speed:
        speed(tuple(args.shape), args.threads, rows)
        machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible"
        with open(OUT / "corruption_speed.csv", "w", newline="") as f:
            w = csv.DictWriter(
                f,
                ["method", "states", "eps", "seconds", "x_fft", "cpu_seconds", "cpu_x_fft", "note"],
            )
            w.writeheader()
            for r in rows:
                w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})
        plot(rows, OUT / "corruption_speed.png")
        print(f"machine: {machine}; threads {args.threads}; load {os.getloadavg()}")
    if not args.skip_accuracy:
        acc: list[dict] = []
        accuracy(args.threads, acc)
        with open(OUT / "corruption_accuracy.csv", "w", newline="") as f:
            w = csv.DictWriter(f, ["method", "nrmse", "grid", "states"])
            w.writeheader()
            for r in acc:
                w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
