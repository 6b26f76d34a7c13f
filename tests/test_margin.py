"""The score-margin losses: hand values, torch's conventions (established by experiment, see
lossref/margin.py), the kink, the deliberate differences from torch, and a differential test against
torch's kernels over every option for the losses the registry's generic one does not reach (those
with a class dimension).
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import lossref

D = torch.float64


def t(values, dtype=D, **kw):
    return torch.tensor(values, dtype=dtype, **kw)


# -- hand values -----------------------------------------------------------------------------------


def test_hand_values():
    # hinge embedding: 0.3 (similar), 1 - 0.2 (dissimilar, inside the margin), 0 (outside)
    out = lossref.hinge_embedding_loss(t([0.3, 0.2, 2.0]), t([1, -1, -1]), reduction="none")
    assert out.tolist() == pytest.approx([0.3, 0.8, 0.0], abs=1e-15)
    # soft margin: log 2, log(1 + e^2)
    out = lossref.soft_margin_loss(t([0.0, 2.0]), t([1, -1]), reduction="none")
    assert out.tolist() == pytest.approx([math.log(2), math.log1p(math.exp(2))], rel=1e-15)
    # multi-class margin, divided by all 4 classes: (0.3 + 0.4 + 0.6) / 4
    x = t([[0.1, 0.2, 0.4, 0.8]])
    assert lossref.multi_margin_loss(x, torch.tensor([3])).item() == pytest.approx(0.325, rel=1e-15)
    # p = 2, margin 0.7: (0^2 + 0.1^2 + 0.3^2) / 4; weight of the true class only: 4 * 0.325
    assert lossref.multi_margin_loss(x, torch.tensor([3]), p=2, margin=0.7).item() == pytest.approx(0.025)
    w = t([1.0, 2.0, 3.0, 4.0])
    assert lossref.multi_margin_loss(x, torch.tensor([3]), weight=w).item() == pytest.approx(1.3)
    # multi-label margin: classes 3 and 0 (the 1 after -1 ignored) against 1 and 2
    y = torch.tensor([[3, 0, -1, 1]])
    assert lossref.multilabel_margin_loss(x, y).item() == pytest.approx((0.4 + 0.6 + 1.1 + 1.3) / 4)
    # multi-label soft margin: log 2 for every class at logit 0, weighted (1 + 3) / 2
    out = lossref.multilabel_soft_margin_loss(
        torch.zeros(1, 2, dtype=D), torch.tensor([[1, 0]]), weight=t([1, 3])
    )
    assert out.item() == pytest.approx(2 * math.log(2), rel=1e-15)
    # ranking: 0.5 - 0.2, 0.5 + 1, 0; label 0 gives the margin
    out = lossref.margin_ranking_loss(
        t([0.3, 1.0, -0.5, 7.0]), t([0.1, 2.0, 0.5, 1.0]), t([1, 1, -1, 0]), 0.5, reduction="none"
    )
    assert out.tolist() == pytest.approx([0.3, 1.5, 0.0, 0.5], abs=1e-15)


# -- torch's conventions ---------------------------------------------------------------------------


def test_gradient_at_the_kink_is_torchs():
    """clamp_min's side (active) for hinge embedding and ranking; 0 for the multi-class kernels."""
    x = t([1.0], requires_grad=True)
    for fn in (lossref.hinge_embedding_loss, F.hinge_embedding_loss):
        (g,) = torch.autograd.grad(fn(x, t([-1.0])), x)
        assert g.item() == -1.0
    a, b = t([1.5], requires_grad=True), t([0.5], requires_grad=True)
    for fn in (lossref.margin_ranking_loss, F.margin_ranking_loss):
        assert [v.item() for v in torch.autograd.grad(fn(a, b, t([1.0]), 1.0), (a, b))] == [-1.0, 1.0]
    s = t([[1.5, 0.5, -3.0]], requires_grad=True)
    for ours, theirs, target in (
        (lossref.multi_margin_loss, F.multi_margin_loss, torch.tensor([0])),
        (lossref.multilabel_margin_loss, F.multilabel_margin_loss, torch.tensor([[0, -1, -1]])),
    ):
        for p in ({"p": 1}, {"p": 2}) if ours is lossref.multi_margin_loss else ({},):
            (g,) = torch.autograd.grad(ours(s, target, **p), s)
            (expected,) = torch.autograd.grad(theirs(s, target, **p), s)
            assert g.tolist() == expected.tolist() == [[0.0, 0.0, 0.0]]


