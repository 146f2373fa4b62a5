"""Option objects of the engine: validation in one place, provenance with the geometry."""

import json

import numpy as np
import pytest

from mrsim.errors import MrsimInputError
from mrsim.kspace import (
    CorruptionSettings,
    LinePoses,
    NufftOptions,
    corrupt,
    line_poses,
    moved_kspace,
    mprage_schedule,
    poses_for_schedule,
)
from mrsim.motion import pace_like
from mrsim.motion.rigid import rotation_matrix
from mrsim.phantoms.shepp_logan import shepp_logan_image


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(eps=0), "eps"),
        (dict(eps="x"), "eps"),
        (dict(backend="cufinufft"), "backend"),
        (dict(upsampling=1.0), "upsampling"),
        (dict(threads=0), "threads"),
        (dict(threads=1.5), "threads"),
        (dict(precision="half"), "precision"),
        (dict(eps=1e-6, precision="single"), "does not serve eps"),
        (dict(eps=1e-4, precision="double"), "does not serve eps"),
    ],
)
def test_nufft_options_refuse_bad_values(kw, match):
    with pytest.raises(MrsimInputError, match=match):
        NufftOptions(**kw)


def test_nufft_options_provenance_and_aliases():
    o = NufftOptions(eps=1e-4)
    assert o.to_dict() == {
        "backend": "finufft",
        "eps": 1e-4,
        "upsampling": None,
        "precision": "single",
        "threads": None,
        "fast_path": True,
    }
    assert o.updated(nthreads=2, upsampfac=1.25) == NufftOptions(1e-4, 1.25, threads=2)
    with pytest.raises(TypeError, match="unknown NUFFT option"):
        o.updated(tolerance=1e-3)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(voxel_size_mm=-1.0), "voxel_size_mm"),
        (dict(voxel_size_mm=(1.0, 2.0, 1.0, 1.0)), "voxel_size_mm"),
        (dict(mapping="warp"), "mapping"),
        (dict(method="cubic"), "method"),
        (dict(granularity="slab"), "granularity"),
        (dict(output="phase"), "output"),
        (dict(coil_method="sense"), "coil_method"),
        (dict(noise_snr=0), "SNR"),
        (dict(orientation=np.diag([1.0, 2.0, 1.0])), "orthonormal"),
        (dict(nufft=dict(eps=1e-4)), "NufftOptions"),
    ],
)
def test_corruption_settings_refuse_bad_values(kw, match):
    with pytest.raises(MrsimInputError, match=match):
        CorruptionSettings(**kw)


def test_settings_from_affine_record_the_geometry():
    A = np.array([[0.0, 0.0, -2.0, 90.0], [1.5, 0.0, 0.0, -120.0], [0.0, 1.5, 0.0, -70.0]])
    A = np.vstack([A, [0, 0, 0, 1]])
    st = CorruptionSettings.from_affine(A, eps=1e-3, mapping="stretch")
    assert st.voxel_size_mm == (1.5, 1.5, 2.0) and st.nufft.eps == 1e-3
    d = st.to_dict()
    json.dumps(d)
    np.testing.assert_allclose(d["affine"], A)
    np.testing.assert_allclose(d["orientation"], A[:3, :3] / [1.5, 1.5, 2.0])
    assert d["mapping"] == "stretch" and d["nufft"]["precision"] == "single"
    with pytest.raises(MrsimInputError, match="orientation must match"):
        CorruptionSettings(voxel_size_mm=(1.5, 1.5, 2.0), affine=A)
    with pytest.raises(MrsimInputError, match="sheared"):
        CorruptionSettings.from_affine(
            np.array([[1, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
        )


def test_settings_object_equals_the_keyword_call():
    n = (16, 16, 12)
    img = shepp_logan_image(n, 1.5)
    s = mprage_schedule(n)
    traj = pace_like(n=32, duration_s=s.duration_s + 1, scale=4, seed=2)
    old = corrupt(img, traj, s, 1.5, granularity="shot", eps=1e-4, nthreads=1, noise_snr=30, seed=4)
    st = CorruptionSettings(
        voxel_size_mm=1.5,
        granularity="shot",
        noise_snr=30,
        seed=4,
        nufft=NufftOptions(1e-4, threads=1),
    )
    new = corrupt(img, traj, s, settings=st)
    assert new.kspace.tobytes() == old.kspace.tobytes()
    assert new.image.tobytes() == old.image.tobytes()
    assert new.settings == old.settings
    # provenance: the orientation is recorded (identity here) and the result regenerates
    assert new.settings["orientation"] == np.eye(3).tolist()
    again = corrupt(img, traj, s, settings=st)
    assert again.image.tobytes() == new.image.tobytes()


def test_line_poses_is_the_tuple_form():
    s = mprage_schedule((12, 12, 8))
    traj = pace_like(n=16, duration_s=s.duration_s + 1, scale=4, seed=0)
    p = line_poses(traj, s, granularity="shot")
    R, t, params = poses_for_schedule(traj, s, granularity="shot")
    assert isinstance(p, LinePoses)
    assert np.array_equal(p.rotations, R) and np.array_equal(p.translations_mm, t)
    assert np.array_equal(p.params, params)
    assert 1 < p.n_states <= s.n_shots  # one pose per shot
    assert p.to_dict()["granularity"] == "shot" and p.to_dict()["n_lines"] == s.n_lines
    # state index: lines of one state share one pose
    for k in range(p.n_states):
        sel = p.state == k
        assert np.all(p.params[sel] == p.params[sel][0])
    # no trajectory: identity
    none = line_poses(None, s)
    assert none.n_states == 1 and not np.any(none.translations_mm)


def test_line_poses_feed_the_engine():
    n = (12, 12, 8)
    img = shepp_logan_image(n, 2.0)
    s = mprage_schedule(n)
    traj = pace_like(n=16, duration_s=s.duration_s + 1, scale=4, seed=1)
    p = line_poses(traj, s)
    a = moved_kspace(img, s, p, None, 2.0, options=NufftOptions(1e-4, threads=1))
    b = moved_kspace(img, s, p.rotations, p.translations_mm, 2.0, eps=1e-4, nthreads=1)
    assert a.tobytes() == b.tobytes()
    with pytest.raises(MrsimInputError, match="translations_mm only"):
        moved_kspace(img, s, p, p.translations_mm)
    with pytest.raises(MrsimInputError, match="one pose per schedule line"):
        LinePoses.from_arrays(rotation_matrix(np.zeros((3, 3))), np.zeros((3, 3)), s.n_lines)
    with pytest.raises(TypeError, match="unexpected keyword"):
        moved_kspace(img, s, p, tolerance=1e-3)
