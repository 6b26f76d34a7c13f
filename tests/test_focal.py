"""Focal losses: torchvision's formula, the YOLOv5 wrapper, fractional gamma, multi-class, errors."""

import itertools
import math
import re

import pytest
import torch
import torch.nn.functional as F
from backward_paths import PATHS, loss_and_gradients

import lossref
from lossref import FocalLoss, SoftmaxFocalLoss, sigmoid_focal_loss, softmax_focal_loss
from lossref.registry import get


def torchvision_formula(x, y, alpha, gamma, reduction):
    """torchvision.ops.sigmoid_focal_loss as documented (torchvision has no CPU wheel here)."""
    p = torch.sigmoid(x)
    loss = (
        F.binary_cross_entropy_with_logits(x, y, reduction="none")
        * (1 - (p * y + (1 - p) * (1 - y))) ** gamma
    )
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def yolov5_wrapper(loss_fcn, gamma, alpha, x, y):
    """Seed 002's FocalLoss(BCEWithLogitsLoss(), gamma, alpha), computed the way it computes."""
    loss = F.binary_cross_entropy_with_logits(
        x, y, weight=loss_fcn.weight, pos_weight=loss_fcn.pos_weight, reduction="none"
    )
    p = torch.sigmoid(x)
    p_t = y * p + (1 - y) * (1 - p)
    loss = loss * (y * alpha + (1 - y) * (1 - alpha)) * (1.0 - p_t) ** gamma
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[loss_fcn.reduction]


def data(seed=0, shape=(6, 5)):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    y = torch.where(
        torch.rand(shape, generator=g) < 0.5, torch.rand(shape, generator=g, dtype=torch.float64), 0.0
    )
    y[0] = 1.0
    return x, y


