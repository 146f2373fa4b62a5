"""ISMRMRD / MRD raw data out and in, with the true head pose of every readout.

MRD (Inati et al. 2017) is the raw-data format of Gadgetron, mrpro, MRIReco.jl, KomaMRI and
MRzero. :func:`write_ismrmrd` stores mrsim's Cartesian lines as one ``Acquisition`` per
readout in acquisition order; :func:`read_ismrmrd` reads Cartesian MRD written by mrsim or
by any other writer (e.g. the ``ismrmrd`` package's own API) into a
:class:`~mrsim.io.raw.RawData`. The layout other tools can rely on is in docs/recon.md:

* XML header: encoded and recon spaces (matrix = (readout, phase-encode 1, phase-encode 2)
  array axes, FOV in mm), encoding limits of ``kspace_encoding_step_1/2`` (centre = grid
  index ``n // 2``, the DC line), Cartesian trajectory, ``receiverChannels``, sequence
  parameters the schedule knows (MP-RAGE: TI, echo spacing, shot TR in ms), and
  ``userParameters`` with the exact NIfTI affine (``mrsim_affine``, JSON), the readout
  array axis and the pose convention.
* Per acquisition: ``idx.kspace_encode_step_1/2`` (0-based grid index), ``scan_counter``
  (acquisition order), ``acquisition_time_stamp`` (2.5 ms ticks, the Siemens convention
  that mrpro assumes), ``center_sample = n_readout // 2``, ``read_dir``/``phase_dir``/
  ``slice_dir`` (unit vectors of the readout / phase-encode 1 / phase-encode 2 array axes)
  and ``position`` (world position of voxel ``n // 2`` on every axis, the FOV centre about
  which mrsim rotates) in MRD's patient frame LPS, ``user_int[0]`` = shot, ``user_float[0:6]``
  = the line's true head pose ``tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg`` in mrsim's
  world (RAS+) convention (docs/physics.md §1), ``user_float[6]`` = line time in s.
* RAS <-> LPS: ``(x, y, z)_LPS = (-x, -y, z)_RAS`` for positions and directions; a pose
  ``(R, t)`` in RAS is ``(F R F, F t)`` in LPS with ``F = diag(-1, -1, 1)``.
* Optional: the motion-free k-space in a second group (``dataset_motion_free``, same layout,
  identity poses) and the receive maps at ``/mrsim/coil_sensitivities`` (outside the MRD
  groups, so MRD readers ignore them).

References
----------
S. J. Inati et al., "ISMRM Raw data format: A proposed standard for MRI raw datasets",
Magn. Reson. Med. 77 (2017) 411-421.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mrsim.errors import MrsimInputError
from mrsim.io.atomic import atomic_path
from mrsim.io.raw import RawData
from mrsim.kspace.schedule import Schedule

__all__ = [
    "MOTION_FREE_GROUP",
    "POSE_CONVENTION",
    "ras_to_lps",
    "write_ismrmrd",
    "write_corruption_ismrmrd",
    "read_ismrmrd",
    "is_ismrmrd",
]

#: Group of the motion-free k-space written next to the default ``dataset`` group.
MOTION_FREE_GROUP = "dataset_motion_free"
#: Value of the ``mrsim_pose_convention`` user parameter (what ``user_float[0:7]`` holds).
POSE_CONVENTION = (
    "user_float[0:6] = tx_mm, ty_mm, tz_mm, rx_deg, ry_deg, rz_deg: true head pose of the line "
    "in the world RAS+ frame, about the FOV centre (position), R = Rz Ry Rx; "
    "user_float[6] = line time in s; user_int[0] = shot"
)
_TICK_S = 2.5e-3  # acquisition_time_stamp unit (Siemens convention)
_LPS = np.array([-1.0, -1.0, 1.0])
# Acquisitions that are not image lines (noise, navigators, calibration-only, ...).
_SKIP_FLAGS = (
    "ACQ_IS_NOISE_MEASUREMENT",
    "ACQ_IS_NAVIGATION_DATA",
    "ACQ_IS_PHASECORR_DATA",
    "ACQ_IS_HPFEEDBACK_DATA",
    "ACQ_IS_DUMMYSCAN_DATA",
    "ACQ_IS_RTFEEDBACK_DATA",
    "ACQ_IS_SURFACECOILCORRECTIONSCAN_DATA",
    "ACQ_IS_PARALLEL_CALIBRATION",
    "ACQ_IS_PHASE_STABILIZATION_REFERENCE",
    "ACQ_IS_PHASE_STABILIZATION",
)


def ras_to_lps(v: np.ndarray) -> np.ndarray:
    """World RAS+ coordinates (or directions) -> MRD patient LPS (its own inverse)."""
    return np.asarray(v, dtype=float) * _LPS


def _flag(name: str) -> int:
    import ismrmrd

    return 1 << (int(getattr(ismrmrd, name)) - 1)


# ---------------------------------------------------------------------- writing
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
    h["acquisition_time_stamp"] = np.round(schedule.time_s / _TICK_S).astype(np.uint32)
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
    first = _flag("ACQ_FIRST_IN_SLICE") | _flag("ACQ_FIRST_IN_REPETITION")
    last = (
        _flag("ACQ_LAST_IN_SLICE")
        | _flag("ACQ_LAST_IN_REPETITION")
        | _flag("ACQ_LAST_IN_MEASUREMENT")
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


# ---------------------------------------------------------------------- reading
def is_ismrmrd(path: str | Path) -> bool:
    """Whether ``path`` is an HDF5 file with an MRD group (``xml`` and ``data``)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return _find_group(f) is not None
    except OSError:
        return False


