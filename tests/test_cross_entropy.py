"""cross_entropy and nll_loss: torch's semantics, hand-worked values, errors (oracle: test_oracle.py)."""

import math
import re

import mpmath
import pytest
import torch
import torch.nn.functional as F
from backward_paths import PATHS, loss_and_gradients
from hypothesis import given
from hypothesis import strategies as st

from lossref import CrossEntropyLoss, NLLLoss, cross_entropy, nll_loss
from lossref.registry import get

REDUCTIONS = ["none", "mean", "sum"]


def class_dim(x):
    return 0 if x.dim() == 1 else 1


# -- differential test against torch: every option combination ------------------------------------


@st.composite
def problems(draw):
    """Logits of shape (C,) or (N, C, d...), index or probability targets, and options."""
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    c = draw(st.integers(1, 5))
    batch = draw(st.one_of(st.just(None), st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    shape = (c,) if batch is None else (batch[0], c, *batch[1:])
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 4
    if draw(st.booleans()):
        target = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), class_dim(x))
        ignore_index = -100
    else:
        tshape = () if batch is None else (batch[0], *batch[1:])
        target = torch.randint(0, c, tshape, generator=g)
        ignore_index = draw(st.sampled_from([-100, 0, c - 1]))
        if draw(st.booleans()) and target.numel():
            target.view(-1)[0] = ignore_index  # at least one ignored target
    weight = torch.rand(c, generator=g, dtype=torch.float64) + 0.1 if draw(st.booleans()) else None
    options = dict(
        weight=weight,
        ignore_index=ignore_index,
        reduction=draw(st.sampled_from(REDUCTIONS)),
        label_smoothing=draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
    )
    return x, target, options


@given(problems())
def test_cross_entropy_matches_torch(problem):
    x, target, options = problem
    ours_x, ref_x = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours = cross_entropy(ours_x, target, **options)
    ref = F.cross_entropy(ref_x, target, **options)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14, equal_nan=True)
    if torch.isfinite(ref).all():
        ours.sum().backward()
        ref.sum().backward()
        torch.testing.assert_close(ours_x.grad, ref_x.grad, rtol=1e-10, atol=1e-13)


@given(problems())
def test_nll_loss_matches_torch(problem):
    x, target, options = problem
    if target.is_floating_point():
        return  # nll_loss takes class indices only
    options.pop("label_smoothing")
    log_probs = torch.log_softmax(x, class_dim(x))
    torch.testing.assert_close(
        nll_loss(log_probs, target, **options),
        F.nll_loss(log_probs, target, **options),
        rtol=1e-12,
        atol=1e-14,
        equal_nan=True,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_modules_equal_functions(reduction):
    g = torch.Generator().manual_seed(0)
    x, t, w = (
        torch.randn(6, 4, generator=g),
        torch.randint(0, 4, (6,), generator=g),
        torch.rand(4, generator=g),
    )
    module = CrossEntropyLoss(weight=w, ignore_index=2, reduction=reduction, label_smoothing=0.2)
    # positional, in torch's order: weight, size_average, ignore_index, reduce, reduction, ...
    torch.testing.assert_close(module(x, t), cross_entropy(x, t, w, None, 2, None, reduction, 0.2))
    log_probs = torch.log_softmax(x, 1)
    torch.testing.assert_close(
        NLLLoss(w, None, 2, None, reduction)(log_probs, t),
        nll_loss(log_probs, t, w, None, 2, None, reduction),
    )
    assert set(module.state_dict()) == {"weight"}


# -- values worked by hand -------------------------------------------------------------------------


def test_hand_computed_weighted_mean_with_ignored_target():
    # logits (2, 0, 0) and (0, 0, 0); targets 0, 2 and one ignored; weights (1, 1, 3)
    x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [5.0, 1.0, 0.0]], dtype=torch.float64)
    t = torch.tensor([0, 2, -100])
    w = torch.tensor([1.0, 1.0, 3.0], dtype=torch.float64)
    first, second = math.log(1 + 2 * math.exp(-2)), math.log(3)
    none = cross_entropy(x, t, weight=w, reduction="none")
    torch.testing.assert_close(none, torch.tensor([first, 3 * second, 0.0], dtype=torch.float64))
    # 'mean' divides by the weights of the counted targets, 1 + 3
    assert cross_entropy(x, t, weight=w).item() == pytest.approx((first + 3 * second) / 4, rel=1e-15, abs=0)


