"""Echo-train (line-dependent) contrast in moved k-space by a low-rank sum of basis images.

In MP-RAGE every k-space line ``l`` is read at its own echo ``n(l)`` of the train after
the inversion, so it samples the object with the contrast of that echo, at its own pose:

    y_l = F_l{ T_l I_{n(l)} },      I_n(r) = sum_t f_t(r) S_{t n}

with ``f_t`` the partial-volume map of tissue ``t`` and ``S_{t n}`` its signal at echo ``n``
(:func:`mrsim.signal.mprage.mprage_signal`). Evaluating every echo image separately would
cost ``n_echoes`` corruptions. Instead the contrast is factorised (docs/physics.md,
section 12): with the tissue Gram matrix ``G = F F^T = Q L Q^T`` and
``W = L^{1/2} Q^T S = U Sigma V^T`` (SVD),

    I_n = sum_r B_r V_{n r},      B_r = sum_t f_t (Q L^{+1/2} U)_{t r} sigma_r

and truncating to the first ``R`` terms changes echo image ``n`` by exactly
``||(W - W_R)_{:, n}||`` (L2 over voxels). The rank is the smallest with that error below
``tol`` times ``||I_n||`` for EVERY echo. The moved k-space is then

    y_l = sum_r V_{n(l) r} F_l{ T_l B_r }

: ``R`` basis images moved with the same poses by the public engine
(:func:`mrsim.kspace.corrupt.moved_kspace`, one call per basis image; the small terms at a
looser NUFFT tolerance, see :func:`echo_train_kspace`), then each line weighted by its
echo's coefficients. The clean reference is the same acquisition without
motion, so the echo-train blurring is in both.

References
----------
Seed 001 (MC-Net, MP-RAGE). Levac B, Jalal A, Tamir JI. Accelerated motion correction for
MRI using score-based generative models (2022), line-dependent contrast. Deichmann et al.,
NeuroImage 2000 (MP-RAGE k-space filter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.kspace.schedule import Schedule

__all__ = [
    "LowRankContrast",
    "echo_index",
    "lowrank_contrast",
    "protocol_for_schedule",
    "echo_train_kspace",
    "corrupt_echo_train",
    "corrupt_lowrank",
    "default_protocol",
    "FactorisedHead",
    "factorise_head",
    "head_corruption",
]


@dataclass
class LowRankContrast:
    """``I_n = sum_r basis[r] * coeffs[n, r]`` (see the module docstring).

    Attributes
    ----------
    basis : ndarray float32, shape (R, *n)
    coeffs : ndarray float64, shape (n_echoes, R)
    rank : int
    error_bound : float
        ``max_n ||I_n - I_n^R|| / ||I_n||`` (exact, over voxels; echoes with an empty image
        are skipped).
    singular_values : ndarray, all of them (before truncation)
    tol : float, optional
        The error target the rank was chosen for (recorded by :func:`corrupt_lowrank`).
    """

    basis: np.ndarray
    coeffs: np.ndarray
    rank: int
    error_bound: float
    singular_values: np.ndarray
    tol: float | None = None


def echo_index(schedule: Schedule) -> np.ndarray:
    """Position of each line in its shot's train (0 = first readout after the inversion).

    Lines of a shot are ranked by acquisition time. Shape (L,), int64.
    """
    order = np.lexsort((schedule.time_s, schedule.shot))
    shots = schedule.shot[order]
    start = np.r_[0, np.flatnonzero(np.diff(shots)) + 1]
    run = np.repeat(start, np.diff(np.r_[start, len(shots)]))
    out = np.empty(schedule.n_lines, np.int64)
    out[order] = np.arange(len(order)) - run
    return out


def lowrank_contrast(
    fractions: np.ndarray,
    signals: np.ndarray,
    tol: float = 1e-3,
    *,
    rank: int | None = None,
) -> LowRankContrast:
    """Factorise the echo images ``I_n = sum_t fractions[t] signals[t, n]``.

    Parameters
    ----------
    fractions : ndarray, shape (T, *n)
        Tissue maps.
    signals : ndarray, shape (T, n_echoes)
        Real tissue signal at each echo.
    tol : float
        Largest accepted relative error of any echo image (L2 over voxels).
    rank : int, optional
        Use this rank instead (its error is still reported).

    Returns
    -------
    LowRankContrast
    """
    f = np.asarray(fractions)
    s = np.asarray(signals, dtype=float)
    if s.ndim != 2 or s.shape[0] != f.shape[0]:
        raise MrsimInputError(
            f"signals must have shape (T, n_echoes) with T = {f.shape[0]} tissues, got {s.shape}"
        )
    if not tol > 0:
        raise MrsimInputError(f"tol must be > 0, got {tol}")
    flat = f.reshape(f.shape[0], -1)
    gram = np.zeros((f.shape[0], f.shape[0]))
    step = 1 << 20  # float64 accumulation in blocks: no full-size float64 copy
    for i in range(0, flat.shape[1], step):
        blk = flat[:, i : i + step].astype(np.float64)
        gram += blk @ blk.T
    lam, q = np.linalg.eigh(gram)
    keep = lam > lam.max() * 1e-12
    lam, q = lam[keep], q[:, keep]
    w = np.sqrt(lam)[:, None] * (q.T @ s)  # (T', N): ||W[:, n]|| = ||I_n||
    u, sv, vt = np.linalg.svd(w, full_matrices=False)
    norms = np.linalg.norm(w, axis=0)
    ok = norms > norms.max() * 1e-12 if norms.size else norms > 0

    def bound(r: int) -> float:
        err = np.linalg.norm(w - (u[:, :r] * sv[:r]) @ vt[:r], axis=0)
        return float(np.max(err[ok] / norms[ok])) if ok.any() else 0.0

    if rank is None:
        r = 1
        while r < len(sv) and bound(r) > tol:
            r += 1
    else:
        r = int(rank)
        if not 1 <= r <= len(sv):
            raise MrsimInputError(f"rank must be in [1, {len(sv)}], got {rank}")
    c = q @ ((u[:, :r] * sv[:r]) / np.sqrt(lam)[:, None])  # (T, R)
    basis = np.tensordot(c.T.astype(np.float32), f.astype(np.float32, copy=False), axes=(1, 0))
    return LowRankContrast(basis, vt[:r].T.copy(), r, bound(r), sv, float(tol))


def protocol_for_schedule(protocol, schedule: Schedule):
    """The protocol with its train matched to a schedule, checked.

    Returns ``protocol`` with ``centre_echo`` set to the echo index of the schedule's
    k-space-centre line (the TI quoted to the centre stays). Errors when the schedule has
    more lines per shot than ``protocol.n_echoes``, when it is a continuous per-line
    train (no inversions), or when its readout spacing differs from ``protocol.esp_s``.
    """
    idx = echo_index(schedule)
    per_shot = int(idx.max()) + 1
    if schedule.n_shots == schedule.n_lines and schedule.n_lines > 1:
        raise MrsimInputError(
            "echo-train contrast needs an MP-RAGE schedule with inversions (shots of several "
            "lines); this schedule has one line per shot (ordering 'per-line'?)"
        )
    if protocol.n_echoes < per_shot:
        raise MrsimInputError(
            f"protocol n_echoes={protocol.n_echoes} is smaller than the schedule's "
            f"{per_shot} lines per shot; set n_echoes >= {per_shot}"
        )
    if per_shot > 1:
        order = np.lexsort((schedule.time_s, schedule.shot))
        same = np.diff(schedule.shot[order]) == 0
        gaps = np.diff(schedule.time_s[order])[same]
        if not np.allclose(gaps, protocol.esp_s, rtol=1e-6, atol=1e-9):
            raise MrsimInputError(
                f"protocol esp_s={protocol.esp_s} s but the schedule's readouts are "
                f"{np.median(gaps):.6g} s apart; build the schedule with "
                "echo_spacing_s=protocol.esp_s"
            )
    centre = int(idx[schedule.center_line()])
    return protocol.with_echoes(protocol.n_echoes, centre_echo=centre)


def echo_train_kspace(
    contrast: LowRankContrast,
    schedule: Schedule,
    rotations: np.ndarray,
    translations_mm: np.ndarray,
    voxel_size_mm: float | Sequence[float] = 1.0,
    *,
    eps: float = 1e-4,
    scale_eps: bool = True,
    engine: Callable | None = None,
    **moved_kspace_options,
) -> np.ndarray:
    """Moved k-space with each line at its own echo: ``sum_r V[n(l), r] F_l{T_l B_r}``.

    One call of :func:`mrsim.kspace.corrupt.moved_kspace` per basis image, all with the
    same poses. ``moved_kspace_options`` go to it (``backend``, ``nthreads``,
    ``orientation``, ``upsampfac``, ...).

    Parameters
    ----------
    eps : float
        NUFFT tolerance of the leading term.
    scale_eps : bool
        Term ``r`` carries ``sigma_r / sigma_1`` of the leading term's energy, so its NUFFT
        runs at ``min(1e-2, eps sigma_1 / sigma_r)``: every term's NUFFT error is then at
        most ``eps`` relative to the leading term, and the small terms cost less (a
        narrower spreading kernel). False: every term at ``eps``.
    engine : callable, optional
        Replacement for :func:`~mrsim.kspace.corrupt.moved_kspace` with its signature
        ``(image, schedule, rotations, translations_mm, voxel_size_mm, eps=, **options)``;
        it must return a fresh array (the terms are weighted in place).

    Returns
    -------
    ndarray, complex, shape ``schedule.shape``
        Centred k-space (unacquired lines zero).
    """
    from mrsim.kspace.corrupt import moved_kspace

    n = echo_index(schedule)
    if n.max() >= contrast.coeffs.shape[0]:
        raise MrsimInputError(
            f"schedule has {n.max() + 1} lines per shot but the contrast has "
            f"{contrast.coeffs.shape[0]} echoes"
        )
    sv = contrast.singular_values
    engine = moved_kspace if engine is None else engine
    out = None
    for r in range(contrast.rank):
        eps_r = float(eps)
        if scale_eps and sv[r] > 0:
            eps_r = max(float(eps), min(1e-2, float(eps) * sv[0] / sv[r]))
        k = engine(
            contrast.basis[r],
            schedule,
            rotations,
            translations_mm,
            voxel_size_mm,
            eps=eps_r,
            **moved_kspace_options,
        )
        # Each term weighted and summed in place on the engine's grid: with 8 coils a line
        # copy of a term is a (C, *grid) complex array (0.74 GB at 1 mm), so gathering and
        # scattering lines held four of them (issue 17, memory). Same products, same order.
        w = line_weights_grid(schedule, contrast.coeffs[n, r].astype(k.real.dtype))
        if k.flags.writeable:
            k *= w
        else:  # a stored (read-only) spectrum is never written
            k = k * w
        if out is None:
            out = k
        else:
            out += k
        del k
    return out


def line_weights_grid(schedule: Schedule, weights: np.ndarray) -> np.ndarray:
    """One weight per line on the k-space grid, to multiply a ``(..., *schedule.shape)``
    k-space line by line; 0 on unacquired lines.

    Parameters
    ----------
    schedule : Schedule
    weights : ndarray, shape (L,)
        In schedule order.

    Returns
    -------
    ndarray, shape ``schedule.shape`` with the readout axis of length 1 (broadcasts along it)
    """
    pe_shape = tuple(schedule.shape[a] for a in schedule.pe_axes)
    w = np.zeros(pe_shape + (1,), dtype=weights.dtype)
    w[schedule.grid_index() + (0,)] = weights
    return np.moveaxis(w, -1, schedule.readout_axis)


def corrupt_echo_train(
    fractions: np.ndarray,
    signals: np.ndarray,
    trajectory,
    schedule: Schedule,
    voxel_size_mm: float | Sequence[float] = 1.0,
    *,
    tol: float = 1e-3,
    rank: int | None = None,
    **options,
):
    """Motion corruption with echo-train contrast; same outputs as :func:`corrupt`.

    The contrast is factorised (:func:`lowrank_contrast`), then corrupted by
    :func:`corrupt_lowrank`.

    Parameters
    ----------
    fractions : ndarray (T, *n)
        Tissue maps (e.g. :meth:`mrsim.phantoms.head.HeadPhantom.tissue_fractions`).
    signals : ndarray (T, n_echoes)
        Tissue signals along the train (e.g. :meth:`HeadPhantom.tissue_signals`).
    trajectory, schedule, voxel_size_mm
        As in :func:`mrsim.kspace.corrupt.corrupt`.
    tol, rank
        Low-rank error target or fixed rank (:func:`lowrank_contrast`).
    options
        Keyword options of :func:`corrupt_lowrank` (poses, output, noise, coils,
        progress, NUFFT).

    Returns
    -------
    CorruptionResult
        With ``settings["contrast"] = "echo-train"``, the rank and its error bound.
    """
    _check_echo_train_inputs(np.shape(fractions), schedule, options.get("output", "magnitude"))
    lr = lowrank_contrast(fractions, signals, tol, rank=rank)
    return corrupt_lowrank(lr, trajectory, schedule, voxel_size_mm, **options)


def _check_echo_train_inputs(fractions_shape: tuple, schedule, output: str) -> None:
    if output not in ("magnitude", "complex"):
        raise MrsimInputError(f"output must be 'magnitude' or 'complex', got {output!r}")
    if not isinstance(schedule, Schedule):
        raise MrsimInputError(f"schedule must be a Schedule, got {type(schedule).__name__}")
    if schedule.ndim != 3 or len(fractions_shape) != 4:
        raise MrsimInputError(
            f"echo-train corruption needs a 3D schedule and (T, X, Y, Z) tissue maps, got a "
            f"{schedule.ndim}D schedule and maps of shape {fractions_shape}"
        )


def corrupt_lowrank(
    contrast: LowRankContrast,
    trajectory,
    schedule: Schedule,
    voxel_size_mm: float | Sequence[float] = 1.0,
    *,
    mapping: str = "seconds",
    method: str = "linear",
    rereference_center: bool = True,
    granularity: str = "line",
    output: str = "magnitude",
    noise_snr: float | None = None,
    seed: int | None = None,
    coil_sensitivities: np.ndarray | None = None,
    coil_method: str = "states",
    coil_terms=None,
    progress: bool = False,
    **moved_kspace_options,
):
    """Motion corruption of a factorised echo-train contrast (:func:`corrupt_echo_train`
    once the tissue maps are no longer needed).

    Parameters
    ----------
    contrast : LowRankContrast
        From :func:`lowrank_contrast` (its ``tol`` is recorded in the settings).
    trajectory, schedule, voxel_size_mm, mapping, method, rereference_center, granularity
        As in :func:`mrsim.kspace.corrupt.corrupt`.
    output : {"magnitude", "complex"}
    noise_snr, seed
        Complex Gaussian k-space noise as in :func:`~mrsim.kspace.corrupt.corrupt`: sigma
        from the SNR of the clean (coil-combined) image, drawn with ``seed``, on the
        acquired samples.
    coil_sensitivities, coil_method, coil_terms
        Receive coils fixed in the scanner, as in :func:`~mrsim.kspace.corrupt.corrupt`:
        every basis image goes through the same multi-coil engine (cost ``rank`` x one
        multi-coil corruption) and the images are the R=1 SENSE combination with the maps
        used.
    progress : bool
        Progress bars of the multi-coil engine, as in :func:`~mrsim.kspace.corrupt.corrupt`
        (one per basis image and k-space).
    moved_kspace_options
        ``backend``, ``eps`` (default 1e-4), ``nthreads``, ``orientation``, ``upsampfac``.

    Returns
    -------
    CorruptionResult
        With ``settings["contrast"] = "echo-train"``, the rank and its error bound.
    """
    from mrsim.kspace.corrupt import CorruptionResult
    from mrsim.kspace.poses import line_poses
    from mrsim.kspace.reconstruct import (
        Reconstruction,
        coil_settings,
        output_images,
        receive_coils,
        result_severity,
    )
    from mrsim.kspace.severity import add_noise_for_snr

    lr = contrast
    _check_echo_train_inputs((lr.basis.shape[0],) + schedule.shape, schedule, output)
    opts = {"eps": 1e-4, **moved_kspace_options}
    poses = line_poses(
        trajectory,
        schedule,
        mapping=mapping,
        method=method,
        rereference_center=rereference_center,
        granularity=granularity,
    )
    coils = receive_coils(coil_sensitivities, coil_method, coil_terms, schedule.shape, progress)
    if coils is not None:
        opts["coils"] = coils
    recon = Reconstruction.for_coils(coils, schedule.ndim, opts.get("nthreads"))
    # The clean reference first, reduced to its image and line energies before the moved
    # k-space is made: with coils each k-space is a (C, *grid) array (issue 17, memory).
    k_clean = echo_train_kspace(lr, schedule, np.eye(3), np.zeros(3), voxel_size_mm, **opts)
    clean = recon(k_clean)
    energy = recon.line_energy(k_clean, schedule)
    del k_clean
    k = echo_train_kspace(
        lr, schedule, poses.rotations, poses.translations_mm, voxel_size_mm, **opts
    )
    k, sigma = add_noise_for_snr(k, clean, schedule, noise_snr, seed)
    img, clean = output_images(recon(k), clean, output)
    nd = schedule.ndim
    settings = dict(
        voxel_size_mm=list(np.broadcast_to(np.asarray(voxel_size_mm, float), (nd,))),
        mapping=mapping,
        method=method,
        rereference_center=rereference_center,
        granularity=granularity,
        backend=opts.get("backend", "finufft"),
        eps=opts["eps"],
        upsampfac=opts.get("upsampfac"),
        noise_snr=noise_snr,
        output=output,
        **coil_settings(schedule, coils, recon),
        contrast="echo-train",
        lowrank_rank=lr.rank,
        lowrank_error_bound=lr.error_bound,
        lowrank_tol=lr.tol,
    )
    return CorruptionResult.made_with(
        poses,
        recon,
        schedule,
        kspace=k,
        image=img,
        clean=clean,
        severity=result_severity(poses, energy, trajectory),
        noise_sigma=sigma,
        settings=settings,
    )


def default_protocol(schedule: Schedule):
    """ADNI 3 T timing (:data:`mrsim.signal.mprage.ADNI_3T`: TR 2.3 s, TI 0.9 s to the centre,
    9 deg, TE 2.98 ms) with the schedule's echo spacing (median readout gap in a shot) and
    its lines per shot as the train length."""
    from dataclasses import replace

    from mrsim.signal.mprage import ADNI_3T

    order = np.lexsort((schedule.time_s, schedule.shot))
    gaps = np.diff(schedule.time_s[order])[np.diff(schedule.shot[order]) == 0]
    esp = float(np.median(gaps)) if gaps.size else ADNI_3T.esp_s
    n = int(echo_index(schedule).max()) + 1
    return replace(ADNI_3T, esp_s=esp, n_echoes=n, centre_echo=None)


@dataclass
class FactorisedHead:
    """A :class:`~mrsim.phantoms.head.HeadPhantom` reduced to what its MP-RAGE corruption
    needs (:func:`factorise_head`): the per-label tissue maps (12 volumes at 1 mm, 0.55 GB)
    can be let go before the k-space is made (issue 17, memory).

    Attributes
    ----------
    contrast : {"echo-train", "static"}
    protocol : MPRAGEProtocol
        Matched to the schedule (:func:`protocol_for_schedule`).
    affine : ndarray (4, 4)
        The head's voxel -> world affine.
    voxel_size_mm : ndarray (3,)
    grid_shape : tuple of int
        The head's grid.
    lowrank : LowRankContrast, optional
        ``"echo-train"``: the factorised contrast.
    image : ndarray, optional
        ``"static"``: the head at the k-space-centre echo.
    """

    contrast: str
    protocol: Any
    affine: np.ndarray
    voxel_size_mm: np.ndarray
    grid_shape: tuple[int, ...]
    lowrank: LowRankContrast | None = None
    image: np.ndarray | None = None


def factorise_head(
    head,
    schedule: Schedule,
    *,
    contrast: str = "echo-train",
    protocol=None,
    tol: float = 1e-3,
    rank: int | None = None,
) -> FactorisedHead:
    """The contrast of a head phantom for a schedule, without its tissue maps.

    Parameters
    ----------
    head : HeadPhantom
    schedule : Schedule
        MP-RAGE schedule whose readout spacing is the protocol's ``esp_s``.
    contrast, protocol, tol
        As in :func:`head_corruption`; ``rank``: fixed rank (:func:`lowrank_contrast`).
    """
    if contrast not in ("echo-train", "static"):
        raise MrsimInputError(f"contrast must be 'echo-train' or 'static', got {contrast!r}")
    prot = protocol_for_schedule(protocol or default_protocol(schedule), schedule)
    names, frac = head.tissue_fractions()
    sig = head.tissue_signals(prot, names)
    out = FactorisedHead(contrast, prot, head.affine, head.voxel_size_mm, frac.shape[1:])
    if contrast == "static":
        out.image = np.tensordot(sig[:, prot.centre].astype(np.float32), frac, axes=(0, 0))
    else:
        out.lowrank = lowrank_contrast(frac, sig, tol, rank=rank)
    return out


def head_corruption(
    head,
    trajectory,
    schedule: Schedule,
    *,
    contrast: str = "echo-train",
    protocol=None,
    tol: float = 1e-3,
    **corrupt_options,
):
    """Corrupt a :class:`~mrsim.phantoms.head.HeadPhantom` with MP-RAGE physics.

    Parameters
    ----------
    head : HeadPhantom or FactorisedHead
        A :class:`FactorisedHead` (:func:`factorise_head`, made for this schedule) carries its
        contrast and protocol: ``contrast`` must then match it, and ``protocol`` and ``tol``
        are not used.
    trajectory, schedule
        As in :func:`mrsim.kspace.corrupt.corrupt`; ``schedule`` must be an MP-RAGE one
        whose readout spacing is the protocol's ``esp_s``.
    contrast : {"echo-train", "static"}
        ``echo-train``: every line at its own echo (:func:`corrupt_echo_train`).
        ``static``: one image at the k-space-centre echo through
        :func:`mrsim.kspace.corrupt.corrupt`.
    protocol : MPRAGEProtocol, optional
        Default: ADNI 3 T timing (:data:`mrsim.signal.mprage.ADNI_3T`) with the schedule's
        echo spacing (median readout gap) and lines per shot.
    tol : float
        Low-rank error target (echo-train).
    corrupt_options
        Keyword options of :func:`~mrsim.kspace.corrupt.corrupt` (echo-train: those of
        :func:`corrupt_lowrank`, coils and noise included, and ``rank``).

    Returns
    -------
    CorruptionResult
        ``settings`` also hold ``contrast``, ``phantom="head"`` and the protocol.
    """
    from mrsim.kspace.corrupt import corrupt

    rank = corrupt_options.pop("rank", None)
    if not isinstance(head, FactorisedHead):
        head = factorise_head(
            head, schedule, contrast=contrast, protocol=protocol, tol=tol, rank=rank
        )
    elif head.contrast != contrast:
        raise MrsimInputError(
            f"contrast {contrast!r} differs from the factorised head's {head.contrast!r}"
        )
    vox = head.voxel_size_mm
    if head.contrast == "static":
        res = corrupt(head.image, trajectory, schedule, vox, **corrupt_options)
    else:
        res = corrupt_lowrank(head.lowrank, trajectory, schedule, vox, **corrupt_options)
    res.settings.update(contrast=head.contrast, phantom="head", protocol=head.protocol.to_dict())
    return res
