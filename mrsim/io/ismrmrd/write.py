"""MRD writer: one acquisition per mrsim line, with the true pose in ``user_float``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.io.atomic import atomic_path
from mrsim.io.ismrmrd.layout import MOTION_FREE_GROUP, POSE_CONVENTION, TICK_S, flag, ras_to_lps
from mrsim.kspace.schedule import Schedule


def _header_xml(
    schedule: Schedule,
    fov_mm: np.ndarray,
    n_coils: int,
    affine: np.ndarray,
    sequence: Mapping[str, float] | None,
    settings: Mapping | None,
) -> str:
    import ismrmrd.xsd as x

    from mrsim import __version__

    ro, (p1, p2) = schedule.readout_axis, schedule.pe_axes
    n = schedule.shape
    axes = (ro, p1, p2)
    mat = x.matrixSizeType(x=n[ro], y=n[p1], z=n[p2])
    fov = x.fieldOfViewMm(x=float(fov_mm[ro]), y=float(fov_mm[p1]), z=float(fov_mm[p2]))
    space = x.encodingSpaceType(matrixSize=mat, fieldOfView_mm=fov)

    def limit(m: int) -> object:
        return x.limitType(minimum=0, maximum=m - 1, center=m // 2)

    zero = x.limitType(minimum=0, maximum=0, center=0)
    limits = x.encodingLimitsType(
        kspace_encoding_step_0=limit(n[ro]),
        kspace_encoding_step_1=limit(n[p1]),
        kspace_encoding_step_2=limit(n[p2]),
        average=zero, slice=zero, contrast=zero, phase=zero, repetition=zero, set=zero,
        segment=zero,
    )  # fmt: skip
    enc = x.encodingType(
        encodedSpace=space,
        reconSpace=x.encodingSpaceType(matrixSize=mat, fieldOfView_mm=fov),
        encodingLimits=limits,
        trajectory=x.trajectoryType.CARTESIAN,
    )
    header = x.ismrmrdHeader(
        experimentalConditions=x.experimentalConditionsType(
            H1resonanceFrequency_Hz=127_728_000  # nominal 3 T; mrsim simulates no field
        )
    )
    header.acquisitionSystemInformation = x.acquisitionSystemInformationType(
        systemVendor="mrsim (simulation)", receiverChannels=int(n_coils)
    )
    header.encoding.append(enc)
    seq = dict(sequence or {})
    header.sequenceParameters = x.sequenceParametersType(
        TR=[1e3 * seq["tr_s"]] if "tr_s" in seq else [],
        TE=[1e3 * seq["te_s"]] if "te_s" in seq else [],
        TI=[1e3 * seq["ti_s"]] if "ti_s" in seq else [],
        flipAngle_deg=[float(seq["flip_deg"])] if "flip_deg" in seq else [],
        echo_spacing=[1e3 * seq["echo_spacing_s"]] if "echo_spacing_s" in seq else [],
        sequence_type=seq.get("sequence_type"),
    )
    strings = {
        "mrsim_version": __version__,
        "mrsim_affine": json.dumps(np.asarray(affine, float).tolist()),
        "mrsim_pose_convention": POSE_CONVENTION,
        "mrsim_array_axes": json.dumps([int(a) for a in axes]),
    }
    if settings:
        strings["mrsim_settings"] = json.dumps(settings, default=str)
    doubles = {"mrsim_shot_tr_ms": 1e3 * seq["shot_tr_s"]} if "shot_tr_s" in seq else {}
    header.userParameters = x.userParametersType(
        userParameterString=[
            x.userParameterStringType(name=k, value=v) for k, v in strings.items()
        ],
        userParameterDouble=[
            x.userParameterDoubleType(name=k, value=v) for k, v in doubles.items()
        ],
        userParameterLong=[x.userParameterLongType(name="mrsim_readout_axis", value=int(ro))],
    )
    return header.toXML("utf-8")


def _acquisitions(
    lines: np.ndarray, schedule: Schedule, affine: np.ndarray, params: np.ndarray | None
) -> np.ndarray:
    """One MRD acquisition record (header + data) per line, vectorised."""
    from ismrmrd.hdf5 import acquisition_dtype

    from mrsim.geometry import orientation_from_affine

    C, L, S = lines.shape
    ro, (p1, p2) = schedule.readout_axis, schedule.pe_axes
    n = np.asarray(schedule.shape)
    D = orientation_from_affine(affine)
    rec = np.zeros(L, dtype=acquisition_dtype)
    h = rec["head"]
    h["version"] = 1
    h["scan_counter"] = np.arange(L)
    h["acquisition_time_stamp"] = np.round(schedule.time_s / TICK_S).astype(np.uint32)
    h["number_of_samples"] = S
    h["available_channels"] = C
    h["active_channels"] = C
    mask = np.zeros(16, np.uint64)
    for c in range(C):
        mask[c // 64] |= np.uint64(1) << np.uint64(c % 64)
    h["channel_mask"] = mask
    h["center_sample"] = S // 2
    h["read_dir"] = ras_to_lps(D[:, ro])
    h["phase_dir"] = ras_to_lps(D[:, p1])
    h["slice_dir"] = ras_to_lps(D[:, p2])
    h["position"] = ras_to_lps(np.asarray(affine, float)[:3] @ np.append(n // 2, 1.0))
    h["idx"]["kspace_encode_step_1"] = schedule.pe_index[:, 0] + n[p1] // 2
    h["idx"]["kspace_encode_step_2"] = schedule.pe_index[:, 1] + n[p2] // 2
    h["user_int"][:, 0] = schedule.shot
    if params is not None:
        h["user_float"][:, :6] = params
    h["user_float"][:, 6] = schedule.time_s
    flags = np.zeros(L, np.uint64)
    first = flag("ACQ_FIRST_IN_SLICE") | flag("ACQ_FIRST_IN_REPETITION")
    last = (
        flag("ACQ_LAST_IN_SLICE") | flag("ACQ_LAST_IN_REPETITION") | flag("ACQ_LAST_IN_MEASUREMENT")
    )
    flags[0] |= np.uint64(first)
    flags[-1] |= np.uint64(last)
    h["flags"] = flags
    rec["head"] = h
    data = np.ascontiguousarray(np.moveaxis(lines.astype(np.complex64), 1, 0))  # (L, C, S)
    flat = data.view(np.float32).reshape(L, 2 * C * S)
    empty = np.zeros(0, np.float32)
    for i in range(L):
        rec[i]["data"] = flat[i]
        rec[i]["traj"] = empty
    return rec


def _write_group(f, group: str, xml: str, records: np.ndarray) -> None:
    import h5py
    from ismrmrd.hdf5 import acquisition_dtype

    g = f.require_group(group)
    xd = g.create_dataset("xml", shape=(1,), dtype=h5py.special_dtype(vlen=bytes))
    xd[0] = xml.encode("utf-8") if isinstance(xml, str) else xml
    ds = g.create_dataset(
        "data", shape=(len(records),), maxshape=(None,), dtype=acquisition_dtype, chunks=True
    )
    ds[...] = records


def write_ismrmrd(
    path: str | Path,
    lines: np.ndarray,
    schedule: Schedule,
    affine: np.ndarray,
    line_params: np.ndarray | None = None,
    *,
    motion_free_lines: np.ndarray | None = None,
    sensitivities: np.ndarray | None = None,
    sequence: Mapping[str, float] | None = None,
    settings: Mapping | None = None,
) -> Path:
    """Write Cartesian lines as an MRD file (atomically), one acquisition per line.

    Parameters
    ----------
    path : str or Path
        Output ``.h5`` (replaced if it exists).
    lines : ndarray, complex, shape (L, S) or (C, L, S)
        k-space lines in schedule (= acquisition) order, centred convention.
    schedule : Schedule
        3D Cartesian schedule of the lines.
    affine : ndarray (4, 4)
        Voxel -> world (RAS+ mm) of the grid ``schedule.shape``.
    line_params : ndarray (L, 6), optional
        True head pose per line (``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg``, RAS);
        written to ``user_float[0:6]`` (zeros when None).
    motion_free_lines : ndarray, optional
        Same shape as ``lines``: written to the group :data:`MOTION_FREE_GROUP` with
        identity poses.
    sensitivities : ndarray (C, *schedule.shape), optional
        Receive maps, stored at ``/mrsim/coil_sensitivities``.
    sequence : mapping, optional
        Known sequence parameters in s / degrees: ``tr_s``, ``te_s``, ``ti_s``,
        ``flip_deg``, ``echo_spacing_s``, ``shot_tr_s``, ``sequence_type``.
    settings : mapping, optional
        Provenance, stored as the ``mrsim_settings`` user parameter (JSON).

    Returns
    -------
    Path
    """
    import h5py

    lines = np.asarray(lines)
    if lines.ndim == 2:
        lines = lines[None]
    if schedule.ndim != 3:
        raise MrsimInputError(f"MRD output needs a 3D schedule, got shape {schedule.shape}")
    if lines.ndim != 3 or lines.shape[1:] != (schedule.n_lines, schedule.n_readout):
        raise MrsimInputError(
            f"lines must have shape (C, {schedule.n_lines}, {schedule.n_readout}) or "
            f"({schedule.n_lines}, {schedule.n_readout}), got {lines.shape}"
        )
    if line_params is not None:
        line_params = np.asarray(line_params, float)
        if line_params.shape != (schedule.n_lines, 6):
            raise MrsimInputError(
                f"line_params must have shape ({schedule.n_lines}, 6), got {line_params.shape}"
            )
    affine = np.asarray(affine, float)
    vox = np.linalg.norm(affine[:3, :3], axis=0)
    fov = vox * np.asarray(schedule.shape)
    xml = _header_xml(schedule, fov, lines.shape[0], affine, sequence, settings)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        _write_group(f, "dataset", xml, _acquisitions(lines, schedule, affine, line_params))
        if motion_free_lines is not None:
            mf = np.asarray(motion_free_lines).reshape(lines.shape)
            zero = np.zeros((schedule.n_lines, 6))
            _write_group(f, MOTION_FREE_GROUP, xml, _acquisitions(mf, schedule, affine, zero))
        if sensitivities is not None:
            sd = f.create_dataset(
                "mrsim/coil_sensitivities",
                data=np.asarray(sensitivities).astype(np.complex64),
                compression="gzip",
                compression_opts=1,
            )
            sd.attrs["description"] = (
                "receive maps (scanner frame) on the grid of mrsim_affine, array axes in "
                "mrsim order (mrsim_array_axes gives the MRD x/y/z of each)"
            )
    return Path(path)


def write_corruption_ismrmrd(
    path: str | Path,
    result,
    affine: np.ndarray,
    *,
    clean_image: np.ndarray | None = None,
    voxel_size_mm=None,
    orientation: np.ndarray | None = None,
    sequence: Mapping[str, float] | None = None,
) -> Path:
    """MRD file of a :class:`~mrsim.kspace.corrupt.CorruptionResult` (``mrsim corrupt
    --save-ismrmrd``).

    With ``clean_image`` (the input of :func:`~mrsim.kspace.corrupt.corrupt`, with its
    ``voxel_size_mm`` and ``orientation``) the motion-free, noise-free k-space is added in
    :data:`MOTION_FREE_GROUP`, computed by :class:`~mrsim.kspace.operator.MotionOperator`
    with identity poses and the same coils.
    """
    s = result.schedule
    k = result.kspace
    coils = result.coil_sensitivities
    lines = s.from_grid(k if coils is not None else k[None])
    motion_free = None
    if clean_image is not None:
        from mrsim.kspace.nufft_options import NufftOptions
        from mrsim.kspace.operator import MotionOperator
        from mrsim.kspace.poses import LinePoses

        op = MotionOperator(
            s,
            LinePoses.identity(s.n_lines),
            None,
            voxel_size_mm,
            image_shape=np.shape(clean_image),
            orientation=orientation,
            coil_sensitivities=coils,
            coil_terms=result.settings.get("coil_terms"),
            options=NufftOptions(eps=result.settings.get("eps", 1e-4)),
        )
        motion_free = op.forward(np.asarray(clean_image)).reshape(lines.shape)
    return write_ismrmrd(
        path,
        lines,
        s,
        affine,
        result.params,
        motion_free_lines=motion_free,
        sensitivities=coils,
        sequence=sequence,
        settings=result.settings,
    )
