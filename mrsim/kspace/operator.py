"""The motion forward model as a linear operator with its adjoint: :class:`MotionOperator`.

For an image ``x`` on the reconstruction grid, line ``l`` of a Cartesian acquisition with
the head at pose ``(R_l, t_l)`` (world frame, about the FOV centre) and receive coil ``c``
(fixed in the scanner) is

    (A x)_{c,l}(kappa) = F{S_c . x_{T_l}}(kappa),   kappa on line l,          (docs/recon.md)

with the single-coil case ``S_c = 1``:

    (A x)_l(kappa) = e^{-i 2 pi kappa . t_l} X(R_l^T kappa)       (docs/physics.md, Eq. 2)

``forward`` is exactly :func:`mrsim.kspace.engine.moved_kspace` (the engine: one type-2
NUFFT for all lines of all poses, or FFT + phase ramps when nothing rotates; multi-coil
by the Fourier series of the maps, ``coil_method="fourier"``), returned as lines. ``adjoint``
is its exact transpose: the conjugate ramps and band masks, then one type-1 NUFFT of all
line samples of all poses (:func:`mrsim.kspace.nufft_adjoint.nufft_type1_lines`), so it too
costs the same whatever the number of motion states; translation-only poses take an exact
FFT path both ways. With coils the adjoint first correlates each line with the maps'
Fourier coefficients along the readout (the transpose of the forward's readout
convolution) and sums over coils, then spreads every shifted line at its own pose.

The operator acts on complex images of shape ``image_shape`` and returns lines of shape
``(L, n_readout)`` (one coil) or ``(C, L, n_readout)``. ``as_linear_operator()`` and
``as_sigpy()`` wrap it for scipy's and sigpy's solvers; :mod:`mrsim.recon` uses it for
known-motion reconstruction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft

from mrsim.errors import MrsimInputError
from mrsim.geometry import crop_or_pad, orientation_from_affine, voxel_sizes
from mrsim.kspace.coils import bandlimit_sensitivities, coil_terms_per_axis, default_coil_terms
from mrsim.kspace.engine import (
    Acquisition,
    LineGeometry,
    apply_translation_ramp,
    dtft_scale,
    is_identity,
    line_geometry,
    moved_kspace,
    pe_kappa,
    resolve_poses,
)
from mrsim.kspace.fft import ifft_centered
from mrsim.kspace.multicoil import Coils, readout_filters, shifted_line_blocks
from mrsim.kspace.nufft import default_nthreads, line_coordinates
from mrsim.kspace.nufft_adjoint import nufft_type1_lines
from mrsim.kspace.nufft_options import NufftOptions, nufft_options_from
from mrsim.kspace.poses import LinePoses, line_poses
from mrsim.kspace.schedule import Schedule

__all__ = ["MotionOperator"]

# finufft's upsampling factor in double precision, fixed so that the forward (type 2) and
# the adjoint (type 1) are guaranteed to use the same kernel and grid (finufft's automatic
# choice may depend on the transform type).
_UPSAMPFAC_DOUBLE = 2.0

_DEFAULT_OPTIONS = NufftOptions(eps=1e-6)


@dataclass
class _Lines:
    """A set of lines as the forward's NUFFT sees them, with the points kept for reuse."""

    geo: LineGeometry
    coords: list[np.ndarray] | None


