"""kl_div and KLDivLoss: torch 2.13's semantics, established against ``F.kl_div``, lossref's two
deliberate differences (a term of zero target mass is 0 with gradient 0), hand values and the oracle
with targets down to 1e-30."""

import math
import warnings

import mpmath
import pytest
import torch
import torch.nn.functional as F

import lossref
from lossref.divergence import MEAN_WARNING
from lossref.registry import get

KL = get("kl_div").symbolic
TOL = {torch.float32: 1e-6, torch.float64: 1e-13}


def warned(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [(w.category, str(w.message)) for w in caught]


def distributions(n=4, c=5, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    log_p = torch.log_softmax(3 * torch.randn(n, c, generator=g, dtype=dtype), -1)
    q = torch.softmax(2 * torch.randn(n, c, generator=g, dtype=dtype), -1)
    return log_p, q


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["none", "batchmean", "sum", "mean"])
def test_matches_torch_value_and_both_gradients(reduction, log_target):
    log_p, q = distributions()
    target = q.log() if log_target else q
    results = []
    for fn in (lossref.kl_div, F.kl_div):
        x, t = log_p.clone().requires_grad_(True), target.clone().requires_grad_(True)
        loss, _ = warned(lambda fn=fn, x=x, t=t: fn(x, t, reduction=reduction, log_target=log_target))
        upstream = torch.rand(loss.shape, generator=torch.Generator().manual_seed(1), dtype=loss.dtype)
        results.append((loss, *torch.autograd.grad(loss, (x, t), upstream)))
    torch.testing.assert_close(results[0], results[1], rtol=1e-13, atol=1e-15)


def test_batchmean_is_the_kl_divergence_per_sample_and_mean_is_not():
    log_p, q = distributions(n=4, c=5)
    per_sample = (q * (q.log() - log_p)).sum(1)
    torch.testing.assert_close(lossref.kl_div(log_p, q, reduction="batchmean"), per_sample.mean())
    mean, _ = warned(lambda: lossref.kl_div(log_p, q, reduction="mean"))
    torch.testing.assert_close(mean, per_sample.mean() / 5)  # divided by the classes as well


def test_batchmean_of_a_scalar_and_of_an_empty_batch_as_torch():
    x, t = torch.tensor(-0.5), torch.tensor(0.25)
    assert lossref.kl_div(x, t, reduction="batchmean").item() == F.kl_div(x, t, reduction="batchmean").item()
    empty = torch.zeros(0, 3)
    assert torch.isnan(lossref.kl_div(empty, empty, reduction="batchmean"))
    assert torch.isnan(F.kl_div(empty, empty, reduction="batchmean"))


def test_mean_warns_with_torchs_message_function_and_module():
    """torch 2.13: F.kl_div(x, t) (reduction='mean') warns this UserWarning at every call; so does
    KLDivLoss()(x, t); the constructor does not; the legacy arguments resolve 'mean' without it."""
    log_p, q = distributions()
    _, ours = warned(lambda: lossref.kl_div(log_p, q))
    _, theirs = warned(lambda: F.kl_div(log_p, q))
    assert ours == theirs == [(UserWarning, MEAN_WARNING)]
    module, at_construction = warned(lambda: lossref.KLDivLoss())
    assert at_construction == []
    _, ours = warned(lambda: module(log_p, q))
    _, theirs = warned(lambda: torch.nn.KLDivLoss()(log_p, q))
    assert ours == theirs == [(UserWarning, MEAN_WARNING)]
    for reduction in ("none", "sum", "batchmean"):
        assert warned(lambda r=reduction: lossref.kl_div(log_p, q, reduction=r))[1] == []
    _, ours = warned(lambda: lossref.kl_div(log_p, q, size_average=True))
    _, theirs = warned(lambda: F.kl_div(log_p, q, size_average=True))
    assert ours == theirs and len(ours) == 1 and "size_average and reduce" in ours[0][1]


def test_a_target_of_zero_mass_contributes_zero_with_zero_gradients():
    """torch: value 0 and input gradient 0 at q = 0, but the target's gradient NaN (xlogy's 0/0),
    and the value NaN at input -inf; lossref: 0 for all of them. A NaN input stays NaN."""
    x = torch.tensor([-1.0, -2.0, -math.inf, -1.0, math.nan], dtype=torch.float64)
    q = torch.tensor([0.0, 0.5, 0.0, 0.3, 0.0], dtype=torch.float64)
    grads = []
    for fn in (lossref.kl_div, F.kl_div):
        x_, q_ = x.clone().requires_grad_(True), q.clone().requires_grad_(True)
        loss = fn(x_, q_, reduction="none")
        grads.append((loss.detach(), *torch.autograd.grad(loss.sum(), (x_, q_))))
    (ours, ours_x, ours_q), (theirs, theirs_x, theirs_q) = grads
    assert ours[[0, 2]].tolist() == [0.0, 0.0] and math.isnan(ours[4])
    assert theirs[0] == 0.0 and math.isnan(theirs[2]) and math.isnan(theirs[4])
    torch.testing.assert_close(ours[[1, 3]], theirs[[1, 3]], rtol=1e-15, atol=0)
    assert torch.equal(ours_x, theirs_x)  # -q: 0 at q = 0, both
    assert ours_q[[0, 2, 4]].tolist() == [0.0, 0.0, 0.0]
    assert theirs_q[[0, 2, 4]].isnan().all()
    torch.testing.assert_close(ours_q[[1, 3]], theirs_q[[1, 3]], rtol=1e-15, atol=0)


def test_a_log_target_of_minus_infinity_contributes_zero():
    """torch: exp(-inf) (-inf - x) = 0 * inf = NaN, in the value and the target's gradient; lossref: 0."""
    x = torch.tensor([-1.0, -2.0, -math.inf], dtype=torch.float64)
    t = torch.tensor([-math.inf, -0.5, -math.inf], dtype=torch.float64)
    results = []
    for fn in (lossref.kl_div, F.kl_div):
        x_, t_ = x.clone().requires_grad_(True), t.clone().requires_grad_(True)
        loss = fn(x_, t_, reduction="none", log_target=True)
        results.append((loss.detach(), *torch.autograd.grad(loss.sum(), (x_, t_))))
    (ours, ours_x, ours_t), (theirs, theirs_x, theirs_t) = results
    assert ours[[0, 2]].tolist() == [0.0, 0.0] and ours_t[[0, 2]].tolist() == [0.0, 0.0]
    assert theirs[[0, 2]].isnan().all() and theirs_t[0].isnan()
    assert ours_x.tolist()[0] == 0.0 and torch.equal(ours_x, theirs_x)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-15, atol=0)


