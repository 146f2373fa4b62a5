"""Motion-induced B0 change: a smooth off-resonance linear in the rotation angles and in
position, multiplied into each motion state's signal by :mod:`mrsim.qsm.motion`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mrsim.geometry import check_orientation, voxel_sizes

__all__ = ["B0ChangeModel", "b0_change_hz", "b0_change_phase"]


@dataclass(frozen=True)
class B0ChangeModel:
    """Motion-induced off-resonance linear in the rotation angles and in position.

    ``df(r) = sum_a theta_a (offset_hz_per_deg[a] + gradient_hz_per_mm_deg[a] . r)``
    with ``theta = (rx, ry, rz)`` in degrees (world frame, like the poses) and ``r`` in mm
    from the FOV centre, in world (RAS+) coordinates. Defaults give ~ +-10 Hz at the brain
    edge for 5 deg about x or y: an illustrative low-order model in the spirit of
    physics-aware T2* motion simulations (e.g. Eichhorn et al., SASHIMI 2023), not a fitted one.
    """

    offset_hz_per_deg: tuple[float, float, float] = (0.4, 0.2, 0.0)
    gradient_hz_per_mm_deg: tuple[tuple[float, float, float], ...] = (
        (0.0, 0.01, 0.0),  # rx -> gradient along y
        (0.01, 0.0, 0.0),  # ry -> gradient along x
        (0.0, 0.0, 0.0),
    )


def b0_change_hz(
    rot_deg: Sequence[float],
    shape: Sequence[int],
    voxel_size_mm: Sequence[float] | float = 1.0,
    model: B0ChangeModel | None = None,
    orientation: np.ndarray | None = None,
) -> np.ndarray:
    """Off-resonance map (Hz) of :class:`B0ChangeModel` for one pose's rotations.

    ``orientation`` (direction cosines of the array axes, :mod:`mrsim.geometry`) places the
    voxels in the world frame; None: array axes are world x, y, z.
    """
    model = model or B0ChangeModel()
    vox = voxel_sizes(voxel_size_mm, 3)
    th = np.asarray(rot_deg, float).reshape(3)
    g = [(np.arange(n) - n // 2) * v for n, v in zip(shape, vox, strict=True)]
    X, Y, Z = np.meshgrid(*g, indexing="ij", sparse=True)
    if orientation is not None:  # world coordinates of each voxel: r_w = D r_a
        D = check_orientation(orientation, 3)
        X, Y, Z = (D[i, 0] * X + D[i, 1] * Y + D[i, 2] * Z for i in range(3))
    df = np.zeros(tuple(shape))
    for a in range(3):
        gx, gy, gz = model.gradient_hz_per_mm_deg[a]
        df = df + th[a] * (model.offset_hz_per_deg[a] + gx * X + gy * Y + gz * Z)
    return df


def _rot_deg(R: np.ndarray) -> np.ndarray:
    from mrsim.motion.rigid import euler_from_matrix

    return np.asarray(euler_from_matrix(R), float)


def b0_change_phase(
    sig: np.ndarray, rotation: np.ndarray, te: np.ndarray, voxel_size_mm, settings
) -> np.ndarray:
    """Echo-first signal (E, X, Y, Z) times the phase of the pose's B0 change (if any)."""
    model = settings.b0_change
    if model is None:
        return sig
    D = settings.orientation_array
    df = b0_change_hz(_rot_deg(rotation), sig.shape[1:], voxel_size_mm, model, D)
    return sig * np.exp(2j * np.pi * te[:, None, None, None] * df[None])
