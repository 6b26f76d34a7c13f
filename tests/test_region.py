"""Region (segmentation) losses: hand-worked values on tiny masks, the identities between them, empty
masks, per-image vs batch statistics, stability, gradients, errors, and MONAI / kornia where their
conventions agree (and the differences asserted where they do not). The registry-driven tests
(tests/test_registry_losses.py, tests/test_oracle.py) cover smoke, cardinality, gradcheck, modules and
the sympy oracle of the two-pixel image; the Lovász and distance-map losses are in
tests/test_region_lovasz_boundary.py."""

import itertools
import math

import mpmath
import pytest
import torch
import torch.nn.functional as F

import lossref
from lossref import (
    ComboLoss,
    DiceLoss,
    FocalTverskyLoss,
    combo_loss,
    dice_bce_loss,
    dice_loss,
    focal_tversky_loss,
    jaccard_loss,
    lovasz_softmax,
    tversky_loss,
)
from lossref.registry import get

F64 = torch.float64
OVERLAP = [dice_loss, jaccard_loss, tversky_loss, focal_tversky_loss, dice_bce_loss, combo_loss]


def t64(*rows):
    return torch.tensor(rows, dtype=F64)


def approx(v, rel=1e-12):
    return pytest.approx(v, rel=rel, abs=0)


# -- values worked by hand ------------------------------------------------------------------------
# one image of four pixels, probabilities p = (0.9, 0.8, 0.1, 0), target t = (1, 1, 0, 0):
# TP = 0.9 + 0.8 = 1.7, FP = 0.1, FN = 0.1 + 0.2 = 0.3
P = t64([0.9, 0.8, 0.1, 0.0])
T = t64([1.0, 1.0, 0.0, 0.0])


def test_overlap_hand_computed():
    kw = dict(from_logits=False, smooth=0.0)
    # Dice: 1 - 2 * 1.7 / (1.8 + 2) = (0.1 + 0.3) / (3.4 + 0.4) = 0.4 / 3.8
    assert dice_loss(P, T, "binary", **kw).item() == approx(0.4 / 3.8)
    # Jaccard: (FP + FN) / (TP + FP + FN) = 0.4 / 2.1
    assert jaccard_loss(P, T, "binary", **kw).item() == approx(0.4 / 2.1)
    # Tversky 0.3 / 0.7: (0.03 + 0.21) / (1.7 + 0.24)
    assert tversky_loss(P, T, "binary", 0.3, 0.7, **kw).item() == approx(0.24 / 1.94)
    # focal Tversky, gamma 0.5: its square root
    assert focal_tversky_loss(P, T, "binary", 0.3, 0.7, 0.5, **kw).item() == approx(math.sqrt(0.24 / 1.94))
    # smooth = 1: 1 - (3.4 + 1) / (3.8 + 1) = 0.4 / 4.8 (numerator and denominator)
    assert dice_loss(P, T, "binary", from_logits=False, smooth=1.0).item() == approx(0.4 / 4.8)
    # dice + BCE: BCE = -(ln .9 + ln .8 + ln .9 + ln 1) / 4
    bce = -(2 * math.log(0.9) + math.log(0.8)) / 4
    assert dice_bce_loss(P, T, "binary", **kw).item() == approx(bce + 0.4 / 3.8)


def test_combo_hand_computed_and_not_the_blog_formula():
    # p = (0.9, 0.2), t = (1, 0); alpha = 0.4 (cross-entropy), beta = 0.8 (positives)
    p, t = t64([0.9, 0.2]), t64([1.0, 0.0])
    wce = -(0.8 * math.log(0.9) + 0.2 * math.log(0.8)) / 2
    dice = (0.2 + 0.1) / (1.8 + 0.2 + 0.1)  # TP = 0.9, FP = 0.2, FN = 0.1
    value = combo_loss(p, t, "binary", 0.4, 0.8, from_logits=False, smooth=0.0).item()
    assert value == approx(0.4 * wce + 0.6 * dice)
    # the paper's eq. 3, alpha WCE - (1 - alpha) DSC, differs by the constant 1 - alpha only
    assert value - (0.4 * wce - 0.6 * (1 - dice)) == approx(0.6)
    # the blog version weighs the negative term by beta (1 - beta): a different number
    blog = -(0.8 * (math.log(0.9) + 0.2 * math.log(0.8))) / 2
    assert abs(0.4 * blog + 0.6 * dice - value) > 1e-3