def test_hand_computed_label_smoothing():
    # eps = 0.3 over C = 3 classes: (1 - eps) * CE + eps / 3 * sum_c (-log p_c)
    x = torch.tensor([[2.0, 0.0, 0.0]], dtype=torch.float64)
    lse = math.log(math.exp(2) + 2)
    nll = [lse - 2, lse, lse]
    expected = 0.7 * nll[0] + 0.1 * sum(nll)
    assert cross_entropy(x, torch.tensor([0]), label_smoothing=0.3).item() == pytest.approx(
        expected, rel=1e-15, abs=0
    )
    # the same loss as cross-entropy against the mixed target (1 - eps) onehot + eps / C
    mixed = torch.tensor([[0.8, 0.1, 0.1]], dtype=torch.float64)
    assert cross_entropy(x, mixed).item() == pytest.approx(expected, rel=1e-15, abs=0)


def test_all_ignored_batch_behaves_as_torch():
    x, t = torch.randn(4, 3), torch.full((4,), -100)
    assert math.isnan(cross_entropy(x, t).item()) and math.isnan(F.cross_entropy(x, t).item())
    assert cross_entropy(x, t, reduction="sum").item() == 0.0
    assert cross_entropy(x, t, reduction="none").tolist() == [0.0] * 4


@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_ignored_target_costs_nothing_even_where_its_class_logit_is_minus_inf(ignore_index):
    # the ignored sample's row has -inf for class 2 (masked out), and for class 0 in the second
    # test; torch gives 0 loss and 0 gradient for it, not NaN
    x = torch.tensor([[0.0, 1.0, -math.inf], [-math.inf, 0.0, 0.0]], requires_grad=True)
    t = torch.tensor([1, ignore_index])
    for fn in (cross_entropy, F.cross_entropy):
        loss = fn(x, t, ignore_index=ignore_index, reduction="none")
        assert loss[1].item() == 0.0
        (grad,) = torch.autograd.grad(loss.sum(), x)
        assert grad[1].tolist() == [0.0, 0.0, 0.0]
        assert loss[0].item() == pytest.approx(math.log(1 + math.exp(-1)), rel=1e-6, abs=0)
        # with smoothing the kept row costs inf (-log p of the masked class), the ignored one still 0
        smoothed = fn(x, t, ignore_index=ignore_index, reduction="none", label_smoothing=0.1)
        assert smoothed.tolist() == [math.inf, 0.0]
    for fn in (nll_loss, F.nll_loss):
        loss = fn(torch.log_softmax(x, 1), t, ignore_index=ignore_index, reduction="none")
        assert loss[1].item() == 0.0
        (grad,) = torch.autograd.grad(loss.sum(), x)
        assert grad[1].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "fn, torch_fn, options",
    [
        (cross_entropy, F.cross_entropy, {}),
        (cross_entropy, F.cross_entropy, {"label_smoothing": 0.2}),
        (nll_loss, F.nll_loss, {}),
    ],
)
def test_all_ignored_mean_is_nan_with_torch_gradient_0(path, fn, torch_fn, options):
    x, t = (
        torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2)),
        torch.full((3,), -100),
    )
    loss, grads, weight = loss_and_gradients(fn, x, t, path, **options)
    x_ref = x.clone().requires_grad_(True)
    ref = torch_fn(x_ref, t, weight=weight, **options)
    assert math.isnan(loss.item()) and math.isnan(ref.item())
    (ref_grad,) = torch.autograd.grad(ref, x_ref)
    assert torch.equal(grads[0], ref_grad) and torch.equal(ref_grad, torch.zeros_like(x))
    for grad in grads[1:]:  # weight's (torch has none): 0, as it counts for nothing
        assert torch.equal(grad, torch.zeros_like(grad))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_ignored_padding_row_of_minus_inf_drops_out(path, reduction, label_smoothing):
    x = torch.tensor([[0.5, 1.0, -0.3], [-math.inf] * 3, [2.0, 0.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([1, -100, 0])
    options = {"reduction": reduction, "label_smoothing": label_smoothing}
    loss, grads, weight = loss_and_gradients(cross_entropy, x, t, path, **options)
    x_ref = x.clone().requires_grad_(True)
    ref = F.cross_entropy(x_ref, t, weight=weight, **options)
    torch.testing.assert_close(loss, ref.detach(), rtol=1e-14, atol=0)  # 0 at the padding row with 'none'
    (ref_grad,) = torch.autograd.grad(ref.sum(), x_ref)
    # the deliberate difference: torch's gradient at the padding row is NaN (its log-softmax is)
    assert ref_grad[1].isnan().all() and grads[0][1].tolist() == [0.0] * 3
    torch.testing.assert_close(grads[0][[0, 2]], ref_grad[[0, 2]], rtol=1e-13, atol=1e-16)
    # and it is the batch without the padding row, weight's gradient included
    kept, kept_grads, _ = loss_and_gradients(cross_entropy, x[[0, 2]], t[[0, 2]], path, **options)
    torch.testing.assert_close(loss[[0, 2]] if reduction == "none" else loss, kept, rtol=1e-15, atol=0)
    for grad, kept_grad in zip(grads, kept_grads, strict=True):
        torch.testing.assert_close(grad[[0, 2]] if grad.dim() == 2 else grad, kept_grad, rtol=1e-15, atol=0)


@pytest.mark.parametrize("path", ["unweighted", "weighted", "create_graph"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_row_of_minus_inf_that_counts_is_nan_as_in_torch(path, reduction, label_smoothing):
    x = torch.tensor([[0.5, 1.0, -0.3], [-math.inf] * 3], dtype=torch.float64)
    t = torch.tensor([1, 0])
    options = {"reduction": reduction, "label_smoothing": label_smoothing}
    loss, (grad,), weight = loss_and_gradients(cross_entropy, x, t, path, **options)
    x_ref = x.clone().requires_grad_(True)
    ref = F.cross_entropy(x_ref, t, weight=weight, **options)
    (ref_grad,) = torch.autograd.grad(ref.sum(), x_ref)
    assert loss.isnan().any()
    torch.testing.assert_close(loss, ref.detach(), rtol=1e-14, atol=0, equal_nan=True)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-13, atol=1e-16, equal_nan=True)


def test_ignore_index_may_be_a_real_class():
    x = torch.zeros(3, 4)
    loss = cross_entropy(x, torch.tensor([0, 1, 1]), ignore_index=1, reduction="none")
    assert loss.tolist() == pytest.approx([math.log(4), 0.0, 0.0], rel=1e-6, abs=0)


def test_stable_at_extreme_logits():
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = cross_entropy(x, torch.tensor([0, 0]), reduction="none")
    loss.sum().backward()
    assert loss.tolist() == [0.0, 2e4]
    assert torch.isfinite(x.grad).all()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("options", [{}, {"weight": [2.0, 1.0, 1.0], "reduction": "sum"}])
def test_gradient_of_a_confident_correct_class_is_not_rounded_away(dtype, options):
    # logits (t, 0, 0), target 0: d loss / d x_0 = p_0 - 1 = -2 e^-t / (1 + 2 e^-t), about -4.1e-9 at
    # t = 20, where 1 + 2 e^-t rounds to 1 in float32; w_0 = 2 with 'sum' doubles it
    options = dict(options)
    scale = 1.0
    if "weight" in options:
        options["weight"] = torch.tensor(options["weight"], dtype=dtype)
        scale = 2.0
    for t in (20.0, 40.0):
        x = torch.tensor([[t, 0.0, 0.0]], dtype=dtype, requires_grad=True)
        cross_entropy(x, torch.tensor([0]), **options).backward()
        exact = -scale * 2 * math.exp(-t) / (1 + 2 * math.exp(-t))
        assert x.grad[0, 0].item() == pytest.approx(exact, rel=1e-6, abs=0)
        assert x.grad[0, 1].item() == pytest.approx(-exact / 2, rel=1e-6, abs=0)


# -- bad input -------------------------------------------------------------------------------------


def test_rejects_float_class_indices():
    with pytest.raises(
        TypeError, match=r"integer dtype, got torch.float32; for class indices use target.long\(\)"
    ):
        cross_entropy(torch.randn(3, 4), torch.tensor([0.0, 1.0, 2.0]))


def test_rejects_integer_class_probabilities():
    with pytest.raises(ValueError, match=r"must have shape \(3,\), got \(3, 4\)"):
        cross_entropy(torch.randn(3, 4), torch.zeros(3, 4, dtype=torch.long))


def test_channels_last_input_gets_a_hint():
    with pytest.raises(
        ValueError, match=r"got \(2, 4, 4\); classes go in dimension 1 of input, e.g. input.movedim"
    ):
        cross_entropy(torch.randn(2, 4, 4, 3), torch.zeros(2, 4, 4, dtype=torch.long))


@pytest.mark.parametrize("bad", [4, -1, 7])
def test_rejects_class_index_out_of_range(bad):
    with pytest.raises(
        ValueError, match=rf"class index {bad}, outside \[0, 4\) and not ignore_index \(-100\)"
    ):
        cross_entropy(torch.randn(3, 4), torch.tensor([0, bad, 1]))


def test_rejects_wrong_weight_length():
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(4,\), got \(3,\)"):
        cross_entropy(torch.randn(3, 4), torch.tensor([0, 1, 2]), weight=torch.ones(3))


@pytest.mark.parametrize("eps", [-0.1, 1.5])
def test_rejects_label_smoothing_outside_unit_interval(eps):
    with pytest.raises(ValueError, match=rf"label_smoothing must be in \[0, 1\], got {eps}"):
        cross_entropy(torch.randn(3, 4), torch.tensor([0, 1, 2]), label_smoothing=eps)
    with pytest.raises(ValueError, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=eps)


def test_rejects_target_shape_mismatch():
    with pytest.raises(ValueError, match=r"must have shape \(2, 5, 6\), got \(2, 5, 7\)"):
        cross_entropy(torch.randn(2, 4, 5, 6), torch.zeros(2, 5, 7, dtype=torch.long))


def test_rejects_ignore_index_with_probability_targets():
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match="ignore_index applies to class indices only"):
        cross_entropy(x, torch.softmax(x, 1), ignore_index=1)


def test_nll_loss_rejects_probability_targets():
    x = torch.randn(3, 4)
    with pytest.raises(TypeError, match="integer dtype, got torch.float32"):
        nll_loss(x, torch.softmax(x, 1))


def test_rejects_zero_dimensional_input():
    with pytest.raises(ValueError, match="input must have shape"):
        cross_entropy(torch.tensor(1.0), torch.tensor(0))


@pytest.mark.parametrize("fn", [cross_entropy, nll_loss])
@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0,), 0), ((2, 0, 4), 1)])
def test_rejects_input_without_classes(fn, shape, dim):
    x = torch.randn(shape)
    target = torch.zeros(shape[:1] + shape[2:] if len(shape) > 1 else (), dtype=torch.long)
    message = rf"input must have at least one class in dimension {dim}, got shape {re.escape(str(shape))}"
    with pytest.raises(ValueError, match=message):
        fn(x, target)
    with pytest.raises((IndexError, RuntimeError)):  # torch's, less clear: the documented difference
        getattr(F, fn.__name__)(x, target)


