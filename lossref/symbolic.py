r"""The losses as sympy expressions, their derived gradients, and a high-precision mpmath oracle.

Each :class:`SymbolicLoss` holds the textbook (naive) elementwise formula of one loss. Tests evaluate
it with :meth:`SymbolicLoss.oracle` at whatever precision makes it exact to ~30 digits, so the oracle
shares no numerical trick with the implementation it checks. The book's chapters start from the same
objects, and its loss atlas shows each loss's :class:`Textbook` form: a sum over the classes or
pixels at any size, and a gradient to check by hand, both shown by the tests to equal the definition.
Needs the ``symbolic`` extra: ``pip install lossref[symbolic]``.

Examples:
    >>> from lossref.symbolic import BCE_WITH_LOGITS, sigmoid, x, y, w, c
    >>> import sympy as sp
    >>> sp.simplify(
    ...     BCE_WITH_LOGITS.gradient.subs({w: 1, c: 1}) - (sigmoid(x) - y)
    ... )
    0
    >>> r = BCE_WITH_LOGITS.oracle(input=40.0, target=1.0)
    >>> float(r.value), float(r.grad)
    (4.248354255291589e-18, -4.248354255291589e-18)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, NamedTuple, Optional, Union

try:
    import mpmath
    import sympy as sp
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError("lossref.symbolic needs sympy and mpmath: pip install 'lossref[symbolic]'") from e

__all__ = [
    "SymbolicLoss",
    "Textbook",
    "OracleResult",
    "sigmoid",
    "softplus",
    "x",
    "p",
    "y",
    "w",
    "c",
    "BCE",
    "BCE_WITH_LOGITS",
    "NUM_CLASSES",
    "xs",
    "zs",
    "qs",
    "ws",
    "m",
    "log_softmax",
    "CROSS_ENTROPY",
    "NLL",
    "a",
    "g",
    "SIGMOID_FOCAL",
    "SOFTMAX_FOCAL",
    "poly_eps",
    "POLY1_CROSS_ENTROPY",
    "t",
    "beta",
    "delta",
    "q",
    "eps",
    "L1",
    "MSE",
    "SMOOTH_L1",
    "HUBER",
    "LOG_COSH",
    "QUANTILE",
    "CHARBONNIER",
    "PIXELS",
    "us",
    "ts",
    "s",
    "DICE",
    "JACCARD",
    "TVERSKY",
    "DICE_BCE",
    "COMBO",
    "log_target",
    "KL_DIV",
    "var",
    "full",
    "GAUSSIAN_NLL",
    "log_input",
    "eps_rate",
    "POISSON_NLL",
    "vs",
    "temperature",
    "kd_alpha",
    "DISTILLATION",
    "JS_DIVERGENCE",
    "label",
    "margin",
    "SOFT_MARGIN",
    "HINGE_EMBEDDING",
]

#: logit, probability, target, weight, positive-class weight
x = sp.Symbol("x", real=True)
p = sp.Symbol("p", positive=True)
y = sp.Symbol("y", nonnegative=True)
w = sp.Symbol("w", positive=True)
c = sp.Symbol("c", positive=True)


def sigmoid(z: sp.Expr) -> sp.Expr:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`."""
    return 1 / (1 + sp.exp(-z))


def softplus(z: sp.Expr) -> sp.Expr:
    r""":math:`\operatorname{softplus}(z) = \log(1 + e^{z})`."""
    return sp.log(1 + sp.exp(z))


Arg = Union[sp.Symbol, tuple[sp.Symbol, ...]]

# -- textbook forms: sums over an index at any size, written out at the definitions' size by the tests

#: σ as a function of its own, so that textbook forms print σ(x); written out, it is :func:`sigmoid`
_sigma = sp.Function("sigma")
_n = sp.Symbol("n", integer=True, positive=True)  #: pixels of an image
_C = sp.Symbol("C", integer=True, positive=True)  #: classes
#: summation indices: pixel, class, the class of a softmax's denominator; the input's component
_i, _c, _j, _k = sp.symbols("i c j k", integer=True, nonnegative=True)


@dataclass(frozen=True)
class Textbook:
    """A loss as textbooks write it: per element, or per sample (image) as a sum over its ``C``
    classes (``n`` pixels) of indexed symbols such as :math:`x_c`, with shorthands such as
    :math:`p_c` defined below it, and its gradient in a form to check by hand. The book's loss atlas
    shows it; the tests show it equal to ``SymbolicLoss.expr`` and its derivative through
    :meth:`written_out`.
    """

    #: the loss, with ``sp.Sum`` over ``sp.Indexed`` symbols where the definition is written for a size
    form: sp.Expr
    #: what the gradient is taken with respect to, the input or its component :math:`x_k` (indexed by k)
    variable: sp.Expr
    #: the derivative of ``form`` with respect to ``variable``
    gradient: sp.Expr
    #: ``(shorthand, definition)`` pairs, such as :math:`(p_c, e^{x_c} / \sum_j e^{x_j})` for every class
    #: ``c``; a definition may use the shorthands after it
    where: tuple[tuple[sp.Expr, sp.Expr], ...] = ()

    def written_out(self, expr: sp.Expr, component: Optional[int] = None) -> sp.Expr:
        """``expr`` (the form or the gradient, at the input's ``component``) in the definition's terms:
        shorthands and σ expanded, n = ``PIXELS`` and C = ``NUM_CLASSES``, the sums done and
        each indexed symbol replaced by the definition's symbol (:math:`x_0` by ``xs[0]``)."""
        for short, definition in self.where:
            if isinstance(short, sp.Indexed):  # p_c: its definition at each index it appears with
                expr = expr.xreplace(
                    {
                        e: definition.xreplace({short.indices[0]: e.indices[0]})
                        for e in expr.atoms(sp.Indexed)
                        if e.base == short.base
                    }
                )
            else:
                expr = expr.xreplace({short: definition})
        values = {_n: PIXELS, _C: NUM_CLASSES}
        if component is not None:
            values[self.variable.indices[0]] = component
        expr = expr.replace(_sigma, sigmoid).subs(values).doit()
        return expr.xreplace({base[k]: v for base, vs in _CONCRETE.items() for k, v in enumerate(vs)})


class OracleResult(NamedTuple):
    """Exact (to ``digits``) value and gradient, and the scale the gradient's error is judged by.

    For a loss of a vector input (the logits of all classes), ``grad`` and ``grad_scale`` are lists
    with one entry per component.
    """

    value: mpmath.mpf
    grad: Any
    #: sum of the absolute values of the gradient's terms: the gradient's componentwise scale.
    #: Where one term vanishes (hard targets) it is ``|grad|`` itself, so the error is relative.
    grad_scale: Any
    #: sum of the absolute values of the value's terms (``SymbolicLoss.value_terms``), or ``|value|``
    #: where the loss gives none: the scale a value computed from rounded terms is accurate to
    value_scale: Any = None


