"""Regression losses: hand-worked values, torch agreement, the piecewise joints, log-cosh at large
residuals, the quantile loss's minimiser, weights, errors, modules, and the oracle at non-default
parameters (the registry-driven tests use the defaults)."""

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import lossref
from lossref import (
    CharbonnierLoss,
    HuberLoss,
    L1Loss,
    LogCoshLoss,
    MSELoss,
    QuantileLoss,
    SmoothL1Loss,
    charbonnier_loss,
    huber_loss,
    l1_loss,
    log_cosh_loss,
    mse_loss,
    quantile_loss,
    smooth_l1_loss,
)
from lossref.registry import get

REDUCTIONS = ["none", "mean", "sum"]
LN2 = math.log(2)
F64 = torch.float64


def t64(*values):
    return torch.tensor(values, dtype=F64)


# -- values worked by hand -------------------------------------------------------------------------
# x = (1, 2, 3, -1), y = (1.5, 2, 1, 2): residuals r = x - y = (-0.5, 0, 2, -3)
X = (1.0, 2.0, 3.0, -1.0)
Y = (1.5, 2.0, 1.0, 2.0)
W = (2.0, 1.0, 0.5, 1.0)


def test_l1_hand_computed():
    x, y, w = t64(*X), t64(*Y), t64(*W)
    # |r| = 0.5, 0, 2, 3: sum 5.5, mean 5.5 / 4 = 1.375
    assert l1_loss(x, y, reduction="none").tolist() == [0.5, 0.0, 2.0, 3.0]
    assert l1_loss(x, y).item() == pytest.approx(1.375, rel=1e-15, abs=0)
    assert l1_loss(x, y, reduction="sum").item() == pytest.approx(5.5, rel=1e-15, abs=0)
    # weighted: 2 * 0.5 + 0 + 0.5 * 2 + 3 = 5; total weight 4.5; 'mean' = 5 / 4.5 (torch's rule)
    assert l1_loss(x, y, weight=w, reduction="sum").item() == pytest.approx(5.0, rel=1e-15, abs=0)
    assert l1_loss(x, y, weight=w).item() == pytest.approx(5 / 4.5, rel=1e-15, abs=0)


def test_mse_hand_computed():
    x, y, w = t64(*X), t64(*Y), t64(*W)
    # r^2 = 0.25, 0, 4, 9: sum 13.25, mean 3.3125
    assert mse_loss(x, y, reduction="none").tolist() == [0.25, 0.0, 4.0, 9.0]
    assert mse_loss(x, y).item() == pytest.approx(3.3125, rel=1e-15, abs=0)
    # weighted: 0.5 + 0 + 2 + 9 = 11.5, over the total weight 4.5
    assert mse_loss(x, y, weight=w).item() == pytest.approx(11.5 / 4.5, rel=1e-15, abs=0)


def test_smooth_l1_hand_computed():
    x, y = t64(*X), t64(*Y)
    # beta = 1: |r| = 0.5 < 1 -> 0.5^2 / 2 = 0.125; 0 -> 0; 2 -> 2 - 0.5 = 1.5; 3 -> 2.5
    assert smooth_l1_loss(x, y, reduction="none").tolist() == [0.125, 0.0, 1.5, 2.5]
    # beta = 4: all quadratic, r^2 / 8 = 0.03125, 0, 0.5, 1.125
    assert smooth_l1_loss(x, y, beta=4.0, reduction="none").tolist() == [0.03125, 0.0, 0.5, 1.125]
    # beta = 0: the L1 loss, mean 1.375
    assert smooth_l1_loss(x, y, beta=0.0).item() == pytest.approx(1.375, rel=1e-15, abs=0)


def test_huber_hand_computed():
    x, y, w = t64(*X), t64(*Y), t64(*W)
    # delta = 1: the smooth L1 values at beta = 1
    assert huber_loss(x, y, reduction="none").tolist() == [0.125, 0.0, 1.5, 2.5]
    # delta = 2.5: 0.125, 0, 2^2 / 2 = 2, 2.5 (3 - 1.25) = 4.375
    assert huber_loss(x, y, delta=2.5, reduction="none").tolist() == [0.125, 0.0, 2.0, 4.375]
    # weighted at delta = 1: 2 * 0.125 + 0 + 0.5 * 1.5 + 2.5 = 3.5; 'mean' divides by 4 elements
    assert huber_loss(x, y, weight=w).item() == pytest.approx(3.5 / 4, rel=1e-15, abs=0)


