"""``mrsim corrupt``: motion-corrupt a volume in k-space and write clean / corrupted images.

Reads a motion trajectory, maps it onto an MP-RAGE schedule (one pose per k-space line,
re-referenced so the k-space centre is at the identity), computes the corrupted k-space
with one NUFFT (:func:`mrsim.kspace.volume.corrupt_volume`, which calls the front door
:func:`mrsim.kspace.corrupt.corrupt`) and writes ``clean.nii.gz``,
``corrupted.nii.gz`` and ``corruption.png`` (orthogonal slices + the poses), then prints
SSIM / PSNR and the motion severity.

With ``--coils N`` the acquisition has N receive coils with synthetic birdcage
sensitivities on the output grid (fixed in the scanner while the head moves, ring around
the array axis closest to world z). The corrupted and clean images are then the R=1
SENSE combinations of the coil images (with the maps the data were simulated with), and
``--save-kspace`` stores the per-coil k-space with its sensitivities (file format:
:mod:`mrsim.io.kspace_file`, read back with ``read_kspace_file``). ``--coil-method
fourier`` (default) costs about one single-coil NUFFT per phase-encode Fourier term
(``(2K+1)`` per phase-encode axis along which the maps vary: 7 for the birdcage maps and
MP-RAGE) whatever the number of motion states, with the maps band-limited to ``|p| <= K``
cycles/FOV (``--coil-terms K``); ``states`` is exact for the given maps but costs one
NUFFT + N FFTs per motion state (use it with ``--granularity shot``). See
docs/physics.md, section 5.

Without ``--input`` the embedded full-head phantom is used (``--phantom head``, default:
:func:`mrsim.phantoms.head.make_head`, 176 x 256 x 256 at 1 mm, scalp, fat, marrow and
bone around the brain) with MP-RAGE echo-train physics (``--contrast echo-train``: every
k-space line carries the contrast of its own echo after the inversion, ADNI 3 T timing:
TR 2.3 s, TI 0.9 s to the k-space centre, 9 deg). Its default acquisition is a sagittal
ADNI-like MP-RAGE: readout S-I (``--readout-axis 2``, seed 001), the 176 L-R partitions
in each echo train and 256 A-P lines as shots, i.e. 256 x 2.3 s = 588.8 s. A trajectory
that does not cover it (``examples/pace.csv`` spans 404.8 s) is stretched over the scan
(seed 001's mapping of its 128 trajectory points onto the shots), with a notice; give
``--mapping seconds`` to refuse it instead. ``--phantom template`` uses the embedded
MNI152 T1 (1 mm, padded/cropped to 256 x 256 x 176, one static image, readout axis 0):
176 shots x 2.3 s = 404.8 s, the span of ``mrsim motion generate pace`` traces, the
input of earlier versions. ``--contrast static`` corrupts the head as one image at the
k-space-centre echo. A trajectory to start with: ``examples/pace.csv`` in the source
tree, or make one anywhere with ``mrsim motion generate pace --seed 0 -o pace.csv`` (the
same trace).

The MP-RAGE timing (``--ti-s``, ``--echo-spacing-s``, ``--shot-tr-s``; seed 001: 0.9 s,
7 ms, 2.3 s) is derived where not given so that the echo train fits the matrix (a 288- or
311-line phase-encode axis needs a shorter echo spacing); the protocol used is printed
(:mod:`mrsim.kspace.mprage_protocol`). A complex NIfTI is corrupted as the complex image
(magnitude and phase); ``--complex`` writes complex outputs.

Everything is checked before the simulation starts, and the outputs are written all or
nothing: a failed or interrupted run leaves no file that looks like a result.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mrsim.cli import CLIError, add_command, add_motion_warnings_flag
from mrsim.cli.arg_types import positive_int as _positive_int
from mrsim.cli.arg_types import seconds as _seconds
from mrsim.cli.arg_types import tolerance as _tolerance
from mrsim.cli.corrupt_prospective import add_prospective_arguments, prospective_trajectory
from mrsim.errors import MrsimInputError

DEFAULT_GRID = (256, 256, 176)

EXAMPLES = """examples:
  mrsim corrupt --trajectory examples/pace.csv -o demo_out
  mrsim corrupt --trajectory examples/pace.csv --phantom template -o demo_template
  mrsim corrupt --trajectory pace.csv --matrix 128 --ordering centric -o out_128
  mrsim corrupt --trajectory rp_sub01.txt --format spm --tr 2.0 --mapping stretch \\
                --input t1w.nii.gz --noise-snr 30 --save-kspace out/k.h5 -o out
  mrsim corrupt --trajectory pace.csv --granularity shot --backend sigpy --eps 1e-3
  mrsim corrupt --trajectory pace.csv --matrix 128 --coils 8 --save-kspace out/k8.h5 \\
                -o out_8coils
  mrsim corrupt --trajectory pace.csv --matrix 96 --coils 4 --coil-method states \\
                --granularity shot -o out_states
