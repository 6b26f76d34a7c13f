r"""Regression losses: L1, MSE, smooth L1, Huber, log-cosh, quantile (pinball) and Charbonnier.

Each is a function of the residual of every element, followed by ``reduction``. The first four have
torch 2.13's signatures and numbers (``F.l1_loss``, ``F.mse_loss``, ``F.smooth_l1_loss``,
``F.huber_loss``, without the deprecated ``size_average``/``reduce``); the other three are not in
torch. They are written from torch primitives (none of torch's loss kernels), each as one
``autograd.Function`` whose forward forms the derivative while the residual is at hand and whose
backward is one multiplication; second derivatives run the same kernel again under autograd, and a
``weight`` that requires a gradient gets it from autograd, so they work too (see *implementation*
below).

Decisions, and where lossref differs from torch:

- **Shapes must match.** torch only warns ("Using a target size ... different to the input size")
  and broadcasts, so an ``(N, 1)`` prediction against an ``(N,)`` target silently becomes an
  ``(N, N)`` comparison of every prediction with every target. lossref raises ``ValueError``
  naming both shapes and the likely fix (``target.view_as(input)``).
- **weight** (``l1_loss``, ``mse_loss``, ``huber_loss``) multiplies the elementwise loss. torch 2.13
  requires it to have exactly the input's shape; lossref also accepts any shape that broadcasts to
  it (a ``(C,)`` weight applies along the last dimension). ``'mean'`` follows torch, which is not
  uniform: for ``l1_loss`` and ``mse_loss`` it is :math:`\sum w \ell / \sum w` (the total weight,
  counted over the broadcast shape; NaN if it is 0), for ``huber_loss`` it is
  :math:`\sum w \ell / N` with :math:`N` the number of elements. The modules take ``weight`` as an
  optional last argument (torch's modules have none) and keep it as a buffer.
- **Gradients at a kink** are torch's: :math:`\operatorname{sign}(0) = 0` for L1 (and for smooth L1
  with ``beta=0``, which is L1 with finite gradients everywhere; torch once returned NaN there,
  pytorch#96813). The quantile loss, not in torch, uses the same rule: at :math:`r = 0` its gradient
  is the middle of the subdifferential, :math:`\tfrac12 - q` with respect to the input, which is 0
  for the median.

The sympy definitions are in :mod:`lossref.symbolic`; the tests compare value and gradient with
torch and with the high-precision oracle.
"""

from __future__ import annotations

import numbers
from typing import Callable, Optional

import torch
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._loss import _Loss, _WeightedLoss
from lossref._reduction import reduce, reduce_by_weight
from lossref._validation import (
    check_floating,
    check_like,
    check_optional_weight,
    check_reduction,
    check_same_shape,
)

__all__ = [
    "l1_loss",
    "mse_loss",
    "smooth_l1_loss",
    "huber_loss",
    "log_cosh_loss",
    "quantile_loss",
    "charbonnier_loss",
    "L1Loss",
    "MSELoss",
    "SmoothL1Loss",
    "HuberLoss",
    "LogCoshLoss",
    "QuantileLoss",
    "CharbonnierLoss",
]


def _check_inputs(input: Tensor, target: Tensor, reduction: str, weight: Optional[Tensor] = None) -> None:
    check_floating(input, "input")
    check_like(target, "target", input)
    check_same_shape(target, input)
    check_optional_weight(weight, "weight", input)
    check_reduction(reduction)


