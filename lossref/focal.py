r"""Focal losses (Lin et al. 2017): cross-entropy scaled by :math:`(1 - p_t)^\gamma`.

:math:`1 - p_t` is formed without cancellation (from :math:`\sigma(\pm x)`, or as the sum of the other
classes' probabilities), so the loss is accurate for confident predictions, and both losses have a
derived backward whose gradient is finite for every finite logit and every :math:`\gamma \ge 0`,
fractional ones included (autograd of the textbook :math:`(1 - p_t)^{\gamma}` gives NaN at
:math:`p_t = 1` when :math:`\gamma < 1`). The composite forms used for other gradients and second
derivatives take :math:`\log(1 - p_t)` from log-sigmoid / log-sum-exp terms for the same reason.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossref._autocast import float32_under_autocast
from lossref._class_scores import drop_ignored_rows, finite_max, gradient_by_autograd, sum_without_max
from lossref._reduction import reduce, reduce_backward, reduce_by_weight
from lossref._validation import (
    check_class_scores,
    check_class_weight,
    check_floating,
    check_index_target,
    check_like,
    check_optional_weight,
    check_reduction,
    check_same_shape,
    check_tensor,
)
from lossref.bce import BCEWithLogitsLoss
from lossref.cross_entropy import log_softmax

__all__ = ["sigmoid_focal_loss", "softmax_focal_loss", "FocalLoss", "SoftmaxFocalLoss"]


def _check_gamma(gamma: float) -> None:
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")


def _check_alpha(alpha: float) -> None:
    if not alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], or negative to disable the weighting; got {alpha}")


def _binary_focal(
    x: Tensor, y: Tensor, alpha: float, gamma: float, weight: Optional[Tensor], pos_weight: Optional[Tensor]
) -> Tensor:
    ls_pos, ls_neg = F.logsigmoid(x), F.logsigmoid(-x)  # log p, log(1 - p): exact for every logit
    positive = y if pos_weight is None else y * pos_weight
    ce = -(positive * ls_pos + (1 - y) * ls_neg)  # BCE with logits, a sum of non-negative terms
    # log(1 - p_t) = log(y (1 - p) + (1 - y) p): exactly log(1 - p) or log p for a hard label, and a
    # logaddexp for a soft one (never fed log 0 = -inf, whose second derivative there is NaN)
    soft = (y > 0) & (y < 1)
    y_soft = torch.where(soft, y, 0.5)
    mixed = torch.logaddexp(torch.log(y_soft) + ls_neg, torch.log1p(-y_soft) + ls_pos)
    log_1m_pt = torch.where(soft, mixed, torch.lerp(ls_pos, ls_neg, y))
    loss = ce if gamma == 0 else ce * torch.exp(gamma * log_1m_pt)
    if alpha >= 0:
        loss = loss * (alpha * y + (1 - alpha) * (1 - y))
    return loss if weight is None else loss * weight


@float32_under_autocast
def sigmoid_focal_loss(
    input: Tensor,
    target: Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "none",
    *,
    weight: Optional[Tensor] = None,
    pos_weight: Optional[Tensor] = None,
) -> Tensor:
    r"""Binary focal loss of logits, with torchvision's semantics (``torchvision.ops.sigmoid_focal_loss``).

    .. math::
        \ell_n = \alpha_t (1 - p_t)^{\gamma}\, \operatorname{BCE}(x_n, y_n), \qquad
        p_t = y_n \sigma(x_n) + (1 - y_n)(1 - \sigma(x_n)), \qquad
        \alpha_t = \alpha y_n + (1 - \alpha)(1 - y_n),

    where the BCE is :func:`~lossref.binary_cross_entropy_with_logits` (with ``weight`` and
    ``pos_weight`` if given). ``alpha < 0`` disables :math:`\alpha_t`; ``gamma = 0`` and ``alpha < 0``
    give the BCE itself. Soft targets are allowed. Note the default ``reduction='none'``, as in
    torchvision.

    Args:
        input: logits, any shape, floating.
        target: labels in :math:`[0, 1]`, same shape and dtype as ``input``.
        alpha: weight of the positive class in :math:`[0, 1]`, or negative to disable. Default: ``0.25``.
        gamma: focusing parameter :math:`\gamma \ge 0`. Default: ``2.0``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'none'``.
        weight: optional element weight broadcastable to ``input`` (lossref extension). Default: ``None``.
        pos_weight: optional positive-term weight of the BCE, as in
            :func:`~lossref.binary_cross_entropy_with_logits` (lossref extension). Default: ``None``.

    Raises:
        TypeError: non-floating or mismatched dtypes.
        ValueError: shapes that do not match, ``gamma < 0``, ``alpha > 1``, a ``weight`` or
            ``pos_weight`` that does not broadcast, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import sigmoid_focal_loss
        >>> x, y = torch.tensor([0.0, 3.0]), torch.tensor([1.0, 1.0])
        >>> loss = sigmoid_focal_loss(x, y, alpha=-1, gamma=2.0)
        >>> [round(v, 6) for v in loss.tolist()]  # 0.5**2 ln 2, sigma(-3)**2 ln(1 + e**-3)
        [0.173287, 0.000109]
    """
    check_floating(input, "input")
    check_like(target, "target", input)
    check_same_shape(target, input)
    check_optional_weight(weight, "weight", input)
    check_optional_weight(pos_weight, "pos_weight", input)
    _check_gamma(gamma)
    _check_alpha(alpha)
    check_reduction(reduction)
    return _BinaryFocal.apply(input, target, weight, pos_weight, alpha, gamma, reduction)


class _BinaryFocal(torch.autograd.Function):
    r"""Binary focal loss with the derived gradient as its backward.

    With :math:`q = 1 - p_t = y \sigma(-x) + (1 - y) \sigma(x)` (non-negative terms), the BCE
    :math:`b` and its derivative :math:`b'`:

    .. math::
        \frac{\partial \ell}{\partial x} = \alpha_t q^{\gamma}
        \left[\gamma (1 - 2y) \frac{\sigma(x) \sigma(-x)}{q}\, b + b'\right],

    where for a hard label both terms have the same sign, and :math:`\sigma(x)\sigma(-x)/q` is the
    other sigmoid, finite even where :math:`q` underflows (:math:`q` is then clamped, and multiplied
    by :math:`q^\gamma = 0`). Gradients for target, weight, pos_weight and second derivatives re-run
    the composite :func:`_binary_focal` under autograd.
    """

    @staticmethod
    def forward(ctx, x, y, w, c, alpha: float, gamma: float, reduction: str) -> Tensor:
        sig_pos, sig_neg = torch.sigmoid(x), torch.neg(x).sigmoid_()  # relative accuracy for every x
        # softplus(+-x) = relu(+-x) - log sigma(|x|), the log shared and taken as log1p(-sigma(-|x|));
        # relu(-x) = relu(x) - x exactly (two softplus kernels cost twice this)
        log_sig_abs = torch.minimum(sig_pos, sig_neg).neg_().log1p_()
        relu_pos = x.clamp(min=0)
        softplus_neg = (relu_pos - x).sub_(log_sig_abs)
        softplus_pos = relu_pos.sub_(log_sig_abs)
        not_y = 1 - y
        cy = y if c is None else c * y
        ce = torch.mul(not_y, softplus_pos).addcmul_(cy, softplus_neg)  # the BCE, non-negative terms
        q = torch.mul(not_y, sig_pos).addcmul_(y, sig_neg)
        scale = q.pow(gamma)
        if alpha >= 0:
            scale.mul_((not_y * (1 - alpha)).add_(y, alpha=alpha))
        if w is not None:
            scale.mul_(w)
        derivative = None
        if ctx.needs_input_grad[0]:
            derivative = torch.mul(not_y, sig_pos).addcmul_(cy, sig_neg, value=-1)  # the BCE's
            if gamma != 0:
                ratio = sig_pos.mul_(sig_neg).div_(q.clamp_min_(torch.finfo(q.dtype).tiny))
                derivative.addcmul_(ratio.mul_(ce), not_y - y, value=gamma)
            derivative.mul_(scale)
        ctx.save_for_backward(x, y, w, c, derivative)
        ctx.alpha, ctx.gamma, ctx.reduction = alpha, gamma, reduction
        return reduce(scale.mul_(ce), reduction)

    @staticmethod
    def backward(ctx, g: Tensor):
        x, y, w, c, derivative = ctx.saved_tensors
        create_graph = torch.is_grad_enabled()
        if any(ctx.needs_input_grad[1:4]) or create_graph:  # autograd of the composite
            needs = ctx.needs_input_grad[:4]
            with torch.enable_grad():
                args = [
                    t if t is None or create_graph else t.detach().requires_grad_(need)
                    for t, need in zip((x, y, w, c), needs, strict=True)
                ]
                x_, y_, w_, c_ = args
                loss = reduce(_binary_focal(x_, y_, ctx.alpha, ctx.gamma, w_, c_), ctx.reduction)
                wrt = [t for t, need in zip(args, needs, strict=True) if need]
                grads = iter(torch.autograd.grad(loss, wrt, g, create_graph=create_graph))
            return (*(next(grads) if need else None for need in needs), None, None, None)
        return derivative * reduce_backward(g, ctx.reduction, x.numel()), None, None, None, None, None, None


@float32_under_autocast
def softmax_focal_loss(
    input: Tensor,
    target: Tensor,
    alpha: Optional[Tensor] = None,
    gamma: float = 2.0,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    r"""Multi-class focal loss of logits and class indices.

    .. math::
        \ell_n = -\alpha_{y_n} (1 - p_{n, y_n})^{\gamma} \log p_{n, y_n},
        \qquad p = \operatorname{softmax}(x),

    0 where :math:`y_n` is ``ignore_index``. :math:`1 - p_{n,y}` is computed as
    :math:`\sum_{k \ne y} p_{n,k}`, so it stays accurate when the prediction is confident.
    ``'mean'`` averages over the targets that are not ignored (the :math:`\alpha` do not normalise; NaN
    if all are ignored, with gradient 0). An ignored sample costs nothing and has gradient 0, also
    where all its logits are :math:`-\infty` (padding). With ``gamma = 0`` and ``alpha`` as
    ``weight`` this is :func:`~lossref.cross_entropy` up to the normalisation of ``'mean'``. The
    backward is the derived gradient (``_SoftmaxFocal`` in the source); float32 accuracy has the limit
    of :func:`~lossref.log_softmax` (a relative error of a few :math:`10^{-6}` in :math:`1 - p_t`,
    raised to :math:`\gamma`, for confident predictions).

    Args:
        input: logits, shape :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`, floating.
        target: class indices, shape :math:`()` or :math:`(N, d_1, \ldots, d_k)`, integer dtype.
        alpha: optional per-class weight of shape :math:`(C)`. Default: ``None`` (all ones).
        gamma: focusing parameter :math:`\gamma \ge 0`. Default: ``2.0``.
        ignore_index: target value that is ignored. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Raises:
        TypeError: non-integer ``target``, non-floating ``input``, or an ``alpha`` of another dtype.
        ValueError: shapes that do not match, a class index out of range (this check reads the data),
            an ``alpha`` without one entry per class, ``gamma < 0``, an unknown ``reduction``, or
            an ``input`` without classes (torch raises an IndexError there).

    Examples:
        >>> import torch
        >>> from lossref import softmax_focal_loss
        >>> x = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
        >>> loss = softmax_focal_loss(x, torch.tensor([0, 0]), gamma=1.0, reduction="none")
        >>> [round(v, 6) for v in loss.tolist()]  # 0.5 ln 2, p = 1/(1+e**-2): (1 - p) (-ln p)
        [0.346574, 0.01513]
    """
    num_classes = check_class_scores(input)
    check_tensor(target, "target")
    check_index_target(target, input, num_classes, ignore_index)
    check_class_weight(alpha, "alpha", input, num_classes)
    _check_gamma(gamma)
    check_reduction(reduction)
    return _SoftmaxFocal.apply(input, target, alpha, float(gamma), ignore_index, reduction)


def _softmax_focal(
    x: Tensor, target: Tensor, alpha: Optional[Tensor], gamma: float, ignore_index: int, reduction: str
) -> Tensor:
    """The softmax focal loss from differentiable primitives, for alpha's gradient and second derivatives."""
    dim = 0 if x.dim() == 1 else 1
    log_probs = log_softmax(drop_ignored_rows(x, target, ignore_index), dim)
    keep = target != ignore_index
    safe = torch.where(keep, target, 0).long().unsqueeze(dim)
    log_pt = log_probs.gather(dim, safe).squeeze(dim)
    # log(1 - p_t) = logsumexp over the other classes: its gradient stays finite at p_t = 1 for any
    # gamma >= 0; a finite fill keeps C = 1 free of NaN gradients
    others = log_probs.scatter(dim, safe, torch.finfo(x.dtype).min)
    loss = -log_pt if gamma == 0 else -log_pt * torch.exp(gamma * torch.logsumexp(others, dim))
    if alpha is not None:
        loss = loss * alpha[safe.squeeze(dim)]
    # selected, not multiplied by keep: 'mean' with every target ignored divides by 0, and its gradient,
    # inf, times 0 is NaN
    return reduce_by_weight(torch.where(keep, loss, 0), keep.to(x.dtype), reduction)


class _SoftmaxFocal(torch.autograd.Function):
    r"""Softmax focal loss with its derived gradient.

    With :math:`s = 1 - p_t = \sum_{k \ne t} p_k` (a sum of positive terms, accurate also when the
    prediction is confident) and :math:`\ell = -\alpha_t s^\gamma \log p_t`,

    .. math::
        \frac{\partial \ell}{\partial x_k} = (p_k - \delta_{kt})\, \frac{A}{s},
        \qquad A = \alpha_t s^{\gamma} (s - \gamma\, p_t \log p_t) \ge 0 .

    Both terms of :math:`A` are non-negative, so nothing cancels; at :math:`k = t` the factor
    :math:`p_t - 1 = -s` cancels the division, and elsewhere :math:`p_k / s \le 1`. At :math:`s = 0`
    (:math:`p_t = 1`) the gradient is 0 for every :math:`\gamma \ge 0`, fractional ones included.
    Gradients for ``alpha`` and second derivatives re-run :func:`_softmax_focal` under autograd.
    """

    @staticmethod
    def forward(
        ctx,
        x: Tensor,
        target: Tensor,
        alpha: Optional[Tensor],
        gamma: float,
        ignore_index: int,
        reduction: str,
    ) -> Tensor:
        dim = 0 if x.dim() == 1 else 1
        ignored = (target == ignore_index).unsqueeze(dim)
        keep = ~ignored
        t = torch.where(keep, target.unsqueeze(dim), 0).long()
        # as in cross_entropy: e = exp(x - max), r = sum of e without the maximum's 1 (see sum_without_max),
        # and ignored rows of -inf (padding) with e = 0 and r masked to 0 (see finite_max)
        shifted = x - finite_max(x, dim)
        shifted_t = shifted.gather(dim, t).masked_fill_(ignored, 0.0)  # ignored rows may hold -inf
        e = shifted.exp_()
        rest = sum_without_max(e, dim).masked_fill_(ignored, 0.0)
        one_plus_rest = 1 + rest
        nll = torch.log1p(rest) - shifted_t  # -log p_t, +0 (not -0) in the loss where ignored
        p_t = shifted_t.exp() / one_plus_rest
        # s (1 + r) = sum of e over k != t = r + (1 - e_t): two non-negative terms, no cancellation
        s_num = rest - torch.expm1(shifted_t)
        s = s_num / one_plus_rest
        w = keep.to(x.dtype) if alpha is None else alpha[t] * keep
        w_factor = w * s.pow(gamma)  # 0 ** 0 = 1: gamma = 0 is cross-entropy
        ctx.save_for_backward(x, target, alpha, e, s_num, p_t, nll, s, w_factor, t, keep)
        ctx.gamma, ctx.ignore_index, ctx.reduction = gamma, ignore_index, reduction
        return reduce_by_weight((w_factor * nll).squeeze(dim), keep.squeeze(dim).to(x.dtype), reduction)

    @staticmethod
    def backward(ctx, g: Tensor):
        x, target, alpha, e, s_num, p_t, nll, s, w_factor, t, keep = ctx.saved_tensors
        if ctx.needs_input_grad[2] or torch.is_grad_enabled():  # alpha's gradient, or create_graph
            grad_x, grad_alpha = gradient_by_autograd(
                ctx.needs_input_grad,
                g,
                x,
                alpha,
                lambda x_, a_: _softmax_focal(x_, target, a_, ctx.gamma, ctx.ignore_index, ctx.reduction),
            )
            return grad_x, None, grad_alpha, None, None, None
        dim = 0 if x.dim() == 1 else 1
        if ctx.reduction == "none":
            g = g.unsqueeze(dim)
        elif ctx.reduction == "mean":
            # every target ignored: the loss is 0/0, NaN, and its gradient 0, as cross_entropy's
            count = keep.sum()
            g = torch.where(count == 0, 0, g / count)
        a = g * w_factor * (s + ctx.gamma * p_t * nll)
        # (p_k / s) A = e_k A / s_num for k != t (A = 0 where s_num = 0) ...
        grad = e * (a / s_num.clamp_min(torch.finfo(e.dtype).tiny))
        grad.scatter_(dim, t, -a)  # ... and (p_t - 1) A / s = -A at the target
        return grad, None, None, None, None, None


class FocalLoss(nn.Module):
    r"""Module form of :func:`sigmoid_focal_loss`; also a drop-in for YOLOv5's ``FocalLoss`` wrapper.

    ``FocalLoss(BCEWithLogitsLoss(...), gamma, alpha)`` takes ``weight``, ``pos_weight`` and
    ``reduction`` from the given :class:`~lossref.BCEWithLogitsLoss` (or ``torch.nn.BCEWithLogitsLoss``),
    as YOLOv5's wrapper does, and returns the same numbers.

    Args:
        loss_fcn: optional BCE-with-logits module whose options are used. Default: ``None``.
        gamma: focusing parameter :math:`\gamma \ge 0`. Default: ``2.0``.
        alpha: positive-class weight in :math:`[0, 1]`, negative to disable. Default: ``0.25``.
        reduction: used when no ``loss_fcn`` is given. Default: ``'mean'``.

    Examples:
        >>> import torch
        >>> from lossref import BCEWithLogitsLoss, FocalLoss
        >>> criterion = FocalLoss(BCEWithLogitsLoss(), gamma=1.5, alpha=0.25)
        >>> round(criterion(torch.zeros(4), torch.ones(4)).item(), 5)  # 0.25 * 0.5**1.5 * ln 2
        0.06127
    """

    weight: Optional[Tensor]
    pos_weight: Optional[Tensor]

    def __init__(
        self,
        loss_fcn: Optional[nn.Module] = None,
        gamma: float = 2.0,
        alpha: float = 0.25,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        if loss_fcn is not None and not isinstance(loss_fcn, (BCEWithLogitsLoss, nn.BCEWithLogitsLoss)):
            raise TypeError(f"loss_fcn must be a BCEWithLogitsLoss, got {type(loss_fcn).__name__}")
        _check_gamma(gamma)
        _check_alpha(alpha)
        self.gamma, self.alpha = gamma, alpha
        self.reduction = reduction if loss_fcn is None else loss_fcn.reduction
        check_reduction(self.reduction)
        self.register_buffer("weight", None if loss_fcn is None else loss_fcn.weight)
        self.register_buffer("pos_weight", None if loss_fcn is None else loss_fcn.pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return sigmoid_focal_loss(
            input,
            target,
            self.alpha,
            self.gamma,
            self.reduction,
            weight=self.weight,
            pos_weight=self.pos_weight,
        )

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction!r}"


class SoftmaxFocalLoss(nn.Module):
    r"""Module form of :func:`softmax_focal_loss`.

    Args:
        alpha: optional per-class weight of shape :math:`(C)`, kept as a buffer. Default: ``None``.
        gamma: focusing parameter. Default: ``2.0``.
        ignore_index: target value that is ignored. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
    """

    alpha: Optional[Tensor]

    def __init__(
        self,
        alpha: Optional[Tensor] = None,
        gamma: float = 2.0,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        _check_gamma(gamma)
        check_reduction(reduction)
        self.register_buffer("alpha", alpha)
        self.gamma, self.ignore_index, self.reduction = gamma, ignore_index, reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return softmax_focal_loss(input, target, self.alpha, self.gamma, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, ignore_index={self.ignore_index}, reduction={self.reduction!r}"
