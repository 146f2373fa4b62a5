"""The mrsim k-space file (``--save-kspace``): writer and reader round trip."""

import h5py
import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.io.kspace_file import read_kspace_file, write_kspace_file
from mrsim.kspace import CorruptionSettings, birdcage_sensitivities, corrupt, mprage_schedule
from mrsim.motion import pace_like
from mrsim.phantoms.shepp_logan import shepp_logan_image

N = (12, 12, 8)


def _affine():
    A = np.diag([-1.5, 1.5, 2.0, 1.0])
    A[:3, 3] = [9.0, -9.0, -8.0]
    return A


@pytest.mark.parametrize("coils", [None, 3])
def test_round_trip(tmp_path, coils):
    img = shepp_logan_image(N, 1.5)
    s = mprage_schedule(N)
    traj = pace_like(n=16, duration_s=s.duration_s + 1, scale=4, seed=0)
    sens = None if coils is None else birdcage_sensitivities(N, 1.5, coils)
    st = CorruptionSettings.from_affine(_affine(), noise_snr=40, seed=1, coil_method="fourier")
    res = corrupt(img, traj, s, settings=st, coil_sensitivities=sens)
    path = write_kspace_file(tmp_path / "k.h5", res, _affine())
    got = read_kspace_file(path)
    assert got.kspace.dtype == np.complex64
    np.testing.assert_array_equal(got.kspace, res.kspace.astype(np.complex64))
    np.testing.assert_array_equal(got.line_params, res.params)
    np.testing.assert_array_equal(got.affine, _affine())
    assert got.settings == res.settings and got.severity == res.severity
    assert got.settings["affine"] == _affine().tolist()
    assert got.noise_sigma == res.noise_sigma
    sched = got.schedule()
    assert sched.shape == s.shape and sched.readout_axis == s.readout_axis
    assert sched.name == s.name
    for a in ("pe_index", "time_s", "shot"):
        np.testing.assert_array_equal(getattr(sched, a), getattr(s, a))
    if coils is None:
        assert got.n_coils == 0 and got.coil_sensitivities is None and got.coil_method is None
    else:
        assert got.n_coils == coils and got.coil_method == "fourier"
        assert got.coil_terms == res.settings["coil_terms"]
        np.testing.assert_array_equal(
            got.coil_sensitivities, res.coil_sensitivities.astype(np.complex64)
        )
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically


def test_reader_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        read_kspace_file(tmp_path / "nope.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(MrsimInputError, match="text.h5"):
        read_kspace_file(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(MrsimInputError, match="other.h5.*missing"):
        read_kspace_file(tmp_path / "other.h5")
    with h5py.File(tmp_path / "fmt.h5", "w") as f:
        f.attrs["format"] = "ismrmrd"
    with pytest.raises(MrsimInputError, match="fmt.h5.*format"):
        read_kspace_file(tmp_path / "fmt.h5")


def test_cli_provenance_has_the_geometry(tmp_path):
    """``mrsim corrupt`` writes CorruptionSettings.to_dict() (with the input's affine and
    orientation) to corruption.json and into the --save-kspace file, which reads back."""
    import json

    from mrsim.cli import main
    from mrsim.io.nifti import save_volume
    from mrsim.motion.formats import write_trajectory

    A = _affine()
    nii = save_volume(tmp_path / "in.nii.gz", shepp_logan_image(N, 1.5).astype(np.float32), A)
    s = mprage_schedule(N)
    csv = write_trajectory(pace_like(n=16, duration_s=s.duration_s + 5, seed=2), tmp_path / "m.csv")
    args = ["corrupt", "--trajectory", str(csv), "--input", str(nii), "--threads", "1"]
    assert main(args + ["--save-kspace", str(tmp_path / "k.h5"), "-o", str(tmp_path / "o")]) == 0
    prov = json.loads((tmp_path / "o" / "corruption.json").read_text())["settings"]
    np.testing.assert_allclose(prov["affine"], A)
    np.testing.assert_allclose(prov["orientation"], np.diag([-1.0, 1.0, 1.0]), atol=0)
    assert prov["voxel_size_mm"] == [1.5, 1.5, 2.0] and prov["nufft"]["eps"] == 1e-4
    got = read_kspace_file(tmp_path / "k.h5")
    assert got.settings == prov
    np.testing.assert_allclose(got.affine, A)  # same grid: the output affine is the input's
