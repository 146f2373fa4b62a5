"""``mrsim qsm``: QSM simulation with motion (seed 002) and QSM reconstruction.

``simulate`` builds the chi / R2* / M0 phantom (or reads a chi NIfTI, or real
magnitude + phase MGRE NIfTIs), simulates motion-free and motion-corrupted
multi-echo GRE by segmented k-space mixing (``--mixing approx`` = seed 002
Eq. 5, ``exact`` = Eq. 4) and writes 4D magnitude / phase NIfTIs, the
trajectory, parameters (JSON) and a figure.

``recon`` reads magnitude + phase NIfTIs and writes the total field, the local
field and chi (ppm): complex multi-echo fit, graph-cut or Laplacian
unwrapping, PDF or V-SHARP, MEDI-style TV or TKD.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mrsim.cli import CLIError, add_command, add_motion_warnings_flag
from mrsim.cli.arg_types import tolerance
from mrsim.command import user_input
from mrsim.errors import MrsimInputError

EXAMPLES = """examples:
  mrsim qsm simulate --motion-seed 3 --mixing exact -o qsm_sim
  mrsim qsm simulate --motion head.csv --mapping stretch --shape 64 64 64 --voxel-size 3 -o out
  mrsim qsm simulate --chi chi.nii.gz --mask brain.nii.gz --motion-seed 1 -o out
  mrsim qsm simulate --mag mag.nii.gz --phase ph.nii.gz --te 0.0063 0.0104 0.0145 \\
                     --motion-seed 2 -o out_real            # real MGRE, approx mixing only
  mrsim qsm recon --mag qsm_sim/corrupted_mag.nii.gz --phase qsm_sim/corrupted_phase.nii.gz \\
                  --params qsm_sim/params.json --mask qsm_sim/mask.nii.gz \\
                  --reference qsm_sim/chi_true.nii.gz -o qsm_rec
