"""Where a ``mcnet_mprage`` build's time goes, stage by stage (issue 17).

Builds the ``medium`` recipe of ``dataset_throughput.py`` (16 samples of 2 subjects, 128^3)
in this process under cProfile (the MNI152 template loaded before, as there) and reports the
time of each stage, from the functions that implement it (cumulative time; a stage whose
functions a given mrsim version lacks shows 0):

* subject generation (``synthetic_subject``);
* numba start-up (loading the cached machine code of mrsim's kernels, first calls);
* per subject: upsampled grid (``_compute_upsampled_grid``), static k-space, the plane
  contractions (per sample before issue 17's batched planes);
* per sample: poses (``line_poses``), the line interpolation kernels, the reconstruction of
  the corrupted image, severity / motion states, schedule construction;
* HDF5 shard writes and the merge (from the builder's phase timers: a writer thread is
  outside cProfile's view).

Stages nest where one calls another (numba start-up is inside the stage that first calls a
kernel: subject generation now, the interpolation before), so the rows need not add up.

Run it with the mrsim to profile first on the path (``PYTHONPATH=/path/to/tree``)::

    .venv/bin/python benchmarks/dataset_profile.py
"""

from __future__ import annotations

import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

EINSUM = "<built-in method numpy._core._multiarray_umath.c_einsum>"
STAGES = {
    "subject generation": [("subjects.py", "synthetic_subject")],
    "numba start-up (cached code load)": [("dispatcher.py", "_compile_for_args")],
    "upsampled grid (per subject)": [("nufft.py", "_compute_upsampled_grid")],
    "static k-space (per subject)": [("engine.py", "_compute_static_kspace")],
    "plane contraction (einsum)": [("~", EINSUM)],
    "interpolation kernel (numba)": [
        ("mrsim_line_kernel_d", "kernel"),
        ("mrsim_line_kernel_planar", "kernel"),
    ],
    "image reconstruction (inverse FFTs)": [
        ("fft.py", "ifft_centered"),
        ("fft.py", "ifft_centered_slices"),
    ],
    "poses (trajectory sampling)": [("poses.py", "line_poses")],
    "severity and motion states": [("severity.py", "motion_severity"), ("poses.py", "_states")],
    "schedule and protocol": [("schedule.py", "mprage_schedule")],
}


def main() -> int:
    from dataset_throughput import recipe_for

    import mrsim
    from mrsim.dataset import subjects as subj
    from mrsim.dataset.build import build_dataset

    recipe = recipe_for("medium")
    p = recipe.params
    src = tuple(n * p["source_oversample"] for n in p["shape"])
    subj._template_maps(src, tuple(p["fov_mm"] / n for n in src))
    out = Path(tempfile.mkdtemp(prefix="mrsim-prof-"))
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    res = build_dataset(recipe, out / "d", workers=1, progress=False)
    prof.disable()
    wall = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    print(
        f"mrsim from {Path(mrsim.__file__).parent}; {res.n_samples} samples; wall {wall:.2f} s "
        f"(under cProfile); 1-min load {os.getloadavg()[0]:.1f}"
    )
    print("| stage | s | per sample (s) |\n|---|---|---|")
    for stage, keys in STAGES.items():
        total = 0.0
        for fname, func in keys:
            for (f, _, name), (_, _, tt, ct, _) in stats.items():
                if name == func and fname in f:
                    # numba kernels: own time; everything else: cumulative
                    total += tt if "kernel" == func or fname == "~" else ct
        print(f"| {stage} | {total:.2f} | {total / res.n_samples:.3f} |")
    for ph in ("write", "merge"):
        v = res.phases_s.get(ph, 0.0)
        print(f"| HDF5 {ph} (phase timer) | {v:.2f} | {v / res.n_samples:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