def _symbols(arg: Arg) -> tuple[sp.Symbol, ...]:
    return arg if isinstance(arg, tuple) else (arg,)


@dataclass(frozen=True)
class SymbolicLoss:
    r"""One loss: its formula per element (or per sample, for a vector of class scores), what it is
    differentiated by, and its gradient's terms.

    Args:
        name: the name of the lossref function it defines.
        expr: the loss of one element (or sample) as written in textbooks, no stabilising rewrite.
        args: lossref argument name -> symbol, or tuple of symbols for a per-class vector, in call
            order; the first is the input.
        defaults: values of optional arguments that are left out (e.g. ``weight=1``).
        grad_terms: the gradient w.r.t. the input written as a sum of terms that do not cancel
            each other for hard targets; ``sum(grad_terms) == gradient`` is checked by the tests.
            For a vector input, one such tuple per component.
        stable: the numerically stable form the implementation evaluates, equal to ``expr``.
        textbook: the loss and its gradient as the book shows them (at any number of classes or
            pixels where ``expr`` is written for ``NUM_CLASSES`` classes or ``PIXELS`` pixels).
        value_terms: the loss written as a sum of terms that a float computation rounds each on its
            own (KL's :math:`q \log q` and :math:`-q x`), where they can cancel: the value is then judged
            relative to the sum of their magnitudes, as the gradient is; ``sum(value_terms) == expr``
            is checked by the tests. Empty (the default): relative to the value itself.
    """

    name: str
    expr: sp.Expr
    args: dict[str, Arg]
    defaults: dict[str, Any]
    grad_terms: tuple
    stable: sp.Expr
    textbook: Textbook
    value_terms: tuple = ()

    @property
    def input(self) -> Arg:
        return next(iter(self.args.values()))

    @property
    def vector_input(self) -> bool:
        return isinstance(self.input, tuple)

    @cached_property
    def gradient(self) -> Any:
        """The derivative of :attr:`expr` with respect to the input (a tuple for a vector input)."""
        grads = tuple(sp.diff(self.expr, v) for v in _symbols(self.input))
        return grads if self.vector_input else grads[0]

    @property
    def _terms_per_component(self) -> tuple[tuple[sp.Expr, ...], ...]:
        return self.grad_terms if self.vector_input else (self.grad_terms,)

    @cached_property
    def _mpmath_function(self) -> Callable:
        """[value, gradient components..., gradient scales...] as a function of the arguments."""
        grads = _symbols(self.gradient) if self.vector_input else (self.gradient,)
        scales = tuple(sum(sp.Abs(t) for t in terms) for terms in self._terms_per_component)
        value_scale = sum(sp.Abs(t) for t in self.value_terms) if self.value_terms else sp.Abs(self.expr)
        syms = [v for arg in self.args.values() for v in _symbols(arg)]
        return sp.lambdify(syms, [self.expr, *grads, *scales, value_scale], modules="mpmath")

    def oracle(self, digits: int = 30, **values: Any) -> OracleResult:
        """Evaluate value and gradient at exactly the given floats, correct to ``digits`` digits.

        The working precision starts from the magnitude of the arguments (``exp(-x)`` next to 1
        needs about ``|x| / ln 10`` digits) and doubles until two evaluations ``digits`` apart agree,
        so cancellation in the naive formula cannot go unnoticed.
        """
        unknown = set(values) - set(self.args)
        if unknown:
            raise TypeError(f"{self.name} has no argument(s) {sorted(unknown)}; it takes {list(self.args)}")
        missing = [k for k in self.args if k not in values and k not in self.defaults]
        if missing:
            raise TypeError(f"{self.name}.oracle needs a value for {missing}")
        vals: list[float] = []
        for k, arg in self.args.items():
            v = values[k] if k in values else self.defaults[k]
            v = tuple(v) if isinstance(arg, tuple) else (v,)
            if len(v) != len(_symbols(arg)):
                raise TypeError(f"{self.name}.oracle: {k} needs {len(_symbols(arg))} values, got {len(v)}")
            vals += [float(u) for u in v]
        f = self._mpmath_function
        dps = 2 * digits + math.ceil(max(abs(v) for v in vals) / math.log(10))
        while True:
            with mpmath.workdps(dps):
                a = f(*map(mpmath.mpf, vals))
            with mpmath.workdps(dps + digits):
                b = f(*map(mpmath.mpf, vals))
            if all(_agree(u, v, digits) for u, v in zip(a, b, strict=True)):
                n = len(_symbols(self.input))
                grad, scale = b[1 : 1 + n], b[1 + n : 1 + 2 * n]
                return OracleResult(
                    b[0], *((grad, scale) if self.vector_input else (grad[0], scale[0])), value_scale=b[-1]
                )
            if dps > 40_000:  # enough for |arguments| up to ~4e4
                raise ArithmeticError(f"{self.name} oracle did not converge at {values}")
            dps *= 2


def _agree(u: mpmath.mpf, v: mpmath.mpf, digits: int) -> bool:
    if not (mpmath.isfinite(u) and mpmath.isfinite(v)):
        return False
    return abs(u - v) <= mpmath.mpf(10) ** -digits * max(abs(u), abs(v))


BCE = SymbolicLoss(
    name="binary_cross_entropy",
    expr=-w * (y * sp.log(p) + (1 - y) * sp.log(1 - p)),
    args={"input": p, "target": y, "weight": w},
    defaults={"weight": 1.0},
    grad_terms=(w * (1 - y) / (1 - p), -w * y / p),
    stable=-w * (y * sp.log(p) + (1 - y) * sp.log(1 - p)),
    textbook=Textbook(
        form=-w * (y * sp.log(p) + (1 - y) * sp.log(1 - p)),
        variable=p,
        gradient=w * (p - y) / (p * (1 - p)),
    ),
)

BCE_WITH_LOGITS = SymbolicLoss(
    name="binary_cross_entropy_with_logits",
    expr=-w * (c * y * sp.log(sigmoid(x)) + (1 - y) * sp.log(1 - sigmoid(x))),
    args={"input": x, "target": y, "weight": w, "pos_weight": c},
    defaults={"weight": 1.0, "pos_weight": 1.0},
    grad_terms=(w * (1 - y) * sigmoid(x), -w * c * y * sigmoid(-x)),
    stable=w * (c * y * softplus(-x) + (1 - y) * softplus(x)),
    textbook=Textbook(
        form=-w * (c * y * sp.log(_sigma(x)) + (1 - y) * sp.log(1 - _sigma(x))),
        variable=x,
        gradient=w * ((1 + (c - 1) * y) * _sigma(x) - c * y),  # w (σ(x) - y) for c = 1
    ),
)