@pytest.mark.parametrize(
    "alpha, gamma, reduction",
    list(itertools.product([0.25, 0.5, -1.0], [0.0, 0.5, 2.0], ["none", "mean", "sum"])),
)
def test_matches_torchvision_formula(alpha, gamma, reduction):
    x, y = data()
    ours_x, ref_x = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours = sigmoid_focal_loss(ours_x, y, alpha, gamma, reduction)
    ref = torchvision_formula(ref_x, y, alpha, gamma, reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-15)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(ours_x.grad, ref_x.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("bce", [torch.nn.BCEWithLogitsLoss, lossref.BCEWithLogitsLoss])
def test_reproduces_the_yolov5_wrapper(bce, reduction):
    x, y = data(1)
    loss_fcn = bce(
        pos_weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=torch.float64), reduction=reduction
    )
    ours = FocalLoss(loss_fcn, 1.5, 0.25)(x, y)
    torch.testing.assert_close(ours, yolov5_wrapper(loss_fcn, 1.5, 0.25, x, y), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gamma", [0.25, 0.5, 1.5])
def test_fractional_gamma_has_finite_gradients_where_p_t_is_one(gamma):
    points = [(1e4, 1.0), (-1e4, 0.0), (200.0, 1.0), (-200.0, 0.0)]
    x = torch.tensor([p for p, _ in points], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([t for _, t in points], dtype=torch.float64)
    sigmoid_focal_loss(x, y, gamma=gamma, reduction="sum").backward()
    exact = [
        get("sigmoid_focal_loss").symbolic.oracle(input=p, target=t, gamma=gamma).grad for p, t in points
    ]
    assert x.grad.tolist() == pytest.approx([float(e) for e in exact], rel=1e-12, abs=0)
    assert x.grad[2].item() != 0.0  # tiny, not flushed
    # the textbook (1 - p_t)**gamma gives NaN there: 0**(gamma - 1) * 0
    x_ref = x.detach().clone().requires_grad_(True)
    torchvision_formula(x_ref, y, 0.25, gamma, "sum").backward()
    assert torch.isnan(x_ref.grad).any() == (gamma < 1)


def test_gamma_zero_and_no_alpha_is_bce():
    x, y = data(2)
    torch.testing.assert_close(
        sigmoid_focal_loss(x, y, alpha=-1, gamma=0.0),
        lossref.binary_cross_entropy_with_logits(x, y, reduction="none"),
    )


def test_module_defaults_follow_torchvision_values():
    x, y = data(3)
    torch.testing.assert_close(FocalLoss(reduction="sum")(x, y), sigmoid_focal_loss(x, y, reduction="sum"))


# -- multi-class -----------------------------------------------------------------------------------


def reference_softmax_focal(x, t, alpha, gamma, ignore_index):
    """-alpha_y (1 - p_y)^gamma log p_y from torch's softmax, 0 where ignored."""
    keep = t != ignore_index
    safe = torch.where(keep, t, 0)
    log_p = torch.log_softmax(x, 1).gather(1, safe[:, None])[:, 0]
    loss = -((1 - log_p.exp()) ** gamma) * log_p
    if alpha is not None:
        loss = loss * alpha[safe]
    return loss * keep


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("use_alpha", [False, True])
def test_softmax_focal_matches_reference(gamma, use_alpha):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(20, 4, generator=g, dtype=torch.float64) * 3
    t = torch.randint(0, 4, (20,), generator=g)
    t[:3] = -100
    alpha = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64) if use_alpha else None
    ref = reference_softmax_focal(x, t, alpha, gamma, -100)
    ours = softmax_focal_loss(x, t, alpha, gamma, reduction="none")
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(softmax_focal_loss(x, t, alpha, gamma), ref.sum() / 17, rtol=1e-12, atol=0)
    module = SoftmaxFocalLoss(alpha, gamma, reduction="sum")
    torch.testing.assert_close(module(x, t), ref.sum(), rtol=1e-12, atol=0)


def test_softmax_focal_with_gamma_zero_is_cross_entropy():
    g = torch.Generator().manual_seed(5)
    x, t = torch.randn(2, 5, 3, 3, generator=g), torch.randint(0, 5, (2, 3, 3), generator=g)
    torch.testing.assert_close(
        softmax_focal_loss(x, t, gamma=0.0, reduction="none"), lossref.cross_entropy(x, t, reduction="none")
    )


def test_softmax_focal_is_finite_and_exact_for_confident_predictions():
    x = torch.tensor(
        [[1e4, 0.0, 0.0], [40.0, 0.0, 0.0], [0.0, 1e4, 0.0]], dtype=torch.float64, requires_grad=True
    )
    loss = softmax_focal_loss(x, torch.tensor([0, 0, 0]), gamma=0.5, reduction="none")
    loss.sum().backward()
    assert torch.isfinite(x.grad).all()
    # class 0 at logits (40, 0, 0): 1 - p = 2 e^-40 / (1 + 2 e^-40), -log p = log1p(2 e^-40)
    one_minus_p = 2 * math.exp(-40) / (1 + 2 * math.exp(-40))
    assert loss[1].item() == pytest.approx(one_minus_p**0.5 * math.log1p(2 * math.exp(-40)), rel=1e-14, abs=0)
    assert loss[2].item() == pytest.approx(1e4, rel=1e-15, abs=0)


def test_softmax_focal_hand_values():
    # logits (0, ln 2, 0): p = (1/4, 1/2, 1/4); (ln 3, 0, 0): p = (3/5, 1/5, 1/5)
    ln2, ln3 = math.log(2), math.log(3)
    x = torch.tensor([[0.0, ln2, 0.0], [0.0, ln2, 0.0], [ln3, 0.0, 0.0]], dtype=torch.float64)
    t = torch.tensor([1, 0, -100])
    alpha = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
    # gamma = 2: 2 (1/2)^2 ln 2 = ln 2 / 2 and 0.5 (3/4)^2 ln 4 = 9/16 ln 2; the third is ignored
    loss = softmax_focal_loss(x, t, alpha, gamma=2.0, reduction="none")
    assert loss.tolist() == pytest.approx([ln2 / 2, 9 / 16 * ln2, 0.0], rel=1e-15, abs=0)
    # 'mean' divides by the 2 counted targets, not by the alphas: 17/32 ln 2
    assert softmax_focal_loss(x, t, alpha, gamma=2.0).item() == pytest.approx(17 / 32 * ln2, rel=1e-15, abs=0)
    # gamma = 1/2, no alpha, every target counted: (1/2)^(1/2) ln 2, (3/4)^(1/2) ln 4, (2/5)^(1/2) ln(5/3)
    loss = softmax_focal_loss(x, torch.tensor([1, 0, 0]), gamma=0.5, reduction="sum")
    expected = math.sqrt(0.5) * ln2 + math.sqrt(0.75) * 2 * ln2 + math.sqrt(0.4) * math.log(5 / 3)
    assert loss.item() == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_softmax_focal_with_gamma_zero_and_no_alpha_is_torch_cross_entropy(reduction, ignore_index):
    g = torch.Generator().manual_seed(9)
    x = torch.randn(6, 4, 3, generator=g, dtype=torch.float64) * 3
    t = torch.randint(0, 4, (6, 3), generator=g)
    t[0, 0], t[1, 2] = ignore_index, ignore_index  # 2 is also a class: those targets are ignored too
    ours_x, ref_x = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours = softmax_focal_loss(ours_x, t, None, 0.0, ignore_index, reduction)
    ref = F.cross_entropy(ref_x, t, ignore_index=ignore_index, reduction=reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-15)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(ours_x.grad, ref_x.grad, rtol=1e-12, atol=1e-15)


def test_softmax_focal_single_class_has_no_nan_gradient():
    x = torch.zeros(3, 1, requires_grad=True)
    softmax_focal_loss(x, torch.zeros(3, dtype=torch.long), gamma=0.5).backward()
    assert x.grad.tolist() == [[0.0], [0.0], [0.0]]


def softmax_loss_and_gradients(x, t, path, **options):
    """The softmax focal loss through one backward path, its per-class ``alpha`` as the class weight."""
    loss, grads, _ = loss_and_gradients(softmax_focal_loss, x, t, path, "alpha", 0.2, 0.8, **options)
    return loss, grads


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_softmax_focal_all_ignored_mean_is_nan_with_gradient_0(path, gamma):
    x, t = (
        torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2)),
        torch.full((3,), -100),
    )
    loss, grads = softmax_loss_and_gradients(x, t, path, gamma=gamma)
    assert math.isnan(loss.item())
    for grad in grads:  # x's, as torch's cross-entropy, and alpha's
        assert torch.equal(grad, torch.zeros_like(grad))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_softmax_focal_ignored_padding_row_of_minus_inf_drops_out(path, reduction, gamma):
    x = torch.tensor([[0.5, 1.0, -0.3], [-math.inf] * 3, [2.0, 0.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([1, -100, 0])
    loss, grads = softmax_loss_and_gradients(x, t, path, gamma=gamma, reduction=reduction)
    assert grads[0][1].tolist() == [0.0] * 3
    if reduction == "none":
        assert loss[1].item() == 0.0
    # the batch without the padding row, alpha's gradient included
    kept, kept_grads = softmax_loss_and_gradients(
        x[[0, 2]], t[[0, 2]], path, gamma=gamma, reduction=reduction
    )
    torch.testing.assert_close(loss[[0, 2]] if reduction == "none" else loss, kept, rtol=1e-15, atol=0)
    for grad, kept_grad in zip(grads, kept_grads, strict=True):
        torch.testing.assert_close(grad[[0, 2]] if grad.dim() == 2 else grad, kept_grad, rtol=1e-15, atol=0)


@pytest.mark.parametrize("path", ["unweighted", "create_graph"])
def test_softmax_focal_row_of_minus_inf_that_counts_is_nan_as_in_cross_entropy(path):
    x = torch.tensor([[0.5, 1.0, -0.3], [-math.inf] * 3], dtype=torch.float64)
    loss, (grad,) = softmax_loss_and_gradients(x, torch.tensor([1, 0]), path, reduction="none")
    assert math.isnan(loss[1].item()) and grad[1].isnan().all()
    assert torch.isfinite(loss[0]) and torch.isfinite(grad[0]).all()


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn", [sigmoid_focal_loss, lambda x, y, gamma: softmax_focal_loss(x, y.long(), gamma=gamma)]
)
def test_rejects_negative_gamma(fn):
    with pytest.raises(ValueError, match="gamma must be >= 0, got -1.0"):
        fn(torch.zeros(2, 3), torch.zeros(2, 3) if fn is sigmoid_focal_loss else torch.zeros(2), gamma=-1.0)


def test_rejects_alpha_above_one():
    with pytest.raises(
        ValueError, match=r"alpha must be in \[0, 1\], or negative to disable the weighting; got 1.5"
    ):
        sigmoid_focal_loss(torch.zeros(3), torch.zeros(3), alpha=1.5)


def test_rejects_alpha_of_wrong_length():
    with pytest.raises(ValueError, match=r"alpha must have one entry per class, shape \(3,\), got \(2,\)"):
        softmax_focal_loss(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), alpha=torch.ones(2))


@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0,), 0), ((2, 0, 4), 1)])
def test_softmax_focal_rejects_input_without_classes(shape, dim):
    target = torch.zeros(shape[:1] + shape[2:] if len(shape) > 1 else (), dtype=torch.long)
    message = rf"input must have at least one class in dimension {dim}, got shape {re.escape(str(shape))}"
    with pytest.raises(ValueError, match=message):
        softmax_focal_loss(torch.randn(shape), target)


