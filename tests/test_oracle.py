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
# focal loss: (alpha, gamma), fractional gamma included
FOCAL_SETTINGS = [(0.25, 2.0), (0.5, 0.5), (1.0, 0.0), (0.75, 1.5)]
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
CLASS_WEIGHTS = [None, (1.0, 2.0, 0.5)]
# softmax focal loss: (alpha, gamma), fractional gamma included
SOFTMAX_FOCAL_SETTINGS = [(None, 2.0), ((1.0, 2.0, 0.5), 0.5), ((1.0, 2.0, 0.5), 1.5)]


# region losses: a binary image of two pixels; the first logit runs over REGION_LOGITS, the second over a
# few partners, the targets are hard (empty, full, mixed) and soft
REGION_PARTNERS = [-20.0, -0.5, 0.0, 3.0, 40.0]
_region_logits = [0.0, 1e-3, 0.5, 2, 10, 20, 36.7, 100, 1e3, 1e4]
REGION_LOGITS = sorted({float(np.float32(s * v)) for v in _region_logits for s in (1, -1)})
REGION_TARGETS = [(1.0, 0.0), (0.0, 0.0), (1.0, 1.0), (0.25, 0.7)]
NO_SYMBOLIC = [s for s in LOSSES if s.symbolic_name is None]


def with_symbolic(spec):
    """Skip, with the registry's stated reason, a loss the oracle machinery does not fit."""
    if spec.symbolic_name is None:
        pytest.skip(f"{spec.name}: {spec.no_symbolic}")


def onehot(c):
    return tuple(1.0 if k == c else 0.0 for k in range(3))


def grid_points(spec, logits, targets, pos_weights=POS_WEIGHTS, rows=CLASS_ROWS, weight=None):
    if spec.target == "region":
        return [dict(input=(a, b), target=t) for a in logits for b in REGION_PARTNERS for t in REGION_TARGETS]
    if spec.name == "softmax_focal_loss":
        alpha, gamma = weight
        extra = {"gamma": gamma} if alpha is None else {"alpha": alpha, "gamma": gamma}
        return [dict(input=tuple(r), target=onehot(c), **extra) for r in rows for c in range(3)]
    if spec.target == "class indices":
        extra = {} if weight is None else {"weight": weight}
        return [dict(input=tuple(r), target=onehot(c), **extra) for r in rows for c in range(3)]
    if spec.name == "sigmoid_focal_loss":
        return [
            dict(input=a, target=t, alpha=al, gamma=ga) for a in logits for t in targets for al, ga in weight
        ]
    if spec.domain == "predictions":
        return [dict(input=a, target=t) for a in logits for t in targets]
    if spec.domain == "logits":
        return [dict(input=a, target=t, pos_weight=c) for a in logits for t in targets for c in pos_weights]
    return [dict(input=a, target=t) for a in PROBS for t in targets]


@functools.lru_cache(maxsize=None)
def oracle_grid(name: str, weight=None):
    """(arguments, exact result) over the adversarial grid."""
    spec = get(name)
    inputs, targets = (PREDICTIONS, REGRESSION_TARGETS) if spec.domain == "predictions" else (LOGITS, TARGETS)
    if spec.target == "region":
        inputs = REGION_LOGITS
    return [(pt, spec.symbolic.oracle(**pt)) for pt in grid_points(spec, inputs, targets, weight=weight)]


