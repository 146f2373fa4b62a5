"""``mrsim corrupt``: motion-corrupt a volume in k-space and write clean / corrupted images.

Reads a motion trajectory, maps it onto an MP-RAGE schedule (one pose per k-space line,
re-referenced so the k-space centre is at the identity), computes the corrupted k-space
with one NUFFT (mrsim.kspace.corrupt.corrupt) and writes ``clean.nii.gz``,
``corrupted.nii.gz`` and ``corruption.png`` (orthogonal slices + the poses), then prints
SSIM / PSNR and the motion severity.

With ``--coils N`` the acquisition has N receive coils with synthetic birdcage
sensitivities on the output grid (fixed in the scanner while the head moves, ring around
the array axis closest to world z). The corrupted and clean images are then the R=1
SENSE combinations of the coil images (with the maps the data were simulated with), and
``--save-kspace`` stores the per-coil k-space with its sensitivities. ``--coil-method
fourier`` (default) costs about one single-coil NUFFT per phase-encode Fourier term
(``(2K+1)`` per phase-encode axis along which the maps vary: 7 for the birdcage maps and
MP-RAGE) whatever the number of motion states, with the maps band-limited to ``|p| <= K``
cycles/FOV (``--coil-terms K``); ``states`` is exact for the given maps but costs one
NUFFT + N FFTs per motion state (use it with ``--granularity shot``). See
docs/physics.md, section 5.

Without ``--input`` the embedded MNI152 T1 (1 mm, padded/cropped to 256 x 256 x 176) is
used: 176 shots x 2.3 s = 404.8 s, the span of ``mrsim motion generate pace`` traces.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mrsim.cli import CLIError, add_command

DEFAULT_GRID = (256, 256, 176)

EXAMPLES = """examples:
  mrsim corrupt --trajectory examples/pace.csv -o demo_out
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


def _positive_int(text: str) -> int:
    try:
        val = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if val < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return val


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
    p.add_argument("--trajectory", required=True, help="motion file (mrsim CSV, FSL, SPM, ...)")
    p.add_argument("--format", default=None, help="motion file format (default: detected)")
    p.add_argument(
        "--tr",
        type=float,
        default=None,
        dest="tr_s",
        help="sample spacing (s) for motion files without a time column",
    )
    p.add_argument(
        "--input",
        default=None,
        help="3D NIfTI to corrupt (default: embedded MNI152 T1, 256x256x176 at 1 mm)",
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
        default=0,
        choices=[0, 1, 2],
        help="fully sampled array axis (default 0)",
    )
    p.add_argument(
        "--shot-tr",
        type=float,
        default=2.3,
        dest="shot_tr_s",
        help="time between inversions in s (default 2.3)",
    )
    p.add_argument(
        "--mapping",
        default="seconds",
        choices=["seconds", "stretch"],
        help="trajectory times are scan seconds (default), or stretch the "
        "trajectory over the whole scan",
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
    p.add_argument("--backend", default="finufft", choices=["finufft", "sigpy"])
    p.add_argument("--eps", type=float, default=1e-4, help="NUFFT tolerance (default 1e-4)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all CPUs)")
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
        "in user_float[0:6], the motion-free k-space in group dataset_motion_free",
    )
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("-o", "--output", default="corrupt_out", help="output folder")
    p.set_defaults(func=run)


