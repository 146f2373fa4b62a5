"""Corrupt a volume with its affine: the library call behind ``mrsim corrupt``.

:func:`corrupt_volume` takes an image and its NIfTI affine, runs the front door
(:func:`mrsim.kspace.corrupt.corrupt`) in the image's world frame, optionally with receive
coils fixed in the scanner, and returns the result with the output grid's affine and the
image-quality figures the command prints. Reading and writing files stays in the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import resampled_affine
from mrsim.kspace.corrupt import CorruptionResult, CorruptionSettings, corrupt
from mrsim.kspace.schedule import Schedule, mprage_schedule

__all__ = ["CorruptedVolume", "corrupt_head_volume", "corrupt_volume", "scanner_coils"]


@dataclass
class CorruptedVolume:
    """Output of :func:`corrupt_volume`.

    Attributes
    ----------
    result : CorruptionResult
    affine : ndarray (4, 4)
        Voxel -> world affine of the output grid (same FOV; voxel ``n // 2`` keeps its
        world position, :func:`mrsim.geometry.resampled_affine`).
    voxel_size_mm : ndarray (3,)
        Output voxel size.
    ssim, psnr_db : float
        :func:`mrsim.metrics.ssim` / :func:`~mrsim.metrics.psnr` of the corrupted magnitude
        against the clean one.
    """

    result: CorruptionResult
    affine: np.ndarray
    voxel_size_mm: np.ndarray
    ssim: float
    psnr_db: float


def scanner_coils(
    schedule: Schedule, settings: CorruptionSettings, in_shape, n_coils: int
) -> np.ndarray:
    """Synthetic birdcage sensitivities on the output grid, fixed in the scanner: the ring
    runs around the array axis closest to world z (the bore)."""
    from mrsim.kspace.coils import birdcage_sensitivities

    D = np.eye(3) if settings.orientation is None else np.asarray(settings.orientation)
    ring_axis = int(np.argmax(np.abs(D[2, :])))
    vox_grid = settings.voxel_size_for(3) * np.asarray(in_shape) / np.asarray(schedule.shape)
    return birdcage_sensitivities(schedule.shape, vox_grid, n_coils, axis=ring_axis)


def corrupt_volume(
    image: np.ndarray,
    affine: np.ndarray,
    trajectory,
    schedule: Schedule | None = None,
    settings: CorruptionSettings | None = None,
    *,
    n_coils: int | None = None,
) -> CorruptedVolume:
    """Motion-corrupt a 3D volume in its world frame (NIfTI affine).

    Parameters
    ----------
    image : ndarray, 3D
    affine : ndarray (4, 4)
        Voxel -> world (RAS+ mm); sets the voxel size and the orientation of the settings.
    trajectory : mrsim.motion.Trajectory
    schedule : Schedule, optional
        Default :func:`~mrsim.kspace.schedule.mprage_schedule` on the image grid.
    settings : CorruptionSettings, optional
        Everything but the geometry (which comes from ``affine``).
    n_coils : int, optional
        Receive coils (:func:`scanner_coils`); None: one uniform coil.

    Returns
    -------
    CorruptedVolume
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise MrsimInputError(f"expected a 3D volume, got shape {image.shape}")
    base = CorruptionSettings() if settings is None else settings
    settings = base.updated(**_geometry(affine))
    schedule = mprage_schedule(image.shape) if schedule is None else schedule
    sens = None
    if n_coils is not None:
        sens = scanner_coils(schedule, settings, image.shape, n_coils)
    res = corrupt(
        image,
        trajectory,
        schedule,
        settings=settings,
        coil_sensitivities=sens,
        progress=sens is not None,
    )
    return _corrupted_volume(res, affine, image.shape, schedule, settings)


def corrupt_head_volume(
    head,
    trajectory,
    schedule: Schedule,
    settings: CorruptionSettings | None = None,
    *,
    contrast: str = "echo-train",
    n_coils: int | None = None,
) -> CorruptedVolume:
    """Motion-corrupt the full-head phantom with MP-RAGE physics (``mrsim corrupt --phantom head``).

    Parameters
    ----------
    head : mrsim.phantoms.head.HeadPhantom or mrsim.kspace.echo_train.FactorisedHead
        Tissue maps on the acquisition grid, with its affine, or their contrast for this
        schedule (:func:`~mrsim.kspace.echo_train.factorise_head`: the caller can let the
        maps go before the k-space is made).
    trajectory : mrsim.motion.Trajectory
    schedule : Schedule
        MP-RAGE schedule on the head's grid.
    settings : CorruptionSettings, optional
        Everything but the geometry (taken from ``head.affine``).
    contrast : {"echo-train", "static"}
        See :func:`mrsim.kspace.echo_train.head_corruption`.
    n_coils : int, optional
        Receive coils (:func:`scanner_coils`); None: one uniform coil.

    Returns
    -------
    CorruptedVolume
    """
    from mrsim.kspace.echo_train import FactorisedHead, factorise_head, head_corruption

    if not isinstance(head, FactorisedHead):
        head = factorise_head(head, schedule, contrast=contrast)
    base = CorruptionSettings() if settings is None else settings
    s = base.updated(**_geometry(head.affine))
    shape = head.grid_shape
    sens = None if n_coils is None else scanner_coils(schedule, s, shape, n_coils)
    res = head_corruption(
        head,
        trajectory,
        schedule,
        contrast=contrast,
        orientation=s.orientation,
        mapping=s.mapping,
        method=s.method,
        rereference_center=s.rereference_center,
        granularity=s.granularity,
        backend=s.nufft.backend,
        eps=s.nufft.eps,
        nthreads=s.nufft.threads,
        noise_snr=s.noise_snr,
        output=s.output,
        coil_sensitivities=sens,
        coil_method=s.coil_method,
        coil_terms=s.coil_terms,
        seed=s.seed,
        progress=sens is not None,
    )
    return _corrupted_volume(res, head.affine, shape, schedule, s)


def _corrupted_volume(
    res: CorruptionResult, affine: np.ndarray, in_shape, schedule: Schedule, settings
) -> CorruptedVolume:
    """The output grid's affine and voxel size, and SSIM / PSNR of the magnitudes."""
    from mrsim import metrics

    ref, img = np.abs(res.clean), np.abs(res.image)
    return CorruptedVolume(
        result=res,
        affine=resampled_affine(affine, in_shape, schedule.shape),
        voxel_size_mm=settings.voxel_size_for(3) * np.asarray(in_shape) / schedule.shape,
        ssim=metrics.ssim(ref, img),
        psnr_db=metrics.psnr(ref, img),
    )


def _geometry(affine: np.ndarray) -> dict:
    geo = CorruptionSettings.from_affine(affine)
    return {
        "voxel_size_mm": geo.voxel_size_mm,
        "orientation": geo.orientation,
        "affine": geo.affine,
    }