def _find_group(f, group: str | None = None) -> str | None:
    if group is not None:
        return group if group in f and "xml" in f[group] and "data" in f[group] else None
    names = ["dataset"] + sorted(k for k in f if k != "dataset")
    for name in names:
        g = f.get(name)
        if g is not None and hasattr(g, "keys") and "xml" in g and "data" in g:
            return name
    return None


def read_ismrmrd(path: str | Path, group: str | None = None) -> RawData:
    """Read Cartesian MRD raw data (mrsim's or any other writer's) into a ``RawData``.

    Imaging acquisitions (noise, navigator, calibration-only and similar scans skipped) are
    placed by ``idx.kspace_encode_step_1/2`` relative to the encoding limits' centres and by
    ``center_sample`` along the readout; repeated lines (averages, repetitions) are
    averaged. The grid is (readout, phase-encode 1, phase-encode 2), or mrsim's array order
    for files mrsim wrote. Geometry: mrsim's exact affine when present, else from
    ``read_dir``/``phase_dir``/``slice_dir``/``position`` (LPS -> RAS) and the encoded FOV;
    identity directions when a file gives none. Per-line poses are read only from files
    that declare :data:`POSE_CONVENTION`.

    Parameters
    ----------
    path : str or Path
    group : str, optional
        MRD group; default ``dataset`` or the first group holding ``xml`` and ``data``.

    Raises
    ------
    MrsimInputError
        Not HDF5, not MRD, non-Cartesian trajectory, missing encoding limits, inconsistent
        channel or sample counts, lines outside the encoded matrix.
    """
    import h5py
    import ismrmrd.xsd

    p = Path(path)
    try:
        f = h5py.File(p, "r")
    except (OSError, FileNotFoundError) as exc:
        raise MrsimInputError(
            f"{p}: not a readable HDF5 file, so not MRD raw data ({exc})"
        ) from exc
    with f:
        name = _find_group(f, group)
        if name is None:
            raise MrsimInputError(
                f"{p}: not an ISMRMRD/MRD file (no group{' /' + group if group else ''} "
                "holding 'xml' and 'data' datasets; expected `mrsim corrupt --save-ismrmrd` "
                "output or MRD from another writer)"
            )
        where = f"{p}:/{name}"
        try:
            header = ismrmrd.xsd.CreateFromDocument(f[name]["xml"][0])
        except Exception as exc:  # xsdata raises several parser errors
            raise MrsimInputError(f"{where}/xml: not a valid MRD XML header ({exc})") from exc
        records = f[name]["data"][()]
        sens = None
        if "mrsim" in f and "coil_sensitivities" in f["mrsim"]:
            sens = np.asarray(f["mrsim/coil_sensitivities"][()])
    return _raw_from_header(header, records, sens, where)


