"""Lovász losses (1 - IoU on hard predictions, piecewise linear between, kornia) and the distance-map
losses (signed distance maps by hand, gradient sign, MONAI's Hausdorff-DT loss, empty masks, errors)."""

import math

import pytest
import torch

from lossref import (
    BoundaryLoss,
    HausdorffDTLoss,
    LovaszHingeLoss,
    LovaszSoftmaxLoss,
    boundary_loss,
    hausdorff_dt_loss,
    lovasz_hinge,
    lovasz_softmax,
    signed_distance_map,
)

F64 = torch.float64


def approx(v, rel=1e-12):
    return pytest.approx(v, rel=rel, abs=0)


def iou_loss(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """1 - |P & G| / |P | G| of boolean masks, 0 when both are empty."""
    union = (pred | gt).sum().item()
    return 0.0 if union == 0 else 1 - (pred & gt).sum().item() / union


# -- Lovász -----------------------------------------------------------------------------------------


def test_lovasz_softmax_is_one_minus_iou_on_hard_predictions():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        labels = torch.randint(0, 3, (2, 5, 4), generator=g)
        predicted = torch.randint(0, 3, (2, 5, 4), generator=g)
        probs = torch.nn.functional.one_hot(predicted, 3).movedim(-1, 1).to(F64)
        none = lovasz_softmax(probs, labels, "multiclass", from_logits=False, reduction="none")
        for n in range(2):
            for c in range(3):
                assert none[n, c].item() == approx(iou_loss(predicted[n] == c, labels[n] == c))
        batch = lovasz_softmax(
            probs, labels, "multiclass", from_logits=False, per_image=False, reduction="none"
        )
        for c in range(3):
            assert batch[c].item() == approx(iou_loss(predicted == c, labels == c))


def test_lovasz_hinge_is_the_jaccard_loss_of_the_pixels_with_error_one():
    # logits 0 (error 1) on a set M, margins >= 1 elsewhere: the loss is the Jaccard loss of
    # mispredicting M. Hand value: t = (1, 1, 0, 0, 1), M = {1, 3}: prediction {0, 3, 4},
    # IoU = |{0, 4}| / |{0, 1, 3, 4}| = 1/2
    t = torch.tensor([[1.0, 1.0, 0.0, 0.0, 1.0]], dtype=F64)
    x = torch.tensor([[2.0, 0.0, -1.5, 0.0, 1.0]], dtype=F64)
    assert lovasz_hinge(x, t, "binary").item() == approx(0.5)
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        gt = torch.rand(1, 12, generator=g) < 0.4
        wrong = torch.rand(1, 12, generator=g) < 0.3
        sign = torch.where(gt, 1.0, -1.0).to(F64)
        x = torch.where(wrong, 0.0, sign * (1 + torch.rand(1, 12, generator=g, dtype=F64)))
        assert lovasz_hinge(x, gt.to(F64), "binary").item() == approx(iou_loss(gt ^ wrong, gt))


def test_lovasz_is_linear_while_the_order_of_the_errors_is_kept():
    # probabilities of one class: errors |t - p| keep their order along the segment a -> b, so the
    # extension is linear there; a hand value: t = (1, 0, 1), p = (0.2, 0.5, 0.9), errors (0.8, 0.5,
    # 0.1) sorted as pixels 0, 1, 2: Jaccard losses of the growing mispredicted set 1/2, 2/3,
    # then 1 (the whole image wrong): increments 1/2, 1/6, 1/3 -> 0.8/2 + 0.5/6 + 0.1/3
    t = torch.tensor([[1.0, 0.0, 1.0]], dtype=F64)
    p = torch.tensor([[0.2, 0.5, 0.9]], dtype=F64)
    assert lovasz_softmax(p, t, mode="binary", from_logits=False).item() == approx(
        0.8 / 2 + 0.5 / 6 + 0.1 / 3
    )
    a, b = torch.tensor([[0.1, 0.3, 0.95]], dtype=F64), torch.tensor([[0.4, 0.6, 0.8]], dtype=F64)
    f = lambda v: lovasz_softmax(v, t, mode="binary", from_logits=False).item()  # noqa: E731
    for lam in (0.25, 0.5, 0.9):
        assert f((1 - lam) * a + lam * b) == approx((1 - lam) * f(a) + lam * f(b))
    # ... and only piecewise: across a change of order it is convex, not linear
    c = torch.tensor([[0.9, 0.05, 0.2]], dtype=F64)  # errors (0.1, 0.05, 0.8): another order
    assert f((a + c) / 2) < (f(a) + f(c)) / 2 - 1e-3


def test_lovasz_agrees_with_kornia():
    from kornia.losses import lovasz_hinge_loss, lovasz_softmax_loss

    g = torch.Generator().manual_seed(2)
    x = 2 * torch.randn(3, 4, 5, 6, generator=g, dtype=F64)
    labels = torch.randint(0, 4, (3, 5, 6), generator=g)
    assert lovasz_softmax(x, labels, "multiclass").item() == approx(lovasz_softmax_loss(x, labels).item())
    xb, yb = x[:, :1], (labels > 1).long()
    assert lovasz_hinge(xb, yb.unsqueeze(1).to(F64), "binary").item() == approx(
        lovasz_hinge_loss(xb, yb).item()
    )
    # a class weight: kornia averages w_c * loss, lossref divides by the weights
    w = torch.tensor([1.0, 2.0, 0.5, 4.0], dtype=F64)
    assert lovasz_softmax_loss(x, labels, weight=w).item() == approx(
        lovasz_softmax(x, labels, "multiclass", weight=w).item() * w.sum().item() / 4
    )


def test_lovasz_empty_masks_and_ignore():
    empty = torch.zeros(1, 5, dtype=F64)
    # empty prediction on an empty target: 0; any hard prediction on it: 1 (every class counts)
    assert lovasz_softmax(empty, empty, mode="binary", from_logits=False).item() == 0.0
    stray = torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0]], dtype=F64)
    assert lovasz_softmax(stray, empty, mode="binary", from_logits=False).item() == 1.0
    x = torch.full((1, 5), -1e4, dtype=F64, requires_grad=True)
    loss = lovasz_hinge(x, empty, "binary")  # margins 1e4: no error
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(x.grad).all()
    # an ignored pixel changes nothing, wherever it is
    labels = torch.tensor([[0, 1, 1, -100]])
    logits = torch.randn(1, 2, 4, dtype=F64, requires_grad=True)
    loss = lovasz_softmax(logits, labels, "multiclass")
    assert loss.item() == approx(lovasz_softmax(logits[..., :3], labels[..., :3], "multiclass").item())
    loss.backward()
    assert logits.grad[..., 3].abs().max().item() == 0.0


