"""Recipe kind ``mcnet_mprage``: MC-Net training pairs from 3D MP-RAGE (seed 001).

Per subject, ``n_trajectories`` PACE-like trajectories of 128 points (< 2 mm /
2 deg, scaled x8; :func:`mrsim.motion.generators.pace_like`) are shared by all
subjects, as in seed 001. Each (subject, trajectory, variant) is one sample:

1. the subject volume on the acquisition grid (``shape``, ``fov_mm``; source at
   ``source_oversample`` times finer voxels);
2. the trajectory restricted to the variant's degrees of freedom: ``rot`` keeps
   the in-plane rotation only (about the slice normal), ``rot_trans`` the
   in-plane translations and rotation (seed 001's two simulations);
3. one pose per MP-RAGE shot (128 points stretched over the shots), re-referenced
   so the k-space centre is acquired at the identity pose (seed 001: "offset
   such that the k-space center remained in the origin");
4. corrupted 3D k-space by one type-2 NUFFT over all lines and the clean
   reference by FFT, both through the front door :func:`mrsim.kspace.corrupt.corrupt`;
   magnitude images by inverse FFT;
5. ``n_slices`` slices along ``slice_axis`` (sagittal: array axis 0 = x) at
   ``slice_step_mm`` steps about the centre (nearest voxel; the actual indices
   and positions are stored).

Arrays: ``clean``, ``corrupted`` ``(n_slices, H, W)`` float32; ``poses``
``(L, 6)`` float32 per-line ``tx_mm .. rz_deg``; ``trajectory`` ``(128, 7)``
(``t_s`` then the six parameters, variant applied, before re-referencing);
optionally ``kspace`` (corrupted, complex64, full 3D). ``motion_magnitude``
(attribute) is seed 001 Fig. 5's "standard deviation of motion across 128
time points": the mean over the variant's moving parameters of each
parameter's standard deviation (mm and degrees counted alike).

References
----------
Seed 001 (MC-Net): 78 trajectories x 128 points, < 2 mm / 2 deg x 8; 128^3
k-space by NUFFT; ten sagittal slices at 5 mm steps; two variants; subject-wise
35/5/12 split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mrsim.dataset.fields import Field, length, non_negative, one_of, positive
from mrsim.dataset.samples import Kind, register_kind
from mrsim.dataset.subjects import DOMAIN_TRAJECTORY, load_subject, seeded_rng
from mrsim.dataset.timers import phase
from mrsim.errors import MrsimInputError
from mrsim.io.hdf5 import Sample

if TYPE_CHECKING:
    from mrsim.dataset.recipe import Recipe

__all__ = ["VARIANTS", "variant_columns", "slice_indices", "make_mcnet_sample"]

#: Variant name -> which motion parameters move, given the slice axis.
VARIANTS = ("rot", "rot_trans", "all")

SCHEMA = {
    "shape": Field(list, [128, 128, 128], "acquired 3D matrix", length(3, positive)),
    "fov_mm": Field(float, 256.0, "isotropic field of view (mm)", positive),
    "source_oversample": Field(int, 1, "source voxels per acquired voxel per axis", positive),
    "n_trajectories": Field(int, 78, "motion trajectories, shared by all subjects", positive),
    "trajectory_points": Field(int, 128, "points per trajectory", positive),
    "limit_mm": Field(float, 2.0, "trajectory bound before scaling (mm)", positive),
    "limit_deg": Field(float, 2.0, "trajectory bound before scaling (deg)", positive),
    "scale": Field(float, 8.0, "trajectory scale factor", non_negative),
    "ordering": Field(
        str, "linear", "MP-RAGE ordering", one_of("linear", "centric", "interleaved")
    ),
    "readout_axis": Field(int, 2, "fully sampled axis (2 = S-I)", one_of(0, 1, 2)),
    "shot_tr_s": Field(float, 2.3, "time between inversions (s)", positive),
    "granularity": Field(str, "shot", "one pose per 'shot' or per 'line'", one_of("shot", "line")),
    "slice_axis": Field(int, 0, "slice normal (0 = x: sagittal)", one_of(0, 1, 2)),
    "n_slices": Field(int, 10, "slices per volume", positive),
    "slice_step_mm": Field(float, 5.0, "slice spacing (mm)", positive),
    "variants": Field(list, ["rot", "rot_trans"], "motion variants", one_of(*VARIANTS)),
    "nufft_eps": Field(float, 1e-4, "NUFFT tolerance", positive),
    "store_kspace": Field(bool, False, "also store the corrupted 3D k-space (complex64)"),
    # full-head phantom subjects and MP-RAGE echo-train contrast (mrsim.dataset.head_subjects)
    "phantom": Field(
        str,
        "template",
        "subject anatomy: MNI 'template' or full 'head'",
        one_of("template", "head"),
    ),
    "contrast": Field(
        str, "static", "head only: 'static' or 'echo-train'", one_of("static", "echo-train")
    ),
}


def variant_columns(variant: str, slice_axis: int) -> np.ndarray:
    """Boolean mask over ``tx, ty, tz, rx, ry, rz`` of the parameters a variant moves.

    ``rot``: the rotation about the slice normal (in-plane rotation);
    ``rot_trans``: that rotation plus the two in-plane translations; ``all``: 6 DOF.
    """
    cols = np.zeros(6, dtype=bool)
    if variant == "all":
        cols[:] = True
    elif variant in ("rot", "rot_trans"):
        cols[3 + slice_axis] = True
        if variant == "rot_trans":
            cols[[a for a in range(3) if a != slice_axis]] = True
    else:
        raise MrsimInputError(
            f"unknown mcnet_mprage variant {variant!r}; expected one of {VARIANTS}"
        )
    return cols


def slice_indices(n: int, n_slices: int, step_mm: float, voxel_mm: float) -> np.ndarray:
    """Indices of ``n_slices`` slices ``step_mm`` apart, centred on voxel ``n // 2``.

    Positions ``(j - (n_slices - 1) / 2) * step_mm`` are rounded to the nearest
    voxel (half-way cases up).
    """
    offsets_mm = (np.arange(n_slices) - (n_slices - 1) / 2.0) * step_mm
    idx = n // 2 + np.floor(offsets_mm / voxel_mm + 0.5).astype(int)
    if idx.min() < 0 or idx.max() >= n or np.unique(idx).size != n_slices:
        raise MrsimInputError(
            f"{n_slices} slices {step_mm} mm apart do not fit as distinct slices in {n} voxels "
            f"of {voxel_mm} mm"
        )
    return idx


def _validate(recipe: Recipe) -> None:
    p = recipe.params
    vox = p["fov_mm"] / p["shape"][p["slice_axis"]]
    try:
        slice_indices(p["shape"][p["slice_axis"]], p["n_slices"], p["slice_step_mm"], vox)
    except ValueError as exc:
        raise MrsimInputError(f"{recipe.source}: [params] {exc}") from None
    if not p["variants"]:
        raise MrsimInputError(f"{recipe.source}: field 'params.variants' must not be empty")
    if p["contrast"] != "static" and p["phantom"] != "head":
        raise MrsimInputError(
            f"{recipe.source}: field 'params.contrast' = 'echo-train' needs params.phantom = 'head'"
        )
    if p["phantom"] == "head" and recipe.subjects["source"] != "synthetic":
        raise MrsimInputError(
            f"{recipe.source}: field 'params.phantom' = 'head' needs synthetic "
            "subjects ([subjects] source = 'synthetic')"
        )


def _plan(recipe: Recipe, subjects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    p = recipe.params
    common = {k: p[k] for k in SCHEMA if k not in ("n_trajectories", "variants")}
    out = []
    for spec in subjects:
        for j in range(p["n_trajectories"]):
            for variant in p["variants"]:
                out.append(
                    {
                        "subject": spec["subject"],
                        "split": spec["split"],
                        "variant": variant,
                        "subject_spec": {k: v for k, v in spec.items() if k != "split"},
                        "trajectory": j,
                        "trajectory_seed": [recipe.seed, DOMAIN_TRAJECTORY, j],
                        **common,
                    }
                )
    return out


def make_mcnet_sample(params: dict[str, Any], threads: int = 1) -> Sample:
    """Build one ``mcnet_mprage`` sample from its params (see module docstring)."""
    from mrsim.kspace.corrupt import CorruptionSettings, corrupt
    from mrsim.kspace.mprage_protocol import mprage_protocol
    from mrsim.kspace.nufft_options import NufftOptions
    from mrsim.kspace.schedule import mprage_schedule
    from mrsim.motion.generators import pace_like
    from mrsim.motion.trajectory import Trajectory

    shape = tuple(int(n) for n in params["shape"])
    fov = float(params["fov_mm"])
    over = int(params["source_oversample"])
    src_shape = tuple(n * over for n in shape)
    src_vox = tuple(fov / n for n in src_shape)
    head = params.get("phantom", "template") == "head"
    with phase("subject"):
        spec = params["subject_spec"]
        image = None if head else load_subject(spec, src_shape, src_vox, threads)["t1"]
    with phase("motion"):
        # TI / echo spacing derived to fit long phase-encode axes (the seed values up to 257
        # lines, so existing recipes are unchanged); shot_tr_s is the recipe's
        ro = int(params["readout_axis"])
        protocol = mprage_protocol(
            [shape[a] for a in range(3) if a != ro][0],
            params["ordering"],
            shot_tr_s=params["shot_tr_s"],
            flags={"ti_s": "TI", "echo_spacing_s": "echo spacing", "shot_tr_s": "shot_tr_s"},
        )
        sched = mprage_schedule(
            shape,
            ordering=params["ordering"],
            readout_axis=ro,
            shot_tr_s=params["shot_tr_s"],
            ti_s=protocol.ti_s,
            echo_spacing_s=protocol.echo_spacing_s,
        )
        traj = pace_like(
            n=params["trajectory_points"],
            limit_mm=params["limit_mm"],
            limit_deg=params["limit_deg"],
            scale=params["scale"],
            duration_s=sched.n_shots * params["shot_tr_s"],
            seed=seeded_rng(params["trajectory_seed"]),
        )
        cols = variant_columns(params["variant"], params["slice_axis"])
        traj = Trajectory(traj.t_s, np.where(cols, traj.params, 0.0))
    settings = CorruptionSettings(
        voxel_size_mm=src_vox,
        mapping="stretch",
        method="linear",
        rereference_center=True,
        granularity=params["granularity"],
        # The NUFFT path for every pose (no FFT shortcut when a variant happens not to
        # rotate), so a sample's bytes depend on its params only; results do not depend on
        # the thread count (tests/test_dataset_recipes.py).
        nufft=NufftOptions(eps=float(params["nufft_eps"]), threads=threads, fast_path=False),
        output="native",  # magnitudes taken here, in the engine's precision
    )
    ax = params["slice_axis"]
    idx = slice_indices(shape[ax], params["n_slices"], params["slice_step_mm"], fov / shape[ax])
    if head:
        corrupted, clean, line_params, kspace = _head_sample(
            params, src_shape, traj, sched, settings
        )
        clean_max = float(clean.max())
        corrupted, clean = (np.take(v, idx, axis=ax) for v in (corrupted, clean))
    else:
        with phase("nufft"):  # only the kept slices are reconstructed (issue 17)
            slices = settings.updated(recon_slices=(ax, tuple(idx.tolist())))
            res = corrupt(image, traj, sched, settings=slices)
        corrupted, clean, line_params = np.abs(res.image), np.abs(res.clean), res.params
        kspace, clean_max = res.kspace, res.clean_max
    take = lambda vol: np.ascontiguousarray(np.moveaxis(vol, ax, 0), dtype=np.float32)  # noqa: E731
    std = np.std(traj.params, axis=0)
    arrays = {
        "clean": take(clean),
        "corrupted": take(corrupted),
        "poses": line_params.astype(np.float32),
        "trajectory": np.column_stack([traj.t_s, traj.params]),
    }
    if params["store_kspace"]:
        arrays["kspace"] = kspace.astype(np.complex64)
    return Sample(
        arrays=arrays,
        attrs={
            "motion_magnitude_unit": "mean std of moving params (mm | deg)",
            "motion_magnitude": float(std[cols].mean()),
            # SSIM data range convention: max of the whole clean reference volume
            "clean_volume_max": clean_max,
            "motion_std_per_param": std.tolist(),
            "slice_indices": idx.tolist(),
            "slice_positions_mm": ((idx - shape[ax] // 2) * fov / shape[ax]).tolist(),
            "voxel_size_mm": [fov / n for n in shape],
        },
        chunks={"kspace": (1,) + shape[1:]},
    )


register_kind(Kind("mcnet_mprage", SCHEMA, _plan, make_mcnet_sample, validate=_validate))


def _head_sample(params: dict[str, Any], src_shape: tuple[int, ...], traj, sched, settings):
    """A full-head subject (``phantom = "head"``): per-line poses from the front door's
    :func:`~mrsim.kspace.poses.line_poses`, k-space by :func:`mrsim.dataset.head_subjects.
    head_kspace` (echo-train contrast as a low-rank sum of basis images), the clean
    reference by :func:`~mrsim.dataset.head_subjects.head_clean_image` (once per subject
    inside the builder's reuse block)."""
    from mrsim.dataset.head_subjects import head_clean_image, head_contrast, head_kspace
    from mrsim.kspace.fft import ifft_centered
    from mrsim.kspace.poses import line_poses

    threads = settings.nufft.threads
    poses = line_poses(
        traj,
        sched,
        mapping=settings.mapping,
        method=settings.method,
        rereference_center=settings.rereference_center,
        granularity=settings.granularity,
    )
    subject = (params["subject_spec"], src_shape, settings.voxel_size_mm, sched)
    options = dict(contrast=params["contrast"], eps=settings.nufft.eps, threads=threads)
    with phase("subject"):  # built once for both calls (outside a reuse block nothing keeps it)
        options["subject_contrast"] = head_contrast(*subject, params["contrast"])
    with phase("nufft"):
        clean = head_clean_image(*subject, **options)
        k_moved = head_kspace(*subject, poses.rotations, poses.translations_mm, **options)
    with phase("fft"):
        corrupted = np.abs(ifft_centered(k_moved, workers=threads))
    return corrupted, clean, poses.params, k_moved