def test_zero_mass_gradients_are_finite_to_second_order():
    """The target's gradient is 0 at q = 0 and so are its derivatives (create_graph=True)."""
    x = torch.tensor([-1.0, -2.0], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.0, 0.5], dtype=torch.float64, requires_grad=True)
    (_, gq) = torch.autograd.grad(lossref.kl_div(x, q, reduction="sum"), (x, q), create_graph=True)
    hx, hq = torch.autograd.grad(gq.sum(), (x, q))
    assert hx.tolist() == [0.0, -1.0] and hq.tolist() == [0.0, 2.0]  # d/dq (log q + 1 - x) = 1/q


def test_hand_values():
    # KL((0.9, 0.1) || (0.5, 0.5)) = 0.9 ln 1.8 + 0.1 ln 0.2
    log_p = torch.tensor([[0.5, 0.5]], dtype=torch.float64).log()
    q = torch.tensor([[0.9, 0.1]], dtype=torch.float64)
    exact = 0.9 * math.log(1.8) + 0.1 * math.log(0.2)
    assert lossref.kl_div(log_p, q, reduction="batchmean").item() == pytest.approx(exact, rel=1e-15)
    assert lossref.kl_div(log_p, q.log(), reduction="sum", log_target=True).item() == pytest.approx(
        exact, rel=1e-15
    )
    # identical distributions: 0, with input gradient -q
    x = q.log().clone().requires_grad_(True)
    loss = lossref.kl_div(x, q, reduction="sum")
    loss.backward()
    assert abs(loss.item()) < 1e-16 and x.grad.tolist() == [[-0.9, -0.1]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("log_target", [False, True])
def test_tiny_probabilities_match_the_oracle(dtype, log_target):
    """Target probabilities down to 1e-30 (log-targets down to log 1e-30), against the exact oracle:
    value relative to its terms' magnitudes, gradient relative to itself."""
    probs = [1e-30, 1e-20, 1e-12, 1e-7, 0.3]
    inputs = [-100.0, -69.0, -46.0, -20.0, -1.0, 0.0]
    points = [(a, math.log(q) if log_target else q) for a in inputs for q in probs]
    x = torch.tensor([a for a, _ in points], dtype=dtype).requires_grad_(True)
    t = torch.tensor([b for _, b in points], dtype=dtype)
    loss = lossref.kl_div(x, t, reduction="none", log_target=log_target)
    loss.sum().backward()
    tiny = torch.finfo(dtype).tiny
    rows = zip(x.detach().tolist(), t.tolist(), loss.detach().tolist(), x.grad.tolist(), strict=True)
    for a, b, value, grad in rows:
        exact = KL.oracle(input=a, target=b, log_target=float(log_target))
        with mpmath.workdps(40):
            assert abs(mpmath.mpf(value) - exact.value) <= TOL[dtype] * exact.value_scale + tiny, (a, b)
            assert abs(mpmath.mpf(grad) - exact.grad) <= TOL[dtype] * exact.grad_scale + tiny, (a, b)


def test_module_options_and_reductions():
    log_p, q = distributions()
    module = lossref.KLDivLoss(reduction="batchmean", log_target=True)
    assert repr(module) == "KLDivLoss(reduction='batchmean', log_target=True)"
    torch.testing.assert_close(
        module(log_p, q.log()), F.kl_div(log_p, q.log(), reduction="batchmean", log_target=True)
    )
    with pytest.raises(
        ValueError, match=r"reduction must be one of \('none', 'batchmean', 'sum', 'mean'\), got 'avg'"
    ):
        lossref.kl_div(log_p, q, reduction="avg")


def test_shapes_must_match():
    """torch broadcasts an (N, C) input against a (C,) target silently; lossref refuses."""
    log_p, q = distributions()
    assert F.kl_div(log_p, q[0], reduction="none").shape == log_p.shape
    with pytest.raises(ValueError, match=r"target must have the shape of input \(4, 5\), got \(5,\)"):
        lossref.kl_div(log_p, q[0], reduction="none")
