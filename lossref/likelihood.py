r"""Negative log-likelihoods of a Gaussian (with a predicted variance) and of a Poisson count.

:func:`gaussian_nll_loss` and :func:`poisson_nll_loss` have torch 2.13's signatures, positional
order, options and numbers, the variance clamp with its gradient included; where lossref answers
differently (shapes, error messages) the docstrings say so. The sympy definitions are
``GAUSSIAN_NLL`` and ``POISSON_NLL`` in :mod:`lossref.symbolic`.
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._loss import _Loss
from lossref._reduction import legacy_reduction
from lossref._reduction import reduce as reduce_loss  # `reduce` is torch's legacy argument here
from lossref._validation import (
    check_elementwise,
    check_like,
    check_nonnegative,
    check_tensor,
)

__all__ = ["gaussian_nll_loss", "poisson_nll_loss", "GaussianNLLLoss", "PoissonNLLLoss"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class _ClampMin(torch.autograd.Function):
    r"""``max(v, eps)`` whose gradient passes to ``v`` unchanged, also where ``v < eps``: torch's
    ``gaussian_nll_loss`` clamps a copy of the variance under ``no_grad``, so its gradient is the
    loss's derivative at the clamped value, handed to ``v`` as if there were no clamp."""

    generate_vmap_rule = True

    @staticmethod
    def forward(v: Tensor, eps: float) -> Tensor:
        return v.clamp_min(eps)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        pass

    @staticmethod
    def backward(ctx, g: Tensor):
        return g, None


def _variance(var: Union[Tensor, float], input: Tensor) -> Tensor:
    """``var`` checked and shaped to broadcast against ``input`` by torch's rules."""
    if not isinstance(var, Tensor):
        if isinstance(var, bool) or not isinstance(var, (float, int)):
            check_tensor(var, "var")  # raises, naming what was given
        if not var >= 0:
            raise ValueError(f"var must be non-negative (a variance), got {var!r}")
        return input.new_full((), float(var))
    check_like(var, "var", input)
    if var.shape == input.shape:
        pass
    elif input.dim() > 0 and var.shape == input.shape[:-1]:  # one variance per row: homoscedastic
        var = var.unsqueeze(-1)
    else:
        same_dims = var.dim() == input.dim()
        mismatched = [d for d in range(var.dim()) if same_dims and var.shape[d] != input.shape[d]]
        if not (same_dims and len(mismatched) == 1 and var.shape[mismatched[0]] == 1):
            expected = f"{tuple(input.shape)}, {tuple(input.shape[:-1])}" if input.dim() else "()"
            raise ValueError(
                f"var of shape {tuple(var.shape)} does not fit input of shape {tuple(input.shape)}: expected "
                f"one of {expected}, or the input's shape with one dimension of size 1 (one variance shared "
                f"along it)"
            )
    check_nonnegative(var, "var", "a variance")
    return var