def test_log_cosh_hand_computed():
    # log cosh 0 = 0; log cosh(ln 3) = log((3 + 1/3) / 2) = log(5/3); its gradient tanh(ln 3) = 0.8;
    # log cosh(-1e4) = 1e4 - ln 2 (to double precision: e^-2e4 is far below 2^-52)
    x = t64(0.0, math.log(3), -1e4).requires_grad_(True)
    loss = log_cosh_loss(x, torch.zeros(3, dtype=F64), reduction="none")
    assert loss.tolist() == pytest.approx([0.0, math.log(5 / 3), 1e4 - LN2], rel=1e-15, abs=0)
    loss.sum().backward()
    assert x.grad.tolist() == pytest.approx([0.0, 0.8, -1.0], rel=1e-15, abs=0)


def test_quantile_hand_computed():
    x, y = t64(*X), t64(*Y)
    # r = y - x = 0.5, 0, -2, 3; q = 0.9: 0.9 * 0.5 = 0.45, 0, (0.9 - 1)(-2) = 0.2, 0.9 * 3 = 2.7
    assert quantile_loss(x, y, q=0.9, reduction="none").tolist() == pytest.approx(
        [0.45, 0.0, 0.2, 2.7], rel=1e-15, abs=0
    )
    # q = 0.5: half the absolute error, 0.25, 0, 1, 1.5
    assert quantile_loss(x, y, reduction="none").tolist() == [0.25, 0.0, 1.0, 1.5]


def test_charbonnier_hand_computed():
    x, y = t64(*X), t64(*Y)
    # eps = 1.5: sqrt(0.25 + 2.25), sqrt(0 + 2.25) = 1.5, sqrt(4 + 2.25) = 2.5, sqrt(9 + 2.25)
    expected = [math.sqrt(2.5), 1.5, 2.5, math.sqrt(11.25)]
    assert charbonnier_loss(x, y, eps=1.5, reduction="none").tolist() == pytest.approx(
        expected, rel=1e-15, abs=0
    )
    # the default eps = 1e-3 is not subtracted: a perfect prediction costs eps
    assert charbonnier_loss(t64(2.0), t64(2.0)).item() == 1e-3


@pytest.mark.parametrize(
    "function, expected",
    [
        # d/dx at r = -0.5, 0, 2, -3 (x - y); sign(0) = 0 for the kinks
        (l1_loss, [-1.0, 0.0, 1.0, -1.0]),
        (mse_loss, [-1.0, 0.0, 4.0, -6.0]),
        (smooth_l1_loss, [-0.5, 0.0, 1.0, -1.0]),
        (huber_loss, [-0.5, 0.0, 1.0, -1.0]),
        # pinball, q = 0.5: d/dx of max(r'/2, -r'/2), r' = y - x: sign(x - y) / 2, and 0 at the tie
        (quantile_loss, [-0.5, 0.0, 0.5, -0.5]),
    ],
)
def test_gradients_hand_computed(function, expected):
    x = t64(*X).requires_grad_(True)
    function(x, t64(*Y), reduction="sum").backward()
    assert x.grad.tolist() == expected


def test_quantile_gradient_at_a_tie_is_the_middle_of_the_subdifferential():
    # r = y - x = 0: the subdifferential w.r.t. x is [-q, 1 - q]; its middle is 1/2 - q
    x = t64(1.0, 1.0, 1.0).requires_grad_(True)
    quantile_loss(x, t64(1.0, 2.0, 0.0), q=0.8, reduction="sum").backward()
    assert x.grad.tolist() == pytest.approx([0.5 - 0.8, -0.8, 0.2], rel=1e-15, abs=0)


# -- torch agreement ----------------------------------------------------------------------------------