def _user(header, kind: str) -> dict:
    up = header.userParameters
    if up is None:
        return {}
    return {u.name: u.value for u in getattr(up, kind)}


def _raw_from_header(header, records: np.ndarray, sens, where: str) -> RawData:
    import ismrmrd.xsd as x

    if not header.encoding:
        raise MrsimInputError(f"{where}/xml: no <encoding> section")
    enc = header.encoding[0]
    if enc.trajectory != x.trajectoryType.CARTESIAN:
        value = getattr(enc.trajectory, "value", enc.trajectory)
        raise MrsimInputError(
            f"{where}/xml: encoding trajectory is {value!r}; mrsim reads Cartesian MRD only "
            "(trajectory 'cartesian')"
        )
    em = enc.encodedSpace.matrixSize
    n_enc = (int(em.x), int(em.y), int(em.z or 1))
    lim = enc.encodingLimits
    if lim is None or lim.kspace_encoding_step_1 is None:
        raise MrsimInputError(
            f"{where}/xml: encodingLimits/kspace_encoding_step_1 is missing (needed to place "
            "the phase-encode lines; expected minimum, maximum and center)"
        )
    if lim.kspace_encoding_step_2 is None and n_enc[2] > 1:
        raise MrsimInputError(
            f"{where}/xml: encodingLimits/kspace_encoding_step_2 is missing for a 3D encoding "
            f"(matrix z = {n_enc[2]})"
        )
    c1 = int(lim.kspace_encoding_step_1.center)
    c2 = int(lim.kspace_encoding_step_2.center) if lim.kspace_encoding_step_2 else 0
    h = records["head"]
    skip = 0
    for fl in _SKIP_FLAGS:
        skip |= _flag(fl)
    img = (h["flags"] & np.uint64(skip)) == 0
    if not img.any():
        raise MrsimInputError(f"{where}: no imaging acquisitions (only noise/calibration scans)")
    h, data = h[img], records["data"][img]
    chans = np.unique(h["active_channels"])
    expected = None
    if header.acquisitionSystemInformation is not None:
        expected = header.acquisitionSystemInformation.receiverChannels
    if len(chans) != 1 or (expected is not None and int(chans[0]) != int(expected)):
        raise MrsimInputError(
            f"{where}: inconsistent channel counts: acquisitions have active_channels "
            f"{chans.tolist()}, header receiverChannels {expected}"
        )
    C = int(chans[0])
    ns = np.unique(h["number_of_samples"])
    pre, post = np.unique(h["discard_pre"]), np.unique(h["discard_post"])
    centre = np.unique(h["center_sample"])
    if len(ns) != 1 or len(pre) != 1 or len(post) != 1 or len(centre) != 1:
        raise MrsimInputError(
            f"{where}: imaging acquisitions differ in number_of_samples / discard / "
            "center_sample; mrsim reads one readout length per file"
        )
    S = int(ns[0])
    try:
        raw = np.stack([np.asarray(d, np.float32) for d in data])
        raw = raw.view(np.complex64).reshape(-1, C, S)[..., int(pre[0]) : S - int(post[0])]
    except ValueError as exc:
        raise MrsimInputError(f"{where}: acquisition data do not hold channels x samples") from exc
    cs = int(centre[0]) - int(pre[0])
    nx, ny, nz = n_enc
    y = h["idx"]["kspace_encode_step_1"].astype(np.int64) - c1 + ny // 2
    z = h["idx"]["kspace_encode_step_2"].astype(np.int64) - c2 + nz // 2
    if y.min() < 0 or y.max() >= ny or z.min() < 0 or z.max() >= nz:
        raise MrsimInputError(
            f"{where}: kspace_encode_step_1/2 outside the encoded matrix {n_enc} given the "
            f"encoding limits' centres ({c1}, {c2})"
        )
    # Readout samples onto the encoded readout grid (DC at nx // 2).
    j = np.arange(raw.shape[-1]) - cs + nx // 2
    keep = (j >= 0) & (j < nx)
    ro_lines = np.zeros((raw.shape[0], C, nx), np.complex64)
    ro_lines[..., j[keep]] = raw[..., keep]
    # Repeated lines (averages, repetitions): the mean.
    key = y * nz + z
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first)  # acquisition order of the first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    slot = rank[inv.reshape(-1)]
    lines = np.zeros((len(uniq), C, nx), np.complex128)
    np.add.at(lines, slot, ro_lines)
    counts = np.bincount(slot, minlength=len(uniq))
    lines /= counts[:, None, None]
    h_first = h[first[order]]
    strings = _user(header, "userParameterString")
    longs = _user(header, "userParameterLong")
    mrsim_file = strings.get("mrsim_pose_convention") == POSE_CONVENTION
    ro = int(longs.get("mrsim_readout_axis", 0)) if mrsim_file else 0
    pe_axes = tuple(a for a in range(3) if a != ro)
    shape = [0, 0, 0]
    shape[ro], shape[pe_axes[0]], shape[pe_axes[1]] = nx, ny, nz
    pe = np.stack([y[first[order]] - ny // 2, z[first[order]] - nz // 2], axis=1)
    if mrsim_file:
        time_s = h_first["user_float"][:, 6].astype(float)
        shot = h_first["user_int"][:, 0]
    else:
        time_s = h_first["acquisition_time_stamp"].astype(float) * _TICK_S
        shot = np.zeros(len(pe), np.int64)
    schedule = Schedule(tuple(shape), ro, pe, time_s, shot, name=f"MRD {where}")
    params = h_first["user_float"][:, :6].astype(float) if mrsim_file else None
    efov = enc.encodedSpace.fieldOfView_mm
    vox_enc = np.array([efov.x / nx, efov.y / ny, (efov.z or 1.0) / nz])
    affine = _affine(strings, h_first[0], vox_enc, shape, ro, pe_axes)
    rm = enc.reconSpace.matrixSize
    recon_enc = (min(int(rm.x), nx), min(int(rm.y), ny), min(int(rm.z or 1), nz))
    recon_shape = None
    if recon_enc != n_enc:
        recon_shape = [0, 0, 0]
        recon_shape[ro], recon_shape[pe_axes[0]], recon_shape[pe_axes[1]] = recon_enc
        recon_shape = tuple(recon_shape)
    if sens is not None and sens.shape != (C, *shape):
        sens = None
    terms = None
    if mrsim_file and "mrsim_settings" in strings:
        t = json.loads(strings["mrsim_settings"]).get("coil_terms")
        terms = None if t is None else tuple(int(v) for v in t)
    return RawData(
        lines=np.ascontiguousarray(np.moveaxis(lines, 1, 0)),
        schedule=schedule,
        affine=affine,
        line_params=params,
        sensitivities=sens,
        coil_terms=terms,
        recon_shape=recon_shape,
        source=where,
        attrs={"repeats_averaged": int(counts.max()), "mrsim_file": mrsim_file},
    )


def _affine(strings: dict, h0, vox_enc: np.ndarray, shape, ro: int, pe_axes) -> np.ndarray:
    """Voxel -> RAS affine of the grid: mrsim's own when stored, else from the directions."""
    if "mrsim_affine" in strings:
        A = np.asarray(json.loads(strings["mrsim_affine"]), float)
        if A.shape == (4, 4):
            return A
    dirs = [np.asarray(h0[k], float) for k in ("read_dir", "phase_dir", "slice_dir")]
    axes = (ro, *pe_axes)
    D = np.eye(3)
    if all(np.linalg.norm(d) > 0.5 for d in dirs):
        for a, d in zip(axes, dirs, strict=True):
            D[:, a] = ras_to_lps(d) / np.linalg.norm(d)
    vox = np.empty(3)
    for a, v in zip(axes, vox_enc, strict=True):
        vox[a] = v
    A = np.eye(4)
    A[:3, :3] = D * vox[None, :]
    centre = ras_to_lps(np.asarray(h0["position"], float))
    A[:3, 3] = centre - A[:3, :3] @ (np.asarray(shape) // 2)
    return A
