"""MC-Net training loop on a tiny synthetic in-memory dataset (no accuracy claims)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scipy import ndimage  # noqa: E402

from correctors.mcnet.evaluate import evaluate_samples, summarize, table_markdown  # noqa: E402
from correctors.mcnet.infer import correct_volume, load_model  # noqa: E402
from correctors.mcnet.train import StageConfig, TrainConfig, collate_pairs, train  # noqa: E402
from mrsim.metrics import ssim  # noqa: E402


class GhostPairs(torch.utils.data.Dataset):
    """Smooth random blobs (clean) and a ghosted, slightly shifted copy (corrupted)."""

    def __init__(self, n: int = 16, size: int = 32, seed: int = 0):
        rng = np.random.default_rng(seed)
        clean = ndimage.gaussian_filter(rng.random((n, size, size)), (0, 2, 2))
        clean = np.clip((clean - clean.mean()) * 8 + 0.5, 0, None).astype(np.float32)
        ghost = np.roll(clean, size // 4, axis=1)
        self.clean = clean
        self.corrupted = (clean + 0.4 * ghost).astype(np.float32)

    def __len__(self):
        return len(self.clean)

    def __getitem__(self, i):
        return {"corrupted": self.corrupted[i], "clean": self.clean[i]}


def _config(steps1=30, steps2=10):
    return TrainConfig(
        model="tiny",
        stages=(
            StageConfig("l1", alpha=1.0, beta=0.0, steps=steps1, lr=3e-3),
            StageConfig("l1tv_ft", alpha=1.0, beta=1.0, steps=steps2, lr=1e-3),
        ),
        batch_size=4,
        seed=3,
        checkpoint_every=5,
        val_every=10,
        val_max_items=8,
    )


def test_two_stage_training_loss_falls_and_writes_outputs(tmp_path):
    ds = GhostPairs()
    res = train(ds, tmp_path, _config(), val_ds=GhostPairs(n=8, seed=1), progress=False)
    assert res.finished
    l1 = np.array([h["l1"] for h in res.history])
    assert len(l1) == 40
    assert [h["stage"] for h in res.history] == ["l1"] * 30 + ["l1tv_ft"] * 10
    assert l1[-5:].mean() < 0.8 * l1[:5].mean()
    assert all(np.isfinite(h["tv"]) for h in res.history)
    for name in (
        "model.pt",
        "l1.pt",
        "l1tv_ft.pt",
        "checkpoint_last.pt",
        "history.csv",
        "val_history.csv",
        "config.json",
        "loss_curve.png",
    ):
        assert (tmp_path / name).exists(), name
    assert [v["global_step"] for v in res.val_history] == [10, 20, 30, 40]
    # the saved model reproduces the in-memory one
    model = load_model(tmp_path)
    c, _ = collate_pairs([ds[0], ds[1]])
    with torch.no_grad():
        torch.testing.assert_close(model.correct(c), res.model.eval().correct(c))


def test_resume_reaches_the_same_weights(tmp_path):
    ds = GhostPairs(n=10)
    cfg = _config(steps1=6, steps2=4)
    full = train(ds, tmp_path / "full", cfg, progress=False)
    part = train(ds, tmp_path / "split", cfg, stop_after_steps=4, progress=False)
    assert not part.finished and not (tmp_path / "split" / "model.pt").exists()
    part = train(ds, tmp_path / "split", cfg, stop_after_steps=3, progress=False)  # into stage 2
    assert not part.finished
    done = train(ds, tmp_path / "split", cfg, progress=False)
    assert done.finished and len(done.history) == 10
    for a, b in zip(
        full.model.state_dict().values(), done.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    other = _config(steps1=7, steps2=4)
    with pytest.raises(ValueError, match="different train config"):
        train(ds, tmp_path / "split", other, progress=False)


def test_evaluation_metrics_follow_the_convention(tmp_path):
    ds = GhostPairs(n=6)
    res = train(ds, tmp_path, _config(steps1=3, steps2=0), progress=False)
    ref, cor = ds.clean, ds.corrupted
    rows = evaluate_samples(res.model, [{"corrupted": cor, "clean": ref, "variant": "ghost"}])
    assert len(rows) == 6 and rows[2]["slice"] == 2 and rows[0]["variant"] == "ghost"
    # per-slice SSIM with the VOLUME max as data range, averaged = mrsim.metrics.ssim
    mean_cor = np.mean([r["ssim_corrupted"] for r in rows])
    assert mean_cor == pytest.approx(ssim(ref, cor), abs=1e-12)
    out = correct_volume(res.model, cor, axis=0)
    assert out.shape == cor.shape and out.dtype == np.float32
    mean_out = np.mean([r["ssim_corrected"] for r in rows])
    assert mean_out == pytest.approx(ssim(ref, out), abs=1e-6)
    table = summarize(rows)
    assert table[0]["n_slices"] == 6
    assert table[0]["ssim_gain_mean"] == pytest.approx(mean_out - mean_cor, abs=1e-6)
    assert "| ghost | 6 |" in table_markdown(table)
    # a different slicing axis keeps the shape
    assert correct_volume(res.model, cor[:, :, :16], axis=2).shape == (6, 32, 16)


def test_bad_items_are_reported():
    with pytest.raises(ValueError, match="'corrupted' and 'clean'"):
        collate_pairs([{"corrupt": np.zeros((4, 4)), "clean": np.zeros((4, 4))}])
    with pytest.raises(ValueError, match="differ in shape"):
        collate_pairs([(np.zeros((4, 4)), np.zeros((4, 5)))])
    with pytest.raises(ValueError, match="2D slice"):
        collate_pairs([(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)))])