@st.composite
def problems(draw):
    """Input, target and a weight of any shape that broadcasts to theirs; residuals of every size,
    with exact ties."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=3)))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    target = 3 * torch.randn(shape, generator=g, dtype=F64)
    residual = torch.randn(shape, generator=g, dtype=F64) * 10 ** (4 * torch.rand(shape, generator=g) - 2)
    residual = torch.where(torch.rand(shape, generator=g) < 0.2, 0.0, residual)
    keep = draw(st.integers(0, len(shape)))
    wshape = tuple(d if draw(st.booleans()) else 1 for d in shape[len(shape) - keep :])
    weight = torch.rand(wshape, generator=g, dtype=F64) * 2 if draw(st.booleans()) else None
    return target + residual, target, weight, draw(st.sampled_from(REDUCTIONS))


def assert_same_as_torch(ours, ref, x, target, options, ref_options=None):
    """Value and the gradients w.r.t. input and target (and weight) equal torch's."""
    ref_options = options if ref_options is None else ref_options
    args = [x.clone().requires_grad_(True), target.clone().requires_grad_(True)]
    ref_args = [x.clone().requires_grad_(True), target.clone().requires_grad_(True)]
    a, b = ours(*args, **options), ref(*ref_args, **ref_options)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-300)
    a.sum().backward()
    b.sum().backward()
    for u, v in zip(args, ref_args, strict=True):
        torch.testing.assert_close(u.grad, v.grad, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(
    "name, parameters",
    [("l1_loss", {}), ("mse_loss", {}), ("huber_loss", {"delta": 0.25}), ("huber_loss", {"delta": 3.0})],
)
@given(problem=problems())
def test_weighted_losses_match_torch(name, parameters, problem):
    x, target, weight, reduction = problem
    options = {"reduction": reduction, "weight": weight, **parameters}
    # torch needs the weight in the input's full shape; lossref broadcasts it
    ref_options = dict(options, weight=None if weight is None else weight.expand(x.shape))
    assert_same_as_torch(getattr(lossref, name), getattr(F, name), x, target, options, ref_options)


@given(problem=problems(), beta=st.sampled_from([0.0, 1e-3, 0.25, 1.0, 3.0]))
def test_smooth_l1_matches_torch(problem, beta):
    x, target, _, reduction = problem
    options = {"reduction": reduction, "beta": beta}
    assert_same_as_torch(smooth_l1_loss, F.smooth_l1_loss, x, target, options)


def test_weight_gradient_matches_torch():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 3, generator=g, dtype=F64), torch.randn(4, 3, generator=g, dtype=F64)
    for name in ["l1_loss", "mse_loss", "huber_loss"]:
        w = torch.rand(4, 3, generator=g, dtype=F64).requires_grad_(True)
        w_ref = w.detach().clone().requires_grad_(True)
        getattr(lossref, name)(x, y, weight=w).backward()
        getattr(F, name)(x, y, weight=w_ref).backward()
        torch.testing.assert_close(w.grad, w_ref.grad, rtol=1e-13, atol=0)


def test_weighted_mean_normalisation_differs_between_losses_as_in_torch():
    # the evidence for the documented rule: l1/mse divide by the total weight, huber by the count
    x, y, w = t64(1.0, 3.0), t64(0.0, 0.0), t64(1.0, 3.0)
    # |r| = 1, 3 (both in Huber's linear part at delta = 0.5): l1 (1 + 9) / 4
    assert F.l1_loss(x, y, weight=w).item() == l1_loss(x, y, weight=w).item() == 2.5
    # huber at delta = 0.5: 0.5 (1 - 0.25) = 0.375, 0.5 (3 - 0.25) = 1.375; (0.375 + 3 * 1.375) / 2
    assert F.huber_loss(x, y, delta=0.5, weight=w).item() == huber_loss(x, y, delta=0.5, weight=w).item()
    assert huber_loss(x, y, delta=0.5, weight=w).item() == pytest.approx(2.25, rel=1e-15, abs=0)


def test_zero_total_weight_gives_nan_like_torch():
    x, y, w = t64(1.0, 2.0), t64(0.0, 0.0), t64(0.0, 0.0)
    assert math.isnan(l1_loss(x, y, weight=w).item()) and math.isnan(F.l1_loss(x, y, weight=w).item())
    assert math.isnan(mse_loss(x, y, weight=w).item()) and math.isnan(F.mse_loss(x, y, weight=w).item())
    assert huber_loss(x, y, weight=w).item() == F.huber_loss(x, y, weight=w).item() == 0.0


def test_broadcast_weight_mean_divides_by_the_broadcast_total():
    # a (3,) weight on a (2, 3) input counts twice: total weight 2 * (1 + 2 + 3) = 12
    x, y, w = torch.ones(2, 3, dtype=F64), torch.zeros(2, 3, dtype=F64), t64(1.0, 2.0, 3.0)
    assert l1_loss(x, y, weight=w).item() == pytest.approx(12 / 12, rel=1e-15, abs=0)
    assert mse_loss(x, y, weight=w, reduction="sum").item() == 12.0