class MotionOperator:
    """Linear operator ``A``: image -> k-space lines of a moving head (known poses).

    Parameters
    ----------
    schedule : Schedule
        Acquired lines (2D or 3D Cartesian); ``L = schedule.n_lines``.
    rotations : LinePoses, or ndarray of shape (L, 3, 3) or (3, 3)
        Per-line poses from :func:`~mrsim.kspace.poses.line_poses` (then no
        ``translations_mm``), or per-line rotation matrices in the world (RAS) frame.
    translations_mm : ndarray, shape (L, 3) or (3,), optional
        Per-line translations (mm, world frame), with rotation matrices only.
    voxel_size_mm : float or sequence, default 1.0
        Voxel size of the image grid along the array axes (ignored when ``affine`` is given).
    image_shape : sequence of int, optional
        Image grid; default ``schedule.shape`` (same FOV either way, docs/physics.md §4).
    orientation : ndarray (3, 3), optional
        Direction cosines of the array axes (columns), as for ``moved_kspace``.
    affine : ndarray (4, 4), optional
        NIfTI affine of the image grid: sets ``voxel_size_mm`` and ``orientation``.
    coil_sensitivities : ndarray, shape (C, *schedule.shape), optional
        Receive maps in the scanner frame. The operator uses their Fourier series with
        ``|p_a| <= K_a`` (``coil_method="fourier"`` of the engine), i.e. it models the
        band-limited maps :attr:`sensitivities` exactly.
    coil_terms : int or sequence of int, optional
        ``K``; default :func:`~mrsim.kspace.coils.default_coil_terms`.
    options : NufftOptions, optional
        Backend, tolerance, upsampling, threads, fast path (default eps 1e-6). ``eps < 1e-5``
        runs in double precision (complex128), otherwise in single precision (complex64), as
        the engine does. Without an explicit ``upsampling`` the double-precision operator
        uses 2.0 (finufft's automatic choice may differ between type 1 and type 2), single
        precision the engine's 1.5. With ``fast_path`` translation-only poses take FFT +
        ramps both ways (exact).
    **keywords
        The field names ``eps``, ``backend``, ``nthreads``/``threads``,
        ``upsampfac``/``upsampling``, ``fast_path`` are accepted instead of ``options``.

    Attributes
    ----------
    ishape, oshape : tuple of int
        Image shape and line-data shape (``(L, S)`` or ``(C, L, S)``).
    options : NufftOptions
        The options used (threads resolved).
    poses : LinePoses
        The per-line poses (world frame).
    sensitivities : ndarray or None
        The maps the operator models (band-limited to ``coil_terms``).

    Notes
    -----
    ``forward`` is :func:`~mrsim.kspace.engine.moved_kspace` (``lines =
    schedule.from_grid(moved_kspace(...))``). The adjoint is exact to rounding:
    ``<A x, y> = <x, A^H y>`` to ~1e-15 relative in double precision, ~1e-7-1e-6 in single
    precision (tests/test_kspace_operator.py).
    """

    def __init__(
        self,
        schedule: Schedule,
        rotations: LinePoses | np.ndarray,
        translations_mm: np.ndarray | None = None,
        voxel_size_mm: float | Sequence[float] = 1.0,
        *,
        image_shape: Sequence[int] | None = None,
        orientation: np.ndarray | None = None,
        affine: np.ndarray | None = None,
        coil_sensitivities: np.ndarray | None = None,
        coil_terms: int | Sequence[int] | None = None,
        options: NufftOptions | None = None,
        **keywords,
    ) -> None:
        if not isinstance(schedule, Schedule):
            raise MrsimInputError(
                f"schedule must be a mrsim.kspace.Schedule, got {type(schedule).__name__}"
            )
        opt = nufft_options_from(options, keywords, _DEFAULT_OPTIONS)
        if keywords:
            raise TypeError(f"MotionOperator() got unexpected keyword arguments {sorted(keywords)}")
        if opt.upsampling is None and not opt.single:
            opt = opt.updated(upsampling=_UPSAMPFAC_DOUBLE)
        if opt.threads is None:
            opt = opt.updated(threads=default_nthreads())
        nd = schedule.ndim
        if affine is not None:
            if orientation is not None:
                raise MrsimInputError("give either affine or orientation, not both")
            A = np.asarray(affine, dtype=float)
            if A.shape != (4, 4) or nd != 3:
                raise MrsimInputError(f"affine must be a 4x4 matrix for a 3D grid, got {A.shape}")
            try:
                orientation = orientation_from_affine(A)
            except ValueError as exc:
                raise MrsimInputError(f"affine: {exc}") from exc
            voxel_size_mm = np.linalg.norm(A[:3, :3], axis=0)
        try:
            vox = voxel_sizes(voxel_size_mm, nd)
        except ValueError as exc:
            raise MrsimInputError(f"voxel_size_mm: {exc}") from exc
        if np.any(vox <= 0) or not np.all(np.isfinite(vox)):
            raise MrsimInputError(f"voxel_size_mm must be positive, got {tuple(vox)}")
        shape = schedule.shape if image_shape is None else tuple(int(n) for n in image_shape)
        if len(shape) != nd or min(shape) < 1:
            raise MrsimInputError(f"image_shape must be {nd} positive ints, got {image_shape}")
        try:
            poses = resolve_poses(rotations, translations_mm, schedule.n_lines, nd)
            Ra, ta = poses.in_array_frame(orientation)
        except ValueError as exc:
            raise MrsimInputError(str(exc)) from exc
        self.schedule = schedule
        self.poses = poses
        self.rotations, self.translations_mm = poses.rotations, poses.translations_mm
        self.voxel_size_mm = vox
        self.orientation = orientation
        self.image_shape = shape
        self.fov_mm = np.asarray(shape) * vox
        self.options = opt
        self.dtype = np.dtype(np.complex64 if opt.single else np.complex128)
        self._acq = Acquisition(schedule, Ra, ta, vox, self.fov_mm, schedule.shape, opt)
        self._translation_only = opt.fast_path and is_identity(Ra)
        self.sensitivities = None
        self.coil_terms = None
        L, S = schedule.n_lines, schedule.n_readout
        if coil_sensitivities is None:
            self.oshape = (L, S)
            self._lines = None if self._translation_only else self._geometry(self._acq)
        else:
            sens = np.asarray(coil_sensitivities)
            if sens.ndim != nd + 1 or sens.shape[1:] != schedule.shape:
                raise MrsimInputError(
                    f"coil_sensitivities must have shape (C, *{schedule.shape}) (scanner frame, "
                    f"acquired grid), got {sens.shape}"
                )
            try:
                K = (
                    default_coil_terms(sens)
                    if coil_terms is None
                    else coil_terms_per_axis(coil_terms, sens.shape[1:])
                )
            except ValueError as exc:
                raise MrsimInputError(f"coil_terms: {exc}") from exc
            self._coils = Coils(sens, method="fourier", terms=K)
            self.coil_terms = K
            self.sensitivities = bandlimit_sensitivities(sens, K)
            self.oshape = (sens.shape[0], L, S)
            self._coil_setup(sens, K)
        self.ishape = tuple(shape)

    # NufftOptions fields under the names of the first version of this class
    backend = property(lambda self: self.options.backend)
    eps = property(lambda self: self.options.eps)
    nthreads = property(lambda self: self.options.threads)
    upsampfac = property(lambda self: self.options.upsampling)
    fast_path = property(lambda self: self.options.fast_path)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_trajectory(
        cls,
        trajectory,
        schedule: Schedule,
        voxel_size_mm: float | Sequence[float] = 1.0,
        *,
        mapping: str = "seconds",
        method: str = "linear",
        rereference_center: bool = True,
        granularity: str = "line",
        **kwargs,
    ) -> MotionOperator:
        """Poses from a :class:`~mrsim.motion.Trajectory` by
        :func:`~mrsim.kspace.poses.line_poses` (same options), then the operator."""
        poses = line_poses(
            trajectory,
            schedule,
            mapping=mapping,
            method=method,
            rereference_center=rereference_center,
            granularity=granularity,
        )
        return cls(schedule, poses, None, voxel_size_mm, **kwargs)

    # ------------------------------------------------------------------ geometry
    def _geometry(self, acq: Acquisition) -> _Lines:
        """The forward's NUFFT description of ``acq``'s lines (the engine's
        :func:`~mrsim.kspace.engine.line_geometry`), with finufft's points built once."""
        geo = line_geometry(acq)
        coords = None
        if self.options.backend == "finufft":
            n = acq.schedule.n_readout
            coords = line_coordinates(geo.origin, geo.step, n, self.options.single)
        return _Lines(geo, coords)

    def _coil_setup(self, sens: np.ndarray, K: tuple[int, ...]) -> None:
        """Blocks of shifted lines and readout filters of the engine's Fourier coil path
        (:func:`~mrsim.kspace.multicoil.readout_filters`,
        :func:`~mrsim.kspace.multicoil.shifted_line_blocks`), kept for every adjoint."""
        h, shifts, n_fft = readout_filters(self.schedule, sens, K)
        # (F, P_pe, C): the conjugate transpose per readout frequency, for the adjoint.
        self._h_adj = np.ascontiguousarray(
            np.conj(np.moveaxis(scipy.fft.fft(h, axis=-1), -1, 0)).transpose(0, 2, 1)
        ).astype(self.dtype)
        self._n_fft, self._n_pe = n_fft, len(shifts)
        acq = self._acq
        self._blocks = []
        for idx, valid, pairs, sub in shifted_line_blocks(self.schedule, shifts):
            geom = None
            if not self._translation_only:
                geom = self._geometry(acq.with_lines(sub, acq.R[pairs], acq.t[pairs]))
            self._blocks.append((idx, valid, pairs, sub, geom))

    # ------------------------------------------------------------------ operator
    @property
    def shape(self) -> tuple[int, int]:
        """``(M, N)``: sizes of the flattened output and input."""
        return int(np.prod(self.oshape)), int(np.prod(self.ishape))

    def _check_image(self, image: np.ndarray) -> np.ndarray:
        image = np.asarray(image)
        if image.shape != self.ishape:
            raise MrsimInputError(f"image must have shape {self.ishape}, got {image.shape}")
        return image

    def forward(self, image: np.ndarray) -> np.ndarray:
        """``A x``: the moved k-space lines, shape :attr:`oshape`.

        Exactly :func:`~mrsim.kspace.engine.moved_kspace` (``coil_method="fourier"`` with
        coils) gathered into lines by ``schedule.from_grid``.
        """
        image = self._check_image(image)
        k = moved_kspace(
            image,
            self.schedule,
            self.poses,
            None,
            self.voxel_size_mm,
            orientation=self.orientation,
            options=self.options,
            coils=None if self.sensitivities is None else self._coils,
        )
        return self.schedule.from_grid(k)

    def adjoint(self, lines: np.ndarray) -> np.ndarray:
        """``A^H y``: line data (shape :attr:`oshape`) back to the image grid."""
        lines = np.asarray(lines)
        if lines.shape != self.oshape:
            raise MrsimInputError(f"lines must have shape {self.oshape}, got {lines.shape}")
        if self.sensitivities is not None:
            return self._adjoint_coils(lines)
        if self._translation_only:
            grid = self._scatter(self._unramp(lines, self.schedule, self._acq.t), self.schedule)
            return self._grid_adjoint(grid)
        return self._spread(lines, self.schedule, self._lines)

    def normal(self, image: np.ndarray) -> np.ndarray:
        """``A^H A x``."""
        return self.adjoint(self.forward(image))

    __call__ = forward

    # ------------------------------------------------------------------ adjoint parts
    def _unramp(self, lines: np.ndarray, sched: Schedule, t: np.ndarray) -> np.ndarray:
        """Lines times the conjugate translation ramp (a copy)."""
        w = np.array(lines, dtype=np.result_type(lines.dtype, np.complex64), copy=True)
        if np.any(t):
            # the forward's ramp at -t: exactly its conjugate (negation is exact)
            kpe = pe_kappa(sched, self.fov_mm)
            apply_translation_ramp(w, sched, kpe, -t, self.fov_mm, threads=self.nthreads)
        return w

    def _scatter(self, lines: np.ndarray, sched: Schedule) -> np.ndarray:
        """Transpose of ``sched.from_grid``: lines added into a grid (repeats summed)."""
        pe_shape = tuple(sched.shape[a] for a in sched.pe_axes)
        tmp = np.zeros(pe_shape + (sched.n_readout,), dtype=lines.dtype)
        np.add.at(tmp, sched.grid_index(), lines)
        return np.moveaxis(tmp, -1, sched.readout_axis)

    def _grid_adjoint(self, grid: np.ndarray) -> np.ndarray:
        """Transpose of the fast path's FFT, crop/pad and scale (schedule grid -> image)."""
        sched = self.schedule
        grid = grid * np.sqrt(np.prod(sched.shape) / np.prod(self.image_shape))
        grid = crop_or_pad(grid, self.image_shape)
        return ifft_centered(grid, workers=self.nthreads)

    def _spread(self, lines: np.ndarray, sched: Schedule, geom: _Lines) -> np.ndarray:
        """Type-1 NUFFT of all line samples at their rotated positions (one call)."""
        ro = sched.readout_axis
        perm = (*sched.pe_axes, ro)
        img = nufft_type1_lines(
            lines,
            geom.geo.origin,
            geom.geo.step,
            tuple(self.image_shape[a] for a in perm),
            self.options,
            band=geom.geo.band,
            phase=geom.geo.phase,
            scale=dtft_scale(self.image_shape, sched.shape),
            coords=geom.coords,
        )
        return np.moveaxis(img, -1, ro)

    def _adjoint_coils(self, lines: np.ndarray) -> np.ndarray:
        """Transpose of the engine's Fourier coil path (docs/physics.md §5.2)."""
        sched = self.schedule
        n_ro, n_fft, n_pe = sched.n_readout, self._n_fft, self._n_pe
        out = np.zeros(self.image_shape, dtype=self.dtype)
        grid = None
        for idx, valid, pairs, sub, geom in self._blocks:
            nb = len(idx)
            # Transpose of "zero-pad, FFT, multiply by H, inverse FFT, truncate" along the
            # readout and of the coil sum: pad, FFT, multiply by conj(H)^T, inverse FFT.
            y_f = scipy.fft.fft(
                lines[:, idx, :].astype(self.dtype), n=n_fft, axis=-1, workers=self.nthreads
            )
            y_f = np.ascontiguousarray(y_f.transpose(2, 0, 1))  # (F, C, nb)
            u_f = np.matmul(self._h_adj, y_f)  # (F, P_pe, nb)
            u = scipy.fft.ifft(u_f.transpose(1, 2, 0), axis=-1, workers=self.nthreads)
            vals = u[..., :n_ro].reshape(n_pe * nb, n_ro)[valid]
            del y_f, u_f, u
            if self._translation_only:
                g = self._scatter(self._unramp(vals, sub, self._acq.t[pairs]), sub)
                grid = g if grid is None else grid + g
            else:
                out += self._spread(np.ascontiguousarray(vals), sub, geom)
        if grid is not None:
            out = out + self._grid_adjoint(grid).astype(self.dtype)
        return out

    # ------------------------------------------------------------------ wrappers
    def as_linear_operator(self):
        """A ``scipy.sparse.linalg.LinearOperator`` on flattened complex vectors.

        ``matvec`` is :meth:`forward` of ``x.reshape(ishape)`` flattened (C order),
        ``rmatvec`` :meth:`adjoint`; use it with ``scipy.sparse.linalg.lsqr`` / ``cg``.
        """
        from scipy.sparse.linalg import LinearOperator

        def matvec(x):
            return self.forward(np.asarray(x).reshape(self.ishape)).reshape(-1)

        def rmatvec(y):
            return self.adjoint(np.asarray(y).reshape(self.oshape)).reshape(-1)

        return LinearOperator(self.shape, matvec=matvec, rmatvec=rmatvec, dtype=self.dtype)

    def as_sigpy(self):
        """A ``sigpy.linop.Linop`` (ishape -> oshape) whose ``.H`` is the adjoint."""
        import sigpy.linop

        op = self

        class _Adjoint(sigpy.linop.Linop):
            def __init__(self):
                super().__init__(op.ishape, op.oshape, repr_str="MotionOperator.H")

            def _apply(self, input):
                return op.adjoint(np.asarray(input))

            def _adjoint_linop(self):
                return _Forward()

        class _Forward(sigpy.linop.Linop):
            def __init__(self):
                super().__init__(op.oshape, op.ishape, repr_str="MotionOperator")

            def _apply(self, input):
                return op.forward(np.asarray(input))

            def _adjoint_linop(self):
                return _Adjoint()

        return _Forward()