"""


def _matrix(text: str) -> tuple[int, ...]:
    try:
        vals = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--matrix expects N or NX,NY,NZ (e.g. 128 or 128,128,96), got {text!r}"
        ) from exc
    if len(vals) == 1:
        vals = vals * 3
    if len(vals) != 3 or min(vals) < 2:
        raise argparse.ArgumentTypeError(f"--matrix needs 1 or 3 integers >= 2, got {text!r}")
    return vals


def _coil_terms(text: str) -> int | tuple[int, ...]:
    try:
        vals = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--coil-terms expects K or KX,KY,KZ (integers >= 0), got {text!r}"
        ) from exc
    if len(vals) not in (1, 3) or min(vals) < 0:
        raise argparse.ArgumentTypeError(
            f"--coil-terms expects K or KX,KY,KZ (integers >= 0), got {text!r}"
        )
    return vals[0] if len(vals) == 1 else vals


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(subparsers, name, help_text, __doc__, EXAMPLES)
    p.add_argument(
        "--trajectory",
        required=True,
        help="motion file (mrsim CSV, FSL, SPM, ...); make one with "
        "'mrsim motion generate pace -o pace.csv'",
    )
    p.add_argument("--format", default=None, help="motion file format (default: detected)")
    p.add_argument(
        "--tr",
        type=_seconds,
        default=None,
        dest="tr_s",
        help="sample spacing (s) for motion files without a time column",
    )
    p.add_argument(
        "--input",
        default=None,
        help="3D NIfTI to corrupt (default: the embedded phantom of --phantom)",
    )
    p.add_argument(
        "--matrix",
        type=_matrix,
        default=None,
        help="output matrix, N or NX,NY,NZ; FOV kept (default: the input grid; seed 001 used 128)",
    )
    p.add_argument(
        "--ordering",
        default="linear",
        choices=["linear", "centric", "interleaved", "per-line"],
        help="MP-RAGE line ordering (default linear)",
    )
    p.add_argument(
        "--readout-axis",
        type=int,
        default=None,
        choices=[0, 1, 2],
        help="fully sampled array axis (default 2, S-I, for the head phantom; 0 otherwise)",
    )
    p.add_argument(
        "--shot-tr-s",
        "--shot-tr",
        type=_seconds,
        default=None,
        dest="shot_tr_s",
        metavar="S",
        help="time between inversions (s; default 2.3, longer where the train needs it)",
    )
    p.add_argument(
        "--ti-s",
        type=_seconds,
        default=None,
        metavar="S",
        help="inversion time to the train's k-space-centre readout (s; default 0.9, longer "
        "where the train needs it)",
    )
    p.add_argument(
        "--echo-spacing-s",
        type=_seconds,
        default=None,
        metavar="S",
        help="time between readouts of a train (s; default 0.007, shorter (>= 0.005) where "
        "the train must fit TI and the shot TR)",
    )
    p.add_argument(
        "--mapping",
        default=None,
        choices=["seconds", "stretch"],
        help="trajectory times are scan seconds (default), or stretch the "
        "trajectory over the whole scan (default for the head phantom when the trajectory "
        "is shorter than its scan, with a notice)",
    )
    p.add_argument(
        "--granularity",
        default="line",
        choices=["line", "shot"],
        help="one pose per k-space line (default) or per shot",
    )
    p.add_argument(
        "--no-rereference",
        action="store_true",
        help="keep the trajectory as is instead of making the pose at the k-space "
        "centre the identity",
    )
    p.add_argument(
        "--backend", default="finufft", choices=["finufft", "sigpy"], help="default finufft"
    )
    p.add_argument(
        "--eps", type=_tolerance, default=1e-4, help="NUFFT tolerance, 1e-15..0.1 (default 1e-4)"
    )
    p.add_argument(
        "--threads", type=_positive_int, default=None, help="threads (default: all CPUs)"
    )
    p.add_argument(
        "--noise-snr",
        type=float,
        default=None,
        help="add complex Gaussian noise for this image SNR (default: none)",
    )
    p.add_argument(
        "--complex", action="store_true", help="write complex images instead of magnitude"
    )
    p.add_argument(
        "--coils",
        type=_positive_int,
        default=None,
        metavar="N",
        help="N receive coils with synthetic birdcage sensitivities; images are the "
        "coil-combined (R=1 SENSE) ones (default: a single uniform coil)",
    )
    p.add_argument(
        "--coil-method",
        default="fourier",
        choices=["fourier", "states"],
        help="multi-coil model: 'fourier' (cost independent of the number of motion states, "
        "maps band-limited to --coil-terms) or 'states' (exact, one NUFFT + N FFTs per "
        "motion state); default fourier",
    )
    p.add_argument(
        "--coil-terms",
        type=_coil_terms,
        default=None,
        metavar="K",
        help="half-width K of the sensitivities' Fourier series (|p| <= K cycles/FOV), or "
        "KX,KY,KZ (default 3, and 0 along axes where the maps are constant); 'fourier' only",
    )
    p.add_argument(
        "--save-kspace",
        default=None,
        metavar="FILE.h5",
        help="also write the corrupted k-space (per coil with --coils, with the "
        "sensitivities), per-line poses and schedule",
    )
    p.add_argument(
        "--save-ismrmrd",
        default=None,
        metavar="RAW.h5",
        help="also write ISMRMRD/MRD raw data: one acquisition per line with its true pose "
        "in user_float[0:6], the motion-free k-space in group dataset_motion_free (not with "
        "--phantom head)",
    )
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument(
        "-o",
        "--output",
        default="corrupt_out",
        help="output folder, gets clean.nii.gz, corrupted.nii.gz, corruption.png and "
        "corruption.json (default corrupt_out)",
    )
    add_motion_warnings_flag(p)
    p.add_argument(
        "--phantom",
        default=None,
        choices=["template", "head"],
        help="without --input: the full-head phantom (head, default: mrsim phantom head, "
        "176x256x256 at 1 mm, ADNI 3 T MP-RAGE) or the MNI152 T1 template (the input of "
        "earlier versions, 256x256x176 at 1 mm)",
    )
    p.add_argument(
        "--contrast",
        default=None,
        choices=["static", "echo-train"],
        help="head phantom: each line at its own echo of the MP-RAGE train (echo-train, "
        "default) or one image at the k-space-centre echo (static); other inputs: static",
    )
    add_prospective_arguments(p)
    p.set_defaults(func=run)


def choose_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Fill in the defaults that depend on the input (in place; also returned).

    Without ``--input``: ``--phantom head`` with ``--contrast echo-train`` and readout
    axis 2 (S-I, sagittal ADNI-like MP-RAGE, seed 001); ``--phantom template``: static,
    readout axis 0 (earlier versions' defaults). With ``--input``: static, readout axis 0.
    ``--mapping`` is resolved later (:func:`default_mapping`), once the scan is known.
    """
    if args.phantom is None and args.input is None:
        args.phantom = "head"
    head = args.input is None and args.phantom == "head"
    if args.contrast is None:
        args.contrast = "echo-train" if head else "static"
    if args.readout_axis is None:
        args.readout_axis = 2 if head else 0
    return args


