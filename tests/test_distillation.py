"""distillation_loss and DistillationLoss: hand values, the limits it must reduce to (plain KL at
T = 1, cross-entropy at alpha = 0), the T^2 scaling of the gradient, the usual formula, the mpmath
oracle with confident teachers (a class of probability 1e-30, at T = 1 and T = 20), and bad input."""

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import lossref
from lossref._formulas import distillation as usual_formula
from lossref.symbolic import DISTILLATION

TOL = {torch.float32: 1e-6, torch.float64: 1e-13}
LOG_1E30 = 30 * math.log(10)  # a logit gap of 69.08: probability 1e-30


def logits(n=5, c=4, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    student = 3 * torch.randn(n, c, generator=g, dtype=dtype)
    teacher = 6 * torch.randn(n, c, generator=g, dtype=dtype)
    target = torch.randint(0, c, (n,), generator=g)
    return student, teacher, target


def value_and_grads(fn, student, teacher, *args, **kwargs):
    s, t = student.clone().requires_grad_(True), teacher.clone().requires_grad_(True)
    loss = fn(s, t, *args, **kwargs)
    upstream = torch.rand(loss.shape, generator=torch.Generator().manual_seed(1), dtype=loss.dtype)
    grads = torch.autograd.grad(loss, (s, t), upstream, allow_unused=True)  # alpha = 0: no teacher
    return (loss, *(torch.zeros_like(v) if g is None else g for v, g in zip((s, t), grads, strict=True)))


# -- hand values and the limits ------------------------------------------------------------------


def test_hand_value():
    # teacher (3/4, 1/4) at T = 2, student uniform: T^2 KL = 4 (3/4 ln(3/2) + 1/4 ln(1/2))
    s = torch.zeros(1, 2, dtype=torch.float64)
    t = torch.tensor([[2 * math.log(3), 0.0]], dtype=torch.float64)
    soft = 4 * (0.75 * math.log(1.5) + 0.25 * math.log(0.5))
    assert lossref.distillation_loss(s, t, temperature=2.0, alpha=1.0).item() == pytest.approx(
        soft, rel=1e-15
    )
    y = torch.tensor([1])
    expected = 0.25 * soft + 0.75 * math.log(2)
    loss = lossref.distillation_loss(s, t, y, temperature=2.0, alpha=0.25)
    assert loss.item() == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_temperature_one_is_the_kl_divergence_per_sample(reduction):
    """T = 1, alpha = 1: kl_div(log_softmax(s), log_softmax(t), log_target=True) per sample;
    'mean' is torch's kl_div with 'batchmean' (not 'mean')."""
    s, t, _ = logits()
    loss = lossref.distillation_loss(s, t, temperature=1.0, alpha=1.0, reduction=reduction)
    per_sample = lossref.kl_div(
        lossref.log_softmax(s, 1), lossref.log_softmax(t, 1), reduction="none", log_target=True
    ).sum(1)
    expected = {"none": per_sample, "mean": per_sample.mean(), "sum": per_sample.sum()}[reduction]
    torch.testing.assert_close(loss, expected, rtol=1e-14, atol=0)
    if reduction == "mean":
        batchmean = F.kl_div(s.log_softmax(1), t.softmax(1), reduction="batchmean")
        torch.testing.assert_close(loss, batchmean, rtol=1e-13, atol=0)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_alpha_zero_is_cross_entropy(reduction, temperature):
    s, t, y = logits()
    ours = value_and_grads(
        lossref.distillation_loss, s, t, y, temperature=temperature, alpha=0.0, reduction=reduction
    )
    ce = value_and_grads(lambda s, t: F.cross_entropy(s, y, reduction=reduction), s, t)
    torch.testing.assert_close(ours, ce, rtol=1e-14, atol=1e-16)
    assert (ours[0] == lossref.cross_entropy(s, y, reduction=reduction)).all()  # the same computation


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.9), (20.0, 0.3), (0.5, 1.0)])
def test_equals_the_usual_formula_value_and_both_gradients(temperature, alpha, reduction):
    """The formula as written right (kl_div 'batchmean' of the softened log-softmax against the
    teacher's softmax, times T^2, plus cross-entropy), in float64, in the student and the teacher."""
    s, t, y = logits(n=6, c=5, seed=2)
    ours = value_and_grads(
        lossref.distillation_loss, s, t, y, temperature=temperature, alpha=alpha, reduction="sum"
    )
    theirs = value_and_grads(
        lambda s, t: usual_formula(s, t, y, temperature, alpha) * len(s), s, t
    )  # the formula's 'mean' times N
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
    each = lossref.distillation_loss(s, t, y, temperature=temperature, alpha=alpha, reduction=reduction)
    per_sample = lossref.distillation_loss(s, t, y, temperature=temperature, alpha=alpha, reduction="none")
    expected = {"none": per_sample, "mean": per_sample.mean(), "sum": per_sample.sum()}[reduction]
    torch.testing.assert_close(each, expected, rtol=1e-15, atol=0)


