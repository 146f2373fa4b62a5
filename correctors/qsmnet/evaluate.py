"""qsmnet evaluation on held-out subjects (seed 002 Sec. 3.4 and Fig. 6).

For each sample of a split: the corrupted chi, the UNet output and the UNet + PReNet
output are compared

- with the motion-free reconstruction ``chi_clean`` (seed 002's comparison): SSIM,
  PSNR, RMSE (ppm);
- with the true chi ``chi_true``: NRMSE (%), HFEN, XSIM;

all by :func:`mrsim.qsm.metrics.chi_metrics` inside ``chi_mask`` (both maps demeaned in
the mask; SSIM / PSNR with the DESIGN.md convention, data_range = max of the reference).
The corrector is also applied to the motion-free chi itself (``input = "motion-free"``):
a corrector that does no harm leaves its metrics against ``chi_clean`` near perfect.
``lap_ratio`` is the RMS of the Laplacian of the map over that of ``chi_clean`` in the mask:
below 1 the map is smoother than the motion-free reconstruction (a smoothing corrector on
motion-free input), above 1 it has more high-frequency content (ringing, ghosts). The
Laplacian is the 7-point stencil of :func:`scipy.ndimage.laplace`, and the RMS is taken
only over mask voxels whose whole stencil (the voxel and its 6 face neighbours) lies in
the mask (:func:`stencil_interior`): at the mask border the stencil would read the zeros
outside the mask and measure the mask's edge, not the map.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage

from correctors.common.curves import write_csv
from correctors.common.readers import H5Rows
from correctors.qsmnet.infer import Corrector, prenet_volume, unet_volume
from mrsim.qsm.metrics import chi_metrics

__all__ = ["evaluate", "summarize", "table_markdown", "box_plot", "stencil_interior"]

KEYS = ("chi_corrupted", "chi_clean", "chi_true", "chi_mask")
METHODS = ("input", "unet", "unet+prenet")


def evaluate(model: Corrector | None, data: str | Path | H5Rows, split: str = "test") -> list[dict]:
    """One row per (sample, input, method) with all metrics.

    ``data`` is a dataset directory / ``dataset.h5``, or its ``split`` already opened as
    ``H5Rows(data, split, KEYS)`` (the command line opens it first, to report a bad file
    as a user error).
    """
    rows_h5 = data if isinstance(data, H5Rows) else H5Rows(data, split, KEYS)
    idx = rows_h5.index
    out = []
    for r in rows_h5.rows:
        r = int(r)
        vol = {k: np.asarray(rows_h5.read(k, (r,))) for k in KEYS}
        mask = vol["chi_mask"].astype(bool)
        interior = stencil_interior(mask)
        if interior.any():
            lap_ref = _lap_rms(vol["chi_clean"], interior)
        else:  # a mask thinner than the stencil: no Laplacian ratio for this row, the rest stands
            warnings.warn(
                f"{rows_h5.path}: row {r}: no mask voxel has its whole Laplacian stencil in "
                "the mask; lap_ratio is NaN for this row",
                RuntimeWarning,
                stacklevel=2,
            )
            lap_ref = float("nan")
        for what, x in (("corrupted", vol["chi_corrupted"]), ("motion-free", vol["chi_clean"])):
            outputs = {"input": x}
            if model is not None:
                outputs["unet"] = unet_volume(model, x)
                if model.prenet is not None:
                    outputs["unet+prenet"] = prenet_volume(model, outputs["unet"])
            for method, y in outputs.items():
                vs_ref = chi_metrics(vol["chi_clean"], y, mask)
                vs_true = chi_metrics(vol["chi_true"], y, mask)
                out.append(
                    {
                        "sample": int(idx["sample"][r]),
                        "subject": int(idx["subject"][r]),
                        "motion_magnitude": float(idx["motion_magnitude"][r]),
                        "input": what,
                        "method": method,
                        "ssim": vs_ref["ssim"],
                        "psnr_db": vs_ref["psnr"],
                        "rmse_ppm": vs_ref["rmse_ppm"],
                        "nrmse_true_pct": vs_true["nrmse_pct"],
                        "hfen_true": vs_true["hfen"],
                        "xsim_true": vs_true["xsim"],
                        "lap_ratio": _lap_rms(y, interior) / lap_ref if interior.any() else lap_ref,
                    }
                )
    return out


def stencil_interior(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` whose 7-point Laplacian stencil lies wholly inside it.

    Parameters
    ----------
    mask : (X, Y, Z) bool array

    Returns
    -------
    (X, Y, Z) bool array
        ``mask`` eroded by the 6-connected cross (the voxel and its face neighbours);
        voxels on the array's faces are excluded too (their stencil leaves the array).
    """
    cross = ndimage.generate_binary_structure(3, 1)
    return ndimage.binary_erosion(np.asarray(mask, bool), structure=cross, border_value=0)


