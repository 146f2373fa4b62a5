"""Multi-coil k-space with the sensitivities' Fourier series (``coil_method="fourier"``).

References are independent of the Fourier method: the per-state method ("states"), exactly
moved arrays (90 degree rotations, integer shifts) with np.fft, and an alias-free
product computed on a finer grid (same FOV, ``K`` more samples on each side, so the product
of the object and a band-limited map has no spectrum to wrap around).
"""

import importlib
import json

import numpy as np
import pytest

from mrsim.kspace.coils import (
    bandlimit_sensitivities,
    birdcage_sensitivities,
    combine_coils,
    default_coil_terms,
    sensitivity_fourier_coefficients,
    sensitivity_truncation_error,
)
from mrsim.kspace.corrupt import corrupt, motion_states, moved_kspace, rigid_move
from mrsim.kspace.fft import fft_centered, ifft_centered
from mrsim.kspace.schedule import cartesian2d_schedule, gre3d_schedule, mprage_schedule
from mrsim.motion import pace_like
from mrsim.motion.rigid import rotation_matrix
from mrsim.phantoms.shepp_logan import shepp_logan_image

# the package re-exports the function `corrupt`, which hides the module attribute
# The engine's internals live in mrsim.kspace.engine (single coil) and
# mrsim.kspace.multicoil (the coil paths, which import line_values from the engine).
engine_mod = importlib.import_module("mrsim.kspace.engine")
multicoil_mod = importlib.import_module("mrsim.kspace.multicoil")