@given(
    n=st.integers(0, 5),
    c=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
    temperature=st.floats(0.1, 50.0),
    alpha=st.sampled_from([0.0, 0.25, 0.9, 1.0]),
    scale=st.sampled_from([0.01, 1.0, 10.0]),
)
def test_equals_the_usual_formula_float64_property(n, c, seed, temperature, alpha, scale):
    """Any batch (empty included), any number of classes, temperature and weight: value and the
    gradients in both logits, against the usual formula in float64 (the formula's mean times N)."""
    s, t, y = logits(n=n, c=c, seed=seed)
    s, t = scale * s, scale * t
    ours = value_and_grads(lossref.distillation_loss, s, t, y, temperature=temperature, alpha=alpha)
    theirs = value_and_grads(lambda s, t: usual_formula(s, t, y, temperature, alpha), s, t)
    size = 1 + float(ours[0].detach().abs()) if n else 1.0
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-13 * size, equal_nan=True)


def test_the_common_mistakes_give_other_numbers():
    """What the docstring lists: kl_div's 'mean' divides by the classes too; a softmax passed as the
    input is no divergence; without T^2 the soft term is T^2 times smaller."""
    s, t, _ = logits(n=4, c=5)
    T = 4.0
    soft = lossref.distillation_loss(s, t, temperature=T, alpha=1.0)
    log_p, q = F.log_softmax(s / T, 1), F.softmax(t / T, 1)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):  # torch knows
        element_mean = F.kl_div(log_p, q, reduction="mean")
    torch.testing.assert_close(T**2 * element_mean * 5, soft)  # 'mean' is / C
    assert not torch.allclose(T**2 * F.kl_div(F.softmax(s / T, 1), q, reduction="batchmean"), soft)
    softmax_as_log = F.kl_div(log_p, q, reduction="batchmean", log_target=True)  # q read as log q
    assert not torch.allclose(T**2 * softmax_as_log, soft)
    swapped = F.kl_div(F.log_softmax(t / T, 1), F.softmax(s / T, 1), reduction="batchmean")  # KL(p || q)
    assert not torch.allclose(T**2 * swapped, soft)
    torch.testing.assert_close(F.kl_div(log_p, q, reduction="batchmean"), soft / T**2)


def test_the_factor_t_squared_keeps_the_gradient_scale():
    """The softened KL's gradient in the student's logits, (p - q) / T, falls as 1 / T^2 for large T
    (p - q ~ (s - t, centred) / (C T)); T^2 KL's tends to the centred difference over C, per sample."""
    s, t, _ = logits(n=3, c=4, seed=5)

    def grad(temperature, scaled):
        x = s.clone().requires_grad_(True)
        loss = lossref.distillation_loss(x, t, temperature=temperature, alpha=1.0, reduction="sum")
        (g,) = torch.autograd.grad(loss if scaled else loss / temperature**2, x)
        return g

    for T in (50.0, 100.0, 200.0):
        ratio = grad(2 * T, scaled=False).norm() / grad(T, scaled=False).norm()
        assert ratio.item() == pytest.approx(0.25, rel=3 / T)  # 1 / T^2 up to O(1 / T)
    centred = (s - s.mean(1, keepdim=True)) - (t - t.mean(1, keepdim=True))
    limit = centred / s.shape[1]
    for T in (100.0, 1000.0, 10000.0):
        torch.testing.assert_close(
            grad(T, scaled=True), limit, rtol=0, atol=10 * limit.abs().max().item() / T
        )
    # at moderate T the scaled gradients stay on the scale of the hard term's (norms within a factor 3)
    norms = [grad(T, scaled=True).norm().item() for T in (2.0, 4.0, 8.0, 16.0, 32.0)]
    assert max(norms) / min(norms) < 3


