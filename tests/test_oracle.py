"""Accuracy against the high-precision oracle, and the symbolic identities the book relies on.

The oracle evaluates the textbook formula of :mod:`lossref.symbolic` in mpmath at whatever precision
makes it exact; the implementation evaluates a rewritten, stable form in float32/float64. Errors are
measured relative to the exact value (for the gradient: relative to the sum of the magnitudes of its
terms, which is the gradient itself for hard targets). Results below the dtype's smallest normal
number carry no relative precision and may be flushed to zero (GPUs do), so an absolute error up to
that number is allowed: pass means ``|error| <= tol * |scale| + tiny``.
"""

import functools
import typing
from typing import Optional

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from conftest import SPECS
from torch import Tensor

from lossref.registry import LOSSES, Reference, Symbolic, get

TOL = {torch.float32: 1e-6, torch.float64: 1e-13}

_logits = [0.0, 1e-8, 1e-3, 0.5, 1, 2, 5, 10, 16, 17, 20, 30, 36.7, 40, 50, 88, 89, 100, 700, 710, 1000, 1e4]
LOGITS = sorted({float(np.float32(s * v)) for v in _logits for s in (1, -1)})
TARGETS = [float(np.float32(t)) for t in (0.0, 1.0, 0.25, 0.7, 1e-3, 1 - 2**-10)]
# outside torch's gradient clamp, max(p, 1e-12), which tests/test_bce.py checks against torch
PROBS = [float(np.float32(v)) for v in (2e-12, 1e-10, 1e-3, 0.3, 0.5, 0.9, 1 - 2**-20, 1 - 2**-24)]
# regression: residuals from 0 (ties, also at 1e4) to 2e4, on and either side of the joints |r| = 1
# (smooth L1 and Huber at their default beta = delta = 1) and of log-cosh's switch of form at |r| = 2
_predictions = [0.0, 1e-8, 1e-3, 0.5, 1 - 2**-20, 1, 1 + 2**-20, 1.5, 2, 3, 20, 100, 1e4]
PREDICTIONS = sorted({float(np.float32(s * v)) for v in _predictions for s in (1, -1)})
REGRESSION_TARGETS = [float(np.float32(t)) for t in (0.0, 1.0, -0.75, 1e-3, 2.5, 1e4)]


# class losses: three logits per sample, one large, one small and one zero
_class_logits = [0.0, 1e-6, 0.5, 3.0, 20.0, 40.0, 100.0, 1e3, 1e4]
CLASS_ROWS = [
    [float(np.float32(a)), float(np.float32(-b)), 0.0] for a in _class_logits for b in _class_logits[::2]
]


# region losses: a binary image of two pixels; the first logit runs over REGION_LOGITS, the second over a
# few partners, the targets are hard (empty, full, mixed) and soft
REGION_PARTNERS = [-20.0, -0.5, 0.0, 3.0, 40.0]
_region_logits = [0.0, 1e-3, 0.5, 2, 10, 20, 36.7, 100, 1e3, 1e4]
REGION_LOGITS = sorted({float(np.float32(s * v)) for v in _region_logits for s in (1, -1)})
REGION_TARGETS = [(1.0, 0.0), (0.0, 0.0), (1.0, 1.0), (0.25, 0.7)]
SYMBOLIC = [s for s in LOSSES if isinstance(s.oracle, Symbolic)]
REFERENCE = [s for s in SPECS if isinstance(s.oracle, Reference)]


def onehot(c):
    return tuple(1.0 if k == c else 0.0 for k in range(3))


def grid_points(spec, logits, targets, setting, rows=CLASS_ROWS):
    """The points of the grid for one of the registry's oracle settings (option values), by layout."""
    if spec.target == "region":
        points = [
            dict(input=(a, b), target=t) for a in logits for b in REGION_PARTNERS for t in REGION_TARGETS
        ]
    elif spec.target == "class indices":
        points = [dict(input=tuple(r), target=onehot(c)) for r in rows for c in range(3)]
    elif spec.domain == "probabilities":
        points = [dict(input=a, target=t) for a in PROBS for t in targets]
    else:
        points = [dict(input=a, target=t) for a in logits for t in targets]
    return [dict(pt, **setting) for pt in points]