def test_multiclass_hand_computed():
    # 1 image, 3 pixels, C = 2 hard probabilities; labels (0, 1, 1), predicted (0, 0, 1)
    probs = t64([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # (N=1, C=2, 3 pixels)
    labels = torch.tensor([[0, 1, 1]])
    none = dice_loss(probs, labels, mode="multiclass", from_logits=False, smooth=0.0, reduction="none")
    # class 0: TP 1, FP 1, FN 0 -> 1/3; class 1: TP 1, FP 0, FN 1 -> 1/3
    assert none.tolist() == [[approx(1 / 3), approx(1 / 3)]]
    # without the background: class 1 only; with weights (1, 3): (1/3 + 3/3)/4 / ... = weighted mean
    fg = dice_loss(probs, labels, mode="multiclass", from_logits=False, smooth=0.0, include_background=False)
    assert fg.item() == approx(1 / 3)
    w = t64(1.0, 3.0)
    weighted = dice_loss(
        probs, labels, mode="multiclass", from_logits=False, smooth=0.0, weight=w, reduction="none"
    )
    assert weighted.tolist() == [[approx(1 / 3), approx(1.0)]]
    assert dice_loss(
        probs, labels, mode="multiclass", from_logits=False, smooth=0.0, weight=w
    ).item() == approx((1 / 3 + 1.0) / 4)


def test_ignore_index_leaves_pixels_out():
    # the ignored pixel 2 holds a wrong prediction; without it the mask is perfect
    p, t = t64([1.0, 0.0, 1.0]), t64([1.0, 0.0, 255.0])
    assert dice_loss(p, t, "binary", from_logits=False, smooth=0.0, ignore_index=255).item() == 0.0
    labels = torch.tensor([[0, -100, 1]])
    x = torch.randn(1, 2, 3, dtype=F64, requires_grad=True)
    loss = lossref.dice_loss(x, labels, mode="multiclass")
    kept = lossref.dice_loss(x[..., [0, 2]], labels[..., [0, 2]], mode="multiclass")
    assert loss.item() == approx(kept.item())  # an ignored pixel is no class's false negative
    loss.backward()
    assert x.grad[:, :, 1].abs().max().item() == 0.0 and x.grad.abs().sum() > 0


# -- identities -------------------------------------------------------------------------------------


def test_identities_between_the_overlap_losses():
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(4, 3, 5, 5, generator=g, dtype=F64)
    y = torch.rand(4, 3, 5, 5, generator=g, dtype=F64)  # soft targets
    for kw in (dict(mode="multilabel"), dict(mode="binary", per_image=False)):
        none = dict(kw, reduction="none", smooth=0.3)
        torch.testing.assert_close(
            dice_loss(x, y, **none), tversky_loss(x, y, alpha=0.5, beta=0.5, **dict(none, smooth=0.15))
        )
        torch.testing.assert_close(
            jaccard_loss(x, y, **none), tversky_loss(x, y, alpha=1.0, beta=1.0, **none)
        )
        torch.testing.assert_close(
            focal_tversky_loss(x, y, alpha=0.2, beta=0.9, gamma=1.0, **none),
            tversky_loss(x, y, alpha=0.2, beta=0.9, **none),
        )
        torch.testing.assert_close(
            focal_tversky_loss(x, y, alpha=0.2, beta=0.9, gamma=0.6, **none),
            tversky_loss(x, y, alpha=0.2, beta=0.9, **none) ** 0.6,
        )
        # combo at beta = 1/2 is alpha * BCE / 2 + (1 - alpha) * Dice
        d = dice_loss(x, y, **none)
        bce_plus_dice = dice_bce_loss(x, y, **none)
        torch.testing.assert_close(
            combo_loss(x, y, alpha=0.3, beta=0.5, **none), 0.3 * (bce_plus_dice - d) / 2 + 0.7 * d
        )
    # binary, equal images, nothing ignored: 'mean' of dice_bce = BCE with logits + mean Dice
    xb, yb = x[:, 0], (y[:, 0] > 0.5).to(F64)
    expected = F.binary_cross_entropy_with_logits(xb, yb) + dice_loss(xb, yb, "binary")
    assert dice_bce_loss(xb, yb, "binary").item() == approx(expected.item())


def test_focal_tversky_matches_the_tversky_oracle_raised_to_gamma():
    oracle = get("tversky_loss").symbolic
    for u, t in [((0.5, -1.0), (1.0, 0.0)), ((30.0, -3.0), (1.0, 1.0)), ((-4.0, 2.0), (0.25, 0.7))]:
        exact = oracle.oracle(input=u, target=t).value
        x = torch.tensor([u], dtype=F64)
        for gamma in (0.5, 0.75, 2.0):
            with mpmath.workdps(40):
                expected = float(exact ** mpmath.mpf(gamma))
            assert focal_tversky_loss(
                x, torch.tensor([t], dtype=F64), "binary", gamma=gamma
            ).item() == approx(expected, 1e-13)


# -- empty masks ------------------------------------------------------------------------------------
EMPTY = torch.zeros(1, 6, dtype=F64)
STRAY = t64([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])  # one predicted pixel on an empty target


@pytest.mark.parametrize(
    "fn", [dice_loss, jaccard_loss, tversky_loss, focal_tversky_loss], ids=lambda f: f.__name__
)
def test_empty_mask_table(fn):
    kw = dict(mode="binary", from_logits=False)
    # empty on empty: perfect, with and without smooth
    assert fn(EMPTY, EMPTY, smooth=0.0, **kw).item() == 0.0
    assert fn(EMPTY, EMPTY, **kw).item() == 0.0
    # a prediction on an empty target: the worst with smooth = 0 ...
    assert fn(STRAY, EMPTY, smooth=0.0, **kw).item() == 1.0
    # ... and proportional to the predicted mass while it is small against smooth
    small = STRAY * 1e-6
    a = {"dice_loss": 0.5, "jaccard_loss": 1.0}.get(fn.__name__, 0.3)  # the weight of FP
    s = 1e-5 * (0.5 if fn is dice_loss else 1.0)
    expected = a * 1e-6 / (a * 1e-6 + s)
    expected = expected**0.75 if fn is focal_tversky_loss else expected
    assert fn(small, EMPTY, **kw).item() == approx(expected, 1e-9)


@pytest.mark.parametrize("fn", OVERLAP + [lovasz_softmax], ids=lambda f: f.__name__)
def test_no_nan_with_smooth_zero_on_empty_masks(fn):
    kw = {} if fn is lovasz_softmax else {"smooth": 0.0}
    # from probabilities with exact zeros, and from logits of -1e4 (sigmoid exactly 0)
    for x, from_logits in ((EMPTY.clone(), False), (torch.full((1, 6), -1e4, dtype=F64), True)):
        x.requires_grad_(True)
        loss = fn(x, EMPTY, "binary", from_logits=from_logits, **kw)
        loss.backward()
        assert loss.item() == pytest.approx(0.0, abs=1e-300) and torch.isfinite(x.grad).all()


def test_empty_masks_monai_and_kornia_answer_differently():
    from kornia.losses import dice_loss as kornia_dice
    from kornia.losses import tversky_loss as kornia_tversky
    from monai.losses import DiceLoss as MonaiDice

    probs = EMPTY.view(1, 1, 2, 3)
    # MONAI, smooth 1e-5 (its default): empty on empty is 0, as lossref
    assert (
        MonaiDice()(probs, probs).item() == 0.0 == dice_loss(probs, probs, "binary", from_logits=False).item()
    )
    # MONAI with smooth 0 gives NaN (0/0); lossref defines it as 0
    assert math.isnan(MonaiDice(smooth_nr=0.0, smooth_dr=0.0)(probs, probs).item())
    assert dice_loss(probs, probs, "binary", from_logits=False, smooth=0.0).item() == 0.0
    # kornia: a batch whose every pixel is ignored has nothing predicted and nothing to find; kornia
    # scores it as loss 1, lossref as 0
    logits = torch.randn(1, 2, 2, 3, dtype=F64)
    ignored = torch.full((1, 2, 3), -100)
    assert kornia_dice(logits, ignored).item() == 1.0
    assert dice_loss(logits, ignored, mode="multiclass").item() == 0.0
    # kornia's 'macro' Dice and its Tversky loss leave out a class absent from the target: a
    # confident prediction of class 1 on an all-class-0 target costs class 1 nothing there
    x = torch.zeros(1, 2, 2, 3, dtype=F64)
    x[:, 1] = 20.0  # every pixel predicted class 1
    zeros = torch.zeros(1, 2, 3, dtype=torch.long)
    k_macro = kornia_dice(x, zeros, average="macro").item()
    k_tversky = kornia_tversky(x, zeros, 0.5, 0.5, eps=0.0).item()
    ours = dice_loss(x, zeros, mode="multiclass", smooth=0.0, reduction="none")[0]
    assert ours[1].item() == approx(1.0, 1e-6)  # class 1: all false positives
    assert k_macro == approx(ours[0].item(), 1e-6) and k_tversky == approx(ours[0].item(), 1e-6)


# -- per-image vs batch statistics ------------------------------------------------------------------


def test_per_image_and_batch_statistics():
    # image 0: TP 1, FP 0, FN 0 (perfect); image 1: TP 0, FP 1, FN 1 (all wrong)
    p, t = t64([1.0, 0.0], [1.0, 0.0]), t64([1.0, 0.0], [0.0, 1.0])
    kw = dict(mode="binary", from_logits=False, smooth=0.0)
    assert dice_loss(p, t, **kw).item() == approx(0.5)  # (0 + 1) / 2
    assert dice_loss(p, t, per_image=False, **kw).item() == approx(2 / 4)  # (1 + 1) / (2 + 2)
    p2, t2 = t64([1.0, 0.0], [1.0, 1.0]), t64([1.0, 0.0], [1.0, 0.0])  # image 1: TP 1, FP 1
    per_image = dice_loss(p2, t2, **kw).item()  # (0 + 1/3) / 2
    batch = dice_loss(p2, t2, per_image=False, **kw).item()  # 1 / (4 + 1)
    assert per_image == approx(1 / 6) and batch == approx(1 / 5)
    for fn in OVERLAP:  # one image: the same
        x, y = torch.randn(1, 3, 4, 4, dtype=F64), torch.randint(0, 3, (1, 4, 4))
        assert fn(x, y, mode="multiclass").item() == approx(
            fn(x, y, mode="multiclass", per_image=False).item()
        )


# -- MONAI and kornia where the conventions agree ---------------------------------------------------


def test_agrees_with_monai_dice_and_tversky():
    from monai.losses import DiceLoss as MonaiDice
    from monai.losses import TverskyLoss as MonaiTversky

    g = torch.Generator().manual_seed(1)
    x = 2 * torch.randn(3, 4, 6, 5, generator=g, dtype=F64)
    labels = torch.randint(0, 4, (3, 6, 5), generator=g)
    multi = (torch.rand(3, 4, 6, 5, generator=g) < 0.3).to(F64)
    cases = [
        (dict(softmax=True, to_onehot_y=True), labels.unsqueeze(1), dict(mode="multiclass")),
        (
            dict(softmax=True, to_onehot_y=True, include_background=False),
            labels.unsqueeze(1),
            dict(mode="multiclass", include_background=False),
        ),
        (dict(sigmoid=True), multi, dict(mode="multilabel")),
        (dict(sigmoid=True, batch=True), multi, dict(mode="multilabel", per_image=False)),
    ]
    for monai_kw, monai_target, kw in cases:
        ours_target = labels if kw["mode"] == "multiclass" else multi
        assert MonaiDice(**monai_kw)(x, monai_target).item() == approx(dice_loss(x, ours_target, **kw).item())
        monai_t = MonaiTversky(alpha=0.3, beta=0.7, **monai_kw)(x, monai_target).item()
        assert monai_t == approx(tversky_loss(x, ours_target, alpha=0.3, beta=0.7, **kw).item())
    # Jaccard: equal for smooth 0 (MONAI smooths 2 TP + s over 2 (P + T - TP) + s)
    monai_j = MonaiDice(sigmoid=True, jaccard=True, smooth_nr=0.0, smooth_dr=0.0)(x, multi).item()
    assert monai_j == approx(jaccard_loss(x, multi, mode="multilabel", smooth=0.0).item())
    # class weights: MONAI averages w_c * loss over the entries, lossref divides by the weights
    w = torch.tensor([1.0, 2.0, 0.5, 4.0], dtype=F64)
    monai_w = MonaiDice(sigmoid=True, weight=w)(x, multi).item()
    ours_w = dice_loss(x, multi, mode="multilabel", weight=w).item()
    assert monai_w == approx(ours_w * w.sum().item() / 4)


def test_agrees_with_kornia_dice_and_tversky():
    from kornia.losses import dice_loss as kornia_dice
    from kornia.losses import tversky_loss as kornia_tversky

    g = torch.Generator().manual_seed(2)
    x = 2 * torch.randn(3, 4, 6, 5, generator=g, dtype=F64)
    labels = torch.randint(0, 4, (3, 6, 5), generator=g)
    labels[:, 0, 0] = torch.arange(3)  # every class present in every image: kornia's macro mean = ours
    labels[:, 0, 1] = 3
    ours = dice_loss(x, labels, mode="multiclass", smooth=0.0).item()
    assert kornia_dice(x, labels, average="macro", eps=0.0).item() == approx(ours)
    ours_t = tversky_loss(x, labels, "multiclass", 0.3, 0.7, smooth=0.0).item()
    assert kornia_tversky(x, labels, 0.3, 0.7, eps=0.0).item() == approx(ours_t)
    # kornia's default 'micro' Dice pools the classes of an image into one score: not a per-class mean
    assert abs(kornia_dice(x, labels, eps=0.0).item() - ours) > 1e-3


# -- stability and gradients ------------------------------------------------------------------------


@pytest.mark.parametrize("fn", OVERLAP, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=str)
def test_finite_for_logits_of_1e4(fn, dtype):
    x = torch.tensor([[1e4, -1e4, 1e4, -1e4]], dtype=dtype, requires_grad=True)
    t = torch.tensor([[1.0, 0.0, 0.0, 1.0]], dtype=dtype)
    loss = fn(x, t, "binary")
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    if fn in (dice_bce_loss, combo_loss):  # two pixels wrong by 1e4: BCE = 2e4 / 4 exactly
        ce = 5000.0 if fn is dice_bce_loss else 0.5 * 0.5 * 5000.0
        assert loss.item() == approx(ce + (0.5 * 0.5 if fn is combo_loss else 0.5), 1e-6)
    xm = torch.tensor([[[1e4, -1e4], [-1e4, 1e4]]], dtype=dtype, requires_grad=True)  # (1, 2, 2) multiclass
    loss = fn(xm, torch.tensor([[0, 0]]), mode="multiclass")
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(xm.grad).all()


MODES = ["binary", "multiclass", "multilabel"]


def nan_batch(mode):
    """Logits of three images (C = 3, one channel for 'binary'), their target, the same logits with one
    NaN in image 1, channel 1, and where 'none' (per_image True, False) must be NaN: the image's
    channel, every class of the image through the softmax."""
    g = torch.Generator().manual_seed(11)
    x = torch.randn(3, 3, 4, 5, generator=g, dtype=F64)
    if mode == "binary":
        x, t, at = x[:, 0], (torch.rand(3, 4, 5, generator=g) < 0.5).to(F64), (1, 2, 3)
    elif mode == "multiclass":
        t, at = torch.randint(0, 3, (3, 4, 5), generator=g), (1, 1, 2, 3)
    else:
        t, at = (torch.rand(3, 3, 4, 5, generator=g) < 0.5).to(F64), (1, 1, 2, 3)
    bad = x.clone()
    bad[at] = math.nan
    classes = {"binary": [True], "multiclass": [True] * 3, "multilabel": [False, True, False]}[mode]
    per_image = torch.zeros(3, len(classes), dtype=torch.bool)
    per_image[1] = torch.tensor(classes)
    return x, bad, t, per_image, torch.tensor(classes)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fn", OVERLAP, ids=lambda f: f.__name__)
def test_a_nan_logit_gives_nan_never_a_perfect_score(fn, mode):
    # 0/0 = 0 once turned NaN statistics into loss 0: a diverging model scored a perfect Dice
    x, bad, t, nan_per_image, nan_per_class = nan_batch(mode)
    for per_image, where in ((True, nan_per_image), (False, nan_per_class)):
        kw = dict(mode=mode, per_image=per_image)
        got, clean = fn(bad, t, reduction="none", **kw), fn(x, t, reduction="none", **kw)
        # NaN exactly in the entries of the image (the classes) the NaN reaches, the others untouched
        assert torch.equal(got.isnan(), where) and torch.equal(got[~where], clean[~where])
        assert fn(bad, t, **kw).isnan() and fn(bad, t, reduction="sum", **kw).isnan()
    # probabilities are checked: a NaN one is an error, as any value outside [0, 1]
    with pytest.raises(ValueError, match=r"input must hold values in \[0, 1\] with from_logits=False"):
        fn(torch.sigmoid(bad), t, mode=mode, from_logits=False)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fn", OVERLAP, ids=lambda f: f.__name__)
def test_empty_masks_stay_zero_with_zero_gradient(fn, mode):
    # NaN now propagates through 0/0 = 0's test, which must still hold: loss 0, gradient exactly 0
    shape = (2, 1, 6) if mode == "binary" else (2, 3, 6)
    probs, logits = torch.zeros(shape, dtype=F64), torch.full(shape, -1e4, dtype=F64)
    target = torch.zeros(shape, dtype=F64)
    if mode == "multiclass":  # every pixel class 0, predicted as such: classes 1 and 2 are empty
        probs[:, 0], logits[:, 0], target = 1.0, 1e4, torch.zeros(2, 6, dtype=torch.long)
    # the gradient of the empty classes' channels (class 0's probability 1 of a perfect score may rise)
    empty = slice(1, None) if mode == "multiclass" else slice(None)
    # from probabilities the gradient is 0 only for the 0/0 of smooth = 0 (a stray p costs p / s
    # otherwise) and without cross-entropy (-log(1 - p) has slope 1 at p = 0)
    cases = [(logits, True, 0.0), (logits, True, 1e-5)]
    cases += [] if fn in (dice_bce_loss, combo_loss) else [(probs, False, 0.0)]
    for (x, from_logits, smooth), per_image in itertools.product(cases, (True, False)):
        x = x.clone().requires_grad_(True)
        kw = dict(mode=mode, from_logits=from_logits, per_image=per_image, smooth=smooth)
        loss = fn(x, target, reduction="none", **kw)
        (grad,) = torch.autograd.grad(loss.sum(), x)
        assert loss.abs().max().item() == 0.0 and grad[:, empty].abs().max().item() == 0.0


@pytest.mark.parametrize(
    "fn", [dice_loss, jaccard_loss, tversky_loss, focal_tversky_loss], ids=lambda f: f.__name__
)
def test_infinite_logits_saturate(fn):
    inf = math.inf
    x = torch.tensor([[inf, -inf, inf, -inf, 2.0]], dtype=F64, requires_grad=True)
    t = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0]], dtype=F64)
    for mode, v, target in (("binary", x, t), ("multilabel", x.unsqueeze(0), t.unsqueeze(0))):
        loss = fn(v, target, mode=mode, smooth=0.0)
        (grad,) = torch.autograd.grad(loss, x)
        # the probabilities 1 and 0 exactly: the loss of the saturated prediction, zero gradient there
        hard = torch.sigmoid(v.detach())
        assert loss.item() == approx(fn(hard, target, mode=mode, from_logits=False, smooth=0.0).item())
        assert torch.isfinite(grad).all() and grad[0, :4].abs().max().item() == 0.0
    # the softmax: -inf is a probability 0; +inf is NaN, as in torch.softmax and F.cross_entropy
    xm = torch.tensor([[[0.0, 1.0], [-inf, 2.0], [3.0, 0.5]]], dtype=F64, requires_grad=True)
    labels = torch.tensor([[0, 1]])
    loss = fn(xm, labels, mode="multiclass")
    (grad,) = torch.autograd.grad(loss, xm)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert loss.item() == approx(
        fn(torch.softmax(xm.detach(), 1), labels, mode="multiclass", from_logits=False).item()
    )
    assert fn(xm.detach().abs(), labels, mode="multiclass").isnan()  # was a silent 0 with a NaN gradient


