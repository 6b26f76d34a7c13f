"""The embedding losses: hand values, torch's conventions (established by experiment, see
lossref/embedding.py), the kinks, the deliberate differences from torch, the overflow lossref avoids,
a learnable distance module, and differential tests against torch in float64 over every option.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import lossref

D = torch.float64
INF = math.inf


def t(values, dtype=D, **kw):
    return torch.tensor(values, dtype=dtype, **kw)


def l1(u, v):
    return (u - v).abs().sum(-1)


def cosine_distance(u, v):
    return 1 - F.cosine_similarity(u, v)


def leaves(*tensors):
    return [x.clone().requires_grad_(True) for x in tensors]


# -- hand values -----------------------------------------------------------------------------------


def test_cosine_hand_values():
    # rows: parallel [1, 2] and [2, 4] (cos 1), orthogonal (cos 0), opposite (cos -1), and
    # [1, 0] against [1, 1] (cos 1/sqrt 2); the eps 1e-12 moves a cosine by ~1e-12 at these norms
    x1 = t([[1.0, 2.0], [1.0, 0.0], [1.0, 2.0], [1.0, 0.0]])
    x2 = t([[2.0, 4.0], [0.0, 3.0], [-3.0, -6.0], [1.0, 1.0]])
    r = 1 / math.sqrt(2)
    similar = lossref.cosine_embedding_loss(x1, x2, torch.ones(4, dtype=D), reduction="none")
    # y = 1: 1 - cos
    assert similar.tolist() == pytest.approx([0.0, 1.0, 2.0, 1 - r], abs=1e-11)
    minus = -torch.ones(4, dtype=D)
    # y = -1, margin 0: max(0, cos)
    out = lossref.cosine_embedding_loss(x1, x2, minus, reduction="none")
    assert out.tolist() == pytest.approx([1.0, 0.0, 0.0, r], abs=1e-11)
    # margin 0.5: max(0, cos - 0.5)
    out = lossref.cosine_embedding_loss(x1, x2, minus, 0.5, reduction="none")
    assert out.tolist() == pytest.approx([0.5, 0.0, 0.0, r - 0.5], abs=1e-11)
    # margin -0.5: max(0, cos + 0.5); the opposite pair is beyond it
    out = lossref.cosine_embedding_loss(x1, x2, minus, -0.5, reduction="none")
    assert out.tolist() == pytest.approx([1.5, 0.5, 0.0, r + 0.5], abs=1e-11)
    # mixed labels, mean: (0 [parallel, similar] + 0 [orthogonal, dissimilar] + 2 + (r - 0.5)) / 4
    y = torch.tensor([1, -1, 1, -1])
    assert lossref.cosine_embedding_loss(x1, x2, y, 0.5).item() == pytest.approx((2 + r - 0.5) / 4)
    assert lossref.cosine_embedding_loss(x1, x2, y, 0.5, reduction="sum").item() == pytest.approx(1.5 + r)


def test_triplet_hand_values():
    a, pos = t([[0.0, 0.0]]), t([[3.0, 4.0]])  # d(a, p) = 5 (p=2), 7 (p=1), 4 (p=inf)

    def loss(n, **kw):
        return lossref.triplet_margin_loss(a, pos, t([n]), eps=0.0, **kw).item()

    assert loss([6.0, 8.0]) == 0.0  # max(0, 1 + 5 - 10)
    assert loss([0.0, 5.0]) == pytest.approx(1.0)  # 1 + 5 - 5
    assert loss([3.0, 0.0]) == pytest.approx(3.0)  # 1 + 5 - 3
    assert loss([3.0, 0.0], margin=2.5) == pytest.approx(4.5)  # 2.5 + 5 - 3
    # swap: d(p, n) = |[3, 4] - [6, 8]| = 5 < d(a, n) = 10, so 1 + 5 - 5 (0 without swap)
    assert loss([6.0, 8.0], swap=True) == pytest.approx(1.0)
    # swap keeps d(a, n) when it is the smaller: d(a, n) = 3 < d(p, n) = 4
    assert loss([3.0, 0.0], swap=True) == pytest.approx(3.0)
    # n = [1, -1]: p = 1: 1 + 7 - 2; p = inf: 1 + 4 - 1; p = 2: 1 + 5 - sqrt 2
    assert loss([1.0, -1.0], p=1) == pytest.approx(6.0)
    assert loss([1.0, -1.0], p=INF) == pytest.approx(4.0)
    assert loss([1.0, -1.0]) == pytest.approx(6 - math.sqrt(2))
    # p = 3: 1 + (27 + 64)^(1/3) - 2^(1/3)
    assert loss([1.0, -1.0], p=3) == pytest.approx(1 + 91 ** (1 / 3) - 2 ** (1 / 3))


def test_triplet_with_distance_hand_values():
    # L1: d(a, p) = 1 + 1 = 2, d(a, n) = 2 + 0.5 = 2.5, d(p, n) = 1 + 0.5 = 1.5
    a, pos, neg = t([[0.0, 0.0]]), t([[1.0, 1.0]]), t([[2.0, 0.5]])

    def loss(**kw):
        return lossref.triplet_margin_with_distance_loss(a, pos, neg, distance_function=l1, **kw).item()

    assert loss() == pytest.approx(0.5)  # 1 + 2 - 2.5
    assert loss(margin=2.0) == pytest.approx(1.5)  # 2 + 2 - 2.5
    assert loss(swap=True) == pytest.approx(1.5)  # 1 + 2 - 1.5
    assert loss(margin=0.25) == 0.0  # 0.25 + 2 - 2.5 < 0
    # the module, with a distance that is a module: PairwiseDistance(p=1, eps=0) is the same L1
    module = lossref.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1, eps=0.0))
    assert module(a, pos, neg).item() == pytest.approx(0.5)


# -- torch's conventions ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, D], ids=["float32", "float64"])
def test_cosine_zero_vectors(dtype):
    """torch's float32 eps 1e-12 on each squared norm: a zero embedding has cosine 0 (loss 1 for a
    similar pair), and two zero embeddings have the gradient exactly 0 (not NaN)."""
    zero, other = leaves(torch.zeros(1, 3, dtype=dtype), t([[1.0, 2.0, 3.0]], dtype))
    loss = lossref.cosine_embedding_loss(zero, zero, torch.tensor([1]))
    assert loss.item() == 1.0
    assert torch.autograd.grad(loss, zero)[0].tolist() == [[0.0, 0.0, 0.0]]
    # y = -1, margin -0.5: max(0, 0 + 0.5)
    assert lossref.cosine_embedding_loss(zero, zero, torch.tensor([-1]), -0.5).item() == 0.5
    # one zero embedding: loss 1, and a finite gradient of order 1 / sqrt(eps), torch's
    results = []
    for fn in (lossref.cosine_embedding_loss, F.cosine_embedding_loss):
        loss = fn(zero, other, torch.tensor([1]))
        results.append((loss, *torch.autograd.grad(loss, (zero, other))))
    assert results[0][0].item() == 1.0
    assert results[0][1].abs().max().item() > 1e5 and torch.isfinite(results[0][1]).all()
    tol = {"rtol": 1e-12, "atol": 0} if dtype == D else {}
    torch.testing.assert_close(results[0], results[1], **tol)


def test_cosine_eps_is_float32_1e12_at_tiny_norms():
    """In float64 the eps is visible at tiny norms: x1 = [1e-7, 0] has squared norm 1e-14, so
    cos = 1e-7 / sqrt(1e-14 + eps) ~ 0.0995. torch adds float32(1e-12) = 9.999999960041972e-13; the
    double 1e-12 would give a loss 2e-10 away. lossref equals torch to within a couple of ulps."""
    eps32 = 9.999999960041972e-13
    assert float(torch.tensor(1e-12, dtype=torch.float32)) == eps32
    x1 = t([[1e-7, 0.0], [1e-6, 1e-6], [3e-7, 0.0], [1e-5, 0.0]])
    x2 = t([[1.0, 0.0], [1e-6, 0.0], [3e-7, 3e-7], [1e-5, 2e-5]])
    y = torch.ones(4, dtype=D)
    ours = lossref.cosine_embedding_loss(x1, x2, y, reduction="none")
    theirs = F.cosine_embedding_loss(x1, x2, y, reduction="none")
    torch.testing.assert_close(ours, theirs, rtol=5e-16, atol=0)
    # by hand, row 0, with the float32 eps (and not with the double 1e-12)
    expected = 1 - 1e-7 / math.sqrt((1e-14 + eps32) * (1 + eps32))
    assert ours[0].item() == pytest.approx(expected, rel=1e-15, abs=0)
    assert abs(ours[0].item() - (1 - 1e-7 / math.sqrt((1e-14 + 1e-12) * (1 + 1e-12)))) > 1e-10


def test_cosine_gradient_at_the_kink_is_torchs():
    """cos == margin exactly for y = -1: loss 0, and the gradient passes (clamp_min's rule)."""
    cases = [
        # orthogonal, margin 0: cos = 0 exactly; d cos / d x1 = x2 / (|x1| |x2|) = [0, 1]
        (t([[1.0, 0.0]]), t([[0.0, 1.0]]), 0.0),
        # float32 3-4-5: the eps vanishes in 25 and 1, cos = 3 / 5 rounds to float32(0.6)
        (t([[3.0, 4.0]], torch.float32), t([[1.0, 0.0]], torch.float32), 0.6),
    ]
    for x1, x2, margin in cases:
        results = []
        for fn in (lossref.cosine_embedding_loss, F.cosine_embedding_loss):
            a, b = leaves(x1, x2)
            loss = fn(a, b, torch.tensor([-1]), margin)
            assert loss.item() == 0.0
            results.append(torch.autograd.grad(loss, (a, b)))
        torch.testing.assert_close(results[0], results[1])
        assert results[0][0].abs().sum().item() > 0.1  # it passes: not the relu rule's 0
    # by hand, orthogonal: grad x1 = x2 / |x2| - cos x1 = [0, 1], grad x2 = [1, 0]
    a, b = leaves(*cases[0][:2])
    grads = torch.autograd.grad(lossref.cosine_embedding_loss(a, b, torch.tensor([-1]), 0.0), (a, b))
    torch.testing.assert_close(grads, (t([[0.0, 1.0]]), t([[1.0, 0.0]])), rtol=0, atol=1e-11)


def test_triplet_gradient_at_the_kink_is_torchs():
    """margin + d(a, p) - d(a, n) == 0 exactly (2 + 1 - 3, eps 0): loss 0, gradient passes."""
    a, pos, neg = t([[0.0, 0.0]]), t([[1.0, 0.0]]), t([[3.0, 0.0]])
    results = []
    for fn in (lossref.triplet_margin_loss, F.triplet_margin_loss):
        leafs = leaves(a, pos, neg)
        loss = fn(*leafs, margin=2.0, eps=0.0)
        assert loss.item() == 0.0
        results.append(torch.autograd.grad(loss, leafs))
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)
    # by hand: d(a, p) pulls p to a, d(a, n) pushes n away; a's two unit vectors cancel
    assert [g.tolist() for g in results[0]] == [[[0.0, 0.0]], [[1.0, 0.0]], [[-1.0, 0.0]]]


