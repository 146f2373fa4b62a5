"""How much motion matters (k-space-energy-weighted displacement) and noise for an SNR."""

from __future__ import annotations

import numpy as np

from mrsim.errors import MrsimInputError

__all__ = ["motion_severity", "noise_sigma_for_snr", "add_kspace_noise", "add_noise_for_snr"]


def motion_severity(
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    line_weights: np.ndarray | None = None,
    radius_mm: float = 64.0,
    moved_threshold_mm: float = 0.5,
) -> dict[str, float]:
    """How much the per-line poses matter, weighted by where k-space energy lies.

    Per line, ``d_l`` is the RMS displacement of the points of a sphere of radius
    ``radius_mm`` about the FOV centre between the line's pose and the reference (identity)
    pose (Jenkinson 1999: ``d^2 = |t|^2 + r^2 / 5 * tr((R - I)^T (R - I))``). Weights are the
    clean k-space energy of each line (motion while the centre is acquired matters most).

    Returns
    -------
    dict
        ``mean_displacement_mm`` (energy-weighted mean of d), ``max_displacement_mm``,
        ``energy_fraction_moved`` (weight of lines with ``d > moved_threshold_mm``),
        ``rms_displacement_mm`` (unweighted RMS of d over lines), ``radius_mm``,
        ``moved_threshold_mm``.

    References
    ----------
    Jenkinson M. Measuring transformation error by RMS deviation. FMRIB TR99MJ1, 1999.
    """
    from mrsim.motion.rigid import rms_deviation

    R = np.asarray(rotations, dtype=float)
    t = np.asarray(translations_mm, dtype=float)
    if R.shape[-2:] != (3, 3) or t.shape != R.shape[:-1]:
        raise MrsimInputError(
            f"need rotations (L, 3, 3) and translations (L, 3), got {R.shape}, {t.shape}"
        )
    A = np.zeros(R.shape[:-2] + (4, 4))
    A[..., :3, :3], A[..., :3, 3], A[..., 3, 3] = R, t, 1.0
    d = rms_deviation(A, radius_mm=radius_mm)
    w = np.ones(len(d)) if line_weights is None else np.asarray(line_weights, dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(len(d), 1.0 / max(len(d), 1))
    return {
        "mean_displacement_mm": float(np.sum(w * d)),
        "max_displacement_mm": float(d.max(initial=0.0)),
        "energy_fraction_moved": float(np.sum(w[d > moved_threshold_mm])),
        "rms_displacement_mm": float(np.sqrt(np.mean(d**2))) if len(d) else 0.0,
        "radius_mm": float(radius_mm),
        "moved_threshold_mm": float(moved_threshold_mm),
    }


def noise_sigma_for_snr(clean_image: np.ndarray, snr: float, threshold: float = 0.1) -> float:
    """Noise std per real/imaginary component giving ``snr`` in the image.

    ``SNR = mean(|clean| over voxels above threshold x max) / sigma``. With orthonormal FFTs
    the same sigma applies per k-space sample.
    """
    if not snr > 0:
        raise MrsimInputError(f"noise SNR must be > 0, got {snr}")
    mag = np.abs(clean_image)
    obj = mag > threshold * mag.max()
    if not obj.any():
        raise MrsimInputError("clean image is empty; cannot set noise from an SNR")
    return float(mag[obj].mean() / snr)


def add_kspace_noise(kspace: np.ndarray, schedule, sigma: float, seed) -> np.ndarray:
    """``kspace`` plus complex Gaussian noise of std ``sigma`` per real/imaginary part on the
    acquired samples only (unacquired lines stay zero). The draw is
    ``default_rng(seed)``: real parts, then imaginary parts, over ``kspace.shape``."""
    import copy

    rng = np.random.default_rng(seed)
    acquired = schedule.to_grid(np.ones((schedule.n_lines, schedule.n_readout), bool))
    grid = acquired.shape
    lead = kspace.shape[: kspace.ndim - len(grid)]
    # One grid (e.g. coil) at a time, the same draw: the real parts of all the grids come
    # first, so a copy of the generator is advanced past them for the imaginary parts.
    # Drawing the whole array at once held up to three complex128 copies of a multi-coil
    # k-space besides the result (8 coils at 1 mm: ~4.4 GB; issue 17, memory).
    imag = copy.deepcopy(rng)
    for _ in range(int(np.prod(lead))):
        imag.standard_normal(grid)
    out = np.empty(kspace.shape, np.result_type(kspace.dtype, np.complex128))
    for i in np.ndindex(lead):
        noise = rng.standard_normal(grid) + 1j * imag.standard_normal(grid)
        out[i] = kspace[i] + sigma * noise * acquired
    # A caller's Generator ends where one whole-array draw (real, then imaginary) left it.
    rng.bit_generator.state = imag.bit_generator.state
    return out


def add_noise_for_snr(
    kspace: np.ndarray, clean_image: np.ndarray, schedule, snr: float | None, seed
) -> tuple[np.ndarray, float]:
    """``(kspace with noise, sigma)``: sigma from the SNR of ``clean_image``
    (:func:`noise_sigma_for_snr`), drawn by :func:`add_kspace_noise` with ``seed``;
    ``(kspace, 0.0)`` unchanged when ``snr`` is None."""
    if snr is None:
        return kspace, 0.0
    sigma = noise_sigma_for_snr(clean_image, snr)
    return add_kspace_noise(kspace, schedule, sigma, seed), sigma