def test_lovasz_gradcheck_and_modules():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 5, generator=g, dtype=F64, requires_grad=True)
    labels = torch.randint(0, 3, (2, 5), generator=g)
    w = torch.tensor([1.0, 2.0, 0.5], dtype=F64)
    kw = dict(mode="multiclass", per_image=False, weight=w, include_background=False)
    assert torch.autograd.gradcheck(lambda v: lovasz_softmax(v, labels, **kw), (x,))
    assert LovaszSoftmaxLoss(**kw)(x, labels).item() == lovasz_softmax(x, labels, **kw).item()
    multi = (torch.rand(2, 3, 5, generator=g) < 0.5).to(F64)
    assert torch.autograd.gradcheck(lambda v: lovasz_hinge(v, multi, mode="multilabel"), (x,))
    assert LovaszHingeLoss("multilabel")(x, multi).item() == lovasz_hinge(x, multi, mode="multilabel").item()


def test_lovasz_errors():
    with pytest.raises(ValueError, match="lovasz_hinge takes mode='binary' or 'multilabel'"):
        lovasz_hinge(torch.zeros(1, 2, 3), torch.zeros(1, 3, dtype=torch.long), mode="multiclass")
    with pytest.raises(ValueError, match="target of lovasz_softmax must hold 0/1 values .* soft label 0.5"):
        lovasz_softmax(torch.zeros(1, 3), torch.tensor([[0.0, 0.5, 1.0]]), mode="binary")
    with pytest.raises(ValueError, match="lovasz_hinge takes mode='binary' or 'multilabel'"):
        LovaszHingeLoss("multiclass")
    # logits only, as the function: no from_logits to set
    with pytest.raises(TypeError, match="from_logits"):
        LovaszHingeLoss("binary", from_logits=False)


# -- distance maps ----------------------------------------------------------------------------------