def test_rejects_a_loss_fcn_that_is_not_bce_with_logits():
    with pytest.raises(TypeError, match="loss_fcn must be a BCEWithLogitsLoss, got BCELoss"):
        FocalLoss(torch.nn.BCELoss())


# -- peer libraries: where their conventions agree with torchvision's, and where not ----------------


def test_kornia_binary_focal_agrees_on_hard_labels_and_differs_on_soft_ones():
    from kornia.losses import binary_focal_loss_with_logits

    x, y = data(6)
    soft = (y > 0) & (y < 1)
    kornia = binary_focal_loss_with_logits(x, y, alpha=0.25, gamma=2.0, reduction="none")
    hard = y.round()
    torch.testing.assert_close(
        binary_focal_loss_with_logits(x, hard, alpha=0.25, gamma=2.0, reduction="none"),
        sigmoid_focal_loss(x, hard),
    )
    # kornia gives each label term its own factor: y sigma(-x)**gamma and (1 - y) sigma(x)**gamma
    kornia_formula = -(
        0.25 * y * torch.sigmoid(-x) ** 2 * F.logsigmoid(x)
        + 0.75 * (1 - y) * torch.sigmoid(x) ** 2 * F.logsigmoid(-x)
    )
    torch.testing.assert_close(kornia, kornia_formula)
    assert not torch.allclose(kornia[soft], sigmoid_focal_loss(x, y)[soft])