# -- confident teachers: exact, never NaN --------------------------------------------------------


def test_a_teacher_of_probability_zero_gives_the_limit_with_zero_gradient():
    """A class the teacher rules out (a logit of -inf) contributes 0, as q log q -> 0; the formula
    through softmax(...).log() gives NaN there."""
    s = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[1.0, -math.inf, 0.0]], dtype=torch.float64, requires_grad=True)
    loss = lossref.distillation_loss(s, t, temperature=2.0, alpha=1.0)
    log_q = torch.log_softmax(t.detach()[:, [0, 2]] / 2, 1)
    log_p = torch.log_softmax(s.detach() / 2, 1)[:, [0, 2]]
    expected = 4 * (log_q.exp() * (log_q - log_p)).sum()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-14)
    gs, gt = torch.autograd.grad(loss, (s, t))
    assert torch.isfinite(gs).all() and torch.isfinite(gt).all() and gt[0, 1].item() == 0.0
    naive = F.kl_div(
        F.log_softmax(s / 2, 1), F.softmax(t / 2, 1).log(), reduction="batchmean", log_target=True
    )
    assert naive.isnan()


STUDENT_ROWS = [
    (0.0, 0.0, 0.0),
    (2.0, -1.0, 0.5),
    (20.0, -3.0, 0.0),
    (0.0, -LOG_1E30, 0.0),  # the student matches the confident teacher: the KL cancels
    (-LOG_1E30, 0.0, 1.0),
    (40.0, -40.0, 0.0),
]
TEACHER_ROWS = [
    (0.0, -LOG_1E30, 0.0),  # a class of probability 1e-30
    (LOG_1E30, 0.0, 0.0),  # probability 1 - 2e-30 on class 0
    (3.0, -1.0, 0.5),
    (0.0, 0.0, 0.0),
]


def oracle_grid(temperature, alpha):
    """Teacher logits scaled by T, so that the teacher is as confident at T = 20 as at T = 1. A
    student equal to the teacher at alpha = 1 is left out: its loss is exactly 0, which the oracle's
    relative convergence cannot reach (tested on its own below)."""
    points = []
    for srow in STUDENT_ROWS:
        for trow in TEACHER_ROWS:
            for y in range(3):
                student = tuple(float(torch.tensor(v, dtype=torch.float32)) for v in srow)
                teacher = tuple(float(torch.tensor(v * temperature, dtype=torch.float32)) for v in trow)
                if alpha == 1.0 and student == teacher:
                    continue
                target = tuple(1.0 if k == y else 0.0 for k in range(3))
                pt = dict(input=student, teacher=teacher, target=target, temperature=temperature, alpha=alpha)
                points.append((pt, DISTILLATION.oracle(**pt)))
    return points


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("temperature, alpha", [(1.0, 1.0), (1.0, 0.5), (20.0, 0.9), (20.0, 1.0)])
def test_value_and_gradient_match_the_mpmath_oracle(dtype, temperature, alpha):
    """Value and student gradient within 1e-6 (float32) / 1e-13 (float64) of the exact ones, relative
    to the magnitudes of their terms (q log q and -q log p cancel where the student matches the
    teacher), plus, in float32, the documented limit of a float32 log-softmax (as for the softmax
    losses in tests/test_oracle.py): log p and s / T rounded to a relative 2^-24, an absolute error
    of the logits' gap times 2^-24 in log p, hence a relative one in p (a 1e-30 class, 1.4e-6)."""
    grid = oracle_grid(temperature, alpha)
    s = torch.tensor([pt["input"] for pt, _ in grid], dtype=dtype, requires_grad=True)
    t = torch.tensor([pt["teacher"] for pt, _ in grid], dtype=dtype)
    y = torch.tensor([pt["target"].index(1.0) for pt, _ in grid])
    loss = lossref.distillation_loss(s, t, y, temperature=temperature, alpha=alpha, reduction="none")
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(s.grad).all()
    tiny = mpmath.mpf(torch.finfo(dtype).tiny)
    worst = 0.0
    for (pt, exact), value, grad in zip(grid, loss.tolist(), s.grad.tolist(), strict=True):
        gap = max(pt["input"]) - min(pt["input"]) + max(pt["teacher"]) - min(pt["teacher"])
        allowed = TOL[dtype] + (gap / temperature * 2.0**-24 if dtype == torch.float32 else 0.0)
        with mpmath.workdps(40):
            err = abs(mpmath.mpf(value) - exact.value) / (max(exact.value_scale, tiny) * allowed)
            worst = max(worst, float(err))
            assert err <= 1, f"value at {pt}: {value} vs {exact.value}"
            for g, e, scale in zip(grad, exact.grad, exact.grad_scale, strict=True):
                err = abs(mpmath.mpf(g) - e) / (max(scale, tiny) * allowed)
                worst = max(worst, float(err))
                assert err <= 1, f"gradient at {pt}: {g} vs {e}"


