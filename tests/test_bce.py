"""BCE-specific behaviour: hand-worked values, torch's clamp, pos_weight, non-finite input, errors."""

import math

import pytest
import torch
import torch.nn.functional as F

from lossref import BCELoss, BCEWithLogitsLoss, binary_cross_entropy, binary_cross_entropy_with_logits

LN2 = math.log(2)


# -- values worked by hand -------------------------------------------------------------------------


def test_bce_hand_computed():
    p = torch.tensor([0.9, 0.2, 0.5], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    terms = [-math.log(0.9), -math.log(0.8), -math.log(0.5)]
    assert binary_cross_entropy(p, y).item() == pytest.approx(sum(terms) / 3, rel=1e-15, abs=0)
    assert binary_cross_entropy(p, y, reduction="sum").item() == pytest.approx(sum(terms), rel=1e-15, abs=0)
    w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    weighted = terms[0] + 2 * terms[1] + 3 * terms[2]
    # 'mean' divides by the number of elements, not by the sum of the weights
    assert binary_cross_entropy(p, y, weight=w).item() == pytest.approx(weighted / 3, rel=1e-15, abs=0)


def test_bce_with_logits_hand_computed():
    x = torch.tensor([2.0, -1.0, 0.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    expected = [math.log1p(math.exp(-2)), math.log1p(math.exp(-1)), LN2]
    torch.testing.assert_close(
        binary_cross_entropy_with_logits(x, y, reduction="none"), torch.tensor(expected, dtype=torch.float64)
    )


@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
def test_zero_logit_costs_ln2_whatever_the_target(target):
    loss = binary_cross_entropy_with_logits(torch.zeros(5), torch.full((5,), target))
    assert loss.item() == pytest.approx(LN2, rel=1e-7, abs=0)


def test_pos_weight_scales_the_positive_term_only():
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.5], dtype=torch.float64)
    loss = binary_cross_entropy_with_logits(
        x, y, pos_weight=torch.tensor([3.0], dtype=torch.float64), reduction="none"
    )
    torch.testing.assert_close(loss, torch.tensor([3 * LN2, LN2, 2 * LN2], dtype=torch.float64))
    loss.sum().backward()
    # d/dx = (1 - y) sigma(x) - c y sigma(-x) at x = 0
    torch.testing.assert_close(x.grad, torch.tensor([-1.5, 0.5, -0.5], dtype=torch.float64))


def test_gradient_is_sigmoid_minus_target():
    x = torch.linspace(-8, 8, 33, dtype=torch.float64, requires_grad=True)
    y = torch.rand(33, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    torch.testing.assert_close(x.grad, torch.sigmoid(x.detach()) - y, rtol=1e-14, atol=1e-15)


def test_logits_form_equals_bce_of_sigmoid():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(50, generator=g, dtype=torch.float64) * 4
    y = torch.rand(50, generator=g, dtype=torch.float64)
    torch.testing.assert_close(
        binary_cross_entropy_with_logits(x, y, reduction="none"),
        binary_cross_entropy(torch.sigmoid(x), y, reduction="none"),
        rtol=1e-12,
        atol=1e-15,
    )


# -- torch's clamp at -100 and its bounded gradient --------------------------------------------------


def test_bce_clamps_log_at_minus_100_like_torch():
    p = torch.tensor([0.0, 1.0, 0.0, 1e-50, 5e-13, 0.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.5, 1.0, 0.0, 0.0], dtype=torch.float64)
    loss = binary_cross_entropy(p, y, reduction="none")
    torch.testing.assert_close(loss[:4], torch.tensor([100.0, 100.0, 50.0, 100.0], dtype=torch.float64))
    loss.sum().backward()
    # torch's backward, (p - y) / max(p (1 - p), 1e-12): finite, towards the target, and not the
    # derivative of -log(1 - p) (which is 1) where p (1 - p) < 1e-12
    expected = torch.tensor([-1e12, 1e12, -0.5e12, -1e12, 0.5, 0.0], dtype=torch.float64)
    torch.testing.assert_close(p.grad, expected)
    p_ref = p.detach().clone().requires_grad_(True)
    ref = F.binary_cross_entropy(p_ref, y, reduction="none")
    torch.testing.assert_close(loss, ref)
    ref.sum().backward()
    torch.testing.assert_close(p.grad, p_ref.grad)


def test_sigmoid_then_bce_saturates_where_logit_form_does_not():
    # the docstring's advice: sigmoid(x) rounds to 1 in float32 for x >~ 17
    x, zero = torch.tensor([17.0, 30.0]), torch.zeros(2)
    torch.testing.assert_close(
        binary_cross_entropy(torch.sigmoid(x), zero, reduction="none"), torch.full((2,), 100.0)
    )
    torch.testing.assert_close(binary_cross_entropy_with_logits(x, zero, reduction="none"), x)


def test_bce_target_gradient_matches_torch():
    g = torch.Generator().manual_seed(2)
    p = torch.rand(20, generator=g, dtype=torch.float64)
    y = torch.rand(20, generator=g, dtype=torch.float64, requires_grad=True)
    y_ref = y.detach().clone().requires_grad_(True)
    binary_cross_entropy(p, y).backward()
    F.binary_cross_entropy(p, y_ref).backward()
    torch.testing.assert_close(y.grad, y_ref.grad)


# -- non-finite input ------------------------------------------------------------------------------

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize(
    "x, y, ours, torchs",
    [
        (NAN, 1.0, NAN, NAN),
        (0.0, NAN, NAN, NAN),
        (INF, 0.0, INF, INF),  # confidently wrong: infinite loss
        (INF, 0.5, INF, INF),
        (-INF, 1.0, INF, NAN),  # torch: (1 - y) * x = 0 * -inf
        (-INF, 0.5, INF, NAN),
        (INF, 1.0, NAN, NAN),  # confidently right: 0 * inf, documented
        (-INF, 0.0, NAN, NAN),
    ],
)
def test_bce_with_logits_non_finite(x, y, ours, torchs):
    def same(a, b):
        return (math.isnan(a) and math.isnan(b)) or a == b

    args = torch.tensor([x]), torch.tensor([y])
    assert same(binary_cross_entropy_with_logits(*args, reduction="none").item(), ours)
    assert same(F.binary_cross_entropy_with_logits(*args, reduction="none").item(), torchs)


@pytest.mark.parametrize("bad", [NAN, INF, -INF, 1.5, -0.5])
def test_bce_rejects_probabilities_outside_unit_interval(bad):
    p = torch.tensor([0.5, bad, 0.2])
    with pytest.raises(ValueError, match=r"input must hold values in \[0, 1\], but 1 of 3 elements do not"):
        binary_cross_entropy(p, torch.ones(3))


@pytest.mark.parametrize("bad", [NAN, 1.5, -0.5])
def test_bce_rejects_targets_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"target must hold values in \[0, 1\]"):
        binary_cross_entropy(torch.full((3,), 0.5), torch.tensor([0.0, bad, 1.0]))


# -- pos_weight shapes -----------------------------------------------------------------------------


def test_pos_weight_broadcasts_along_last_dimension_like_torch():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 3, generator=g)
    y = torch.rand(4, 3, generator=g)
    c = torch.tensor([1.0, 2.0, 5.0])
    torch.testing.assert_close(
        binary_cross_entropy_with_logits(x, y, pos_weight=c, reduction="none"),
        F.binary_cross_entropy_with_logits(x, y, pos_weight=c, reduction="none"),
    )


