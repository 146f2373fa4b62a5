"""Field of a moved susceptibility map by the rotation identity of the dipole kernel.

``d_{b0}(R x) = d_{R^T b0}(x)``: the field of chi moved by ``(R, t)`` in a B0 fixed in
the scanner equals the field of the unmoved chi in the head-frame B0 ``R^T b0``, read at
``R^T (r - c - t) + c``. :func:`mrsim.qsm.motion.mix_exact` (seed 002 Eq. 4) uses it so
that every motion state costs one type-2 NUFFT at the FOV voxels from one shared chi
spectrum, instead of moving the zero-padded chi and convolving it again.
"""

from __future__ import annotations

import numpy as np

from mrsim.kspace.fft import fft_centered
from mrsim.kspace.poses import LinePoses
from mrsim.qsm.dipole import _pad_centered, dipole_field, padded_shape

__all__ = ["HeadFrameField"]


class HeadFrameField:
    """Field of the moved chi, ``b_T(r) = (d_{R^T b0} * chi)(R^T (r - c - t) + c)``.

    ``d_{b0}(R x) = d_{R^T b0}(x)``: the field of the chi moved by ``(R, t)`` in the fixed
    B0 equals the field of the unmoved chi in the head-frame B0 ``R^T b0``, moved. It is
    evaluated as the trigonometric polynomial of the padded grid at the moved FOV voxels.
    """

    def __init__(self, chi: np.ndarray, vox, st) -> None:
        from mrsim.geometry import voxel_sizes

        self.shape = chi.shape
        self.big = padded_shape(chi.shape, st.pad_factor)
        self.chi_big, self.sl = _pad_centered(chi, self.big)
        self.spectrum = fft_centered(self.chi_big)  # orthonormal, shared by all states
        self.vox = voxel_sizes(vox, 3)
        self.st = st
        self.b0 = st.b0_dir_array()
        # physical positions (mm, array axes, from the FOV centre) of the FOV voxels
        g = [(np.arange(n) - n // 2) * v for n, v in zip(chi.shape, self.vox, strict=True)]
        self.pos = np.stack(np.meshgrid(*g, indexing="ij"), -1).reshape(-1, 3)
        self._still = None

    def still(self) -> np.ndarray:
        if self._still is None:
            self._still = dipole_field(self.chi_big, self.vox, self.b0, pad_factor=1.0)[self.sl]
        return self._still

    def moved(self, rotation: np.ndarray, translation_mm: np.ndarray) -> np.ndarray:
        from mrsim.kspace.nufft import nufft_type2
        from mrsim.qsm.dipole import dipole_kernel

        R1, t1 = LinePoses.from_arrays(
            np.asarray(rotation, float)[None], np.asarray(translation_mm, float)[None], 1, 3
        ).in_array_frame(self.st.orientation_array)
        R, t = R1[0], t1[0]
        spec = self.spectrum * dipole_kernel(self.big, self.vox, R.T @ self.b0)
        q = (self.pos - t) @ R  # rows: R^T (r - t), head-frame positions (mm)
        # sum_k F_k exp(+2 pi i k.u / n) == nufft_type2 (exp(-i k.x)) at x = -2 pi u / n
        pts = [-2 * np.pi * q[:, a] / (self.vox[a] * self.big[a]) for a in range(3)]
        o = self.st.nufft
        val = nufft_type2(
            spec, pts, backend=o.backend, eps=o.eps, nthreads=o.threads, upsampfac=o.upsampling
        )
        return (val.real / np.sqrt(float(np.prod(self.big)))).reshape(self.shape)