@float32_under_autocast
def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Union[Tensor, float],
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    r"""The negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and variance ``var``.

    .. math::
        \ell_n = \frac{1}{2}\left(\log \max(\sigma^2_n, \epsilon)
                 + \frac{(x_n - y_n)^2}{\max(\sigma^2_n, \epsilon)}\right)
                 \; \left[+ \tfrac{1}{2} \log 2\pi \text{ with } \texttt{full=True}\right],

    followed by ``reduction``. For a fixed variance this is the MSE scaled by :math:`1 / 2\sigma^2`
    plus a constant; with a predicted variance the model learns its own noise level
    (heteroscedastic regression).

    The clamp is torch's, gradient included: torch clamps a copy of the variance under ``no_grad``,
    so for :math:`\sigma^2 < \epsilon` the gradient with respect to ``var`` is the derivative at
    :math:`\epsilon`, :math:`\tfrac12 (1/\epsilon - (x - y)^2 / \epsilon^2)`, passed straight to the
    variance (not 0, as the derivative of the clamp would give): at :math:`\sigma^2 = 10^{-8}`,
    :math:`x - y = 1` and the default :math:`\epsilon = 10^{-6}` it is about :math:`-5 \cdot 10^{11}`.

    ``var`` is a tensor of one variance per element (the input's shape), per row (the input's
    shape without its last dimension, or with it of size 1), shared along any one dimension of size
    1 (the input's shape with one dimension set to 1), or a number for all elements, as torch accepts
    them. Where lossref differs from torch (2.13): ``target`` must have the input's shape (torch
    broadcasts it); ``var`` may be a Python ``int`` as well as a ``float`` (torch raises ``TypeError``
    for an int); and the errors name the argument, what was expected and what was found.

    Args:
        input: the predicted mean :math:`x`, any shape, floating dtype.
        target: the observation :math:`y`, same shape and dtype as ``input``.
        var: the predicted variance :math:`\sigma^2 \ge 0` (shapes above), or a number.
        full: add the constant :math:`\tfrac12 \log 2\pi`, so that the loss is the full negative
            log-density. Default: ``False``.
        eps: the lower clamp of the variance. Default: ``1e-6``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, *)` or :math:`(*)`.
        - target: same shape as input.
        - var: same shape as input, or input's without its last dimension, or with one dimension
          of size 1; or a number.
        - output: scalar, or the input's shape with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``/``var`` tensors, or dtypes that differ.
        ValueError: shapes that do not match, a negative variance (this check reads the data, so it
            synchronises with the GPU; NaN passes and gives NaN), or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import gaussian_nll_loss
        >>> x, y = torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0])
        >>> # (ln 2 + 1/2) / 2 and ln 2 / 2, averaged
        >>> round(gaussian_nll_loss(x, y, torch.tensor([2.0, 2.0])).item(), 4)
        0.4716
        >>> round(gaussian_nll_loss(x, y, 2.0, full=True).item(), 4)
        1.3905
    """
    check_elementwise(input, target, reduction)
    v = _ClampMin.apply(_variance(var, input), eps)
    loss = 0.5 * (torch.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + _HALF_LOG_2PI
    return reduce_loss(loss, reduction)


class GaussianNLLLoss(_Loss):
    r"""The Gaussian negative log-likelihood: :func:`gaussian_nll_loss` as a module.

    .. math::
        \ell_n = \frac{1}{2}\left(\log \max(\sigma^2_n, \epsilon)
                 + \frac{(x_n - y_n)^2}{\max(\sigma^2_n, \epsilon)}\right)
                 \; \left[+ \tfrac{1}{2} \log 2\pi\right],

    followed by ``reduction``; called as ``loss(input, target, var)``. The clamp's gradient, the shapes
    of ``var`` and the checks are the function's.

    Args:
        full: add the constant :math:`\tfrac12 \log 2\pi`. Default: ``False``.
        eps: the lower clamp of the variance. Default: ``1e-6``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, *)` or :math:`(*)`.
        - target: same shape as input.
        - var: same shape as input, or input's without its last dimension, or with one dimension
          of size 1; or a number.
        - output: scalar, or the input's shape with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import GaussianNLLLoss
        >>> loss = GaussianNLLLoss(full=True)
        >>> x, y, var = torch.zeros(3, 2), torch.ones(3, 2), torch.ones(3)
        >>> round(loss(x, y, var).item(), 4)  # (1 + ln 2 pi) / 2
        1.4189
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Union[Tensor, float]) -> Tensor:
        return gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, full={self.full}, eps={self.eps}"


@float32_under_autocast
def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: Optional[bool] = None,
    eps: float = 1e-8,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The negative log-likelihood of counts ``target`` under a Poisson distribution of rate ``input``.

    .. math::
        \ell_n = e^{x_n} - y_n x_n \quad (\texttt{log\_input=True}), \qquad
        \ell_n = x_n - y_n \log(x_n + \epsilon) \quad (\texttt{log\_input=False}),

    plus, with ``full=True``, the Stirling approximation of :math:`\log y_n!`,
    :math:`y_n \log y_n - y_n + \tfrac12 \log(2\pi y_n)`, **only where** :math:`y_n > 1` (0 elsewhere,
    as in torch: there the approximation is poor, and :math:`\log 0! = \log 1! = 0`), followed by
    ``reduction``. With ``log_input=True`` the input is the log-rate, and the gradient
    :math:`e^{x_n} - y_n` needs no ``eps``; :math:`e^{x}` overflows only where the loss does
    (:math:`x \gtrsim 88.7` in float32).

    Where lossref differs from torch (2.13): with ``full=True`` the gradient with respect to
    ``target`` is 0 wherever :math:`y_n \le 1` (the term is 0 there); torch's is NaN at
    :math:`y_n = 0` (the masked term's :math:`0 \cdot \infty`). ``target`` must have the input's shape.

    Args:
        input: the log-rate :math:`x` (``log_input=True``) or the rate (``log_input=False``), any
            shape, floating dtype.
        target: the counts :math:`y \ge 0`, same shape and dtype as ``input`` (not checked to be
            integers: that would read the data).
        log_input: whether ``input`` is the log of the rate. Default: ``True``.
        full: add the Stirling term where :math:`y > 1`. Default: ``False``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        eps: added to the rate inside the log with ``log_input=False``. Default: ``1e-8``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``, or dtypes that differ.
        ValueError: shapes that do not match, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import poisson_nll_loss
        >>> log_rate, counts = torch.tensor([0.0, 1.0]), torch.tensor([1.0, 3.0])
        >>> # (1 - 0 + e - 3) / 2
        >>> round(poisson_nll_loss(log_rate, counts).item(), 4)
        0.3591
        >>> rate = torch.tensor([2.0])
        >>> round(poisson_nll_loss(rate, counts[1:], log_input=False).item(), 4)
        -0.0794
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_elementwise(input, target, reduction)
    if log_input:
        loss = torch.exp(input) - target * input
    else:
        loss = input - target * torch.log(input + eps)
    if full:
        counted = target > 1
        y = torch.where(counted, target, 2.0)  # finite where the term is left out: its gradient is 0
        stirling = y * torch.log(y) - y + 0.5 * torch.log(2 * math.pi * y)
        loss = loss + torch.where(counted, stirling, 0.0)
    return reduce_loss(loss, reduction)


class PoissonNLLLoss(_Loss):
    r"""The Poisson negative log-likelihood: :func:`poisson_nll_loss` as a module.

    .. math::
        \ell_n = e^{x_n} - y_n x_n \quad (\texttt{log\_input=True}), \qquad
        \ell_n = x_n - y_n \log(x_n + \epsilon) \quad (\texttt{log\_input=False}),

    plus the Stirling term :math:`y_n \log y_n - y_n + \tfrac12 \log(2\pi y_n)` where :math:`y_n > 1`
    with ``full=True``, followed by ``reduction``.

    Args:
        log_input: whether the input is the log of the rate. Default: ``True``.
        full: add the Stirling term where the target is above 1. Default: ``False``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        eps: added to the rate inside the log with ``log_input=False``. Default: ``1e-8``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import PoissonNLLLoss
        >>> loss = PoissonNLLLoss(full=True)
        >>> # e^0 - 0 + (2 ln 2 - 2 + ln(4 pi) / 2)
        >>> round(loss(torch.tensor([0.0]), torch.tensor([2.0])).item(), 4)
        1.6518
    """

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: Optional[bool] = None,
        eps: float = 1e-8,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return poisson_nll_loss(
            input, target, log_input=self.log_input, full=self.full, eps=self.eps, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, log_input={self.log_input}, full={self.full}, eps={self.eps}"