def test_torch_log_softmax_is_less_accurate_for_a_confident_class():
    """The docstring's claim: at logits (20, 0, 0), torch's loss of class 0 is off by ~1e-7 (float64)."""
    x = torch.tensor([[20.0, 0.0, 0.0]], dtype=torch.float64)
    value = get("cross_entropy").symbolic.oracle(input=(20.0, 0.0, 0.0), target=(1.0, 0.0, 0.0)).value
    with mpmath.workdps(40):
        ours = abs(mpmath.mpf(cross_entropy(x, torch.tensor([0])).item()) - value) / value
        theirs = abs(mpmath.mpf(F.cross_entropy(x, torch.tensor([0])).item()) - value) / value
    assert ours <= 1e-15 and theirs >= 1e-8


def test_tied_maxima_get_the_softmax_gradient():
    x = torch.tensor([[1.0, 1.0, 0.0], [3.0, 3.0, 3.0]], dtype=torch.float64, requires_grad=True)
    cross_entropy(x, torch.tensor([2, 0]), reduction="sum").backward()
    expected = torch.softmax(x.detach(), 1) - F.one_hot(torch.tensor([2, 0]), 3)
    torch.testing.assert_close(x.grad, expected, rtol=1e-15, atol=1e-16)


def test_float32_limit_of_the_shift_is_documented_and_torch_does_worse():
    """The docstring of log_softmax: float32 error ~1e-6 at a gap of ~34; torch returns 0."""
    row = (33.92344284057617, 0.02467682771384716, 0.7652460336685181)
    exact = get("cross_entropy").symbolic.oracle(input=row, target=(1.0, 0.0, 0.0)).value
    x, t = torch.tensor([row]), torch.tensor([0])
    assert float(exact) == pytest.approx(5.87e-15, rel=0.01, abs=0)
    with mpmath.workdps(30):
        ours = abs(mpmath.mpf(cross_entropy(x, t).item()) - exact) / exact
    assert 1e-6 < ours < 1.1e-6
    assert F.cross_entropy(x, t).item() == 0.0