def test_signed_distance_map_by_hand():
    # 1-d: outside, distance to the nearest foreground pixel; inside, minus the distance to the
    # nearest background pixel
    t = torch.tensor([[0.0, 0.0, 1.0, 1.0, 1.0, 0.0]])
    assert signed_distance_map(t, "binary").tolist() == [[2.0, 1.0, -1.0, -2.0, -1.0, 1.0]]
    # 2-d, a 3x3 square in a 5x5 image: the centre is 2 from the background, a corner outside is
    # sqrt(2) from the square
    sq = torch.zeros(1, 5, 5)
    sq[0, 1:4, 1:4] = 1
    phi = signed_distance_map(sq, "binary")
    assert phi[0, 2, 2].item() == -2.0 and phi[0, 1, 1].item() == -1.0
    assert phi[0, 0, 0].item() == approx(math.sqrt(2), 1e-7) and phi[0, 0, 2].item() == 1.0
    # no foreground: the diagonal D = sqrt(5^2 + 5^2) everywhere; all foreground: -D
    d = math.sqrt(50)
    assert signed_distance_map(torch.zeros(1, 5, 5), "binary").unique().tolist() == [approx(d, 1e-7)]
    assert signed_distance_map(torch.ones(1, 5, 5), "binary").unique().tolist() == [approx(-d, 1e-7)]
    # class indices: one map per class; (N, 1, *) binary keeps its shape
    labels = torch.tensor([[0, 0, 1, 1]])
    maps = signed_distance_map(labels, "multiclass", num_classes=2)
    assert maps.tolist() == [[[-2.0, -1.0, 1.0, 2.0], [2.0, 1.0, -1.0, -2.0]]]
    assert signed_distance_map(t.unsqueeze(1), "binary").shape == (1, 1, 6)


def test_boundary_loss_by_hand_and_gradient_sign():
    t = torch.tensor([[0.0, 0.0, 1.0, 1.0, 1.0, 0.0]], dtype=F64)  # phi = 2, 1, -1, -2, -1, 1
    p = torch.tensor([[0.5, 0.0, 1.0, 0.25, 1.0, 0.0]], dtype=F64, requires_grad=True)
    loss = boundary_loss(p, t, "binary", from_logits=False)
    # (2 * 0.5 + (-2) * (0.25 - 1)) / 6 = (1 + 1.5) / 6
    assert loss.item() == approx(2.5 / 6)
    loss.backward()
    # d loss / d p = phi / 6: positive outside (predicted mass pushed down, more the farther it is),
    # negative inside (missed foreground pushed up)
    assert p.grad.tolist() == [[approx(v / 6) for v in (2.0, 1.0, -1.0, -2.0, -1.0, 1.0)]]
    assert boundary_loss(t, t, "binary", from_logits=False).item() == 0.0
    # from logits the gradient has the same signs
    x = torch.zeros(1, 6, dtype=F64, requires_grad=True)
    boundary_loss(x, t, "binary").backward()
    assert ((x.grad > 0) == (t == 0)).all() and (x.grad != 0).all()
    # a precomputed map gives the same number; the module takes one too
    phi = signed_distance_map(t, "binary")
    assert boundary_loss(p, t, "binary", from_logits=False, distance_map=phi).item() == loss.item()
    assert BoundaryLoss("binary", from_logits=False)(p, t, phi).item() == loss.item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_boundary_loss_keeps_its_precision_for_confident_predictions(dtype):
    """Every term phi (p - t) is >= 0; inside the target it is |phi| sigmoid(-x), which p - 1 would
    round to 0 in float32 from x ~ 17 on. Reference: the same sum in mpmath at 50 digits."""
    import mpmath

    mpmath.mp.dps = 50
    t = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.0]], dtype=dtype)  # phi = 1, -1, -1, 1, 2
    x = torch.tensor([[-25.0, 30.0, 20.0, -40.0, -35.0]], dtype=dtype, requires_grad=True)
    loss = boundary_loss(x, t, "binary")
    loss.backward()
    phi = [1, -1, -1, 1, 2]
    sig = [1 / (1 + mpmath.exp(-mpmath.mpf(v))) for v in x.tolist()[0]]
    exact = sum(f * (s - y) for f, s, y in zip(phi, sig, t.tolist()[0], strict=True)) / 5
    assert abs(loss.item() - exact) <= 1e-6 * exact
    exact_grad = [f * s * (1 - s) / 5 for f, s in zip(phi, sig, strict=True)]
    for got, want in zip(x.grad.tolist()[0], exact_grad, strict=True):
        assert abs(got - want) <= 1e-6 * abs(want)