@functools.lru_cache(maxsize=None)
def oracle_grid(name: str, setting: tuple):
    """(arguments, exact result) over the adversarial grid, at one setting (as sorted items)."""
    spec = get(name)
    inputs, targets = (PREDICTIONS, REGRESSION_TARGETS) if spec.domain == "predictions" else (LOGITS, TARGETS)
    if spec.target == "region":
        inputs = REGION_LOGITS
    inputs, targets = spec.oracle.inputs or inputs, spec.oracle.targets or targets
    return [(pt, spec.symbolic.oracle(**pt)) for pt in grid_points(spec, inputs, targets, dict(setting))]


def tensor_options(spec) -> set[str]:
    """The options the function takes as tensors (the others, such as gamma, are numbers)."""
    return {k for k, t in typing.get_type_hints(spec.function).items() if t in (Tensor, Optional[Tensor])}


def grid_tensors(spec, dtype, points):
    """The call of the loss on all points at once: input (one row per point), target and options."""
    setting = {k: v for k, v in points[0].items() if k not in ("input", "target")}  # one value per call
    if spec.target == "class indices":
        x = torch.tensor([pt["input"] for pt in points], dtype=dtype, requires_grad=True)
        target = torch.tensor([pt["target"].index(1.0) for pt in points])
        # a per-class vector (weight, alpha) as a tensor, a number (gamma) as it is
        options = {k: torch.tensor(v, dtype=dtype) if isinstance(v, tuple) else v for k, v in setting.items()}
    else:
        x = torch.tensor([pt["input"] for pt in points], dtype=dtype, requires_grad=True)
        target = torch.tensor([pt["target"] for pt in points], dtype=dtype)
        tensors = tensor_options(spec)
        options = {k: torch.full(x.shape, v, dtype=dtype) if k in tensors else v for k, v in setting.items()}
    return x, target, options


def run_lossref(spec, dtype, points):
    """The loss (reduction='none') at each point, and its gradient as a list per point."""
    x, target, options = grid_tensors(spec, dtype, points)
    loss = spec.function(x, target, reduction="none", **options, **spec.keywords)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    if spec.target == "region":  # one image per point: loss (points, 1)
        loss = loss.reshape(len(points))
    return loss.tolist(), x.grad.reshape(len(points), -1).tolist()


def relative_error(computed, exact, scale, floor):
    """|computed - exact| / max(|scale|, floor), in exact arithmetic."""
    with mpmath.workdps(40):
        return abs(mpmath.mpf(float(computed)) - exact) / max(abs(scale), floor)


def shift_limit(spec, pt, dtype):
    """The documented float32 limit of softmax losses (``lossref.log_softmax``): ``x_k - max(x)`` is
    rounded, and ``exp`` turns its absolute error into a relative one of ``|x_k - max(x)| * 2**-24``,
    raised to ``gamma`` by the focal factor. Gaps beyond 104, where ``exp`` underflows, add nothing."""
    if dtype != torch.float32 or spec.target != "class indices" or spec.domain != "logits":
        return 0.0
    top = max(pt["input"])
    gap = max((top - v for v in pt["input"] if top - v < 104), default=0.0)
    return (1 + pt.get("gamma", 0.0)) * gap * 2.0**-24