#: three classes are enough to show every term of the multi-class losses
NUM_CLASSES = 3
xs = sp.symbols(f"x_0:{NUM_CLASSES}", real=True)  #: logits
zs = sp.symbols(f"z_0:{NUM_CLASSES}", nonpositive=True)  #: log-probabilities
qs = sp.symbols(f"q_0:{NUM_CLASSES}", nonnegative=True)  #: target distribution (one-hot for an index)
ws = sp.symbols(f"w_0:{NUM_CLASSES}", positive=True)  #: class weights
m = sp.Symbol("m", real=True)  #: any shift, e.g. the largest logit

# textbook forms: x_c, z_c, q_c, w_c, the softmax focal loss's alpha_c, p_c at any number of classes
_X, _Z, _Q, _W, _A, _P = map(sp.IndexedBase, ("x", "z", "q", "w", "alpha", "p"))
_SOFTMAX = ((_P[_c], sp.exp(_X[_c]) / sp.Sum(sp.exp(_X[_j]), (_j, 0, _C - 1))),)


def _over_classes(term: sp.Expr) -> sp.Expr:
    return sp.Sum(term, (_c, 0, _C - 1))


def log_softmax(logits: tuple[sp.Symbol, ...], c: int, shift: sp.Expr = sp.S.Zero) -> sp.Expr:
    r""":math:`\log p_c = (x_c - m) - \log \sum_k e^{x_k - m}`, the same for every shift :math:`m`."""
    return (logits[c] - shift) - sp.log(sum(sp.exp(v - shift) for v in logits))


def _softmax(logits: tuple[sp.Symbol, ...], c: int) -> sp.Expr:
    return sp.exp(logits[c]) / sum(sp.exp(v) for v in logits)


_total_weight = sum(w_ * q_ for w_, q_ in zip(ws, qs, strict=True))

CROSS_ENTROPY = SymbolicLoss(
    name="cross_entropy",
    expr=-sum(ws[c] * qs[c] * log_softmax(xs, c) for c in range(NUM_CLASSES)),
    args={"input": xs, "target": qs, "weight": ws},
    defaults={"weight": (1.0,) * NUM_CLASSES},
    grad_terms=tuple((_softmax(xs, c) * _total_weight, -ws[c] * qs[c]) for c in range(NUM_CLASSES)),
    stable=-sum(ws[c] * qs[c] * log_softmax(xs, c, m) for c in range(NUM_CLASSES)),
    textbook=Textbook(
        form=-_over_classes(_W[_c] * _Q[_c] * sp.log(_P[_c])),
        variable=_X[_k],
        gradient=_P[_k] * _over_classes(_W[_c] * _Q[_c]) - _W[_k] * _Q[_k],  # p_k - q_k for w = 1
        where=_SOFTMAX,
    ),
)

NLL = SymbolicLoss(
    name="nll_loss",
    expr=-sum(ws[c] * qs[c] * zs[c] for c in range(NUM_CLASSES)),
    args={"input": zs, "target": qs, "weight": ws},
    defaults={"weight": (1.0,) * NUM_CLASSES},
    grad_terms=tuple((-ws[c] * qs[c],) for c in range(NUM_CLASSES)),
    stable=-sum(ws[c] * qs[c] * zs[c] for c in range(NUM_CLASSES)),
    textbook=Textbook(
        form=-_over_classes(_W[_c] * _Q[_c] * _Z[_c]), variable=_Z[_k], gradient=-_W[_k] * _Q[_k]
    ),
)

a = sp.Symbol("alpha", nonnegative=True)  #: focal loss: weight of the positive class
g = sp.Symbol("gamma", nonnegative=True)  #: focal loss: focusing parameter

_p = sigmoid(x)
_alpha_t = a * y + (1 - a) * (1 - y)
_modulating = (y * (1 - _p) + (1 - y) * _p) ** g  # (1 - p_t)^gamma
_bce = -(y * sp.log(_p) + (1 - y) * sp.log(1 - _p))
_alpha_t_symbol, _p_t_symbol, _bce_symbol = sp.symbols("alpha_t p_t BCE")  # textbook shorthands

SIGMOID_FOCAL = SymbolicLoss(
    name="sigmoid_focal_loss",
    expr=_alpha_t * _modulating * _bce,
    args={"input": x, "target": y, "alpha": a, "gamma": g},
    defaults={"alpha": 0.25, "gamma": 2.0},
    # product rule: the factor's derivative times the BCE, and the factor times the BCE's two terms;
    # for a hard label all three have the same sign
    grad_terms=(
        _alpha_t * sp.diff(_modulating, x) * _bce,
        _alpha_t * _modulating * (1 - y) * sigmoid(x),
        -_alpha_t * _modulating * y * sigmoid(-x),
    ),
    # 1 - p_t as a sum of non-negative terms, and the BCE in its softplus form
    stable=_alpha_t
    * (y * sigmoid(-x) + (1 - y) * sigmoid(x)) ** g
    * (y * softplus(-x) + (1 - y) * softplus(x)),
    textbook=Textbook(
        form=_alpha_t_symbol * (1 - _p_t_symbol) ** g * _bce_symbol,
        variable=x,
        # the factor times the BCE's p - y, and the factor's derivative times the BCE, with
        # d(1 - p_t)/dx = (1 - 2y) p (1 - p); for y = 1: alpha (1 - p)^gamma (gamma p log p + p - 1)
        gradient=_alpha_t_symbol
        * (1 - _p_t_symbol) ** (g - 1)
        * ((1 - _p_t_symbol) * (p - y) + g * (1 - 2 * y) * p * (1 - p) * _bce_symbol),
        where=(
            (_alpha_t_symbol, a * y + (1 - a) * (1 - y)),
            (_p_t_symbol, p * y + (1 - p) * (1 - y)),
            (_bce_symbol, -(y * sp.log(p) + (1 - y) * sp.log(1 - p))),
            (p, _sigma(x)),
        ),
    ),
)


_p_class = [_softmax(xs, c) for c in range(NUM_CLASSES)]


def _softmax_focal_grad_terms(k: int) -> tuple[sp.Expr, sp.Expr]:
    r"""The two terms of :math:`\partial \ell / \partial x_k`, from
    :math:`\partial p_c / \partial x_k = p_c (\delta_{ck} - p_k)`: the factor's derivative times
    :math:`-\log p_c`, and the factor times :math:`\delta_{ck} - p_k`. For a one-hot target both
    have the sign of :math:`p_k - \delta_{ck}`."""
    d = [ws[c] * qs[c] * (sp.Integer(int(c == k)) - _p_class[k]) for c in range(NUM_CLASSES)]
    return (
        sum(
            d[c] * g * (1 - _p_class[c]) ** (g - 1) * _p_class[c] * log_softmax(xs, c)
            for c in range(NUM_CLASSES)
        ),
        -sum(d[c] * (1 - _p_class[c]) ** g for c in range(NUM_CLASSES)),
    )