def test_monai_focal_agrees_on_hard_labels_and_differs_on_soft_ones():
    from monai.losses import FocalLoss as MonaiFocalLoss

    monai = MonaiFocalLoss(gamma=2.0, alpha=0.25, reduction="none")
    x, y = data(7)
    hard = y.round()
    torch.testing.assert_close(monai(x, hard).double(), sigmoid_focal_loss(x, hard))
    # MONAI's modulating factor is sigma(-(2y - 1) x)**gamma, torchvision's (y(1-p) + (1-y)p)**gamma
    soft = (y > 0) & (y < 1)
    alpha_t = 0.25 * y + 0.75 * (1 - y)
    bce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    monai_formula = alpha_t * torch.sigmoid(-(2 * y - 1) * x) ** 2 * bce
    torch.testing.assert_close(monai(x, y).double(), monai_formula)
    assert not torch.allclose(monai(x, y).double()[soft], sigmoid_focal_loss(x, y)[soft])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gradients_for_target_weight_and_pos_weight(reduction):
    g = torch.Generator().manual_seed(8)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    y = (0.1 + 0.8 * torch.rand(3, 4, generator=g, dtype=torch.float64)).requires_grad_(True)  # soft labels
    w = torch.rand(4, generator=g, dtype=torch.float64).add_(0.5).requires_grad_(True)
    c = torch.rand(4, generator=g, dtype=torch.float64).add_(0.5).requires_grad_(True)

    def f(x, y, w, c):
        return sigmoid_focal_loss(x, y, 0.25, 1.5, reduction, weight=w, pos_weight=c)

    assert torch.autograd.gradcheck(f, (x, y, w, c))
    assert torch.autograd.gradgradcheck(f, (x, y, w, c))