def default_mapping(traj, schedule, builtin_head: bool, prospective: bool = False) -> str:
    """``--mapping`` when none was given: ``seconds``; for the built-in head phantom, a
    trajectory shorter than its scan is stretched over the scan (with a notice naming the
    factor). Prospective runs keep ``seconds``: latency is in scan seconds, so a short
    trajectory is refused there with the time it covers."""
    s0, s1 = float(schedule.time_s.min()), float(schedule.time_s.max())
    t0, t1 = (float(traj.t_s[0]), float(traj.t_s[-1])) if len(traj) else (0.0, 0.0)
    if builtin_head and not prospective and len(traj) > 1 and t1 - t0 < s1 - s0:
        print(
            f"note      the trajectory covers {t0:g}-{t1:g} s, the head phantom's readouts "
            f"{s0:g}-{s1:.1f} s: stretched over the scan, {(s1 - s0) / (t1 - t0):.2f}x slower "
            "(--mapping stretch); --mapping seconds refuses it instead",
            flush=True,
        )
        return "stretch"
    return "seconds"


#: SSIM uses 7 x 7 windows on the slices of every axis-0 cut; smaller volumes cannot be scored.
MIN_MATRIX = 7


#: Peak memory per output voxel of a single-coil run (measured: 288 x 288 x 192 from the
#: 256 x 256 x 176 template peaks at 1.5 GB, ~96 bytes per voxel).
BYTES_PER_VOXEL = 100


