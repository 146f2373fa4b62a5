"""MC-Net evaluation with mrsim's metric convention and seed 001's SSIM table.

Metrics follow DESIGN.md: SSIM per 2D slice (scikit-image defaults, through
:func:`mrsim.metrics.ssim`) and PSNR, both with ``data_range`` = max of the
clean reference *volume* of the sample (every slice of a sample shares it).
The table mirrors seed 001 Fig. 4: SSIM mean +- std of the corrupted input and
of the corrected output, per motion variant (rotation only, rotation plus
translation), with the number of test slices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from correctors.common.curves import write_csv
from correctors.mcnet.infer import correct_slices
from correctors.mcnet.model import MCNet
from mrsim.metrics import psnr, ssim

__all__ = ["evaluate_samples", "summarize", "table_markdown", "write_rows_csv"]


def evaluate_samples(
    model: MCNet | None,
    samples: Iterable[Mapping],
    batch_size: int = 16,
    progress: bool = False,
) -> list[dict]:
    """Per-slice SSIM/PSNR of corrupted and corrected slices.

    Parameters
    ----------
    model : MCNet or None
        None evaluates the corrupted input only (``*_corrected`` left out).
    samples : iterable of mappings
        Each with ``"corrupted"`` and ``"clean"`` arrays of shape (S, H, W)
        (real, or complex: magnitudes are used), optionally ``"data_range"``
        (default: max of ``clean``, i.e. the reference volume max when the
        stack is the whole volume; pass the 3D volume's max when the stack
        is a subset of its slices) and any scalar metadata (subject, variant,
        motion_std, ...) that is copied into each row.
    batch_size : int
    progress : bool
        tqdm bar over samples.

    Returns
    -------
    list of dict
        One row per slice: metadata, ``slice``, ``ssim_corrupted``,
        ``psnr_corrupted`` and (with a model) ``ssim_corrected``,
        ``psnr_corrected``.
    """
    from tqdm.auto import tqdm

    rows: list[dict] = []
    for k, s in enumerate(tqdm(samples, disable=not progress, desc="mcnet eval")):
        try:
            cor, ref = np.asarray(s["corrupted"]), np.asarray(s["clean"])
        except KeyError as exc:
            raise ValueError(
                f"sample {k}: missing key {exc} (need 'corrupted' and 'clean')"
            ) from None
        cor = np.abs(cor) if np.iscomplexobj(cor) else cor
        ref = np.abs(ref) if np.iscomplexobj(ref) else ref
        if cor.shape != ref.shape or cor.ndim != 3:
            raise ValueError(
                f"sample {k}: corrupted {cor.shape} and clean {ref.shape} must be equal (S, H, W)"
            )
        dr = float(s.get("data_range", ref.max()))
        out = None if model is None else correct_slices(model, cor, batch_size)
        meta = {
            key: v
            for key, v in s.items()
            if key not in ("corrupted", "clean", "data_range") and np.ndim(v) == 0
        }
        for i in range(ref.shape[0]):
            row = dict(meta, slice=i)
            # one slice at a time with the volume's data range (DESIGN.md)
            row["ssim_corrupted"] = ssim(ref[i], cor[i], data_range=dr)
            row["psnr_corrupted"] = psnr(ref[i], cor[i], data_range=dr)
            if out is not None:
                row["ssim_corrected"] = ssim(ref[i], out[i], data_range=dr)
                row["psnr_corrected"] = psnr(ref[i], out[i], data_range=dr)
            rows.append(row)
    return rows


def summarize(rows: list[dict], group_by: str = "variant", pooled: bool = False) -> list[dict]:
    """Mean and std (over slices) of each metric per group, with slice counts.

    Rows without ``group_by`` are grouped under ``"all"``; ``pooled=True``
    puts every row in one group ``"all"``. PSNR statistics skip infinite
    values (identical slices).
    """
    groups: dict[str, list[dict]] = {}
    for r in rows:
        key = "all" if pooled else str(r.get(group_by, "all"))
        groups.setdefault(key, []).append(r)
    table = []
    for name, rs in groups.items():
        entry: dict = {group_by: name, "n_slices": len(rs)}
        for m in ("ssim_corrupted", "ssim_corrected", "psnr_corrupted", "psnr_corrected"):
            if m in rs[0]:
                v = np.array([r[m] for r in rs], dtype=float)
                v = v[np.isfinite(v)]
                entry[m + "_mean"] = float(v.mean()) if v.size else float("nan")
                entry[m + "_std"] = float(v.std()) if v.size else float("nan")
        if "ssim_corrected" in rs[0]:
            gain = np.array([r["ssim_corrected"] - r["ssim_corrupted"] for r in rs])
            entry["ssim_gain_mean"] = float(gain.mean())
        table.append(entry)
    return table


def table_markdown(table: list[dict], group_by: str = "variant") -> str:
    """Seed 001 Fig. 4-style markdown table (SSIM mean +- std, slice counts)."""
    has_corr = any("ssim_corrected_mean" in t for t in table)
    head = f"| {group_by} | test slices | SSIM corrupted |"
    sep = "|---|---:|---:|"
    if has_corr:
        head += " SSIM MC-Net | mean gain | PSNR corrupted (dB) | PSNR MC-Net (dB) |"
        sep += "---:|---:|---:|---:|"
    lines = [head, sep]
    for t in table:
        line = (
            f"| {t[group_by]} | {t['n_slices']} | "
            f"{t['ssim_corrupted_mean']:.3f} ± {t['ssim_corrupted_std']:.3f} |"
        )
        if has_corr:
            line += (
                f" {t['ssim_corrected_mean']:.3f} ± {t['ssim_corrected_std']:.3f} |"
                f" {t['ssim_gain_mean']:+.3f} |"
                f" {t['psnr_corrupted_mean']:.2f} | {t['psnr_corrected_mean']:.2f} |"
            )
        lines.append(line)
    return "\n".join(lines)


def write_rows_csv(rows: list[dict], path: str | Path) -> None:
    """Per-slice rows to CSV (columns: union of the rows' keys, in first-seen order)."""
    write_csv(path, rows)
