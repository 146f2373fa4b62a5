"""``mrsim recon``: reconstruct an mrsim k-space file or an ISMRMRD/MRD raw-data file.

Without ``--known-motion`` the image is the plain FFT reconstruction (single coil), the
R=1 SENSE combination (maps in the file) or the root-sum-of-squares (multi-coil, no maps).
With ``--known-motion`` the per-line head poses recorded in the file (``line_params`` of
``--save-kspace``, ``user_float[0:6]`` of ``--save-ismrmrd``) are inverted by conjugate
gradients on the normal equations of the motion operator, with an optional Tikhonov weight
(``--lambda``): the best a retrospective corrector can do. The output NIfTI keeps the
file's affine. See docs/recon.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mrsim.cli import CLIError, add_command

EXAMPLES = """examples:
  mrsim corrupt --trajectory pace.csv --matrix 128 --save-kspace out/k.h5 -o out
  mrsim recon out/k.h5 -o out/fft.nii.gz
  mrsim recon out/k.h5 --known-motion --iterations 30 -o out/known_motion.nii.gz
  mrsim corrupt --trajectory pace.csv --matrix 128 --save-ismrmrd out/raw.h5 -o out
  mrsim recon out/raw.h5 --known-motion --lambda 1e-3 -o out/km.nii.gz
"""


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(subparsers, name, help_text, __doc__, EXAMPLES)
    p.add_argument("input", metavar="IN", help="mrsim k-space file (--save-kspace) or MRD .h5")
    p.add_argument("-o", "--output", required=True, help="output NIfTI (.nii.gz)")
    p.add_argument(
        "--known-motion", action="store_true", help="invert the recorded per-line motion (CG)"
    )
    p.add_argument("--iterations", type=int, default=30, help="CG iterations (default 30)")
    p.add_argument("--tol", type=float, default=1e-6, help="CG relative residual (default 1e-6)")
    p.add_argument(
        "--lambda",
        type=float,
        default=0.0,
        dest="lam",
        help="Tikhonov weight (default 0; relative to the unit eigenvalues of A^H A)",
    )
    p.add_argument("--eps", type=float, default=1e-4, help="NUFFT tolerance (default 1e-4)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all CPUs)")
    p.add_argument("--group", default=None, help="MRD group (default: 'dataset')")
    p.add_argument(
        "--complex", action="store_true", help="write the complex image instead of magnitude"
    )
    p.set_defaults(func=run)


def read_raw(path: str, group: str | None = None):
    """An mrsim k-space file or an MRD file, whichever ``path`` is."""
    from mrsim.errors import MrsimInputError
    from mrsim.io.ismrmrd import read_ismrmrd
    from mrsim.io.raw import is_mrsim_kspace, read_mrsim_kspace

    if not Path(path).exists():
        raise MrsimInputError(f"{path}: no such file (expected an mrsim k-space or MRD .h5)")
    if is_mrsim_kspace(path):
        return read_mrsim_kspace(path)
    return read_ismrmrd(path, group)


def run(args: argparse.Namespace) -> int:
    from mrsim.io.nifti import save_volume
    from mrsim.recon import reconstruct

    t0 = time.perf_counter()
    if args.iterations < 0:
        raise CLIError(f"--iterations must be >= 0, got {args.iterations}")
    raw = read_raw(args.input, args.group)
    res = reconstruct(
        raw,
        known_motion=args.known_motion,
        iterations=args.iterations,
        tol=args.tol,
        lam=args.lam,
        eps=args.eps,
        nthreads=args.threads,
        progress=True,
    )
    img = res.image.astype(np.complex64) if args.complex else np.abs(res.image).astype(np.float32)
    out = Path(args.output)
    save_volume(out, img, res.affine)
    line = f"{raw.source}: {raw.n_coils} coil(s), {raw.schedule.n_lines} lines, {res.method}"
    if res.residuals:
        line += f", {res.iterations} CG iterations, residual {res.residuals[-1]:.2e}"
        with open(out.with_name(out.name.split(".")[0] + "_residuals.json"), "w") as f:
            json.dump({"relative_residual": res.residuals, "lambda": args.lam}, f)
    print(f"{line}\nwrote {out} ({time.perf_counter() - t0:.1f} s)")
    return 0