def _check_memory(matrix: tuple[int, ...]) -> None:
    """Refuse a matrix whose single-coil run (a lower bound with coils) cannot fit in RAM."""
    import os

    need = BYTES_PER_VOXEL * float(np.prod(matrix))
    try:
        have = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: no check
        return
    if need > have:
        raise CLIError(
            f"--matrix {matrix} needs about {need / 2**30:.0f} GiB (about {BYTES_PER_VOXEL} bytes "
            f"per voxel), more than this machine's {have / 2**30:.0f} GiB; use a smaller --matrix"
        )


def _check_image(image: np.ndarray, source: str, matrix: tuple[int, ...]) -> None:
    if not np.any(image):
        raise CLIError(f"{source}: the volume is all zeros: there is nothing to corrupt")
    for what, shape in (("input", image.shape), ("--matrix", matrix)):
        if min(shape) < MIN_MATRIX:
            raise CLIError(
                f"{source}: {what} grid {tuple(shape)} is too small: mrsim corrupt needs at "
                f"least {MIN_MATRIX} voxels along every axis (a 3D MP-RAGE volume; SSIM uses "
                f"{MIN_MATRIX}x{MIN_MATRIX} windows)"
            )


def run(args: argparse.Namespace) -> int:
    from mrsim.command import user_input
    from mrsim.geometry import orientation_from_affine
    from mrsim.io.kspace_file import write_kspace_file
    from mrsim.io.nifti import load_volume, save_volume
    from mrsim.io.output_set import StagedOutputs, check_writable
    from mrsim.kspace.corrupt import CorruptionSettings
    from mrsim.kspace.figure import corruption_figure
    from mrsim.kspace.mprage_protocol import mprage_protocol
    from mrsim.kspace.schedule import mprage_schedule
    from mrsim.kspace.volume import corrupt_head_volume, corrupt_volume
    from mrsim.motion.formats import read_trajectory

    t_start = time.perf_counter()
    # Everything the user gave is checked before the simulation starts.
    out = check_writable(args.output, "-o/--output", folder=True)
    if args.save_kspace:
        check_writable(args.save_kspace, "--save-kspace")
    if args.save_ismrmrd:
        check_writable(args.save_ismrmrd, "--save-ismrmrd")
    with user_input(args.trajectory):
        traj = read_trajectory(args.trajectory, format=args.format, tr_s=args.tr_s)
    head = None
    choose_defaults(args)
    if args.input is None and args.phantom == "head":
        from mrsim.phantoms.head import DEFAULT_SHAPE, make_head

        # built directly on the output matrix (same FOV: 176 x 256 x 256 mm)
        shape = DEFAULT_SHAPE if args.matrix is None else args.matrix
        head = make_head(shape, np.asarray(DEFAULT_SHAPE, float) / np.asarray(shape))
        image, affine = head.fractions[0], head.affine  # the grid only; contrast comes later
        source = f"embedded full-head phantom {tuple(shape)}, FOV 176 x 256 x 256 mm"
    elif args.contrast != "static" or args.phantom == "head":
        raise MrsimInputError(
            "--phantom head / --contrast echo-train: the head phantom is used without --input; "
            "a NIfTI --input is corrupted as one static image"
        )
    elif args.input is None:
        from mrsim.phantoms.mni152 import load_mni152

        image, affine = load_mni152("t1", shape=DEFAULT_GRID)
        source = f"embedded MNI152 T1 {DEFAULT_GRID} at 1 mm"
    else:
        with user_input(f"{args.input} (--input must be a 3D NIfTI volume)"):
            image, affine = load_volume(args.input, ndim=3, dtype=None)
        source = str(args.input)
    with user_input(source):  # voxel size and orientation (shears refused)
        orientation_from_affine(affine)
    matrix = tuple(image.shape) if args.matrix is None else args.matrix
    _check_image(image, source, matrix)
    _check_memory(matrix)
    n_ky = [matrix[a] for a in range(3) if a != args.readout_axis][0]
    protocol = mprage_protocol(
        n_ky,
        args.ordering,
        ti_s=args.ti_s,
        echo_spacing_s=args.echo_spacing_s,
        shot_tr_s=args.shot_tr_s,
    )
    matrix_src = "--matrix" if args.matrix is not None else f"{source} grid"
    with user_input(f"{matrix_src} {matrix} / --ordering {args.ordering}"):
        schedule = mprage_schedule(
            matrix,
            ordering=args.ordering,
            readout_axis=args.readout_axis,
            shot_tr_s=protocol.shot_tr_s,
            ti_s=protocol.ti_s,
            echo_spacing_s=protocol.echo_spacing_s,
        )
    if args.mapping is None:  # the default: seconds, or stretch for the built-in head
        prospective_run = args.prospective is not None or args.applied_poses is not None
        args.mapping = default_mapping(traj, schedule, head is not None, prospective_run)
    traj, interp, prospective = prospective_trajectory(args, traj, schedule)
    settings = CorruptionSettings(
        mapping=args.mapping,
        method=interp,
        rereference_center=not args.no_rereference,
        granularity=args.granularity,
        noise_snr=args.noise_snr,
        output="complex" if args.complex else "magnitude",
        seed=args.seed,
        coil_method=args.coil_method,
        coil_terms=args.coil_terms,
    ).updated(backend=args.backend, eps=args.eps, threads=args.threads)
    if args.coils is not None and args.coil_method == "fourier" and args.coil_terms is not None:
        from mrsim.kspace.coils import coil_terms_per_axis

        with user_input(f"--coil-terms {args.coil_terms}"):
            coil_terms_per_axis(args.coil_terms, schedule.shape)
    from mrsim.kspace.poses import line_poses

    # the trajectory must cover the scan (or be stretchable): checked here, not after the NUFFT
    with user_input(args.trajectory, convert=False):
        line_poses(traj, schedule, mapping=args.mapping, rereference_center=False)
    print(f"protocol  MP-RAGE {args.ordering}: {protocol.describe()}", flush=True)
    if np.iscomplexobj(image):
        print(
            "note      complex input: the complex image (magnitude and phase) is corrupted"
            + ("" if args.complex else "; magnitudes written (--complex for complex output)"),
            flush=True,
        )
    # A user error in the corruption names the trajectory; any other exception keeps its
    # traceback.
    with user_input(args.trajectory, convert=False):
        if head is None:
            vol = corrupt_volume(image, affine, traj, schedule, settings, n_coils=args.coils)
        else:
            from mrsim.kspace.echo_train import factorise_head

            # the phantom's tissue maps are let go before the k-space is made (issue 17)
            head, image = factorise_head(head, schedule, contrast=args.contrast), None
            vol = corrupt_head_volume(
                head, traj, schedule, settings, contrast=args.contrast, n_coils=args.coils
            )
    res = vol.result
    summary = _summary(args, source, res, traj, vol)
    report = {
        "ssim": vol.ssim,
        "psnr_db": vol.psnr_db,
        "severity": res.severity,
        "settings": res.settings,
        "protocol": {
            "ti_s": protocol.ti_s,
            "echo_spacing_s": protocol.echo_spacing_s,
            "shot_tr_s": protocol.shot_tr_s,
            "derived": list(protocol.derived),
        },
        "noise_sigma": res.noise_sigma,
        "trajectory": str(args.trajectory),
        "prospective": prospective,
        "input": source,
        "phantom": args.phantom if args.input is None else None,
        "contrast": args.contrast,
        "readout_axis": args.readout_axis,
        "mapping": args.mapping,
    }
    with StagedOutputs() as stage:  # all files or none
        save_volume(stage.path(out / "clean.nii.gz"), res.clean, vol.affine)
        save_volume(stage.path(out / "corrupted.nii.gz"), res.image, vol.affine)
        if args.save_kspace:
            write_kspace_file(stage.path(args.save_kspace), res, vol.affine)
        if args.save_ismrmrd:
            _write_ismrmrd(
                stage.path(args.save_ismrmrd), vol, protocol, None if head else (image, affine)
            )
        corruption_figure(
            res.clean,
            res.image,
            schedule.time_s,
            res.params,
            stage.path(out / "corruption.png"),
            title=summary,
            center_time_s=float(schedule.time_s[schedule.center_line()]),
            voxel_size_mm=vol.voxel_size_mm,
        )
        write_json(stage.path(out / "corruption.json"), report)
    print(summary)
    written = ["clean.nii.gz", "corrupted.nii.gz", "corruption.png", "corruption.json"]
    print(
        f"wrote {out}/: {' '.join(written)}"
        + (f" and {args.save_kspace}" if args.save_kspace else "")
        + (f" and {args.save_ismrmrd}" if args.save_ismrmrd else "")
        + f"  ({time.perf_counter() - t_start:.1f} s)"
    )
    return 0