def _check_number(value: float, name: str) -> None:
    """A real Python number (a tensor, a string or a complex number is refused, naming the argument)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number (float or int), got {type(value).__name__}")


def _check_beta(beta: float) -> None:
    _check_number(beta, "beta")
    if not beta >= 0:  # NaN fails too
        raise ValueError(f"beta must be >= 0 (0 gives the L1 loss), got {beta}")


def _check_delta(delta: float) -> None:
    _check_number(delta, "delta")
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta}")


def _check_q(q: float) -> None:
    _check_number(q, "q")
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1) (the quantile to estimate, e.g. 0.5 for the median), got {q}")


def _check_eps(eps: float) -> None:
    _check_number(eps, "eps")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")


# -- implementation: a kernel per loss, one autograd.Function that takes it -----------------------
#
# Each loss is one *kernel*, a function of the residual r = input - target and the loss's parameter p
# (0.0 where it has none). It returns the loss reduced by ``mode`` and, when ``need_slope`` is set,
# the derivative dloss/dr as ``scale * slope``: a constant factor (2 for MSE, 1/beta for smooth L1,
# 1/2 for the quantile loss) is left out of the tensor so that the backward multiplies it into its
# scalar instead of spending a pass over the elements on it. A kernel forms the derivative while r
# is at hand and works in place on its own temporaries (no torch.where, which is slow on CPU: clamps
# give every piecewise loss).
#
# ``_Regression`` runs the kernel in its forward and multiplies the saved slope by the incoming
# gradient (a scalar unless reduction='none') in its backward: one pass. For a differentiable
# gradient (create_graph=True: second derivatives, gradient penalties) the backward runs the same
# kernel again on x - y while autograd records it, so there is no second formula for any loss; what
# the kernel overwrites in place is then a copy where autograd may have saved the original (see
# ``_scratch``). A ``weight`` is a constant factor of the backward's scalar; one that requires a
# gradient multiplies the Function's elementwise loss as plain autograd code instead, so that its
# gradient, and every derivative through it, come from autograd and the kernel's slope.

_Kernel = Callable[[Tensor, float, str, bool], tuple[Tensor, Optional[Tensor], float]]


def _scratch(r: Tensor) -> Tensor:
    """``r`` itself, to be overwritten; a copy if autograd records ``r`` (the create_graph pass of the
    backward), which may have saved it for the derivative of an op that read it (clamp, hypot)."""
    return r.clone() if r.requires_grad else r


def _l1_kernel(r: Tensor, p: float, mode: str, need_slope: bool) -> tuple[Tensor, Optional[Tensor], float]:
    slope = torch.sign(r) if need_slope else None  # sign(0) = 0, torch's gradient at the kink
    return reduce(r.abs_(), mode), slope, 1.0


def _mse_kernel(r: Tensor, p: float, mode: str, need_slope: bool) -> tuple[Tensor, Optional[Tensor], float]:
    if need_slope:  # the derivative is 2r: r itself is the slope, so it is squared out of place
        return reduce(r.square(), mode), r, 2.0
    return reduce(r.square_(), mode), None, 2.0


def _huber_kernel(r: Tensor, p: float, mode: str, need_slope: bool) -> tuple[Tensor, Optional[Tensor], float]:
    r"""With :math:`c = \operatorname{clamp}(r, -\delta, \delta)`: :math:`c (r - c/2)` is
    :math:`\tfrac12 r^2` inside and :math:`\delta (|r| - \tfrac12 \delta)` outside, no branch, no
    square of a large residual; and :math:`c` is the derivative."""
    c = r.clamp(-p, p)
    loss = _scratch(r).sub_(c, alpha=0.5).mul_(c)
    return reduce(loss, mode), c, 1.0


def _smooth_l1_kernel(
    r: Tensor, p: float, mode: str, need_slope: bool
) -> tuple[Tensor, Optional[Tensor], float]:
    huber, c, _ = _huber_kernel(r, p, mode, need_slope)  # Huber / beta, and so is its derivative
    return (huber.div_(p) if mode == "none" else huber / p), c, 1.0 / p


def _log_cosh_switch(dtype: torch.dtype) -> float:
    """Where the body log1p(2 sinh^2(r/2)) hands over to |r| + const: 2 sinh^2 must not overflow, and
    beyond it log cosh r = |r| - log 2 + log1p(e^{-2|r|}) must be |r| + const to the dtype's precision
    (e^{-160} in float32/64; e^{-20} in float16, whose range ends at 65504)."""
    return 80.0 if torch.finfo(dtype).max > 1e38 else 10.0


def _log_cosh_kernel(
    r: Tensor, p: float, mode: str, need_slope: bool
) -> tuple[Tensor, Optional[Tensor], float]:
    r"""With :math:`c = \operatorname{clamp}(r, -T, T)`:
    :math:`\operatorname{log1p}(2 \sinh^2(c/2)) + |r - c|`. The first term is accurate to a few ulp at
    every size (no cancellation as :math:`r \to 0`, no overflow below :math:`T`), and past :math:`T`
    the loss grows like :math:`|r|` exactly; the derivative is :math:`\tanh r`."""
    slope = torch.tanh(r) if need_slope else None
    switch = _log_cosh_switch(r.dtype)
    c = r.clamp(-switch, switch)
    excess = r.sub_(c).abs_()  # 0 unless |r| > T
    body = c.mul_(0.5).sinh_().square_().mul_(2).log1p_()
    return reduce(body.add_(excess), mode), slope, 1.0


def _quantile_kernel(
    r: Tensor, p: float, mode: str, need_slope: bool
) -> tuple[Tensor, Optional[Tensor], float]:
    r"""With :math:`r = x - y`: :math:`(1 - q) \max(r, 0) - q \min(r, 0)`, each part exact; the
    derivative :math:`(\operatorname{sign}(r) + 1 - 2q) / 2` is :math:`\tfrac12 - q` at a tie."""
    slope = torch.sign(r).add_(1 - 2 * p) if need_slope else None
    over = r.clamp_min(0)
    under = r.clamp_max_(0)  # not r - over: inf - inf would be NaN
    if mode == "none":
        return over.mul_(1 - p).add_(under, alpha=-p), slope, 0.5
    return reduce(over, mode) * (1 - p) - reduce(under, mode) * p, slope, 0.5


def _charbonnier_kernel(
    r: Tensor, p: float, mode: str, need_slope: bool
) -> tuple[Tensor, Optional[Tensor], float]:
    loss = torch.hypot(r, r.new_tensor(p))  # r^2 never formed: no overflow
    slope = _scratch(r).div_(loss) if need_slope else None  # r / sqrt(r^2 + eps^2), in [-1, 1]
    return reduce(loss, mode), slope, 1.0


def _forward(
    kernel: _Kernel,
    x: Tensor,
    y: Tensor,
    w: Optional[Tensor],
    p: float,
    reduction: str,
    by_weight: bool,
    need_slope: bool,
) -> tuple[Tensor, Optional[Tensor], float, object]:
    """The loss, the kernel's slope and scale, and what the sum was divided by (1 for 'sum' and 'none';
    with a ``weight``, 'mean' divides by the total weight if ``by_weight``, else by the count)."""
    count = x.numel() if reduction == "mean" else 1
    if w is None:
        return (*kernel(x - y, p, reduction, need_slope), count)
    value, slope, scale = kernel(x - y, p, "none", need_slope)
    value = value.mul_(w)
    if reduction != "mean":
        return (value if reduction == "none" else value.sum()), slope, scale, 1
    denominator = w.expand(x.shape).sum() if by_weight else count
    return value.sum() / denominator, slope, scale, denominator


class _Regression(torch.autograd.Function):
    """A regression loss given by its kernel, with a constant ``weight`` and the reduction folded in:
    the backward is one multiplication of the saved slope by a scalar (by the incoming gradient for
    reduction='none', and by the weight if there is one)."""

    @staticmethod
    def forward(
        ctx,
        x: Tensor,
        y: Tensor,
        w: Optional[Tensor],
        kernel: _Kernel,
        p: float,
        reduction: str,
        by_weight: bool,
    ) -> Tensor:
        value, slope, scale, denominator = _forward(kernel, x, y, w, p, reduction, by_weight, True)
        ctx.save_for_backward(x, y, w, slope)
        ctx.kernel, ctx.p, ctx.scale, ctx.denominator = kernel, p, scale, denominator
        return value

    @staticmethod
    def backward(ctx, g: Tensor):
        x, y, w, slope = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: the same kernel, recorded by autograd
            slope = ctx.kernel(x - y, ctx.p, "none", True)[1]
        scale, denominator = ctx.scale, ctx.denominator
        if isinstance(denominator, int) and denominator > 0:  # one op on the 0-dim gradient, or none
            k = g if scale == denominator == 1 else g * (scale / denominator)
        else:  # the total weight, or 0 elements (NaN, as the forward)
            k = g * scale / denominator
        if w is not None:
            k = k * w
        need_x, need_y = ctx.needs_input_grad[:2]
        grad = slope * k if need_x else None
        if need_y:
            return grad, (slope * -k if grad is None else torch.neg(grad)), None, None, None, None, None
        return grad, None, None, None, None, None, None


def _apply(
    kernel: _Kernel,
    x: Tensor,
    y: Tensor,
    w: Optional[Tensor],
    p: float,
    reduction: str,
    by_weight: bool = False,
) -> Tensor:
    """The loss, through ``_Regression`` where a gradient is needed. ``by_weight``: with a ``weight``,
    'mean' divides by the total (broadcast) weight (torch's rule for L1 and MSE), else by the count."""
    if torch.is_grad_enabled() and w is not None and w.requires_grad:
        # the weight's gradient, and derivatives through it, by autograd of the product with the
        # elementwise loss, whose own derivative is still the kernel's slope
        weighted = _Regression.apply(x, y, None, kernel, p, "none", False) * w
        if by_weight:
            return reduce_by_weight(weighted, w.expand(x.shape), reduction)
        return reduce(weighted, reduction)
    if torch.is_grad_enabled() and (x.requires_grad or y.requires_grad):
        return _Regression.apply(x, y, w, kernel, p, reduction, by_weight)
    return _forward(kernel, x, y, w, p, reduction, by_weight, False)[0]


@float32_under_autocast
def l1_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    weight: Optional[Tensor] = None,
) -> Tensor:
    r"""Mean absolute error.

    .. math::
        \ell_n = w_n |x_n - y_n|

    followed by ``reduction``. The gradient with respect to :math:`x_n` is
    :math:`w_n \operatorname{sign}(x_n - y_n)`, 0 where :math:`x_n = y_n` (as in torch).

    Args:
        input: predictions :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Without ``weight``, ``'mean'`` divides by the
            number of elements; with it, by the total weight :math:`\sum_n w_n` (torch's rule).
            Default: ``'mean'``.
        weight: optional weight :math:`w`, broadcastable to ``input``'s shape (torch requires
            exactly that shape). Default: ``None``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input (no broadcasting, see the module's notes).
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``/``weight``, or dtypes that differ.
        ValueError: shapes that differ, a ``weight`` that does not broadcast, an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import l1_loss
        >>> x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.5, 2.0, 1.0])
        >>> round(l1_loss(x, y).item(), 4)  # (0.5 + 0 + 2) / 3
        0.8333
        >>> l1_loss(x, y, weight=torch.tensor([2.0, 1.0, 1.0])).item()  # (2 * 0.5 + 0 + 2) / (2 + 1 + 1)
        0.75
    """
    _check_inputs(input, target, reduction, weight)
    return _apply(_l1_kernel, input, target, weight, 0.0, reduction, by_weight=True)