#: -alpha_y (1 - p_y)^gamma log p_y, written as a sum over classes with a one-hot target q
SOFTMAX_FOCAL = SymbolicLoss(
    name="softmax_focal_loss",
    expr=-sum(ws[c] * qs[c] * (1 - _p_class[c]) ** g * log_softmax(xs, c) for c in range(NUM_CLASSES)),
    args={"input": xs, "target": qs, "alpha": ws, "gamma": g},
    defaults={"alpha": (1.0,) * NUM_CLASSES, "gamma": 2.0},
    grad_terms=tuple(_softmax_focal_grad_terms(k) for k in range(NUM_CLASSES)),
    # 1 - p_c as the sum of the other classes' probabilities (non-negative terms), log p_c shifted
    stable=-sum(
        ws[c] * qs[c] * sum(_p_class[k] for k in range(NUM_CLASSES) if k != c) ** g * log_softmax(xs, c, m)
        for c in range(NUM_CLASSES)
    ),
    textbook=Textbook(
        form=-_over_classes(_A[_c] * _Q[_c] * (1 - _P[_c]) ** g * sp.log(_P[_c])),
        variable=_X[_k],
        # from dp_c/dx_k = p_c (delta_ck - p_k)
        gradient=_over_classes(
            _A[_c]
            * _Q[_c]
            * (1 - _P[_c]) ** (g - 1)
            * (_P[_k] - sp.KroneckerDelta(_c, _k))
            * (1 - _P[_c] - g * _P[_c] * sp.log(_P[_c]))
        ),
        where=_SOFTMAX,
    ),
)


poly_eps = sp.Symbol("varepsilon", real=True)  #: Poly-1: the coefficient of 1 - P_t, any sign


def _poly1_grad_terms(k: int) -> tuple[sp.Expr, sp.Expr]:
    r"""The two terms of :math:`\partial \ell / \partial x_k`: cross-entropy's
    :math:`\sum_c w_c q_c (p_k - \delta_{ck})` and the Poly-1 term's
    :math:`\varepsilon \sum_c w_c q_c\, p_c (p_k - \delta_{ck})`, from
    :math:`\partial p_c / \partial x_k = p_c (\delta_{ck} - p_k)`. Their sum is
    :math:`\sum_c w_c q_c (1 + \varepsilon p_c)(p_k - \delta_{ck})`; for a one-hot target and
    :math:`\varepsilon \ge 0` both have the sign of :math:`p_k - \delta_{ck}`."""
    d = [ws[c] * qs[c] * (_p_class[k] - sp.Integer(int(c == k))) for c in range(NUM_CLASSES)]
    return sum(d), poly_eps * sum(d[c] * _p_class[c] for c in range(NUM_CLASSES))


#: Poly-1 (Leng et al. 2022): -log p_y + epsilon (1 - p_y), weighted by w_y, written as a sum over
#: classes with a one-hot target q (lossref's label smoothing is tested against torch in tests/test_poly.py)
POLY1_CROSS_ENTROPY = SymbolicLoss(
    name="poly1_cross_entropy",
    expr=sum(
        ws[c] * qs[c] * (-log_softmax(xs, c) + poly_eps * (1 - _p_class[c])) for c in range(NUM_CLASSES)
    ),
    args={"input": xs, "target": qs, "weight": ws, "epsilon": poly_eps},
    defaults={"weight": (1.0,) * NUM_CLASSES, "epsilon": 1.0},
    grad_terms=tuple(_poly1_grad_terms(k) for k in range(NUM_CLASSES)),
    # 1 - p_c as the sum of the other classes' probabilities (non-negative terms), log p_c shifted
    stable=sum(
        ws[c]
        * qs[c]
        * (-log_softmax(xs, c, m) + poly_eps * sum(_p_class[k] for k in range(NUM_CLASSES) if k != c))
        for c in range(NUM_CLASSES)
    ),
    textbook=Textbook(
        form=_over_classes(_W[_c] * _Q[_c] * (poly_eps * (1 - _P[_c]) - sp.log(_P[_c]))),
        variable=_X[_k],
        gradient=_over_classes(
            _W[_c] * _Q[_c] * (1 + poly_eps * _P[_c]) * (_P[_k] - sp.KroneckerDelta(_c, _k))
        ),
        where=_SOFTMAX,
    ),
)


# -- regression: functions of the residual r = x - t of a prediction x and a real target t ----------

t = sp.Symbol("t", real=True)  #: regression target
beta = sp.Symbol("beta", nonnegative=True)  #: smooth L1: where it turns linear
delta = sp.Symbol("delta", positive=True)  #: Huber: where it turns linear
q = sp.Symbol("q", positive=True)  #: quantile loss: the quantile, 0 < q < 1
eps = sp.Symbol("epsilon", positive=True)  #: Charbonnier: the width of the rounded bottom

_r = x - t
_abs_r = sp.Abs(_r)
_res = sp.Symbol("r", real=True)  # the residual in textbook forms


def _of_residual(form: sp.Expr, gradient: sp.Expr) -> Textbook:
    """A textbook form and its gradient as functions of r = x - t (whose derivative in x is 1)."""
    return Textbook(form=form, variable=x, gradient=gradient, where=((_res, x - t),))


L1 = SymbolicLoss(
    name="l1_loss",
    expr=w * _abs_r,
    args={"input": x, "target": t, "weight": w},
    defaults={"weight": 1.0},
    grad_terms=(w * sp.sign(_r),),  # sign(0) = 0, torch's subgradient at the kink
    stable=w * _abs_r,
    textbook=_of_residual(w * sp.Abs(_res), w * sp.sign(_res)),
)

MSE = SymbolicLoss(
    name="mse_loss",
    expr=w * _r**2,
    args={"input": x, "target": t, "weight": w},
    defaults={"weight": 1.0},
    grad_terms=(2 * w * _r,),
    stable=w * _r**2,
    textbook=_of_residual(w * _res**2, 2 * w * _res),
)

_smooth_l1 = sp.Piecewise((_r**2 / (2 * beta), _abs_r < beta), (_abs_r - beta / 2, True))

