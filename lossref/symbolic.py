r"""The losses as sympy expressions, their derived gradients, and a high-precision mpmath oracle.

Each :class:`SymbolicLoss` holds the textbook (naive) elementwise formula of one loss. Tests evaluate
it with :meth:`SymbolicLoss.oracle` at whatever precision makes it exact to ~30 digits, so the oracle
shares no numerical trick with the implementation it checks. The book's chapters start from the same
objects. Needs the ``symbolic`` extra: ``pip install lossref[symbolic]``.

Examples:
    >>> from lossref.symbolic import BCE_WITH_LOGITS, sigmoid, x, y, w, c
    >>> import sympy as sp
    >>> sp.simplify(BCE_WITH_LOGITS.gradient.subs({w: 1, c: 1}) - (sigmoid(x) - y))
    0
    >>> r = BCE_WITH_LOGITS.oracle(input=40.0, target=1.0)
    >>> float(r.value), float(r.grad)
    (4.248354255291589e-18, -4.248354255291589e-18)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, NamedTuple

try:
    import mpmath
    import sympy as sp
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError("lossref.symbolic needs sympy and mpmath: pip install 'lossref[symbolic]'") from e

__all__ = [
    "SymbolicLoss",
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


class OracleResult(NamedTuple):
    """Exact (to ``digits``) value and gradient, and the scale the gradient's error is judged by."""

    value: mpmath.mpf
    grad: mpmath.mpf
    #: sum of the absolute values of the gradient's terms: the gradient's componentwise scale.
    #: Where one term vanishes (hard targets) it is ``|grad|`` itself, so the error is relative.
    grad_scale: mpmath.mpf


@dataclass(frozen=True)
class SymbolicLoss:
    """One loss: its elementwise formula, what it is differentiated by, and its gradient's terms.

    Args:
        name: the name of the lossref function it defines.
        expr: the elementwise loss as written in textbooks (no stabilising rewrite).
        args: lossref argument name -> symbol, in call order; the first is the input.
        defaults: values of optional arguments that are left out (e.g. ``weight=1``).
        grad_terms: the gradient w.r.t. the input written as a sum of terms that do not cancel
            each other for hard targets; ``sum(grad_terms) == gradient`` is checked by the tests.
        stable: the numerically stable form the implementation evaluates, equal to ``expr``.
    """

    name: str
    expr: sp.Expr
    args: dict[str, sp.Symbol]
    defaults: dict[str, float]
    grad_terms: tuple[sp.Expr, ...]
    stable: sp.Expr

    @property
    def input(self) -> sp.Symbol:
        return next(iter(self.args.values()))

    @cached_property
    def gradient(self) -> sp.Expr:
        """The derivative of :attr:`expr` with respect to the input, as sympy derives it."""
        return sp.diff(self.expr, self.input)

    @cached_property
    def _mpmath_functions(self) -> tuple[Callable, ...]:
        """value, gradient and gradient scale as functions of the arguments, for mpmath."""
        scale = sum(sp.Abs(t) for t in self.grad_terms)
        syms = list(self.args.values())
        return tuple(sp.lambdify(syms, e, modules="mpmath") for e in (self.expr, self.gradient, scale))

    def oracle(self, digits: int = 30, **values: float) -> OracleResult:
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
        vals = [float(values[k]) if k in values else self.defaults[k] for k in self.args]
        fns = self._mpmath_functions
        dps = 2 * digits + math.ceil(max(abs(v) for v in vals) / math.log(10))
        while True:
            with mpmath.workdps(dps):
                a = [f(*map(mpmath.mpf, vals)) for f in fns]
            with mpmath.workdps(dps + digits):
                b = [f(*map(mpmath.mpf, vals)) for f in fns]
            if all(_agree(u, v, digits) for u, v in zip(a, b, strict=True)):
                return OracleResult(*b)
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
)

BCE_WITH_LOGITS = SymbolicLoss(
    name="binary_cross_entropy_with_logits",
    expr=-w * (c * y * sp.log(sigmoid(x)) + (1 - y) * sp.log(1 - sigmoid(x))),
    args={"input": x, "target": y, "weight": w, "pos_weight": c},
    defaults={"weight": 1.0, "pos_weight": 1.0},
    grad_terms=(w * (1 - y) * sigmoid(x), -w * c * y * sigmoid(-x)),
    stable=w * (c * y * softplus(-x) + (1 - y) * softplus(x)),
)