@float32_under_autocast
def mse_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    weight: Optional[Tensor] = None,
) -> Tensor:
    r"""Mean squared error.

    .. math::
        \ell_n = w_n (x_n - y_n)^2

    followed by ``reduction``; the gradient with respect to :math:`x_n` is :math:`2 w_n (x_n - y_n)`.

    Args:
        input: predictions :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Without ``weight``, ``'mean'`` divides by the
            number of elements; with it, by the total weight :math:`\sum_n w_n` (torch's rule).
            Default: ``'mean'``.
        weight: optional weight :math:`w`, broadcastable to ``input``'s shape (torch requires
            exactly that shape). Default: ``None``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``/``weight``, or dtypes that differ.
        ValueError: shapes that differ, a ``weight`` that does not broadcast, an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import mse_loss
        >>> x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.5, 2.0, 1.0])
        >>> round(mse_loss(x, y).item(), 4)  # (0.25 + 0 + 4) / 3
        1.4167
        >>> mse_loss(x, y, weight=torch.tensor([2.0, 1.0, 1.0])).item()  # (2 * 0.25 + 0 + 4) / 4
        1.125
    """
    _check_inputs(input, target, reduction, weight)
    return _apply(_mse_kernel, input, target, weight, 0.0, reduction, by_weight=True)


