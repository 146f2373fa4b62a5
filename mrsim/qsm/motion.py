"""Motion-corrupted multi-echo GRE by segmented k-space mixing (seed 002 Eqs. 4-5).

Each k-space line is acquired with the head in some pose ``A_i``; lines sharing
a pose form motion state ``i`` with sampling mask ``M_i``. The corrupted echo is

    S_m(TE) = IFFT{ sum_i M_i . FFT[ S_i(TE) ] }

with two models of the per-state signal ``S_i``:

- ``mixing="approx"`` (seed 002 Eq. 5): the whole complex signal moves with the
  head, ``S_i(r) = S(A_i r)``: magnitude, R2* decay *and* field move together, as
  if the field were attached to the tissue. Here every line is evaluated as the
  spectrum of the reference-pose complex signal at rotated k with a
  translation ramp (:func:`mrsim.kspace.engine.moved_kspace`): all lines of all
  poses and all echoes in ONE type-2 NUFFT. This is exact band-limited motion of
  the complex image (no interpolation of wrapped phase), so it also applies to
  real MGRE data (:func:`mrsim.qsm.gre.load_mgre`).
- ``mixing="exact"`` (seed 002 Eq. 4): chi, M0 and R2* move with the head
  (:func:`mrsim.kspace.engine.rigid_move`, band-limited), the field is
  recomputed for every state in the scanner frame (B0 fixed), ``b_i = d * chi(A_i
  r)``, and the signal is built, Fourier transformed and masked per state. The
  cost grows with the number of states, so poses are grouped into states
  (:class:`mrsim.kspace.poses.LinePoses` states; use nearest-neighbour pose
  sampling for step-like profiles).

(``mixing="approx-maps"``, :func:`mix_moved_maps`: Eq. 5 on M0, R2* and the total
field, per state.) Dipole convolution commutes with translations and with rotations
about the B0 axis, so the models agree for those motions and differ for rotations about
axes perpendicular to B0 (``tests/test_qsm_motion.py``, ``docs/qsm.md``).

World frame: poses and ``b0_dir`` are in the world (RAS+) frame and the array axes are
mapped to it by ``orientation`` (:func:`mrsim.geometry.orientation_from_affine`; set from
the phantom's or the MGRE NIfTI's affine), exactly as in ``mrsim corrupt``
(``tests/test_qsm_world_frame.py``). Options: :class:`QSMMotionSettings`.

Optionally a motion-induced B0 change (:func:`b0_change_hz`, a smooth field
linear in space and in the rotation angles, a few Hz for a few degrees) is
multiplied into each state's signal as ``exp(i 2 pi df_i(r) TE)``; that needs
the per-state path in both modes.

References
----------
Seed 002, Eqs. 4 and 5 and Sec. 3.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.geometry import (
    check_orientation,
    orientation_from_affine,
    world_to_array,
)
from mrsim.kspace.engine import moved_kspace, resolve_poses, rigid_move
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.nufft_options import NUFFT_KEYWORDS, NufftOptions
from mrsim.kspace.poses import LinePoses
from mrsim.kspace.poses import line_poses as _kspace_line_poses
from mrsim.kspace.schedule import Schedule, gre3d_schedule
from mrsim.qsm.b0_change import B0ChangeModel, b0_change_hz, b0_change_phase
from mrsim.qsm.dipole import dipole_field
from mrsim.qsm.gre import add_noise, gre_signal
from mrsim.qsm.moved_field import HeadFrameField

__all__ = [
    "B0ChangeModel",
    "QSMMotionSettings",
    "b0_change_hz",
    "mix_approx",
    "mix_exact",
    "mix_moved_maps",
    "QSMMotionResult",
    "simulate_qsm_motion",
    "corrupt_mgre",
    "line_poses",
]

MIXINGS = ("approx", "approx-maps", "exact")


def _echo_first(signal: np.ndarray) -> np.ndarray:
    s = np.asarray(signal)
    if s.ndim != 4:
        raise MrsimInputError(f"signal must be (X, Y, Z, echoes), got shape {s.shape}")
    return np.ascontiguousarray(np.moveaxis(s, -1, 0))


def _per_state_mix(
    state_images, schedule: Schedule, state_of_line: np.ndarray, n_states: int, progress: bool
) -> np.ndarray:
    """sum_i M_i . FFT(S_i); ``state_images(i)`` returns (E, X, Y, Z)."""
    masks = schedule.line_masks(state_of_line)
    out = None
    it = range(n_states)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="motion states", unit="state")
    for i in it:
        k = fft_centered(state_images(i), axes=(1, 2, 3))
        if out is None:
            out = np.zeros_like(k)
        # each line belongs to one state: the masks are disjoint, so a masked copy is the sum
        np.copyto(out, k, where=masks[i])
    return out


@dataclass(frozen=True)
class QSMMotionSettings:
    """Everything the QSM motion simulation needs besides the maps, echoes and poses.

    Attributes
    ----------
    mixing : {"approx", "approx-maps", "exact"}
        Seed 002 Eq. 5 on the complex signal (one NUFFT), Eq. 5 on the parameter maps
        (M0, R2*, total field moved per state), or Eq. 4 (chi moved, field recomputed).
    tr_s : float
        Time per k-space line of the default schedule (s).
    b0_t : float
        Field strength (T).
    b0_dir : 3 floats
        Main-field direction in the WORLD frame (RAS+; default world z, the scanner bore).
        It stays fixed in the scanner while the head moves; converted to array axes with
        ``orientation``.
    orientation : 3x3 tuple, optional
        Direction cosines of the array axes (columns, world frame) from the NIfTI affine;
        None: array axes are world x, y, z. Poses are applied in the world frame.
    pad_factor : float
        Zero-padding of the dipole convolution (:func:`mrsim.qsm.dipole.dipole_field`).
    snr : float, optional
        Peak SNR of the first echo; None: no noise.
    noise_seed : int, optional
    pose_method : {"nearest", "linear"}
        Trajectory sampling per line (nearest keeps step profiles to a few states).
    mapping : {"seconds", "stretch"}
    rereference_center : bool
    b0_change : B0ChangeModel, optional
        Motion-induced off-resonance per state.
    nufft : NufftOptions
        Default eps 1e-6 (double precision).
    """

    mixing: str = "approx"
    tr_s: float = 0.03
    b0_t: float = 3.0
    b0_dir: tuple[float, float, float] = (0.0, 0.0, 1.0)
    orientation: tuple | None = None
    pad_factor: float = 2.0
    snr: float | None = None
    noise_seed: int | None = 0
    pose_method: str = "nearest"
    mapping: str = "seconds"
    rereference_center: bool = True
    b0_change: B0ChangeModel | None = None
    nufft: NufftOptions = field(default_factory=NufftOptions)

    def __post_init__(self) -> None:
        if self.mixing not in MIXINGS:
            raise MrsimInputError(
                f"mixing must be 'approx', 'approx-maps' or 'exact', got {self.mixing!r}"
            )
        b = np.asarray(self.b0_dir, dtype=float).reshape(-1)
        if b.shape != (3,) or not np.all(np.isfinite(b)) or not np.linalg.norm(b) > 0:
            raise MrsimInputError(f"b0_dir must be a non-zero 3-vector, got {self.b0_dir!r}")
        object.__setattr__(self, "b0_dir", tuple(float(v) for v in b))
        if self.orientation is not None:
            D = check_orientation(self.orientation, 3)
            object.__setattr__(self, "orientation", tuple(tuple(map(float, r)) for r in D))
        if not self.tr_s > 0 or not self.b0_t > 0:
            raise MrsimInputError(f"tr_s and b0_t must be > 0, got {self.tr_s}, {self.b0_t}")
        if self.snr is not None and not self.snr > 0:
            raise MrsimInputError(f"snr must be > 0 (or None), got {self.snr}")
        if not isinstance(self.nufft, NufftOptions):
            raise MrsimInputError(f"nufft must be a NufftOptions, got {type(self.nufft).__name__}")

    def updated(self, **changes: Any) -> QSMMotionSettings:
        """A copy with fields changed (NUFFT keywords such as ``eps`` go to :attr:`nufft`)."""
        nufft_kw = {k: changes.pop(k) for k in list(changes) if k in NUFFT_KEYWORDS}
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise TypeError(f"unknown QSM motion settings {unknown}; expected {sorted(names)}")
        if nufft_kw:
            changes["nufft"] = changes.get("nufft", self.nufft).updated(**nufft_kw)
        return replace(self, **changes) if changes else self

    def with_affine(self, affine: np.ndarray | None) -> QSMMotionSettings:
        """The same settings for an image with this affine (its orientation)."""
        if affine is None:
            return self
        return replace(self, orientation=orientation_from_affine(affine))

    @property
    def orientation_array(self) -> np.ndarray | None:
        return None if self.orientation is None else np.asarray(self.orientation)

    def b0_dir_array(self) -> np.ndarray:
        """The B0 direction in array-axis components (``D^T b0``)."""
        return world_to_array(self.b0_dir, self.orientation_array)

    def to_dict(self) -> dict[str, Any]:
        """Provenance (JSON-able), orientation and the array-frame B0 direction included."""
        D = np.eye(3) if self.orientation is None else np.asarray(self.orientation)
        return {
            "mixing": self.mixing,
            "tr_s": self.tr_s,
            "b0_t": self.b0_t,
            "b0_dir": list(self.b0_dir),
            "b0_dir_frame": "world (RAS+)",
            "b0_dir_array": [float(v) for v in self.b0_dir_array()],
            "orientation": D.tolist(),
            "pad_factor": self.pad_factor,
            "snr": self.snr,
            "noise_seed": self.noise_seed,
            "pose_method": self.pose_method,
            "mapping": self.mapping,
            "rereference_center": self.rereference_center,
            "b0_change": self.b0_change is not None,
            "eps": self.nufft.eps,
            "nufft": self.nufft.to_dict(),
        }


def _settings(settings: QSMMotionSettings | None, keywords: dict[str, Any]) -> QSMMotionSettings:
    base = QSMMotionSettings() if settings is None else settings
    if not isinstance(base, QSMMotionSettings):
        raise MrsimInputError(f"settings must be a QSMMotionSettings, got {type(base).__name__}")
    kw = dict(keywords)
    keywords.clear()
    return base.updated(**kw)


def mix_approx(
    signal: np.ndarray,
    schedule: Schedule,
    rotations: np.ndarray | LinePoses,
    translations_mm: np.ndarray | None = None,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    *,
    te_s: Sequence[float] | None = None,
    settings: QSMMotionSettings | None = None,
    **keywords: Any,
) -> np.ndarray:
    """Approximate mixing (seed 002 Eq. 5): move the complex MGRE signal with the head.

    Parameters
    ----------
    signal : complex (X, Y, Z, E)
        Motion-free multi-echo signal in the reference pose (simulated or real).
    schedule : Schedule
        3D acquisition schedule with ``schedule.shape == (X, Y, Z)``.
    rotations : (L, 3, 3) or LinePoses; translations_mm : (L, 3)
        Per-line poses in the world frame (:func:`mrsim.kspace.poses.line_poses`).
    voxel_size_mm : float or (3,) floats
    te_s : (E,) floats
        Echo times, only needed with ``settings.b0_change``.
    settings : QSMMotionSettings, optional
        ``b0_change`` (per-state path), ``orientation``, ``nufft``.
    **keywords
        Fields of ``settings`` as keywords (``b0_change``, ``eps``, ``nthreads``,
        ``orientation``, ``progress``...).

    Returns
    -------
    complex ndarray (X, Y, Z, E)
        Motion-corrupted signal.
    """
    progress = bool(keywords.pop("progress", False))
    st = _settings(settings, keywords)
    s = _echo_first(signal)
    if tuple(schedule.shape) != s.shape[1:]:
        raise MrsimInputError(f"schedule.shape {schedule.shape} != signal shape {s.shape[1:]}")
    poses = resolve_poses(rotations, translations_mm, schedule.n_lines, 3)
    D = st.orientation_array
    if st.b0_change is None:
        k = moved_kspace(s, schedule, poses, None, voxel_size_mm, orientation=D, options=st.nufft)
    else:
        if te_s is None or len(te_s) != s.shape[0]:
            raise MrsimInputError("b0_change needs te_s with one echo time per echo")
        te = np.asarray(te_s, float)
        R, t = poses.rotations, poses.translations_mm

        def state(i: int) -> np.ndarray:
            j = poses.first[i]
            moved = rigid_move(s, R[j], t[j], voxel_size_mm, orientation=D, options=st.nufft)
            return b0_change_phase(moved, R[j], te, voxel_size_mm, st)

        k = _per_state_mix(state, schedule, poses.state, poses.n_states, progress)
    return np.moveaxis(ifft_centered(k, axes=(1, 2, 3)), 0, -1)


def mix_exact(
    chi_ppm: np.ndarray,
    m0: np.ndarray,
    r2s_hz: np.ndarray,
    te_s: Sequence[float],
    schedule: Schedule,
    rotations: np.ndarray | LinePoses,
    translations_mm: np.ndarray | None = None,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    *,
    settings: QSMMotionSettings | None = None,
    **keywords: Any,
) -> np.ndarray:
    """Exact mixing (seed 002 Eq. 4): move chi, recompute the field per state.

    The field of the moved chi is evaluated as the head-frame field of the unmoved chi
    (B0 rotated into the head frame, ``d_{b0}(R x) = d_{R^T b0}(x)``) at the moved FOV
    voxels: one NUFFT at the ``X * Y * Z`` FOV voxels per state, not a move of the padded chi.

    Parameters
    ----------
    chi_ppm, m0, r2s_hz : (X, Y, Z) arrays
        Susceptibility (including background sources), magnitude and R2* in the
        reference pose.
    te_s : (E,) floats
    schedule, rotations, translations_mm, voxel_size_mm :
        As :func:`mix_approx`; poses are grouped into states of identical pose.
    settings : QSMMotionSettings, optional
        ``b0_t``, ``b0_dir`` (world frame, fixed in the scanner while the head moves),
        ``orientation``, ``pad_factor``, ``b0_change``, ``nufft``. chi moves on the padded
        grid, so sources at the FOV edge (skull, sinuses) leave the FOV instead of wrapping
        around.
    **keywords
        Fields of ``settings`` as keywords, and ``progress``. ``field_ppm=`` (earlier
        versions) hands over to :func:`mix_moved_maps` with that field.

    Returns
    -------
    complex ndarray (X, Y, Z, E)

    Notes
    -----
    M0 and R2* move on the FOV grid by band-limited (periodic) interpolation, so they must
    vanish at the FOV edge (docs/qsm.md, "Assumptions").
    """
    field_ppm = keywords.pop("field_ppm", None)
    if field_ppm is not None:
        return mix_moved_maps(
            field_ppm,
            m0,
            r2s_hz,
            te_s,
            schedule,
            rotations,
            translations_mm,
            voxel_size_mm,
            settings=settings,
            **keywords,
        )
    progress = bool(keywords.pop("progress", False))
    st = _settings(settings, keywords)
    chi = np.asarray(chi_ppm, float)
    mix = _StateMix(chi.shape, te_s, schedule, rotations, translations_mm, voxel_size_mm, st)
    # chi (with its background sources, which may reach the FOV edge) lives on the
    # zero-padded grid of the dipole convolution, so motion cannot wrap sources around the
    # FOV, and the identity pose gives exactly dipole_field(chi). The field of the moved chi
    # is the head-frame field of the unmoved chi, computed with B0 rotated into the head
    # frame (R^T b0), read at the moved FOV voxels (rotation identity of the dipole kernel,
    # docs/benchmarks.md, issue 17): one chi spectrum shared by all states and per state
    # one type-2 NUFFT at the N^3 FOV voxels, instead of moving the (2N)^3 padded chi and
    # convolving it.
    # M0 and R2* vanish outside the head and move on the FOV grid.
    field = HeadFrameField(chi, voxel_size_mm, st)
    rel = np.stack([np.asarray(m0, float), np.asarray(r2s_hz, float)])

    def state(j: int) -> np.ndarray:
        if mix.still(j):
            return mix.signal(rel[0], rel[1], field.still(), j)
        m, r = mix.move(rel, j)
        return mix.signal(m, r, field.moved(mix.R[j], mix.t[j]), j)

    return mix.run(state, progress)


def mix_moved_maps(
    field_ppm: np.ndarray,
    m0: np.ndarray,
    r2s_hz: np.ndarray,
    te_s: Sequence[float],
    schedule: Schedule,
    rotations: np.ndarray | LinePoses,
    translations_mm: np.ndarray | None = None,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    *,
    settings: QSMMotionSettings | None = None,
    **keywords: Any,
) -> np.ndarray:
    """Seed 002 Eq. 5 on the parameter maps (``mixing="approx-maps"``): the total field moves
    with the head like M0 and R2*, per state.

    The signal is composed pointwise per state exactly as in :func:`mix_exact`, so the
    difference between the two isolates the physics (field moved vs recomputed) from
    discretisation. Arguments as :func:`mix_exact`, with the total field (ppm, scanner frame)
    instead of chi; the same edge assumption applies to the field map.
    """
    progress = bool(keywords.pop("progress", False))
    st = _settings(settings, keywords)
    field = np.asarray(field_ppm, float)
    mix = _StateMix(field.shape, te_s, schedule, rotations, translations_mm, voxel_size_mm, st)
    maps = np.stack([field, np.asarray(m0, float), np.asarray(r2s_hz, float)])

    def state(j: int) -> np.ndarray:
        b, m, r = maps if mix.still(j) else mix.move(maps, j)
        return mix.signal(m, r, b, j)

    return mix.run(state, progress)


class _StateMix:
    """What the per-state mixing models share: poses, moves, the GRE signal and the
    k-space mixing ``sum_i M_i FFT(S_i)``."""

    def __init__(self, shape, te_s, schedule, rotations, translations_mm, vox, st) -> None:
        if tuple(schedule.shape) != tuple(shape):
            raise MrsimInputError(f"schedule.shape {schedule.shape} != map shape {shape}")
        self.te = np.asarray(te_s, float)
        self.schedule, self.vox, self.st = schedule, vox, st
        self.poses = resolve_poses(rotations, translations_mm, schedule.n_lines, 3)
        self.R, self.t = self.poses.rotations, self.poses.translations_mm

    def move(self, x: np.ndarray, j: int) -> np.ndarray:
        D = self.st.orientation_array
        return rigid_move(x, self.R[j], self.t[j], self.vox, orientation=D, options=self.st.nufft)

    def still(self, j: int) -> bool:
        return bool(np.allclose(self.R[j], np.eye(3), atol=1e-12) and not np.any(self.t[j]))

    def signal(self, m: np.ndarray, r: np.ndarray, b: np.ndarray, j: int) -> np.ndarray:
        sig = np.moveaxis(gre_signal(m, r, b, self.te, b0_t=self.st.b0_t), -1, 0)
        return b0_change_phase(sig, self.R[j], self.te, self.vox, self.st)

    def run(self, state, progress: bool) -> np.ndarray:
        p = self.poses
        k = _per_state_mix(
            lambda i: state(p.first[i]), self.schedule, p.state, p.n_states, progress
        )
        return np.moveaxis(ifft_centered(k, axes=(1, 2, 3)), 0, -1)


@dataclass
class QSMMotionResult:
    """Output of :func:`simulate_qsm_motion` (signals are (X, Y, Z, E) complex)."""

    clean: np.ndarray
    corrupted: np.ndarray
    te_s: np.ndarray
    params: np.ndarray  # (L, 6) per-line pose
    n_states: int
    schedule: Schedule
    info: dict = field(default_factory=dict)


def _poses(trajectory, schedule: Schedule, st: QSMMotionSettings) -> LinePoses:
    return _kspace_line_poses(
        trajectory,
        schedule,
        mapping=st.mapping,
        method=st.pose_method,
        rereference_center=st.rereference_center,
    )


def simulate_qsm_motion(
    phantom,
    trajectory=None,
    *,
    te_s: Sequence[float] | None = None,
    schedule: Schedule | None = None,
    settings: QSMMotionSettings | None = None,
    progress: bool = False,
    **keywords: Any,
) -> QSMMotionResult:
    """Motion-free and motion-corrupted MGRE of a chi phantom, in the phantom's world frame.

    Parameters
    ----------
    phantom : mrsim.qsm.phantom.QSMPhantom
        Its ``affine`` sets the orientation: B0 along ``settings.b0_dir`` in the world
        frame (default world z) and poses applied in the world frame about the FOV centre,
        whatever the array orientation (RAS, LAS, sagittal, oblique).
    trajectory : mrsim.motion.Trajectory, optional
        Head motion in scan time (s); None = no motion (corrupted == clean).
    te_s : echo times (default :func:`mrsim.qsm.gre.echo_times`, seed 002).
    schedule : Schedule, optional
        Default :func:`mrsim.kspace.schedule.gre3d_schedule` (linear, one line per
        ``settings.tr_s``).
    settings : QSMMotionSettings, optional
        Mixing model, field, noise (the same noise realisation is added to the clean and the
        corrupted signal, so their difference is motion only), pose sampling, NUFFT.
    progress : bool
    **keywords
        Fields of :class:`QSMMotionSettings` as keywords (``mixing``, ``snr``, ``eps``...).

    Returns
    -------
    QSMMotionResult
        ``info`` is :meth:`QSMMotionSettings.to_dict` (with the orientation).
    """
    from mrsim.qsm.gre import echo_times

    st = _settings(settings, keywords).with_affine(getattr(phantom, "affine", None))
    te = echo_times() if te_s is None else np.asarray(te_s, float)
    p = phantom
    vox = np.asarray(p.voxel_size_mm, float)
    sched = gre3d_schedule(p.chi_ppm.shape, tr_s=st.tr_s) if schedule is None else schedule
    field_ppm = dipole_field(p.chi_ppm, vox, st.b0_dir_array(), pad_factor=st.pad_factor)
    clean = gre_signal(p.m0, p.r2s_hz, field_ppm, te, b0_t=st.b0_t)
    poses = _poses(trajectory, sched, st)
    if trajectory is None:
        corrupted = clean.copy()
    elif st.mixing == "approx":
        corrupted = mix_approx(clean, sched, poses, None, vox, te_s=te, settings=st)
    else:
        # "approx-maps" moves the scanner-frame field map with the head (Eq. 5 on the maps);
        # "exact" recomputes the field from the moved chi for every state (Eq. 4).
        mix = mix_moved_maps if st.mixing == "approx-maps" else mix_exact
        source = field_ppm if st.mixing == "approx-maps" else p.chi_ppm
        corrupted = mix(
            source, p.m0, p.r2s_hz, te, sched, poses, None, vox, settings=st, progress=progress
        )
    if st.snr is not None:
        ref = float(np.abs(clean[..., 0]).max())
        clean = add_noise(clean, st.snr, reference=ref, seed=st.noise_seed)
        corrupted = add_noise(corrupted, st.snr, reference=ref, seed=st.noise_seed)
    return QSMMotionResult(clean, corrupted, te, poses.params, poses.n_states, sched, st.to_dict())


def corrupt_mgre(
    signal: np.ndarray,
    voxel_size_mm: Sequence[float] | float,
    trajectory,
    *,
    te_s: Sequence[float] | None = None,
    schedule: Schedule | None = None,
    affine: np.ndarray | None = None,
    settings: QSMMotionSettings | None = None,
    **keywords: Any,
) -> QSMMotionResult:
    """Approximate-mixing motion corruption of real (or any) complex MGRE data.

    Only seed 002's Eq. 5 applies: without a chi map the field cannot be recomputed per
    pose. ``affine`` (the MGRE NIfTI's) puts the poses in the world frame; other arguments
    as :func:`simulate_qsm_motion`.
    """
    s = np.asarray(signal)
    if s.ndim != 4 or not np.iscomplexobj(s):
        raise MrsimInputError(f"signal must be complex (X, Y, Z, echoes), got {s.dtype} {s.shape}")
    st = _settings(settings, keywords).with_affine(affine)
    if st.mixing != "approx":
        raise MrsimInputError("MGRE input supports only mixing='approx' (no chi map to move)")
    sched = gre3d_schedule(s.shape[:3], tr_s=st.tr_s) if schedule is None else schedule
    poses = _poses(trajectory, sched, st)
    te = None if te_s is None else np.asarray(te_s, float)
    out = mix_approx(s, sched, poses, None, voxel_size_mm, te_s=te, settings=st)
    info = {**st.to_dict(), "input": "MGRE"}
    return QSMMotionResult(s, out, te, poses.params, poses.n_states, sched, info)


def line_poses(
    trajectory,
    schedule: Schedule,
    pose_method: str = "nearest",
    mapping: str = "seconds",
    rereference_center: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-line ``(rotations, translations_mm, params)``; identity if ``trajectory`` is None.

    Kept for callers of earlier versions: the tuple form of
    :func:`mrsim.kspace.poses.line_poses` (which returns a :class:`LinePoses`).
    """
    p = _kspace_line_poses(
        trajectory,
        schedule,
        mapping=mapping,
        method=pose_method,
        rereference_center=rereference_center,
    )
    return p.rotations, p.translations_mm, p.params