# -- smooth L1 at beta = 0, the Huber identity, the joints ---------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=str)
def test_smooth_l1_with_beta_zero_is_l1_with_finite_gradients(dtype):
    # exact ties included: the textbook r^2 / (2 beta) branch would give 0 * inf = NaN
    x = torch.tensor([0.0, 1.0, -2.0, 0.5, 1e-30, 0.0], dtype=dtype)
    y = torch.tensor([0.0, 1.0, 1.0, -0.5, 0.0, 3.0], dtype=dtype)
    grads = []
    for f, kw in [(smooth_l1_loss, {"beta": 0.0}), (l1_loss, {}), (F.smooth_l1_loss, {"beta": 0.0})]:
        xg = x.clone().requires_grad_(True)
        loss = f(xg, y, reduction="none", **kw)
        loss.sum().backward()
        assert torch.isfinite(xg.grad).all()
        grads.append((loss.detach(), xg.grad))
    for loss, grad in grads[1:]:
        assert torch.equal(grads[0][0], loss) and torch.equal(grads[0][1], grad)
    assert grads[0][1].tolist() == [0.0, 0.0, -1.0, 1.0, 1.0, -1.0]


def test_smooth_l1_beta_zero_second_derivative_is_finite():
    x = t64(0.0, 1.0).requires_grad_(True)
    loss = smooth_l1_loss(x, t64(0.0, 0.0), beta=0.0, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x, create_graph=True)
    (hess,) = torch.autograd.grad(grad.sum(), x, allow_unused=True, materialize_grads=True)
    assert torch.isfinite(hess).all()


@pytest.mark.parametrize("delta", [1e-3, 0.3, 1.0, 2.5, 1e3])
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=str)
def test_huber_is_delta_times_smooth_l1(delta, dtype):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200, generator=g, dtype=dtype) * 10 ** (6 * torch.rand(200, generator=g, dtype=dtype) - 3)
    y = torch.zeros_like(x)
    huber = huber_loss(x, y, delta=delta, reduction="none")
    scaled = delta * smooth_l1_loss(x, y, beta=delta, reduction="none")
    # the same formula up to a division and a multiplication by delta: two roundings
    torch.testing.assert_close(huber, scaled, rtol=3 * torch.finfo(dtype).eps, atol=0)


def near(points, offsets):
    return [p + o for p in points for o in offsets]


@pytest.mark.parametrize(
    "function, options, joints",
    [
        (smooth_l1_loss, {"beta": 0.5}, [-0.5, 0.5]),
        (smooth_l1_loss, {"beta": 0.0}, [0.0]),
        (huber_loss, {"delta": 2.0}, [-2.0, 2.0]),
        (huber_loss, {"delta": 2.0, "weight": torch.full((8,), 1.5, dtype=F64)}, [-2.0, 2.0]),
        (l1_loss, {}, [0.0]),
        (quantile_loss, {"q": 0.2}, [0.0]),
        (log_cosh_loss, {}, [-2.0, 2.0]),  # where the implementation switches form
        (charbonnier_loss, {"eps": 1e-2}, [0.0]),
    ],
)
def test_gradcheck_near_the_joints(function, options, joints):
    # residuals 1e-4 either side of each joint: the finite differences (step 1e-6) never straddle it
    x = t64(*near(joints, [-1e-4, 1e-4]))
    x = torch.cat([x, x.new_zeros(8 - x.numel()) + 0.7]) if x.numel() < 8 else x
    y = torch.zeros_like(x).requires_grad_(True)
    x.requires_grad_(True)

    def f(x, y):
        return function(x, y, reduction="sum", **options)

    assert torch.autograd.gradcheck(f, (x, y))
    assert torch.autograd.gradgradcheck(f, (x, y))


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_smooth_l1_is_continuous_at_the_joint(beta):
    x = torch.tensor([beta, math.nextafter(beta, 0), math.nextafter(beta, math.inf)], dtype=F64)
    x.requires_grad_(True)
    loss = smooth_l1_loss(x, torch.zeros(3, dtype=F64), beta=beta, reduction="none")
    loss.sum().backward()
    assert loss.tolist() == pytest.approx([beta / 2] * 3, rel=1e-15, abs=0)
    assert x.grad.tolist() == pytest.approx([1.0] * 3, rel=1e-15, abs=0)