def test_pos_weight_error_suggests_class_dimension_view():
    x = torch.zeros(2, 3, 4, 5)
    with pytest.raises(
        ValueError,
        match=r"pos_weight of shape \(3,\) cannot be broadcast .* pos_weight.view\(-1, \*\[1\] \* 2\)",
    ):
        binary_cross_entropy_with_logits(x, torch.zeros_like(x), pos_weight=torch.ones(3))
    per_class = binary_cross_entropy_with_logits(
        x, torch.ones_like(x), pos_weight=torch.ones(3).view(-1, 1, 1)
    )
    assert per_class.item() == pytest.approx(LN2, rel=1e-6, abs=0)


def test_pos_weight_must_match_dtype():
    with pytest.raises(TypeError, match="pos_weight has dtype torch.float64"):
        binary_cross_entropy_with_logits(
            torch.zeros(3), torch.zeros(3), pos_weight=torch.ones(3, dtype=torch.float64)
        )


def test_modules_register_buffers_under_torch_names():
    assert set(BCELoss(weight=torch.ones(2)).state_dict()) == {"weight"}
    m = BCEWithLogitsLoss(weight=torch.ones(2), pos_weight=torch.ones(2))
    assert set(m.state_dict()) == set(
        torch.nn.BCEWithLogitsLoss(weight=torch.ones(2), pos_weight=torch.ones(2)).state_dict()
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_close_to_float32(dtype):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(100, generator=g) * 3
    y = torch.rand(100, generator=g)
    low = binary_cross_entropy_with_logits(x.to(dtype), y.to(dtype))
    assert low.dtype == dtype
    assert low.float().item() == pytest.approx(binary_cross_entropy_with_logits(x, y).item(), rel=1e-2, abs=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64], ids=str)