def test_fractional_gamma_at_a_perfect_score_has_finite_gradient():
    x = torch.tensor([[1.0, 0.0, 1.0]], dtype=F64, requires_grad=True)
    loss = focal_tversky_loss(x, x.detach().clone(), "binary", gamma=0.5, from_logits=False, smooth=0.0)
    loss.backward()
    assert loss.item() == 0.0 and x.grad.abs().max().item() == 0.0
    x = torch.tensor([[40.0, -40.0]], dtype=torch.float32, requires_grad=True)  # Tversky loss ~ 1e-18
    focal_tversky_loss(x, torch.tensor([[1.0, 0.0]]), "binary", gamma=0.5).backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("fn", OVERLAP, ids=lambda f: f.__name__)
def test_gradcheck_multiclass_multilabel_options(fn):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 4, generator=g, dtype=F64, requires_grad=True)
    labels = torch.tensor([[0, 1, 2, -100], [2, 2, 1, 0]])
    multi = torch.tensor([[[1.0, 0.0, 0.3, -100.0]] * 3] * 2, dtype=F64)
    w = torch.tensor([1.0, 2.0, 0.5], dtype=F64)
    for target, kw in (
        (labels, dict(mode="multiclass", include_background=False, weight=w)),
        (labels, dict(mode="multiclass", per_image=False, reduction="none")),
        (multi, dict(mode="multilabel", weight=w, reduction="sum")),
    ):
        assert torch.autograd.gradcheck(lambda v, target=target, kw=kw: fn(v, target, **kw), (x,))