def test_swap_tie_splits_the_gradient_in_halves_as_torch():
    """d(a, n) = d(p, n) = 1 (a = 0, p = 2, n = 1 on a line, eps 0): torch.minimum gives each half.
    By hand: ga = -1 (from d(a, p)) + 1/2 = -1/2, gp = 1 - 1/2 = 1/2, gn = -1/2 + 1/2 = 0."""
    a, pos, neg = t([[0.0, 0.0]]), t([[2.0, 0.0]]), t([[1.0, 0.0]])
    expected = [[[-0.5, 0.0]], [[0.5, 0.0]], [[0.0, 0.0]]]
    for fn, kw in (
        (lossref.triplet_margin_loss, {"eps": 0.0}),
        (F.triplet_margin_loss, {"eps": 0.0}),
        (lossref.triplet_margin_with_distance_loss, {"distance_function": l1}),
        (F.triplet_margin_with_distance_loss, {"distance_function": l1}),
    ):
        leafs = leaves(a, pos, neg)
        loss = fn(*leafs, swap=True, **kw)
        assert loss.item() == 2.0  # 1 + 2 - 1
        assert [g.tolist() for g in torch.autograd.grad(loss, leafs)] == expected, fn


def test_pairwise_eps_is_added_to_the_difference_as_torch():
    """d(u, v) = |u - v + eps|_p, so d(u, v) != d(v, u): with eps 0.5,
    d([0, 0], [1, 1]) = |[-0.5, -0.5]| = sqrt(0.5), d([1, 1], [0, 0]) = |[1.5, 1.5]| = sqrt(4.5)."""
    zero, one = t([[0.0, 0.0]]), t([[1.0, 1.0]])
    # the negative is anchor + 10: d = |[-9.5, -9.5]|; margin 20: the loss is 20 + d(a, p) - d(a, n)
    far_distance = math.hypot(9.5, 9.5)
    for anchor, positive, d_ap in ((zero, one, math.sqrt(0.5)), (one, zero, math.sqrt(4.5))):
        ours = lossref.triplet_margin_loss(anchor, positive, anchor + 10, 20.0, eps=0.5)
        theirs = F.triplet_margin_loss(anchor, positive, anchor + 10, 20.0, eps=0.5)
        assert ours.item() == pytest.approx(20 + d_ap - far_distance, rel=1e-15)
        assert ours.item() == theirs.item()
    # the default eps 1e-6: an anchor equal to its positive is at distance sqrt(D) 1e-6
    x = t([[0.5, -1.0, 2.0]])
    out = lossref.triplet_margin_loss(x, x, x + 10, margin=40.0)
    assert out.item() == pytest.approx(40 + math.sqrt(3) * 1e-6 - math.sqrt(3) * (10 - 1e-6), rel=1e-15)