def assert_matches_oracle(spec, dtype, grid, with_shift_limit=False):
    """Every value and gradient component within TOL; ``with_shift_limit`` adds the documented float32
    shift limit of softmax losses (the dense random grid, whose large logit gaps reach it)."""
    values, grads = run_lossref(spec, dtype, [pt for pt, _ in grid])
    floor = mpmath.mpf(torch.finfo(dtype).tiny) / TOL[dtype]
    worst_value = worst_grad = (0, None)  # error / allowed error
    for (pt, exact), value, grad in zip(grid, values, grads, strict=True):
        allowed = TOL[dtype] + (shift_limit(spec, pt, dtype) if with_shift_limit else 0.0)
        err = relative_error(value, exact.value, exact.value_scale, floor) / allowed
        worst_value = max(worst_value, (err, pt), key=lambda e: e[0])
        exact_grad = exact.grad if isinstance(exact.grad, list) else [exact.grad]
        exact_scale = exact.grad_scale if isinstance(exact.grad_scale, list) else [exact.grad_scale]
        for g, e, sc in zip(grad, exact_grad, exact_scale, strict=True):
            err = relative_error(g, e, sc, floor) / allowed
            worst_grad = max(worst_grad, (err, pt), key=lambda e: e[0])
    assert worst_value[0] <= 1, f"value at {worst_value[1]}: error {worst_value[0]} times the allowed"
    assert worst_grad[0] <= 1, f"gradient at {worst_grad[1]}: error {worst_grad[0]} times the allowed"


def settings(spec, count=None):
    return [tuple(sorted(setting.items())) for setting in spec.oracle.settings[:count]]