def _write_ismrmrd(path: Path, vol, protocol, clean=None) -> None:
    """``--save-ismrmrd``: the MRD file of the run. With ``clean = (image, affine)`` (an image
    input; the full-head phantom has no single clean input image) the motion-free k-space
    of that image is added."""
    from mrsim.geometry import orientation_from_affine, voxel_size_from_affine
    from mrsim.io.ismrmrd import write_corruption_ismrmrd

    seq = {
        "ti_s": protocol.ti_s,
        "echo_spacing_s": protocol.echo_spacing_s,
        "shot_tr_s": protocol.shot_tr_s,
        "sequence_type": "MP-RAGE",
    }
    image, affine = (None, None) if clean is None else clean
    write_corruption_ismrmrd(
        path,
        vol.result,
        vol.affine,
        clean_image=image,
        voxel_size_mm=None if affine is None else voxel_size_from_affine(affine),
        orientation=None if affine is None else orientation_from_affine(affine),
        sequence=seq,
    )


def write_json(path: Path, obj: dict) -> None:
    """Indented JSON, written atomically."""
    from mrsim.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2))


def _summary(args, source: str, res, traj, vol) -> str:
    schedule, sev = res.schedule, res.severity
    vox_out = np.round(vol.voxel_size_mm, 3).tolist()
    moved_pct = 100 * sev["energy_fraction_moved"]
    coil_line = ""
    if res.coil_sensitivities is not None:
        terms = res.settings["coil_terms"]
        coil_line = (
            f"coils     {args.coils} (birdcage), {args.coil_method}"
            + (f" K={terms}" if terms is not None else "")
            + ", R=1 SENSE combination\n"
        )
    return (
        f"input     {source}, contrast {args.contrast}\n"
        f"matrix    {schedule.shape}, voxel {vox_out} mm\n"
        f"schedule  {schedule.name}, {schedule.n_lines} lines, {schedule.duration_s:.1f} s\n"
        f"{coil_line}"
        f"motion    {len(traj)} samples over {traj.t_s[0]:g}-{traj.t_s[-1]:g} s, "
        f"mapping {args.mapping}, {sev['n_states']} states\n"
        f"SSIM      {vol.ssim:.4f}\nPSNR      {vol.psnr_db:.2f} dB\n"
        f"motion std {sev['motion_std']:.3f} (mm|deg, seed 001)\n"
        f"k-energy-weighted displacement {sev['mean_displacement_mm']:.3f} mm "
        f"(max {sev['max_displacement_mm']:.2f} mm)\n"
        f"k-energy moved >{sev['moved_threshold_mm']} mm: {moved_pct:.1f} %"
    )