SMOOTH_L1 = SymbolicLoss(
    name="smooth_l1_loss",
    expr=_smooth_l1,
    args={"input": x, "target": t, "beta": beta},
    defaults={"beta": 1.0},
    grad_terms=(sp.Piecewise((_r / beta, _abs_r < beta), (sp.sign(_r), True)),),
    stable=_smooth_l1,
    textbook=_of_residual(
        sp.Piecewise((_res**2 / (2 * beta), sp.Abs(_res) < beta), (sp.Abs(_res) - beta / 2, True)),
        sp.Piecewise((_res / beta, sp.Abs(_res) < beta), (sp.sign(_res), True)),
    ),
)

_huber = sp.Piecewise((_r**2 / 2, _abs_r < delta), (delta * (_abs_r - delta / 2), True))

HUBER = SymbolicLoss(
    name="huber_loss",
    expr=w * _huber,
    args={"input": x, "target": t, "delta": delta, "weight": w},
    defaults={"delta": 1.0, "weight": 1.0},
    grad_terms=(w * sp.Piecewise((_r, _abs_r < delta), (delta * sp.sign(_r), True)),),
    stable=w * _huber,
    textbook=_of_residual(
        w * sp.Piecewise((_res**2 / 2, sp.Abs(_res) < delta), (delta * (sp.Abs(_res) - delta / 2), True)),
        w * sp.Piecewise((_res, sp.Abs(_res) < delta), (delta * sp.sign(_res), True)),
    ),
)

LOG_COSH = SymbolicLoss(
    name="log_cosh_loss",
    expr=sp.log(sp.cosh(_r)),
    args={"input": x, "target": t},
    defaults={},
    grad_terms=(sp.tanh(_r),),
    # cosh never formed: log1p(2 sinh(r/2)^2) where |r| + softplus(-2|r|) - log 2 would cancel
    stable=sp.Piecewise(
        (sp.log(1 + 2 * sp.sinh(_r / 2) ** 2), _abs_r < 2),
        (_abs_r + softplus(-2 * _abs_r) - sp.log(2), True),
    ),
    textbook=_of_residual(sp.log(sp.cosh(_res)), sp.tanh(_res)),
)

#: pinball loss of the residual target - input; at 0 the third piece gives the loss 0 and the
#: middle of the subdifferential as the gradient, as lossref (and sign(0) = 0 for L1) does
_pinball = sp.Piecewise((q * -_r, _r < 0), ((q - 1) * -_r, _r > 0), ((q - sp.S.Half) * -_r, True))

QUANTILE = SymbolicLoss(
    name="quantile_loss",
    expr=_pinball,
    args={"input": x, "target": t, "q": q},
    defaults={"q": 0.5},
    grad_terms=(sp.Piecewise((-q, _r < 0), (1 - q, _r > 0), (sp.S.Half - q, True)),),
    stable=_pinball,
    textbook=_of_residual(
        sp.Piecewise((-q * _res, _res < 0), ((1 - q) * _res, _res > 0), ((sp.S.Half - q) * _res, True)),
        sp.Piecewise((-q, _res < 0), (1 - q, _res > 0), (sp.S.Half - q, True)),
    ),
)

CHARBONNIER = SymbolicLoss(
    name="charbonnier_loss",
    expr=sp.sqrt(_r**2 + eps**2),
    args={"input": x, "target": t, "eps": eps},
    defaults={"eps": 1e-3},
    grad_terms=(_r / sp.sqrt(_r**2 + eps**2),),
    stable=sp.sqrt(_r**2 + eps**2),  # as hypot(r, eps): r**2 is never formed
    textbook=_of_residual(sp.sqrt(_res**2 + eps**2), _res / sp.sqrt(_res**2 + eps**2)),
)


# -- region losses: one binary image of two pixels, as a closed form in its two logits ----------------
#
# The registry's region losses score a whole image, so their oracle is the loss of the smallest
# image that shows every term: two pixels, logits u_0, u_1 and targets t_0, t_1 (soft or hard), with
# the default per-image statistics. The textbook form uses p and 1 - p; the stable form, which the
# implementation evaluates, writes 1 - index as non-negative terms over non-negative terms, with
# 1 - p = sigmoid(-u). The gradient's terms are those of the quotient rule: at a background pixel
# they have opposite signs, and their magnitudes are the scale a quotient can be computed to.

PIXELS = 2
us = sp.symbols(f"u_0:{PIXELS}", real=True)  #: the logits of the two pixels
ts = sp.symbols(f"t_0:{PIXELS}", nonnegative=True)  #: their targets in [0, 1]
s = sp.Symbol("s", nonnegative=True)  #: smooth
a_fp = sp.Symbol("alpha", nonnegative=True)  #: Tversky: weight of false positives; Combo: of the CE
b_fn = sp.Symbol("beta", nonnegative=True)  #: Tversky: weight of false negatives; Combo: of positives

_ps = [sigmoid(u) for u in us]
_tp = sum(p_ * t_ for p_, t_ in zip(_ps, ts, strict=True))
_fp = sum(p_ * (1 - t_) for p_, t_ in zip(_ps, ts, strict=True))
_fn_stable = sum(sigmoid(-u) * t_ for u, t_ in zip(us, ts, strict=True))

# textbook forms: u_i, t_i, p_i = σ(u_i) at any number n of pixels, and the soft confusion counts
_U, _T = sp.IndexedBase("u"), sp.IndexedBase("t")
_PIXEL_P = ((_P[_i], _sigma(_U[_i])),)
_TP, _FP, _FN = sp.symbols("TP FP FN")
_CONFUSION = (
    (_TP, sp.Sum(_P[_i] * _T[_i], (_i, 0, _n - 1))),
    (_FP, sp.Sum(_P[_i] * (1 - _T[_i]), (_i, 0, _n - 1))),
    (_FN, sp.Sum((1 - _P[_i]) * _T[_i], (_i, 0, _n - 1))),
    *_PIXEL_P,
)
_N, _D = sp.symbols("N D")  # a quotient's numerator and denominator, to keep gradients short
#: the indexed symbols of the textbook forms, and the definitions' symbols they stand for
_CONCRETE = {_X: xs, _Z: zs, _Q: qs, _W: ws, _A: ws, _U: us, _T: ts}


def _over_pixels(term: sp.Expr) -> sp.Expr:
    return sp.Sum(term, (_i, 0, _n - 1))


def _quotient_terms(num: sp.Expr, den: sp.Expr, outer: sp.Expr = sp.S.One) -> tuple[tuple[sp.Expr, ...], ...]:
    """Per logit: outer * num' / den and -outer * num den' / den**2."""
    return tuple((outer * sp.diff(num, u) / den, -outer * num * sp.diff(den, u) / den**2) for u in us)


