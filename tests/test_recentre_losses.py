"""Torch loss of the recentre predictor against numpy FD (seed 000 Eqs. 1-3)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scipy.stats import norm  # noqa: E402

from correctors.recentre.losses import fd_gain_torch, gaussian_nll, recentre_loss  # noqa: E402
from mrsim.motion.fd import fd_gain  # noqa: E402


def test_fd_gain_torch_matches_numpy():
    rng = np.random.default_rng(0)
    prev = rng.normal(size=(300, 6))
    true = prev + 0.2 * rng.normal(size=(300, 6))
    pred = true + 0.2 * rng.normal(size=(300, 6))
    true[:5] = prev[:5]  # FD_total = 0: both give NaN
    expect = fd_gain(true, pred, previous=prev)
    got = fd_gain_torch(*(torch.as_tensor(a) for a in (true, pred, prev))).numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-12, equal_nan=True)
    assert np.isnan(got[:5]).all() and np.isfinite(got[5:]).all()
    # a floor only changes samples whose FD_total is below it
    floored = fd_gain_torch(
        *(torch.as_tensor(a) for a in (true, pred, prev)), floor_mm=0.05
    ).numpy()
    tot = np.abs(true - prev)[:, :3].sum(1) + 50 * np.pi / 180 * np.abs(true - prev)[:, 3:].sum(1)
    big = tot >= 0.05
    np.testing.assert_allclose(floored[big], expect[big], rtol=1e-12)
    assert np.isfinite(floored).all()


def test_gaussian_nll_matches_scipy():
    rng = np.random.default_rng(1)
    mu, lv, y = (rng.normal(size=(64, 6)) for _ in range(3))
    got = float(gaussian_nll(*(torch.as_tensor(a) for a in (mu, lv, y))))
    expect = -norm.logpdf(y, loc=mu, scale=np.exp(0.5 * lv)).mean()
    np.testing.assert_allclose(got, expect, rtol=1e-12)


def test_recentre_loss_combines_terms_and_has_gradients():
    rng = np.random.default_rng(2)
    B = 32
    ref = torch.as_tensor(rng.normal(size=(B, 6)))
    scale = torch.as_tensor(rng.uniform(0.1, 1, 6))
    yn = torch.as_tensor(rng.normal(size=(B, 6)))
    mu = torch.tensor(rng.normal(size=(B, 6)), requires_grad=True)
    lv = torch.zeros(B, 6, dtype=torch.float64, requires_grad=True)
    loss, parts = recentre_loss(mu, lv, yn, ref, ref, scale, beta=0.1, fd_floor_mm=0.0)
    np.testing.assert_allclose(
        float(loss.detach()), parts["nll"] - 0.1 * parts["fd_gain"], rtol=1e-12
    )
    true = (ref + scale * yn).numpy()
    pred = (ref + scale * mu).detach().numpy()
    np.testing.assert_allclose(
        parts["fd_gain"], np.mean(fd_gain(true, pred, previous=ref.numpy())), rtol=1e-10
    )
    loss.backward()
    assert torch.isfinite(mu.grad).all() and mu.grad.abs().sum() > 0
    assert torch.isfinite(lv.grad).all()
