r"""Poly-1 cross-entropy (PolyLoss, Leng et al. 2022).

Cross-entropy is :math:`-\log P_t = \sum_{j \ge 1} (1 - P_t)^j / j`, a series in :math:`1 - P_t`.
PolyLoss (Leng et al., *PolyLoss: A Polynomial Expansion Perspective of Classification Loss
Functions*, ICLR 2022) perturbs its leading coefficient: Poly-1 adds :math:`\varepsilon (1 - P_t)`,
one extra hyperparameter, and is cross-entropy at :math:`\varepsilon = 0`. The loss is plain autograd
over :func:`~lossref.log_softmax`, and :math:`1 - p_y = -\operatorname{expm1}(\log p_y)` (as in
:func:`~lossref.softmax_focal_loss`), so the loss and its gradient are accurate for confident
predictions.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._class_scores import class_dim, index_nll
from lossref._loss import _WeightedLoss
from lossref._primitives import log_softmax
from lossref._reduction import reduce_by_weight
from lossref._validation import (
    check_class_scores,
    check_class_weight,
    check_index_target,
    check_label_smoothing,
    check_real_number,
    check_reduction,
    check_tensor,
)
from lossref.distributed import Sync, check_sync, group_of

__all__ = ["poly1_cross_entropy", "Poly1CrossEntropyLoss"]


def _check_no_probabilities(target: Tensor, input: Tensor) -> None:
    if target.is_floating_point():
        dim = 0 if input.dim() == 1 else 1
        raise TypeError(
            f"target of class indices must have an integer dtype, got {target.dtype}; poly1_cross_entropy "
            f"takes class indices only, not class probabilities: pass target.long() for class indices, "
            f"target.argmax(dim={dim}) for one-hot probabilities, and label_smoothing for smoothed targets"
        )


@float32_under_autocast
def poly1_cross_entropy(
    input: Tensor,
    target: Tensor,
    epsilon: float = 1.0,
    weight: Optional[Tensor] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    *,
    sync: Sync = False,
) -> Tensor:
    r"""Poly-1 loss of logits and class indices: cross-entropy plus :math:`\varepsilon (1 - P_t)`.

    From Leng et al., *PolyLoss: A Polynomial Expansion Perspective of Classification Loss Functions*
    (ICLR 2022). With :math:`p = \operatorname{softmax}(x_n)`, the smoothed target
    :math:`q = (1 - \lambda)\, \mathrm{onehot}(y_n) + \lambda / C` (:math:`\lambda` is
    ``label_smoothing``) and :math:`P_t = \sum_k q_k p_k` (the paper's reference code; :math:`P_t =
    p_{y_n}` without smoothing),

    .. math::
        \ell_n = \operatorname{CE}_n + \varepsilon\, w_{y_n} (1 - P_t),
        \qquad 1 - P_t = (1 - \lambda) \sum_{k \ne y_n} p_k + \lambda \frac{C - 1}{C},

    where :math:`\operatorname{CE}_n` is :func:`~lossref.cross_entropy` with ``reduction='none'`` and
    the same ``weight``, ``ignore_index`` and ``label_smoothing``; 0 where :math:`y_n` is
    ``ignore_index``. ``'mean'`` divides :math:`\sum_n \ell_n` by :math:`\sum_{n \text{ not ignored}}
    w_{y_n}`, cross-entropy's denominator (NaN if every target is ignored, with gradient 0, as there;
    ignored rows of :math:`-\infty` logits cost nothing there either), so the result
    is cross-entropy plus :math:`\varepsilon` times the same reduction of :math:`w_{y_n} (1 - P_t)`;
    :math:`\varepsilon = 0` is cross-entropy. :math:`1 - p_{y_n}` is
    :math:`-\operatorname{expm1}(\log p_{y_n})` from the accurate :func:`~lossref.log_softmax` and never
    cancels, so a confident correct prediction keeps its accuracy. Plain autograd over that
    log-softmax, whose backward keeps the gradient of a confident prediction: no custom
    ``autograd.Function`` is needed. Without smoothing the gradient is

    .. math::
        \frac{\partial \ell_n}{\partial x_n} = w_{y_n} (1 + \varepsilon p_{y_n})
        \bigl(p - \mathrm{onehot}(y_n)\bigr).

    :math:`\varepsilon` may be negative (the paper tries :math:`\varepsilon = -1`); the loss is still
    the formula above, and where the two terms nearly cancel (:math:`\varepsilon = -1` and
    :math:`1 - p_{y_n} = s` small, where :math:`\ell_n \approx s^2 / 2`) the value has only an
    absolute accuracy of a few ulp of :math:`s`.

    Args:
        input: logits, shape :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`, floating.
        target: class indices, shape :math:`()` or :math:`(N, d_1, \ldots, d_k)`, integer dtype, values
            in :math:`[0, C)` or ``ignore_index``. Class probabilities are not supported.
        epsilon: :math:`\varepsilon`, the coefficient of :math:`1 - P_t`, a finite real number.
            Default: ``1.0``.
        weight: per-class weight of shape :math:`(C)`, same dtype as ``input``. Default: ``None``.
        ignore_index: a target value that contributes neither loss nor weight. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        label_smoothing: :math:`\lambda \in [0, 1]`, the weight moved from the target onto the uniform
            distribution, in both terms. Default: ``0.0``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input: :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`.
        - target: :math:`()` or :math:`(N, d_1, \ldots, d_k)`.
        - output: scalar, or the target's shape with ``reduction='none'``.

    Raises:
        TypeError: float targets (class probabilities), non-floating ``input``, mismatched dtypes, or an
            ``epsilon`` that is not a real number.
        ValueError: shapes that do not match, a class index out of range (this check reads the data),
            a ``weight`` without one entry per class, ``label_smoothing`` outside :math:`[0, 1]`, a
            non-finite ``epsilon``, an unknown ``reduction``, or an ``input`` without classes (torch
            raises an IndexError there).

    Examples:
        >>> import math, torch
        >>> from lossref import poly1_cross_entropy
        >>> # p = (1/4, 3/4) and (1/2, 1/2)
        >>> x = torch.tensor([[0.0, math.log(3)], [0.0, 0.0]])
        >>> y = torch.tensor([1, 0])
        >>> loss = poly1_cross_entropy(x, y, reduction="none")
        >>> [round(v, 6) for v in loss.tolist()]  # ln(4/3) + 1/4, ln 2 + 1/2
        [0.537682, 1.193147]
        >>> loss = poly1_cross_entropy(x, y, epsilon=-1.0)
        >>> round(loss.item(), 6)  # (ln(4/3) - 1/4 + ln 2 - 1/2) / 2
        0.115415
    """
    num_classes = check_class_scores(input)
    check_tensor(target, "target")
    _check_no_probabilities(target, input)
    check_index_target(target, input, num_classes, ignore_index)
    check_class_weight(weight, "weight", input, num_classes)
    check_reduction(reduction)
    check_label_smoothing(label_smoothing)
    epsilon = check_real_number(epsilon, "epsilon")
    log_probs = log_softmax(input, class_dim(input))
    ce, w, log_p_y = index_nll(log_probs, target, weight, ignore_index, label_smoothing)
    # 1 - p_y accurate where p_y is close to 1, as log p_y is (exactly 1 - p_y without smoothing)
    one_minus_pt = (1 - label_smoothing) * -torch.expm1(log_p_y) + label_smoothing * (1 - 1 / num_classes)
    return reduce_by_weight(ce + epsilon * (w * one_minus_pt), w, reduction, group_of(sync))


class Poly1CrossEntropyLoss(_WeightedLoss):
    r"""Poly-1 loss (Leng et al. 2022): cross-entropy plus :math:`\varepsilon (1 - P_t)`, the module
    form of :func:`poly1_cross_entropy`, where the formula and its gradient are.

    Args:
        epsilon: :math:`\varepsilon`, the coefficient of :math:`1 - P_t`, a finite real number.
            Default: ``1.0``.
        weight: per-class weight of shape :math:`(C)`, kept as a buffer. Default: ``None``.
        ignore_index: target value that contributes neither loss nor weight. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        label_smoothing: :math:`\lambda \in [0, 1]`, the weight moved from the target onto the
            uniform distribution. Default: ``0.0``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input: logits, :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`.
        - target: class indices, :math:`()` or :math:`(N, d_1, \ldots, d_k)`, integer dtype.
        - output: scalar; with ``reduction='none'``, the target's shape.

    Examples:
        >>> import torch
        >>> from lossref import Poly1CrossEntropyLoss
        >>> criterion = Poly1CrossEntropyLoss(epsilon=2.0)
        >>> x, y = torch.zeros(2, 4), torch.tensor([0, 3])
        >>> round(criterion(x, y).item(), 4)  # ln 4 + 2 * 3/4
        2.8863
    """

    def __init__(
        self,
        epsilon: float = 1.0,
        weight: Optional[Tensor] = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
        *,
        sync: Sync = False,
    ) -> None:
        super().__init__(weight, reduction)
        self.epsilon = check_real_number(epsilon, "epsilon")
        check_label_smoothing(label_smoothing)
        self.ignore_index, self.label_smoothing, self.sync = ignore_index, label_smoothing, check_sync(sync)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return poly1_cross_entropy(
            input,
            target,
            self.epsilon,
            self.weight,
            self.ignore_index,
            self.reduction,
            self.label_smoothing,
            sync=self.sync,
        )

    def extra_repr(self) -> str:
        return f"epsilon={self.epsilon}, {super().extra_repr()}"