def _tversky_textbook(alpha: sp.Expr, beta: sp.Expr) -> Textbook:
    """1 - (TP + s) / D, D = TP + alpha FP + beta FN + s; its gradient by the quotient rule, with
    dTP/du_k = p_k (1 - p_k) t_k, dFP/du_k = p_k (1 - p_k) (1 - t_k) and dFN/du_k = -dTP/du_k."""
    den = _TP + alpha * _FP + beta * _FN + s
    return Textbook(
        form=1 - (_TP + s) / den,
        variable=_U[_k],
        gradient=_P[_k]
        * (1 - _P[_k])
        * (alpha * (1 - _T[_k]) * (_TP + s) - _T[_k] * (alpha * _FP + beta * (_TP + _FN + s)))
        / _D**2,
        where=((_D, den), *_CONFUSION),
    )


def _tversky_forms(alpha: sp.Expr, beta: sp.Expr, smooth: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """1 - (TP + s) / (TP + alpha FP + beta FN + s) as written, and its numerator and denominator."""
    fn = sum((1 - p_) * t_ for p_, t_ in zip(_ps, ts, strict=True))
    textbook = 1 - (_tp + smooth) / (_tp + alpha * _fp + beta * fn + smooth)
    num = alpha * _fp + beta * _fn_stable
    return textbook, num, _tp + num + smooth


_region_args: dict[str, Arg] = {"input": us, "target": ts}

_dice_num = _fp + _fn_stable
_dice_den = 2 * _tp + _fp + _fn_stable + s
# Dice's numerator N and denominator D, and its gradient by the quotient rule, dp_k/du_k = p_k (1 - p_k)
_dice_num_textbook = 2 * _over_pixels(_P[_i] * _T[_i]) + s
_dice_den_textbook = _over_pixels(_P[_i]) + _over_pixels(_T[_i]) + s
_DICE_ND = ((_N, _dice_num_textbook), (_D, _dice_den_textbook), *_PIXEL_P)
_dice_gradient = _P[_k] * (1 - _P[_k]) * (_N - 2 * _T[_k] * _D) / _D**2
DICE = SymbolicLoss(
    name="dice_loss",
    expr=1 - (2 * _tp + s) / (sum(_ps) + sum(ts) + s),
    args={**_region_args, "smooth": s},
    defaults={"smooth": 1e-5},
    grad_terms=_quotient_terms(_dice_num, _dice_den),
    stable=_dice_num / _dice_den,
    textbook=Textbook(
        form=1 - _dice_num_textbook / _dice_den_textbook,
        variable=_U[_k],
        gradient=_dice_gradient,
        where=_DICE_ND,
    ),
)

_jac_textbook, _jac_num, _jac_den = _tversky_forms(sp.S.One, sp.S.One, s)
JACCARD = SymbolicLoss(
    name="jaccard_loss",
    expr=_jac_textbook,
    args={**_region_args, "smooth": s},
    defaults={"smooth": 1e-5},
    grad_terms=_quotient_terms(_jac_num, _jac_den),
    stable=_jac_num / _jac_den,
    textbook=_tversky_textbook(sp.S.One, sp.S.One),
)

_tv_textbook, _tv_num, _tv_den = _tversky_forms(a_fp, b_fn, s)
TVERSKY = SymbolicLoss(
    name="tversky_loss",
    expr=_tv_textbook,
    args={**_region_args, "alpha": a_fp, "beta": b_fn, "smooth": s},
    defaults={"alpha": 0.3, "beta": 0.7, "smooth": 1e-5},
    grad_terms=_quotient_terms(_tv_num, _tv_den),
    stable=_tv_num / _tv_den,
    textbook=_tversky_textbook(a_fp, b_fn),
)

# focal_tversky_loss has no SymbolicLoss: sympy does not prove the identities of a quotient raised
# to a symbolic power in reasonable time (tests/test_region.py checks it as tversky ** gamma against
# TVERSKY's oracle instead).


def _pixel_ce(
    weight_pos: sp.Expr, weight_neg: sp.Expr
) -> tuple[sp.Expr, sp.Expr, tuple[tuple[sp.Expr, ...], ...]]:
    """Mean over the two pixels of -[w+ t log p + w- (1 - t) log(1 - p)]: textbook, stable, gradient terms."""
    textbook = (
        -sum(
            weight_pos * t_ * sp.log(p_) + weight_neg * (1 - t_) * sp.log(1 - p_)
            for p_, t_ in zip(_ps, ts, strict=True)
        )
        / PIXELS
    )
    stable = (
        sum(
            weight_pos * t_ * softplus(-u) + weight_neg * (1 - t_) * softplus(u)
            for u, t_ in zip(us, ts, strict=True)
        )
        / PIXELS
    )
    terms = tuple(
        (weight_neg * (1 - t_) * sigmoid(u) / PIXELS, -weight_pos * t_ * sigmoid(-u) / PIXELS)
        for u, t_ in zip(us, ts, strict=True)
    )
    return textbook, stable, terms


def _pixel_ce_textbook(weight_pos: sp.Expr, weight_neg: sp.Expr) -> sp.Expr:
    """The mean over the n pixels of -[w+ t log p + w- (1 - t) log(1 - p)]."""
    return (
        -_over_pixels(weight_pos * _T[_i] * sp.log(_P[_i]) + weight_neg * (1 - _T[_i]) * sp.log(1 - _P[_i]))
        / _n
    )


_bce_textbook, _bce_stable, _bce_terms = _pixel_ce(sp.S.One, sp.S.One)
DICE_BCE = SymbolicLoss(
    name="dice_bce_loss",
    expr=_bce_textbook + DICE.expr,
    args={**_region_args, "smooth": s},
    defaults={"smooth": 1e-5},
    grad_terms=tuple(ce + dice for ce, dice in zip(_bce_terms, DICE.grad_terms, strict=True)),
    stable=_bce_stable + DICE.stable,
    textbook=Textbook(
        form=_pixel_ce_textbook(sp.S.One, sp.S.One) + 1 - _N / _D,
        variable=_U[_k],
        gradient=(_P[_k] - _T[_k]) / _n + _dice_gradient,
        where=_DICE_ND,
    ),
)

_wce_textbook, _wce_stable, _wce_terms = _pixel_ce(b_fn, 1 - b_fn)
COMBO = SymbolicLoss(
    name="combo_loss",
    expr=a_fp * _wce_textbook + (1 - a_fp) * DICE.expr,
    args={**_region_args, "alpha": a_fp, "beta": b_fn, "smooth": s},
    defaults={"alpha": 0.5, "beta": 0.5, "smooth": 1e-5},
    grad_terms=tuple(
        tuple(a_fp * term for term in ce) + tuple((1 - a_fp) * term for term in dice)
        for ce, dice in zip(_wce_terms, DICE.grad_terms, strict=True)
    ),
    stable=a_fp * _wce_stable + (1 - a_fp) * DICE.stable,
    textbook=Textbook(
        form=a_fp * _pixel_ce_textbook(b_fn, 1 - b_fn) + (1 - a_fp) * (1 - _N / _D),
        variable=_U[_k],
        gradient=a_fp * ((1 - b_fn) * (1 - _T[_k]) * _P[_k] - b_fn * _T[_k] * (1 - _P[_k])) / _n
        + (1 - a_fp) * _dice_gradient,
        where=_DICE_ND,
    ),
)


# -- divergences and likelihoods ------------------------------------------------------------------------

#: kl_div's log_target as a number: 1 for True (the target holds log q), 0 for False (it holds q)
log_target = sp.Symbol("log_target", nonnegative=True)


def _kl_terms(prob: sp.Expr, log_prob: sp.Expr) -> sp.Expr:
    """Piecewise over log_target of prob(target), log_prob(target)'s KL term, 0 where q = 0."""
    of_prob = sp.Piecewise((0, sp.Eq(y, 0)), (prob, True))
    return sp.Piecewise((log_prob, sp.Eq(log_target, 1)), (of_prob, True))


#: KL(q || p) per element, x = log p; the target y is q, or log q with log_target = 1. A term of zero
#: mass (q = 0) is 0 with gradient 0, lossref's choice where torch has NaN
KL_DIV = SymbolicLoss(
    name="kl_div",
    expr=_kl_terms(y * (sp.log(y) - x), sp.exp(y) * (y - x)),
    args={"input": x, "target": y, "log_target": log_target},
    defaults={"log_target": 0},
    grad_terms=(_kl_terms(-y, -sp.exp(y)),),
    # q log q and -q x cancel where x is near log q: the value is accurate to their magnitudes
    value_terms=(_kl_terms(y * sp.log(y), sp.exp(y) * y), _kl_terms(-y * x, -sp.exp(y) * x)),
    stable=_kl_terms(y * (sp.log(y) - x), sp.exp(y) * (y - x)),
    textbook=Textbook(
        form=_kl_terms(y * (sp.log(y) - x), sp.exp(y) * (y - x)),
        variable=x,
        gradient=_kl_terms(-y, -sp.exp(y)),
    ),
)

var = sp.Symbol(
    "sigma^2", positive=True
)  #: Gaussian NLL: the variance (at least eps: the clamp is not modelled)
full = sp.Symbol("full", nonnegative=True)  #: 1 adds the constant of the full negative log-density, 0 not

_half_log_2pi = sp.log(2 * sp.pi) / 2

GAUSSIAN_NLL = SymbolicLoss(
    name="gaussian_nll_loss",
    expr=(sp.log(var) + (x - t) ** 2 / var) / 2 + full * _half_log_2pi,
    args={"input": x, "target": t, "var": var, "full": full},
    defaults={"full": 0},
    grad_terms=((x - t) / var,),
    stable=(sp.log(var) + (x - t) ** 2 / var) / 2 + full * _half_log_2pi,
    textbook=_of_residual(
        (sp.log(var) + _res**2 / var) / 2 + full * _half_log_2pi,
        _res / var,
    ),
    # log var < 0 cancels against the squared residual's term
    value_terms=(sp.log(var) / 2, (x - t) ** 2 / (2 * var), full * _half_log_2pi),
)

log_input = sp.Symbol("log_input", nonnegative=True)  #: Poisson NLL: 1 if the input is the log-rate
eps_rate = sp.Symbol("epsilon", positive=True)  #: Poisson NLL: added to the rate inside the log

_stirling = y * sp.log(y) - y + sp.log(2 * sp.pi * y) / 2  # log y! for large y
_counted = sp.Piecewise((_stirling, y > 1), (0, True))  # torch adds it only where y > 1


def _poisson(of_log_rate: sp.Expr, of_rate: sp.Expr) -> sp.Expr:
    return sp.Piecewise((of_log_rate, sp.Eq(log_input, 1)), (of_rate, True))


POISSON_NLL = SymbolicLoss(
    name="poisson_nll_loss",
    expr=_poisson(sp.exp(x) - y * x, x - y * sp.log(x + eps_rate)) + full * _counted,
    args={"input": x, "target": y, "log_input": log_input, "full": full, "eps": eps_rate},
    defaults={"log_input": 1, "full": 0, "eps": 1e-8},
    grad_terms=(_poisson(sp.exp(x), 1), _poisson(-y, -y / (x + eps_rate))),
    stable=_poisson(sp.exp(x) - y * x, x - y * sp.log(x + eps_rate)) + full * _counted,
    textbook=Textbook(
        form=_poisson(sp.exp(x) - y * x, x - y * sp.log(x + eps_rate)) + full * _counted,
        variable=x,
        gradient=_poisson(sp.exp(x) - y, 1 - y / (x + eps_rate)),
    ),
    # the rate and the count's term cancel near the optimum, and the Stirling term's parts
    value_terms=(
        _poisson(sp.exp(x), x),
        _poisson(-y * x, -y * sp.log(x + eps_rate)),
        full * sp.Piecewise((y * sp.log(y), y > 1), (0, True)),
        full * sp.Piecewise((-y, y > 1), (0, True)),
        full * sp.Piecewise((sp.log(2 * sp.pi * y) / 2, y > 1), (0, True)),
    ),
)


# -- knowledge distillation: two vectors of logits, student and teacher -------------------------------
#
# Not a registry oracle (the grid of tests/test_oracle.py takes one vector of logits and a class), so
# tests/test_distillation.py evaluates it on its own grid of confident teachers; the registry's oracle
# for distillation_loss is the formula written out (lossref._formulas.distillation_per_sample).

vs = sp.symbols(f"v_0:{NUM_CLASSES}", real=True)  #: the teacher's logits
temperature = sp.Symbol("T", positive=True)  #: distillation: the temperature
kd_alpha = sp.Symbol("alpha", nonnegative=True)  #: distillation: the weight of the soft term, in [0, 1]

_soft_student = tuple(x_ / temperature for x_ in xs)
_soft_teacher = tuple(v_ / temperature for v_ in vs)
_q_teacher = [_softmax(_soft_teacher, c) for c in range(NUM_CLASSES)]
_p_student = [_softmax(_soft_student, c) for c in range(NUM_CLASSES)]
_kd_soft = [_q_teacher[c] * log_softmax(_soft_teacher, c) for c in range(NUM_CLASSES)]  # q log q
_kd_cross = [-_q_teacher[c] * log_softmax(_soft_student, c) for c in range(NUM_CLASSES)]  # -q log p
_kd_hard = [-qs[c] * log_softmax(xs, c) for c in range(NUM_CLASSES)]  # -y log s
_kd_scale = kd_alpha * temperature**2

# textbook: v_c the teacher's logits, p_c and q_c the softened softmaxes, s_c the student's at T = 1,
# y_c the one-hot label (the definition's q_c: target)
_V, _S, _Y = map(sp.IndexedBase, ("v", "s", "y"))
_CONCRETE[_V], _CONCRETE[_Y] = vs, qs


def _softmax_at(logits: sp.IndexedBase, scale: sp.Expr) -> sp.Expr:
    return sp.exp(logits[_c] / scale) / sp.Sum(sp.exp(logits[_j] / scale), (_j, 0, _C - 1))


DISTILLATION = SymbolicLoss(
    name="distillation_loss",
    expr=_kd_scale * (sum(_kd_soft) + sum(_kd_cross)) + (1 - kd_alpha) * sum(_kd_hard),
    args={"input": xs, "teacher": vs, "target": qs, "temperature": temperature, "alpha": kd_alpha},
    defaults={"temperature": 4.0, "alpha": 0.9},
    # d/dx_k: alpha T (sum(q) p_k - q_k) + (1 - alpha) (sum(y) s_k - y_k); sum(q) = 1 is left to the
    # terms, so that they sum to the derivative exactly
    grad_terms=tuple(
        (
            kd_alpha * temperature * sum(_q_teacher) * _p_student[k],
            -kd_alpha * temperature * _q_teacher[k],
            (1 - kd_alpha) * sum(qs) * _softmax(xs, k),
            -(1 - kd_alpha) * qs[k],
        )
        for k in range(NUM_CLASSES)
    ),
    stable=_kd_scale * (sum(_kd_soft) + sum(_kd_cross)) + (1 - kd_alpha) * sum(_kd_hard),
    textbook=Textbook(
        form=_kd_scale * _over_classes(_Q[_c] * (sp.log(_Q[_c]) - sp.log(_P[_c])))
        - (1 - kd_alpha) * _over_classes(_Y[_c] * sp.log(_S[_c])),
        variable=_X[_k],
        # for a one-hot (or any normalised) label y and sum(q) = 1
        gradient=kd_alpha * temperature * (_P[_k] - _Q[_k]) + (1 - kd_alpha) * (_S[_k] - _Y[_k]),
        where=(
            (_P[_c], _softmax_at(_X, temperature)),
            (_Q[_c], _softmax_at(_V, temperature)),
            (_S[_c], _softmax_at(_X, sp.S.One)),
        ),
    ),
    # q log q against -q log p (the KL cancels where the student matches the teacher), and the CE
    value_terms=(_kd_scale * sum(_kd_soft), _kd_scale * sum(_kd_cross), (1 - kd_alpha) * sum(_kd_hard)),
)


# -- Jensen-Shannon divergence: two vectors of logits x (input) and v (other) -------------------------
#
# Not a registry oracle either (two vectors of logits): tests/test_js_divergence.py evaluates it.

_p_js = [_softmax(xs, c) for c in range(NUM_CLASSES)]
_r_js = [_softmax(vs, c) for c in range(NUM_CLASSES)]
_m_js = [(_p_js[c] + _r_js[c]) / 2 for c in range(NUM_CLASSES)]
_js_terms = (
    [_p_js[c] * log_softmax(xs, c) / 2 for c in range(NUM_CLASSES)],  # p log p / 2
    [_r_js[c] * log_softmax(vs, c) / 2 for c in range(NUM_CLASSES)],  # r log r / 2
    [-(_p_js[c] + _r_js[c]) * sp.log(_m_js[c]) / 2 for c in range(NUM_CLASSES)],  # -m log m
)
_js = sum(sum(terms) for terms in _js_terms)
_R, _M = sp.IndexedBase("r"), sp.IndexedBase("m")
_JS_P = sp.Symbol("JS_p")  # sum_c p_c log(p_c / m_c)

JS_DIVERGENCE = SymbolicLoss(
    name="js_divergence",
    expr=_js,
    args={"input": xs, "other": vs},
    defaults={},
    # d/dx_k = p_k (log(p_k / m_k) - sum_c p_c log(p_c / m_c)) / 2, as its two sums
    grad_terms=tuple(
        (
            _p_js[k] * (log_softmax(xs, k) - sp.log(_m_js[k])) / 2,
            -_p_js[k]
            * sum(_p_js[c] * (log_softmax(xs, c) - sp.log(_m_js[c])) for c in range(NUM_CLASSES))
            / 2,
        )
        for k in range(NUM_CLASSES)
    ),
    stable=_js,
    textbook=Textbook(
        form=(
            _over_classes(_P[_c] * sp.log(_P[_c] / _M[_c])) + _over_classes(_R[_c] * sp.log(_R[_c] / _M[_c]))
        )
        / 2,
        variable=_X[_k],
        gradient=_P[_k] * (sp.log(_P[_k] / _M[_k]) - _JS_P) / 2,
        where=(
            (_JS_P, _over_classes(_P[_c] * sp.log(_P[_c] / _M[_c]))),
            (_M[_c], (_P[_c] + _R[_c]) / 2),
            (_P[_c], _softmax_at(_X, sp.S.One)),
            (_R[_c], _softmax_at(_V, sp.S.One)),
        ),
    ),
    # p log p, r log r and -m log m cancel where p is close to r: judged on their magnitudes
    value_terms=tuple(sum(terms) for terms in _js_terms),
)


# -- score margins: a score and a label 1 or -1 ---------------------------------------------------

#: a label, 1 or -1
label = sp.Symbol("y", real=True)
#: a margin
margin = sp.Symbol("Delta", real=True)

SOFT_MARGIN = SymbolicLoss(
    name="soft_margin_loss",
    expr=sp.log(1 + sp.exp(-label * x)),
    args={"input": x, "target": label},
    defaults={},
    grad_terms=(-label * sigmoid(-label * x),),
    # -log sigmoid(y x), which torch's logsigmoid evaluates as max(-y x, 0) + log(1 + exp(-|y x|))
    stable=softplus(-label * x),
    textbook=Textbook(
        form=sp.log(1 + sp.exp(-label * x)),
        variable=x,
        gradient=-label * _sigma(-label * x),
    ),
)

# the hinge max(0, Delta - x) with the kink on the active side, torch's (clamp_min's) gradient there
_hinge_embedding = sp.Piecewise((x, label > 0), (sp.Piecewise((margin - x, x <= margin), (0, True)), True))

HINGE_EMBEDDING = SymbolicLoss(
    name="hinge_embedding_loss",
    expr=_hinge_embedding,
    args={"input": x, "target": label, "margin": margin},
    defaults={"margin": 1.0},
    grad_terms=(sp.Piecewise((1, label > 0), (sp.Piecewise((-1, x <= margin), (0, True)), True)),),
    stable=_hinge_embedding,
    textbook=Textbook(form=_hinge_embedding, variable=x, gradient=sp.diff(_hinge_embedding, x)),
)