def test_anchor_equal_to_its_positive_has_torchs_finite_gradient():
    """d(a, a) = |eps|: gradient (eps / |eps|) = 1 / sqrt(D) per coordinate, finite; with a = p = n
    the anchor's two terms cancel (torch's numbers, tml2.out)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, generator=g, dtype=D)
    for negative in (x + 5, x):
        results = []
        for fn in (lossref.triplet_margin_loss, F.triplet_margin_loss):
            leafs = leaves(x, x, negative)
            loss = fn(*leafs, margin=20.0)
            results.append((loss, *torch.autograd.grad(loss, leafs)))
        torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-14)
        assert all(torch.isfinite(r).all() for r in results[0])
    # a = p = n: loss = margin; grad_p = -1/sqrt(3) / N = -0.2887 per coordinate, grad_a = 0
    assert results[0][0].item() == pytest.approx(20.0)
    torch.testing.assert_close(results[0][1], torch.zeros(2, 3, dtype=D), rtol=0, atol=1e-15)
    torch.testing.assert_close(results[0][2], torch.full((2, 3), -0.5 / math.sqrt(3), dtype=D))


def test_unbatched_inputs_equal_torch():
    g = torch.Generator().manual_seed(1)
    a, pos, neg = torch.randn(3, 5, generator=g, dtype=D)
    cases = [
        ("cosine_embedding_loss", (a, pos), (torch.tensor(1),), {"margin": 0.1}),
        ("cosine_embedding_loss", (a, pos), (t(-1.0),), {"margin": -1.0}),
        ("triplet_margin_loss", (a, pos, neg), (), {"margin": 3.0, "swap": True}),
        ("triplet_margin_with_distance_loss", (a, pos, neg), (), {"margin": 3.0, "distance_function": l1}),
        ("triplet_margin_with_distance_loss", (a, pos, neg), (), {"margin": 3.0}),
    ]
    for name, embeddings, labels, options in cases:
        for reduction in ("none", "mean", "sum"):
            results = []
            for fn in (getattr(lossref, name), getattr(F, name)):
                leafs = leaves(*embeddings)
                loss = fn(*leafs, *labels, reduction=reduction, **options)
                assert loss.shape == ()
                results.append((loss, *torch.autograd.grad(loss, leafs)))
            torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-14)
            assert results[0][0].item() != 0.0  # active, so the gradients say something


# -- where lossref differs from torch, on purpose ----------------------------------------------------


def test_cosine_labels_other_than_plus_minus_one_are_refused():
    x1, x2 = t([[1.0, 0.0], [1.0, 1.0]]), t([[1.0, 1.0], [1.0, 0.0]])
    for label in (0.0, 2.0, 0.5):
        y = t([1.0, label])
        with pytest.raises(ValueError, match=r"target must hold labels in \{1, -1\}, got " + str(label)):
            lossref.cosine_embedding_loss(x1, x2, y)
    with pytest.raises(ValueError, match=r"got 0\.0"):
        lossref.cosine_embedding_loss(x1, x2, torch.tensor([1, 0]))
    # what the refusal prevents: torch gives a label 0 loss 0, and still counts it in the mean
    out = F.cosine_embedding_loss(x1, x2, torch.tensor([1, 0]), reduction="none")
    assert out.tolist() == pytest.approx([1 - 1 / math.sqrt(2), 0.0])
    assert F.cosine_embedding_loss(x1, x2, torch.tensor([1, 0])).item() == pytest.approx(out[0].item() / 2)


def test_cosine_bool_target_is_refused():
    x1, x2 = t([[1.0, 0.0], [1.0, 1.0]]), t([[1.0, 1.0], [1.0, 0.0]])
    with pytest.raises(TypeError, match="target must hold labels as numbers.*torch.bool"):
        lossref.cosine_embedding_loss(x1, x2, torch.tensor([True, False]))
    # torch: True is 1, False is neither label (loss 0)
    out = F.cosine_embedding_loss(x1, x2, torch.tensor([True, False]), reduction="none")
    assert out.tolist() == pytest.approx([1 - 1 / math.sqrt(2), 0.0])


def test_cosine_margin_outside_the_range_of_a_cosine_is_refused():
    x1, x2, y = t([[1.0, 0.0]]), t([[1.0, 1.0]]), torch.tensor([-1])
    for margin in (1.5, -1.01, 5.0, -3.0):
        with pytest.raises(ValueError, match=r"margin must be in \[-1, 1\]"):
            lossref.cosine_embedding_loss(x1, x2, y, margin)
        with pytest.raises(ValueError, match=r"margin must be in \[-1, 1\]"):
            lossref.CosineEmbeddingLoss(margin)(x1, x2, y)
    # the bounds are accepted: max(0, cos -+ 1)
    r = 1 / math.sqrt(2)
    assert lossref.cosine_embedding_loss(x1, x2, y, 1.0).item() == 0.0
    assert lossref.cosine_embedding_loss(x1, x2, y, -1.0).item() == pytest.approx(r + 1)
    # torch takes any margin: 5 gives 0, -3 gives 3 + cos
    assert F.cosine_embedding_loss(x1, x2, y, 5.0).item() == 0.0
    assert F.cosine_embedding_loss(x1, x2, y, -3.0).item() == pytest.approx(3 + r)


def test_triplet_p_must_be_positive():
    a, pos, neg = t([[0.0, 0.0, 0.0]]), t([[0.0, 0.0, 0.0]]), t([[1.0, 2.0, 0.0]])
    for p in (0, 0.0, -1, -2.5, math.nan, -INF):
        with pytest.raises(ValueError, match="p must be a real number > 0"):
            lossref.triplet_margin_loss(a, pos, neg, p=p)
        with pytest.raises(ValueError, match="p must be a real number > 0"):
            lossref.TripletMarginLoss(p=p)
    # torch takes p = 0: the count of nonzero coordinates (of a - p + eps: 3, of a - n + eps: 3 with
    # eps 1e-6, so loss = margin); with eps = 0: 10 + 0 - 2
    assert F.triplet_margin_loss(a, pos, neg, margin=10.0, p=0).item() == pytest.approx(10.0)
    assert F.triplet_margin_loss(a, pos, neg, margin=10.0, p=0, eps=0.0).item() == pytest.approx(8.0)


def test_triplet_margin_must_be_positive_as_torch():
    x = torch.zeros(1, 2, dtype=D)
    ours = [
        (lossref.triplet_margin_loss, (x, x, x)),
        (lossref.triplet_margin_with_distance_loss, (x, x, x)),
        (lossref.TripletMarginLoss, ()),
        (lossref.TripletMarginWithDistanceLoss, ()),
    ]
    theirs = [
        (F.triplet_margin_loss, (x, x, x)),
        (F.triplet_margin_with_distance_loss, (x, x, x)),
        (nn.TripletMarginLoss, ()),
        (nn.TripletMarginWithDistanceLoss, ()),
    ]
    for margin in (0.0, -1.0):
        for fn, args in ours:
            with pytest.raises(ValueError, match=f"margin must be greater than 0, got {margin}"):
                fn(*args, margin=margin)
        for fn, args in theirs:
            with pytest.raises(ValueError, match="margin"):
                fn(*args, margin=margin)


def test_embeddings_of_different_shapes_are_refused():
    """torch broadcasts (N, 1) against (N, D): one number compared with every coordinate (and a
    cosine loss that can be negative)."""
    one, wide = torch.ones(2, 1, dtype=D), torch.ones(2, 3, dtype=D)
    y = torch.tensor([1, 1])
    with pytest.raises(ValueError, match=r"input2 must have the shape of input1 \(2, 1\), got \(2, 3\)"):
        lossref.cosine_embedding_loss(one, wide, y)
    out = F.cosine_embedding_loss(one, wide, y, reduction="none")
    assert out.tolist() == pytest.approx([1 - math.sqrt(3)] * 2)  # 1 - 3 / (1 sqrt 3) < 0
    with pytest.raises(ValueError, match=r"anchor \(2, 3\), got \(2, 1\)"):
        lossref.triplet_margin_loss(wide, one, wide)
    with pytest.raises(ValueError, match=r"anchor \(2, 3\), got \(2, 1\)"):
        lossref.triplet_margin_with_distance_loss(wide, wide, one)
    assert F.triplet_margin_loss(one, wide * 0, wide, reduction="none").shape == (2,)
    # also one batched, one unbatched (torch: a RuntimeError about the dimensions)
    with pytest.raises(ValueError, match="shape"):
        lossref.triplet_margin_loss(wide, wide[0], wide)


def test_distance_of_another_shape_is_refused():
    a, pos, neg = torch.ones(2, 3, dtype=D), torch.zeros(2, 3, dtype=D), torch.ones(2, 3, dtype=D)

    def keepdim(u, v):
        return (u - v).abs().sum(-1, keepdim=True)

    with pytest.raises(ValueError, match=r"distance_function must return a tensor of shape \(2,\).*\(2, 1\)"):
        lossref.triplet_margin_with_distance_loss(a, pos, neg, distance_function=keepdim)
    with pytest.raises(ValueError, match="distance_function must return a tensor"):
        lossref.TripletMarginWithDistanceLoss(distance_function=keepdim)(a, pos, neg)
    # torch: an (N, 1) loss, 1 + 3 - 0 per row
    out = F.triplet_margin_with_distance_loss(a, pos, neg, distance_function=keepdim, reduction="none")
    assert out.tolist() == [[4.0], [4.0]]
    # a Python number is not a distance tensor either
    with pytest.raises(ValueError, match="got float"):
        lossref.triplet_margin_with_distance_loss(a, pos, neg, distance_function=lambda u, v: 1.0)


def test_distance_function_must_be_callable():
    x = torch.zeros(2, 3, dtype=D)
    for bad in (3, "l1"):
        with pytest.raises(TypeError, match="distance_function must be callable"):
            lossref.triplet_margin_with_distance_loss(x, x, x + 1, distance_function=bad)
        with pytest.raises(TypeError, match="distance_function must be callable"):
            lossref.TripletMarginWithDistanceLoss(distance_function=bad)(x, x, x + 1)
    with pytest.raises(TypeError):  # torch: when it calls it, "'int' object is not callable"
        F.triplet_margin_with_distance_loss(x, x, x + 1, distance_function=3)


def test_triplet_with_distance_options_are_keyword_only_as_torch():
    x = torch.zeros(2, 3, dtype=D)
    for fn in (lossref.triplet_margin_with_distance_loss, F.triplet_margin_with_distance_loss):
        with pytest.raises(TypeError, match="positional"):
            fn(x, x, x, l1)
        with pytest.raises(TypeError, match="positional"):
            fn(x, x, x, None, 1.0)
    for module in (lossref.TripletMarginWithDistanceLoss, nn.TripletMarginWithDistanceLoss):
        with pytest.raises(TypeError, match="positional"):
            module(l1)
        with pytest.raises(TypeError, match="positional"):
            module(None, 2.0)


# -- the overflow lossref avoids --------------------------------------------------------------------


def test_cosine_of_huge_float32_embeddings_does_not_overflow():
    """Norms ~1e15 in float32: squared norms 5e30 and 2e31 fit, their product 1e62 does not. torch
    takes the root of the product (inf: cos 0, loss 1 for a parallel pair, gradient 0); lossref the
    product of the roots (cos 1, loss 0)."""
    x1 = t([[1e15, 2e15], [1e15, 0.0]], torch.float32)
    x2 = t([[2e15, 4e15], [0.0, 3e15]], torch.float32)  # parallel, orthogonal
    y = torch.tensor([1, 1])
    theirs = F.cosine_embedding_loss(x1, x2, y, reduction="none")
    assert theirs.tolist() == [1.0, 1.0]  # torch: wrong for the parallel pair
    a, b = leaves(x1, x2)
    ours = lossref.cosine_embedding_loss(a, b, y, reduction="none")
    assert ours[0].item() == pytest.approx(0.0, abs=1e-6) and ours[1].item() == 1.0
    # the float64 answer, where nothing overflows
    torch.testing.assert_close(
        ours.double(), F.cosine_embedding_loss(x1.double(), x2.double(), y, reduction="none")
    )
    # dissimilar: torch says cos 0 (loss 0), lossref cos 1 (loss 1 - margin) and a finite gradient
    assert F.cosine_embedding_loss(x1[:1], x2[:1], torch.tensor([-1]), 0.25).item() == 0.0
    loss = lossref.cosine_embedding_loss(a, b, torch.tensor([-1, -1]), 0.25, reduction="sum")
    assert loss.item() == pytest.approx(0.75, rel=1e-6)
    assert all(torch.isfinite(g).all() for g in torch.autograd.grad(loss, (a, b)))


# -- a distance that is a module -------------------------------------------------------------------


class ProjectedDistance(nn.Module):
    """A learnable distance: the Euclidean distance of a linear projection of the embeddings."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 2, dtype=D)
        with torch.no_grad():
            g = torch.Generator().manual_seed(0)
            self.proj.weight.copy_(torch.randn(2, 4, generator=g, dtype=D))
            self.proj.bias.copy_(torch.randn(2, generator=g, dtype=D))

    def forward(self, u, v):
        return F.pairwise_distance(self.proj(u), self.proj(v))