# -- log-cosh at large residuals ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=str)
def test_log_cosh_at_large_residuals_is_abs_minus_ln2(dtype):
    r = torch.tensor([1e4, -1e4, 1e30, -3e38 if dtype == torch.float32 else -1e300], dtype=dtype)
    x = r.clone().requires_grad_(True)
    loss = log_cosh_loss(x, torch.zeros_like(r), reduction="none")
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    naive = torch.log(torch.cosh(r))
    assert torch.isinf(naive[:2]).all()  # what the textbook formula gives
    expected = (r.abs() - LN2).tolist()  # exact to far below the dtype's precision at |r| >= 1e4
    eps = torch.finfo(dtype).eps
    assert loss.tolist() == pytest.approx(expected, rel=eps, abs=0)
    assert x.grad.tolist() == [1.0, -1.0, 1.0, -1.0]


def test_log_cosh_is_half_the_square_for_tiny_residuals():
    # log cosh r = r^2 / 2 - r^4 / 12 + ...: relative error r^2 / 6 of r^2 / 2, below 1e-16 at r <= 1e-8
    r = torch.tensor([1e-8, -3e-10, 1e-20], dtype=F64)
    assert log_cosh_loss(r, torch.zeros(3, dtype=F64), reduction="none").tolist() == pytest.approx(
        (r**2 / 2).tolist(), rel=1e-15, abs=0
    )


# -- the quantile loss's minimiser ----------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.1, 0.25, 0.5, 0.9])
def test_quantile_loss_is_minimised_by_the_sample_quantile(q):
    # 101 samples: q * (101 - 1) is an integer, so torch.quantile is an order statistic (no
    # interpolation), the unique minimiser of the mean pinball loss over constant predictions
    y = torch.randn(101, generator=torch.Generator().manual_seed(3), dtype=F64)
    # the mean loss of a constant c is convex and piecewise linear with kinks at the samples: its
    # minimum over all c is at one of them
    candidates = y.clone()
    losses = torch.stack([quantile_loss(c.expand(101), y, q=q) for c in candidates])
    best = candidates[losses.argmin()]
    assert best.item() == torch.quantile(y, q).item()
    # and the slope of the mean loss changes sign there: down just left of it, up just right
    for side, sign in [(-1e-9, -1.0), (1e-9, 1.0)]:
        c = (best + side).reshape(1).requires_grad_(True)
        quantile_loss(c.expand(101), y, q=q).backward()
        assert math.copysign(1.0, c.grad.item()) == sign


# -- errors ---------------------------------------------------------------------------------------------

X3, Y3 = torch.ones(3), torch.zeros(3)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: smooth_l1_loss(X3, Y3, beta=-0.5), ValueError, r"beta must be >= 0 .*, got -0.5"),
        (lambda: smooth_l1_loss(X3, Y3, beta=math.nan), ValueError, r"beta must be >= 0 .*, got nan"),
        (lambda: huber_loss(X3, Y3, delta=0.0), ValueError, r"delta must be > 0, got 0.0"),
        (lambda: huber_loss(X3, Y3, delta=-1.0), ValueError, r"delta must be > 0, got -1.0"),
        (lambda: quantile_loss(X3, Y3, q=0.0), ValueError, r"q must be in \(0, 1\) .*, got 0.0"),
        (lambda: quantile_loss(X3, Y3, q=1.0), ValueError, r"q must be in \(0, 1\) .*, got 1.0"),
        (lambda: quantile_loss(X3, Y3, q=1.5), ValueError, r"q must be in \(0, 1\) .*, got 1.5"),
        (lambda: charbonnier_loss(X3, Y3, eps=0.0), ValueError, r"eps must be > 0, got 0.0"),
        (lambda: charbonnier_loss(X3, Y3, eps=-1e-3), ValueError, r"eps must be > 0, got -0.001"),
        (lambda: SmoothL1Loss(beta=-1.0), ValueError, r"beta must be >= 0 .*, got -1.0"),
        (lambda: HuberLoss(delta=0.0), ValueError, r"delta must be > 0, got 0.0"),
        (lambda: QuantileLoss(q=2.0), ValueError, r"q must be in \(0, 1\) .*, got 2.0"),
        (lambda: CharbonnierLoss(eps=0.0), ValueError, r"eps must be > 0, got 0.0"),
        (lambda: LogCoshLoss(reduction="avg"), ValueError, r"reduction must be one of .* got 'avg'"),
        (lambda: quantile_loss(X3, Y3, reduction="median"), ValueError, r"reduction must be .* got 'median'"),
        (
            lambda: mse_loss(torch.arange(3), Y3),
            TypeError,
            r"input must have a floating-point dtype, got torch.int64; convert it with input.float\(\)",
        ),
        (
            lambda: log_cosh_loss(X3, torch.zeros(3, dtype=torch.int32)),
            TypeError,
            r"target must have a floating-point dtype, got torch.int32",
        ),
        (
            lambda: l1_loss(X3, Y3.double()),
            TypeError,
            r"target has dtype torch.float64 but input has dtype torch.float32",
        ),
    ],
)
def test_rejects_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("function", [l1_loss, mse_loss, smooth_l1_loss, huber_loss, log_cosh_loss])
def test_column_prediction_against_flat_target_is_an_error(function):
    # torch warns and broadcasts (8, 1) against (8,) to (8, 8): every prediction against every target
    x, y = torch.randn(8, 1), torch.randn(8)
    torch_function = getattr(F, function.__name__, None)
    if torch_function is not None:
        with pytest.warns(UserWarning, match="Using a target size .* different to the input size"):
            assert torch_function(x, y, reduction="none").shape == (8, 8)
    with pytest.raises(
        ValueError,
        match=r"target must have the shape of input \(8, 1\), got \(8,\); .* target.view_as\(input\)",
    ):
        function(x, y)