@float32_under_autocast
def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    r"""Smooth L1 loss (Fast R-CNN): quadratic below ``beta``, L1 above it.

    .. math::
        \ell_n = \begin{cases}
            \tfrac12 r_n^2 / \beta & |r_n| < \beta \\
            |r_n| - \tfrac12 \beta & \text{otherwise}
        \end{cases}, \qquad r_n = x_n - y_n,

    followed by ``reduction``. Value and slope are continuous at :math:`|r| = \beta`, and the slope
    never exceeds 1. ``beta=0`` is exactly :func:`l1_loss`, with its gradient
    (:math:`\operatorname{sign}(0) = 0`, never NaN). It equals :func:`huber_loss` divided by
    ``delta = beta``.

    The second derivative (``create_graph=True``) jumps from :math:`1/\beta` to 0 at
    :math:`|r| = \beta`; exactly there lossref takes the quadratic side, :math:`1/\beta`, and torch
    the linear side, 0 (one point of measure zero; ``tests/test_regression.py`` pins both).

    Args:
        input: predictions :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        beta: where the loss turns from quadratic to linear, :math:`\beta \ge 0`. Default: ``1.0``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``, dtypes that differ, a ``beta`` that is
            not a real number.
        ValueError: shapes that differ, ``beta < 0`` (or NaN), an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import smooth_l1_loss
        >>> x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.5, 2.0, 1.0])
        >>> smooth_l1_loss(x, y, reduction="none").tolist()  # 0.5**2 / 2, 0, 2 - 1/2
        [0.125, 0.0, 1.5]
        >>> round(smooth_l1_loss(x, y, beta=0.0).item(), 4)  # the L1 loss
        0.8333
    """
    _check_inputs(input, target, reduction)
    _check_beta(beta)
    if beta == 0:  # the L1 loss: no r**2 / 0 branch at all, so no 0 * inf = NaN (pytorch#96813)
        return _apply(_l1_kernel, input, target, None, 0.0, reduction)
    return _apply(_smooth_l1_kernel, input, target, None, beta, reduction)


