"""ArcFace and CosFace: against an mpmath oracle of the whole loss (unit vectors, cosines, the margin,
the softmax cross-entropy) in value and gradient, at ordinary angles and at theta = 0 and pi, where
the margin's derivative has no bound; hand values; the modules' class vectors; the papers' code that
gives NaN where lossref is finite; bad input.
"""

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F

import lossref
from lossref import _formulas as formulas
from lossref.angular import SIN_FLOOR

D = torch.float64
#: digits of the oracle (set locally, so the other tests' mpmath precision is untouched)
DIGITS = 40


def _oracle_loss(x, y, w, kind, scale, margin):
    """The loss of each sample in mpmath, from the definitions: x / |x|, w_c / |w_c|, the cosines,
    the margin on the true class (ArcFace with sin(theta) at least SIN_FLOOR, as documented), and
    -log softmax."""
    rows = []
    units = [[v / mpmath.sqrt(sum(u * u for u in wc)) for v in wc] for wc in w]
    for xn, yn in zip(x, y, strict=True):
        norm = mpmath.sqrt(sum(u * u for u in xn))
        cos = [sum(a / norm * b for a, b in zip(xn, wc, strict=True)) for wc in units]
        c = cos[yn]
        if kind == "cosface":
            true = c - margin
        elif c >= mpmath.cos(mpmath.pi - margin):
            sin = mpmath.sqrt(max((1 - c) * (1 + c), mpmath.mpf(SIN_FLOOR) ** 2))
            true = c * mpmath.cos(margin) - sin * mpmath.sin(margin)
        else:
            true = c - margin * mpmath.sin(margin)
        logits = [scale * (true if k == yn else ck) for k, ck in enumerate(cos)]
        rows.append(-logits[yn] + mpmath.log(sum(mpmath.exp(v) for v in logits)))
    return rows


def _oracle(x, y, w, kind, scale, margin):
    """Per-sample losses and the gradient of their sum in every coordinate of x and w."""
    with mpmath.workdps(DIGITS):
        return _oracle_at_precision(x, y, w, kind, scale, margin)


def _oracle_at_precision(x, y, w, kind, scale, margin):
    xs, ws = (
        [[mpmath.mpf(v) for v in row] for row in x.tolist()],
        [[mpmath.mpf(v) for v in row] for row in w.tolist()],
    )
    labels = y.tolist()

    def total(flat):
        k = len(xs) * len(xs[0])
        xv = [flat[i * len(xs[0]) : (i + 1) * len(xs[0])] for i in range(len(xs))]
        wv = [flat[k + i * len(ws[0]) : k + (i + 1) * len(ws[0])] for i in range(len(ws))]
        return mpmath.fsum(_oracle_loss(xv, labels, wv, kind, scale, margin))

    flat = [v for row in xs for v in row] + [v for row in ws for v in row]
    grads = []
    for i in range(len(flat)):
        h = mpmath.mpf(10) ** -25
        up, down = list(flat), list(flat)
        up[i] += h
        down[i] -= h
        grads.append((total(up) - total(down)) / (2 * h))
    k = x.numel()
    loss = torch.tensor([float(v) for v in _oracle_loss(xs, labels, ws, kind, scale, margin)], dtype=D)
    gx = torch.tensor([float(g) for g in grads[:k]], dtype=D).view_as(x)
    gw = torch.tensor([float(g) for g in grads[k:]], dtype=D).view_as(w)
    return loss, gx, gw


def _ours(fn, x, y, w, dtype, **options):
    leaves = [x.to(dtype).requires_grad_(True), w.to(dtype).requires_grad_(True)]
    loss = fn(leaves[0], y, leaves[1], reduction="none", **options)
    return (loss, *torch.autograd.grad(loss.sum(), leaves))


