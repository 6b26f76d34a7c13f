"""Poly-1 cross-entropy: hand-worked values, the closed-form gradient, torch's cross-entropy plus the
Poly-1 term under every option, confident predictions, errors (oracle: test_oracle.py)."""

import itertools
import math
import re

import backward_paths
import mpmath
import pytest
import torch
import torch.nn.functional as F
from backward_paths import PATHS

import lossref
from lossref import Poly1CrossEntropyLoss, poly1_cross_entropy

REDUCTIONS = ["none", "mean", "sum"]
LN2, LN3 = math.log(2), math.log(3)


def plain_formula(x, t, epsilon=1.0, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Poly-1 as the paper's reference code writes it, on torch's cross-entropy and softmax:
    CE + epsilon * w_y * (1 - sum_k q_k p_k), q the smoothed one-hot target; 'mean' by sum of w_y."""
    dim = 0 if x.dim() == 1 else 1
    c = x.shape[dim]
    keep = t != ignore_index
    safe = torch.where(keep, t, 0)
    q = F.one_hot(safe, c).movedim(-1, dim).to(x.dtype) * (1 - label_smoothing) + label_smoothing / c
    p_t = (q * torch.softmax(x, dim)).sum(dim)
    w = keep.to(x.dtype) if weight is None else weight[safe] * keep
    ce = F.cross_entropy(
        x, t, weight=weight, ignore_index=ignore_index, reduction="none", label_smoothing=label_smoothing
    )
    loss = ce + epsilon * w * (1 - p_t)
    return {"none": loss, "mean": loss.sum() / w.sum(), "sum": loss.sum()}[reduction]


def data(seed, shape=(12, 5), dtype=torch.float64, ignore_index=-100, ignored=2):
    g = torch.Generator().manual_seed(seed)
    x = 3 * torch.randn(shape, generator=g, dtype=dtype)
    c = shape[0] if len(shape) == 1 else shape[1]
    t = torch.randint(0, c, () if len(shape) == 1 else shape[:1] + shape[2:], generator=g)
    if t.dim() and ignored:
        t.view(-1)[:ignored] = ignore_index
    if not t.dim() and t.item() == ignore_index:  # one sample: keep it counted
        t = (t + 1) % c
    return x, t


# -- hand-worked values ----------------------------------------------------------------------------


def test_hand_values():
    # logits (0, ln 3): p = (1/4, 3/4); logits (0, 0): p = (1/2, 1/2)
    x = torch.tensor([[0.0, LN3], [0.0, LN3], [0.0, 0.0]], dtype=torch.float64)
    t = torch.tensor([1, 0, 1])
    # target 1: -ln(3/4) + (1 - 3/4); target 0: -ln(1/4) + (1 - 1/4); (0, 0): ln 2 + 1/2
    expected = [math.log(4 / 3) + 1 / 4, 2 * LN2 + 3 / 4, LN2 + 1 / 2]
    assert poly1_cross_entropy(x, t, reduction="none").tolist() == pytest.approx(expected, rel=1e-15, abs=0)
    assert poly1_cross_entropy(x, t).item() == pytest.approx(sum(expected) / 3, rel=1e-15, abs=0)
    # epsilon = 2: the Poly-1 term doubles; epsilon = -1: it is subtracted
    assert poly1_cross_entropy(x, t, epsilon=2.0, reduction="sum").item() == pytest.approx(
        math.log(4 / 3) + 2 * LN2 + LN2 + 2 * (1 / 4 + 3 / 4 + 1 / 2), rel=1e-15, abs=0
    )
    assert poly1_cross_entropy(x[:1], t[:1], epsilon=-1.0).item() == pytest.approx(
        math.log(4 / 3) - 1 / 4, rel=1e-14, abs=0
    )


def test_hand_value_weighted_mean_with_an_ignored_target():
    # weight (2, 1/2): rows (target 1, target 0, ignored): (ln(4/3) + 1/4) / 2 and 2 (2 ln 2 + 3/4),
    # divided by w_1 + w_0 = 5/2
    x = torch.tensor([[0.0, LN3], [0.0, LN3], [5.0, -3.0]], dtype=torch.float64)
    w = torch.tensor([2.0, 0.5], dtype=torch.float64)
    loss = poly1_cross_entropy(x, torch.tensor([1, 0, -100]), weight=w, reduction="none")
    assert loss.tolist() == pytest.approx(
        [(math.log(4 / 3) + 1 / 4) / 2, 2 * (2 * LN2 + 3 / 4), 0.0], rel=1e-15, abs=0
    )
    mean = poly1_cross_entropy(x, torch.tensor([1, 0, -100]), weight=w)
    assert mean.item() == pytest.approx(loss.sum().item() / 2.5, rel=1e-15, abs=0)


def test_hand_value_with_label_smoothing():
    # logits (0, ln 3), target 1, smoothing 0.2 over C = 2: q = (1/10, 9/10),
    # CE = -(1/10 ln(1/4) + 9/10 ln(3/4)), P_t = 1/10 * 1/4 + 9/10 * 3/4 = 7/10
    x = torch.tensor([0.0, LN3], dtype=torch.float64)
    loss = poly1_cross_entropy(x, torch.tensor(1), label_smoothing=0.2)
    expected = 0.1 * math.log(4) + 0.9 * math.log(4 / 3) + (1 - 0.7)
    assert loss.item() == pytest.approx(expected, rel=1e-15, abs=0)


def test_hand_gradient():
    # logits (0, ln 3), target 1, epsilon 1: (1 + 3/4) (p - onehot) = 7/4 (1/4, -1/4)
    x = torch.tensor([[0.0, LN3]], dtype=torch.float64, requires_grad=True)
    poly1_cross_entropy(x, torch.tensor([1])).backward()
    assert x.grad.tolist()[0] == pytest.approx([7 / 16, -7 / 16], rel=1e-15, abs=0)


# -- epsilon = 0, the closed-form gradient, and torch's cross-entropy plus the Poly-1 term ----------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_epsilon_zero_is_cross_entropy(reduction, label_smoothing, weighted):
    x, t = data(1, (4, 5, 3))
    w = torch.rand(5, dtype=torch.float64) + 0.1 if weighted else None
    options = dict(weight=w, reduction=reduction, label_smoothing=label_smoothing)
    ours_x, ref_x = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours = poly1_cross_entropy(ours_x, t, epsilon=0.0, **options)
    ref = lossref.cross_entropy(ref_x, t, **options)
    torch.testing.assert_close(ours, ref, rtol=1e-14, atol=1e-15)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(ours_x.grad, ref_x.grad, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("epsilon", [1.0, 2.5, -0.5, -1.0, -3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_is_the_closed_form(epsilon, weighted):
    # without smoothing: d l_n / d x_n = w_y (1 + epsilon p_y) (p - onehot(y)), 0 where ignored
    x, t = data(2, (16, 6))
    w = torch.rand(6, dtype=torch.float64) + 0.1 if weighted else None
    x_ = x.clone().requires_grad_(True)
    poly1_cross_entropy(x_, t, epsilon, w, reduction="sum").backward()
    keep = t != -100
    safe = torch.where(keep, t, 0)
    p = torch.softmax(x, 1)
    p_y = p.gather(1, safe[:, None])
    w_y = (torch.ones(6, dtype=torch.float64) if w is None else w)[safe][:, None] * keep[:, None]
    closed_form = w_y * (1 + epsilon * p_y) * (p - F.one_hot(safe, 6))
    torch.testing.assert_close(x_.grad, closed_form, rtol=1e-12, atol=1e-15)
    # and autograd of the plain formula
    x_ref = x.clone().requires_grad_(True)
    plain_formula(x_ref, t, epsilon, w, reduction="sum").backward()
    torch.testing.assert_close(x_.grad, x_ref.grad, rtol=1e-12, atol=1e-15)


PLAIN_CASES = list(
    itertools.product(
        [(9, 4), (3, 4, 2, 3), (4,)],  # (N, C), (N, C, d1, d2), one sample (C)
        [1.0, -1.0, 2.0],  # epsilon
        [False, True],  # weight
        [-100, 1],  # ignore_index (1 is also a class)
        [0.0, 0.1, 1.0],  # label_smoothing
        REDUCTIONS,
    )
)


@pytest.mark.parametrize("shape, epsilon, weighted, ignore_index, label_smoothing, reduction", PLAIN_CASES)
def test_matches_the_plain_formula_on_torch(
    shape, epsilon, weighted, ignore_index, label_smoothing, reduction
):
    x, t = data(3, shape, ignore_index=ignore_index)
    c = shape[0] if len(shape) == 1 else shape[1]
    w = torch.linspace(0.3, 2.0, c, dtype=torch.float64) if weighted else None
    options = dict(
        epsilon=epsilon,
        weight=w,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )
    ours_x, ref_x = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours = poly1_cross_entropy(ours_x, t, **options)
    ref = plain_formula(ref_x, t, **options)
    assert ours.shape == ref.shape == (t.shape if reduction == "none" else ())
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(ours_x.grad, ref_x.grad, rtol=1e-11, atol=1e-14)
    # the module gives the same numbers
    module = Poly1CrossEntropyLoss(**options)
    torch.testing.assert_close(module(x, t), ours.detach(), rtol=0, atol=0)


@pytest.mark.parametrize("epsilon, label_smoothing", [(1.0, 0.0), (-0.5, 0.2), (3.0, 0.1)])
def test_second_derivatives_with_options(epsilon, label_smoothing):
    x, t = data(4, (3, 4, 2))
    x.requires_grad_(True)
    w = (torch.rand(4, dtype=torch.float64) + 0.2).requires_grad_(True)

    def f(x, w):
        return poly1_cross_entropy(x, t, epsilon, w, reduction="mean", label_smoothing=label_smoothing)

    assert torch.autograd.gradcheck(f, (x, w))
    assert torch.autograd.gradgradcheck(f, (x, w))
    # the differentiable gradient (create_graph) equals the plain one
    (plain,) = torch.autograd.grad(f(x, w.detach()), x)
    (differentiable,) = torch.autograd.grad(f(x, w.detach()), x, create_graph=True)
    torch.testing.assert_close(plain, differentiable.detach(), rtol=1e-13, atol=1e-16)


# -- numerics --------------------------------------------------------------------------------------


def exact_confident(t):
    """Logits (t, 0, 0), target 0: loss log1p(2 e^-t) + s with s = 1 - p_0 = 2 e^-t / (1 + 2 e^-t);
    gradient (1 + p_0)(p - onehot): -(2 - s) s at class 0, (2 - s) s / 2 at the others."""
    with mpmath.workdps(50):
        s = 2 * mpmath.exp(-t) / (1 + 2 * mpmath.exp(-t))
        return float(mpmath.log1p(2 * mpmath.exp(-t)) + s), float(-(2 - s) * s), float((2 - s) * s / 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("t", [20.0, 30.0, 40.0])
def test_confident_correct_prediction_is_accurate(dtype, t):
    x = torch.tensor([[t, 0.0, 0.0]], dtype=dtype, requires_grad=True)
    loss = poly1_cross_entropy(x, torch.tensor([0]))
    loss.backward()
    value, grad_y, grad_other = exact_confident(t)
    rel = 1e-6 if dtype == torch.float32 else 1e-14
    assert loss.item() == pytest.approx(value, rel=rel, abs=0)
    assert x.grad[0].tolist() == pytest.approx([grad_y, grad_other, grad_other], rel=rel, abs=0)


def test_the_plain_formula_loses_the_confident_prediction_in_float32():
    # at logits (30, 0, 0) the exact loss is about 3.7e-13; 1 - softmax rounds to 0 in float32
    x = torch.tensor([[30.0, 0.0, 0.0]])
    value, _, _ = exact_confident(30.0)
    assert poly1_cross_entropy(x, torch.tensor([0])).item() == pytest.approx(value, rel=1e-6, abs=0)
    assert abs(plain_formula(x, torch.tensor([0])).item() - value) > 0.5 * value


def test_extreme_logits_are_finite():
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = poly1_cross_entropy(x, torch.tensor([0, 0]), reduction="none")
    loss.sum().backward()
    assert loss.tolist() == [0.0, 2e4 + 1.0]
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]]  # (1 + 1 * 0)(p - onehot)


def test_all_ignored_batch_behaves_as_cross_entropy():
    x, t = torch.randn(4, 3), torch.full((4,), -100)
    assert math.isnan(poly1_cross_entropy(x, t).item())
    assert poly1_cross_entropy(x, t, reduction="sum").item() == 0.0
    assert poly1_cross_entropy(x, t, reduction="none").tolist() == [0.0] * 4


def test_ignored_target_costs_nothing_even_where_its_class_logit_is_minus_inf():
    x = torch.tensor([[0.0, 1.0, -math.inf], [-math.inf, 0.0, 0.0]], requires_grad=True)
    loss = poly1_cross_entropy(x, torch.tensor([1, -100]), reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert loss[1].item() == 0.0 and grad[1].tolist() == [0.0, 0.0, 0.0]
    # row 0: p = (1, e, 0) / (1 + e): ln(1 + 1/e) + 1 / (1 + e)
    expected = math.log1p(math.exp(-1)) + 1 / (1 + math.e)
    assert loss[0].item() == pytest.approx(expected, rel=1e-6, abs=0)


def loss_and_gradients(x, t, path, **options):
    loss, grads, _ = backward_paths.loss_and_gradients(poly1_cross_entropy, x, t, path, **options)
    return loss, grads


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("epsilon, label_smoothing", [(1.0, 0.0), (-0.5, 0.2)])
def test_all_ignored_mean_is_nan_with_gradient_0_as_cross_entropy(path, epsilon, label_smoothing):
    x, t = (
        torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2)),
        torch.full((3,), -100),
    )
    loss, grads = loss_and_gradients(x, t, path, epsilon=epsilon, label_smoothing=label_smoothing)
    assert math.isnan(loss.item())
    for grad in grads:  # x's, as torch's cross-entropy, and weight's
        assert torch.equal(grad, torch.zeros_like(grad))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("epsilon, label_smoothing", [(1.0, 0.0), (-0.5, 0.2)])
def test_ignored_padding_row_of_minus_inf_drops_out(path, reduction, epsilon, label_smoothing):
    x = torch.tensor([[0.5, 1.0, -0.3], [-math.inf] * 3, [2.0, 0.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([1, -100, 0])
    options = {"epsilon": epsilon, "reduction": reduction, "label_smoothing": label_smoothing}
    loss, grads = loss_and_gradients(x, t, path, **options)
    assert grads[0][1].tolist() == [0.0] * 3
    if reduction == "none":
        assert loss[1].item() == 0.0
    # the batch without the padding row, weight's gradient included
    kept, kept_grads = loss_and_gradients(x[[0, 2]], t[[0, 2]], path, **options)
    torch.testing.assert_close(loss[[0, 2]] if reduction == "none" else loss, kept, rtol=1e-15, atol=0)
    for grad, kept_grad in zip(grads, kept_grads, strict=True):
        torch.testing.assert_close(grad[[0, 2]] if grad.dim() == 2 else grad, kept_grad, rtol=1e-15, atol=0)


@pytest.mark.parametrize("path", ["unweighted", "create_graph"])
def test_row_of_minus_inf_that_counts_is_nan_as_in_cross_entropy(path):
    x = torch.tensor([[0.5, 1.0, -0.3], [-math.inf] * 3], dtype=torch.float64)
    loss, (grad,) = loss_and_gradients(x, torch.tensor([1, 0]), path, reduction="none")
    assert math.isnan(loss[1].item()) and grad[1].isnan().all()
    assert torch.isfinite(loss[0]) and torch.isfinite(grad[0]).all()


def test_single_class_costs_nothing_and_has_no_nan_gradient():
    x = torch.zeros(3, 1, requires_grad=True)
    loss = poly1_cross_entropy(x, torch.zeros(3, dtype=torch.long), label_smoothing=0.5)
    loss.backward()
    assert loss.item() == 0.0 and x.grad.tolist() == [[0.0], [0.0], [0.0]]


# -- module ----------------------------------------------------------------------------------------


def test_module_keeps_weight_as_a_buffer_and_shows_epsilon():
    w = torch.tensor([1.0, 2.0, 0.5])
    module = Poly1CrossEntropyLoss(epsilon=-0.5, weight=w, ignore_index=2, label_smoothing=0.1)
    assert set(module.state_dict()) == {"weight"}
    assert repr(module) == "Poly1CrossEntropyLoss(epsilon=-0.5, reduction='mean')"
    x, t = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    expected = poly1_cross_entropy(x, t, -0.5, w, 2, "mean", 0.1)
    torch.testing.assert_close(module(x, t), expected, rtol=0, atol=0)


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [torch.tensor([0.0, 1.0]), torch.tensor([[0.9, 0.1], [0.2, 0.8]])])
def test_rejects_float_targets_and_says_what_to_pass(target):
    with pytest.raises(
        TypeError,
        match=r"integer dtype, got torch.float32; poly1_cross_entropy takes class indices only, not class "
        r"probabilities: pass target.long\(\) for class indices, target.argmax\(dim=1\)",
    ):
        poly1_cross_entropy(torch.randn(2, 2), target)


def test_rejects_target_shape_mismatch():
    with pytest.raises(ValueError, match=r"must have shape \(4,\), got \(4, 1\)"):
        poly1_cross_entropy(torch.randn(4, 3), torch.zeros(4, 1, dtype=torch.long))


@pytest.mark.parametrize("bad", [3, -1])
def test_rejects_class_index_out_of_range(bad):
    with pytest.raises(ValueError, match=rf"target holds class index {bad}, outside \[0, 3\)"):
        poly1_cross_entropy(torch.randn(2, 3), torch.tensor([0, bad]))


def test_rejects_wrong_weight_length():
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\), got \(2,\)"):
        poly1_cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), weight=torch.ones(2))


@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0,), 0), ((2, 0, 4), 1)])
def test_rejects_input_without_classes(shape, dim):
    target = torch.zeros(shape[:1] + shape[2:] if len(shape) > 1 else (), dtype=torch.long)
    message = rf"input must have at least one class in dimension {dim}, got shape {re.escape(str(shape))}"
    with pytest.raises(ValueError, match=message):
        poly1_cross_entropy(torch.randn(shape), target)


def test_rejects_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be one of .* got 'avg'"):
        poly1_cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), reduction="avg")


@pytest.mark.parametrize("smoothing", [-0.1, 1.5])
def test_rejects_label_smoothing_outside_unit_interval(smoothing):
    with pytest.raises(ValueError, match=rf"label_smoothing must be in \[0, 1\], got {smoothing}"):
        poly1_cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), label_smoothing=smoothing)


@pytest.mark.parametrize(
    "epsilon, error, message",
    [
        ("1", TypeError, "epsilon must be a real number, got str"),
        (True, TypeError, "epsilon must be a real number, got bool"),
        (torch.tensor(1.0), TypeError, r"epsilon must be a real number, got Tensor; pass a Python number"),
        (math.nan, ValueError, "epsilon must be a finite real number, got nan"),
        (-math.inf, ValueError, "epsilon must be a finite real number, got -inf"),
    ],
)
def test_rejects_bad_epsilon(epsilon, error, message):
    with pytest.raises(error, match=message):
        poly1_cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), epsilon=epsilon)
    with pytest.raises(error, match=message):
        Poly1CrossEntropyLoss(epsilon=epsilon)


def test_accepts_integer_and_numpy_epsilon():
    import numpy as np

    x, t = torch.randn(2, 3), torch.tensor([0, 1])
    torch.testing.assert_close(poly1_cross_entropy(x, t, epsilon=2), poly1_cross_entropy(x, t, epsilon=2.0))
    torch.testing.assert_close(
        poly1_cross_entropy(x, t, epsilon=np.float64(2.0)), poly1_cross_entropy(x, t, epsilon=2.0)
    )


# -- the derivation (lossref.symbolic) -------------------------------------------------------------


def test_sympy_derives_the_closed_form_gradient():
    import sympy as sp

    from lossref.symbolic import POLY1_CROSS_ENTROPY, poly_eps, qs, ws, xs

    p = [sp.exp(v) / sum(sp.exp(u) for u in xs) for v in xs]
    # one-hot target at class 0, unit weights: (1 + epsilon p_0)(p_k - delta_k0)
    onehot = {qs[0]: 1, qs[1]: 0, qs[2]: 0, **{w: 1 for w in ws}}
    for k, gradient in enumerate(POLY1_CROSS_ENTROPY.gradient):
        closed_form = (1 + poly_eps * p[0]) * (p[k] - (1 if k == 0 else 0))
        assert sp.simplify(gradient.subs(onehot) - closed_form) == 0
    # any target distribution q: d(1 - P_t)/dx_j = -p_j (q_j - P_t), P_t = sum_k q_k p_k
    p_t = sum(q * p_k for q, p_k in zip(qs, p, strict=True))
    for j in range(len(xs)):
        assert sp.simplify(sp.diff(1 - p_t, xs[j]) + p[j] * (qs[j] - p_t)) == 0