def test_a_student_equal_to_the_teacher_has_loss_and_gradient_exactly_zero():
    t = torch.tensor([[0.0, -LOG_1E30, 0.0], [LOG_1E30, 0.0, 0.0], [3.0, -1.0, 0.5]], requires_grad=True)
    s = t.detach().clone().requires_grad_(True)
    for temperature in (1.0, 20.0):
        loss = lossref.distillation_loss(s, t, temperature=temperature, alpha=1.0, reduction="none")
        gs, gt = torch.autograd.grad(loss.sum(), (s, t))
        assert (loss == 0).all() and (gs.abs() < 1e-7).all() and (gt.abs() < 1e-6).all()


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.0, -1.0, math.inf, math.nan])
def test_temperature_must_be_positive_and_finite(temperature):
    s, t, y = logits()
    with pytest.raises(ValueError, match=rf"temperature must be a finite number > 0, got {temperature}"):
        lossref.distillation_loss(s, t, y, temperature=temperature)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        lossref.DistillationLoss(temperature=temperature)


def test_temperature_and_alpha_must_be_numbers():
    s, t, y = logits()
    with pytest.raises(TypeError, match=r"temperature must be a real number > 0, got Tensor; .*\.item\(\)"):
        lossref.distillation_loss(s, t, y, temperature=torch.tensor(2.0))
    with pytest.raises(TypeError, match="alpha must be a real number in \\[0, 1\\], got str"):
        lossref.distillation_loss(s, t, y, alpha="0.5")


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_alpha_must_be_in_the_unit_interval(alpha):
    s, t, y = logits()
    with pytest.raises(ValueError, match=rf"alpha must be in \[0, 1\] .*got {alpha}"):
        lossref.distillation_loss(s, t, y, alpha=alpha)


def test_no_target_needs_alpha_one():
    s, t, _ = logits()
    with pytest.raises(ValueError, match="alpha must be 1 when target is None .* got alpha=0.9"):
        lossref.distillation_loss(s, t)
    torch.testing.assert_close(
        lossref.DistillationLoss(alpha=1.0)(s, t), lossref.distillation_loss(s, t, alpha=1.0)
    )


def test_mismatched_class_dimensions_are_refused():
    s, t, y = logits(n=4, c=3)
    with pytest.raises(
        ValueError, match=r"teacher must have the shape of student \(4, 3\) \(the same classes: 3 classes"
    ):
        lossref.distillation_loss(s, torch.zeros(4, 5, dtype=s.dtype), y)
    with pytest.raises(ValueError, match=r"student must have shape \(N, C\).*got \(4, 3, 2\)"):
        lossref.distillation_loss(s[..., None].expand(4, 3, 2), t[..., None].expand(4, 3, 2), y)


def test_bad_targets_are_refused_naming_the_fix():
    s, t, y = logits(n=4, c=3)
    with pytest.raises(TypeError, match=r"target must hold class indices with an integer dtype.*long\(\)"):
        lossref.distillation_loss(s, t, y.double())
    with pytest.raises(ValueError, match=r"target must have shape \(4,\), one class index per sample"):
        lossref.distillation_loss(s, t, y[:2])
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\), got 3"):
        lossref.distillation_loss(s, t, torch.tensor([0, 1, 2, 3]))


def test_module_repr_and_defaults():
    module = lossref.DistillationLoss()
    assert repr(module) == "DistillationLoss(temperature=4.0, alpha=0.9, reduction='mean')"
    s, t, y = logits()
    torch.testing.assert_close(module(s, t, y), lossref.distillation_loss(s, t, y))
