"""MC-Net cross-tests: template- and head-trained models on both test sets, side by side.

    python benchmarks/mcnet_cross.py \\
        --eval "template model|template data=runs/mcnet_template/eval_template" \\
        --eval "template model|head data=runs/mcnet_template/eval_head" \\
        --eval "head model|template data=runs/mcnet_cpu_head/eval_template" \\
        --eval "head model|head data=runs/mcnet_cpu_head/eval" \\
        --sweep "template model|head data=docs/benchmarks/mcnet_sweep_tmodel_headdata" ... \\
        --out docs/benchmarks/mcnet_cross.json

Reads the ``summary.json`` of ``python -m correctors.mcnet eval`` runs and the
``STEM_summary.csv`` of ``benchmarks/mcnet_sweep.py sweep`` runs, prints markdown tables
(test split: SSIM / PSNR corrupted and corrected per variant; sweep: corrected SSIM per
variant and scale, next to the corrupted SSIM of each data set) and writes them all to
``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path


def _pairs(items: list[str]) -> list[tuple[str, str, Path]]:
    out = []
    for item in items:
        label, _, path = item.partition("=")
        model, _, data = label.partition("|")
        out.append((model.strip(), data.strip(), Path(path)))
    return out


def eval_table(evals: list[tuple[str, str, Path]]) -> tuple[str, list[dict]]:
    rows = []
    for model, data, folder in evals:
        for r in json.loads((folder / "summary.json").read_text()):
            rows.append({"model": model, "data": data, **r})
    lines = [
        "| model | test data | variant | slices | SSIM corrupted | SSIM corrected | gain | "
        "PSNR corrupted (dB) | PSNR corrected (dB) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['data']} | {r['variant']} | {r['n_slices']} | "
            f"{r['ssim_corrupted_mean']:.3f} ± {r['ssim_corrupted_std']:.3f} | "
            f"{r['ssim_corrected_mean']:.3f} ± {r['ssim_corrected_std']:.3f} | "
            f"{r['ssim_gain_mean']:+.3f} | {r['psnr_corrupted_mean']:.2f} | "
            f"{r['psnr_corrected_mean']:.2f} |"
        )
    return "\n".join(lines), rows


def sweep_table(sweeps: list[tuple[str, str, Path]]) -> tuple[str, list[dict]]:
    rows = []
    for model, data, stem in sweeps:
        path = stem.with_name(stem.name + "_summary.csv")
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                rows.append({"model": model, "data": data, **r})
    cols = sorted({(r["model"], r["data"]) for r in rows}, key=lambda c: (c[1], c[0]))
    keys = sorted({(r["variant"], float(r["scale"])) for r in rows})
    head = "| variant | scale | " + " | ".join(f"{d}: corrupted | {d}: {m}" for m, d in cols) + " |"
    lines = [head, "|---|---:|" + "---:|---:|" * len(cols)]
    for variant, scale in keys:
        cells = []
        for m, d in cols:
            r = next(
                (
                    x
                    for x in rows
                    if (x["model"], x["data"], x["variant"]) == (m, d, variant)
                    and float(x["scale"]) == scale
                ),
                None,
            )
            if r is None:
                cells += ["-", "-"]
            else:
                cells += [
                    f"{float(r['ssim_corrupted_mean']):.3f}",
                    f"{float(r['ssim_corrected_mean']):.3f} ({float(r['frac_improved']):.0%})",
                ]
        lines.append(f"| {variant} | {scale:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines), rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", action="append", default=[], metavar="MODEL|DATA=DIR")
    ap.add_argument("--sweep", action="append", default=[], metavar="MODEL|DATA=STEM")
    ap.add_argument("--out", default=None, help="JSON with every row")
    a = ap.parse_args(argv)
    doc = {}
    if a.eval:
        md, doc["eval"] = eval_table(_pairs(a.eval))
        print(md, end="\n\n")
    if a.sweep:
        md, doc["sweep"] = sweep_table(_pairs(a.sweep))
        print(md)
    if a.out:
        Path(a.out).write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
