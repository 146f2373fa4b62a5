"""correctors.common.curves: the history CSVs and loss-curve pieces the three correctors share."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from correctors.common.curves import (
    loss_figure,
    moving_mean,
    plot_train_loss,
    save_figure,
    write_csv,
)


def test_moving_mean_hand_computed():
    np.testing.assert_allclose(moving_mean([1, 2, 3, 4, 5], 2), [1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(moving_mean([1, 2, 3, 4, 5], 5), [3.0])
    np.testing.assert_allclose(moving_mean([4.0, 8.0], 1), [4.0, 8.0])
    with pytest.raises(ValueError, match="window"):
        moving_mean([1, 2], 3)
    with pytest.raises(ValueError, match="window"):
        moving_mean([1, 2], 0)


def test_write_csv_columns_and_order(tmp_path):
    rows = [{"stage": "a", "step": 1, "l1": 0.5}, {"stage": "b", "step": 2, "extra": 7}]
    write_csv(tmp_path / "h.csv", rows)
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines == ["stage,step,l1,extra", "a,1,0.5,", "b,2,,7"]  # first-seen key order
    write_csv(tmp_path / "f.csv", rows[:1], ["step", "stage", "l1", "wall_s"])
    with open(tmp_path / "f.csv", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert got == [{"step": "1", "stage": "a", "l1": "0.5", "wall_s": ""}]
    write_csv(tmp_path / "empty.csv", [], ["stage", "step"])
    assert (tmp_path / "empty.csv").read_text().splitlines() == ["stage,step"]


def test_write_csv_is_atomic(tmp_path):
    p = tmp_path / "h.csv"
    write_csv(p, [{"a": 1}], ["a"])
    with pytest.raises(ValueError):  # a key outside the header: DictWriter refuses it
        write_csv(p, [{"a": 2}, {"b": 3}], ["a"])
    assert p.read_text().splitlines() == ["a", "1"]  # the earlier file is intact
    assert sorted(x.name for x in tmp_path.iterdir()) == ["h.csv"]  # no temporary left


def test_plot_train_loss_lines(tmp_path):
    fig, axes = loss_figure(2, (3.0, 2.0))
    assert axes.shape == (2,) and tuple(fig.get_size_inches()) == (6.0, 2.0)
    steps = np.arange(10, 20)
    raw = np.arange(10.0)
    l1 = raw / 2
    plot_train_loss(axes[0], steps, raw, 4, smoothed=l1, raw_label="raw", mean_label="mean")
    a, b = axes[0].get_lines()
    np.testing.assert_array_equal(a.get_xdata(), steps)
    np.testing.assert_array_equal(a.get_ydata(), raw)
    assert a.get_label() == "raw" and a.get_linewidth() == 0.5
    np.testing.assert_array_equal(b.get_xdata(), steps[3:])
    np.testing.assert_allclose(b.get_ydata(), (l1[:-3] + l1[1:-2] + l1[2:-1] + l1[3:]) / 4)
    assert b.get_label() == "mean"
    save_figure(fig, tmp_path / "c.png", dpi=50)
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["c.png"]


def _captured(monkeypatch, module):
    figs = []
    monkeypatch.setattr(module, "save_figure", lambda fig, path, dpi: figs.append(fig))
    return figs


def test_each_corrector_plots_its_series(monkeypatch, tmp_path):
    """The three plot_loss_curve functions draw the data they are given (not each other's)."""
    from correctors.mcnet import train as mcnet_train
    from correctors.qsmnet import monitor
    from correctors.vqprior import train as vq_train

    rng = np.random.default_rng(1)
    h = [
        {"stage": "l1", "global_step": i + 1, "loss": rng.random() + 1, "l1": rng.random()}
        for i in range(60)
    ]
    v = [{"global_step": 30, "val_l1": 0.2}, {"global_step": 60, "val_l1": 0.1}]
    figs = _captured(monkeypatch, mcnet_train)
    mcnet_train.plot_loss_curve(h, v, tmp_path / "m.png")
    raw, mean, val = figs[0].axes[0].get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), [r["loss"] for r in h])
    np.testing.assert_allclose(mean.get_ydata(), moving_mean([r["l1"] for r in h], 50))
    assert list(val.get_xdata()) == [30, 60]

    vh = [
        {"phase": p, "loss": float(i + 1)}
        for p, n in (("vqvae", 6), ("prior_top", 3))
        for i in range(n)
    ]
    figs = _captured(monkeypatch, vq_train)
    vq_train.plot_loss_curve(vh, tmp_path / "v.png")
    assert [ax.get_title() for ax in figs[0].axes] == ["vqvae", "prior_top"]
    raw, mean = figs[0].axes[1].get_lines()
    assert list(raw.get_ydata()) == [1.0, 2.0, 3.0] and list(mean.get_ydata()) == [2.0]

    qh = [{"stage": "unet", "step": i + 1, "l1": float(i)} for i in range(10)]
    qv = [
        {"stage": "unet", "step": s, "val_l1": 1.0, "val_l1_motion": 2.0}
        | {"val_l1_identity": 0.5, "val_l1_input": 3.0, "best": int(s == 5)}
        for s in (0, 5, 10)
    ]
    figs = _captured(monkeypatch, monitor)
    monitor.plot_loss_curve(qh, qv, tmp_path / "q.png")
    lines = figs[0].axes[0].get_lines()
    np.testing.assert_allclose(lines[1].get_ydata(), moving_mean(np.arange(10.0), 2))
    assert lines[-1].get_xdata()[0] == 5  # the kept step