def test_distance_module_is_a_child_module():
    distance = nn.PairwiseDistance(p=1)
    loss = lossref.TripletMarginWithDistanceLoss(distance_function=distance, swap=True)
    assert dict(loss.named_children()) == {"distance_function": distance}
    g = torch.Generator().manual_seed(2)
    a, pos, neg = torch.randn(3, 4, 5, generator=g, dtype=D)
    theirs = nn.TripletMarginWithDistanceLoss(distance_function=distance, swap=True)(a, pos, neg)
    torch.testing.assert_close(loss(a, pos, neg), theirs, rtol=1e-12, atol=0)
    # same as triplet_margin_loss with p = 1 (PairwiseDistance's eps is 1e-6, as the function's)
    torch.testing.assert_close(loss(a, pos, neg), lossref.triplet_margin_loss(a, pos, neg, p=1, swap=True))


def test_learnable_distance_receives_gradients():
    distance = ProjectedDistance()
    loss = lossref.TripletMarginWithDistanceLoss(distance_function=distance, margin=5.0, reduction="sum")
    params = list(distance.parameters())
    assert list(loss.parameters()) == params and len(params) == 2
    assert set(dict(loss.named_parameters())) == {
        "distance_function.proj.weight",
        "distance_function.proj.bias",
    }
    g = torch.Generator().manual_seed(3)
    a, pos, neg = torch.randn(3, 6, 4, generator=g, dtype=D)
    value = loss(a, pos, neg)
    assert value.item() > 0
    ours = torch.autograd.grad(value, params)
    theirs = torch.autograd.grad(
        nn.TripletMarginWithDistanceLoss(distance_function=distance, margin=5.0, reduction="sum")(
            a, pos, neg
        ),
        params,
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
    assert ours[0].abs().sum().item() > 0
    # the bias moves every projection alike, so it cancels in each difference: gradient 0
    torch.testing.assert_close(ours[1], torch.zeros(2, dtype=D), rtol=0, atol=1e-12)
    # one step of SGD on loss.parameters() lowers the loss
    optimizer = torch.optim.SGD(loss.parameters(), lr=1e-3)
    loss(a, pos, neg).backward()
    optimizer.step()
    assert loss(a, pos, neg).item() < value.item()


# -- against torch, every option -----------------------------------------------------------------


def _differential(name, embeddings, args, options, reduction, atol=1e-14):
    results = []
    for fn in (getattr(lossref, name), getattr(F, name)):
        leafs = leaves(*embeddings)
        loss = fn(*leafs, *args, reduction=reduction, **options)
        results.append((loss, *torch.autograd.grad(loss.sum(), leafs)))
    torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=atol, equal_nan=True)
    return results[0][0]