@pytest.mark.parametrize("spec", SYMBOLIC, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_value_and_gradient_match_oracle(spec, dtype):
    for setting in settings(spec):  # one call per setting of the options
        assert_matches_oracle(spec, dtype, oracle_grid(spec.name, setting))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("spec", SYMBOLIC, ids=lambda s: s.name)
def test_dense_random_grid_matches_oracle(spec, dtype):
    """Exhaustive: random logits, log-uniform in magnitude from 1e-6 to 1e4, random targets."""
    rng = np.random.default_rng(0)
    logits = (rng.choice([-1, 1], 600) * 10 ** rng.uniform(-6, 4, 600)).astype(np.float32).tolist()
    targets = rng.uniform(0, 1, 6).astype(np.float32).tolist() + [0.0, 1.0]
    rows = [logits[i : i + 3] for i in range(0, 300, 3)]
    for setting in settings(spec, 2):
        first = logits[:100] if spec.target == "region" else logits  # x 20 partners and targets
        points = grid_points(spec, first, targets, dict(setting), rows=rows)
        grid = [(pt, spec.symbolic.oracle(**pt)) for pt in points]
        assert_matches_oracle(spec, dtype, grid, with_shift_limit=True)


@pytest.mark.parametrize("spec", REFERENCE, ids=lambda s: s.name)
@pytest.mark.parametrize("seed", [0, 1])
def test_value_and_gradient_match_reference(spec, seed):
    """Losses whose oracle is a written-out reference: the same losses (reduction='none') and the
    same gradients in every differentiable argument, in float64."""
    inputs = spec.make_inputs((3, 4, 5), seed=seed, dtype=torch.float64) if spec.target == "region" else None
    inputs = inputs or spec.make_inputs((5, 4), seed=seed, dtype=torch.float64)
    results = []
    for fn in (lambda *a: spec.function(*a, reduction="none", **spec.keywords), spec.oracle.function):
        tensors = {**inputs.args, **inputs.parameters}
        leaves = {k: v.clone().requires_grad_(True) for k, v in tensors.items() if k in spec.differentiable}
        loss = fn(*{**tensors, **leaves}.values())
        grads = torch.autograd.grad(loss.sum(), list(leaves.values()))
        results.append((loss, *grads))
    torch.testing.assert_close(results[0], results[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_torch_loses_the_confident_correct_cases(dtype):
    """The docstring's claim: torch returns 0 where the exact loss or gradient is ~4.25e-18."""
    exact = get("binary_cross_entropy_with_logits").symbolic
    x = torch.tensor([40.0, -40.0], dtype=dtype, requires_grad=True)
    y = torch.tensor([1.0, 0.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    loss.sum().backward()
    assert float(exact.oracle(input=-40.0, target=0.0).value) == pytest.approx(
        4.248354255291589e-18, rel=1e-15, abs=0
    )
    assert float(exact.oracle(input=40.0, target=1.0).grad) == pytest.approx(
        -4.248354255291589e-18, rel=1e-15, abs=0
    )
    assert loss[1].item() == 0.0 and x.grad[0].item() == 0.0


@pytest.mark.parametrize("spec", SYMBOLIC, ids=lambda s: s.name)
def test_gradient_terms_sum_to_derived_gradient(spec):
    sym = spec.symbolic
    if sym.vector_input:
        for gradient, terms in zip(sym.gradient, sym.grad_terms, strict=True):
            assert sp.simplify(gradient - sum(terms)) == 0
    else:
        assert sp.simplify(sym.gradient - sum(sym.grad_terms)) == 0


@pytest.mark.parametrize("spec", [s for s in SYMBOLIC if s.symbolic.value_terms], ids=lambda s: s.name)
def test_value_terms_sum_to_the_definition(spec):
    sym = spec.symbolic
    assert proved_zero(sym.expr - sum(sym.value_terms))


@pytest.mark.parametrize("spec", SYMBOLIC, ids=lambda s: s.name)
def test_stable_form_equals_textbook_form(spec):
    sym = spec.symbolic
    assert proved_zero(sym.expr - sym.stable)


@pytest.mark.parametrize("spec", SYMBOLIC, ids=lambda s: s.name)
def test_atlas_form_equals_definition(spec):
    """The book's textbook form (:class:`lossref.symbolic.Textbook`), a sum over the classes or
    pixels at any size, written out at the definition's size is the definition."""
    sym = spec.symbolic
    book = sym.textbook
    if sym.vector_input:  # sums at any size (in the form or its shorthands), not the definition's symbols
        written = [book.form, *(definition for _, definition in book.where)]
        assert any(e.has(sp.Sum) for e in written)
        assert not set().union(*(e.free_symbols for e in written)) & set(sym.input)
    assert proved_equal(book.written_out(book.form), sym.expr)


@pytest.mark.parametrize("spec", SYMBOLIC, ids=lambda s: s.name)
def test_atlas_gradient_equals_derivative(spec):
    """The book's gradient to check by hand, written out, is sympy's derivative of the definition
    with respect to the input (each component of a vector input)."""
    sym = spec.symbolic
    book = sym.textbook
    components = range(len(sym.input)) if sym.vector_input else [None]
    derived = sym.gradient if sym.vector_input else (sym.gradient,)
    for k, gradient in zip(components, derived, strict=True):
        assert book.written_out(book.variable, k) == (sym.input if k is None else sym.input[k])
        assert proved_equal(book.written_out(book.gradient, k), gradient)


def proved_equal(a, b):
    """proved_zero(a - b) with each power's exponent split (b**(g - 1) is b**g / b) and its base
    multiplied out: sympy does not see by itself that 1 - (p y + (1 - p)(1 - y)) is
    y (1 - p) + (1 - y) p under a symbolic power."""
    d = sp.expand_power_exp(a - b)
    return proved_zero(d.replace(sp.Pow, lambda base, exponent: sp.expand(base) ** exponent))


def proved_zero(d):
    """sympy proves d == 0: piece by piece for a Piecewise, and case by case on the sign of each |.|
    (e.g. log cosh r against its stable form in |r|; both are continuous, so r = 0 follows), with
    exponentials and logs combined."""
    d = sp.piecewise_fold(d)
    if isinstance(d, sp.Piecewise):
        return all(proved_zero(piece) for piece, _ in d.args)
    if sp.simplify(d) == 0:
        return True
    cases = [d]
    for arg in {e.args[0] for e in d.atoms(sp.Abs)}:
        cases = [sp.refine(c, sign(arg)) for c in cases for sign in (sp.Q.positive, sp.Q.negative)]
    return len(cases) > 1 and all(
        sp.simplify(sp.logcombine(c.rewrite(sp.exp), force=True)) == 0 for c in cases
    )


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
