"""gaussian_nll_loss and poisson_nll_loss: torch 2.13's semantics established against its functions
(the variance clamp's gradient, the shapes of var, var as a number, full, log_input, eps, the Stirling
term), lossref's differences (shapes, messages), hand values and the exact oracle."""

import inspect
import math

import pytest
import torch
import torch.nn.functional as F

import lossref


def gaussian_grads(fn, x, t, var, **kw):
    leaves = [x.clone().requires_grad_(True), t.clone().requires_grad_(True)]
    if isinstance(var, torch.Tensor):
        leaves.append(var.clone().requires_grad_(True))
    loss = fn(*leaves[:2], leaves[2] if len(leaves) == 3 else var, **kw)
    return (loss.detach(), *torch.autograd.grad(loss.sum(), leaves))


def test_variance_below_eps_gets_the_gradient_at_eps_straight_through():
    """torch clamps var in place under no_grad: at var = 1e-8 < eps = 1e-6 and x - y = -1 the value
    is that at eps and d/dvar = (1/eps - 1/eps**2) / 2 = -5e11 (not the clamp's 0)."""
    x, t = torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([1.0, 1.0], dtype=torch.float64)
    var = torch.tensor([1e-8, 2.0], dtype=torch.float64)
    ours = gaussian_grads(lossref.gaussian_nll_loss, x, t, var, reduction="none")
    theirs = gaussian_grads(F.gaussian_nll_loss, x, t, var, reduction="none")
    torch.testing.assert_close(ours, theirs, rtol=1e-15, atol=0)
    eps = 1e-6
    assert ours[0][0].item() == pytest.approx(0.5 * (math.log(eps) + 1 / eps), rel=1e-15)
    assert ours[3][0].item() == pytest.approx(0.5 * (1 / eps - 1 / eps**2), rel=1e-12)
    assert ours[3][0].item() == pytest.approx(-5e11, rel=1e-5)


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)], ids=str)
def test_every_variance_shape_torch_accepts(var_shape, reduction, full):
    g = torch.Generator().manual_seed(0)
    x, t = (
        torch.randn(4, 3, generator=g, dtype=torch.float64),
        torch.randn(4, 3, generator=g, dtype=torch.float64),
    )
    var = torch.rand(var_shape, generator=g, dtype=torch.float64) + 0.1
    kw = dict(full=full, reduction=reduction)
    ours = gaussian_grads(lossref.gaussian_nll_loss, x, t, var, **kw)
    theirs = gaussian_grads(F.gaussian_nll_loss, x, t, var, **kw)
    torch.testing.assert_close(ours, theirs, rtol=1e-14, atol=1e-15)


def test_one_variance_for_a_vector_input():
    """An (N,) input takes a 0-dimensional var (the input's shape without its last dimension) or (1,)."""
    x, t = torch.tensor([0.0, 1.0, 3.0]), torch.tensor([1.0, 1.0, 1.0])
    for var in (torch.tensor(2.0), torch.tensor([2.0])):
        torch.testing.assert_close(lossref.gaussian_nll_loss(x, t, var), F.gaussian_nll_loss(x, t, var))


@pytest.mark.parametrize("var", [0.5, 2.0, 0.0])
def test_var_as_a_number(var):
    """torch 2.13 accepts a Python float (and 0.0, clamped to eps); lossref also an int."""
    x, t = torch.tensor([0.0, 1.0, 3.0]), torch.tensor([1.0, 1.0, 1.0])
    torch.testing.assert_close(lossref.gaussian_nll_loss(x, t, var), F.gaussian_nll_loss(x, t, var))
    with pytest.raises(TypeError):
        F.gaussian_nll_loss(x, t, 2)
    torch.testing.assert_close(lossref.gaussian_nll_loss(x, t, 2), F.gaussian_nll_loss(x, t, 2.0))


@pytest.mark.parametrize("var_shape", [(1, 1), (), (3,), (1,), (4, 2), (2, 4, 3)], ids=str)
def test_variance_shapes_torch_refuses_are_refused_naming_them(var_shape):
    x, t = torch.zeros(4, 3), torch.zeros(4, 3)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, t, torch.ones(var_shape))
    expected = f"var of shape {var_shape} does not fit input of shape (4, 3): expected one of (4, 3), (4,)"
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        lossref.gaussian_nll_loss(x, t, torch.ones(var_shape))


def test_negative_variance_is_refused_naming_it():
    x, t = torch.zeros(3), torch.zeros(3)
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, t, torch.tensor([1.0, -0.5, 2.0]))
    with pytest.raises(
        ValueError,
        match=r"var must be non-negative \(a variance\), but 1 of 3 elements are negative \(e.g. -0.5\)",
    ):
        lossref.gaussian_nll_loss(x, t, torch.tensor([1.0, -0.5, 2.0]))
    with pytest.raises(ValueError, match=r"var must be non-negative \(a variance\), got -0.5"):
        lossref.gaussian_nll_loss(x, t, -0.5)


def test_nan_variance_gives_nan_as_torch():
    x, t, var = torch.zeros(2), torch.ones(2), torch.tensor([math.nan, 1.0])
    ours, theirs = (
        lossref.gaussian_nll_loss(x, t, var, reduction="none"),
        F.gaussian_nll_loss(x, t, var, reduction="none"),
    )
    assert torch.equal(ours.isnan(), theirs.isnan()) and ours[1] == theirs[1]


def test_target_must_have_the_input_shape():
    """torch broadcasts a (4, 1) target against a (4, 3) input silently; lossref refuses."""
    x, var = torch.zeros(4, 3), torch.ones(4, 3)
    assert F.gaussian_nll_loss(x, torch.zeros(4, 1), var, reduction="none").shape == (4, 3)
    with pytest.raises(ValueError, match=r"target must have the shape of input \(4, 3\), got \(4, 1\)"):
        lossref.gaussian_nll_loss(x, torch.zeros(4, 1), var)