@float32_under_autocast
def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Optional[Tensor] = None,
) -> Tensor:
    r"""Huber loss: quadratic below ``delta``, linear with slope ``delta`` above it.

    .. math::
        \ell_n = w_n \begin{cases}
            \tfrac12 r_n^2 & |r_n| < \delta \\
            \delta (|r_n| - \tfrac12 \delta) & \text{otherwise}
        \end{cases}, \qquad r_n = x_n - y_n,

    followed by ``reduction``. It is ``delta`` times :func:`smooth_l1_loss` with ``beta = delta``:
    the same shape, with the slope of the linear part :math:`\delta` instead of 1.

    The second derivative (``create_graph=True``) jumps from 1 to 0 at :math:`|r| = \delta`;
    exactly there lossref takes the quadratic side, 1, and torch the linear side, 0 (one point of
    measure zero; ``tests/test_regression.py`` pins both).

    Args:
        input: predictions :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'mean'`` divides by the number of elements,
            also with a ``weight`` (torch's rule for this loss, unlike :func:`l1_loss` and
            :func:`mse_loss`). Default: ``'mean'``.
        delta: where the loss turns from quadratic to linear, :math:`\delta > 0`. Default: ``1.0``.
        weight: optional weight :math:`w`, broadcastable to ``input``'s shape (torch requires
            exactly that shape). Default: ``None``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``/``weight``, dtypes that differ, a
            ``delta`` that is not a real number.
        ValueError: shapes that differ, ``delta <= 0`` (or NaN), a ``weight`` that does not broadcast,
            an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import huber_loss
        >>> x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.5, 2.0, 1.0])
        >>> huber_loss(x, y, delta=2.0, reduction="none").tolist()  # 0.5**2 / 2, 0, 2 (2 - 2/2)
        [0.125, 0.0, 2.0]
        >>> w = torch.tensor([2.0, 1.0, 1.0])
        >>> huber_loss(x, y, delta=2.0, weight=w).item()  # (2 * 0.125 + 0 + 2) / 3 elements
        0.75
    """
    _check_inputs(input, target, reduction, weight)
    _check_delta(delta)
    return _apply(_huber_kernel, input, target, weight, delta, reduction)


