"""ISMRMRD/MRD raw data: mrsim's writer and reader, files written by the ismrmrd package's
own API, bad input, and the `mrsim corrupt --save-ismrmrd` / `mrsim recon` round trip."""

import ismrmrd
import ismrmrd.xsd
import numpy as np
import pytest

from mrsim.cli import main
from mrsim.errors import MrsimInputError
from mrsim.io.ismrmrd import MOTION_FREE_GROUP, ras_to_lps, read_ismrmrd, write_ismrmrd
from mrsim.io.nifti import load_volume, save_volume
from mrsim.kspace.fft import fft_centered
from mrsim.kspace.schedule import mprage_schedule
from mrsim.recon import reconstruct


def _external_file(path, coils=4, matrix=16, oversampling=2, noise_scans=4, **broken):
    """A 2D Cartesian MRD file written with the ismrmrd package's API, the way
    ismrmrd-python-tools' generate_cartesian_shepp_logan_dataset.py does (readout
    oversampling, noise scans first, one acquisition per phase-encode line, (coil, sample)
    data, k-space by a centred orthonormal FFT). Returns the coil images (coil, y, x)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:matrix, :matrix] - matrix // 2
    phan = ((xx / (0.35 * matrix)) ** 2 + (yy / (0.25 * matrix)) ** 2 < 1).astype(float)
    csm = np.stack([np.exp(1j * c + 0.02 * (c + 1) * xx) for c in range(coils)])
    coil_images = phan * csm
    pad = (oversampling * matrix - matrix) // 2
    coil_images_os = np.pad(coil_images, ((0, 0), (0, 0), (pad, pad)))
    nkx, nky = oversampling * matrix, matrix
    dset = ismrmrd.Dataset(str(path), "dataset", create_if_needed=True)
    # (the example's attribute-by-attribute style, with the keyword arguments that the
    # xsdata-based ismrmrd >= 1.14 requires at construction)
    exp = ismrmrd.xsd.experimentalConditionsType(H1resonanceFrequency_Hz=128000000)
    header = ismrmrd.xsd.ismrmrdHeader(experimentalConditions=exp)
    sys = ismrmrd.xsd.acquisitionSystemInformationType()
    sys.receiverChannels = broken.get("header_channels", coils)
    header.acquisitionSystemInformation = sys
    efov = ismrmrd.xsd.fieldOfViewMm(x=oversampling * 256.0, y=256.0, z=5.0)
    rfov = ismrmrd.xsd.fieldOfViewMm(x=256.0, y=256.0, z=5.0)
    espace = ismrmrd.xsd.encodingSpaceType(
        matrixSize=ismrmrd.xsd.matrixSizeType(x=nkx, y=nky, z=1), fieldOfView_mm=efov
    )
    rspace = ismrmrd.xsd.encodingSpaceType(
        matrixSize=ismrmrd.xsd.matrixSizeType(x=matrix, y=matrix, z=1), fieldOfView_mm=rfov
    )
    limits = ismrmrd.xsd.encodingLimitsType()
    if not broken.get("no_limits"):
        limits.kspace_encoding_step_1 = ismrmrd.xsd.limitType(
            minimum=0, center=round(nky / 2), maximum=nky - 1
        )
    rest = ismrmrd.xsd.limitType(minimum=0, center=0, maximum=0)
    limits.kspace_encoding_step_0 = rest
    limits.slice = rest
    limits.repetition = rest
    enc = ismrmrd.xsd.encodingType(
        encodedSpace=espace,
        reconSpace=rspace,
        encodingLimits=limits,
        trajectory=broken.get("trajectory", ismrmrd.xsd.trajectoryType.CARTESIAN),
    )
    header.encoding.append(enc)
    dset.write_xml_header(header.toXML("utf-8"))
    # centred orthonormal FFT over (y, x), as ismrmrdtools.transform does
    K = fft_centered(coil_images_os, axes=(1, 2))
    acq = ismrmrd.Acquisition()
    acq.resize(nkx, coils)
    acq.version = 1
    acq.available_channels = coils
    acq.center_sample = round(nkx / 2)
    acq.read_dir[0] = 1.0
    acq.phase_dir[1] = 1.0
    acq.slice_dir[2] = 1.0
    counter = 0
    for _ in range(noise_scans):
        acq.scan_counter = counter
        acq.clearAllFlags()
        acq.setFlag(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)
        acq.data[:] = rng.standard_normal((coils, nkx)) + 1j * rng.standard_normal((coils, nkx))
        dset.append_acquisition(acq)
        counter += 1
    for line in range(nky):
        if broken.get("bad_channels") and line == 3:
            acq.resize(nkx, coils - 1)
        acq.scan_counter = counter
        acq.idx.kspace_encode_step_1 = line
        acq.clearAllFlags()
        if line == 0:
            acq.setFlag(ismrmrd.ACQ_FIRST_IN_SLICE)
        elif line == nky - 1:
            acq.setFlag(ismrmrd.ACQ_LAST_IN_SLICE)
        acq.data[:] = K[: acq.data.shape[0], line, :]
        dset.append_acquisition(acq)
        counter += 1
    dset.close()
    return coil_images


def test_reads_a_file_written_with_the_ismrmrd_api(tmp_path):
    path = tmp_path / "shepp.h5"
    coil_images = _external_file(path)
    raw = read_ismrmrd(path)
    assert raw.n_coils == 4 and raw.schedule.n_lines == 16 and raw.line_params is None
    assert raw.schedule.shape == (32, 16, 1) and raw.recon_shape == (16, 16, 1)
    res = reconstruct(raw)
    assert res.method == "rss" and res.image.shape == (16, 16, 1)
    # array axes (x = readout, y = phase encode, z): the writer's coil images are (c, y, x)
    rss = np.sqrt(np.sum(np.abs(coil_images) ** 2, axis=0)).T[:, :, None]
    np.testing.assert_allclose(res.image, rss, atol=1e-5)
    # geometry: 256 mm / 16 voxels, identity directions (LPS x -> RAS -x)
    np.testing.assert_allclose(np.abs(np.diag(res.affine)[:2]), [16.0, 16.0])
    np.testing.assert_allclose(res.affine[:3, 0], [-16.0, 0, 0])


@pytest.mark.parametrize(
    "broken, match",
    [
        ({"no_limits": True}, "kspace_encoding_step_1 is missing"),
        ({"trajectory": ismrmrd.xsd.trajectoryType.RADIAL}, "Cartesian MRD only"),
        ({"bad_channels": True}, "inconsistent channel counts"),
        ({"header_channels": 8}, "inconsistent channel counts"),
    ],
)
def test_bad_mrd_files(tmp_path, broken, match):
    path = tmp_path / "bad.h5"
    _external_file(path, **broken)
    with pytest.raises(MrsimInputError, match=match):
        read_ismrmrd(path)


def test_not_mrd(tmp_path):
    import h5py

    txt = tmp_path / "a.h5"
    txt.write_text("not hdf5")
    with pytest.raises(MrsimInputError, match="not a readable HDF5"):
        read_ismrmrd(txt)
    other = tmp_path / "b.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(MrsimInputError, match="not an ISMRMRD/MRD file"):
        read_ismrmrd(other)


def test_writer_layout_and_round_trip(tmp_path):
    """Written with mrsim, read back by the ismrmrd package itself and by mrsim."""
    rng = np.random.default_rng(1)
    shape = (12, 10, 8)
    s = mprage_schedule(shape, readout_axis=1)
    A = np.array([[0, -1.5, 0, 10], [1.2, 0, 0, -5], [0, 0, 2.0, 3], [0, 0, 0, 1.0]])
    lines = rng.standard_normal((2, s.n_lines, s.n_readout)) + 0j
    params = rng.uniform(-3, 3, (s.n_lines, 6))
    sens = rng.standard_normal((2, *shape)) + 0j
    path = write_ismrmrd(
        tmp_path / "raw.h5", lines, s, A, params, motion_free_lines=lines * 0.5,
        sensitivities=sens, sequence={"ti_s": 0.9, "echo_spacing_s": 0.007},
    )  # fmt: skip
    dset = ismrmrd.Dataset(str(path), "dataset", create_if_needed=False)
    hdr = ismrmrd.xsd.CreateFromDocument(dset.read_xml_header())
    enc = hdr.encoding[0]
    assert (enc.encodedSpace.matrixSize.x, enc.encodedSpace.matrixSize.y) == (10, 12)
    assert enc.encodedSpace.fieldOfView_mm.x == pytest.approx(15.0)  # readout: array axis 1
    assert enc.encodingLimits.kspace_encoding_step_1.center == 6
    assert hdr.sequenceParameters.TI == [900.0]
    assert dset.number_of_acquisitions() == s.n_lines
    acq = dset.read_acquisition(5)
    np.testing.assert_allclose(acq.data, lines[:, 5], atol=1e-6)
    assert acq.scan_counter == 5 and acq.center_sample == 5 and acq.active_channels == 2
    assert acq.idx.kspace_encode_step_1 == s.pe_index[5, 0] + 6
    np.testing.assert_allclose(acq.user_float[:6], params[5], rtol=1e-6)
    # read_dir = world direction of array axis 1 (RAS -x), in LPS (+x)
    np.testing.assert_allclose(acq.read_dir, ras_to_lps([-1.0, 0, 0]))
    centre = A[:3] @ np.array([6, 5, 4, 1.0])
    np.testing.assert_allclose(acq.position, ras_to_lps(centre), rtol=1e-6)
    dset.close()
    raw = read_ismrmrd(path)
    assert raw.schedule.shape == shape and raw.schedule.readout_axis == 1
    np.testing.assert_array_equal(raw.schedule.pe_index, s.pe_index)
    np.testing.assert_allclose(raw.lines, lines, atol=1e-6)
    np.testing.assert_allclose(raw.line_params, params, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(raw.schedule.time_s, s.time_s, rtol=1e-6)
    np.testing.assert_array_equal(raw.affine, A)
    np.testing.assert_allclose(raw.sensitivities, sens, atol=1e-6)
    mf = read_ismrmrd(path, MOTION_FREE_GROUP)
    np.testing.assert_allclose(mf.lines, 0.5 * lines, atol=1e-6)
    assert not np.any(mf.line_params)


@pytest.mark.parametrize("coils", [None, 3])
def test_cli_corrupt_save_ismrmrd_then_recon(tmp_path, coils):
    """`mrsim corrupt --save-ismrmrd`: the FFT/SENSE reconstruction of the MRD lines equals
    corrupted.nii.gz; the poses read back equal the poses written; `mrsim recon
    --known-motion` on it beats the corrupted image; the motion-free group gives clean."""
    from mrsim.io.raw import read_mrsim_kspace
    from mrsim.metrics import nrmse
    from mrsim.motion import pace_like
    from mrsim.motion.formats import write_trajectory
    from mrsim.phantoms.shepp_logan import shepp_logan_image

    shape = (24, 24, 20)
    affine = np.diag([2.0, 2.0, 2.4, 1.0])
    affine[:3, 3] = [-24.0, -20.0, -30.0]
    save_volume(tmp_path / "in.nii.gz", shepp_logan_image(shape, (2.0, 2.0, 2.4)), affine)
    traj = pace_like(seed=2, scale=2.0, duration_s=20 * 2.3)
    write_trajectory(traj, tmp_path / "traj.csv")
    out = tmp_path / "out"
    argv = ["corrupt", "--trajectory", str(tmp_path / "traj.csv"), "--input",
            str(tmp_path / "in.nii.gz"), "--complex", "-o", str(out),
            "--save-ismrmrd", str(out / "raw.h5"), "--save-kspace", str(out / "k.h5")]  # fmt: skip
    if coils:
        argv += ["--coils", str(coils)]
    assert main(argv) == 0
    corrupted, aff = load_volume(out / "corrupted.nii.gz", dtype=np.complex64)
    clean, _ = load_volume(out / "clean.nii.gz", dtype=np.complex64)
    raw = read_ismrmrd(out / "raw.h5")
    fft = reconstruct(raw)
    np.testing.assert_allclose(fft.image, corrupted, atol=1e-5 * np.abs(corrupted).max())
    np.testing.assert_allclose(fft.affine, aff, atol=1e-6)
    ks = read_mrsim_kspace(out / "k.h5")
    np.testing.assert_allclose(raw.line_params, ks.line_params, rtol=1e-6, atol=1e-5)
    mf = reconstruct(read_ismrmrd(out / "raw.h5", MOTION_FREE_GROUP))
    np.testing.assert_allclose(mf.image, clean, atol=1e-4 * np.abs(clean).max())
    assert main(["recon", str(out / "raw.h5"), "--known-motion", "--iterations", "15",
                 "-o", str(out / "km.nii.gz")]) == 0  # fmt: skip
    km, aff_km = load_volume(out / "km.nii.gz")
    np.testing.assert_array_equal(aff_km, aff)
    ref = np.abs(clean)
    assert nrmse(ref, km) < 0.2 * nrmse(ref, np.abs(corrupted))
    assert main(["recon", str(out / "k.h5"), "-o", str(out / "fft.nii.gz"), "--complex"]) == 0
    k_fft, _ = load_volume(out / "fft.nii.gz", dtype=np.complex64)
    np.testing.assert_allclose(k_fft, corrupted, atol=1e-5 * np.abs(corrupted).max())
    # the mrsim k-space file gives the same known-motion reconstruction as the MRD file
    assert main(["recon", str(out / "k.h5"), "--known-motion", "--iterations", "15",
                 "-o", str(out / "km_k.nii.gz")]) == 0  # fmt: skip
    km_k, _ = load_volume(out / "km_k.nii.gz")
    np.testing.assert_allclose(km_k, km, atol=1e-4 * km.max())


def test_cli_recon_errors(tmp_path, capsys):
    assert main(["recon", str(tmp_path / "missing.h5"), "-o", str(tmp_path / "x.nii.gz")]) == 2
    assert "no such file" in capsys.readouterr().err
    path = tmp_path / "ext.h5"
    _external_file(path)
    rc = main(["recon", str(path), "--known-motion", "-o", str(tmp_path / "x.nii.gz")])
    assert rc == 2 and "no per-line poses" in capsys.readouterr().err