@given(
    n=st.integers(0, 5),
    d=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    reduction=st.sampled_from(["none", "mean", "sum"]),
    margin=st.floats(-1, 1),
    scale=st.sampled_from([1.0, 1e-6, 1e4]),
    integer_labels=st.booleans(),
)
def test_cosine_embedding_matches_torch_float64(n, d, seed, reduction, margin, scale, integer_labels):
    """Value and both gradients; ``scale`` 1e-6 puts the squared norms (~1e-12) at the eps.
    lossref's product of two roots against torch's root of a product: a rounding apart. The gradient
    of the cosine, x2 / (|x1| |x2|) - cos x1 / |x1|^2, is a difference of terms of size 1 / |x|
    that cancel where the pair is (anti)parallel (always for D = 1): its absolute error is a few
    ulps of 1 / |x|, so atol is 1e-14 / |x| for the smallest |x| (sqrt(|x|^2 + eps)) below 1."""
    g = torch.Generator().manual_seed(seed)
    x1, x2 = (torch.randn(n, d, generator=g, dtype=D) * scale for _ in range(2))
    y = torch.where(torch.rand(n, generator=g) < 0.5, 1, -1)
    y = y if integer_labels else y.to(D)
    smallest = torch.cat([x1, x2]).square().sum(-1).add(1e-12).sqrt().min().item() if n else 1.0
    atol = 1e-14 / min(1.0, smallest)
    loss = _differential("cosine_embedding_loss", (x1, x2), (y,), {"margin": margin}, reduction, atol)
    if n == 0 and reduction == "mean":
        assert math.isnan(loss.item())