def test_multilabel_margin_reads_indices_before_the_first_minus_one():
    x = torch.randn(4, 5, dtype=D, generator=torch.Generator().manual_seed(1))
    lists = torch.tensor([[3, 3, -1, 0, 4], [-1, 2, 2, 2, 2], [0, 1, 2, 3, 4], [4, -1, -1, -1, -1]])
    ours = lossref.multilabel_margin_loss(x, lists, reduction="none")
    torch.testing.assert_close(ours, F.multilabel_margin_loss(x, lists, reduction="none"))
    # a repeated index counts twice; no class, or every class: 0
    single = lossref.multilabel_margin_loss(x[:1], torch.tensor([[3, -1, -1, -1, -1]]))
    assert ours[0].item() == pytest.approx(2 * single.item()) and ours[1].item() == ours[2].item() == 0.0


def test_multilabel_soft_margin_takes_the_last_dimension_as_classes():
    x = torch.randn(2, 3, 4, dtype=D, generator=torch.Generator().manual_seed(2))
    y = (x > 0).long()
    ours = lossref.multilabel_soft_margin_loss(x, y, reduction="none")
    assert ours.shape == (2, 3)
    torch.testing.assert_close(ours, F.multilabel_soft_margin_loss(x, y, reduction="none"))


def test_unbatched_inputs_give_torchs_shapes_and_values():
    x = t([0.1, 0.2, 0.4, 0.8])
    pairs = [
        (lossref.multi_margin_loss, F.multi_margin_loss, torch.tensor(3)),
        (lossref.multilabel_margin_loss, F.multilabel_margin_loss, torch.tensor([3, 0, -1, 1])),
        (lossref.multilabel_soft_margin_loss, F.multilabel_soft_margin_loss, torch.tensor([1, 0, 0, 1])),
    ]
    for ours, theirs, target in pairs:
        for reduction in ("none", "mean", "sum"):
            value = ours(x, target, reduction=reduction)
            assert value.shape == ()
            torch.testing.assert_close(value, theirs(x, target, reduction=reduction))


def test_weighted_mean_divides_by_the_samples_as_torch():
    x = torch.randn(5, 4, dtype=D, generator=torch.Generator().manual_seed(3))
    y, w = torch.tensor([0, 1, 2, 3, 0]), t([1.0, 5.0, 0.5, 2.0])
    ours = lossref.multi_margin_loss(x, y, weight=w)
    torch.testing.assert_close(ours, lossref.multi_margin_loss(x, y, weight=w, reduction="sum") / 5)
    torch.testing.assert_close(ours, F.multi_margin_loss(x, y, weight=w))


# -- where lossref differs from torch, on purpose ----------------------------------------------------


def test_soft_margin_is_finite_where_torch_overflows():
    x = t([1e4, -1e4, 89.0], dtype=torch.float32, requires_grad=True)
    y = t([-1.0, 1.0, -1.0], dtype=torch.float32)
    theirs = F.soft_margin_loss(x, y, reduction="none")
    assert torch.isinf(theirs).all()  # torch: log(1 + e^z) as written
    ours = lossref.soft_margin_loss(x, y, reduction="none")
    ours.sum().backward()
    assert ours.tolist() == [1e4, 1e4, 89.0] and x.grad.tolist() == [1.0, -1.0, 1.0]


def test_soft_margin_equals_bce_with_logits_of_the_labels_as_probabilities():
    x = torch.randn(50, dtype=D, generator=torch.Generator().manual_seed(4)) * 5
    y = torch.where(torch.arange(50) % 3 == 0, 1.0, -1.0).to(D)
    torch.testing.assert_close(
        lossref.soft_margin_loss(x, y, reduction="none"),
        lossref.binary_cross_entropy_with_logits(x, (1 + y) / 2, reduction="none"),
        rtol=1e-15,
        atol=0,
    )


@pytest.mark.parametrize(
    "fn, label",
    [(lossref.hinge_embedding_loss, 0.0), (lossref.soft_margin_loss, 0.5), (lossref.soft_margin_loss, 0.0)],
    ids=["hinge-0", "soft-0.5", "soft-0"],
)
def test_labels_other_than_plus_minus_one_are_refused(fn, label):
    x, y = t([0.3, 0.3]), t([1.0, label])
    with pytest.raises(ValueError, match=r"target must hold labels in \{1, -1\}, got " + str(label)):
        fn(x, y)


