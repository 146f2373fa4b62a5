"""Why known-motion CG stops short of the clean image: where the error lives.

Setup as ``benchmarks/known_motion_recon.py`` (MNI152 T1 at N^3, FOV 192 mm, MP-RAGE
linear, ``pace_like(seed=0)`` per line, eps 1e-4, single coil, noiseless), for motion scales
8 (seed 001) and 2. After CG (30 and 100 iterations) it reports:

* SSIM / PSNR against the clean image, whole volume (the project convention) and inside the
  dilated MNI152 head mask (same data range);
* ``||A x - y|| / ||y||`` (data fit of the reconstruction) and ``||A x_clean - y|| / ||y||``
  (of the truth: 0 when the operator is the simulation's model);
* ``||A e|| / ||e||`` for the error ``e = x - x_clean``: the gain of the operator on the error,
  i.e. the singular values it lives at (1 for a motion-free, fully sampled ``A``);
* the relative error of the k-space per radius band (samples from the centre) and on the
  even grid's Nyquist faces, with the share of the error energy in each band.

Run::

    .venv/bin/python benchmarks/known_motion_gaps.py --size 64 --threads 1

Writes ``docs/benchmarks/known_motion_gaps_N.csv``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from scipy import ndimage

from mrsim import metrics
from mrsim.kspace.corrupt import corrupt
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.operator import MotionOperator
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion import pace_like
from mrsim.phantoms.mni152 import load_mni152
from mrsim.recon import known_motion_recon

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    n = args.size
    vox = 192.0 / n
    shape = (n, n, n)
    image, _ = load_mni152("t1", shape=shape, voxel_size_mm=vox)
    mask, _ = load_mni152("mask", shape=shape, voxel_size_mm=vox)
    head = ndimage.binary_dilation(mask > 0.5, iterations=2)
    s = mprage_schedule(shape)
    r = np.sqrt(sum(g**2 for g in np.meshgrid(*[np.arange(n) - n // 2] * 3, indexing="ij")))
    face = np.zeros(shape, bool)
    face[0], face[:, 0], face[:, :, 0] = True, True, True
    bands = [(0, n / 4), (n / 4, 3 * n / 8), (3 * n / 8, n / 2), (n / 2, n)]
    rows = []
    for scale in (8.0, 2.0):
        traj = pace_like(seed=0, scale=scale, duration_s=n * 2.3)
        res = corrupt(image, traj, s, vox, eps=1e-4, output="complex", nthreads=args.threads)
        op = MotionOperator(
            s, res.rotations, res.translations_mm, vox, eps=1e-4, nthreads=args.threads
        )
        ref = res.clean
        K = fft_centered(ref)
        y = s.from_grid(res.kspace)
        y_norm = float(np.linalg.norm(y))
        snaps: dict[int, np.ndarray] = {}

        def keep(k: int, x: np.ndarray, snaps=snaps) -> None:
            if k in (30, 100):
                snaps[k] = x.copy()

        known_motion_recon(
            op,
            y,
            iterations=100,
            tol=0.0,
            callback=keep,
        )
        dr = float(np.abs(ref).max())
        for it, x in snaps.items():
            e = x - ref
            E = fft_centered(e)
            gain = np.linalg.norm(op.forward(e.astype(np.complex64))) / np.linalg.norm(e)
            row = {
                "motion_scale": scale,
                "max_rotation_deg": float(np.abs(res.params[:, 3:]).max()),
                "iteration": it,
                "ssim": metrics.ssim(np.abs(ref), np.abs(x)),
                "ssim_head": metrics.ssim(np.abs(ref), np.abs(x), data_range=dr, mask=head),
                "ssim_corrupted": metrics.ssim(np.abs(ref), np.abs(res.image)),
                "psnr_db": metrics.psnr(np.abs(ref), np.abs(x)),
                "error_gain": float(gain),
                "data_residual": float(
                    np.linalg.norm(op.forward(x.astype(np.complex64)) - y) / y_norm
                ),
                "truth_residual": float(np.linalg.norm(op.forward(ref) - y) / y_norm),
            }
            total = float(np.sum(np.abs(E) ** 2))
            for lo, hi in bands:
                m = (r >= lo) & (r < hi) & ~face
                tag = f"r{lo:g}-{hi:g}"
                row[f"rel_err_{tag}"] = float(
                    np.sqrt(np.sum(np.abs(E[m]) ** 2) / np.sum(np.abs(K[m]) ** 2))
                )
                row[f"err_share_{tag}"] = float(np.sum(np.abs(E[m]) ** 2) / total)
            row["err_share_nyquist_faces"] = float(np.sum(np.abs(E[face]) ** 2) / total)
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    out = ROOT / "docs" / "benchmarks" / f"known_motion_gaps_{n}.csv"
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for row in rows:
            w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
