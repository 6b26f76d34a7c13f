r"""Binary cross-entropy, on probabilities and on logits.

Both are the negative log-likelihood of a Bernoulli variable :math:`y \in [0, 1]` with success
probability :math:`p`, or :math:`p = \sigma(x)` for a logit :math:`x`. The derivations are in the
book's chapter *Binary cross-entropy* and in :mod:`lossref.symbolic`.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from lossref._autocast import float32_under_autocast, refused_under_autocast
from lossref._loss import _WeightedLoss
from lossref._reduction import legacy_reduction, reduce_backward
from lossref._reduction import reduce as reduce_loss  # `reduce` is torch's legacy argument here
from lossref._validation import (
    check_floating,
    check_like,
    check_optional_weight,
    check_reduction,
    check_same_shape,
    check_unit_interval,
)

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "BCELoss", "BCEWithLogitsLoss"]

# torch clamps each log term of BCE on probabilities at -100 and bounds the backward's denominator
# below by ATen's EPSILON, 1e-12 as a float32 (9.99999996e-13, in float64 too); both are matched so
# that p in {0, 1} gives a finite loss and gradient.
LOG_FLOOR = -100.0
GRAD_EPS = float(torch.tensor(1e-12, dtype=torch.float32))


def _clamped_logs(p: Tensor) -> tuple[Tensor, Tensor]:
    """``max(log p, -100)`` and ``max(log(1 - p), -100)``, as torch computes them."""
    return torch.log(p).clamp_min(LOG_FLOOR), torch.log1p(-p).clamp_min(LOG_FLOOR)


class _BCE(torch.autograd.Function):
    r"""Elementwise BCE of probabilities, reduced, with torch's backward: a custom Function because that
    backward is not the derivative of the loss it returns, so autograd cannot produce it.

    The gradient with respect to :math:`p` is :math:`w (p - y) / \max(p (1 - p), 10^{-12})`, not the
    derivative of the clamped loss (which is 0 where the clamp acts): it keeps pulling a confidently
    wrong prediction towards the target. The gradients with respect to ``target`` and ``weight`` are
    the derivatives of the clamped loss. The backward is differentiable torch code on the inputs.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(p: Tensor, y: Tensor, w: Optional[Tensor], reduction: str) -> Tensor:
        log_p, log_1mp = _clamped_logs(p)
        # y log p + (1 - y) log(1 - p) as one lerp: torch's lerp is exact at y = 0 and y = 1
        neg_loss = torch.lerp(log_1mp, log_p, y)
        if w is not None:
            neg_loss = neg_loss * w
        return -reduce_loss(neg_loss, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        p, y, w, ctx.reduction = inputs
        ctx.save_for_backward(p, y, w)

    @staticmethod
    def backward(ctx, g: Tensor):
        p, y, w = ctx.saved_tensors
        g = reduce_backward(g, ctx.reduction, p.numel())  # 0-dim unless reduction='none'
        gw = g if w is None else g * w
        grad_p = grad_y = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_p = (p - y) / (p * (1 - p)).clamp_min(GRAD_EPS) * gw
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            log_p, log_1mp = _clamped_logs(p)
            if ctx.needs_input_grad[1]:
                grad_y = (log_1mp - log_p) * gw
            if ctx.needs_input_grad[2]:
                grad_w = (-g * torch.lerp(log_1mp, log_p, y)).sum_to_size(w.shape)
        return grad_p, grad_y, grad_w, None


@refused_under_autocast
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Binary cross-entropy between predicted probabilities and targets.

    .. math::
        \ell_n = -w_n \left[ y_n \max(\log p_n, -100) + (1 - y_n) \max(\log(1 - p_n), -100) \right]

    followed by ``reduction``. The clamp at :math:`-100` is torch's: a prediction of exactly 0 or 1
    on the wrong side costs 100 instead of :math:`\infty`. The gradient with respect to :math:`p_n` is
    torch's too, :math:`w_n (p_n - y_n) / \max(p_n (1 - p_n), 10^{-12})`, bounded
    but never zero for a wrong prediction.

    The gradient with respect to ``target`` is the derivative of the loss as computed,
    :math:`w_n [\max(\log(1 - p_n), -100) - \max(\log p_n, -100)]`: at most 100 in magnitude.
    torch's is :math:`w_n [\log(1 - p_n) - \log p_n]` without the clamp, so it differs below
    :math:`p_n = e^{-100}` (or above :math:`1 - e^{-100}`) and is infinite at :math:`p_n \in \{0, 1\}`
    (``tests/test_bce.py`` pins both).

    Prefer :func:`binary_cross_entropy_with_logits` when you have logits: in float32
    ``sigmoid(x)`` rounds to 1 for :math:`x \gtrsim 17`, so a label 0 there costs the clamp's 100
    whatever :math:`x` is, while the logit form returns :math:`x` (to rounding). In float16/bfloat16
    that happens from :math:`x = 9` / :math:`7` on, so under :func:`torch.autocast` this function
    raises (torch raises under CUDA autocast; lossref on every device).

    Args:
        input: probabilities :math:`p`, any shape, floating dtype, values in :math:`[0, 1]`.
        target: :math:`y`, same shape and dtype as ``input``, values in :math:`[0, 1]`
            (fractional values are soft labels).
        weight: optional rescaling weight :math:`w`, broadcastable to ``input``'s shape.
            Default: ``None`` (all ones).
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'mean'`` divides the sum by the number
            of elements (not by the sum of the weights). Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``/``weight``, or dtypes that differ.
        ValueError: shapes that do not match, a ``weight`` that does not broadcast, an unknown
            ``reduction``, or an ``input``/``target`` value outside :math:`[0, 1]` (NaN included; this
            check reads the data, so it synchronises with the GPU).
        RuntimeError: called under :func:`torch.autocast` (use :func:`binary_cross_entropy_with_logits`).

    Examples:
        >>> import torch
        >>> from lossref import binary_cross_entropy
        >>> p = torch.tensor([0.9, 0.2, 0.5])
        >>> y = torch.tensor([1.0, 0.0, 1.0])
        >>> # (-ln .9 - ln .8 - ln .5) / 3
        >>> round(binary_cross_entropy(p, y).item(), 4)
        0.3406
        >>> # the log is clamped at -100, as in torch
        >>> binary_cross_entropy(torch.zeros(1), torch.ones(1)).item()
        100.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(input, "input")
    check_like(target, "target", input)
    check_same_shape(target, input)
    check_optional_weight(weight, "weight", input)
    check_reduction(reduction)
    check_unit_interval(input, "input")
    check_unit_interval(target, "target")

    return _BCE.apply(input, target, weight, reduction)


@float32_under_autocast
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
    pos_weight: Optional[Tensor] = None,
) -> Tensor:
    r"""Binary cross-entropy of logits: ``sigmoid`` and BCE in one numerically stable expression.

    .. math::
        \ell_n = w_n \left[ c_n\, y_n \operatorname{softplus}(-x_n)
                 + (1 - y_n) \operatorname{softplus}(x_n) \right],
        \qquad \operatorname{softplus}(z) = \log(1 + e^{z}) = -\log \sigma(-z),

    followed by ``reduction``; :math:`c` is ``pos_weight``. This equals
    :math:`-w_n [c_n y_n \log \sigma(x_n) + (1 - y_n) \log(1 - \sigma(x_n))]`; each softplus is computed
    as ``-logsigmoid``, which is accurate for every finite argument, and both terms are non-negative,
    so nothing cancels. The gradient is :math:`w_n [(1 - y_n)\sigma(x_n) - c_n y_n \sigma(-x_n)]`,
    which is :math:`\sigma(x_n) - y_n` for :math:`w = c = 1`.

    Where lossref is more accurate than torch (2.13): torch returns exactly 0 for the loss of a
    confident correct negative (``x = -40, y = 0``: true value :math:`4.25 \cdot 10^{-18}`) and for the
    gradient of a confident correct positive (``x = 40, y = 1``: true value
    :math:`-4.25 \cdot 10^{-18}`); lossref gets both right to the tested relative accuracy,
    :math:`10^{-6}` in float32 and :math:`10^{-13}` in float64.

    Non-finite input: NaN in ``input`` or ``target`` gives NaN. A logit of :math:`\pm\infty` gives
    :math:`+\infty` where the target puts weight on the wrong side (torch gives NaN for
    :math:`-\infty`), and NaN where the target agrees exactly (:math:`0 \cdot \infty`, as in torch);
    a finite result is never made up.

    Args:
        input: logits :math:`x`, any shape, floating dtype.
        target: :math:`y`, same shape and dtype as ``input``; values in :math:`[0, 1]` for a
            cross-entropy (not checked here: that would read the data and synchronise the GPU).
        weight: optional rescaling weight :math:`w`, broadcastable to ``input``'s shape.
            Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` divides by the number of
            elements. Default: ``'mean'``.
        pos_weight: optional weight :math:`c` of the positive term, broadcast against ``input``
            like any tensor: a shape :math:`(C,)` weight applies along the **last** dimension,
            so for an :math:`(N, C, H, W)` input with classes in dimension 1 pass shape
            :math:`(C, 1, 1)`. :math:`c > 1` raises recall, :math:`c < 1` precision.
            Default: ``None``.

    Shape:
        - input: :math:`(*)`; for multi-label classification :math:`(N, C)`.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer arguments, or dtypes that differ from ``input``'s.
        ValueError: shapes that do not match, a ``weight``/``pos_weight`` that does not broadcast
            to ``input``'s shape, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import binary_cross_entropy_with_logits
        >>> x = torch.tensor([2.0, -1.0, 0.0])
        >>> y = torch.tensor([1.0, 0.0, 1.0])
        >>> round(binary_cross_entropy_with_logits(x, y).item(), 4)
        0.3778
        >>> # a confident, correct negative: torch rounds this loss to 0
        >>> x, y = torch.tensor([-40.0]), torch.tensor([0.0])
        >>> f"{binary_cross_entropy_with_logits(x, y).item():.4g}"
        '4.248e-18'
        >>> # pos_weight per class of a (N, C) multi-label problem
        >>> x, y = torch.zeros(4, 3), torch.ones(4, 3)
        >>> loss = binary_cross_entropy_with_logits(
        ...     x, y, pos_weight=torch.tensor([1.0, 2.0, 3.0])
        ... )
        >>> round(loss.item(), 4)  # ln 2 * (1 + 2 + 3) / 3
        1.3863
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(input, "input")
    check_like(target, "target", input)
    check_same_shape(target, input)
    check_optional_weight(weight, "weight", input)
    if pos_weight is not None:
        hint = ""
        if pos_weight.dim() == 1 and input.dim() > 2 and pos_weight.shape[0] == input.shape[1]:
            hint = f"; for classes in dimension 1 use pos_weight.view(-1, *[1] * {input.dim() - 2})"
        check_optional_weight(pos_weight, "pos_weight", input, hint)
    check_reduction(reduction)

    return _BCEWithLogits.apply(input, target, weight, pos_weight, reduction)


def _coefficients(x: Tensor, y: Tensor, c: Optional[Tensor]) -> tuple[Tensor, Optional[Tensor]]:
    r""":math:`a = h (1 - y) - (1 - h) c y` and :math:`k = 1 - y + c y` (``None`` without ``pos_weight``,
    where :math:`k = 1`), with :math:`h = 1, \tfrac12, 0` as :math:`x >` , :math:`=`, :math:`< 0`."""
    # sign and two in-place passes: 3 times faster on the CPU than heaviside, which is not vectorized
    h = torch.sign(x).add_(1).mul_(0.5)
    if c is None:
        return torch.sub(h, y), None
    not_y, c_y = 1 - y, c * y
    return torch.lerp(-c_y, not_y, h), not_y + c_y


def bce_with_logits_terms(input: Tensor, target: Tensor, pos_weight: Optional[Tensor] = None) -> Tensor:
    """The elementwise BCE of logits, unreduced and unweighted, for losses built on it (the sigmoid
    focal loss): the accurate value and gradient of :class:`_BCEWithLogits`, without the checks."""
    return _BCEWithLogits.apply(input, target, None, pos_weight, "none")


class _BCEWithLogits(torch.autograd.Function):
    r"""Elementwise BCE of logits, reduced: a custom Function because its forward (the value only, in
    place where it can) and backward measured 1.27 to 1.30 times faster eager, and 1.16 to 1.45 times
    compiled, than autograd of the softplus form
    :math:`w [(1 - y) \operatorname{softplus}(x) + c y \operatorname{softplus}(-x)]` (1M and 4M float32
    elements, reduction ``'mean'``, 2 threads).

    With :math:`h = (1 + \operatorname{sign}(x)) / 2`, :math:`l = \operatorname{softplus}(-|x|)
    = \log(1 + e^{-|x|})`, :math:`k = 1 - y + c y` and :math:`a = h (1 - y) - (1 - h) c y`, the value is

    .. math::
        \ell = w (a x + k l),

    a sum of non-negative terms (:math:`a x \ge 0`, :math:`k l > 0`), so nothing cancels. The backward
    is differentiable torch code on the inputs. With :math:`s = \sigma(-|x|) \le \tfrac12`, the
    accurate one of :math:`\sigma(x)` and :math:`\sigma(-x)` (the other is :math:`1 - s`), the
    gradient :math:`w [(1 - y) \sigma(x) - c y \sigma(-x)]` is

    .. math::
        \partial \ell / \partial x = w\, (a - \operatorname{sign}(x)\, k s),

    :math:`(1 - y) - k s` or :math:`-c y + k s`: exact at :math:`y \in \{0, 1\}`, so a confident
    correct prediction keeps its tiny gradient, with one sigmoid. The gradients of ``target``,
    ``weight`` and ``pos_weight`` are derived the same way.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, y: Tensor, w: Optional[Tensor], c: Optional[Tensor], reduction: str) -> Tensor:
        # Each temporary is full size, so ops work in place where the tensor written already depends
        # on every operand (under vmap an unbatched tensor cannot take a batched operand in place).
        neg_l = torch.exp(-x.abs()).log1p_().neg_()  # -l = -log1p(exp(-|x|)), fused under compile
        a, k = _coefficients(x, y, c)
        loss = a.mul_(x).sub_(neg_l if k is None else neg_l * k)  # -0 - -0 is +0
        return reduce_loss(loss if w is None else loss * w, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, y, w, c, ctx.reduction = inputs
        ctx.save_for_backward(x, y, w, c)

    @staticmethod
    def backward(ctx, g: Tensor):
        x, y, w, c = ctx.saved_tensors
        g = reduce_backward(g, ctx.reduction, x.numel())  # 0-dim unless reduction='none'
        gw = g if w is None else g * w
        grad_x = grad_y = grad_w = grad_c = None
        if ctx.needs_input_grad[0]:
            # (1 - y) p - c y q = a - sign(x) k s, with s = sigma(-|x|) <= 1/2 the accurate one of p, q
            a, k = _coefficients(x, y, c)
            s = x.abs().neg_().sigmoid_()
            ks = torch.sign(x).mul_(s if k is None else k * s)
            grad_x = a.sub_(ks) * gw
        if any(ctx.needs_input_grad[1:4]):
            sp_pos = -F.logsigmoid(-x)  # softplus(x)
            sp_neg = -F.logsigmoid(x)  # softplus(-x)
            c_sp_neg = sp_neg if c is None else c * sp_neg
            if ctx.needs_input_grad[1]:
                grad_y = gw * (c_sp_neg - sp_pos)
            if ctx.needs_input_grad[2]:
                grad_w = (g * torch.lerp(sp_pos, c_sp_neg, y)).sum_to_size(w.shape)
            if ctx.needs_input_grad[3]:
                grad_c = (gw * y * sp_neg).sum_to_size(c.shape)
        return grad_x, grad_y, grad_w, grad_c, None


class BCELoss(_WeightedLoss):
    r"""Binary cross-entropy between predicted probabilities and targets: :func:`binary_cross_entropy`
    as a module.

    .. math::
        \ell_n = -w_n \left[ y_n \max(\log p_n, -100) + (1 - y_n) \max(\log(1 - p_n), -100) \right],

    followed by ``reduction``; the clamp, the gradient and the checks are the function's. Prefer
    :class:`BCEWithLogitsLoss` on logits.

    Args:
        weight: optional rescaling weight :math:`w`, broadcastable to the input's shape; kept as a
            buffer. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'mean'`` divides the sum by the number of
            elements. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, probabilities in :math:`[0, 1]`.
        - target: :math:`(*)`, same shape as input, values in :math:`[0, 1]`.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import BCELoss
        >>> loss = BCELoss()
        >>> p, y = torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0])
        >>> round(loss(p, y).item(), 4)  # (-ln 0.9 - ln 0.8) / 2
        0.1643
    """

    def __init__(
        self,
        weight: Optional[Tensor] = None,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, reduction, size_average=size_average, reduce=reduce)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    r"""Binary cross-entropy of logits, sigmoid included: :func:`binary_cross_entropy_with_logits` as
    a module.

    .. math::
        \ell_n = w_n \left[ c_n\, y_n \operatorname{softplus}(-x_n)
                 + (1 - y_n) \operatorname{softplus}(x_n) \right],

    followed by ``reduction``, with :math:`c` the ``pos_weight``; accurate for every finite logit
    (see the function).

    Args:
        weight: optional rescaling weight :math:`w`, broadcastable to the input's shape; kept as a
            buffer. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'mean'`` divides by the number of
            elements. Default: ``'mean'``.
        pos_weight: optional weight :math:`c` of the positive term, broadcast against the input (a
            :math:`(C,)` tensor applies along the last dimension); kept as a buffer. Default: ``None``.

    Shape:
        - input: :math:`(*)`, logits; for multi-label classification :math:`(N, C)`.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import BCEWithLogitsLoss
        >>> loss = BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))
        >>> # 3 ln 2
        >>> round(loss(torch.tensor([0.0]), torch.tensor([1.0])).item(), 4)
        2.0794
    """

    pos_weight: Optional[Tensor]

    def __init__(
        self,
        weight: Optional[Tensor] = None,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
        pos_weight: Optional[Tensor] = None,
    ) -> None:
        super().__init__(weight, reduction, size_average=size_average, reduce=reduce)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