def _cases():
    """(name, x, y, w): random embeddings and class vectors, and embeddings at angles 0, pi, 1e-3,
    1e-6 (below the floor) and near pi - m from their class vector."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(5, 3, generator=g, dtype=D)
    yield "random", torch.randn(4, 3, generator=g, dtype=D), torch.tensor([0, 3, 3, 1]), w
    axis = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-0.6, 0.8, 0.0]], dtype=D)
    y = torch.tensor([0, 1, 2, 0, 0, 0])
    x = torch.stack(
        [
            axis[0] * 2.5,  # theta = 0 exactly
            -axis[1],  # theta = pi exactly
            torch.tensor([0.6, -0.8, 0.0], dtype=D) * 0.5,  # pi
            torch.tensor([math.cos(1e-3), math.sin(1e-3), 0.0], dtype=D),
            torch.tensor([math.cos(1e-6), 0.0, math.sin(1e-6)], dtype=D),
            torch.tensor([math.cos(2.6), math.sin(2.6), 0.0], dtype=D),  # beyond pi - 0.5
        ]
    )
    yield "extreme angles", x, y, axis


ANGULAR = [("arcface", lossref.arcface_loss), ("cosface", lossref.cosface_loss)]
MODULES = {"arcface": lossref.ArcFaceLoss, "cosface": lossref.CosFaceLoss}
CASES = list(_cases())


@pytest.mark.parametrize("kind, fn", ANGULAR, ids=[k for k, _ in ANGULAR])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("scale, margin", [(64.0, 0.5), (4.0, 0.2)])
def test_value_and_gradient_match_the_mpmath_oracle_float64(kind, fn, case, scale, margin):
    _, x, y, w = case
    expected = _oracle(x, y, w, kind, scale, margin)
    got = _ours(fn, x, y, w, D, scale=scale, margin=margin)
    for e, o in zip(expected, got, strict=True):
        assert torch.isfinite(o).all()
        torch.testing.assert_close(o, e, rtol=1e-12, atol=1e-13 * max(1.0, e.abs().max().item()))


@pytest.mark.parametrize("kind, fn", ANGULAR, ids=[k for k, _ in ANGULAR])
def test_float32_within_the_scale_times_the_cosines_rounding(kind, fn):
    """From float32 embeddings the cosines carry about 1e-7 of rounding, which the scale multiplies:
    the loss and every gradient entry are within s * 1e-6 (absolute) of the oracle's at the same
    float32 values (measured: 5e-6 to 1.1e-5 at s = 64, for losses near 90 and gradients near 100)."""
    _, x, y, w = CASES[0]
    x, w = x.float().double(), w.float().double()
    expected = _oracle(x, y, w, kind, 64.0, 0.5)
    got = [t.double() for t in _ours(fn, x, y, w, torch.float32, scale=64.0, margin=0.5)]
    for e, o in zip(expected, got, strict=True):
        assert (o - e).abs().max().item() <= 64 * 1e-6


def test_the_papers_formula_with_the_angle_agrees_away_from_the_floor():
    _, x, y, w = CASES[0]
    torch.testing.assert_close(
        lossref.arcface_loss(x, y, w, reduction="none"), formulas.arcface(x, y, w), rtol=1e-12, atol=1e-14
    )


def test_the_widely_copied_head_is_nan_at_theta_zero_where_lossref_is_finite():
    """ArcMarginProduct's sqrt(1 - cos^2) has an infinite derivative at cos = 1: its gradient is NaN
    (0 * inf) for an embedding along its class vector; lossref's is finite and equals the oracle's."""
    w = torch.eye(3, dtype=D)
    x = torch.tensor([[2.0, 0.0, 0.0], [0.3, 0.4, 0.5]], dtype=D)
    y = torch.tensor([0, 2])
    leaf = x.clone().requires_grad_(True)
    (copied,) = torch.autograd.grad(formulas.arcface_usual(leaf, y, w), leaf)
    assert torch.isnan(copied[0]).any()
    _, gx, _ = _ours(lossref.arcface_loss, x, y, w, D)
    _, expected, _ = _oracle(x, y, w, "arcface", 64.0, 0.5)
    torch.testing.assert_close(gx, expected, rtol=1e-12, atol=1e-13)


def test_hand_values():
    x = torch.tensor([[1.0, 0.0]], dtype=D)
    w = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=D)  # 45 and 90 degrees from x
    y = torch.tensor([0])
    # ArcFace: logits s cos(pi/4 + m) and 0
    true = 4 * math.cos(math.pi / 4 + 0.5)
    assert lossref.arcface_loss(x, y, w, scale=4.0).item() == pytest.approx(
        math.log1p(math.exp(-true)), rel=1e-14
    )
    # CosFace: logits s (cos(pi/4) - m) and 0
    true = 4 * (math.cos(math.pi / 4) - 0.35)
    assert lossref.cosface_loss(x, y, w, scale=4.0).item() == pytest.approx(
        math.log1p(math.exp(-true)), rel=1e-14
    )
    # margin 0: both are the softmax cross-entropy of the scaled cosines
    plain = F.cross_entropy(4 * torch.tensor([[math.cos(math.pi / 4), 0.0]], dtype=D), y)
    for fn in (lossref.arcface_loss, lossref.cosface_loss):
        assert fn(x, y, w, scale=4.0, margin=0.0).item() == pytest.approx(plain.item(), rel=1e-14)


def test_beyond_pi_minus_m_the_margin_continues_as_cosface_with_m_sin_m():
    """cos(theta + m) would turn back up past theta = pi - m: the papers' code continues with
    cos(theta) - m sin(m), which keeps the true logit decreasing in theta. A zero second class
    vector has cosine 0 with everything, so the loss is log(1 + exp(-s psi)), psi the true logit."""
    w = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=D)
    angles = torch.linspace(0.0, math.pi, 181, dtype=D)
    x = torch.stack([angles.cos(), angles.sin()], 1)
    y = torch.zeros(181, dtype=torch.long)
    losses = lossref.arcface_loss(x, y, w, scale=1.0, reduction="none")
    assert bool((losses.diff() > 0).all())  # the loss grows with the angle, all the way to pi
    # cos(theta + m) with sin(theta) at least SIN_FLOOR (at theta = 0, a change of 1e-4 sin m)
    widened = angles.cos() * math.cos(0.5) - angles.sin().clamp(min=SIN_FLOOR) * math.sin(0.5)
    psi = torch.where(angles <= math.pi - 0.5, widened, angles.cos() - 0.5 * math.sin(0.5))
    torch.testing.assert_close(losses, torch.log1p(torch.exp(-psi)), rtol=1e-13, atol=0)


def test_zero_embedding_gives_cosine_zero_not_nan():
    w = torch.eye(3, dtype=D)
    x = torch.zeros(1, 3, dtype=D)
    for fn in (lossref.arcface_loss, lossref.cosface_loss):
        loss = fn(x, torch.tensor([1]), w, scale=4.0, margin=0.0)
        assert loss.item() == pytest.approx(math.log(3), rel=1e-14)  # three equal logits 0


@pytest.mark.parametrize("module", MODULES.values())
def test_module_owns_class_vectors_initialised_as_the_authors_code(module):
    torch.manual_seed(0)
    head = module(num_classes=1000, embedding_dim=64)
    assert head.weight.shape == (1000, 64) and head.weight.requires_grad
    assert abs(head.weight.std().item() - 0.01) < 1e-3 and abs(head.weight.mean().item()) < 1e-3
    assert "num_classes=1000, embedding_dim=64" in repr(head)


@pytest.mark.parametrize("kind, fn", ANGULAR, ids=[k for k, _ in ANGULAR])
def test_bad_input_is_a_clear_error(kind, fn):
    x, w, y = torch.randn(4, 3), torch.randn(5, 3), torch.tensor([0, 1, 2, 3])
    cases = [
        (
            lambda: fn(x, y, torch.randn(5, 4)),
            ValueError,
            r"weight must have shape \(C, D\) = \(classes, 3\)",
        ),
        (lambda: fn(x, torch.tensor([0, 1, 2, 5]), w), ValueError, r"class indices in \[0, 5\), got 5"),
        (lambda: fn(x, y.float(), w), TypeError, "integer dtype"),
        (lambda: fn(x, y, w.double()), TypeError, "weight"),
        (lambda: fn(x, y, w, scale=0.0), ValueError, "scale must be greater than 0"),
        (lambda: fn(x, y, w, margin=-0.1), ValueError, r"margin must be in \[0, "),
        (lambda: fn(torch.randn(2, 2, 3), y, w), ValueError, r"input must have shape \(N, D\)"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        MODULES[kind](0, 3)