SHAPE = (24, 20, 16)
N_COILS = 4


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def bandlimited_sensitivities(shape, n_coils, K, seed=0):
    """Random maps made of the Fourier modes |p_a| <= K only (exactly band-limited)."""
    rng = np.random.default_rng(seed)
    nd = len(shape)
    spec = np.zeros((n_coils,) + tuple(shape), complex)
    box = (slice(None),) + tuple(slice(n // 2 - K, n // 2 + K + 1) for n in shape)
    size = (n_coils,) + (2 * K + 1,) * nd
    spec[box] = rng.standard_normal(size) + 1j * rng.standard_normal(size)
    return ifft_centered(spec, axes=tuple(range(1, nd + 1)))


def per_shot_poses(schedule, max_deg=6.0, max_mm=2.0, seed=1):
    rng = np.random.default_rng(seed)
    n = schedule.shot.max() + 1
    ang = rng.uniform(-max_deg, max_deg, (n, 3))
    if schedule.ndim == 2:
        ang[:, :2] = 0.0  # in-plane rotation only
    t = rng.uniform(-max_mm, max_mm, (n, 3))[:, : schedule.ndim]
    R = rotation_matrix(ang)
    if schedule.ndim == 2:
        R = R[:, :2, :2]
    return R[schedule.shot], t[schedule.shot]


def _upsample(x, fine, nd):
    """Band-limited (k-space zero-padded) resampling onto a finer grid, same FOV."""
    axes = tuple(range(-nd, 0))
    grid = x.shape[-nd:]
    pad = [(0, 0)] * (x.ndim - nd) + [
        (f // 2 - g // 2, f - g - (f // 2 - g // 2)) for g, f in zip(grid, fine, strict=True)
    ]
    k = np.pad(fft_centered(x, axes=axes), pad)
    return ifft_centered(k, axes=axes) * np.sqrt(np.prod(fine) / np.prod(grid))


def alias_free_coil_kspace(obj, sens, K):
    """F{S_c m} on the grid of ``obj`` without circular wrap: multiply on a grid K samples
    larger on each side (exact for maps band-limited to |p| <= K), FFT, crop."""
    nd = obj.ndim
    grid = obj.shape
    fine = tuple(n + 2 * K for n in grid)
    prod = _upsample(sens, fine, nd) * _upsample(obj.astype(complex), fine, nd)
    k = fft_centered(prod, axes=tuple(range(1, nd + 1))) * np.sqrt(np.prod(grid) / np.prod(fine))
    crop = tuple(
        slice(f // 2 - g // 2, f // 2 - g // 2 + g) for g, f in zip(grid, fine, strict=True)
    )
    return k[(slice(None),) + crop]


def alias_free_states(obj, schedule, R, t, sens, K, vox=1.0):
    """Per motion state: move (rigid_move), alias-free coil product, keep the state's lines."""
    first, state = motion_states(R, t)
    lines = np.zeros((sens.shape[0], schedule.n_lines, schedule.n_readout), complex)
    for i, f in enumerate(first):
        moved = rigid_move(obj.astype(complex), R[f], t[f], vox)
        sel = state == i
        lines[:, sel] = schedule.subset(sel).from_grid(alias_free_coil_kspace(moved, sens, K))
    return schedule.to_grid(lines)


def interior(K, nd):
    """k-space samples at least K from every border: no product spectrum wraps there."""
    return (slice(None),) + (slice(K, -K),) * nd


# ----------------------------------------------------------------------- exact cases
@pytest.mark.parametrize("nd", [3, 2])
def test_fourier_matches_states_for_bandlimited_maps(nd):
    """Rotation + translation per shot: equal to "states" (away from the border, where
    "states" wraps the product's spectrum) and to the alias-free product everywhere."""
    K = 2
    rng = np.random.default_rng(nd)
    if nd == 3:
        shape = SHAPE
        s = mprage_schedule(shape)
    else:
        shape = (24, 20)
        s = cartesian2d_schedule(shape)
        s = type(s)(shape, s.readout_axis, s.pe_index, s.time_s, s.pe_index[:, 0] // 4 + 3)
    obj = rng.standard_normal(shape) + 0.3j * rng.standard_normal(shape)
    sens = bandlimited_sensitivities(shape, N_COILS, K, seed=nd)
    R, t = per_shot_poses(s, seed=nd)
    assert len(motion_states(R, t)[0]) >= 5
    ks = moved_kspace(obj, s, R, t, coil_sensitivities=sens)
    kf = moved_kspace(obj, s, R, t, coil_sensitivities=sens, coil_method="fourier", coil_terms=K)
    assert kf.shape == ks.shape == (N_COILS,) + shape
    inner = interior(K, nd)
    assert rel(kf[inner], ks[inner]) < 5e-6
    assert rel(kf, alias_free_states(obj, s, R, t, sens, K)) < 5e-6
    # More terms than the maps hold change nothing (the extra coefficients are 0).
    kf4 = moved_kspace(obj, s, R, t, coil_sensitivities=sens, coil_method="fourier", coil_terms=4)
    assert rel(kf4, kf) < 1e-9


def test_fourier_exact_rot90_and_integer_shift():
    """Two states related by an exact 90 degree rotation + integer shift (np.rot90/np.roll,
    no interpolation in the reference), anisotropic K per axis."""
    K = (2, 1, 2)
    rng = np.random.default_rng(7)
    obj = rng.standard_normal((13, 13, 9))
    sens = bandlimited_sensitivities(obj.shape, N_COILS, 1, seed=3)
    sens = sens * bandlimited_sensitivities(obj.shape, 1, 1, seed=4)[0]  # |p| <= 2 on each axis
    sens = bandlimit_sensitivities(sens, K)  # keep |p_1| <= 1: exactly representable by K
    s = gre3d_schedule(obj.shape, segments=2)
    R = np.where(s.shot[:, None, None] == 1, rotation_matrix([0, 0, 90]), np.eye(3))
    t = np.where(s.shot[:, None] == 1, [0.0, 0.0, 2.0], 0.0)
    k = moved_kspace(obj, s, R, t, coil_sensitivities=sens, coil_method="fourier", coil_terms=K)
    moved = np.roll(np.rot90(obj, 1, axes=(0, 1)), 2, axis=2)
    masks = s.line_masks(s.shot)
    Kmax = max(K)
    ref = masks[0] * alias_free_coil_kspace(obj, sens, Kmax) + masks[1] * alias_free_coil_kspace(
        moved, sens, Kmax
    )
    assert rel(k, ref) < 5e-6


def test_identity_pose_is_fft_of_coil_images():
    K = 2
    rng = np.random.default_rng(5)
    obj = rng.standard_normal(SHAPE)
    sens = bandlimited_sensitivities(SHAPE, N_COILS, K, seed=5)
    s = mprage_schedule(SHAPE)
    kw = dict(coil_sensitivities=sens, coil_method="fourier", coil_terms=K)
    k_fast = moved_kspace(obj, s, np.eye(3), np.zeros(3), **kw)
    k_nufft = moved_kspace(obj, s, np.eye(3), np.zeros(3), fast_path=False, **kw)
    direct = fft_centered(sens * obj, axes=(1, 2, 3))
    inner = interior(K, 3)
    for c in range(N_COILS):
        assert rel(k_fast[c][inner[1:]], direct[c][inner[1:]]) < 1e-12
    assert rel(k_fast, alias_free_coil_kspace(obj, sens, K)) < 1e-12
    assert rel(k_nufft, k_fast) < 5e-6
    # Translation only (fast path) vs the NUFFT path.
    t = np.array([1.5, -2.0, 0.7])
    kt = moved_kspace(obj, s, np.eye(3), t, **kw)
    assert rel(moved_kspace(obj, s, np.eye(3), t, fast_path=False, **kw), kt) < 5e-6


def test_smooth_object_matches_states_on_whole_kspace():
    """For an object with no energy near the k-space border the wrap-around of "states" does
    not matter: the two methods agree on every sample."""
    K = 2
    g = np.meshgrid(*[np.arange(n) - n // 2 for n in SHAPE], indexing="ij")
    obj = np.exp(-sum(x**2 for x in g) / (2 * 1.8**2))
    sens = bandlimited_sensitivities(SHAPE, N_COILS, K, seed=6)
    s = mprage_schedule(SHAPE)
    R, t = per_shot_poses(s, seed=6)
    ks = moved_kspace(obj, s, R, t, coil_sensitivities=sens)
    kf = moved_kspace(obj, s, R, t, coil_sensitivities=sens, coil_method="fourier", coil_terms=K)
    assert rel(kf, ks) < 1e-3


def test_batch_axis_and_larger_output_grid():
    K = 1
    rng = np.random.default_rng(8)
    imgs = rng.standard_normal((2,) + SHAPE)
    sens = bandlimited_sensitivities(SHAPE, 3, K, seed=8)
    s = mprage_schedule(SHAPE)
    R, t = per_shot_poses(s, seed=8)
    kw = dict(coil_sensitivities=sens, coil_method="fourier", coil_terms=K)
    kb = moved_kspace(imgs, s, R, t, **kw)
    assert kb.shape == (2, 3) + SHAPE
    for i in range(2):
        assert rel(kb[i], moved_kspace(imgs[i], s, R, t, **kw)) < 1e-12
    big = tuple(n + 4 for n in SHAPE)
    kbig = moved_kspace(imgs[0], s, R, t, out_shape=big, **kw)
    kst = moved_kspace(imgs[0], s, R, t, out_shape=big, coil_sensitivities=sens)
    inner = (slice(None),) + tuple(slice(2 + K, -2 - K) for _ in SHAPE)
    assert kbig.shape == (3,) + big
    assert rel(kbig[inner], kst[inner]) < 5e-6


# ----------------------------------------------------------------------- truncation
def test_birdcage_error_decreases_with_terms():
    """Non-band-limited maps: the difference to "states" shrinks as K grows and follows
    the maps' own truncation error."""
    img = shepp_logan_image(SHAPE, 1.5)
    sens = birdcage_sensitivities(SHAPE, 1.5, N_COILS)
    s = mprage_schedule(SHAPE)
    R, t = per_shot_poses(s, seed=9)
    ks = moved_kspace(img, s, R, t, 1.5, coil_sensitivities=sens)
    errs, trunc = [], []
    for K in (1, 2, 3, 4):
        kf = moved_kspace(
            img, s, R, t, 1.5, coil_sensitivities=sens, coil_method="fourier", coil_terms=K
        )
        errs.append(rel(kf, ks))
        trunc.append(float(np.max(sensitivity_truncation_error(sens, K))))
    assert all(a > b for a, b in zip(errs, errs[1:], strict=False)), errs
    assert all(a > b for a, b in zip(trunc, trunc[1:], strict=False)), trunc
    assert errs[0] > 0.2 and errs[-1] < 0.15
    assert all(e < 1.2 * tr for e, tr in zip(errs, trunc, strict=True))


def test_coefficients_truncation_error_and_bandlimited_maps():
    K = 2
    sens = bandlimited_sensitivities(SHAPE, N_COILS, K, seed=10)
    a = sensitivity_fourier_coefficients(sens, K)
    assert a.shape == (N_COILS, 5, 5, 5)
    # the series sum_p a_p exp(+i 2 pi p.(j - n//2)/n) reproduces the maps on the grid
    g = np.meshgrid(*[np.arange(n) - n // 2 for n in SHAPE], indexing="ij")
    synth = np.zeros_like(sens)
    for p in np.ndindex(5, 5, 5):
        q = np.array(p) - K
        phase = np.exp(2j * np.pi * sum(qa * ga / n for qa, ga, n in zip(q, g, SHAPE, strict=True)))
        synth += a[(slice(None),) + p][:, None, None, None] * phase
    assert rel(synth, sens) < 1e-12
    assert np.max(sensitivity_truncation_error(sens, K)) < 1e-12
    assert np.all(sensitivity_truncation_error(sens, 1) > 0.1)
    assert rel(bandlimit_sensitivities(sens, K), sens) < 1e-12
    # the error is that of the band-limited maps, on a mask if given
    bird = birdcage_sensitivities(SHAPE, n_coils=3)
    sk = bandlimit_sensitivities(bird.astype(complex), 2)
    mask = np.zeros(SHAPE, bool)
    mask[6:18, 5:15, 4:12] = True
    e = sensitivity_truncation_error(bird, 2, mask=mask)
    ref = [rel(sk[c][mask], bird[c][mask].astype(complex)) for c in range(3)]
    assert np.allclose(e, ref, rtol=1e-5)
    # K = n // 2 on every axis keeps the whole grid spectrum: exact
    assert np.max(sensitivity_truncation_error(bird, (12, 10, 8))) < 1e-6


def test_default_terms_skip_axes_where_maps_are_constant():
    sens = birdcage_sensitivities(SHAPE, n_coils=N_COILS)  # ring around axis 2
    assert default_coil_terms(sens) == (3, 3, 0)
    assert default_coil_terms(birdcage_sensitivities((4, 20, 16), axis=0)) == (0, 3, 3)
    assert default_coil_terms(bandlimited_sensitivities((4, 6, 5), 2, 1)) == (2, 3, 2)
    obj = shepp_logan_image(SHAPE, 1.5)
    s = mprage_schedule(SHAPE)
    R, t = per_shot_poses(s, seed=13)
    kw = dict(coil_sensitivities=sens, coil_method="fourier")
    k_default = moved_kspace(obj, s, R, t, **kw)
    assert rel(k_default, moved_kspace(obj, s, R, t, coil_terms=3, **kw)) < 5e-6


# ----------------------------------------------------------------------- cost
def test_number_of_nufft_calls_does_not_depend_on_states(monkeypatch):
    """Count the line evaluations (``line_values``: one NUFFT of all its lines) and the
    NUFFT entry points the engine calls, for 2 states and for one state per line."""
    lines_calls, nufft_calls = [], []
    real_lines = engine_mod.line_values

    def counting_lines(source, acq, *args, **kwargs):
        lines_calls.append(acq.schedule.n_lines * acq.schedule.n_readout)
        return real_lines(source, acq, *args, **kwargs)

    for mod in (engine_mod, multicoil_mod):
        monkeypatch.setattr(mod, "line_values", counting_lines)
    for name in ("nufft_type2", "nufft_type2_lines"):
        if hasattr(engine_mod, name):
            real = getattr(engine_mod, name)

            def counting(*args, _real=real, **kwargs):
                nufft_calls.append(1)
                return _real(*args, **kwargs)

            monkeypatch.setattr(engine_mod, name, counting)
    rng = np.random.default_rng(11)
    obj = rng.standard_normal(SHAPE)
    sens = birdcage_sensitivities(SHAPE, n_coils=N_COILS)
    s = mprage_schedule(SHAPE)
    two = np.where(s.shot[:, None, None] < 8, np.eye(3), rotation_matrix([3.0, -2.0, 4.0]))
    per_line = rotation_matrix(rng.uniform(-5, 5, (s.n_lines, 3)))
    t = rng.uniform(-1, 1, (s.n_lines, 3))
    kw = dict(coil_sensitivities=sens, coil_method="fourier", coil_terms=2, eps=1e-4)
    counts = []
    for R, tt in ((two, np.zeros(3)), (per_line, t)):
        lines_calls.clear()
        nufft_calls.clear()
        moved_kspace(obj, s, R, tt, **kw)
        counts.append((list(lines_calls), len(nufft_calls)))
    assert len(counts[0][0]) == 1 and counts[0] == counts[1]
    assert counts[0][1] >= 1
    # same samples: (2K+1)^2 phase-encode shifts of every line, minus those off the grid
    assert s.n_lines * s.n_readout < counts[0][0][0] <= 25 * s.n_lines * s.n_readout
    # the per-state method needs one line evaluation per rotated state
    lines_calls.clear()
    moved_kspace(obj, s, two, np.zeros(3), coil_sensitivities=sens, eps=1e-4)
    assert len(lines_calls) == 1  # one rotated state; the identity state uses the FFT
    lines_calls.clear()
    ten = rotation_matrix(rng.uniform(-5, 5, (10, 3)))[s.shot % 10]
    moved_kspace(obj, s, ten, np.zeros(3), coil_sensitivities=sens, eps=1e-4)
    assert len(lines_calls) == 10


def test_blocks_do_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(12)
    obj = rng.standard_normal(SHAPE)
    sens = birdcage_sensitivities(SHAPE, n_coils=3)
    s = mprage_schedule(SHAPE)
    R, t = per_shot_poses(s, seed=12)
    kw = dict(coil_sensitivities=sens, coil_method="fourier", coil_terms=2)
    one = moved_kspace(obj, s, R, t, **kw)
    monkeypatch.setattr(multicoil_mod, "_COIL_BLOCK_SAMPLES", 7 * 25 * s.n_readout)
    assert rel(moved_kspace(obj, s, R, t, **kw), one) < 5e-6  # to NUFFT eps


# ----------------------------------------------------------------------- corrupt()
def test_corrupt_combines_with_the_simulated_maps():
    img = shepp_logan_image(SHAPE, 1.5)
    sens = birdcage_sensitivities(SHAPE, 1.5, N_COILS)
    traj = pace_like(n=32, duration_s=40.0, scale=4, seed=3)
    res = corrupt(
        img,
        traj,
        mprage_schedule(SHAPE),
        1.5,
        coil_sensitivities=sens,
        coil_method="fourier",
        coil_terms=2,
        output="complex",
        eps=1e-6,
    )
    assert res.kspace.shape == (N_COILS,) + SHAPE
    assert res.settings["coil_method"] == "fourier" and res.settings["coil_terms"] == [2, 2, 2]
    assert res.settings["n_coils"] == N_COILS
    assert rel(res.coil_sensitivities, bandlimit_sensitivities(sens, 2)) < 1e-12
    json.dumps(res.settings)
    # Without motion the combination returns the object (up to the k-space border, where
    # the coil-weighted spectrum is cut by the acquired band).
    inside = np.sum(np.abs(res.coil_sensitivities) ** 2, 0) > 0.05
    assert rel(res.clean[inside], img[inside]) < 0.02
    assert rel(res.image, res.clean) > 1e-3
    # The states method keeps the given maps.
    res_s = corrupt(
        img, traj, mprage_schedule(SHAPE), 1.5, coil_sensitivities=sens, granularity="shot"
    )
    assert res_s.settings["coil_method"] == "states" and res_s.settings["coil_terms"] is None
    assert res_s.coil_sensitivities is sens or np.array_equal(res_s.coil_sensitivities, sens)
    comb = combine_coils(ifft_centered(res_s.kspace, axes=(1, 2, 3)), sens)
    assert np.allclose(np.abs(comb), res_s.image, atol=1e-5)


# ----------------------------------------------------------------------- bad values
def test_bad_coil_options_raise():
    obj = np.zeros(SHAPE)
    sens = birdcage_sensitivities(SHAPE, n_coils=2)
    s = mprage_schedule(SHAPE)
    R = rotation_matrix([0, 0, 5])
    with pytest.raises(ValueError, match="coil_method"):
        moved_kspace(obj, s, R, np.zeros(3), coil_sensitivities=sens, coil_method="image")
    with pytest.raises(ValueError, match="coil_method"):
        corrupt(obj, pace_like(n=8, duration_s=40.0, seed=0), s, coil_method="FOURIER")
    for bad in (-1, 2.5, True, (1, 2), (1, 2, 3, 4), 13, (1, 1, 9), "3"):
        with pytest.raises(ValueError, match="coil_terms"):
            moved_kspace(
                obj,
                s,
                R,
                np.zeros(3),
                coil_sensitivities=sens,
                coil_method="fourier",
                coil_terms=bad,
            )
    with pytest.raises(ValueError, match="coil_sensitivities must have shape"):
        moved_kspace(obj, s, R, np.zeros(3), coil_sensitivities=sens[:, :-1], coil_method="fourier")
    with pytest.raises(ValueError, match="mask shape"):
        sensitivity_truncation_error(sens, 1, mask=np.ones((3, 3, 3), bool))
    with pytest.raises(ValueError, match="C, \\*grid"):
        sensitivity_fourier_coefficients(np.ones(5), 1)


# ----------------------------------------------------------------------- CLI
@pytest.fixture()
def cli_files(tmp_path):
    from mrsim.io.nifti import save_volume
    from mrsim.motion import write_trajectory

    img = shepp_logan_image((24, 24, 16), 1.5).astype(np.float32)
    nii = save_volume(tmp_path / "in.nii.gz", img, np.diag([1.5, 1.5, 1.5, 1.0]))
    csv = write_trajectory(pace_like(n=32, duration_s=40.0, seed=5), tmp_path / "pace.csv")
    return tmp_path, nii, csv


def _run_cli(tmp, nii, csv, *extra):
    from mrsim.cli import main

    args = ["corrupt", "--trajectory", str(csv), "--input", str(nii), "--matrix", "12,12,8"]
    return main(args + ["--threads", "1", *extra])


@pytest.mark.parametrize("method", ["fourier", "states"])
def test_cli_coils_writes_combined_images_and_per_coil_kspace(cli_files, capsys, method):
    import h5py

    from mrsim.io.nifti import load_volume

    tmp, nii, csv = cli_files
    out = tmp / method
    h5 = tmp / f"k_{method}.h5"
    extra = ["--coil-terms", "2"] if method == "fourier" else ["--granularity", "shot"]
    rc = _run_cli(
        tmp, nii, csv, "-o", str(out), "--coils", "3", "--coil-method", method,
        "--save-kspace", str(h5), *extra,
    )  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "coils     3 (birdcage), " + method in text
    img, _ = load_volume(out / "corrupted.nii.gz")
    clean, _ = load_volume(out / "clean.nii.gz")
    assert img.shape == clean.shape == (12, 12, 8)
    summary = json.loads((out / "corruption.json").read_text())
    assert summary["settings"]["n_coils"] == 3
    assert summary["settings"]["coil_method"] == method
    with h5py.File(h5) as f:
        assert f["kspace"].shape == (3, 12, 12, 8)
        assert json.loads(f["kspace"].attrs["axes"])[0] == "coil"
        assert f["coil_sensitivities"].shape == (3, 12, 12, 8)
        assert f.attrs["n_coils"] == 3
        assert f.attrs["coil_method"] == method
        terms = list(f.attrs["coil_terms"])
        k = f["kspace"][()]
        sens = f["coil_sensitivities"][()]
    assert terms == ([2, 2, 2] if method == "fourier" else [-1, -1, -1])
    # The file is self-describing: its k-space and maps give the written image back.
    comb = np.abs(combine_coils(ifft_centered(k, axes=(1, 2, 3)), sens))
    assert np.allclose(comb, img, atol=1e-4 * img.max())


def test_cli_single_coil_kspace_file_unchanged(cli_files):
    import h5py

    tmp, nii, csv = cli_files
    assert _run_cli(tmp, nii, csv, "-o", str(tmp / "o1"), "--save-kspace", str(tmp / "k.h5")) == 0
    with h5py.File(tmp / "k.h5") as f:
        assert f["kspace"].shape == (12, 12, 8)
        assert f.attrs["n_coils"] == 0 and "coil_sensitivities" not in f


def test_cli_bad_coil_options(cli_files, capsys):
    tmp, nii, csv = cli_files
    rc = _run_cli(tmp, nii, csv, "-o", str(tmp / "o"), "--coils", "2", "--coil-terms", "7")
    assert rc == 2
    assert "--coil-terms" in capsys.readouterr().err
    for bad in (["--coils", "0"], ["--coils", "2", "--coil-terms", "1,2"]):
        with pytest.raises(SystemExit):
            _run_cli(tmp, nii, csv, "-o", str(tmp / "o"), *bad)
