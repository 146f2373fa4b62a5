"""GRU predictor of the recentre package: shapes, parameter count, training, streaming."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from correctors.recentre.data import generate_trajectories  # noqa: E402
from correctors.recentre.model import RecentreConfig, RecentreGRU, count_parameters  # noqa: E402
from correctors.recentre.normalisation import Normaliser  # noqa: E402
from correctors.recentre.predictor import Predictor  # noqa: E402
from correctors.recentre.training import (  # noqa: E402
    load_checkpoint,
    predict_windows,
    save_checkpoint,
    train_model,
)
from mrsim.errors import MrsimInputError  # noqa: E402
from mrsim.motion.windows import make_windows, make_windows_many  # noqa: E402

TINY = dict(hidden=16, num_layers=1, fc_hidden=32, batch_size=64, patience=100)


@pytest.fixture(scope="module")
def windows():
    trajs = generate_trajectories(4, lengths=(200,), seed=0)
    tr = make_windows_many(trajs[:3])
    va = make_windows_many(trajs[3:])
    return tr[0], tr[1], va[0], va[1]


def test_default_model_size_and_shapes():
    model = RecentreGRU()
    # documented in model.py: GRU 54,528 + 99,072, LayerNorm 256, FC 103,200 + 9,612
    assert count_parameters(model) == 266_668
    mu, lv = model(torch.zeros(5, 14, 6))
    assert mu.shape == lv.shape == (5, 6)
    with pytest.raises(ValueError, match=r"\(B, 14, 6\)"):
        model(torch.zeros(5, 13, 6))
    with pytest.raises(ValueError, match="multiple"):
        RecentreConfig(n_past=13, points_per_step=2)


def test_normaliser_roundtrip(windows):
    X, y, _, _ = windows
    for relative, per_window in ((True, False), (False, False), (True, True)):
        norm = Normaliser.fit(X, y, relative=relative, per_window=per_window)
        Xn, yn, ref, unit = norm.transform(X, y)
        back, sd = norm.inverse(yn, np.ones_like(yn), ref, unit)
        np.testing.assert_allclose(back, y, atol=1e-12)
        np.testing.assert_allclose(sd, unit)
        assert Normaliser.from_dict(norm.to_dict()).to_dict() == norm.to_dict()
    rel = Normaliser.fit(X, y, relative=True)
    # relative scale = RMS one-step increment, so the normalised target has unit RMS
    _, yn, _, _ = rel.transform(X, y)
    np.testing.assert_allclose(np.sqrt(np.mean(yn**2, axis=0)), 1.0, rtol=1e-10)
    # per-window: each window's normalised increments have unit RMS (above the floor),
    # so a window and the same window scaled by 7 give identical network inputs
    pw = Normaliser.fit(X, y, per_window=True, window_floor=1e-6)
    Xn, _, _, _ = pw.transform(X)
    np.testing.assert_allclose(np.sqrt(np.mean(np.diff(Xn, axis=1) ** 2, axis=(1, 2))), 1.0)
    np.testing.assert_allclose(pw.transform(7 * X)[0], Xn, atol=1e-9)
    with pytest.raises(ValueError, match="relative"):
        Normaliser.fit(X, y, relative=False, per_window=True)


def test_tiny_training_decreases_loss_and_roundtrips(windows, tmp_path):
    Xtr, ytr, Xva, yva = windows
    cfg = RecentreConfig(max_epochs=6, **TINY)
    model, norm, hist = train_model(Xtr, ytr, Xva, yva, cfg, progress=False)
    assert hist["epochs"] == 6 and len(hist["val_loss"]) == 6
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert min(hist["val_loss"]) < hist["val_loss"][0]
    mean, std = predict_windows(model, norm, Xva)
    assert mean.shape == std.shape == yva.shape and np.all(std > 0)
    path = save_checkpoint(tmp_path / "r.pt", model, norm, hist, {"note": "test"})
    model2, norm2, meta = load_checkpoint(path)
    m2, s2 = predict_windows(model2, norm2, Xva)
    np.testing.assert_array_equal(m2, mean)
    np.testing.assert_array_equal(s2, std)
    assert meta["extra"] == {"note": "test"}
    assert meta["history"]["best_epoch"] == hist["best_epoch"]


def test_training_with_fresh_windows_each_epoch(windows):
    Xtr, ytr, Xva, yva = windows
    calls = []

    def resample(epoch):
        calls.append(epoch)
        trajs = generate_trajectories(2, lengths=(120,), seed=100 + epoch)
        return make_windows_many(trajs)[:2]

    cfg = RecentreConfig(max_epochs=3, **TINY)
    _, norm, hist = train_model(Xtr, ytr, Xva, yva, cfg, progress=False, resample=resample)
    assert calls == [1, 2] and hist["epochs"] == 3
    # the normaliser comes from the first (given) training set only
    ref = Normaliser.fit(Xtr, ytr, per_window=True, window_floor=cfg.window_floor)
    np.testing.assert_array_equal(norm.scale, ref.scale)


def test_checkpoint_errors(tmp_path):
    with pytest.raises(MrsimInputError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"format": "other"}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="x.pt: not a recentre checkpoint"):
        load_checkpoint(tmp_path / "x.pt")


@pytest.mark.parametrize("relative, per_window", [(True, False), (False, False), (True, True)])
def test_streaming_predictor_matches_batch(relative, per_window):
    rng = np.random.default_rng(5)
    P = np.cumsum(0.1 * rng.normal(size=(60, 6)), axis=0)
    X, y = make_windows(P)
    torch.manual_seed(0)
    model = RecentreGRU(RecentreConfig(**TINY, relative=relative, per_window=per_window))
    norm = Normaliser.fit(X, y, relative=relative, per_window=per_window)
    pred = Predictor(model, norm)
    out = [pred.update(p) for p in P]
    assert all(np.isnan(m).all() and np.isnan(s).all() for m, s in out[:13])
    assert pred.ready
    bm, bs = predict_windows(model, norm, X)
    # update after sample i predicts sample i + 1: window i - 13 .. i
    sm = np.array([m for m, _ in out[13:-1]])
    ss = np.array([s for _, s in out[13:-1]])
    np.testing.assert_allclose(sm, bm, atol=1e-5)
    np.testing.assert_allclose(ss, bs, rtol=1e-5)
    with pytest.raises(ValueError, match="6 finite values"):
        pred.update([0, 0, 0])
    pred.reset()
    assert not pred.ready and np.isnan(pred.update(P[0])[0]).all()


def test_training_resumes_from_its_state_file(windows, tmp_path):
    Xtr, ytr, Xva, yva = windows
    cfg = RecentreConfig(**TINY, max_epochs=3, var_floor=1e-3)
    straight, _, h1 = train_model(Xtr, ytr, Xva, yva, cfg, progress=False)
    state = tmp_path / "state.pt"
    # max_minutes=0 stops after the first epoch, as a killed run would have
    _, _, h0 = train_model(Xtr, ytr, Xva, yva, cfg, progress=False, max_minutes=0, state_path=state)
    assert h0["epochs"] == 1 and state.is_file()
    resumed, _, h2 = train_model(Xtr, ytr, Xva, yva, cfg, progress=False, state_path=state)
    assert h2["epochs"] == 3
    np.testing.assert_allclose(h2["val_loss"], h1["val_loss"], rtol=1e-6)
    sd1, sd2 = straight.state_dict(), resumed.state_dict()
    assert sd1.keys() == sd2.keys()
    for k in sd1:
        torch.testing.assert_close(sd1[k], sd2[k], msg=k)
    other = RecentreConfig(**TINY, max_epochs=3, var_floor=1e-2)
    with pytest.raises(ValueError, match="training state of another run"):
        train_model(Xtr, ytr, Xva, yva, other, progress=False, state_path=state)


def test_variance_floor_and_temperature_reach_the_std(windows):
    Xtr, ytr, Xva, yva = windows
    cfg = RecentreConfig(**TINY, max_epochs=1, var_floor=0.04)
    model, norm, _ = train_model(Xtr, ytr, Xva, yva, cfg, progress=False)
    _, s1 = predict_windows(model, norm, Xva)
    _, _, _, unit = norm.transform(Xva)
    assert np.all(s1 >= 0.2 * unit - 1e-9)  # sqrt(0.04) normalised units at least
    model.config.temperature = (2.0, 1.0, 1.0, 1.0, 1.0, 3.0)
    _, s2 = predict_windows(model, norm, Xva)
    np.testing.assert_allclose(s2 / s1, np.broadcast_to([2, 1, 1, 1, 1, 3], s1.shape), rtol=1e-6)
    pred = Predictor(model, norm)
    for pose in Xva[0]:
        m, s = pred.update(pose)
    np.testing.assert_allclose(s, s2[0], rtol=1e-5)