def test_hinge_embedding_label_zero_is_torchs_silent_sum():
    """What the refusal prevents: torch adds both cases' terms for a label 0, x + max(0, 1 - x)."""
    assert F.hinge_embedding_loss(t([0.3]), t([0.0])).item() == pytest.approx(1.0)


def test_ranking_labels_outside_one_minus_one_zero_are_refused():
    with pytest.raises(ValueError, match=r"target must hold labels in \{1, -1, 0\}, got 2.0"):
        lossref.margin_ranking_loss(t([1.0]), t([0.0]), t([2.0]))


@pytest.mark.parametrize(
    "fn", [lossref.multi_margin_loss, lossref.multilabel_margin_loss], ids=lambda f: f.__name__
)
def test_nan_in_a_term_gives_nan_where_torch_drops_it(fn):
    x = t([[0.1, float("nan"), 0.3]])
    target = torch.tensor([0]) if fn is lossref.multi_margin_loss else torch.tensor([[0, -1, -1]])
    assert math.isnan(fn(x, target).item())
    assert not math.isnan(getattr(F, fn.__name__)(x, target).item())


@pytest.mark.parametrize(
    "fn", [lossref.multi_margin_loss, lossref.multilabel_margin_loss], ids=lambda f: f.__name__
)
def test_an_empty_batch_reduces_like_every_other_loss(fn):
    x = torch.zeros(0, 4, dtype=D)
    target = (
        torch.zeros(0, dtype=torch.long)
        if fn is lossref.multi_margin_loss
        else torch.zeros(0, 4, dtype=torch.long)
    )
    assert math.isnan(fn(x, target).item()) and fn(x, target, reduction="sum").item() == 0.0
    assert fn(x, target, reduction="none").shape == (0,)