def test_shape_errors_say_what_broadcasting_would_do():
    expected = r"\(4, 1\), got \(3,\); broadcasting them would give shape \(4, 3\), pairing elements"
    with pytest.raises(ValueError, match=expected):
        quantile_loss(torch.ones(4, 1), torch.ones(3))
    with pytest.raises(ValueError, match=r"input \(4, 3\), got \(3,\); .* pass target.expand_as\(input\)"):
        charbonnier_loss(torch.ones(4, 3), torch.ones(3))
    with pytest.raises(ValueError, match=r"input \(4, 3\), got \(2,\)$"):
        mse_loss(torch.ones(4, 3), torch.ones(2))


def test_weight_must_broadcast_to_the_input():
    expected = r"weight of shape \(2,\) cannot be broadcast to the input's shape \(4, 3\)"
    with pytest.raises(ValueError, match=expected):
        huber_loss(torch.ones(4, 3), torch.zeros(4, 3), weight=torch.ones(2))


# -- modules ----------------------------------------------------------------------------------------------

MODULE_CASES = [
    (L1Loss, l1_loss, {}),
    (MSELoss, mse_loss, {}),
    (SmoothL1Loss, smooth_l1_loss, {"beta": 0.3}),
    (SmoothL1Loss, smooth_l1_loss, {"beta": 0.0}),
    (HuberLoss, huber_loss, {"delta": 2.5}),
    (LogCoshLoss, log_cosh_loss, {}),
    (QuantileLoss, quantile_loss, {"q": 0.8}),
    (CharbonnierLoss, charbonnier_loss, {"eps": 0.1}),
]