@float32_under_autocast
def log_cosh_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""Log-cosh loss: :math:`\tfrac12 r^2` for small residuals, :math:`|r| - \log 2` for large ones.

    .. math::
        \ell_n = \log \cosh(r_n), \qquad r_n = x_n - y_n,

    followed by ``reduction``; the gradient is :math:`\tanh(r_n)`. ``cosh`` overflows in float32 for
    :math:`|r| > 89`, so it is never formed: for  it is evaluated as
    :math:`\operatorname{log1p}(2 \sinh^2(c/2)) + |r - c|` with :math:`c` the residual clamped to
    :math:`\pm 80` (:math:`\pm 10` in float16): the first term is accurate to a few ulp at every size
    (the textbook :math:`|r| + \operatorname{softplus}(-2|r|) - \log 2` cancels as :math:`r \to 0`),
    and beyond 80 the loss is :math:`|r| - \log 2` to far below float64's precision, so it grows
    exactly like :math:`|r|`. The loss and gradient are finite for every finite residual.

    Args:
        input: predictions :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``, or dtypes that differ.
        ValueError: shapes that differ, an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import log_cosh_loss
        >>> loss = log_cosh_loss(torch.tensor([0.0, 1e4]), torch.tensor([0.0, 0.0]), reduction="none")
        >>> [round(v, 3) for v in loss.tolist()]  # 0, 1e4 - ln 2 (cosh(1e4) itself overflows)
        [0.0, 9999.307]
    """
    _check_inputs(input, target, reduction)
    return _apply(_log_cosh_kernel, input, target, None, 0.0, reduction)


@float32_under_autocast
def quantile_loss(input: Tensor, target: Tensor, q: float = 0.5, reduction: str = "mean") -> Tensor:
    r"""Quantile (pinball) loss, whose minimiser is the ``q``-quantile of the target.

    .. math::
        \ell_n = \max(q\, r_n, (q - 1)\, r_n), \qquad r_n = y_n - x_n \ \text{(target minus input)},

    followed by ``reduction``. An under-prediction (:math:`x < y`) costs :math:`q` per unit, an
    over-prediction :math:`1 - q`, so a constant prediction minimising the mean loss over a sample is
    its ``q``-quantile; ``q = 0.5`` gives half the :func:`l1_loss`. The gradient with respect to
    :math:`x_n` is :math:`-q` or :math:`1 - q`, and :math:`\tfrac12 - q` at :math:`r_n = 0` (the
    middle of the subdifferential, like :math:`\operatorname{sign}(0) = 0` for L1).

    Args:
        input: predictions :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``.
        q: the quantile, :math:`0 < q < 1`. Default: ``0.5`` (the median).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``, dtypes that differ, a ``q`` that is not
            a real number.
        ValueError: shapes that differ, ``q`` outside :math:`(0, 1)`, an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import quantile_loss
        >>> x, y = torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.0])
        >>> loss = quantile_loss(x, y, q=0.9, reduction="none")
        >>> [round(v, 6) for v in loss.tolist()]  # under by 1: 0.9 * 1; over by 1: (0.9 - 1) * -1
        [0.9, 0.1]
    """
    _check_inputs(input, target, reduction)
    _check_q(q)
    return _apply(_quantile_kernel, input, target, None, q, reduction)


@float32_under_autocast
def charbonnier_loss(input: Tensor, target: Tensor, eps: float = 1e-3, reduction: str = "mean") -> Tensor:
    r"""Charbonnier loss, a smooth L1: :math:`\sqrt{r^2 + \varepsilon^2}`.

    .. math::
        \ell_n = \sqrt{r_n^2 + \varepsilon^2}, \qquad r_n = x_n - y_n,

    followed by ``reduction``. This is the common definition (e.g. LapSRN, with
    :math:`\varepsilon = 10^{-3}`): :math:`\varepsilon` is **not** subtracted, so a perfect prediction
    costs :math:`\varepsilon`, not 0; the gradient, :math:`r_n / \sqrt{r_n^2 + \varepsilon^2}`, is the
    same either way. It is evaluated with ``hypot``, so :math:`r^2` never overflows. (Some code adds
    ``eps`` to :math:`r^2` unsquared; pass the square root of that value to match it.)

    Args:
        input: predictions :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``.
        eps: :math:`\varepsilon > 0`, the width of the rounded bottom. Default: ``1e-3``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``, dtypes that differ, an ``eps`` that is
            not a real number.
        ValueError: shapes that differ, ``eps <= 0`` (or NaN), an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import charbonnier_loss
        >>> x, y = torch.tensor([0.0, 4.0]), torch.tensor([0.0, 0.0])
        >>> charbonnier_loss(x, y, eps=3.0, reduction="none").tolist()  # sqrt(0 + 9), sqrt(16 + 9)
        [3.0, 5.0]
    """
    _check_inputs(input, target, reduction)
    _check_eps(eps)
    return _apply(_charbonnier_kernel, input, target, None, eps, reduction)


# -- modules ----------------------------------------------------------------------------------------


class L1Loss(_WeightedLoss):
    r"""Module form of :func:`l1_loss`.

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        weight: optional weight broadcastable to the input's shape, kept as a buffer (lossref
            extension; torch's module has none). Default: ``None``.

    Shape:
        As :func:`l1_loss`.

    Examples:
        >>> import torch
        >>> from lossref import L1Loss
        >>> L1Loss()(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0])).item()  # (1 + 2) / 2
        1.5
    """

    def __init__(self, reduction: str = "mean", weight: Optional[Tensor] = None) -> None:
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction, weight=self.weight)


class MSELoss(_WeightedLoss):
    r"""Module form of :func:`mse_loss`.

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        weight: optional weight broadcastable to the input's shape, kept as a buffer (lossref
            extension; torch's module has none). Default: ``None``.

    Shape:
        As :func:`mse_loss`.

    Examples:
        >>> import torch
        >>> from lossref import MSELoss
        >>> MSELoss()(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0])).item()  # (1 + 4) / 2
        2.5
    """

    def __init__(self, reduction: str = "mean", weight: Optional[Tensor] = None) -> None:
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction, weight=self.weight)


class SmoothL1Loss(_Loss):
    r"""Module form of :func:`smooth_l1_loss`.

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        beta: where the loss turns from quadratic to linear, :math:`\beta \ge 0`. Default: ``1.0``.

    Shape:
        As :func:`smooth_l1_loss`.

    Examples:
        >>> import torch
        >>> from lossref import SmoothL1Loss
        >>> SmoothL1Loss(beta=2.0)(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])).item()  # (1/4 + 2) / 2
        1.125
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        _check_beta(beta)
        self.beta = beta

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta}"

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_WeightedLoss):
    r"""Module form of :func:`huber_loss`.

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        delta: where the loss turns from quadratic to linear, :math:`\delta > 0`. Default: ``1.0``.
        weight: optional weight broadcastable to the input's shape, kept as a buffer (lossref
            extension; torch's module has none). Default: ``None``.

    Shape:
        As :func:`huber_loss`.

    Examples:
        >>> import torch
        >>> from lossref import HuberLoss
        >>> HuberLoss(delta=2.0)(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])).item()  # (1/2 + 4) / 2
        2.25
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0, weight: Optional[Tensor] = None) -> None:
        super().__init__(weight, reduction)
        _check_delta(delta)
        self.delta = delta

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, delta={self.delta}"

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta, weight=self.weight)


class LogCoshLoss(_Loss):
    r"""Module form of :func:`log_cosh_loss`.

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        As :func:`log_cosh_loss`.

    Examples:
        >>> import torch
        >>> from lossref import LogCoshLoss
        >>> round(LogCoshLoss()(torch.tensor([100.0]), torch.tensor([0.0])).item(), 4)  # 100 - ln 2
        99.3069
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return log_cosh_loss(input, target, reduction=self.reduction)