def test_bad_options_and_targets_are_clear_errors():
    x = torch.randn(2, 4, dtype=D)
    cases = [
        (
            lambda: lossref.multi_margin_loss(x, torch.tensor([0, 4])),
            ValueError,
            r"class indices in \[0, 4\), got 4",
        ),
        (
            lambda: lossref.multi_margin_loss(x, torch.tensor([0, 1]), p=3),
            ValueError,
            "p must be 1 .* or 2 .*, got 3",
        ),
        (
            lambda: lossref.multi_margin_loss(x, torch.tensor([[0], [1]])),
            ValueError,
            r"target must have shape \(2,\)",
        ),
        (lambda: lossref.multi_margin_loss(x, torch.tensor([0.0, 1.0])), TypeError, "integer dtype"),
        (
            lambda: lossref.multi_margin_loss(x, torch.tensor([0, 1]), weight=t([1.0, 2.0])),
            ValueError,
            r"shape \(4,\)",
        ),
        (
            lambda: lossref.multi_margin_loss(x[None], torch.tensor([0, 1])),
            ValueError,
            r"shape \(C,\) or \(N, C\)",
        ),
        (
            lambda: lossref.multi_margin_loss(x, torch.tensor([0, 1]), margin=math.inf),
            ValueError,
            "margin must be a finite real number",
        ),
        (
            lambda: lossref.multilabel_margin_loss(x, torch.tensor([[0, -1, 7, 0], [1, -1, 0, 0]])),
            ValueError,
            r"\[0, 4\) or -1.*got 7",
        ),
        (
            lambda: lossref.multilabel_margin_loss(x, torch.tensor([[0, -1], [1, -1]])),
            ValueError,
            "the input's shape",
        ),
        (
            lambda: lossref.multilabel_margin_loss(x, (x > 0).double()),
            TypeError,
            "multilabel_soft_margin_loss",
        ),
        (
            lambda: lossref.margin_ranking_loss(x, x[:1], torch.ones(2, 4)),
            ValueError,
            r"input2 must have the shape of input1 \(2, 4\)",
        ),
        (lambda: lossref.hinge_embedding_loss(x, torch.ones(2, 4) > 0), TypeError, "labels as numbers"),
        (lambda: lossref.MultiMarginLoss(p=0), ValueError, "p must be"),
        (lambda: lossref.HingeEmbeddingLoss(margin=torch.tensor(1.0)), TypeError, r"margin.item\(\)"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_multilabel_margin_keeps_small_hinges_of_large_scores():
    """It sums sorted scores' non-negative steps, never a running sum of the scores (which would
    lose hinges of order 1 between scores of order 1e4): float32 within 1e-6 of the same float32
    scores computed in float64 pair by pair."""
    g = torch.Generator().manual_seed(0)
    x = (1e4 + torch.randn(64, 256, generator=g, dtype=D)).float()
    lists = torch.randint(-1, 256, (64, 256), generator=g)
    exact = F.multilabel_margin_loss(x.double(), lists, reduction="none")
    ours = lossref.multilabel_margin_loss(x, lists, reduction="none").double()
    assert ((ours - exact).abs() / exact).max().item() < 1e-6


def test_multilabel_margin_pairs_of_infinite_scores_add_zero_as_torch():
    inf = float("inf")
    for scores in ([inf, inf, 1.0], [-inf, 0.0, -inf], [-inf, -inf, 0.0], [0.0, inf, 1.0]):
        x, lists = t([scores]), torch.tensor([[0, -1, 0]])
        assert lossref.multilabel_margin_loss(x, lists).item() == F.multilabel_margin_loss(x, lists).item()


# -- against torch, every option -----------------------------------------------------------------


@given(
    n=st.integers(0, 5),
    c=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    reduction=st.sampled_from(["none", "mean", "sum"]),
    p=st.sampled_from([1, 2]),
    margin=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    weighted=st.booleans(),
    ties=st.booleans(),
)
def test_class_margin_losses_match_torch_float64(n, c, seed, reduction, p, margin, weighted, ties):
    """Value and input gradient of the three losses with a class dimension (torch's empty-batch
    reductions are uninitialised memory: compared only where N > 0 or reduction='none'). With
    ``ties``, scores on a grid of halves: equal scores, and hinges exactly at their kink."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=D)
    if ties:
        x = torch.randint(-4, 5, (n, c), generator=g).to(D) / 2
    w = torch.rand(c, generator=g, dtype=D) * 2 if weighted else None
    index = torch.randint(0, c, (n,), generator=g)
    length = torch.randint(0, c + 1, (n, 1), generator=g)
    order = torch.rand(n, c, generator=g).argsort(-1)
    lists = torch.where(torch.arange(c) < length, order, -1)
    labels = torch.rand(n, c, generator=g) < 0.4
    calls = [
        ("multi_margin_loss", index, {"p": p, "margin": margin, "weight": w}),
        ("multilabel_margin_loss", lists, {}),
        ("multilabel_soft_margin_loss", labels.long(), {"weight": w}),
    ]
    for name, target, options in calls:
        if n == 0 and reduction != "none" and name != "multilabel_soft_margin_loss":
            continue
        results = []
        for fn in (getattr(lossref, name), getattr(F, name)):
            leaf = x.clone().requires_grad_(True)
            loss = fn(leaf, target, reduction=reduction, **options)
            (grad,) = torch.autograd.grad(loss.sum(), leaf)
            results.append((loss, grad))
        torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-14, equal_nan=True)


@given(
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    seed=st.integers(0, 2**16),
    reduction=st.sampled_from(["none", "mean", "sum"]),
    margin=st.sampled_from([0.0, 0.5, 1.0, 2.0, -0.5]),
)
def test_elementwise_margin_losses_match_torch_float64(shape, seed, reduction, margin):
    """The margin option of the elementwise losses (the registry's generic differential test runs
    them at the default margin): value and every gradient, integer and floating labels."""
    g = torch.Generator().manual_seed(seed)
    x1, x2 = (torch.randn(shape, generator=g, dtype=D) * 2 for _ in range(2))
    signs = torch.where(torch.rand(shape, generator=g) < 0.5, 1, -1)
    calls = [
        ("hinge_embedding_loss", (x1.abs(), signs), {"margin": margin}),
        ("soft_margin_loss", (x1, signs.to(D)), {}),
        ("margin_ranking_loss", (x1, x2, signs), {"margin": margin}),
    ]
    for name, (*scores, labels), options in calls:
        results = []
        for fn in (getattr(lossref, name), getattr(F, name)):
            leaves = [score.clone().requires_grad_(True) for score in scores]
            loss = fn(*leaves, labels, reduction=reduction, **options)
            results.append((loss, *torch.autograd.grad(loss.sum(), leaves)))
        torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-14, equal_nan=True)