def run_lossref(spec, dtype, points):
    """The loss (reduction='none') at each point, and its gradient as a list per point."""
    if spec.target == "class indices":
        x = torch.tensor([pt["input"] for pt in points], dtype=dtype, requires_grad=True)
        target = torch.tensor([pt["target"].index(1.0) for pt in points])
        # a per-class vector (weight, alpha) as a tensor, a number (gamma) as it is
        options = {
            k: torch.tensor(v, dtype=dtype) if isinstance(v, tuple) else v
            for k, v in points[0].items()
            if k not in ("input", "target")
        }
    else:
        scalars = {k: points[0][k] for k in ("alpha", "gamma") if k in points[0]}  # one value per call
        args = {k: torch.tensor([pt[k] for pt in points], dtype=dtype) for k in points[0] if k not in scalars}
        x = args.pop("input").requires_grad_(True)
        target, options = args.pop("target"), {**args, **scalars}
    loss = spec.function(x, target, reduction="none", **options)
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
        err = relative_error(value, exact.value, exact.value, floor) / allowed
        worst_value = max(worst_value, (err, pt), key=lambda e: e[0])
        exact_grad = exact.grad if isinstance(exact.grad, list) else [exact.grad]
        exact_scale = exact.grad_scale if isinstance(exact.grad_scale, list) else [exact.grad_scale]
        for g, e, sc in zip(grad, exact_grad, exact_scale, strict=True):
            err = relative_error(g, e, sc, floor) / allowed
            worst_grad = max(worst_grad, (err, pt), key=lambda e: e[0])
    assert worst_value[0] <= 1, f"value at {worst_value[1]}: error {worst_value[0]} times the allowed"
    assert worst_grad[0] <= 1, f"gradient at {worst_grad[1]}: error {worst_grad[0]} times the allowed"


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_value_and_gradient_match_oracle(spec, dtype, request):
    with_symbolic(spec)
    if (spec.name, dtype) == ("softmax_focal_loss", torch.float32):
        # the shift limit (see shift_limit): gradient 1.08e-6 at (1e-6, -20, 0), target 0, gamma 2,
        # where the rounding of -20 - 1e-6 alone costs 9.7e-7; the dense grid checks the limit itself
        limit = pytest.mark.xfail(strict=True, raises=AssertionError, reason="float32 shift limit")
        request.applymarker(limit)
    # one call per class-weight vector, or per focal (alpha, gamma)
    variants = {"class indices": CLASS_WEIGHTS}.get(spec.target, [None])
    if spec.name == "sigmoid_focal_loss":
        variants = [(setting,) for setting in FOCAL_SETTINGS]
    if spec.name == "softmax_focal_loss":
        variants = SOFTMAX_FOCAL_SETTINGS
    for weight in variants:
        assert_matches_oracle(spec, dtype, oracle_grid(spec.name, weight))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_dense_random_grid_matches_oracle(spec, dtype):
    """Exhaustive: random logits, log-uniform in magnitude from 1e-6 to 1e4, random targets."""
    with_symbolic(spec)
    rng = np.random.default_rng(0)
    logits = (rng.choice([-1, 1], 600) * 10 ** rng.uniform(-6, 4, 600)).astype(np.float32).tolist()
    targets = rng.uniform(0, 1, 6).astype(np.float32).tolist() + [0.0, 1.0]
    rows = [logits[i : i + 3] for i in range(0, 300, 3)]
    variants = {
        "sigmoid_focal_loss": [((0.25, 2.0),), ((0.5, 0.5),)],
        "softmax_focal_loss": [(None, 2.0), ((1.0, 2.0, 0.5), 0.5)],
    }
    for weight in variants.get(spec.name, [None]):
        first = logits[:100] if spec.target == "region" else logits  # x 20 partners and targets
        points = grid_points(spec, first, targets, [1.0, 2.5], rows=rows, weight=weight)
        grid = [(pt, spec.symbolic.oracle(**pt)) for pt in points]
        assert_matches_oracle(spec, dtype, grid, with_shift_limit=True)


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


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_gradient_terms_sum_to_derived_gradient(spec):
    with_symbolic(spec)
    sym = spec.symbolic
    if sym.vector_input:
        for gradient, terms in zip(sym.gradient, sym.grad_terms, strict=True):
            assert sp.simplify(gradient - sum(terms)) == 0
    else:
        assert sp.simplify(sym.gradient - sum(sym.grad_terms)) == 0


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_stable_form_equals_textbook_form(spec):
    with_symbolic(spec)
    sym = spec.symbolic
    assert proved_zero(sym.expr - sym.stable)


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