def output_affine(affine: np.ndarray, in_shape, out_shape) -> np.ndarray:
    """Affine of a same-FOV grid of ``out_shape``: voxel n//2 keeps its world position."""
    A = np.asarray(affine, dtype=float).copy()
    zoom = np.asarray(in_shape, float) / np.asarray(out_shape, float)
    centre_world = A[:3, :3] @ (np.asarray(in_shape) // 2) + A[:3, 3]
    A[:3, :3] = A[:3, :3] * zoom[None, :]
    A[:3, 3] = centre_world - A[:3, :3] @ (np.asarray(out_shape) // 2)
    return A


def save_kspace_h5(path: str | Path, result, affine: np.ndarray) -> Path:
    """Write k-space (complex64), per-line poses and the schedule to an HDF5 file.

    Multi-coil results (``result.coil_sensitivities`` set) store ``kspace`` with a leading
    coil axis, the sensitivities the data were simulated with (``coil_sensitivities``,
    complex64, same grid) and the attributes ``n_coils``, ``coil_method`` and
    ``coil_terms`` (``-1`` when not applicable); ``kspace.attrs["axes"]`` names the axes.
    """
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    s = result.schedule
    sens = getattr(result, "coil_sensitivities", None)
    with h5py.File(path, "w") as f:
        kd = f.create_dataset(
            "kspace",
            data=result.kspace.astype(np.complex64),
            compression="gzip",
            compression_opts=1,
        )
        grid_axes = ["array axis 0", "array axis 1", "array axis 2"][: s.ndim]
        kd.attrs["axes"] = json.dumps((["coil"] if sens is not None else []) + grid_axes)
        f.attrs["n_coils"] = 0 if sens is None else int(sens.shape[0])
        if sens is not None:
            sd = f.create_dataset(
                "coil_sensitivities",
                data=np.asarray(sens).astype(np.complex64),
                compression="gzip",
                compression_opts=1,
            )
            sd.attrs["description"] = (
                "receive sensitivities (scanner frame, output grid) the k-space was simulated "
                "with; coil images combine as sum conj(S_c) m_c / sum |S_c|^2"
            )
            terms = result.settings.get("coil_terms")
            f.attrs["coil_method"] = str(result.settings.get("coil_method"))
            f.attrs["coil_terms"] = np.asarray(terms if terms is not None else [-1] * s.ndim)
        f.create_dataset("line_params", data=result.params)
        f.create_dataset("line_time_s", data=s.time_s)
        f.create_dataset("line_pe_index", data=s.pe_index)
        f.create_dataset("line_shot", data=s.shot)
        f.create_dataset("affine", data=affine)
        f.attrs["readout_axis"] = s.readout_axis
        f.attrs["convention"] = (
            "centred k-space (DC at n//2), orthonormal; "
            "line_params columns tx_mm,ty_mm,tz_mm,rx_deg,ry_deg,rz_deg"
        )
        f.attrs["settings"] = json.dumps(result.settings)
        f.attrs["severity"] = json.dumps(result.severity)
        f.attrs["noise_sigma"] = result.noise_sigma
    return path


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from mrsim import metrics
    from mrsim.io.nifti import load_volume, save_volume, voxel_size_mm
    from mrsim.kspace.corrupt import corrupt, orientation_from_affine
    from mrsim.kspace.figure import corruption_figure
    from mrsim.kspace.schedule import mprage_schedule
    from mrsim.motion.formats import read_trajectory

    t_start = time.perf_counter()
    steps = tqdm(total=5, desc="mrsim corrupt", unit="step", leave=False)
    traj = read_trajectory(args.trajectory, format=args.format, tr_s=args.tr_s)
    steps.update()
    if args.input is None:
        from mrsim.phantoms.mni152 import load_mni152

        image, affine = load_mni152("t1", shape=DEFAULT_GRID)
        source = f"embedded MNI152 T1 {DEFAULT_GRID} at 1 mm"
    else:
        try:
            image, affine = load_volume(args.input, ndim=3)
        except ValueError as exc:
            raise CLIError(f"{exc} (--input must be a 3D NIfTI volume)") from exc
        source = str(args.input)
    if image.ndim != 3:
        raise CLIError(f"{source}: expected a 3D volume, got shape {image.shape}")
    vox = voxel_size_mm(affine)
    orientation = orientation_from_affine(affine)
    matrix = tuple(image.shape) if args.matrix is None else args.matrix
    try:
        schedule = mprage_schedule(
            matrix,
            ordering=args.ordering,
            readout_axis=args.readout_axis,
            shot_tr_s=args.shot_tr_s,
        )
    except ValueError as exc:
        raise CLIError(f"--matrix {matrix} / --ordering {args.ordering}: {exc}") from exc
    sens = None
    if args.coils is not None:
        from mrsim.kspace.coils import birdcage_sensitivities, coil_terms_per_axis

        if args.coil_method == "fourier" and args.coil_terms is not None:
            try:
                coil_terms_per_axis(args.coil_terms, schedule.shape)
            except ValueError as exc:
                raise CLIError(f"--coil-terms {args.coil_terms}: {exc}") from exc

        # Ring around the array axis closest to world z (the scanner bore).
        ring_axis = int(np.argmax(np.abs(orientation[2, :])))
        vox_grid = vox * np.asarray(image.shape) / np.asarray(schedule.shape)
        sens = birdcage_sensitivities(schedule.shape, vox_grid, args.coils, axis=ring_axis)
    steps.update()
    try:
        res = corrupt(
            image,
            traj,
            schedule,
            vox,
            orientation=orientation,
            mapping=args.mapping,
            rereference_center=not args.no_rereference,
            granularity=args.granularity,
            backend=args.backend,
            eps=args.eps,
            nthreads=args.threads,
            noise_snr=args.noise_snr,
            output="complex" if args.complex else "magnitude",
            coil_sensitivities=sens,
            coil_method=args.coil_method,
            coil_terms=args.coil_terms,
            seed=args.seed,
            progress=sens is not None,
        )
    except ValueError as exc:
        raise CLIError(f"{args.trajectory}: {exc}") from exc
    steps.update()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    aff_out = output_affine(affine, image.shape, schedule.shape)
    save_volume(out / "clean.nii.gz", res.clean, aff_out)
    save_volume(out / "corrupted.nii.gz", res.image, aff_out)
    if args.save_kspace:
        save_kspace_h5(args.save_kspace, res, aff_out)
    if args.save_ismrmrd:
        import inspect

        from mrsim.io.ismrmrd import write_corruption_ismrmrd

        sched_defaults = inspect.signature(mprage_schedule).parameters  # what the run used
        seq = {k: sched_defaults[k].default for k in ("ti_s", "echo_spacing_s")}
        seq.update(shot_tr_s=args.shot_tr_s, sequence_type="MP-RAGE")
        write_corruption_ismrmrd(
            args.save_ismrmrd, res, aff_out, clean_image=image, voxel_size_mm=vox,
            orientation=orientation, sequence=seq,
        )  # fmt: skip
    steps.update()
    ref, img = np.abs(res.clean), np.abs(res.image)
    ssim_v = metrics.ssim(ref, img)
    psnr_v = metrics.psnr(ref, img)
    sev = res.severity
    vox_out = np.round(vox * np.asarray(image.shape) / schedule.shape, 3).tolist()
    moved_pct = 100 * sev["energy_fraction_moved"]
    coil_line = ""
    if sens is not None:
        terms = res.settings["coil_terms"]
        coil_line = (
            f"coils     {args.coils} (birdcage), {args.coil_method}"
            + (f" K={terms}" if terms is not None else "")
            + ", R=1 SENSE combination\n"
        )
    summary = (
        f"input     {source}\n"
        f"matrix    {schedule.shape}, voxel {vox_out} mm\n"
        f"schedule  {schedule.name}, {schedule.n_lines} lines, {schedule.duration_s:.1f} s\n"
        f"{coil_line}"
        f"motion    {len(traj)} samples over {traj.t_s[0]:g}-{traj.t_s[-1]:g} s, "
        f"mapping {args.mapping}, {sev['n_states']} states\n"
        f"SSIM      {ssim_v:.4f}\nPSNR      {psnr_v:.2f} dB\n"
        f"motion std {sev['motion_std']:.3f} (mm|deg, seed 001)\n"
        f"k-energy-weighted displacement {sev['mean_displacement_mm']:.3f} mm "
        f"(max {sev['max_displacement_mm']:.2f} mm)\n"
        f"k-energy moved >{sev['moved_threshold_mm']} mm: {moved_pct:.1f} %"
    )
    corruption_figure(
        res.clean,
        res.image,
        schedule.time_s,
        res.params,
        out / "corruption.png",
        title=summary,
        center_time_s=float(schedule.time_s[schedule.center_line()]),
        voxel_size_mm=vox * np.asarray(image.shape) / schedule.shape,
    )
    with open(out / "corruption.json", "w") as f:
        json.dump(
            {
                "ssim": ssim_v,
                "psnr_db": psnr_v,
                "severity": sev,
                "settings": res.settings,
                "noise_sigma": res.noise_sigma,
                "trajectory": str(args.trajectory),
                "input": source,
            },
            f,
            indent=2,
        )
    steps.update()
    steps.close()
    print(summary)
    written = ["clean.nii.gz", "corrupted.nii.gz", "corruption.png", "corruption.json"]
    print(
        f"wrote {out}/: {' '.join(written)}"
        + (f" and {args.save_kspace}" if args.save_kspace else "")
        + (f" and {args.save_ismrmrd}" if args.save_ismrmrd else "")
        + f"  ({time.perf_counter() - t_start:.1f} s)"
    )
    return 0