"""


def _save(path: Path, data: np.ndarray, affine: np.ndarray) -> None:
    from mrsim.io.nifti import save_volume

    save_volume(path, np.asarray(data, dtype=np.float32), affine)


def _trajectory(args, duration_s: float):
    if args.motion and args.motion_seed is not None:
        raise CLIError("give either --motion FILE or --motion-seed N, not both")
    if args.motion:
        from mrsim.motion.formats import read_trajectory

        try:
            with user_input(args.motion):
                return read_trajectory(args.motion, format=args.format, tr_s=args.motion_tr)
        except MrsimInputError as exc:  # this command's --tr is the k-space line TR
            raise MrsimInputError(
                str(exc).replace("(CLI: --tr SECONDS)", "(--motion-tr SECONDS)")
            ) from exc
    if args.motion_seed is not None:
        from mrsim.motion.generators import event_profile

        return event_profile(
            duration_s=duration_s,
            n=max(200, int(duration_s / 0.5)),
            max_mm=args.max_mm,
            max_deg=args.max_deg,
            seed=args.motion_seed,
        )
    return None


def _unit_b0(v) -> np.ndarray:

    b = np.asarray(v, float).reshape(-1)
    if b.shape != (3,) or not np.all(np.isfinite(b)) or not np.linalg.norm(b) > 0:
        raise MrsimInputError(f"--b0-dir must be a non-zero 3-vector, got {v!r}")
    return b / np.linalg.norm(b)


def _figure(path: Path, clean: np.ndarray, corrupted: np.ndarray, echo: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z = clean.shape[2] // 2
    fig, ax = plt.subplots(2, 2, figsize=(7, 7))
    vmax = float(np.abs(clean[..., z, 0]).max()) or 1.0
    for i, (name, s) in enumerate((("motion-free", clean), ("corrupted", corrupted))):
        ax[0, i].imshow(np.abs(s[:, :, z, echo]).T, origin="lower", cmap="gray", vmin=0, vmax=vmax)
        ax[0, i].set_title(f"{name}: |S|, echo {echo + 1}")
        ax[1, i].imshow(
            np.angle(s[:, :, z, echo]).T, origin="lower", cmap="twilight", vmin=-np.pi, vmax=np.pi
        )
        ax[1, i].set_title(f"{name}: phase (rad)")
    for a in ax.ravel():
        a.axis("off")
    fig.tight_layout()
    from mrsim.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def _write_json(path: Path, obj: dict) -> None:
    from mrsim.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2))


def _check_simulate_args(args: argparse.Namespace, te: np.ndarray) -> None:
    """Flag checks of ``qsm simulate`` that need no file: before any work."""
    te_flag = "--te" if args.te else "--te1/--dte/--n-echoes"
    if te.size == 0 or not np.all(np.isfinite(te)) or np.any(te <= 0):
        raise CLIError(f"{te_flag}: echo times must be positive seconds, got {te.tolist()}")
    if np.any(np.diff(te) <= 0):
        raise CLIError(
            f"{te_flag}: echo times must be strictly increasing (echo 1 first), got {te.tolist()}"
        )
    if not (np.isfinite(args.b0) and args.b0 > 0):
        raise CLIError(f"--b0 must be a positive field strength in tesla (e.g. 3), got {args.b0:g}")
    if args.mag or args.phase:
        for flag, val in (("--chi", args.chi), ("--mask", args.mask)):
            if val:
                raise CLIError(
                    f"{flag} cannot be combined with --mag/--phase: real MGRE input is "
                    "corrupted as it is (give either a chi map or magnitude + phase)"
                )
    if args.mask and not args.chi:
        raise CLIError("--mask applies to --chi only (the embedded phantom has its own mask)")
    if not args.motion and args.motion_seed is None:
        import warnings

        from mrsim.errors import MrsimWarning

        warnings.warn(
            "no --motion FILE or --motion-seed N: the corrupted_* outputs will equal the "
            "clean ones (motion-free simulation)",
            MrsimWarning,
            stacklevel=2,
        )


def run_simulate(args: argparse.Namespace) -> int:
    from mrsim.io.output_set import StagedOutputs, check_writable
    from mrsim.qsm.gre import echo_times
    from mrsim.qsm.motion import B0ChangeModel, QSMMotionSettings

    out = check_writable(args.output, "-o/--output", folder=True)
    if args.te:
        te = np.asarray(args.te, float)
    else:
        with user_input("--te1/--dte/--n-echoes"):
            te = echo_times(args.n_echoes, args.te1, args.dte)
    _check_simulate_args(args, te)
    with user_input("--b0-dir / --b0 / --tr / --snr"):
        settings = QSMMotionSettings(
            mixing=args.mixing,
            tr_s=args.tr,
            b0_t=args.b0,
            b0_dir=tuple(args.b0_dir),
            snr=args.snr,
            noise_seed=args.noise_seed,
            mapping=args.mapping,
            b0_change=B0ChangeModel() if args.b0_change else None,
        ).updated(eps=args.eps)
    t0 = time.perf_counter()
    if args.mag or args.phase:
        res, affine, mask, chi_true, traj = _simulate_mgre(args, te, settings)
    else:
        res, affine, mask, chi_true, traj = _simulate_phantom(args, te, settings)
    elapsed = time.perf_counter() - t0
    params = {
        "te_s": [float(x) for x in te],
        "b0_t": args.b0,
        "n_states": int(res.n_states),
        "duration_s": float(res.schedule.duration_s),
        "seconds": round(elapsed, 2),
        **res.info,
    }
    with StagedOutputs() as stage:  # all files or none
        _write_outputs(stage, out, res, affine, mask, chi_true, traj)
        _write_json(stage.path(out / "params.json"), params)
        _figure(stage.path(out / "qsm_simulate.png"), res.clean, res.corrupted, echo=len(te) // 2)
    print(
        f"wrote {out}/: clean_/corrupted_ mag+phase ({res.clean.shape}), params.json, "
        f"qsm_simulate.png; {res.n_states} motion states, {args.mixing} mixing, {elapsed:.1f} s"
    )
    return 0


def _simulate_mgre(args, te, settings):
    """Real MGRE (magnitude + phase NIfTIs): approximate mixing only."""
    from mrsim.io.nifti import voxel_size_mm
    from mrsim.kspace.schedule import gre3d_schedule
    from mrsim.qsm.gre import load_mgre
    from mrsim.qsm.motion import corrupt_mgre

    if not (args.mag and args.phase and args.te):
        raise CLIError("real MGRE input needs --mag, --phase and --te together")
    if args.mixing != "approx":
        raise CLIError("real MGRE input supports only --mixing approx (no chi map to move)")
    with user_input(f"--mag {' '.join(args.mag)} / --phase {' '.join(args.phase)}"):
        sig, affine = load_mgre(args.mag, args.phase, te, phase_units=args.phase_units)
    sched = gre3d_schedule(sig.shape[:3], tr_s=args.tr)
    traj = _trajectory(args, sched.duration_s)
    res = corrupt_mgre(
        sig, voxel_size_mm(affine), traj, te_s=te, schedule=sched, affine=affine, settings=settings
    )
    return res, affine, None, None, traj


def _simulate_phantom(args, te, settings):
    """The chi phantom (embedded, or from --chi) in its world frame."""
    from mrsim.kspace.schedule import gre3d_schedule
    from mrsim.qsm.motion import simulate_qsm_motion
    from mrsim.qsm.phantom import make_qsm_phantom, phantom_from_chi

    if args.chi:
        from mrsim.io.nifti import load_volume

        with user_input(args.chi):
            chi, affine = load_volume(args.chi)
        if not np.any(chi):
            raise CLIError(
                f"{args.chi}: the chi map is all zeros: no susceptibility source, and the "
                "default mask (chi != 0) would be empty"
            )
        mask = None
        if args.mask:
            with user_input(args.mask):
                mask = load_volume(args.mask)[0] > 0.5
            if not mask.any():
                raise CLIError(f"{args.mask}: the mask is empty (no voxel > 0.5)")
        with user_input(f"{args.chi} / --mask"):
            ph = phantom_from_chi(chi.astype(float), affine, mask=mask)
    else:
        with user_input("--shape / --voxel-size"):
            ph = make_qsm_phantom(
                tuple(args.shape),
                args.voxel_size,
                calcification=args.calcification,
                background=not args.no_background,
            )
    sched = gre3d_schedule(ph.chi_ppm.shape, tr_s=args.tr)
    traj = _trajectory(args, sched.duration_s)
    with user_input(args.motion or "--motion-seed", convert=False):
        res = simulate_qsm_motion(
            ph, traj, te_s=te, schedule=sched, settings=settings, progress=True
        )
    return res, ph.affine, ph.mask, ph.chi_local_ppm, traj


def _write_outputs(stage, out: Path, res, affine, mask, chi_true, traj) -> None:
    from mrsim.motion.formats import write_trajectory

    for name, s in (("clean", res.clean), ("corrupted", res.corrupted)):
        _save(stage.path(out / f"{name}_mag.nii.gz"), np.abs(s), affine)
        _save(stage.path(out / f"{name}_phase.nii.gz"), np.angle(s), affine)
    if mask is not None:
        _save(stage.path(out / "mask.nii.gz"), mask.astype(np.float32), affine)
        _save(stage.path(out / "chi_true.nii.gz"), chi_true, affine)
    if traj is not None:
        write_trajectory(traj, stage.path(out / "motion.csv"), format="mrsim")


def run_recon(args: argparse.Namespace) -> int:
    from mrsim.geometry import orientation_from_affine, world_to_array
    from mrsim.io.nifti import load_volume, voxel_size_mm
    from mrsim.io.output_set import StagedOutputs, check_writable
    from mrsim.qsm.gre import load_mgre
    from mrsim.qsm.recon import qsm_recon

    out = check_writable(args.output, "-o/--output", folder=True)
    te = args.te
    b0 = args.b0
    b0_dir = args.b0_dir
    if args.params:
        try:
            prm = json.loads(Path(args.params).read_text())
            te = te or prm["te_s"]
            b0 = prm.get("b0_t", b0) if args.b0 is None else b0
            if b0_dir is None and prm.get("b0_dir_frame", "").startswith("world"):
                b0_dir = prm["b0_dir"]
        except (OSError, ValueError, KeyError) as exc:
            raise CLIError(f"{args.params}: expected JSON with 'te_s' (and 'b0_t'): {exc}") from exc
    if not te:
        raise CLIError("give echo times with --te (s) or --params params.json")
    b0 = 3.0 if b0 is None else b0
    te_arr = np.asarray(te, dtype=float)
    te_flag = "--te" if args.te else f"{args.params} te_s"
    if te_arr.size < 2 or not np.all(np.isfinite(te_arr)) or np.any(te_arr <= 0):
        raise CLIError(
            f"{te_flag}: QSM needs >= 2 positive echo times in seconds, got {te_arr.tolist()}"
        )
    if np.any(np.diff(te_arr) <= 0):
        raise CLIError(f"{te_flag}: echo times must be strictly increasing, got {te_arr.tolist()}")
    if not (np.isfinite(b0) and b0 > 0):
        raise CLIError(f"--b0 must be a positive field strength in tesla (e.g. 3), got {b0:g}")
    if not (np.isfinite(args.lam) and args.lam > 0):
        raise CLIError(f"--lam must be a positive TV weight (e.g. 1e-5), got {args.lam:g}")
    with user_input(f"--mag {' '.join(args.mag)} / --phase {' '.join(args.phase)}"):
        sig, affine = load_mgre(args.mag, args.phase, te, phase_units=args.phase_units)
    vox = voxel_size_mm(affine)
    # B0 is given in the world frame (default world z); the QSM steps work in array axes.
    with user_input("--b0-dir"):
        b0_array = world_to_array(
            _unit_b0((0.0, 0.0, 1.0) if b0_dir is None else b0_dir),
            orientation_from_affine(affine),
        )
    mask = None
    if args.mask:
        with user_input(args.mask):
            mask = load_volume(args.mask)[0] > 0.5
    if mask is not None and mask.shape != sig.shape[:3]:
        raise CLIError(f"{args.mask}: shape {mask.shape} != data shape {sig.shape[:3]}")
    ref = None
    if args.reference:
        with user_input(args.reference):
            ref = load_volume(args.reference)[0]
        if ref.shape != sig.shape[:3]:
            raise CLIError(f"{args.reference}: shape {ref.shape} != data shape {sig.shape[:3]}")
    t0 = time.perf_counter()
    rec = qsm_recon(
        sig,
        te,
        vox,
        mask=mask,
        b0_t=b0,
        b0_dir=tuple(float(v) for v in b0_array),
        unwrap=args.unwrap,
        background=args.background,
        inversion=args.inversion,
        lam=args.lam,
        progress=True,
    )
    elapsed = time.perf_counter() - t0
    met = None
    if ref is not None:
        from mrsim.qsm.metrics import chi_metrics

        met = chi_metrics(ref, rec.chi_ppm, rec.mask)
    with StagedOutputs() as stage:  # all files or none
        _save(stage.path(out / "total_field_ppm.nii.gz"), rec.total_field_ppm, affine)
        _save(stage.path(out / "local_field_ppm.nii.gz"), rec.local_field_ppm, affine)
        _save(stage.path(out / "chi_ppm.nii.gz"), rec.chi_ppm, affine)
        _save(stage.path(out / "recon_mask.nii.gz"), rec.mask.astype(np.float32), affine)
        if met is not None:
            _write_json(stage.path(out / "metrics.json"), met)
    print(f"wrote {out}/: total_field_ppm, local_field_ppm, chi_ppm, recon_mask ({elapsed:.1f} s)")
    if met is not None:
        print("  " + "  ".join(f"{k} {v:.4g}" for k, v in met.items()))
    return 0


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(subparsers, name, help_text, __doc__, EXAMPLES)
    sub = p.add_subparsers(dest="qsm_command", metavar="{simulate,recon}")
    s = sub.add_parser(
        "simulate",
        help="MGRE with motion from a chi phantom or real MGRE",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--chi", help="chi NIfTI (ppm) instead of the MNI152 phantom")
    s.add_argument("--mask", help="brain mask NIfTI for --chi (default chi != 0)")
    s.add_argument("--mag", nargs="+", help="real MGRE magnitude: one 4D or one 3D file per echo")
    s.add_argument("--phase", nargs="+", help="real MGRE phase (radians, or see --phase-units)")
    s.add_argument(
        "--phase-units",
        choices=["rad", "siemens"],
        default="rad",
        help="phase in radians or Siemens units (-4096..4095) (default rad)",
    )
    s.add_argument("--motion", help="motion trajectory file (mrsim CSV or --format)")
    s.add_argument("--format", help="trajectory format (mrsim, fsl, spm, afni, hcp, fmriprep)")
    s.add_argument(
        "--motion-tr",
        type=float,
        metavar="S",
        help="sampling interval (s) of a --motion file without a time column",
    )
    s.add_argument("--motion-seed", type=int, help="seed of a seed-002 event profile (2-3 events)")
    s.add_argument("--max-mm", type=float, default=5.0, help="event profile bound (default 5 mm)")
    s.add_argument("--max-deg", type=float, default=5.0, help="event profile bound (default 5 deg)")
    s.add_argument(
        "--mapping",
        choices=["seconds", "stretch"],
        default="seconds",
        help="trajectory time -> scan time (default seconds)",
    )
    s.add_argument(
        "--mixing",
        choices=["approx", "approx-maps", "exact"],
        default="approx",
        help="approx = seed 002 Eq. 5 on the complex signal (one NUFFT), approx-maps = Eq. 5 "
        "on M0/R2*/field per state, exact = Eq. 4 (default approx)",
    )
    s.add_argument(
        "--shape",
        type=int,
        nargs=3,
        default=[64, 64, 64],
        metavar=("NX", "NY", "NZ"),
        help="phantom matrix (default 64 64 64)",
    )
    s.add_argument("--voxel-size", type=float, default=3.0, help="phantom voxel (mm, default 3)")
    s.add_argument("--calcification", action="store_true", help="add a calcification")
    s.add_argument("--no-background", action="store_true", help="no air/bone sources")
    s.add_argument("--te", type=float, nargs="+", help="echo times (s); default seed 002 protocol")
    s.add_argument("--te1", type=float, default=6.3e-3, help="first echo (s, default 6.3e-3)")
    s.add_argument("--dte", type=float, default=4.1e-3, help="echo spacing (s, default 4.1e-3)")
    s.add_argument("--n-echoes", type=int, default=11, help="echoes (default 11)")
    s.add_argument("--tr", type=float, default=0.03, help="TR per k-space line (s, default 0.03)")
    s.add_argument("--b0", type=float, default=3.0, help="field strength (T, default 3)")
    s.add_argument(
        "--b0-dir",
        type=float,
        nargs=3,
        default=[0.0, 0.0, 1.0],
        metavar=("X", "Y", "Z"),
        help="B0 direction in world (RAS+) coordinates, whatever the volume's orientation "
        "(default 0 0 1: world z)",
    )
    s.add_argument("--snr", type=float, default=100.0, help="peak SNR of echo 1 (default 100)")
    s.add_argument("--noise-seed", type=int, default=0, help="noise seed (default 0)")
    s.add_argument("--b0-change", action="store_true", help="add motion-induced B0 change")
    s.add_argument(
        "--eps", type=tolerance, default=1e-6, help="NUFFT tolerance, 1e-15..0.1 (default 1e-6)"
    )
    s.add_argument(
        "-o",
        "--output",
        required=True,
        help="output folder: gets clean_/corrupted_mag.nii.gz and _phase.nii.gz (4D, one "
        "volume per echo), motion.csv (with motion), params.json, qsm_simulate.png, and "
        "for the phantom mask.nii.gz and chi_true.nii.gz",
    )
    add_motion_warnings_flag(s)
    s.set_defaults(func=run_simulate)

    r = sub.add_parser(
        "recon",
        help="QSM from magnitude + phase NIfTIs",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("--mag", nargs="+", required=True, help="magnitude: 4D or one 3D per echo")
    r.add_argument("--phase", nargs="+", required=True, help="phase: 4D or one 3D per echo")
    r.add_argument(
        "--phase-units",
        choices=["rad", "siemens"],
        default="rad",
        help="phase in radians or Siemens units (-4096..4095) (default rad)",
    )
    r.add_argument("--te", type=float, nargs="+", help="echo times (s)")
    r.add_argument("--params", help="params.json from 'simulate' (echo times, B0)")
    r.add_argument("--b0", type=float, default=None, help="field strength (T, default 3)")
    r.add_argument(
        "--b0-dir",
        type=float,
        nargs=3,
        default=None,
        metavar=("X", "Y", "Z"),
        help="B0 direction in world (RAS+) coordinates (default: params.json's, else 0 0 1)",
    )
    r.add_argument("--mask", help="brain mask NIfTI (default: from magnitude)")
    r.add_argument(
        "--unwrap", choices=["graphcut", "laplacian"], default="graphcut", help="default graphcut"
    )
    r.add_argument("--background", choices=["pdf", "vsharp"], default="pdf", help="default pdf")
    r.add_argument("--inversion", choices=["tv", "tkd"], default="tv", help="default tv")
    r.add_argument("--lam", type=float, default=1e-5, help="TV lambda (default 1e-5)")
    r.add_argument("--reference", help="true chi NIfTI: print and save metrics")
    r.add_argument(
        "-o",
        "--output",
        required=True,
        help="output folder: gets total_field_ppm, local_field_ppm, chi_ppm and recon_mask "
        ".nii.gz, and metrics.json with --reference",
    )
    r.set_defaults(func=run_recon)
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])
