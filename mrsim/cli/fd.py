"""``mrsim fd``: framewise displacement of a motion file."""

from __future__ import annotations

import argparse

from mrsim.cli import add_command, add_motion_warnings_flag
from mrsim.cli.arg_types import positive_mm, seconds

EPILOG = """\
examples:
  mrsim fd rp_sub01.txt                      # SPM, detected from the name
  mrsim fd motion.txt --format fsl           # name does not tell: give the format
  mrsim fd prefiltered_func_data_mcf.par --kind jenkinson
  mrsim fd pace.csv --radius 65 -o fd.csv    # per-frame FD to a CSV

Power FD = sum |d trans| + r * sum |d rot (rad)| (r = 50 mm), first frame 0;
equals fMRIPrep's framewise_displacement. Jenkinson FD = FSL's RMS deviation over an
80 mm sphere between consecutive poses. enorm = AFNI's sqrt(sum d param^2) (mm, deg).
The mean leaves out the first frame, as fMRIPrep and nipype do.
"""


def register(subparsers, name: str, help_text: str) -> None:
    p = add_command(
        subparsers,
        name,
        help_text,
        "Framewise displacement of a motion file: mean, max and frames above "
        "0.2 / 0.5 mm; per-frame values with -o.",
        EPILOG,
    )
    p.add_argument("input", help="motion file (mrsim csv, fsl, spm, afni, hcp, fmriprep)")
    p.add_argument("--format", help="input format when the name does not tell")
    p.add_argument(
        "--kind",
        choices=("power", "jenkinson", "enorm"),
        default="power",
        help="FD definition (default power)",
    )
    p.add_argument("--radius", type=positive_mm, help="radius (mm); default 50 power, 80 jenkinson")
    p.add_argument("--tr", type=seconds, help="sampling interval (s), for the t_s output column")
    p.add_argument(
        "-o",
        "--output",
        help="write per-frame FD to this CSV (columns frame[,t_s],fd_KIND_mm; default: "
        "print the summary only)",
    )
    add_motion_warnings_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from mrsim.cli.motion import _read_for
    from mrsim.command import user_input
    from mrsim.motion import fd_summary, framewise_displacement
    from mrsim.motion.fd import DEFAULT_RADIUS_MM

    # FD depends only on the sample order, so a file without times needs no --tr.
    traj, timed = _read_for(args.input, args.format, args.tr, need_times=False)
    with user_input("--radius"):
        fd = framewise_displacement(traj, args.kind, radius_mm=args.radius)
    s = fd_summary(fd)
    r = DEFAULT_RADIUS_MM[args.kind] if args.radius is None else args.radius
    name = {"power": "Power FD", "jenkinson": "Jenkinson FD", "enorm": "AFNI enorm"}[args.kind]
    unit = "mm/deg" if args.kind == "enorm" else "mm"
    print(f"{args.input}: {s.n_frames} frames, {name}" + ("" if r is None else f" (r = {r:g} mm)"))
    if s.n_frames < 2:
        print("  mean FD   n/a (one frame: FD needs two consecutive poses)")
    else:
        print(f"  mean FD   {s.mean_mm:.4f} {unit} (frames 2..{s.n_frames})")
    print(f"  max FD    {s.max_mm:.4f} {unit}")
    for thr, cnt in ((0.2, s.n_above_0p2), (0.5, s.n_above_0p5)):
        print(f"  FD > {thr} {unit}: {cnt} frames ({100.0 * cnt / s.n_frames:.1f} %)")
    if args.output:
        cols = [np.arange(len(fd))]
        header = "frame"
        if timed:
            cols.append(traj.t_s)
            header += ",t_s"
        cols.append(fd)
        header += f",fd_{args.kind}_mm"
        from mrsim.io.atomic import atomic_path

        with atomic_path(args.output) as tmp:
            np.savetxt(
                tmp,
                np.column_stack(cols),
                delimiter=",",
                header=header,
                comments="",
                fmt=["%d"] + ["%.10g"] * (len(cols) - 1),
            )
        print(f"wrote {args.output}")
    return 0
