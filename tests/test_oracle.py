"""Accuracy against the high-precision oracle, and the symbolic identities the book relies on.

The oracle evaluates the textbook formula of :mod:`lossref.symbolic` in mpmath at whatever precision
makes it exact; the implementation evaluates a rewritten, stable form in float32/float64. Errors are
measured relative to the exact value (for the gradient: relative to the sum of the magnitudes of its
terms, which is the gradient itself for hard targets). Results below the dtype's smallest normal
number carry no relative precision and may be flushed to zero (GPUs do), so an absolute error up to
that number is allowed: pass means ``|error| <= tol * |scale| + tiny``.
"""

import functools

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

from lossref.registry import LOSSES, get

TOL = {torch.float32: 1e-6, torch.float64: 1e-13}

_logits = [0.0, 1e-8, 1e-3, 0.5, 1, 2, 5, 10, 16, 17, 20, 30, 36.7, 40, 50, 88, 89, 100, 700, 710, 1000, 1e4]
LOGITS = sorted({float(np.float32(s * v)) for v in _logits for s in (1, -1)})
TARGETS = [float(np.float32(t)) for t in (0.0, 1.0, 0.25, 0.7, 1e-3, 1 - 2**-10)]
POS_WEIGHTS = [1.0, 3.0]
# outside torch's gradient clamp, max(p, 1e-12), which tests/test_bce.py checks against torch
PROBS = [float(np.float32(v)) for v in (2e-12, 1e-10, 1e-3, 0.3, 0.5, 0.9, 1 - 2**-20, 1 - 2**-24)]


def grid_points(spec, logits, targets, pos_weights=POS_WEIGHTS):
    if spec.domain == "logits":
        return [dict(input=a, target=t, pos_weight=c) for a in logits for t in targets for c in pos_weights]
    return [dict(input=a, target=t) for a in PROBS for t in targets]


@functools.lru_cache(maxsize=None)
def oracle_grid(name: str):
    """(arguments, exact result) over the adversarial grid."""
    spec = get(name)
    return [(pt, spec.symbolic.oracle(**pt)) for pt in grid_points(spec, LOGITS, TARGETS)]


def relative_errors(computed, exact, scale, floor):
    """|computed - exact| / max(|scale|, floor), in exact arithmetic."""
    with mpmath.workdps(40):
        return [
            abs(mpmath.mpf(float(c)) - e) / max(abs(s), floor)
            for c, e, s in zip(computed, exact, scale, strict=True)
        ]


def assert_matches_oracle(spec, dtype, grid):
    args = {k: torch.tensor([pt[k] for pt, _ in grid], dtype=dtype) for k in grid[0][0]}
    x = args.pop("input").requires_grad_(True)
    target = args.pop("target")
    loss = spec.function(x, target, reduction="none", **args)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    floor = mpmath.mpf(torch.finfo(dtype).tiny) / TOL[dtype]
    value_err = relative_errors(loss.tolist(), [r.value for _, r in grid], [r.value for _, r in grid], floor)
    grad_err = relative_errors(
        x.grad.tolist(), [r.grad for _, r in grid], [r.grad_scale for _, r in grid], floor
    )
    worst_value = max(range(len(grid)), key=lambda i: value_err[i])
    worst_grad = max(range(len(grid)), key=lambda i: grad_err[i])
    assert (
        value_err[worst_value] <= TOL[dtype]
    ), f"value at {grid[worst_value][0]}: rel. error {value_err[worst_value]}"
    assert (
        grad_err[worst_grad] <= TOL[dtype]
    ), f"gradient at {grid[worst_grad][0]}: rel. error {grad_err[worst_grad]}"


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_value_and_gradient_match_oracle(spec, dtype):
    assert_matches_oracle(spec, dtype, oracle_grid(spec.name))


@pytest.mark.slow
@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_dense_random_grid_matches_oracle(spec):
    """Exhaustive: 600 random logits, log-uniform in magnitude from 1e-6 to 1e4, random targets."""
    rng = np.random.default_rng(0)
    logits = (rng.choice([-1, 1], 600) * 10 ** rng.uniform(-6, 4, 600)).astype(np.float32).tolist()
    targets = rng.uniform(0, 1, 6).astype(np.float32).tolist() + [0.0, 1.0]
    points = grid_points(spec, logits, targets, [1.0, 2.5])
    grid = [(pt, spec.symbolic.oracle(**pt)) for pt in points]
    for dtype in (torch.float32, torch.float64):
        assert_matches_oracle(spec, dtype, grid)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_torch_loses_the_confident_correct_cases(dtype):
    """The docstring's claim: torch returns 0 where the exact loss or gradient is ~4.25e-18."""
    exact = get("binary_cross_entropy_with_logits").symbolic
    x = torch.tensor([40.0, -40.0], dtype=dtype, requires_grad=True)
    y = torch.tensor([1.0, 0.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    loss.sum().backward()
    assert float(exact.oracle(input=-40.0, target=0.0).value) == pytest.approx(
        4.248354255291589e-18, rel=1e-15
    )
    assert float(exact.oracle(input=40.0, target=1.0).grad) == pytest.approx(
        -4.248354255291589e-18, rel=1e-15
    )
    assert loss[1].item() == 0.0 and x.grad[0].item() == 0.0


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_gradient_terms_sum_to_derived_gradient(spec):
    sym = spec.symbolic
    assert sp.simplify(sym.gradient - sum(sym.grad_terms)) == 0


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_stable_form_equals_textbook_form(spec):
    sym = spec.symbolic
    assert sp.simplify(sym.expr - sym.stable) == 0


def test_oracle_agrees_with_a_hand_value():
    # BCE of p = 0.3 against y = 1 is -ln 0.3; its gradient is -1/0.3
    r = get("binary_cross_entropy").symbolic.oracle(input=0.3, target=1.0)
    with mpmath.workdps(30):
        assert abs(r.value + mpmath.log(mpmath.mpf(0.3))) < mpmath.mpf(10) ** -25
        assert abs(r.grad + 1 / mpmath.mpf(0.3)) < mpmath.mpf(10) ** -25


def test_oracle_rejects_unknown_arguments():
    with pytest.raises(TypeError, match=r"has no argument\(s\) \['pos_weight'\]"):
        get("binary_cross_entropy").symbolic.oracle(input=0.5, target=1.0, pos_weight=2.0)


def test_oracle_requires_arguments_without_defaults():
    with pytest.raises(TypeError, match=r"needs a value for \['target'\]"):
        get("binary_cross_entropy_with_logits").symbolic.oracle(input=0.5)
