"""``mrsim motion``: generate, convert and plot motion trajectories."""

from __future__ import annotations

import argparse
import shlex

from mrsim.cli import CLIError, add_command, add_motion_warnings_flag
from mrsim.cli.arg_types import positive_mm, seconds
from mrsim.command import user_input

EPILOG = """\
examples:
  mrsim motion generate pace --seed 0 -o pace.csv
  mrsim motion generate events --n 300 --duration 300 --seed 3 -o events.csv
  mrsim motion generate realistic --n 200 --tr 2 --magnitude 1.5 --seed 1 -o rest.par
  mrsim motion convert rp_sub01.txt sub01.csv --tr 2.0
  mrsim motion convert motion.1D motion.par
  mrsim motion plot pace.csv -o motion.png

formats (--from/--to/--format): mrsim (.csv), fsl (.par), spm (rp_*.txt),
afni (.1D), hcp (Movement_Regressors*.txt), fmriprep (*_desc-confounds_timeseries.tsv).
Only the mrsim CSV stores times; give --tr for the others where times matter.
"""

# CLI option -> (library keyword, kinds that take it)
_GEN_OPTIONS = {
    "n": ("n", ("pace", "events", "realistic")),
    "magnitude": ("magnitude_mm", ("realistic",)),
    "n_events": ("n_events", ("events",)),
    "max_mm": ("max_mm", ("events",)),
    "max_deg": ("max_deg", ("events",)),
    "ramp": ("ramp_s", ("events",)),
    "limit_mm": ("limit_mm", ("pace",)),
    "limit_deg": ("limit_deg", ("pace",)),
    "scale": ("scale", ("pace",)),
}


