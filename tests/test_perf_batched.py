"""Issue 17 (dataset throughput): planar lines batched over planes, derived spectra, the
shared clean reference, threaded subject generation and the cheaper bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

import mrsim.kspace.line_interp as line_interp
from mrsim.dataset.subjects import load_subject, synthetic_subject
from mrsim.kspace.corrupt import CorruptionSettings, corrupt
from mrsim.kspace.nufft import NufftOptions, nufft_type2, nufft_type2_lines
from mrsim.kspace.planar_interp import plane_batches
from mrsim.kspace.poses import motion_states
from mrsim.kspace.reuse import memoized, memoized_derived, reuse_spectra
from mrsim.kspace.schedule import mprage_schedule
from mrsim.motion.generators import pace_like


def _mprage_like_lines(shape, n_lines_per_plane, S, rng, max_rad=0.25):
    """Lines in every plane x_0 = const with the same in-plane geometry (one pose per
    in-plane line, as seed 001's MP-RAGE moved about x): (origin, step, band, phase)."""
    n0, n1, n2 = shape
    theta = rng.uniform(-max_rad, max_rad, n_lines_per_plane)
    k1 = rng.integers(-n1 // 2, n1 // 2, n_lines_per_plane)
    k0 = np.arange(-n0 // 2, n0 - n0 // 2)
    o1 = 2 * np.pi * (k1 * np.cos(theta) + (S // 2) * np.sin(theta)) / n1
    o2 = 2 * np.pi * (-k1 * np.sin(theta) - (S // 2) * np.cos(theta)) / n2
    d1 = -2 * np.pi * np.sin(theta) / n1
    d2 = 2 * np.pi * np.cos(theta) / n2
    # line order: planes innermost within each in-plane line (the MP-RAGE shot order)
    origin = np.stack(
        [
            np.tile(2 * np.pi * k0 / n0, n_lines_per_plane),
            np.repeat(o1, n0),
            np.repeat(o2, n0),
        ],
        axis=1,
    )
    step = np.stack([np.zeros(origin.shape[0]), np.repeat(d1, n0), np.repeat(d2, n0)], axis=1)
    band = (np.repeat(rng.integers(0, 4, n_lines_per_plane), n0),
            np.repeat(rng.integers(S - 5, S, n_lines_per_plane), n0))  # fmt: skip
    phase = (np.repeat(rng.uniform(-3, 3, n_lines_per_plane), n0),
             np.repeat(rng.uniform(-0.2, 0.2, n_lines_per_plane), n0))  # fmt: skip
    return origin, step, band, phase


def test_plane_batches_detects_repeated_planes_only():
    rng = np.random.default_rng(0)
    origin, step, band, phase = _mprage_like_lines((12, 14, 16), 9, 16, rng)
    b = plane_batches(origin, step, 16, band, phase)
    assert b is not None and b.line.shape == (12, 9)
    # every line exactly once, and line[p, c] lies in plane p with class c's geometry
    assert np.array_equal(np.sort(b.line.reshape(-1)), np.arange(origin.shape[0]))
    np.testing.assert_array_equal(origin[b.line, 0], np.broadcast_to(b.planes[:, None], (12, 9)))
    np.testing.assert_array_equal(origin[b.line[5], 1], b.origin[:, 0])
    np.testing.assert_array_equal(phase[1][b.line[7]], b.dph)
    # one line's phase differs in one plane: not the same lines in every plane
    other = (phase[0].copy(), phase[1])
    other[0][17] += 1e-12
    assert plane_batches(origin, step, 16, band, other) is None
    # a missing line
    assert plane_batches(origin[1:], step[1:], 16) is None
    # band differs
    lo = band[0].copy()
    lo[3] += 1
    assert plane_batches(origin, step, 16, (lo, band[1]), phase) is None


@pytest.mark.parametrize("eps", [1e-3, 1e-4])
def test_batched_planes_equal_per_line_planar_path_and_reach_eps(eps, monkeypatch):
    rng = np.random.default_rng(1)
    shape = (16, 18, 20)
    S = 20
    img = rng.standard_normal(shape).astype(np.float32)
    origin, step, band, phase = _mprage_like_lines(shape, 11, S, rng)
    opt = NufftOptions(eps=eps, threads=2)
    kw = dict(band=band, phase=phase, scale=0.8)
    found = []
    spy = lambda *a, **k: found.append(plane_batches(*a, **k)) or found[-1]  # noqa: E731
    monkeypatch.setattr(line_interp, "plane_batches", spy)
    got = nufft_type2_lines(img, origin, step, S, opt, **kw)
    assert found and found[0] is not None  # the batched path ran
    monkeypatch.setattr(line_interp, "plane_batches", lambda *a, **k: None)
    per_line = nufft_type2_lines(img, origin, step, S, opt, **kw)
    monkeypatch.undo()
    j = np.arange(S)
    pts = [(origin[:, a, None] + step[:, a, None] * j).reshape(-1) for a in range(3)]
    ref = nufft_type2(img.astype(np.float64), pts, eps=1e-12).reshape(-1, S)
    factor = 0.8 * np.exp(1j * (phase[0][:, None] + phase[1][:, None] * j))
    factor *= (j >= band[0][:, None]) & (j <= band[1][:, None])
    ref = ref * factor
    err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
    err_per_line = np.linalg.norm(per_line - ref) / np.linalg.norm(ref)
    assert err < eps, err
    assert err <= 1.01 * err_per_line + 1e-7, (err, err_per_line)
    # the same kernel and taps: float32 rounding apart
    assert np.abs(got - per_line).max() <= 1e-6 * np.abs(per_line).max()
    assert np.all(got[~((j >= band[0][:, None]) & (j <= band[1][:, None]))] == 0)


def test_batched_planes_do_not_depend_on_threads():
    rng = np.random.default_rng(2)
    shape = (10, 16, 18)
    img = rng.random(shape).astype(np.float32)
    origin, step, band, phase = _mprage_like_lines(shape, 7, 18, rng)
    outs = [
        nufft_type2_lines(img, origin, step, 18, NufftOptions(eps=1e-4, threads=n), band=band)
        for n in (1, 2, 3)
    ]
    assert outs[0].tobytes() == outs[1].tobytes() == outs[2].tobytes()


def test_memoized_derived_is_keyed_by_the_stored_parent_and_the_view():
    a = np.arange(24.0).reshape(2, 3, 4)
    calls = []

    def derived(x):
        def compute():
            calls.append(1)
            return x.sum(axis=-1)

        return compute

    with reuse_spectra(8):
        parent = memoized("p", a, (), lambda: a * 2)
        d1 = memoized_derived("d", parent, (1,), derived(parent))
        d2 = memoized_derived("d", parent, (1,), derived(parent))
        assert d1 is d2 and len(calls) == 1 and not d1.flags.writeable
        # views of the stored parent: keyed by where they sit
        v0 = memoized_derived("d", parent[0], (1,), derived(parent[0]))
        v1 = memoized_derived("d", parent[1], (1,), derived(parent[1]))
        assert len(calls) == 3 and not np.array_equal(v0, v1)
        assert memoized_derived("d", parent[()], (1,), derived(parent)) is d1
        # not stored: computed every time, never stored
        loose = a * 2
        memoized_derived("d", loose, (1,), derived(loose))
        memoized_derived("d", loose, (1,), derived(loose))
        assert len(calls) == 5
    assert memoized_derived("d", parent, (1,), derived(parent)).flags.writeable  # outside


def test_frozen_volume_is_hashed_once_but_a_thawed_one_is_rehashed():
    img = np.random.default_rng(3).random((6, 7, 8))
    img.flags.writeable = False
    calls = []

    def compute():
        calls.append(1)
        return img.copy() + len(calls)

    with reuse_spectra(4):
        first = memoized("k", img, (), compute)
        assert memoized("k", np.moveaxis(img, 2, 0), (), compute) is not first  # other view
        assert memoized("k", img, (), compute) is first
        n = len(calls)
        img.flags.writeable = True  # an owner may thaw itself: its bytes may then change
        img[0, 0, 0] += 1.0
        fresh = memoized("k", img, (), compute)
        assert len(calls) == n + 1 and fresh is not first


def test_clean_reference_is_shared_inside_reuse_and_identical():
    image = np.random.default_rng(4).random((16, 16, 12)).astype(np.float32)
    sched = mprage_schedule(image.shape, readout_axis=2)
    settings = CorruptionSettings(
        voxel_size_mm=2.0, mapping="stretch", granularity="shot", output="native",
        nufft=NufftOptions(eps=1e-4, threads=1, fast_path=False),
    )  # fmt: skip
    trajs = [pace_like(n=32, duration_s=60.0, scale=4.0, seed=s) for s in (1, 2)]
    plain = [corrupt(image, tr, sched, settings=settings) for tr in trajs]
    with reuse_spectra(8):
        shared = [corrupt(image, tr, sched, settings=settings) for tr in trajs]
    assert shared[0].clean is shared[1].clean and not shared[0].clean.flags.writeable
    for a, b in zip(plain, shared, strict=True):
        assert a.clean.tobytes() == b.clean.tobytes()
        assert a.image.tobytes() == b.image.tobytes()
        assert a.severity == b.severity


def test_subject_generation_threads_and_read_only_volumes():
    spec = {
        "source": "synthetic", "subject": 0, "seed": [5, 1, 0], "deform_mm": 3.0,
        "smooth_mm": 15.0, "scale_jitter": 0.05, "contrast_jitter": 0.15,
    }  # fmt: skip
    shape, vox = (24, 28, 20), (8.0, 8.0, 8.0)
    one = synthetic_subject(spec, shape, vox, threads=1)
    two = synthetic_subject(spec, shape, vox, threads=3)
    for k in one:
        assert one[k].tobytes() == two[k].tobytes(), k
    vols = load_subject(spec, shape, vox, threads=2)
    assert vols["t1"].tobytes() == one["t1"].tobytes()
    with pytest.raises(ValueError):
        vols["t1"][0, 0, 0] = 1.0


def test_motion_states_equal_the_unique_over_all_lines():
    rng = np.random.default_rng(6)
    for L, n in [(1, 1), (40, 4), (300, 300), (2048, 16)]:
        labels = np.sort(rng.integers(0, n, L)) if L % 3 else rng.integers(0, n, L)
        poses = rng.normal(size=(n, 12))
        poses[0] = 0.0
        R, t = poses[labels, :9].reshape(L, 3, 3), poses[labels, 9:]
        key = np.round(np.concatenate([R.reshape(L, -1), t], axis=1), 9)
        _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
        got_first, got_inv = motion_states(R, t)
        np.testing.assert_array_equal(got_first, first)
        np.testing.assert_array_equal(got_inv, inv.reshape(-1))


def test_mcnet_sample_batched_path_within_float_rounding_of_the_per_line_path(monkeypatch):
    # The small mcnet_mprage recipe (48^3, rot and rot_trans): the batched planes change the
    # corrupted slices by float32 rounding only; everything else is bit-identical.
    from mrsim.dataset.build import plan_samples
    from mrsim.dataset.recipe import load_recipe
    from mrsim.dataset.samples import make_sample

    plan = plan_samples(load_recipe("mcnet_mprage", small=True))[:2]
    found = []
    spy = lambda *a, **k: found.append(plane_batches(*a, **k)) or found[-1]  # noqa: E731
    monkeypatch.setattr(line_interp, "plane_batches", spy)
    with reuse_spectra(8):
        new = [make_sample(p, 2) for p in plan]
    assert len(found) == 2 and all(b is not None for b in found)
    monkeypatch.setattr(line_interp, "plane_batches", lambda *a, **k: None)
    old = [make_sample(p, 2) for p in plan]
    for a, b in zip(new, old, strict=True):
        assert a.arrays.keys() == b.arrays.keys()
        for k in a.arrays:
            if k == "corrupted":
                assert np.abs(a.arrays[k] - b.arrays[k]).max() <= 1e-6
            else:
                assert a.arrays[k].tobytes() == b.arrays[k].tobytes(), k
        assert a.attrs == b.attrs


@pytest.mark.parametrize("mode", ["constant", "nearest"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trilinear_is_bit_identical_to_scipy(mode, dtype):
    from scipy import ndimage

    from mrsim.dataset.trilinear import trilinear

    rng = np.random.default_rng(7)
    vols = [rng.standard_normal((9, 11, 13)).astype(dtype) for _ in range(2)]
    coords = [rng.uniform(-2.0, n + 1.0, (6, 7, 8)) for n in (9, 11, 13)]
    # points on the faces, just outside them, and on interior nodes
    coords[0][0, 0, :4] = [0.0, 8.0, -1e-12, 8.0 + 1e-12]
    coords[1][1, 1, :3] = [3.0, 10.0, 0.0]
    for threads in (1, 2):
        got = trilinear(vols, coords, mode, threads)
        for v, g in zip(vols, got, strict=True):
            ref = ndimage.map_coordinates(v, coords, order=1, mode=mode, cval=0.0)
            assert g.dtype == ref.dtype and g.tobytes() == ref.tobytes()
    with pytest.raises(ValueError, match="mode"):
        trilinear(vols, coords, "wrap")


@pytest.mark.parametrize("dtype,tol", [(np.complex64, 2e-6), (np.complex128, 1e-12)])
def test_ifft_centered_slices_equals_the_sliced_full_inverse(dtype, tol):
    from mrsim.kspace.fft import ifft_centered, ifft_centered_slices

    rng = np.random.default_rng(8)
    k = (rng.standard_normal((2, 12, 9, 10)) + 1j * rng.standard_normal((2, 12, 9, 10))).astype(
        dtype
    )
    axes = (-3, -2, -1)
    full = ifft_centered(k, axes=axes)
    for axis, idx in ((-3, [0, 5, 6, 11]), (-2, [4]), (-1, [9, 0, 3])):
        got = ifft_centered_slices(k, axis, idx, axes=axes)
        ref = np.take(full, idx, axis=axis)
        assert got.shape == ref.shape and got.dtype == dtype
        assert np.abs(got - ref).max() <= tol * np.abs(full).max()
        if axis == -3:  # the first transformed axis: scipy's axis-by-axis order, same bytes
            assert got.tobytes() == ref.tobytes()
    # seed 001's case (10 sagittal slices of 128^3) and other shapes: bit-identical
    for shape in ((128, 128, 128), (7, 5, 6), (16, 9, 12)):
        big = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
        idx = list(range(0, shape[0], 3))
        assert (
            ifft_centered_slices(big, 0, idx, workers=2).tobytes()
            == ifft_centered(big, workers=2)[idx].tobytes()
        ), shape
    with pytest.raises(ValueError, match="lie in"):
        ifft_centered_slices(k, -1, [10], axes=axes)
    with pytest.raises(ValueError, match="transformed axes"):
        ifft_centered_slices(k, 0, [0], axes=axes)


def test_corrupt_recon_slices_equal_the_sliced_volumes():
    image = np.random.default_rng(9).random((12, 14, 16)).astype(np.float32)
    sched = mprage_schedule(image.shape, readout_axis=2)
    settings = CorruptionSettings(
        voxel_size_mm=2.0, mapping="stretch", granularity="shot", output="native",
        nufft=NufftOptions(eps=1e-4, threads=1, fast_path=False), noise_snr=30.0, seed=3,
    )  # fmt: skip
    traj = pace_like(n=32, duration_s=40.0, scale=4.0, seed=4)
    full = corrupt(image, traj, sched, settings=settings)
    idx = (2, 6, 7)
    part = corrupt(image, traj, sched, settings=settings.updated(recon_slices=(0, idx)))
    assert part.clean.tobytes() == np.take(full.clean, idx, axis=0).tobytes()
    assert part.image.tobytes() == np.take(full.image, idx, axis=0).tobytes()
    assert part.clean_max == float(np.abs(full.clean).max()) and full.clean_max is None
    assert part.kspace.tobytes() == full.kspace.tobytes()
    assert part.settings["recon_slices"] == [0, list(idx)]
    assert "recon_slices" not in full.settings
    with pytest.raises(ValueError, match="do not fit"):
        corrupt(image, traj, sched, settings=settings.updated(recon_slices=(1, (14,))))
    with pytest.raises(ValueError, match="axis, indices"):
        CorruptionSettings(recon_slices=5)
    with pytest.raises(ValueError, match="integer indices"):  # 3.7 must not become slice 3
        CorruptionSettings(recon_slices=(0, (3.7,)))