@pytest.mark.parametrize("module, function, options", MODULE_CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_equals_function(module, function, options, reduction):
    g = torch.Generator().manual_seed(5)
    x, y = 3 * torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    torch.testing.assert_close(
        module(reduction=reduction, **options)(x, y),
        function(x, y, reduction=reduction, **options),
        rtol=0,
        atol=0,
    )


@pytest.mark.parametrize(
    "module, function, options", [c for c in MODULE_CASES if c[0] in (L1Loss, MSELoss, HuberLoss)]
)
def test_module_weight_is_a_buffer(module, function, options):
    w = torch.tensor([1.0, 2.0, 0.5, 3.0])
    criterion = module(weight=w, **options)
    assert set(criterion.state_dict()) == {"weight"}
    x, y = torch.randn(6, 4), torch.randn(6, 4)
    torch.testing.assert_close(criterion(x, y), function(x, y, weight=w, **options), rtol=0, atol=0)
    double = criterion.to(F64)
    assert double.weight.dtype == F64 and double(x.double(), y.double()).dtype == F64


def test_modules_without_weight_have_no_state_and_show_their_parameters():
    assert SmoothL1Loss().state_dict() == {} and L1Loss().weight is None
    assert repr(SmoothL1Loss(beta=0.5)) == "SmoothL1Loss(reduction='mean', beta=0.5)"
    assert repr(HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"
    assert repr(QuantileLoss(q=0.9)) == "QuantileLoss(q=0.9, reduction='mean')"
    assert repr(CharbonnierLoss()) == "CharbonnierLoss(eps=0.001, reduction='mean')"


def test_modules_are_drop_in_for_torch_constructors():
    # torch's keyword arguments are accepted as they are (positional ones and the deprecated
    # size_average/reduce: tests/test_drop_in.py)
    x, y = torch.randn(5), torch.randn(5)
    for ours, theirs, kw in [
        (L1Loss, torch.nn.L1Loss, {"reduction": "sum"}),
        (MSELoss, torch.nn.MSELoss, {"reduction": "none"}),
        (SmoothL1Loss, torch.nn.SmoothL1Loss, {"reduction": "mean", "beta": 0.5}),
        (HuberLoss, torch.nn.HuberLoss, {"reduction": "sum", "delta": 0.5}),
    ]:
        torch.testing.assert_close(ours(**kw)(x, y), theirs(**kw)(x, y))


# -- the oracle at parameters other than the defaults ------------------------------------------------------

ORACLE_CASES = [
    ("smooth_l1_loss", "beta", [0.0, 0.25, 3.0]),
    ("huber_loss", "delta", [0.25, 3.0]),
    ("quantile_loss", "q", [0.05, 0.9]),
    ("charbonnier_loss", "eps", [1e-6, 0.5]),
]
RESIDUAL_INPUTS = [0.0, 1e-7, -1e-3, 0.2, -0.25, 0.26, 1.0, -3.0, 3.0001, 17.0, -1e4]


@pytest.mark.parametrize("name, parameter, values", ORACLE_CASES)
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=str)
def test_matches_oracle_at_other_parameters(name, parameter, values, dtype):
    spec, tol = get(name), {torch.float32: 1e-6, F64: 1e-13}[dtype]
    inputs = [float(torch.tensor(v, dtype=torch.float32)) for v in RESIDUAL_INPUTS]
    for value in values:
        x = torch.tensor(inputs, dtype=dtype, requires_grad=True)
        loss = spec.function(x, torch.zeros_like(x), reduction="none", **{parameter: value})
        loss.sum().backward()
        for a, v, g in zip(inputs, loss.tolist(), x.grad.tolist(), strict=True):
            exact = spec.symbolic.oracle(input=a, target=0.0, **{parameter: value})
            floor = mpmath.mpf(torch.finfo(dtype).tiny) / tol
            with mpmath.workdps(40):
                assert abs(mpmath.mpf(v) - exact.value) <= tol * max(abs(exact.value), floor), (value, a)
                assert abs(mpmath.mpf(g) - exact.grad) <= tol * max(abs(exact.grad_scale), floor), (value, a)


# -- the autograd.Function: derivative from the forward, the other paths -----------------------------

ALL_LOSSES = [l1_loss, mse_loss, smooth_l1_loss, huber_loss, log_cosh_loss, quantile_loss, charbonnier_loss]
WEIGHTED = {l1_loss, mse_loss, huber_loss}


def _residual_problem(dtype=F64):
    g = torch.Generator().manual_seed(5)
    y = torch.randn(6, 5, generator=g, dtype=dtype)
    r = torch.randn(6, 5, generator=g, dtype=dtype) * 10 ** (
        4 * torch.rand(6, 5, generator=g, dtype=dtype) - 2
    )
    r[0, :2] = 0.0  # ties
    return y + r, y, 0.5 + torch.rand(5, generator=g, dtype=dtype)


@pytest.mark.parametrize("function", ALL_LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_fast_paths_agree_with_each_other(function, reduction, weighted):
    """The value without autograd, with it, and the gradient computed twice (retain_graph: the saved
    derivative is not modified), with respect to input only, target only, and both."""
    if weighted and function not in WEIGHTED:
        pytest.skip("no weight")
    x, y, w = _residual_problem()
    kw = {"reduction": reduction, **({"weight": w} if weighted else {})}
    plain = function(x, y, **kw)
    xg, yg = x.clone().requires_grad_(True), y.clone().requires_grad_(True)
    loss = function(xg, yg, **kw)
    torch.testing.assert_close(loss.detach(), plain, rtol=0, atol=0)
    seed = torch.rand_like(loss)
    first = torch.autograd.grad(loss, (xg, yg), seed, retain_graph=True)
    second = torch.autograd.grad(loss, (xg, yg), seed)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
    torch.testing.assert_close(first[1], -first[0], rtol=0, atol=0)
    (only_y,) = torch.autograd.grad(function(x, yg, **kw), yg, seed)
    torch.testing.assert_close(only_y, first[1], rtol=0, atol=0)
    # the differentiable gradient (create_graph) is the same number
    (graph_x,) = torch.autograd.grad(function(xg, y, **kw), xg, seed, create_graph=True)
    torch.testing.assert_close(graph_x, first[0], rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("function", ALL_LOSSES, ids=lambda f: f.__name__)
def test_backward_of_an_empty_mean(function):
    x = torch.zeros(0, 3, dtype=F64, requires_grad=True)
    loss = function(x, torch.zeros(0, 3, dtype=F64))
    assert torch.isnan(loss)
    loss.backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=str)
def test_log_cosh_is_continuous_and_smooth_where_it_turns_linear(dtype):
    # beyond |r| = 80 the implementation adds |r| - 80 to log cosh(80)
    r = torch.tensor([79.99, 80.0, 80.01, 1e3, 3e38 if dtype == torch.float32 else 1e300], dtype=dtype)
    for sign in (1, -1):
        x = (sign * r).requires_grad_(True)
        loss = log_cosh_loss(x, torch.zeros_like(x), reduction="none")
        loss.sum().backward()
        assert torch.isfinite(loss).all()
        expected = r.double() - LN2
        torch.testing.assert_close(loss.double(), expected, rtol=torch.finfo(dtype).eps, atol=0)
        assert x.grad.tolist() == [float(sign)] * 5
    x = t64(79.9999, 80.0001, -79.9999, -80.0001, 5.0, 0.1).requires_grad_(True)
    y = torch.zeros_like(x).requires_grad_(True)
    f = lambda x, y: log_cosh_loss(x, y, reduction="sum")  # noqa: E731
    assert torch.autograd.gradcheck(f, (x, y))
    assert torch.autograd.gradgradcheck(f, (x, y))


def test_log_cosh_float16_does_not_overflow():
    r = torch.tensor([0.0, 1e-3, 0.5, 5.0, 11.0, 20.0, 1000.0, 60000.0], dtype=torch.float16)
    loss = log_cosh_loss(r, torch.zeros_like(r), reduction="none")
    exact = [float(mpmath.log(mpmath.cosh(mpmath.mpf(float(v))))) for v in r.tolist()]
    # 1e-3: the value 5e-7 is subnormal in float16 (spacing 6e-8)
    torch.testing.assert_close(loss.double(), torch.tensor(exact, dtype=F64), rtol=2e-3, atol=6e-8)


def test_second_derivatives_stay_finite_at_large_residuals():
    x = torch.tensor([-1e4, -60.0, -3.0, 0.5, 60.0, 1e4], requires_grad=True)
    for function in ALL_LOSSES:
        (grad,) = torch.autograd.grad(function(x, torch.zeros_like(x), reduction="sum"), x, create_graph=True)
        (hess,) = torch.autograd.grad(grad.sum(), x, allow_unused=True, materialize_grads=True)
        assert torch.isfinite(grad).all() and torch.isfinite(hess).all(), function.__name__


def test_quantile_loss_of_an_infinite_residual_is_infinite():
    x = torch.tensor([math.inf, -math.inf])
    assert quantile_loss(x, torch.zeros(2), q=0.3, reduction="none").tolist() == [math.inf, math.inf]


@pytest.mark.parametrize(
    "name, parameter, divided", [("huber_loss", "delta", False), ("smooth_l1_loss", "beta", True)]
)
@pytest.mark.parametrize("size", [0.5, 2.0])
def test_second_derivative_at_the_joint_takes_the_quadratic_side_unlike_torch(name, parameter, divided, size):
    """The documented difference: at |r| = delta (beta) exactly, lossref's second derivative is the
    quadratic part's (1, or 1 / beta for smooth L1), torch's the linear part's, 0."""
    curvature = 1.0 / size if divided else 1.0
    for r, ours_expected, torch_expected in ((size, curvature, 0.0), (-size, curvature, 0.0)):
        for fn, expected in ((getattr(lossref, name), ours_expected), (getattr(F, name), torch_expected)):
            x = torch.tensor([r], dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(
                fn(x, torch.zeros(1, dtype=torch.float64), **{parameter: size}), x, create_graph=True
            )
            (h,) = torch.autograd.grad(g.sum(), x)
            assert h.item() == expected
