"""js_divergence and JSDivergenceLoss: hand values, symmetry and bounds, the usual formula (AugMix's),
classes of probability 0 and 1e-30, the mpmath oracle, and bad input."""

import math

import mpmath
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lossref
from lossref._formulas import js_divergence as usual_formula
from lossref.symbolic import JS_DIVERGENCE

TOL = {torch.float32: 1e-6, torch.float64: 1e-13}
LOG_1E30 = 30 * math.log(10)


def logits(n=5, c=4, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, c, generator=g, dtype=dtype), 5 * torch.randn(n, c, generator=g, dtype=dtype)


def value_and_grads(fn, x, z, **kwargs):
    x, z = x.clone().requires_grad_(True), z.clone().requires_grad_(True)
    loss = fn(x, z, **kwargs)
    upstream = torch.rand(loss.shape, generator=torch.Generator().manual_seed(1), dtype=loss.dtype)
    return (loss, *torch.autograd.grad(loss, (x, z), upstream))


def test_hand_values():
    # p = (1/2, 1/2), r = (1, 0), m = (3/4, 1/4): (1/2 ln(4/3) + ln(4/3)) / 2
    x = torch.zeros(1, 2, dtype=torch.float64)
    z = torch.tensor([[0.0, -math.inf]], dtype=torch.float64)
    assert lossref.js_divergence(x, z).item() == pytest.approx(0.75 * math.log(4 / 3), rel=1e-15)
    # disjoint supports: log 2, with gradient 0; equal distributions: 0
    x = torch.tensor([[0.0, -math.inf], [1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    z = torch.tensor([[-math.inf, 0.0], [1.0, 2.0]], dtype=torch.float64)
    loss = lossref.js_divergence(x, z, reduction="none")
    assert loss.tolist() == [math.log(2), 0.0]
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert grad.abs().max().item() < 1e-16


def test_symmetric_and_between_zero_and_log_two():
    x, z = logits(n=50, c=6, seed=3)
    forward = lossref.js_divergence(x, z, reduction="none")
    torch.testing.assert_close(forward, lossref.js_divergence(z, x, reduction="none"), rtol=1e-15, atol=0)
    assert ((forward >= 0) & (forward <= math.log(2))).all()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_equals_the_usual_formula_value_and_both_gradients(reduction):
    """AugMix's form (kl_div of the mixture's log against each distribution, 'batchmean', halved)."""
    x, z = logits(n=6, c=5, seed=2)
    ours = value_and_grads(lossref.js_divergence, x, z, reduction="sum")
    theirs = value_and_grads(lambda x, z: usual_formula(x, z) * len(x), x, z)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-15)
    loss = lossref.js_divergence(x, z, reduction=reduction)
    each = lossref.js_divergence(x, z, reduction="none")
    expected = {"none": each, "mean": each.mean(), "sum": each.sum()}[reduction]
    torch.testing.assert_close(loss, expected, rtol=1e-15, atol=0)


@given(
    n=st.integers(0, 5),
    c=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([1e-3, 1.0, 10.0]),
)
def test_equals_the_usual_formula_float64_property(n, c, seed, scale):
    """Any batch (empty included) and number of classes, logits from nearly equal to far apart:
    value and both gradients against AugMix's form in float64 (its mean times N)."""
    x, z = logits(n=n, c=c, seed=seed)
    x, z = scale * x, scale * z
    ours = value_and_grads(lossref.js_divergence, x, z)
    theirs = value_and_grads(usual_formula, x, z)
    torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-14, equal_nan=True)


def test_a_class_both_rule_out_costs_nothing_where_the_usual_formula_is_nan():
    x = torch.tensor([[0.5, -math.inf, 1.0]], dtype=torch.float64, requires_grad=True)
    z = torch.tensor([[0.0, -math.inf, 2.0]], dtype=torch.float64, requires_grad=True)
    loss = lossref.js_divergence(x, z)
    expected = lossref.js_divergence(x.detach()[:, [0, 2]], z.detach()[:, [0, 2]])
    assert loss.item() == pytest.approx(expected.item(), rel=1e-15)
    gx, gz = torch.autograd.grad(loss, (x, z))
    assert torch.isfinite(gx).all() and torch.isfinite(gz).all() and gx[0, 1] == 0 and gz[0, 1] == 0
    assert usual_formula(x.detach(), z.detach()).isnan()


INPUT_ROWS = [
    (0.0, 0.0, 0.0),
    (2.0, -1.0, 0.5),
    (0.0, -LOG_1E30, 0.0),  # a class of probability 1e-30
    (LOG_1E30, 0.0, 0.0),  # probability 1 - 2e-30 on class 0
    (40.0, -40.0, 0.0),
    (1e-3, 0.0, -1e-3),
]


def oracle_grid():
    """Every pair of different rows (equal rows give exactly 0, which the oracle's relative
    convergence cannot reach: tested in test_hand_values)."""
    rows = [tuple(float(torch.tensor(v, dtype=torch.float32)) for v in row) for row in INPUT_ROWS]
    pairs = [(a, b) for a in rows for b in rows if a != b]
    return [(dict(input=a, other=b), JS_DIVERGENCE.oracle(input=a, other=b)) for a, b in pairs]


def log_term_scales(pt):
    """Per class k, the magnitudes of the gradient's pieces p_k log p_k, p_k log m_k and p_k times
    sum_c p_c (|log p_c| + |log m_c|), halved, exactly: the scale of a gradient computed from rounded
    log-probabilities (a float32 log-softmax is accurate to an ulp of log p, so log(p / m) is
    accurate to ulps of log p and log m, not relative to itself where p is close to m)."""
    with mpmath.workdps(60):
        ex = [mpmath.exp(mpmath.mpf(v)) for v in pt["input"]]
        ez = [mpmath.exp(mpmath.mpf(v)) for v in pt["other"]]
        p = [e / sum(ex) for e in ex]
        r = [e / sum(ez) for e in ez]
        logs = [abs(mpmath.log(a)) + abs(mpmath.log((a + b) / 2)) for a, b in zip(p, r, strict=True)]
        total = sum(a * v for a, v in zip(p, logs, strict=True))
        return [a * (v + total) / 2 for a, v in zip(p, logs, strict=True)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_value_and_gradient_match_the_mpmath_oracle(dtype):
    """Within 1e-6 (float32) / 1e-13 (float64) of the exact value and input gradient, relative to the
    magnitudes of their terms (p log p, r log r and -m log m cancel where p is close to r), plus in
    float32 the documented limit of a float32 log-softmax (the logits' gap times 2^-24). In float64 the
    gradient is judged on the terms of its exact form, p_k (log(p_k / m_k) - JS_p) / 2; in float32 on
    the magnitudes of the log-probabilities it is computed from (log_term_scales)."""
    grid = oracle_grid()
    x = torch.tensor([pt["input"] for pt, _ in grid], dtype=dtype, requires_grad=True)
    z = torch.tensor([pt["other"] for pt, _ in grid], dtype=dtype)
    loss = lossref.js_divergence(x, z, reduction="none")
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    tiny = mpmath.mpf(torch.finfo(dtype).tiny)
    for (pt, exact), value, grad in zip(grid, loss.tolist(), x.grad.tolist(), strict=True):
        gap = max(pt["input"]) - min(pt["input"]) + max(pt["other"]) - min(pt["other"])
        allowed = TOL[dtype] + (gap * 2.0**-24 if dtype == torch.float32 else 0.0)
        with mpmath.workdps(40):
            err = abs(mpmath.mpf(value) - exact.value) / (max(exact.value_scale, tiny) * allowed)
            assert err <= 1, f"value at {pt}: {value} vs {exact.value}"
            scales = exact.grad_scale
            if dtype == torch.float32:
                scales = [max(a, b) for a, b in zip(scales, log_term_scales(pt), strict=True)]
            for g, e, scale in zip(grad, exact.grad, scales, strict=True):
                err = abs(mpmath.mpf(g) - e) / (max(scale, tiny) * allowed)
                assert err <= 1, f"gradient at {pt}: {g} vs {e}"


def test_mismatched_class_dimensions_are_refused():
    x, z = logits(n=4, c=3)
    with pytest.raises(ValueError, match=r"other must have the shape of input \(4, 3\) \(the same classes"):
        lossref.js_divergence(x, torch.zeros(4, 5, dtype=x.dtype))
    with pytest.raises(ValueError, match=r"input must have shape \(N, C\).*got \(3,\)"):
        lossref.js_divergence(x[0], z[0])


def test_module():
    x, z = logits()
    module = lossref.JSDivergenceLoss(reduction="sum")
    assert repr(module) == "JSDivergenceLoss(reduction='sum')"
    torch.testing.assert_close(module(x, z), lossref.js_divergence(x, z, reduction="sum"))