def test_gaussian_hand_values():
    # var = 1: half the squared error; full adds log(2 pi) / 2
    x, t = torch.tensor([3.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    assert lossref.gaussian_nll_loss(x, t, 1.0).item() == 2.0
    assert lossref.gaussian_nll_loss(x, t, 1.0, full=True).item() == pytest.approx(
        2 + 0.5 * math.log(2 * math.pi), rel=1e-15
    )
    # var = 4: (ln 4 + 4 / 4) / 2
    assert lossref.gaussian_nll_loss(x, t, torch.tensor([4.0], dtype=torch.float64)).item() == pytest.approx(
        (math.log(4) + 1) / 2, rel=1e-15
    )


def test_gaussian_module_is_keyword_only_as_torch():
    ours, theirs = (
        inspect.signature(m).parameters.values() for m in (lossref.GaussianNLLLoss, torch.nn.GaussianNLLLoss)
    )
    assert [(p.name, p.kind, p.default) for p in ours] == [(p.name, p.kind, p.default) for p in theirs]
    module = lossref.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum")
    assert repr(module) == "GaussianNLLLoss(reduction='sum', full=True, eps=0.001)"
    x, t, var = torch.zeros(2, 3), torch.ones(2, 3), torch.tensor([1e-4, 2.0])
    theirs = torch.nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum")(x, t, var)
    torch.testing.assert_close(module(x, t, var), theirs)


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_poisson_matches_torch_value_and_both_gradients(log_input, full, reduction):
    x = torch.tensor([0.5, 0.5, 0.5, 0.5, 30.0, -3.0], dtype=torch.float64)
    x = x if log_input else x.abs()
    t = torch.tensor([0.5, 1.0, 1.5, 3.0, 2.0, 7.0], dtype=torch.float64)  # no 0: torch's NaN, below
    results = []
    for fn in (lossref.poisson_nll_loss, F.poisson_nll_loss):
        x_, t_ = x.clone().requires_grad_(True), t.clone().requires_grad_(True)
        loss = fn(x_, t_, log_input=log_input, full=full, reduction=reduction)
        results.append((loss.detach(), *torch.autograd.grad(loss.sum(), (x_, t_))))
    torch.testing.assert_close(results[0], results[1], rtol=1e-14, atol=1e-15)


def test_poisson_stirling_term_only_above_one_and_its_target_gradient_at_zero():
    """torch: the Stirling term is added where the target is > 1; its gradient at target 0 is NaN
    (the masked term's 0 * inf); lossref: 0, as the term is 0 there."""
    x = torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64)
    t = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    plain = lossref.poisson_nll_loss(x, t, reduction="none")
    full = lossref.poisson_nll_loss(x, t, full=True, reduction="none")
    assert (full - plain)[:2].tolist() == [0.0, 0.0]
    assert (full - plain)[2].item() == pytest.approx(
        2 * math.log(2) - 2 + 0.5 * math.log(4 * math.pi), rel=1e-14
    )
    grads = []
    for fn in (lossref.poisson_nll_loss, F.poisson_nll_loss):
        t_ = t.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(x, t_, full=True, reduction="sum"), t_)
        grads.append(g)
    assert grads[0][0].item() == -0.5 and math.isnan(grads[1][0])
    torch.testing.assert_close(grads[0][1:], grads[1][1:], rtol=1e-15, atol=0)


def test_poisson_hand_values():
    # log-rate 0, count 3: e^0 - 0 = 1; rate 2, count 3, eps 0: 2 - 3 ln 2
    one = torch.tensor([0.0], dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64)
    assert lossref.poisson_nll_loss(*one).item() == 1.0
    rate, count = torch.tensor([2.0], dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64)
    value = lossref.poisson_nll_loss(rate, count, log_input=False, eps=0.0).item()
    assert value == pytest.approx(2 - 3 * math.log(2), rel=1e-15)
    # eps keeps a zero rate finite: 0 - 1 * log(1e-8)
    zero = lossref.poisson_nll_loss(torch.zeros(1), torch.ones(1), log_input=False).item()
    assert zero == pytest.approx(-math.log(1e-8), rel=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_poisson_rates_match_the_oracle(dtype):
    """log_input=False (the registry's grid has log-rates) against the exact oracle."""
    import mpmath

    from lossref.registry import get

    exact = get("poisson_nll_loss").symbolic
    tol = {torch.float32: 1e-6, torch.float64: 1e-13}[dtype]
    points = [(r, y) for r in (1e-6, 0.01, 0.5, 1.0, 3.0, 100.0, 1e4) for y in (0.0, 1.0, 2.0, 5.0, 1e3)]
    x = torch.tensor([r for r, _ in points], dtype=dtype).requires_grad_(True)
    t = torch.tensor([y for _, y in points], dtype=dtype)
    loss = lossref.poisson_nll_loss(x, t, log_input=False, full=True, reduction="none")
    loss.sum().backward()
    rows = zip(x.detach().tolist(), t.tolist(), loss.detach().tolist(), x.grad.tolist(), strict=True)
    for a, b, value, grad in rows:
        e = exact.oracle(
            input=a, target=b, log_input=0.0, full=1.0, eps=float(torch.tensor(1e-8, dtype=dtype))
        )
        with mpmath.workdps(40):
            assert abs(mpmath.mpf(value) - e.value) <= tol * e.value_scale, (a, b)
            assert abs(mpmath.mpf(grad) - e.grad) <= tol * e.grad_scale, (a, b)
