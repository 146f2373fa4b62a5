"""Motion-corrupted multi-echo GRE by segmented k-space mixing (seed 002 Eqs. 4-5).

Each k-space line is acquired with the head in some pose ``A_i``; lines sharing
a pose form motion state ``i`` with sampling mask ``M_i``. The corrupted echo is

    S_m(TE) = IFFT{ sum_i M_i . FFT[ S_i(TE) ] }

with two models of the per-state signal ``S_i``:

- ``mixing="approx"`` (seed 002 Eq. 5): the whole complex signal moves with the
  head, ``S_i(r) = S(A_i r)``: magnitude, R2* decay *and* field move together, as
  if the field were attached to the tissue. Here every line is evaluated as the
  spectrum of the reference-pose complex signal at rotated k with a
  translation ramp (:func:`mrsim.kspace.corrupt.moved_kspace`): all lines of all
  poses and all echoes in ONE type-2 NUFFT. This is exact band-limited motion of
  the complex image (no interpolation of wrapped phase), so it also applies to
  real MGRE data (:func:`mrsim.qsm.gre.load_mgre`).
- ``mixing="exact"`` (seed 002 Eq. 4): chi, M0 and R2* move with the head
  (:func:`mrsim.kspace.corrupt.rigid_move`, band-limited), the field is
  recomputed for every state in the scanner frame (B0 fixed), ``b_i = d * chi(A_i
  r)``, and the signal is built, Fourier transformed and masked per state. The
  cost grows with the number of states, so poses are grouped into states
  (:func:`mrsim.kspace.corrupt.motion_states`; use nearest-neighbour pose
  sampling for step-like profiles).

Dipole convolution commutes with translations and with rotations about the B0
axis, so the two models agree for those motions and differ for rotations about
axes perpendicular to B0 (``tests/test_qsm_motion.py``, ``docs/qsm.md``).

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
from dataclasses import dataclass, field

import numpy as np

from mrsim.kspace.corrupt import motion_states, moved_kspace, rigid_move
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.schedule import Schedule, gre3d_schedule, poses_for_schedule
from mrsim.qsm.dipole import _pad_centered, dipole_field, padded_shape
from mrsim.qsm.gre import add_noise, gre_signal

__all__ = [
    "B0ChangeModel",
    "b0_change_hz",
    "mix_approx",
    "mix_exact",
    "QSMMotionResult",
    "simulate_qsm_motion",
    "corrupt_mgre",
    "line_poses",
]


@dataclass(frozen=True)
class B0ChangeModel:
    """Motion-induced off-resonance linear in the rotation angles and in position.

    ``df(r) = sum_a theta_a (offset_hz_per_deg[a] + gradient_hz_per_mm_deg[a] . r)``
    with ``theta = (rx, ry, rz)`` in degrees and ``r`` in mm from the FOV centre
    (array axes). Defaults give ~ +-10 Hz at the brain edge for 5 deg about x or y:
    an illustrative low-order model in the spirit of physics-aware T2* motion
    simulations (e.g. Eichhorn et al., SASHIMI 2023), not a fitted one.
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
) -> np.ndarray:
    """Off-resonance map (Hz) of :class:`B0ChangeModel` for one pose's rotations."""
    model = model or B0ChangeModel()
    vox = np.broadcast_to(np.asarray(voxel_size_mm, float), (3,))
    th = np.asarray(rot_deg, float).reshape(3)
    g = [(np.arange(n) - n // 2) * v for n, v in zip(shape, vox, strict=True)]
    X, Y, Z = np.meshgrid(*g, indexing="ij", sparse=True)
    df = np.zeros(tuple(shape))
    for a in range(3):
        gx, gy, gz = model.gradient_hz_per_mm_deg[a]
        df = df + th[a] * (model.offset_hz_per_deg[a] + gx * X + gy * Y + gz * Z)
    return df


def _rot_deg(R: np.ndarray) -> np.ndarray:
    from mrsim.motion.rigid import euler_from_matrix

    return np.asarray(euler_from_matrix(R), float)


def _b0_change_phase(
    sig: np.ndarray, rotation: np.ndarray, te: np.ndarray, voxel_size_mm, model
) -> np.ndarray:
    """Echo-first signal (E, X, Y, Z) times the phase of the pose's B0 change (if any)."""
    if model is None:
        return sig
    df = b0_change_hz(_rot_deg(rotation), sig.shape[1:], voxel_size_mm, model)
    return sig * np.exp(2j * np.pi * te[:, None, None, None] * df[None])


def _echo_first(signal: np.ndarray) -> np.ndarray:
    s = np.asarray(signal)
    if s.ndim != 4:
        raise ValueError(f"signal must be (X, Y, Z, echoes), got shape {s.shape}")
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
        img = state_images(i)
        k = fft_centered(img, axes=(1, 2, 3))
        out = np.where(masks[i], k, 0) if out is None else out + np.where(masks[i], k, 0)
    return out


def mix_approx(
    signal: np.ndarray,
    schedule: Schedule,
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    *,
    te_s: Sequence[float] | None = None,
    b0_change: B0ChangeModel | None = None,
    eps: float = 1e-6,
    nthreads: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Approximate mixing (seed 002 Eq. 5): move the complex MGRE signal with the head.

    Parameters
    ----------
    signal : complex (X, Y, Z, E)
        Motion-free multi-echo signal in the reference pose (simulated or real).
    schedule : Schedule
        3D acquisition schedule with ``schedule.shape == (X, Y, Z)``.
    rotations : (L, 3, 3); translations_mm : (L, 3)
        Per-line poses (e.g. from :func:`mrsim.kspace.schedule.poses_for_schedule`).
    voxel_size_mm : float or (3,) floats
    te_s : (E,) floats
        Echo times, only needed with ``b0_change``.
    b0_change : B0ChangeModel, optional
        Adds the motion-induced field per state (per-state path).
    eps, nthreads : NUFFT tolerance and threads.
    progress : bool

    Returns
    -------
    complex ndarray (X, Y, Z, E)
        Motion-corrupted signal.
    """
    s = _echo_first(signal)
    if tuple(schedule.shape) != s.shape[1:]:
        raise ValueError(f"schedule.shape {schedule.shape} != signal shape {s.shape[1:]}")
    if b0_change is None:
        k = moved_kspace(
            s, schedule, rotations, translations_mm, voxel_size_mm, eps=eps, nthreads=nthreads
        )
    else:
        if te_s is None or len(te_s) != s.shape[0]:
            raise ValueError("b0_change needs te_s with one echo time per echo")
        te = np.asarray(te_s, float)
        first, sol = motion_states(np.asarray(rotations), np.asarray(translations_mm))

        def state(i: int) -> np.ndarray:
            j = first[i]
            moved = rigid_move(
                s, rotations[j], translations_mm[j], voxel_size_mm, eps=eps, nthreads=nthreads
            )
            return _b0_change_phase(moved, rotations[j], te, voxel_size_mm, b0_change)

        k = _per_state_mix(state, schedule, sol, len(first), progress)
    return np.moveaxis(ifft_centered(k, axes=(1, 2, 3)), 0, -1)


def mix_exact(
    chi_ppm: np.ndarray,
    m0: np.ndarray,
    r2s_hz: np.ndarray,
    te_s: Sequence[float],
    schedule: Schedule,
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    voxel_size_mm: Sequence[float] | float = (1.0, 1.0, 1.0),
    *,
    b0_t: float = 3.0,
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
    pad_factor: float = 2.0,
    b0_change: B0ChangeModel | None = None,
    eps: float = 1e-6,
    nthreads: int | None = None,
    progress: bool = False,
    field_ppm: np.ndarray | None = None,
) -> np.ndarray:
    """Exact mixing (seed 002 Eq. 4): move chi, recompute the field per state.

    Parameters
    ----------
    chi_ppm, m0, r2s_hz : (X, Y, Z) arrays
        Susceptibility (including background sources), magnitude and R2* in the
        reference pose.
    te_s : (E,) floats
    schedule, rotations, translations_mm, voxel_size_mm :
        As :func:`mix_approx`; poses are grouped into states of identical pose.
    b0_t, b0_dir, pad_factor :
        Field model (:func:`mrsim.qsm.dipole.dipole_field`); ``b0_dir`` stays fixed
        in the scanner (array) frame while the head moves.
        chi moves on the padded grid, so sources at the FOV edge (skull, sinuses)
        leave the FOV instead of wrapping around.
    b0_change : B0ChangeModel, optional
    eps, nthreads, progress :
    field_ppm : (X, Y, Z) array, optional
        If given, ``chi_ppm`` is ignored and this total field moves with the head
        like M0 and R2* (seed 002 Eq. 5 applied to the parameter maps,
        ``mixing="approx-maps"``): the signal is then composed pointwise per state
        exactly as in the exact model, so the difference to ``mix_exact`` isolates
        the physics (field moved vs recomputed) from discretisation.

    Returns
    -------
    complex ndarray (X, Y, Z, E)
    """
    chi = np.asarray(chi_ppm if field_ppm is None else field_ppm, float)
    if tuple(schedule.shape) != chi.shape:
        raise ValueError(f"schedule.shape {schedule.shape} != chi shape {chi.shape}")
    te = np.asarray(te_s, float)
    R = np.asarray(rotations, float)
    t = np.asarray(translations_mm, float)
    if field_ppm is not None:
        return _mix_moved_field(
            field_ppm,
            m0,
            r2s_hz,
            te,
            schedule,
            R,
            t,
            voxel_size_mm,
            b0_t,
            b0_change,
            eps,
            nthreads,
            progress,
        )
    first, sol = motion_states(R, t)
    # chi (with its background sources, which may reach the FOV edge) moves on the
    # zero-padded grid of the dipole convolution, so band-limited (periodic) motion cannot
    # wrap sources around the FOV, and the identity pose gives exactly dipole_field(chi).
    # M0 and R2* vanish outside the head and move on the FOV grid.
    big = padded_shape(chi.shape, pad_factor)
    chi_big, sl = _pad_centered(chi, big)
    rel = np.stack([np.asarray(m0, float), np.asarray(r2s_hz, float)])

    def state(i: int) -> np.ndarray:
        j = first[i]
        if np.allclose(R[j], np.eye(3), atol=1e-12) and not np.any(t[j]):
            c, (m, r) = chi_big, rel
        else:
            c = rigid_move(chi_big, R[j], t[j], voxel_size_mm, eps=eps, nthreads=nthreads)
            m, r = rigid_move(rel, R[j], t[j], voxel_size_mm, eps=eps, nthreads=nthreads)
        b = dipole_field(c, voxel_size_mm, b0_dir, pad_factor=1.0)[sl]
        sig = np.moveaxis(gre_signal(m, r, b, te, b0_t=b0_t), -1, 0)
        return _b0_change_phase(sig, R[j], te, voxel_size_mm, b0_change)

    k = _per_state_mix(state, schedule, sol, len(first), progress)
    return np.moveaxis(ifft_centered(k, axes=(1, 2, 3)), 0, -1)


def _mix_moved_field(
    field_ppm, m0, r2s_hz, te, schedule, R, t, vox, b0_t, b0_change, eps, nthreads, progress
):
    first, sol = motion_states(R, t)
    maps = np.stack(
        [np.asarray(field_ppm, float), np.asarray(m0, float), np.asarray(r2s_hz, float)]
    )

    def state(i: int) -> np.ndarray:
        j = first[i]
        if np.allclose(R[j], np.eye(3), atol=1e-12) and not np.any(t[j]):
            b, m, r = maps
        else:
            b, m, r = rigid_move(maps, R[j], t[j], vox, eps=eps, nthreads=nthreads)
        sig = np.moveaxis(gre_signal(m, r, b, te, b0_t=b0_t), -1, 0)
        return _b0_change_phase(sig, R[j], te, vox, b0_change)

    k = _per_state_mix(state, schedule, sol, len(first), progress)
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


def simulate_qsm_motion(
    phantom,
    trajectory=None,
    *,
    te_s: Sequence[float] | None = None,
    mixing: str = "approx",
    schedule: Schedule | None = None,
    tr_s: float = 0.03,
    b0_t: float = 3.0,
    b0_dir: Sequence[float] = (0.0, 0.0, 1.0),
    snr: float | None = None,
    noise_seed: int | None = 0,
    pose_method: str = "nearest",
    mapping: str = "seconds",
    rereference_center: bool = True,
    b0_change: B0ChangeModel | None = None,
    eps: float = 1e-6,
    progress: bool = False,
) -> QSMMotionResult:
    """Motion-free and motion-corrupted MGRE of a chi phantom.

    Parameters
    ----------
    phantom : mrsim.qsm.phantom.QSMPhantom
    trajectory : mrsim.motion.Trajectory, optional
        Head motion in scan time (s); None = no motion (corrupted == clean).
    te_s : echo times (default :func:`mrsim.qsm.gre.echo_times`, seed 002).
    mixing : {"approx", "approx-maps", "exact"}
        Seed 002 Eq. 5 on the complex signal (one NUFFT), Eq. 5 on the parameter maps
        (M0, R2*, total field moved per state), or Eq. 4.
    schedule : Schedule, optional
        Default :func:`mrsim.kspace.schedule.gre3d_schedule` (linear, one line per ``tr_s``).
    b0_t, b0_dir : field strength and direction (array axes).
    snr : float, optional
        Peak SNR of the first echo; the same noise realisation (``noise_seed``) is
        added to the clean and the corrupted signal, so their difference is motion only.
    pose_method : {"nearest", "linear"}
        Trajectory sampling per line (nearest keeps step profiles to a few states).
    mapping : {"seconds", "stretch"}
        Trajectory time -> scan time (:func:`mrsim.kspace.schedule.poses_for_schedule`).
    rereference_center : bool
        Make the pose at the k-space centre the identity (DESIGN.md option).
    b0_change : B0ChangeModel, optional
    eps : NUFFT tolerance.

    Returns
    -------
    QSMMotionResult
    """
    from mrsim.qsm.gre import echo_times

    if mixing not in ("approx", "approx-maps", "exact"):
        raise ValueError(f"mixing must be 'approx', 'approx-maps' or 'exact', got {mixing!r}")
    te = echo_times() if te_s is None else np.asarray(te_s, float)
    p = phantom
    vox = np.asarray(p.voxel_size_mm, float)
    sched = gre3d_schedule(p.chi_ppm.shape, tr_s=tr_s) if schedule is None else schedule
    field_ppm = dipole_field(p.chi_ppm, vox, b0_dir)
    clean = gre_signal(p.m0, p.r2s_hz, field_ppm, te, b0_t=b0_t)
    R, t, params = line_poses(trajectory, sched, pose_method, mapping, rereference_center)
    n_states = len(motion_states(R, t)[0])
    if trajectory is None:
        corrupted = clean.copy()
    elif mixing == "approx":
        corrupted = mix_approx(
            clean, sched, R, t, vox, te_s=te, b0_change=b0_change, eps=eps, progress=progress
        )
    else:
        # "approx-maps" moves the scanner-frame field map with the head (Eq. 5 on the maps);
        # "exact" recomputes the field from the moved chi for every state (Eq. 4).
        corrupted = mix_exact(
            p.chi_ppm,
            p.m0,
            p.r2s_hz,
            te,
            sched,
            R,
            t,
            vox,
            b0_t=b0_t,
            b0_dir=b0_dir,
            b0_change=b0_change,
            eps=eps,
            progress=progress,
            field_ppm=field_ppm if mixing == "approx-maps" else None,
        )
    if snr is not None:
        ref = float(np.abs(clean[..., 0]).max())
        clean = add_noise(clean, snr, reference=ref, seed=noise_seed)
        corrupted = add_noise(corrupted, snr, reference=ref, seed=noise_seed)
    info = {
        "mixing": mixing,
        "b0_t": b0_t,
        "b0_dir": list(map(float, b0_dir)),
        "snr": snr,
        "noise_seed": noise_seed,
        "pose_method": pose_method,
        "mapping": mapping,
        "rereference_center": rereference_center,
        "b0_change": b0_change is not None,
        "eps": eps,
        "tr_s": tr_s,
    }
    return QSMMotionResult(clean, corrupted, te, params, n_states, sched, info)


def line_poses(
    trajectory,
    schedule: Schedule,
    pose_method: str = "nearest",
    mapping: str = "seconds",
    rereference_center: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-line rotations (L, 3, 3), translations (L, 3) and params (L, 6); identity if None."""
    L = schedule.n_lines
    if trajectory is None:
        return np.broadcast_to(np.eye(3), (L, 3, 3)).copy(), np.zeros((L, 3)), np.zeros((L, 6))
    return poses_for_schedule(
        trajectory,
        schedule,
        mapping=mapping,
        method=pose_method,
        rereference_center=rereference_center,
    )


def corrupt_mgre(
    signal: np.ndarray,
    voxel_size_mm: Sequence[float] | float,
    trajectory,
    *,
    te_s: Sequence[float] | None = None,
    schedule: Schedule | None = None,
    tr_s: float = 0.03,
    pose_method: str = "nearest",
    mapping: str = "seconds",
    rereference_center: bool = True,
    b0_change: B0ChangeModel | None = None,
    eps: float = 1e-6,
) -> QSMMotionResult:
    """Approximate-mixing motion corruption of real (or any) complex MGRE data.

    Only seed 002's Eq. 5 applies: without a chi map the field cannot be
    recomputed per pose. Arguments as :func:`simulate_qsm_motion`.
    """
    s = np.asarray(signal)
    if s.ndim != 4 or not np.iscomplexobj(s):
        raise ValueError(f"signal must be complex (X, Y, Z, echoes), got {s.dtype} {s.shape}")
    sched = gre3d_schedule(s.shape[:3], tr_s=tr_s) if schedule is None else schedule
    R, t, params = line_poses(trajectory, sched, pose_method, mapping, rereference_center)
    n_states = len(motion_states(R, t)[0])
    te = None if te_s is None else np.asarray(te_s, float)
    out = mix_approx(s, sched, R, t, voxel_size_mm, te_s=te, b0_change=b0_change, eps=eps)
    info = {
        "mixing": "approx",
        "pose_method": pose_method,
        "mapping": mapping,
        "rereference_center": rereference_center,
        "b0_change": b0_change is not None,
        "eps": eps,
        "tr_s": tr_s,
        "input": "MGRE",
    }
    return QSMMotionResult(s, out, te, params, n_states, sched, info)
