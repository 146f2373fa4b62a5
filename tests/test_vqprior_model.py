"""VQ prior: VQ-VAE codes round-trip, causal priors, the refinement, clear input errors."""

import pytest
import torch

from correctors.vqprior.config import model_config
from correctors.vqprior.corrector import VQPriorCorrector
from correctors.vqprior.model import HierarchicalVQVAE, slice_scale
from correctors.vqprior.prior import BottomPrior, TopPrior
from correctors.vqprior.refine import refine_codes, refine_codes_raster


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _vq():
    torch.manual_seed(0)
    return HierarchicalVQVAE(model_config("tiny")[0]).eval()


def test_code_shapes_and_round_trip():
    vq = _vq()
    x = torch.rand(3, 1, 32, 48)
    ct, cb = vq.encode(x)
    assert ct.shape == (3, 4, 6) and cb.shape == (3, 8, 12)
    # decoding the codes gives the forward reconstruction
    recon, out = vq(x)
    assert torch.allclose(vq.decode_codes(ct, cb), recon, atol=1e-6)
    # quantising the code vectors themselves returns the same codes
    _, _, again_t = vq.quant_t(vq.quant_t.lookup(ct))
    _, _, again_b = vq.quant_b(vq.quant_b.lookup(cb))
    assert torch.equal(again_t, ct) and torch.equal(again_b, cb)


@pytest.mark.parametrize(
    "shape, match",
    [
        ((2, 32, 32), r"\(B, 1, H, W\)"),
        ((1, 1, 30, 32), "multiples of 8"),
        ((1, 2, 32, 32), "B, 1"),
    ],
)
def test_bad_slices_are_clear_errors(shape, match):
    with pytest.raises(ValueError, match=match):
        _vq()(torch.zeros(shape))


def test_nan_input_is_refused():
    x = torch.zeros(1, 1, 32, 32)
    x[0, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        _vq().encode(x)


def test_decode_codes_checks_level_shapes():
    vq = _vq()
    with pytest.raises(ValueError, match="2 Ht"):
        vq.decode_codes(
            torch.zeros(1, 4, 4, dtype=torch.long), torch.zeros(1, 4, 4, dtype=torch.long)
        )


def test_priors_are_causal_in_raster_order():
    torch.manual_seed(1)
    vq_cfg, pcfg = model_config("tiny")
    top = TopPrior(pcfg, 16, (4, 4)).eval()
    bottom = BottomPrior(pcfg, 16, 16).eval()
    ct = torch.randint(0, 16, (1, 4, 4))
    cb = torch.randint(0, 16, (1, 8, 8))
    for j in (0, 5, 15):
        c2 = ct.clone().reshape(-1)
        c2[j] = (c2[j] + 1) % 16
        d = (top.log_probs(c2.reshape(1, 4, 4)) - top.log_probs(ct)).abs().amax(1).reshape(-1)
        assert d[: j + 1].max() == 0  # positions up to j do not see the change
        if j < 15:
            assert d[j + 1 :].max() > 0
    for j in (0, 9, 40):
        c2 = cb.clone().reshape(-1)
        c2[j] = (c2[j] + 1) % 16
        d = (bottom.log_probs(c2.reshape(1, 8, 8), ct) - bottom.log_probs(cb, ct)).abs()
        assert d.amax(1).reshape(-1)[: j + 1].max() == 0
    # the top map conditions the bottom everywhere (not causal: it is known in full)
    ct2 = ct.clone()
    ct2[0, 3, 3] = (ct2[0, 3, 3] + 1) % 16
    assert (bottom.log_probs(cb, ct2) - bottom.log_probs(cb, ct)).abs().amax() > 0


def test_refine_replaces_only_improbable_codes():
    # 1 x 1 x 3 grid, 2 codes; the encoder prefers code 0 everywhere
    dist = torch.tensor([[[[0.0, 1.0], [0.0, 1.0], [0.0, 3.0]]]])
    # the prior: position 1 strongly wants code 1, the others are indifferent
    lp = torch.log(torch.tensor([[0.5, 0.5], [0.001, 0.999], [0.5, 0.5]])).t().reshape(1, 2, 1, 3)
    codes, replaced = refine_codes(dist, lambda c: lp, temperature=1.0, threshold=-2.0)
    assert codes.reshape(-1).tolist() == [0, 1, 0]
    assert replaced.reshape(-1).tolist() == [False, True, False]
    # a strong encoder (low temperature) keeps its code against the same prior
    codes, _ = refine_codes(dist, lambda c: lp, temperature=0.01, threshold=-2.0)
    assert codes.reshape(-1).tolist() == [0, 0, 0]


def test_raster_refinement_uses_the_refined_past():
    # 2 positions, 2 codes; the encoder prefers code 0 at both (slightly at position 1)
    dist = torch.tensor([[[[0.0, 1.0], [0.0, 0.5]]]])

    # prior: position 0 wants code 1; position 1 copies its left neighbour's code
    def lp(c):
        p1 = torch.full((1, 2), 0.02).scatter(1, c[:, 0, 0:1], 0.98)
        p0 = torch.tensor([[0.001, 0.999]])
        return torch.log(torch.stack([p0, p1], dim=-1)).reshape(1, 2, 1, 2)

    par, _ = refine_codes(dist, lp, temperature=1.0, threshold=-2.0, iterations=1)
    ras, replaced = refine_codes_raster(dist, lp, temperature=1.0, threshold=-2.0)
    # one parallel pass sees position 1's old context (code 0 on its left): keeps 0
    assert par.reshape(-1).tolist() == [1, 0]
    # the raster sweep sees the refined code 1 on its left and follows it
    assert ras.reshape(-1).tolist() == [1, 1] and replaced.all()


def test_corrector_refuses_untrained_modes_and_wrong_shapes():
    vq_cfg, pcfg = model_config("tiny")
    c = VQPriorCorrector(vq_cfg, pcfg, (32, 32))
    x = torch.rand(2, 1, 32, 32)
    assert c.correct(x, mode="recon").shape == x.shape
    with pytest.raises(ValueError, match="not trained/calibrated"):
        c.correct(x, mode="prior")
    with pytest.raises(ValueError, match="no trained disentangled"):
        c.correct(x, mode="disentangled_noprior")
    with pytest.raises(ValueError, match="unknown mode"):
        c.correct(x, mode="magic")
    c.calibration = {
        f"{k}_{lv}": v
        for lv in ("top", "bottom")
        for k, v in (("logp_quantiles", {"0.05": -1.0}), ("temperature", 1.0))
    }
    with pytest.raises(ValueError, match=r"trained on \(32, 32\)"):
        c.correct(torch.rand(1, 1, 40, 40), mode="prior")


def test_output_scales_with_input():
    vq = _vq()
    c = VQPriorCorrector(*model_config("tiny"), (32, 32))
    c.vq = vq
    x = torch.rand(2, 1, 32, 32)
    # slices are normalised by their RMS, so the correction is scale-equivariant
    assert torch.allclose(
        c.correct(7.0 * x, mode="recon"), 7.0 * c.correct(x, mode="recon"), rtol=1e-4, atol=1e-5
    )
    assert torch.allclose(slice_scale(2 * x), 2 * slice_scale(x))