def test_distance_losses_on_empty_targets():
    empty = torch.zeros(1, 4, dtype=F64)
    stray = torch.tensor([[0.0, 1.0, 0.0, 0.0]], dtype=F64)
    # empty on empty: 0; a predicted pixel on an empty target costs D = 4 (boundary) per pixel
    assert boundary_loss(empty, empty, "binary", from_logits=False).item() == 0.0
    assert boundary_loss(stray, empty, "binary", from_logits=False).item() == approx(4.0 / 4)
    assert hausdorff_dt_loss(empty, empty, "binary", from_logits=False).item() == 0.0
    # stray pixel: (1 - 0)^2 (d_P^2 + d_G^2) / 4 with d_P = 1 (its own mask's inner distance), d_G = 4
    assert hausdorff_dt_loss(stray, empty, "binary", from_logits=False).item() == approx((1 + 16) / 4)
    # MONAI's HausdorffDTLoss gives distance 0 to an empty mask: only the prediction's own distance
    # counts, and a prediction below 1/2 everywhere on an empty target is free
    from monai.losses import HausdorffDTLoss as MonaiHausdorff

    image = lambda v: v.view(1, 1, 2, 2)  # noqa: E731
    assert MonaiHausdorff(include_background=True)(image(stray), image(empty)).item() == approx(1 / 4)
    faint = torch.full((1, 4), 0.4, dtype=F64)
    assert MonaiHausdorff(include_background=True)(image(faint), image(empty)).item() == 0.0
    assert hausdorff_dt_loss(faint, empty, "binary", from_logits=False).item() == approx(0.16 * (16 + 16))


def test_hausdorff_agrees_with_monai_on_masks_with_foreground_and_background():
    from monai.losses import HausdorffDTLoss as MonaiHausdorff

    g = torch.Generator().manual_seed(4)
    x = 2 * torch.randn(2, 3, 7, 6, generator=g, dtype=F64)
    t = torch.zeros(2, 3, 7, 6, dtype=F64)
    t[:, :, 2:5, 1:4] = 1
    t[1, 2, 0, 5] = 1
    for alpha, batch in ((2.0, False), (1.0, True)):
        monai = MonaiHausdorff(alpha=alpha, include_background=True, sigmoid=True, batch=batch)(x, t).item()
        ours = hausdorff_dt_loss(x, t, "multilabel", alpha, per_image=not batch).item()
        assert ours == approx(monai, 1e-6)  # MONAI rounds its distance maps to float32
    assert HausdorffDTLoss("multilabel", 2.0)(x, t).item() == hausdorff_dt_loss(x, t, "multilabel").item()
    # gradient: nonzero, towards the target (negative where t = 1, positive where t = 0)
    xr = x.clone().requires_grad_(True)
    hausdorff_dt_loss(xr, t, mode="multilabel").backward()
    assert ((xr.grad < 0) == (t == 1)).all() and (xr.grad != 0).all()


def test_distance_losses_multiclass_gradcheck():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, 4, 5, generator=g, dtype=F64, requires_grad=True)
    labels = torch.randint(0, 3, (2, 4, 5), generator=g)
    labels[0, 0, 0] = -100
    for fn in (boundary_loss, hausdorff_dt_loss):
        assert torch.autograd.gradcheck(
            lambda v, fn=fn: fn(v, labels, mode="multiclass", include_background=False), (x,)
        )


# -- NaN and infinite logits ------------------------------------------------------------------------

LOSSES = [lovasz_hinge, lovasz_softmax, boundary_loss, hausdorff_dt_loss]


def cases(fn):
    """The modes of fn, with a 0/1 target's ignore_index used or not (the distance losses have a
    fused path without ignored pixels)."""
    modes = ["binary", "multilabel"] + ([] if fn is lovasz_hinge else ["multiclass"])
    return [(mode, ignore) for mode in modes for ignore in (False, True)]


def batch(mode, ignore, value):
    """Logits of three images (C = 3, one channel for 'binary'), a 0/1 target with both classes in
    every image, the same logits with ``value`` at image 1, channel 1, and where 'none' (per_image
    True, False) is reached by it: the image's channel, every class of the image through the softmax."""
    g = torch.Generator().manual_seed(12)
    x = torch.randn(3, 3, 4, 5, generator=g, dtype=F64)
    labels = torch.randint(0, 3, (3, 4, 5), generator=g)
    labels[:, 0, :3] = torch.tensor([0, 1, 2])
    if mode == "binary":
        x, t, at = x[:, 0], (labels == 1).to(F64), (1, 2, 3)
    elif mode == "multiclass":
        t, at = labels, (1, 1, 2, 3)
    else:
        t, at = torch.nn.functional.one_hot(labels, 3).movedim(-1, 1).to(F64), (1, 1, 2, 3)
    if ignore:  # an ignored pixel away from the changed one
        t = t.clone()
        t[(0, 3, 4) if mode != "multilabel" else (0, 0, 3, 4)] = -100
    bad = x.clone()
    bad[at] = value
    classes = {"binary": [True], "multiclass": [True] * 3, "multilabel": [False, True, False]}[mode]
    per_image = torch.zeros(3, len(classes), dtype=torch.bool)
    per_image[1] = torch.tensor(classes)
    return x, bad, t, per_image, torch.tensor(classes)