def _lap_rms(v: np.ndarray, interior: np.ndarray) -> float:
    """RMS of the 7-point Laplacian of ``v`` over ``interior`` (see :func:`stencil_interior`)."""
    if not interior.any():
        raise ValueError("lap_ratio: no mask voxel has its whole Laplacian stencil in the mask")
    lap = ndimage.laplace(np.asarray(v, np.float64))
    return float(np.sqrt(np.mean(lap[interior] ** 2)))


METRICS = (
    "ssim",
    "psnr_db",
    "rmse_ppm",
    "nrmse_true_pct",
    "hfen_true",
    "xsim_true",
    "lap_ratio",
)


def summarize(rows: list[dict]) -> list[dict]:
    """Mean, std and median of every metric per (input, method)."""
    groups = sorted(
        {(r["input"], r["method"]) for r in rows}, key=lambda g: (g[0], METHODS.index(g[1]))
    )
    table = []
    for what, method in groups:
        sel = [r for r in rows if r["input"] == what and r["method"] == method]
        row = {"input": what, "method": method, "n": len(sel)}
        for k in METRICS:
            v = np.array([s[k] for s in sel], float)
            v = v[np.isfinite(v)]
            row[k] = float(v.mean()) if v.size else float("nan")
            row[k + "_std"] = float(v.std()) if v.size else float("nan")
            row[k + "_median"] = float(np.median(v)) if v.size else float("nan")
        table.append(row)
    return table


def table_markdown(table: list[dict]) -> str:
    head = (
        "SSIM",
        "PSNR (dB)",
        "RMSE (ppm)",
        "NRMSE vs true (%)",
        "HFEN vs true",
        "XSIM vs true",
        "Laplacian ratio",
    )
    lines = [
        "| input | method | N | " + " | ".join(head) + " |",
        "|---" * (3 + len(head)) + "|",
    ]
    fmt = {
        "ssim": ".4f",
        "psnr_db": ".2f",
        "rmse_ppm": ".4f",
        "nrmse_true_pct": ".1f",
        "hfen_true": ".3f",
        "xsim_true": ".3f",
        "lap_ratio": ".3f",
    }
    for t in table:
        cells = [f"{t[k]:{fmt[k]}} ± {t[k + '_std']:{fmt[k]}}" for k in METRICS]
        lines.append(f"| {t['input']} | {t['method']} | {t['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_rows(rows: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "rows.csv", rows, list(rows[0]))
    table = summarize(rows)
    (out / "summary.json").write_text(json.dumps(table, indent=2))
    (out / "table.md").write_text(table_markdown(table) + "\n")


def box_plot(rows: list[dict], path: str | Path, title: str = "") -> None:
    """SSIM, PSNR and RMSE of corrupted vs corrected chi (seed 002 Fig. 6 layout)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sel = [r for r in rows if r["input"] == "corrupted"]
    methods = [m for m in METHODS if any(r["method"] == m for r in sel)]
    labels = {"input": "corrupted", "unet": "UNet", "unet+prenet": "UNet+PReNet"}
    fig, ax = plt.subplots(1, 3, figsize=(10, 3.6))
    for a, (k, name) in zip(
        ax, (("ssim", "SSIM"), ("psnr_db", "PSNR (dB)"), ("rmse_ppm", "RMSE (ppm)")), strict=True
    ):
        data = [[r[k] for r in sel if r["method"] == m] for m in methods]
        a.boxplot(data, medianprops={"color": "red"})
        a.set_xticks(range(1, len(methods) + 1), [labels[m] for m in methods], fontsize=8)
        a.set_title(name)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