@given(
    n=st.integers(0, 5),
    d=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    reduction=st.sampled_from(["none", "mean", "sum"]),
    margin=st.sampled_from([0.1, 1.0, 2.0]),
    p=st.sampled_from([1, 2, 3, 0.5, INF]),
    eps=st.sampled_from([0.0, 1e-6, 0.1]),
    swap=st.booleans(),
    grid=st.booleans(),
)
def test_triplet_margin_matches_torch_float64(n, d, seed, reduction, margin, p, eps, swap, grid):
    """Value and the three gradients. With ``grid``, coordinates on a grid of halves: equal
    embeddings (zero differences), tied swap distances and tied largest coordinates."""
    g = torch.Generator().manual_seed(seed)
    a, pos, neg = torch.randn(3, n, d, generator=g, dtype=D)
    if grid:
        a, pos, neg = torch.randint(-2, 3, (3, n, d), generator=g).to(D) / 2
    options = {"margin": margin, "p": p, "eps": eps, "swap": swap}
    loss = _differential("triplet_margin_loss", (a, pos, neg), (), options, reduction)
    if n == 0 and reduction == "mean":
        assert math.isnan(loss.item())


@given(
    n=st.integers(0, 5),
    d=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    reduction=st.sampled_from(["none", "mean", "sum"]),
    margin=st.sampled_from([0.1, 1.0, 2.0]),
    distance=st.sampled_from([None, l1, cosine_distance]),
    swap=st.booleans(),
)
def test_triplet_with_distance_matches_torch_float64(n, d, seed, reduction, margin, distance, swap):
    g = torch.Generator().manual_seed(seed)
    a, pos, neg = torch.randn(3, n, d, generator=g, dtype=D)
    options = {"distance_function": distance, "margin": margin, "swap": swap}
    loss = _differential("triplet_margin_with_distance_loss", (a, pos, neg), (), options, reduction)
    if n == 0 and reduction == "mean":
        assert math.isnan(loss.item())
