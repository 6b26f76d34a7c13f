r"""Focal losses (Lin et al. 2017): cross-entropy scaled by :math:`(1 - p_t)^\gamma`.

Both are plain autograd over the accurate primitives of ``lossref/_primitives.py``:
:math:`1 - p_t` is formed without cancellation (from :math:`\sigma(\pm x)` of ``sigmoid_pair``, or as
:math:`-\operatorname{expm1}(\log p_t)` from :func:`~lossref.log_softmax`), so the loss and its
gradient are accurate for confident predictions. The base of :math:`(1 - p_t)^\gamma` is clamped at
the dtype's smallest normal number, so its gradient is finite for every finite logit and every
:math:`\gamma \ge 0`, fractional ones included (the textbook form's :math:`\gamma (1 - p_t)^{\gamma -
1}` is infinite at :math:`p_t = 1` when :math:`\gamma < 1`); below it the loss is below that number
too.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from lossref._autocast import float32_under_autocast
from lossref._class_scores import class_dim, pick_target
from lossref._primitives import log_softmax, sigmoid_pair
from lossref._reduction import reduce, reduce_by_weight
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
from lossref.bce import BCEWithLogitsLoss, bce_with_logits_terms
from lossref.distributed import Sync, check_sync, group_of

__all__ = ["sigmoid_focal_loss", "softmax_focal_loss", "FocalLoss", "SoftmaxFocalLoss"]


def _check_gamma(gamma: float) -> None:
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")


def _check_alpha(alpha: float) -> None:
    if not alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], or negative to disable the weighting; got {alpha}")


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
    torchvision. Plain autograd: :math:`1 - p_t = y_n \sigma(-x_n) + (1 - y_n) \sigma(x_n)` from
    ``sigmoid_pair`` (whose derivative :math:`\sigma(x)\sigma(-x)` autograd of ``torch.sigmoid`` would
    round to 0 for large logits) and the BCE, value and gradient, from
    :func:`~lossref.binary_cross_entropy_with_logits`, so no custom ``autograd.Function`` of its own;
    the gradient is finite for every finite logit and every :math:`\gamma \ge 0`.

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
        >>> # 0.5**2 ln 2, sigma(-3)**2 ln(1 + e**-3)
        >>> [round(v, 6) for v in loss.tolist()]
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
    ce = bce_with_logits_terms(input, target, pos_weight)
    p, q = sigmoid_pair(input)
    # 1 - p_t = (1 - y) p + y q, exact at y in {0, 1}; soft labels add non-negative parts
    loss = ce * _focal_factor(torch.lerp(p, q, target), gamma)
    if alpha >= 0:
        loss = loss * (target * (2 * alpha - 1) + (1 - alpha))  # alpha y + (1 - alpha)(1 - y)
    return reduce(loss if weight is None else loss * weight, reduction)


def _focal_factor(one_minus_pt: Tensor, gamma: float) -> Tensor:
    r""":math:`(1 - p_t)^\gamma`, the base clamped at the dtype's smallest normal number: the derivative
    :math:`\gamma s^{\gamma - 1}` is then finite for :math:`\gamma < 1` (0 below the clamp), and the
    loss, :math:`(1 - p_t)^\gamma` times a cross-entropy of the order of :math:`1 - p_t`, changes only
    below that number."""
    return one_minus_pt.clamp_min(torch.finfo(one_minus_pt.dtype).tiny).pow(gamma)


@float32_under_autocast
def softmax_focal_loss(
    input: Tensor,
    target: Tensor,
    alpha: Optional[Tensor] = None,
    gamma: float = 2.0,
    ignore_index: int = -100,
    reduction: str = "mean",
    *,
    sync: Sync = False,
) -> Tensor:
    r"""Multi-class focal loss of logits and class indices.

    .. math::
        \ell_n = -\alpha_{y_n} (1 - p_{n, y_n})^{\gamma} \log p_{n, y_n},
        \qquad p = \operatorname{softmax}(x),

    0 where :math:`y_n` is ``ignore_index``. :math:`1 - p_{n,y}` is computed as
    :math:`-\operatorname{expm1}(\log p_{n,y})` from the accurate :func:`~lossref.log_softmax`, so it
    stays accurate when the prediction is confident.
    ``'mean'`` averages over the targets that are not ignored (the :math:`\alpha` do not normalise; NaN
    if all are ignored, with gradient 0). An ignored sample costs nothing and has gradient 0, also
    where all its logits are :math:`-\infty` (padding). With ``gamma = 0`` and ``alpha`` as
    ``weight`` this is :func:`~lossref.cross_entropy` up to the normalisation of ``'mean'``. Plain
    autograd over that log-softmax, whose backward keeps the gradient of a confident prediction: no
    custom ``autograd.Function`` is needed (the gradient is finite for every :math:`\gamma \ge 0`,
    see the module's notes). Float32 accuracy has the limit
    of :func:`~lossref.log_softmax` (a relative error of a few :math:`10^{-6}` in :math:`1 - p_t`,
    raised to :math:`\gamma`, for confident predictions).

    Args:
        input: logits, shape :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`, floating.
        target: class indices, shape :math:`()` or :math:`(N, d_1, \ldots, d_k)`, integer dtype.
        alpha: optional per-class weight of shape :math:`(C)`. Default: ``None`` (all ones).
        gamma: focusing parameter :math:`\gamma \ge 0`. Default: ``2.0``.
        ignore_index: target value that is ignored. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Raises:
        TypeError: non-integer ``target``, non-floating ``input``, or an ``alpha`` of another dtype.
        ValueError: shapes that do not match, a class index out of range (this check reads the data),
            an ``alpha`` without one entry per class, ``gamma < 0``, an unknown ``reduction``, or
            an ``input`` without classes (torch raises an IndexError there).

    Examples:
        >>> import torch
        >>> from lossref import softmax_focal_loss
        >>> x = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
        >>> y = torch.tensor([0, 0])
        >>> loss = softmax_focal_loss(x, y, gamma=1.0, reduction="none")
        >>> # 0.5 ln 2, p = 1/(1+e**-2): (1 - p) (-ln p)
        >>> [round(v, 6) for v in loss.tolist()]
        [0.346574, 0.01513]
    """
    num_classes = check_class_scores(input)
    check_tensor(target, "target")
    check_index_target(target, input, num_classes, ignore_index)
    check_class_weight(alpha, "alpha", input, num_classes)
    _check_gamma(gamma)
    check_reduction(reduction)
    log_probs = log_softmax(input, class_dim(input))
    log_pt, alpha_t, keep = pick_target(log_probs, target, alpha, ignore_index)
    # 1 - p_t accurate where p_t is close to 1, as log p_t is
    # 0 - (...): +0, not -0, where ignored or where log p_t rounds to 0
    loss = (0.0 - alpha_t * log_pt) * _focal_factor(-torch.expm1(log_pt), float(gamma))
    return reduce_by_weight(loss, keep.to(input.dtype), reduction, group_of(sync))


class FocalLoss(nn.Module):
    r"""Binary focal loss of logits, :math:`\alpha_t (1 - p_t)^\gamma` times the binary
    cross-entropy of each element: the module form of :func:`sigmoid_focal_loss`, where the formula
    is; also a drop-in for YOLOv5's ``FocalLoss`` wrapper.

    ``FocalLoss(BCEWithLogitsLoss(...), gamma, alpha)`` takes ``weight``, ``pos_weight`` and
    ``reduction`` from the given :class:`~lossref.BCEWithLogitsLoss` (or ``torch.nn.BCEWithLogitsLoss``),
    as YOLOv5's wrapper does, and returns the same numbers.

    Args:
        loss_fcn: optional BCE-with-logits module whose options are used. Default: ``None``.
        gamma: focusing parameter :math:`\gamma \ge 0`. Default: ``2.0``.
        alpha: positive-class weight in :math:`[0, 1]`, negative to disable. Default: ``0.25``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``, used when no ``loss_fcn`` is given (the
            function's default is ``'none'``, as torchvision's). Default: ``'mean'``.

    Shape:
        - input: logits, any shape :math:`(*)`.
        - target: labels in :math:`[0, 1]`, the input's shape.
        - output: scalar; with ``reduction='none'``, the input's shape.

    Examples:
        >>> import torch
        >>> from lossref import BCEWithLogitsLoss, FocalLoss
        >>> criterion = FocalLoss(BCEWithLogitsLoss(), gamma=1.5, alpha=0.25)
        >>> # 0.25 * 0.5**1.5 * ln 2
        >>> round(criterion(torch.zeros(4), torch.ones(4)).item(), 5)
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
    r"""Multi-class focal loss of logits and class indices,
    :math:`-\alpha_{y} (1 - p_{y})^{\gamma} \log p_{y}` with :math:`p` the softmax: the module form
    of :func:`softmax_focal_loss`, where the formula and the normalisation of ``'mean'`` are.

    Args:
        alpha: optional per-class weight of shape :math:`(C)`, kept as a buffer. Default: ``None``.
        gamma: focusing parameter :math:`\gamma \ge 0`. Default: ``2.0``.
        ignore_index: target value that is ignored. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input: logits, :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`.
        - target: class indices, :math:`()` or :math:`(N, d_1, \ldots, d_k)`, integer dtype.
        - output: scalar; with ``reduction='none'``, the target's shape.

    Examples:
        >>> import torch
        >>> from lossref import SoftmaxFocalLoss
        >>> criterion = SoftmaxFocalLoss(gamma=1.0)
        >>> x, y = torch.zeros(2, 4), torch.tensor([0, 3])
        >>> round(criterion(x, y).item(), 6)  # (3/4) ln 4
        1.039721
    """

    alpha: Optional[Tensor]

    def __init__(
        self,
        alpha: Optional[Tensor] = None,
        gamma: float = 2.0,
        ignore_index: int = -100,
        reduction: str = "mean",
        *,
        sync: Sync = False,
    ) -> None:
        super().__init__()
        _check_gamma(gamma)
        check_reduction(reduction)
        self.register_buffer("alpha", alpha)
        self.gamma, self.ignore_index, self.reduction = gamma, ignore_index, reduction
        self.sync = check_sync(sync)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return softmax_focal_loss(
            input, target, self.alpha, self.gamma, self.ignore_index, self.reduction, sync=self.sync
        )

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, ignore_index={self.ignore_index}, reduction={self.reduction!r}"