class QuantileLoss(_Loss):
    r"""Module form of :func:`quantile_loss`.

    Args:
        q: the quantile, :math:`0 < q < 1`. Default: ``0.5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        As :func:`quantile_loss`.

    Examples:
        >>> import torch
        >>> from lossref import QuantileLoss
        >>> criterion = QuantileLoss(q=0.75)
        >>> criterion(torch.tensor([0.0, 0.0]), torch.tensor([2.0, -2.0])).item()  # (1.5 + 0.5) / 2
        1.0
    """

    def __init__(self, q: float = 0.5, reduction: str = "mean") -> None:
        super().__init__(reduction)
        _check_q(q)
        self.q = q

    def extra_repr(self) -> str:
        return f"q={self.q}, {super().extra_repr()}"

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return quantile_loss(input, target, q=self.q, reduction=self.reduction)


class CharbonnierLoss(_Loss):
    r"""Module form of :func:`charbonnier_loss`.

    Args:
        eps: :math:`\varepsilon > 0`. Default: ``1e-3``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        As :func:`charbonnier_loss`.

    Examples:
        >>> import torch
        >>> from lossref import CharbonnierLoss
        >>> CharbonnierLoss(eps=3.0)(torch.tensor([4.0, 0.0]), torch.tensor([0.0, 0.0])).item()  # (5 + 3) / 2
        4.0
    """

    def __init__(self, eps: float = 1e-3, reduction: str = "mean") -> None:
        super().__init__(reduction)
        _check_eps(eps)
        self.eps = eps

    def extra_repr(self) -> str:
        return f"eps={self.eps}, {super().extra_repr()}"

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return charbonnier_loss(input, target, eps=self.eps, reduction=self.reduction)