def register(subparsers, name: str, help_text: str) -> None:
    p = add_command(
        subparsers,
        name,
        help_text,
        "Generate, convert and plot rigid head-motion trajectories.",
        EPILOG,
    )
    sub = p.add_subparsers(dest="motion_command", metavar="ACTION")

    g = sub.add_parser(
        "generate",
        help="synthesise a trajectory (pace, events, realistic)",
        description=(
            "Synthesise a trajectory, deterministic for --seed. pace: seed 001 style, N points "
            "< 2 mm/2 deg times 8; events: seed 002, 2-3 steps within +-5 mm/deg; realistic: "
            "drift + respiration + nodding + jerks scaled to --magnitude."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("kind", choices=("pace", "events", "realistic"))
    g.add_argument(
        "-o",
        "--output",
        required=True,
        help="output motion file; its name sets the format (.csv mrsim with t_s and units, .par "
        "fsl, rp_*.txt spm, .1D afni) unless --format",
    )
    g.add_argument("--format", help="output format when the name does not tell")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--n", type=int, help="number of samples")
    timing = g.add_mutually_exclusive_group()
    timing.add_argument("--tr", type=seconds, help="sampling interval (s)")
    timing.add_argument("--duration", type=float, help="time from first to last sample (s)")
    g.add_argument("--magnitude", type=float, help="realistic: max RMS displacement (mm)")
    g.add_argument("--n-events", type=int, help="events: number of events (default 2 or 3)")
    g.add_argument("--max-mm", type=float, help="events: translation bound (mm, default 5)")
    g.add_argument("--max-deg", type=float, help="events: rotation bound (deg, default 5)")
    g.add_argument("--ramp", type=float, help="events: transition time (s, default 0)")
    g.add_argument("--limit-mm", type=float, help="pace: bound before scaling (default 2)")
    g.add_argument("--limit-deg", type=float, help="pace: bound before scaling (default 2)")
    g.add_argument("--scale", type=float, help="pace: final factor (default 8)")
    g.set_defaults(func=run_generate)

    c = sub.add_parser(
        "convert",
        help="convert between motion file formats",
        description="Read a motion file and write it in another format (units converted).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("input")
    c.add_argument("output")
    c.add_argument("--from", dest="from_format", help="input format (default: from name)")
    c.add_argument("--to", dest="to_format", help="output format (default: from name)")
    c.add_argument("--tr", type=seconds, help="sampling interval (s) of an input without times")
    c.add_argument(
        "--resample-tr",
        type=seconds,
        metavar="SECONDS",
        help="resample (linear) onto a uniform grid with this spacing first: needed to write "
        "non-uniform times to a format without a time column (default: no resampling)",
    )
    add_motion_warnings_flag(c)
    c.set_defaults(func=run_convert)

    pl = sub.add_parser(
        "plot",
        help="plot the 6 parameters and FD to a PNG",
        description="Plot translations, rotations and per-frame FD of a motion file.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pl.add_argument("input")
    pl.add_argument(
        "-o",
        "--output",
        required=True,
        help="PNG written: translations, rotations and per-frame FD (e.g. motion.png)",
    )
    pl.add_argument("--format", help="input format (default: from name)")
    pl.add_argument("--tr", type=seconds, help="sampling interval (s) of an input without times")
    pl.add_argument(
        "--fd", choices=("power", "jenkinson", "enorm"), default="power", help="default power"
    )
    pl.add_argument(
        "--radius", type=positive_mm, help="FD radius (mm; default 50 power, 80 jenkinson)"
    )
    add_motion_warnings_flag(pl)
    pl.set_defaults(func=run_plot)

    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def run_generate(args: argparse.Namespace) -> int:
    from mrsim.motion import GENERATORS, write_trajectory
    from mrsim.motion.formats import detect_format

    kind = args.kind
    kwargs: dict[str, object] = {"seed": args.seed}
    for opt, (kw, kinds) in _GEN_OPTIONS.items():
        v = getattr(args, opt)
        if v is None:
            continue
        if kind not in kinds:
            raise CLIError(f"--{opt.replace('_', '-')} does not apply to kind '{kind}'")
        kwargs[kw] = v
    n = args.n if args.n is not None else {"pace": 128, "events": 300, "realistic": 256}[kind]
    if kind == "realistic":
        if args.duration is not None:
            kwargs["tr_s"] = args.duration / max(n - 1, 1)
        elif args.tr is not None:
            kwargs["tr_s"] = args.tr
    else:
        # pace/events sample linspace(0, duration, n): spacing duration / (n - 1)
        if args.tr is not None:
            kwargs["duration_s"] = args.tr * (n - 1)
        elif args.duration is not None:
            kwargs["duration_s"] = args.duration
    with user_input(f"motion generate {kind} options"):
        traj = GENERATORS[kind](**kwargs)
    with user_input(args.output):
        fmt = args.format or detect_format(args.output)
    comment = None
    if fmt in ("mrsim", "afni"):
        comment = (
            f"synthetic '{kind}' trajectory (not measured data) from "
            f"mrsim.motion.generators.{GENERATORS[kind].__name__}, seed {args.seed}\n"
            f"made by: {_generate_command(args)}"
        )
    with user_input(args.output):
        out = write_trajectory(traj, args.output, format=fmt, comment=comment)
    print(f"wrote {out} ({len(traj)} samples over {traj.duration_s:g} s, {fmt} format)")
    return 0


def _generate_command(args: argparse.Namespace) -> str:
    """The command line that regenerates this output (from the parsed options)."""
    parts = ["mrsim", "motion", "generate", args.kind, "--seed", str(args.seed)]
    for opt in ("n", "tr", "duration", *[o for o in _GEN_OPTIONS if o != "n"]):
        v = getattr(args, opt)
        if v is not None:
            parts += [f"--{opt.replace('_', '-')}", f"{v:g}" if isinstance(v, float) else str(v)]
    if args.format:
        parts += ["--format", args.format]
    parts += ["-o", args.output]
    return " ".join(shlex.quote(p) for p in parts)


def _read_for(
    path: str, fmt: str | None, tr: float | None, need_times: bool, format_flag: str = "--format"
):
    """Read a motion file; a placeholder 1 s interval only where times are not used."""
    from mrsim.motion import read_trajectory
    from mrsim.motion.formats import has_time_column

    with user_input(path), _flag_spelling(format_flag):
        if tr is None and not need_times and not has_time_column(path, fmt):
            return read_trajectory(path, format=fmt, tr_s=1.0), False
        return read_trajectory(path, format=fmt, tr_s=tr), True


class _flag_spelling:
    """Say ``--from`` / ``--to`` where the library's message says ``--format``."""

    def __init__(self, flag: str) -> None:
        self.flag = flag

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ, exc, tb) -> bool:
        if exc is not None and self.flag != "--format" and "--format" in str(exc):
            msg = str(exc).replace("pass format= (CLI: --format)", f"pass {self.flag} FORMAT")
            raise CLIError(msg) from exc
        return False


def _uniform_spacing(t_s) -> float | None:
    import numpy as np

    d = np.diff(np.asarray(t_s, dtype=float))
    if d.size == 0:
        return None
    return float(d.mean()) if np.allclose(d, d.mean(), rtol=1e-6, atol=1e-9) else None


def run_convert(args: argparse.Namespace) -> int:
    import numpy as np

    from mrsim.motion import write_trajectory
    from mrsim.motion.formats import detect_format

    with user_input(args.output), _flag_spelling("--to"):
        to = args.to_format or detect_format(args.output)
    # Only the mrsim CSV stores times, so other outputs do not need --tr.
    need_times = to == "mrsim" or args.resample_tr is not None
    traj, timed = _read_for(
        args.input, args.from_format, args.tr, need_times=need_times, format_flag="--from"
    )
    if args.resample_tr is not None:
        grid = np.arange(traj.t_s[0], traj.t_s[-1] + 1e-9 * args.resample_tr, args.resample_tr)
        traj = traj.resample(grid)
    note = ""
    if to != "mrsim" and timed and len(traj) > 1:
        dt = _uniform_spacing(traj.t_s)
        if dt is None:
            d = np.diff(traj.t_s)
            raise CLIError(
                f"{args.input}: the sample times are not uniform (spacing {d.min():g} to "
                f"{d.max():g} s) and {to} files store no times, so they would be lost; "
                "resample with --resample-tr SECONDS, or write an mrsim .csv"
            )
        note = f"; times not stored: read it back with --tr {dt:g}"
        if traj.t_s[0] != 0:
            note += f" (first sample was at {traj.t_s[0]:g} s)"
    with user_input(args.output):
        out = write_trajectory(traj, args.output, format=to)
    print(f"wrote {out} ({len(traj)} samples, {to} format{note})")
    return 0


def run_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from mrsim.motion.plot import plot_trajectory

    traj, timed = _read_for(args.input, args.format, args.tr, need_times=False)
    with user_input("--radius"):
        fig = plot_trajectory(
            traj,
            fd_kind=args.fd,
            radius_mm=args.radius,
            title=str(args.input),
            time_label="time (s)" if timed else "sample index (no --tr given)",
        )
    with user_input(args.output):
        from mrsim.io.atomic import atomic_path

        with atomic_path(args.output) as tmp:
            fig.savefig(tmp, dpi=120)
    print(f"wrote {args.output}")
    return 0
