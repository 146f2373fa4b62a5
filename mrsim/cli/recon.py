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

from mrsim.cli import add_command
from mrsim.cli.arg_types import positive_int, tolerance
from mrsim.errors import MrsimInputError

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
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output NIfTI (.nii.gz); with --known-motion also NAME_residuals.json next to it",
    )
    p.add_argument(
        "--known-motion", action="store_true", help="invert the recorded per-line motion (CG)"
    )
    p.add_argument("--iterations", type=_iterations, default=30, help="CG iterations (default 30)")
    p.add_argument(
        "--tol", type=_fraction, default=1e-6, help="CG relative residual (default 1e-6)"
    )
    p.add_argument(
        "--lambda",
        type=_weight,
        default=0.0,
        dest="lam",
        help="Tikhonov weight (default 0; relative to the unit eigenvalues of A^H A)",
    )
    p.add_argument("--eps", type=tolerance, default=1e-4, help="NUFFT tolerance (default 1e-4)")
    p.add_argument("--threads", type=positive_int, default=None, help="threads (default: all CPUs)")
    p.add_argument("--group", default=None, help="MRD group (default: 'dataset')")
    p.add_argument(
        "--complex", action="store_true", help="write the complex image instead of magnitude"
    )
    p.set_defaults(func=run)


def _iterations(text: str) -> int:
    try:
        val = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from exc
    if val < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return val


def _number(text: str, ok, expected: str) -> float:
    try:
        val = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from exc
    if not (np.isfinite(val) and ok(val)):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return val


def _fraction(text: str) -> float:
    return _number(text, lambda v: 0 <= v < 1, "a relative residual in [0, 1), e.g. 1e-6")


def _weight(text: str) -> float:
    return _number(text, lambda v: v >= 0, "a Tikhonov weight >= 0, e.g. 1e-3")


def residuals_path(output: Path) -> Path:
    """``NAME_residuals.json`` next to the output NIfTI ``NAME.nii.gz``."""
    return output.with_name(output.name.split(".")[0] + "_residuals.json")


def read_raw(path: str, group: str | None = None):
    """An mrsim k-space file or an MRD file, whichever ``path`` is."""
    from mrsim.errors import MrsimFileNotFoundError
    from mrsim.io.ismrmrd import read_ismrmrd
    from mrsim.io.raw import is_mrsim_kspace, read_mrsim_kspace

    p = Path(path)
    if not p.exists():
        raise MrsimFileNotFoundError(f"{p}: no such file (expected an mrsim k-space or MRD .h5)")
    if p.is_dir():
        raise MrsimInputError(f"{p}: is a folder (expected an mrsim k-space or MRD .h5 file)")
    if is_mrsim_kspace(p):
        return read_mrsim_kspace(p)
    return read_ismrmrd(p, group)


def run(args: argparse.Namespace) -> int:
    from mrsim.io.nifti import save_volume
    from mrsim.io.output_set import StagedOutputs, check_writable
    from mrsim.recon import reconstruct

    t0 = time.perf_counter()
    # Checked before the work: the input's form and the outputs' folders.
    out = check_writable(args.output, "-o/--output")
    if not out.name.endswith((".nii", ".nii.gz")):
        raise MrsimInputError(f"-o/--output {out}: expected a NIfTI file name (.nii.gz or .nii)")
    if args.known_motion:
        check_writable(residuals_path(out), "-o/--output (residuals JSON)")
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
    line = f"{raw.source}: {raw.n_coils} coil(s), {raw.schedule.n_lines} lines, {res.method}"
    written = [str(out)]
    with StagedOutputs() as stage:  # the image and its residuals, or nothing
        save_volume(stage.path(out), img, res.affine)
        if res.residuals:
            line += f", {res.iterations} CG iterations, residual {res.residuals[-1]:.2e}"
            report = {"relative_residual": res.residuals, "lambda": args.lam}
            stage.path(residuals_path(out)).write_text(json.dumps(report))
            written.append(str(residuals_path(out)))
    print(f"{line}\nwrote {' and '.join(written)} ({time.perf_counter() - t0:.1f} s)")
    return 0