@pytest.mark.parametrize("fn", LOSSES, ids=lambda f: f.__name__)
def test_a_nan_logit_gives_nan_in_its_image_only(fn):
    for mode, ignore in cases(fn):
        x, bad, t, nan_per_image, nan_per_class = batch(mode, ignore, math.nan)
        for per_image, where in ((True, nan_per_image), (False, nan_per_class)):
            kw = dict(mode=mode, per_image=per_image)
            got, clean = fn(bad, t, reduction="none", **kw), fn(x, t, reduction="none", **kw)
            assert torch.equal(got.isnan(), where) and torch.equal(got[~where], clean[~where])
            assert fn(bad, t, **kw).isnan()
        if fn is not lovasz_hinge:  # probabilities are checked: NaN is outside [0, 1]
            with pytest.raises(ValueError, match=r"input must hold values in \[0, 1\] with from_logits"):
                fn(torch.sigmoid(bad), t, mode=mode, from_logits=False)


@pytest.mark.parametrize("fn", LOSSES, ids=lambda f: f.__name__)
def test_infinite_logits_saturate(fn):
    for mode, ignore in cases(fn):
        if mode == "multiclass":  # +inf in a softmax is NaN, as in torch.softmax
            continue
        x, _, t, _, _ = batch(mode, ignore, 0.0)
        # half the pixels saturated with the sign that agrees with the target: a margin of inf, an
        # error of 0 (a wrong sign would be an infinite hinge, and a finite error of 1 for the others)
        pick = torch.rand(t.shape, generator=torch.Generator().manual_seed(1)) < 0.5
        ones, zeros = pick & (t == 1), pick & (t == 0)
        v = torch.where(ones, math.inf, torch.where(zeros, -math.inf, x)).requires_grad_(True)
        for per_image in (True, False):
            loss = fn(v, t, mode=mode, per_image=per_image, reduction="none")
            (grad,) = torch.autograd.grad(loss.sum(), v)
            assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
            assert grad[ones | zeros].abs().max().item() == 0.0
    if fn is not lovasz_hinge:  # a -inf logit of the softmax is a probability 0
        x, bad, t, _, _ = batch("multiclass", False, -math.inf)
        bad.requires_grad_(True)
        loss = fn(bad, t, mode="multiclass", reduction="none")
        (grad,) = torch.autograd.grad(loss.sum(), bad)
        assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
        probs = torch.softmax(bad.detach(), 1)
        assert torch.allclose(loss, fn(probs, t, mode="multiclass", from_logits=False, reduction="none"))


@pytest.mark.parametrize("fn", LOSSES, ids=lambda f: f.__name__)
def test_empty_masks_are_zero_with_zero_gradient(fn):
    for mode in ("binary", "multilabel"):
        shape = (2, 1, 6) if mode == "binary" else (2, 3, 6)
        x = torch.full(shape, -1e4, dtype=F64, requires_grad=True)
        for per_image in (True, False):
            loss = fn(x, torch.zeros(shape, dtype=F64), mode=mode, per_image=per_image, reduction="none")
            (grad,) = torch.autograd.grad(loss.sum(), x)
            assert loss.abs().max().item() == 0.0 and grad.abs().max().item() == 0.0


def test_distance_errors():
    x = torch.zeros(1, 4)
    with pytest.raises(ValueError, match="target of boundary_loss must hold 0/1 values .* soft label 0.5"):
        boundary_loss(x, torch.tensor([[0.0, 0.5, 1.0, 1.0]]), "binary")
    with pytest.raises(ValueError, match=r"distance_map must have the shape of input \(1, 4\), got \(1, 3\)"):
        boundary_loss(x, torch.tensor([[0.0, 1.0, 1.0, 0.0]]), "binary", distance_map=torch.zeros(1, 3))
    with pytest.raises(
        TypeError, match="distance_map has dtype torch.float64 but input has dtype torch.float32"
    ):
        hausdorff_dt_loss(x, torch.zeros(1, 4), "binary", distance_map=torch.zeros(1, 4, dtype=F64))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        hausdorff_dt_loss(x, torch.zeros(1, 4), "binary", 0.0)
    with pytest.raises(ValueError, match="target must hold 0/1 values .* for a distance map, got 0.5"):
        signed_distance_map(torch.tensor([[0.5, 1.0]]), "binary")
    with pytest.raises(ValueError, match="needs num_classes"):
        signed_distance_map(torch.tensor([[0, 1]]), "multiclass")