def test_finite_for_the_largest_finite_logits(dtype):
    big = torch.finfo(dtype).max
    x = torch.tensor([big, -big, big, -big, big], dtype=dtype, requires_grad=True)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5], dtype=dtype)
    loss = binary_cross_entropy_with_logits(x, y, reduction="none")
    loss.sum().backward()
    # wrong side: loss |x| (times the weight on the wrong side), gradient sigma(x) - y = +-1
    expected = torch.tensor([big, big, 0.0, 0.0, big / 2], dtype=dtype)
    torch.testing.assert_close(loss.detach(), expected)
    torch.testing.assert_close(x.grad, torch.tensor([1.0, -1.0, 0.0, 0.0, 0.5], dtype=dtype))


def test_input_gradient_bound_is_torchs_float32_epsilon_in_float64_too():
    """ATen bounds p (1 - p) below by 1e-12 rounded to float32, also for float64 inputs: at p = 1e-12,
    where p (1 - p) lies between the two, lossref's gradient is torch's to the last bits."""
    for p0 in (1e-12, 9.999999996e-13, 5e-13):
        p = torch.tensor([p0], dtype=torch.float64, requires_grad=True)
        p_ref = p.detach().clone().requires_grad_(True)
        y = torch.tensor([0.3], dtype=torch.float64)
        (ours,) = torch.autograd.grad(binary_cross_entropy(p, y), p)
        (theirs,) = torch.autograd.grad(F.binary_cross_entropy(p_ref, y), p_ref)
        assert ours.item() == theirs.item()


def test_target_gradient_is_that_of_the_clamped_loss_unlike_torch():
    """The documented difference: lossref's target gradient is the derivative of the loss it returns
    (logs clamped at -100), torch's uses the unclamped logs."""
    p = torch.tensor([0.0, 1e-300, 0.25, 1.0], dtype=torch.float64)
    y = torch.full((4,), 0.3, dtype=torch.float64, requires_grad=True)
    y_ref = y.detach().clone().requires_grad_(True)
    (ours,) = torch.autograd.grad(binary_cross_entropy(p, y, reduction="sum"), y)
    (theirs,) = torch.autograd.grad(F.binary_cross_entropy(p, y_ref, reduction="sum"), y_ref)
    assert ours.tolist() == [100.0, 100.0, pytest.approx(math.log(3)), -100.0]
    assert theirs[0].item() == math.inf and theirs[1].item() == pytest.approx(300 * math.log(10))
    assert theirs[2].item() == pytest.approx(math.log(3)) and theirs[3].item() == -math.inf