def test_modules_equal_functions_with_options():
    x, labels = torch.randn(2, 3, 4, 4, dtype=F64), torch.randint(0, 3, (2, 4, 4))
    w = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    kw = dict(mode="multiclass", per_image=False, weight=w, include_background=False, smooth=0.1)
    assert DiceLoss(**kw)(x, labels).item() == dice_loss(x, labels, **kw).item()
    options = dict(kw)
    mode = options.pop("mode")
    assert (
        FocalTverskyLoss(mode, 0.2, 0.8, 0.6, **options)(x, labels).item()
        == focal_tversky_loss(x, labels, mode, 0.2, 0.8, 0.6, **options).item()
    )
    combo = ComboLoss(mode, 0.3, 0.7, **options)(x, labels).item()
    assert combo == combo_loss(x, labels, mode, 0.3, 0.7, **options).item()
    assert "mode='multiclass'" in repr(DiceLoss(**kw))
    assert "gamma=0.6" in repr(FocalTverskyLoss("binary", gamma=0.6))


# -- errors -----------------------------------------------------------------------------------------


def test_errors_name_the_argument():
    x, labels = torch.randn(2, 3, 4), torch.randint(0, 3, (2, 4))
    with pytest.raises(ValueError, match=r"must have shape \(2, 4\), got \(2, 3, 4\)"):
        dice_loss(x, torch.randint(0, 3, (2, 3, 4)), mode="multiclass")  # channel mismatch
    with pytest.raises(ValueError, match=r"target must have the shape of input \(2, 3, 4\), got \(2, 4\)"):
        dice_loss(x, torch.rand(2, 4), mode="multilabel")
    with pytest.raises(ValueError, match=r"class index 3, outside \[0, 3\) and not ignore_index \(-100\)"):
        dice_loss(x, torch.tensor([[0, 1, 2, 3], [0, 0, 0, 0]]), mode="multiclass")
    with pytest.raises(
        TypeError, match="target of class indices must have an integer dtype, got torch.float32"
    ):
        dice_loss(x, labels.float(), mode="multiclass")
    with pytest.raises(ValueError, match=r"alpha \+ beta > 0 .* got alpha=0.0, beta=0.0"):
        tversky_loss(x, labels, "multiclass", 0.0, 0.0)
    with pytest.raises(ValueError, match=r"alpha and beta must be >= 0 .* got alpha=-0.5, beta=1.0"):
        lossref.TverskyLoss("multiclass", -0.5, 1.0)
    with pytest.raises(ValueError, match=r"input must hold values in \[0, 1\] with from_logits=False .*2.0"):
        dice_loss(torch.tensor([[0.5, 2.0]]), torch.tensor([[1.0, 0.0]]), "binary", from_logits=False)
    with pytest.raises(ValueError, match=r"target must hold values in \[0, 1\] or be ignore_index \(-100\)"):
        dice_loss(torch.zeros(1, 2), torch.tensor([[1.0, 2.0]]), "binary")
    with pytest.raises(ValueError, match="include_background=False needs a background channel 0"):
        dice_loss(torch.zeros(1, 2), torch.zeros(1, 2), "binary", include_background=False)
    with pytest.raises(
        ValueError, match=r"mode must be one of \('binary', 'multiclass', 'multilabel'\), got 'multi'"
    ):
        dice_loss(x, labels, mode="multi")
    with pytest.raises(ValueError, match=r"input for mode='multiclass' must have shape \(N, C, \*\)"):
        dice_loss(torch.zeros(3), torch.tensor(0), mode="multiclass")
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\), got \(2,\)"):
        dice_loss(x, labels, mode="multiclass", weight=torch.ones(2))
    with pytest.raises(ValueError, match="gamma must be > 0"):
        focal_tversky_loss(x, labels, gamma=0.0, mode="multiclass")
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\]"):
        combo_loss(x, labels, "multiclass", 0.5, 1.5)
    with pytest.raises(ValueError, match="smooth must be >= 0, got -1"):
        jaccard_loss(x, labels, mode="multiclass", smooth=-1)
