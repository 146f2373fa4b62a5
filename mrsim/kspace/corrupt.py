"""The front door: :func:`corrupt` (trajectory -> per-line poses -> moved k-space -> image).

Everything :func:`corrupt` needs besides the image, trajectory and schedule is one
:class:`CorruptionSettings` (validated in one place, written as provenance by
:meth:`CorruptionSettings.to_dict`). The pieces live in modules named after what they
hold, and are re-exported here so that ``mrsim.kspace.corrupt`` keeps its public names:

* :mod:`mrsim.kspace.poses`: :class:`LinePoses`, :func:`line_poses`, :func:`motion_states`;
* :mod:`mrsim.kspace.engine`: :func:`moved_kspace`, :func:`rigid_move` (single coil);
* :mod:`mrsim.kspace.multicoil`: :class:`Coils` and the two multi-coil methods;
* :mod:`mrsim.kspace.baseline`: :func:`image_domain_kspace` (image-domain reference);
* :mod:`mrsim.kspace.severity`: :func:`motion_severity`, :func:`noise_sigma_for_snr`;
* :mod:`mrsim.geometry`: :func:`orientation_from_affine` and the grid conventions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import (
    check_orientation,
    orientation_from_affine,
    voxel_size_from_affine,
    voxel_sizes,
)
from mrsim.kspace.baseline import image_domain_kspace
from mrsim.kspace.engine import moved_kspace, rigid_move
from mrsim.kspace.fft import ifft_centered_slices
from mrsim.kspace.multicoil import COIL_METHODS, Coils
from mrsim.kspace.nufft_options import NUFFT_KEYWORDS, NufftOptions
from mrsim.kspace.poses import (
    GRANULARITIES,
    POSE_MAPPINGS,
    POSE_METHODS,
    LinePoses,
    line_poses,
    motion_states,
)
from mrsim.kspace.reconstruct import (
    Reconstruction,
    coil_settings,
    output_images,
    receive_coils,
    result_severity,
)
from mrsim.kspace.reuse import memoized
from mrsim.kspace.schedule import Schedule, mprage_schedule
from mrsim.kspace.severity import add_noise_for_snr, motion_severity, noise_sigma_for_snr

__all__ = [
    "CorruptionSettings",
    "CorruptionResult",
    "corrupt",
    # re-exported (their modules are the reference)
    "moved_kspace",
    "rigid_move",
    "image_domain_kspace",
    "motion_states",
    "orientation_from_affine",
    "motion_severity",
    "noise_sigma_for_snr",
    "LinePoses",
    "line_poses",
    "NufftOptions",
    "Coils",
]

#: Image types :func:`corrupt` returns: magnitude float32, complex64, or the complex image
#: in the engine's working precision (complex64 for eps >= 1e-5, else complex128).
OUTPUTS = ("magnitude", "complex", "native")


def _matrix_tuple(m: Any, shape: tuple[int, ...], name: str) -> tuple | None:
    if m is None:
        return None
    a = np.asarray(m, dtype=float)
    if a.shape != shape or not np.all(np.isfinite(a)):
        raise MrsimInputError(f"{name} must be a finite {shape} matrix, got shape {a.shape}")
    return tuple(tuple(float(v) for v in row) for row in a)


@dataclass(frozen=True)
class CorruptionSettings:
    """Everything :func:`corrupt` needs besides the image, the trajectory and the schedule.

    Attributes
    ----------
    voxel_size_mm : float or tuple of float
        Input voxel size along the array axes (mm).
    orientation : 3x3 tuple, optional
        Direction cosines of the array axes in the world frame (columns); None: the array
        axes are world x, y, z. Poses are applied in the world frame.
    affine : 4x4 tuple, optional
        The input's NIfTI affine, recorded as provenance (:meth:`from_affine` sets
        ``voxel_size_mm`` and ``orientation`` from it; they must agree with it).
    mapping, method, rereference_center, granularity
        Trajectory -> per-line poses (:func:`mrsim.kspace.poses.line_poses`).
    nufft : NufftOptions
        Engine options (default eps 1e-4: bulk data, single precision).
    noise_snr : float, optional
        Complex Gaussian noise on the acquired samples for this image SNR
        (:func:`noise_sigma_for_snr` of the clean image); None: no noise.
    seed : int, optional
        Noise seed (``numpy.random.default_rng``).
    output : {"magnitude", "complex", "native"}
        Image type of the result's ``image`` and ``clean`` (:data:`OUTPUTS`).
    coil_method : {"states", "fourier"}
        Multi-coil model, used when :func:`corrupt` is given coil sensitivities.
    coil_terms : int or tuple of int, optional
        ``"fourier"``: half-width of the sensitivities' Fourier box (default per axis).
    recon_slices : (int, tuple of int), optional
        ``(axis, indices)``: reconstruct only these slices of the image grid (single coil):
        the result's ``image`` and ``clean`` are ``np.take(full, indices, axis)``, the
        corrupted image computed slice-only (:func:`mrsim.kspace.fft.ifft_centered_slices`:
        bit-identical to the sliced full reconstruction for the first grid axis, float
        rounding apart for the others), the clean one sliced from the full reference
        (which the severity and the noise level need anyway).
        None: whole volumes.
    """

    voxel_size_mm: float | tuple[float, ...] = 1.0
    orientation: tuple | None = None
    affine: tuple | None = None
    mapping: str = "seconds"
    method: str = "linear"
    rereference_center: bool = True
    granularity: str = "line"
    nufft: NufftOptions = field(default_factory=lambda: NufftOptions(eps=1e-4))
    noise_snr: float | None = None
    seed: int | None = None
    output: str = "magnitude"
    coil_method: str = "states"
    coil_terms: int | tuple[int, ...] | None = None
    recon_slices: tuple[int, tuple[int, ...]] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        v = np.asarray(self.voxel_size_mm, dtype=float)
        if v.ndim > 1 or v.size not in (1, 2, 3):
            raise MrsimInputError(
                f"voxel_size_mm must be one number or one per axis (2 or 3), got {v.tolist()}"
            )
        vox = voxel_sizes(v, v.size if v.ndim else 1)
        set_(self, "voxel_size_mm", float(vox[0]) if v.ndim == 0 else tuple(map(float, vox)))
        set_(self, "orientation", _matrix_tuple(self.orientation, (3, 3), "orientation"))
        if self.orientation is not None:
            check_orientation(np.asarray(self.orientation), 3)
        set_(self, "affine", _matrix_tuple(self.affine, (4, 4), "affine"))
        if self.affine is not None:
            A = np.asarray(self.affine)
            D = orientation_from_affine(A)
            if self.orientation is None or not np.allclose(self.orientation, D, atol=1e-6):
                raise MrsimInputError(
                    "orientation must match the affine's direction cosines (use "
                    "CorruptionSettings.from_affine)"
                )
            if not np.allclose(np.broadcast_to(v, (3,)), voxel_size_from_affine(A), rtol=1e-6):
                raise MrsimInputError(
                    f"voxel_size_mm {self.voxel_size_mm} does not match the affine's "
                    f"{voxel_size_from_affine(A).tolist()}"
                )
        for name, allowed in (
            ("mapping", POSE_MAPPINGS),
            ("method", POSE_METHODS),
            ("granularity", GRANULARITIES),
            ("output", OUTPUTS),
            ("coil_method", COIL_METHODS),
        ):
            if getattr(self, name) not in allowed:
                raise MrsimInputError(
                    f"{name} must be one of {allowed}, got {getattr(self, name)!r}"
                )
        if not isinstance(self.nufft, NufftOptions):
            raise MrsimInputError(f"nufft must be a NufftOptions, got {type(self.nufft).__name__}")
        if self.noise_snr is not None and not (float(self.noise_snr) > 0):
            raise MrsimInputError(f"noise SNR must be > 0, got {self.noise_snr}")
        if self.coil_terms is not None and not isinstance(self.coil_terms, int):
            set_(self, "coil_terms", tuple(int(k) for k in self.coil_terms))
        if self.recon_slices is not None:
            try:
                axis, idx = self.recon_slices
                idx_a = np.asarray(idx).reshape(-1)
                if idx_a.size and idx_a.dtype.kind not in "iu":  # 3.7 is not slice 3
                    raise ValueError
                rs = (int(axis), tuple(int(i) for i in idx_a))
            except (TypeError, ValueError):
                raise MrsimInputError(
                    "recon_slices must be (axis, indices) with integer indices, got "
                    f"{self.recon_slices!r}"
                ) from None
            if not rs[1]:
                raise MrsimInputError("recon_slices needs at least one slice index")
            set_(self, "recon_slices", rs)

    @classmethod
    def from_affine(cls, affine: np.ndarray, **changes: Any) -> CorruptionSettings:
        """Settings for an image with this NIfTI affine (voxel size, orientation, provenance)."""
        vox = voxel_size_from_affine(affine)
        return cls(
            voxel_size_mm=tuple(map(float, vox)),
            orientation=orientation_from_affine(affine),
            affine=np.asarray(affine, dtype=float),
        ).updated(**changes)

    def updated(self, **changes: Any) -> CorruptionSettings:
        """A copy with fields changed; NUFFT keywords (``eps``, ``backend``, ``nthreads`` /
        ``threads``, ``upsampfac``, ``fast_path``) go to :attr:`nufft`."""
        nufft_kw = {k: changes.pop(k) for k in list(changes) if k in NUFFT_KEYWORDS}
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise TypeError(f"unknown corruption settings {unknown}; expected {sorted(names)}")
        if nufft_kw:
            changes["nufft"] = changes.get("nufft", self.nufft).updated(**nufft_kw)
        return replace(self, **changes) if changes else self

    def voxel_size_for(self, ndim: int) -> np.ndarray:
        return voxel_sizes(self.voxel_size_mm, ndim)

    def orientation_for(self, ndim: int) -> np.ndarray | None:
        if self.orientation is None:
            return None
        if ndim != 3:
            raise MrsimInputError("an orientation (affine) applies to 3D images only")
        return np.asarray(self.orientation)

    def to_dict(self, ndim: int = 3) -> dict[str, Any]:
        """The complete provenance (JSON-able), orientation included (identity when None)."""
        D = np.eye(ndim) if self.orientation is None else np.asarray(self.orientation)
        nufft = self.nufft.to_dict()
        return {
            "voxel_size_mm": [float(v) for v in self.voxel_size_for(ndim)],
            "orientation": D.tolist(),
            "affine": None if self.affine is None else [list(r) for r in self.affine],
            "mapping": self.mapping,
            "method": self.method,
            "rereference_center": self.rereference_center,
            "granularity": self.granularity,
            # flat copies of the NUFFT fields read by earlier consumers of `settings`
            "backend": nufft["backend"],
            "eps": nufft["eps"],
            "upsampfac": nufft["upsampling"],
            "nufft": nufft,
            "noise_snr": self.noise_snr,
            "output": self.output,
            "seed": self.seed,
        } | (
            {}
            if self.recon_slices is None
            else {"recon_slices": [self.recon_slices[0], list(self.recon_slices[1])]}
        )


@dataclass
class CorruptionResult:
    """Output of :func:`corrupt`.

    Attributes
    ----------
    kspace : ndarray, complex
        Motion-corrupted (noisy if asked) k-space on ``schedule.shape`` ((C, ...) with coils).
    image : ndarray
        Reconstructed corrupted image (magnitude float32, complex64, or native complex).
    clean : ndarray
        Motion-free, noise-free reference on the same grid, same type as ``image``.
    params : ndarray, shape (L, 6)
        Per-line poses ``(tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg)`` actually applied.
    rotations, translations_mm : ndarray
        Same poses as matrices / vectors (world frame).
    schedule : Schedule
    severity : dict
        :func:`motion_severity` figures plus ``motion_std`` of the trajectory and
        ``n_states``.
    noise_sigma : float
        Added noise std per component (0 when none).
    settings : dict
        Everything needed to regenerate the result (:meth:`CorruptionSettings.to_dict` plus
        the schedule and coils).
    coil_sensitivities : ndarray, shape (C, *schedule.shape), optional
        The maps the data were simulated with and combined by (:meth:`Coils.maps_used`);
        None for one coil.
    clean_max : float, optional
        With ``recon_slices``: the maximum magnitude of the whole clean reference volume
        (``clean`` then holds the slices only); None otherwise.
    """

    kspace: np.ndarray
    image: np.ndarray
    clean: np.ndarray
    params: np.ndarray
    rotations: np.ndarray
    translations_mm: np.ndarray
    schedule: Schedule
    severity: dict = field(default_factory=dict)
    noise_sigma: float = 0.0
    settings: dict = field(default_factory=dict)
    coil_sensitivities: np.ndarray | None = None
    clean_max: float | None = None

    @classmethod
    def made_with(
        cls, poses: LinePoses, recon: Reconstruction, schedule: Schedule, **fields: Any
    ) -> CorruptionResult:
        """The result of a corruption with these per-line poses (``params``, ``rotations``,
        ``translations_mm``) and coil combination (``coil_sensitivities``); ``fields``: the
        others."""
        return cls(
            params=poses.params,
            rotations=poses.rotations,
            translations_mm=poses.translations_mm,
            schedule=schedule,
            coil_sensitivities=recon.sensitivities,
            **fields,
        )


def _check_inputs(image: np.ndarray, schedule: Schedule | None) -> Schedule:
    if schedule is None:
        if image.ndim != 3:
            raise MrsimInputError(
                "a 2D (or batched) image needs an explicit schedule (e.g. cartesian2d_schedule)"
            )
        return mprage_schedule(image.shape)
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a mrsim.kspace.Schedule, got {type(schedule).__name__}")
    if image.ndim not in (schedule.ndim, schedule.ndim + 1) or image.ndim < 2:
        raise MrsimInputError(
            f"image must be {schedule.ndim}D (optionally with one leading batch axis) to "
            f"match the schedule, got shape {image.shape}"
        )
    return schedule


def _clean_key(
    schedule: Schedule, vox: np.ndarray, orientation: np.ndarray | None, opt: NufftOptions
) -> tuple:
    """What the clean reference depends on besides the image (:func:`corrupt`)."""
    return (
        schedule.shape,
        schedule.readout_axis,
        hashlib.blake2b(np.ascontiguousarray(schedule.pe_index).tobytes()).hexdigest(),
        tuple(float(v) for v in vox),
        None if orientation is None else np.asarray(orientation, float).tobytes(),
        opt.backend,
        float(opt.eps),
    )


def corrupt(
    image: np.ndarray,
    trajectory,
    schedule: Schedule | None = None,
    voxel_size_mm: float | Sequence[float] | None = None,
    settings: CorruptionSettings | None = None,
    *,
    coil_sensitivities: np.ndarray | None = None,
    progress: bool = False,
    **keywords: Any,
) -> CorruptionResult:
    """Motion-corrupt a volume: trajectory -> per-line poses -> moved k-space -> image.

    Parameters
    ----------
    image : ndarray, 2D or 3D, optionally with one leading batch axis (e.g. echoes)
        Clean object in the reference pose. A batch needs an explicit ``schedule``.
    trajectory : mrsim.motion.Trajectory or None
        Head motion (world frame); None: no motion.
    schedule : Schedule, optional
        Default: :func:`~mrsim.kspace.schedule.mprage_schedule` (linear) on the image grid.
    voxel_size_mm : float or sequence, optional
        Shorthand for ``settings.voxel_size_mm``.
    settings : CorruptionSettings, optional
        Everything else (default ``CorruptionSettings()``).
    coil_sensitivities : ndarray, shape (C, *schedule.shape), optional
        Receive coils fixed in the scanner (``settings.coil_method`` / ``coil_terms``). The
        images are then combined with :func:`~mrsim.kspace.coils.combine_coils` (R=1 SENSE)
        using the maps the data were simulated with, so that the clean reference is the
        object itself wherever the coils see it.
    progress : bool
        Progress bar over the multi-coil path's states / blocks.
    **keywords
        Field names of :class:`CorruptionSettings` (and the NUFFT keywords ``eps``,
        ``backend``, ``nthreads``/``threads``, ``upsampfac``, ``fast_path``), as earlier
        versions took them; they update ``settings``.

    Returns
    -------
    CorruptionResult

    Notes
    -----
    The clean reference is always computed by the exact FFT path; ``settings.nufft
    .fast_path`` only concerns the corrupted k-space.

    References
    ----------
    Seed 001 (MC-Net): per-line poses re-referenced to the k-space centre, NUFFT-sampled
    corrupted k-space.
    """
    settings = settings if settings is not None else CorruptionSettings()
    if not isinstance(settings, CorruptionSettings):
        raise MrsimInputError(
            f"settings must be a CorruptionSettings, got {type(settings).__name__}"
        )
    if voxel_size_mm is not None:
        keywords["voxel_size_mm"] = voxel_size_mm
    settings = settings.updated(**keywords)
    image = np.asarray(image)
    schedule = _check_inputs(image, schedule)
    nd = schedule.ndim
    if settings.recon_slices is not None:  # checked before the (expensive) NUFFT
        ax_s, idx_s = settings.recon_slices
        if not -nd <= ax_s < nd or min(idx_s) < 0 or max(idx_s) >= schedule.shape[ax_s]:
            raise MrsimInputError(
                f"recon_slices {settings.recon_slices} do not fit the grid {schedule.shape}"
            )
    vox = settings.voxel_size_for(nd)
    orientation = settings.orientation_for(nd)
    coils = receive_coils(
        coil_sensitivities, settings.coil_method, settings.coil_terms, schedule.shape, progress
    )
    poses = line_poses(
        trajectory,
        schedule,
        mapping=settings.mapping,
        method=settings.method,
        rereference_center=settings.rereference_center,
        granularity=settings.granularity,
    )
    opt = settings.nufft
    kw = dict(voxel_size_mm=vox, orientation=orientation, coils=coils)
    eye, zero = np.eye(nd), np.zeros(nd)
    k_clean_held: list[np.ndarray] = []

    def k_clean() -> np.ndarray:  # computed at most once, and only when needed
        if not k_clean_held:
            fast = opt.updated(fast_path=True)
            k_clean_held.append(moved_kspace(image, schedule, eye, zero, options=fast, **kw))
        return k_clean_held[0]

    k = moved_kspace(image, schedule, poses, options=opt, **kw)
    axes = tuple(range(-nd, 0))
    recon = Reconstruction.for_coils(coils, nd, opt.threads)

    # The motion-free reference depends on the object and the acquisition only: inside
    # mrsim.kspace.reuse.reuse_spectra (dataset builds, many trajectories per subject) it
    # is computed once per object and shared read-only (bit-identical to recomputing).
    clean_key = _clean_key(schedule, vox, orientation, opt)
    if coils is None:
        clean_c = memoized("clean_image", image, clean_key, lambda: recon(k_clean()))
    else:
        clean_c = recon(k_clean())
    k, sigma = add_noise_for_snr(k, clean_c, schedule, settings.noise_snr, settings.seed)
    clean_max = None
    if settings.recon_slices is None:
        img_c = recon(k)
    else:
        ax_s, idx_s = settings.recon_slices
        ax_s = ax_s % nd - nd  # counted from the end: a batch axis may precede the grid
        if coils is None:
            img_c = ifft_centered_slices(k, ax_s, idx_s, axes=axes, workers=opt.threads)
        else:  # coils: whole volumes combined, then sliced
            img_c = np.take(recon(k), idx_s, axis=ax_s)
        clean_max = float(
            memoized("clean_max", image, clean_key, lambda: np.asarray(np.abs(clean_c).max()))
            if coils is None
            else np.abs(clean_c).max()
        )
        clean_c = np.take(clean_c, idx_s, axis=ax_s)
    img_out, clean_out = output_images(img_c, clean_c, settings.output)
    if coils is None:
        energy = memoized(
            "clean_line_energy", image, clean_key, lambda: recon.line_energy(k_clean(), schedule)
        )
    else:
        energy = recon.line_energy(k_clean(), schedule)
    out_settings = settings.to_dict(nd) | coil_settings(schedule, coils, recon)
    return CorruptionResult.made_with(
        poses,
        recon,
        schedule,
        kspace=k,
        image=img_out,
        clean=clean_out,
        severity=result_severity(poses, energy, trajectory),
        noise_sigma=sigma,
        settings=out_settings,
        clean_max=clean_max,
    )
