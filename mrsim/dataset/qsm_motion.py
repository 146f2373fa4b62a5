"""Recipe kind ``qsm_motion``: motion-corrupted multi-echo GRE / QSM pairs (seed 002).

Per subject, one chi / R2* / M0 head (:func:`mrsim.qsm.phantom.make_qsm_phantom`,
warped by the subject's random smooth deformation, with GM/WM/CSF M0 and R2*
randomised) and ``profiles_per_subject`` motion profiles of 2-3 sudden events
within +-5 mm / +-5 deg (:func:`mrsim.motion.generators.event_profile`) spread
over a segmented 3D GRE acquisition (one line per TR). Each (subject,
profile) is one sample:

- ``mixing = "approx"`` (seed 002 Eq. 5): the complex MGRE signal moves with
  the head; all lines of all poses and echoes in one type-2 NUFFT.
- ``mixing = "exact"`` (seed 002 Eq. 4): chi moves and the field is recomputed
  per motion state (:func:`mrsim.qsm.motion.mix_exact`).

Arrays: ``magnitude_clean``, ``phase_clean``, ``magnitude_corrupted``,
``phase_corrupted`` ``(E, X, Y, Z)`` float32; ``chi_true`` (the phantom's local
chi, ppm) and ``mask`` ``(X, Y, Z)``; ``poses`` ``(L, 6)``; ``trajectory``
``(N, 7)``; with ``recon = true`` also ``chi_clean`` and ``chi_corrupted``
and their (eroded) mask ``chi_mask`` (:func:`mrsim.qsm.recon.chi_maps`). ``motion_magnitude`` is the
largest absolute parameter of the profile (mm or deg).

Poses come from :func:`mrsim.kspace.poses.line_poses` and the mixing from
:func:`mrsim.qsm.motion.mix_approx` / :func:`~mrsim.qsm.motion.mix_exact` (the
engine's public entries). The NUFFT path is thread-count independent (tested);
``mixing = "exact"`` runs single-threaded per sample so that datasets do not
depend on the worker layout (use more workers instead). The synthetic phantoms
are RAS (identity orientation), B0 along world z.

References
----------
Seed 002: 10 motion profiles per MGRE volume, 2-3 events within +-5 mm / +-5
deg, 11 echoes (TE1 6.3 ms, dTE 4.1 ms), 0.75 x 0.75 x 3 mm voxels, 3D U-Net
patches 128 x 128 x 32; 80/10/10 split (by subject here).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from mrsim.dataset.fields import Field, length, non_negative, one_of, positive
from mrsim.dataset.samples import Kind, register_kind
from mrsim.dataset.subjects import random_warp_coords, seeded_rng, warp
from mrsim.dataset.timers import phase
from mrsim.errors import MrsimInputError
from mrsim.io.hdf5 import Sample

if TYPE_CHECKING:
    from mrsim.dataset.recipe import Recipe

__all__ = ["make_qsm_sample", "subject_phantom"]

SCHEMA = {
    "shape": Field(list, [320, 320, 48], "matrix (X, Y, Z)", length(3, positive)),
    "voxel_size_mm": Field(list, [0.75, 0.75, 3.0], "voxel size (mm)", length(3, positive)),
    "n_echoes": Field(int, 11, "echoes", positive),
    "te1_s": Field(float, 6.3e-3, "first echo time (s)", non_negative),
    "dte_s": Field(float, 4.1e-3, "echo spacing (s)", positive),
    "tr_s": Field(float, 0.049, "repetition time: one k-space line per TR (s)", positive),
    "b0_t": Field(float, 3.0, "field strength (T)", positive),
    "readout_axis": Field(int, 0, "fully sampled axis", one_of(0, 1, 2)),
    "profiles_per_subject": Field(int, 10, "motion profiles per volume (seed 002: 10)", positive),
    "max_mm": Field(float, 5.0, "event translation bound (mm)", non_negative),
    "max_deg": Field(float, 5.0, "event rotation bound (deg)", non_negative),
    "profile_points": Field(int, 300, "samples per motion profile", positive),
    "mixing": Field(
        str, "approx", "'approx' (Eq. 5) or 'exact' (Eq. 4)", one_of("approx", "exact")
    ),
    "snr": Field(float, 0.0, "peak SNR of echo 1 (0: no noise)", non_negative),
    "tissue_jitter": Field(float, 0.1, "std of log M0 / R2* factors per tissue", non_negative),
    "nufft_eps": Field(float, 1e-4, "NUFFT tolerance", positive),
    "recon": Field(bool, False, "also reconstruct chi from both signals"),
    "recon_unwrap": Field(str, "graphcut", "phase unwrapping", one_of("graphcut", "laplacian")),
    "recon_background": Field(str, "pdf", "background removal", one_of("pdf", "vsharp")),
    "recon_inversion": Field(str, "tv", "dipole inversion", one_of("tv", "tkd")),
}


def _validate(recipe: Recipe) -> None:
    if recipe.subjects["source"] != "synthetic":
        raise MrsimInputError(
            f"{recipe.source}: qsm_motion needs subjects.source = 'synthetic' (chi phantoms); "
            "building from user MGRE volumes is not supported by this recipe"
        )


def _plan(recipe: Recipe, subjects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    p = recipe.params
    common = {k: p[k] for k in SCHEMA if k != "profiles_per_subject"}
    out = []
    for spec in subjects:
        for j in range(p["profiles_per_subject"]):
            out.append(
                {
                    "subject": spec["subject"],
                    "split": spec["split"],
                    "variant": p["mixing"],
                    "subject_spec": {k: v for k, v in spec.items() if k != "split"},
                    "profile": j,
                    **common,
                }
            )
    return out


@lru_cache(maxsize=2)
def _phantom_cached(spec_json: str, shape: tuple[int, ...], vox: tuple[float, ...], jitter: float):
    from mrsim.qsm.phantom import TISSUES, QSMPhantom, make_qsm_phantom

    spec = json.loads(spec_json)
    rng = seeded_rng(spec["seed"])
    coords = random_warp_coords(spec, shape, np.asarray(vox), rng)
    tissues = {}
    for name in ("gm", "wm", "csf"):
        chi, r2s, m0 = TISSUES[name]
        f_r2s, f_m0 = np.exp(jitter * rng.standard_normal(2))
        tissues[name] = (chi, r2s * f_r2s, m0 * f_m0)
    ph = make_qsm_phantom(shape, vox, tissues=tissues)
    return QSMPhantom(
        chi_ppm=warp(ph.chi_ppm, coords),
        r2s_hz=warp(ph.r2s_hz, coords),
        m0=warp(ph.m0, coords),
        mask=warp(ph.mask.astype(float), coords) > 0.5,
        labels=warp(ph.labels, coords, order=0),
        affine=ph.affine,
        voxel_size_mm=ph.voxel_size_mm,
        info={**ph.info, "warped": spec},
    )


def subject_phantom(spec: dict[str, Any], shape, voxel_size_mm, tissue_jitter: float):
    """The chi phantom of a synthetic subject (cached per process)."""
    key = json.dumps({k: v for k, v in spec.items() if k != "split"}, sort_keys=True)
    return _phantom_cached(
        key,
        tuple(int(n) for n in shape),
        tuple(float(v) for v in voxel_size_mm),
        float(tissue_jitter),
    )


def make_qsm_sample(params: dict[str, Any], threads: int = 1) -> Sample:
    """Build one ``qsm_motion`` sample from its params (see module docstring)."""
    from mrsim.kspace.nufft_options import NufftOptions
    from mrsim.kspace.poses import line_poses
    from mrsim.kspace.schedule import gre3d_schedule
    from mrsim.motion.generators import event_profile
    from mrsim.qsm.dipole import dipole_field
    from mrsim.qsm.gre import add_noise, echo_times, gre_signal
    from mrsim.qsm.motion import QSMMotionSettings, mix_approx, mix_exact

    shape = tuple(int(n) for n in params["shape"])
    vox = tuple(float(v) for v in params["voxel_size_mm"])
    with phase("subject"):
        ph = subject_phantom(params["subject_spec"], shape, vox, params["tissue_jitter"])
    te = echo_times(params["n_echoes"], params["te1_s"], params["dte_s"])
    rng = seeded_rng(params["seed"])
    with phase("motion"):
        sched = gre3d_schedule(shape, tr_s=params["tr_s"], readout_axis=params["readout_axis"])
        duration = sched.n_lines * params["tr_s"]
        traj = event_profile(
            duration_s=duration,
            n=params["profile_points"],
            max_mm=params["max_mm"],
            max_deg=params["max_deg"],
            seed=rng,
        )
        poses = line_poses(
            traj, sched, mapping="stretch", method="nearest", rereference_center=False
        )
        line_params = poses.params
    with phase("signal"):
        field_ppm = dipole_field(ph.chi_ppm, np.asarray(vox), (0.0, 0.0, 1.0))
        clean = gre_signal(ph.m0, ph.r2s_hz, field_ppm, te, b0_t=params["b0_t"])
    eps = float(params["nufft_eps"])
    with phase("nufft"):
        if params["mixing"] == "approx":
            # Seed 002 Eq. 5: one NUFFT of every line, never the FFT shortcut, so the bytes
            # depend on the params only; the result does not depend on the thread count.
            st = QSMMotionSettings(nufft=NufftOptions(eps=eps, threads=threads, fast_path=False))
            corrupted = mix_approx(clean, sched, poses, None, vox, settings=st)
        else:
            # Per-state FFTs: single-threaded so that datasets do not depend on the layout.
            st = QSMMotionSettings(b0_t=params["b0_t"], nufft=NufftOptions(eps=eps, threads=1))
            corrupted = mix_exact(
                ph.chi_ppm, ph.m0, ph.r2s_hz, te, sched, poses, None, vox, settings=st
            )
    if params["snr"] > 0:
        ref = float(np.abs(clean[..., 0]).max())
        noise_seed = int(rng.integers(2**63))
        clean = add_noise(clean, params["snr"], reference=ref, seed=noise_seed)
        corrupted = add_noise(corrupted, params["snr"], reference=ref, seed=noise_seed)

    def echo_first(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(x, -1, 0), dtype=np.float32)

    arrays = {
        "magnitude_clean": echo_first(np.abs(clean)),
        "phase_clean": echo_first(np.angle(clean)),
        "magnitude_corrupted": echo_first(np.abs(corrupted)),
        "phase_corrupted": echo_first(np.angle(corrupted)),
        "chi_true": ph.chi_local_ppm.astype(np.float32),
        "mask": ph.mask.astype(np.uint8),
        "poses": line_params.astype(np.float32),
        "trajectory": np.column_stack([traj.t_s, traj.params]),
    }
    if params["recon"]:
        from mrsim.qsm.recon import chi_maps

        with phase("recon"):
            arrays.update(
                chi_maps(
                    {"chi_clean": clean, "chi_corrupted": corrupted},
                    te,
                    vox,
                    mask=ph.mask,
                    b0_t=params["b0_t"],
                    unwrap=params["recon_unwrap"],
                    background=params["recon_background"],
                    inversion=params["recon_inversion"],
                )
            )
    vol_chunks = tuple(min(n, c) for n, c in zip(shape, (64, 64, 16), strict=True))
    chunks = {k: (1, *vol_chunks) for k in arrays if k.startswith(("magnitude", "phase"))}
    chunks.update({k: vol_chunks for k in arrays if k.startswith("chi") or k == "mask"})
    return Sample(
        arrays=arrays,
        attrs={
            "motion_magnitude_unit": "max |param| (mm | deg)",
            "motion_magnitude": float(np.abs(traj.params).max()),
            "te_s": te.tolist(),
            "voxel_size_mm": list(vox),
            "n_motion_states": int(len(np.unique(line_params, axis=0))),
        },
        chunks=chunks,
    )


register_kind(Kind("qsm_motion", SCHEMA, _plan, make_qsm_sample, validate=_validate))
