"""From moved and clean k-space to a corruption result: the part both front doors share.

:func:`mrsim.kspace.corrupt.corrupt` (one image) and
:func:`mrsim.kspace.echo_train.corrupt_echo_train` (echo-train contrast) differ in how they
make the k-space; what they do with it is the same and lives here, once: the receive
coils (:func:`receive_coils`), the reconstruction (inverse FFT, or the R=1 SENSE coil
combination with the maps the data were simulated with, :class:`Reconstruction`), the
per-line clean energy that weights the severity, the image type of the outputs
(:func:`output_images`), the severity figures (:func:`result_severity`) and the coil
provenance (:func:`coil_settings`). The noise is
:func:`mrsim.kspace.severity.add_noise_for_snr`.

Multi-coil arrays are handled coil by coil: at 1 mm a ``(C, *grid)`` complex64 array of 8
coils is 0.74 GB, so no coil-image array or coil line copy is made (issue 17, memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from mrsim.kspace.coils import CoilMaps, combine_coil_kspace
from mrsim.kspace.fft import ifft_centered
from mrsim.kspace.multicoil import Coils
from mrsim.kspace.poses import LinePoses
from mrsim.kspace.schedule import Schedule
from mrsim.kspace.severity import motion_severity

__all__ = [
    "Reconstruction",
    "coil_settings",
    "output_images",
    "receive_coils",
    "result_severity",
]


def receive_coils(
    sensitivities: np.ndarray | None,
    method: str,
    terms: int | Sequence[int] | None,
    shape: Sequence[int],
    progress: bool = False,
) -> Coils | None:
    """The :class:`~mrsim.kspace.multicoil.Coils` of the acquisition, their maps checked
    against the grid ``shape``; None for one uniform coil (``sensitivities`` None).
    ``progress``: a bar over the multi-coil engine's motion states or Fourier blocks."""
    if sensitivities is None:
        return None
    coils = Coils(sensitivities, method, terms, progress)
    coils.check_grid(tuple(shape))
    return coils


@dataclass(frozen=True)
class Reconstruction:
    """Image of a k-space ``(..., [C,] *grid)``.

    Attributes
    ----------
    ndim : int
        Grid axes (the last ``ndim``).
    maps : ndarray (C, *grid) or CoilMaps, optional
        Maps the data were simulated with (:meth:`Coils.maps_used`): the image is their R=1
        SENSE combination (:func:`~mrsim.kspace.coils.combine_coil_kspace`, coil by coil).
        For ``"fourier"`` coils they are :class:`~mrsim.kspace.coils.CoilMaps`, made coil by
        coil at each combination, so that no band-limited ``(C, *grid)`` array is held while
        the k-space is made (0.74 GB for 8 coils at 1 mm; issue 17, memory). None: one coil,
        the inverse centred FFT.
    workers : int, optional
        FFT threads.
    """

    ndim: int
    maps: np.ndarray | CoilMaps | None = None
    workers: int | None = None

    @classmethod
    def for_coils(cls, coils: Coils | None, ndim: int, workers: int | None) -> Reconstruction:
        return cls(ndim, None if coils is None else coils.maps_used(lazy=True), workers)

    @property
    def n_coils(self) -> int:
        """Number of coils (0 for the single uniform coil)."""
        return 0 if self.maps is None else int(self.maps.shape[0])

    @cached_property
    def sensitivities(self) -> np.ndarray | None:
        """The maps as an array ``(C, *grid)`` (made once, when asked: for the result)."""
        return self.maps.array() if isinstance(self.maps, CoilMaps) else self.maps

    def __call__(self, kspace: np.ndarray) -> np.ndarray:
        if self.maps is None:
            return ifft_centered(kspace, axes=tuple(range(-self.ndim, 0)), workers=self.workers)
        return combine_coil_kspace(kspace, self.maps, workers=self.workers)

    def line_energy(self, k_clean: np.ndarray, schedule: Schedule) -> np.ndarray:
        """Energy of every line of the clean k-space, shape (L,): summed over the readout,
        the coils (one coil at a time: bounded temporaries) and any leading axes."""
        if self.maps is None:
            energy = np.sum(np.abs(schedule.from_grid(k_clean)) ** 2, axis=-1)
        else:
            grid = (slice(None),) * self.ndim
            energy = sum(
                np.sum(np.abs(schedule.from_grid(k_clean[(Ellipsis, c) + grid])) ** 2, -1)
                for c in range(self.n_coils)
            )
        while energy.ndim > 1:
            energy = energy.sum(axis=0)
        return energy


def output_images(image: np.ndarray, clean: np.ndarray, output: str) -> tuple[np.ndarray, ...]:
    """The result's ``image`` and ``clean`` as ``output`` asks: ``"magnitude"`` float32,
    ``"complex"`` complex64, ``"native"`` as computed (the engine's precision)."""
    if output == "magnitude":
        return np.abs(image).astype(np.float32), np.abs(clean).astype(np.float32)
    if output == "complex":
        return image.astype(np.complex64), clean.astype(np.complex64)
    return image, clean


def result_severity(poses: LinePoses, line_energy: np.ndarray, trajectory) -> dict[str, Any]:
    """:func:`~mrsim.kspace.severity.motion_severity` of the per-line poses (world frame)
    weighted by the clean line energies, plus the trajectory's ``motion_std`` (0 without
    one) and the number of motion states."""
    from mrsim.motion.magnitude import motion_std

    sev = motion_severity(poses.rotations, poses.translations_mm, line_weights=line_energy)
    sev["motion_std"] = 0.0 if trajectory is None else float(motion_std(trajectory).combined)
    sev["n_states"] = poses.n_states
    return sev


def coil_settings(schedule: Schedule, coils: Coils | None, recon: Reconstruction) -> dict:
    """Grid and coil provenance of a result's ``settings``: schedule name, shape, readout
    axis, number of coils and, with coils, their method and Fourier terms."""
    out: dict[str, Any] = dict(
        schedule=schedule.name,
        shape=list(schedule.shape),
        readout_axis=schedule.readout_axis,
        n_coils=recon.n_coils,
    )
    if coils is not None:  # single-coil settings stay as they were
        terms = coils.resolved_terms()
        out["coil_method"] = coils.method
        out["coil_terms"] = None if terms is None else list(terms)
    return out
