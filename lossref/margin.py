r"""Score-margin losses: the hinge and its relatives, torch.nn's six losses that put a margin on scores.

Each has torch 2.13's signature, positional order, defaults and numbers, established by experiment
(the chapter *Margins* shows them); the sympy definitions are in :mod:`lossref.symbolic`. Where
lossref's answer differs from torch's, the function's docstring says so and a test checks it. The
differences common to the six:

- *Labels are checked.* A label that must be :math:`\pm 1` (``hinge_embedding_loss``,
  ``soft_margin_loss``) or :math:`\pm 1, 0` (``margin_ranking_loss``, whose 0 torch's own tests use)
  is a ``ValueError`` otherwise; torch computes a number from any value. An integer label tensor is
  taken as it is (torch's tests pass ``int64`` labels); a floating one must have the input's dtype.
- *NaN in gives NaN out* wherever the score takes part in a term. torch's kernels of
  ``multi_margin_loss`` and ``multilabel_margin_loss`` drop a term whose score is NaN (they add a
  term only where it is positive).
- *Empty batches* reduce like every other loss: ``'mean'`` is NaN and ``'sum'`` is 0. torch's
  kernels of those two losses return uninitialised memory there.
- *Shapes are not broadcast*: a target has the shape the loss reads, as for lossref's other losses.

A ``margin`` is any finite real number, as in torch. A negative margin lets a score that is on the
wrong side by less than :math:`|\Delta|` through with loss 0 and gradient 0, so a margin is
normally :math:`\ge 0`.

**The gradient at the kink** of :math:`\max(0, z)` is torch's for each loss: the hinge's side
(:math:`z = 0` counts as active, ``clamp_min``'s rule) for ``hinge_embedding_loss`` and
``margin_ranking_loss``, and 0 (``relu``'s rule, torch's kernels add a term only where
:math:`z > 0`) for ``multi_margin_loss`` and ``multilabel_margin_loss``.
"""

from __future__ import annotations

import numbers
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._loss import _Loss, _WeightedLoss
from lossref._reduction import legacy_reduction
from lossref._reduction import reduce as reduce_loss  # `reduce` is torch's legacy argument here
from lossref._validation import (
    check_class_weight,
    check_floating,
    check_label_values,
    check_like,
    check_optional_weight,
    check_real_number,
    check_reduction,
    check_same_shape,
    check_sample_classes,
    check_tensor,
    checked,
    compiled_assert,
    labels_like,
)
from lossref.bce import bce_with_logits_terms

__all__ = [
    "hinge_embedding_loss",
    "HingeEmbeddingLoss",
    "soft_margin_loss",
    "SoftMarginLoss",
    "multilabel_soft_margin_loss",
    "MultiLabelSoftMarginLoss",
    "multi_margin_loss",
    "MultiMarginLoss",
    "multilabel_margin_loss",
    "MultiLabelMarginLoss",
    "margin_ranking_loss",
    "MarginRankingLoss",
]


# -- checks ---------------------------------------------------------------------------------------


def _check_p(p: int) -> int:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p not in (1, 2):
        raise ValueError(f"p must be 1 (the hinge) or 2 (the squared hinge), got {p!r}")
    return int(p)


def _check_scores(input: Tensor) -> int:
    """Scores of shape (C,) or (N, C), C >= 1 classes last: the number of classes."""
    check_floating(input, "input")
    if input.dim() not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(
            f"input must have shape (C,) or (N, C), scores over C >= 1 classes (classes last), got "
            f"{tuple(input.shape)}"
        )
    return input.shape[-1]


# -- hinge embedding -------------------------------------------------------------------------------


@float32_under_autocast
def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The hinge embedding loss: a distance pulled down for similar pairs, pushed past a margin for
    dissimilar ones.

    .. math::
        \ell_n = \begin{cases} x_n & y_n = 1, \\ \max(0, \Delta - x_n) & y_n = -1, \end{cases}

    with :math:`\Delta` the ``margin``, followed by ``reduction``. The input is usually a distance
    :math:`x_n \ge 0` between two embeddings (e.g. an L1 distance); for :math:`y_n = 1` the loss is
    :math:`x_n` itself, negative if :math:`x_n` is. The gradient is :math:`1` for :math:`y_n = 1`,
    :math:`-1` where :math:`x_n \le \Delta` for :math:`y_n = -1` (the kink counts as active, as in
    torch) and 0 beyond.

    Where lossref differs from torch (2.13): a label other than :math:`\pm 1` is a ``ValueError``;
    torch adds both cases' terms for it (:math:`x_n + \max(0, \Delta - x_n)`). ``target`` must have
    the input's shape (torch broadcasts the two).

    Args:
        input: :math:`x`, any shape, floating dtype.
        target: labels :math:`y \in \{1, -1\}`, same shape; the input's dtype, or an integer dtype.
        margin: :math:`\Delta`, a finite real number. Default: ``1.0``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: a non-tensor or integer ``input``, a floating ``target`` of another dtype, a bool
            ``target``, or a ``margin`` that is not a real number.
        ValueError: shapes that differ, a label other than :math:`\pm 1` (this check reads the data),
            a margin that is not finite, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import hinge_embedding_loss
        >>> distance = torch.tensor([0.3, 0.2, 2.0])
        >>> y = torch.tensor([1, -1, -1])
        >>> # 0.3 (similar), 1 - 0.2, 0 (beyond the margin)
        >>> hinge_embedding_loss(distance, y, reduction="none")
        tensor([0.3000, 0.8000, 0.0000])
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(input, "input")
    y = labels_like(target, input)
    check_same_shape(y, input)
    margin = check_real_number(margin, "margin")
    check_reduction(reduction)
    check_label_values(y, (1.0, -1.0), "; for 0/1 labels pass 2 * target - 1")
    # clamp_min passes the gradient at margin - x = 0 (torch's kink)
    loss = torch.where(y == 1, input, torch.clamp_min(margin - input, 0.0))
    return reduce_loss(loss, reduction)


class HingeEmbeddingLoss(_Loss):
    r"""The hinge embedding loss: :func:`hinge_embedding_loss` as a module, where the formula and
    the differences from torch are.

    .. math::
        \ell_n = x_n \ (y_n = 1), \qquad \ell_n = \max(0, \Delta - x_n) \ (y_n = -1),

    followed by ``reduction``.

    Args:
        margin: :math:`\Delta`, a finite real number. Default: ``1.0``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, e.g. distances between pairs of embeddings.
        - target: :math:`(*)`, same shape as input, labels :math:`\pm 1`.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import HingeEmbeddingLoss
        >>> loss = HingeEmbeddingLoss(margin=2.0)
        >>> x, y = torch.tensor([0.5, 0.5]), torch.tensor([1.0, -1.0])
        >>> round(loss(x, y).item(), 4)  # (0.5 + 1.5) / 2
        1.0
    """

    def __init__(
        self,
        margin: float = 1.0,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.margin = check_real_number(margin, "margin")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, {super().extra_repr()}"


# -- soft margin (the logistic loss) -------------------------------------------------------------


@float32_under_autocast
def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The soft margin loss, the logistic loss of a score and a label :math:`\pm 1`.

    .. math::
        \ell_n = \log(1 + e^{-y_n x_n}),

    followed by ``reduction``; the gradient is :math:`-y_n \sigma(-y_n x_n)`. It is binary
    cross-entropy of the logit :math:`x_n` with the label :math:`(1 + y_n) / 2`. lossref computes it
    as :math:`-\log \sigma(y_n x_n)` with torch's ``logsigmoid``, whose form
    :math:`\max(-z, 0) + \log(1 + e^{-|z|})` is finite and accurate for every score, as is its
    gradient. torch (2.13) evaluates :math:`\log(1 + e^{-y_n x_n})` as written, so its loss is
    ``inf`` and its gradient NaN once :math:`-y_n x_n` passes about 88.7 in float32 (709.8 in
    float64).

    Where lossref differs from torch: a label other than :math:`\pm 1` is a ``ValueError`` (torch
    multiplies by any value); ``target`` must have the input's shape (torch broadcasts it to it).

    Args:
        input: scores :math:`x`, any shape, floating dtype.
        target: labels :math:`y \in \{1, -1\}`, same shape; the input's dtype, or an integer dtype.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, any number of dimensions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: a non-tensor or integer ``input``, a floating ``target`` of another dtype, or a
            bool ``target``.
        ValueError: shapes that differ, a label other than :math:`\pm 1` (this check reads the data),
            or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import soft_margin_loss
        >>> x = torch.tensor([0.0, 2.0, 1e4])
        >>> y = torch.tensor([1.0, -1.0, -1.0])
        >>> soft_margin_loss(
        ...     x, y, reduction="none"
        ... )  # log 2, log(1 + e^2), 1e4 (torch: inf)
        tensor([6.9315e-01, 2.1269e+00, 1.0000e+04])
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(input, "input")
    y = labels_like(target, input)
    check_same_shape(y, input)
    check_reduction(reduction)
    check_label_values(y, (1.0, -1.0), "; for 0/1 labels use binary_cross_entropy_with_logits")
    loss = -F.logsigmoid(y * input)  # y x is exact for y = 1 or -1
    return reduce_loss(loss, reduction)


class SoftMarginLoss(_Loss):
    r"""The soft margin (logistic) loss: :func:`soft_margin_loss` as a module, where the formula,
    its stable form and the differences from torch are.

    .. math::
        \ell_n = \log(1 + e^{-y_n x_n}),

    followed by ``reduction``.

    Args:
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*)`, scores.
        - target: :math:`(*)`, same shape as input, labels :math:`\pm 1`.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import SoftMarginLoss
        >>> x, y = torch.tensor([0.0]), torch.tensor([1.0])
        >>> round(SoftMarginLoss()(x, y).item(), 4)  # log 2
        0.6931
    """

    def __init__(
        self, size_average: Optional[bool] = None, reduce: Optional[bool] = None, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


# -- multi-label soft margin ---------------------------------------------------------------------


@float32_under_autocast
def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The multi-label soft margin loss: binary cross-entropy of each class's logit, averaged over
    the classes of a sample.

    .. math::
        \ell_n = \frac{1}{C} \sum_{c=1}^{C} w_c \bigl[-y_{nc} \log \sigma(x_{nc})
        - (1 - y_{nc}) \log \sigma(-x_{nc})\bigr],

    followed by ``reduction`` over the samples: ``'mean'`` divides the sum by the number of samples
    (not by the total weight). The classes are the **last** dimension, as in torch: an input
    :math:`(N, C)` gives :math:`N` losses, :math:`(C)` one, :math:`(N, H, C)` gives :math:`(N, H)`.
    The gradient is :math:`w_c (\sigma(x_{nc}) - y_{nc}) / C`. Each term is
    :func:`~lossref.binary_cross_entropy_with_logits`'s, with its stable form and accurate gradient.

    Where lossref differs from torch (2.13): ``target`` must have the input's shape (torch broadcasts
    it, and a target :math:`(N, C)` with an input :math:`(C)` then sums over the batch instead).

    Args:
        input: logits :math:`x`, shape :math:`(*, C)`, floating dtype, at least one dimension.
        target: labels :math:`y`, 1 for the classes a sample has and 0 for the others (values between
            are taken as soft labels, as in BCE), the input's shape; the input's dtype, or an integer
            dtype (torch's own tests pass ``int64``).
        weight: per-class weight :math:`w`, broadcastable to the input's shape (usually :math:`(C)`),
            the input's dtype. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*, C)`.
        - target: :math:`(*, C)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, an integer ``input``, a floating ``target`` or ``weight`` of another
            dtype, or a bool ``target``.
        ValueError: a 0-dimensional input, shapes that differ, a ``weight`` that does not broadcast,
            or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import multilabel_soft_margin_loss
        >>> x = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
        >>> y = torch.tensor([[1, 0, 0, 1]])
        >>> round(
        ...     multilabel_soft_margin_loss(x, y).item(), 4
        ... )  # log 2 for every class
        0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(input, "input")
    if input.dim() == 0:
        raise ValueError(
            "input must have at least one dimension, the classes (last), got a 0-dimensional tensor"
        )
    y = labels_like(target, input)
    check_same_shape(y, input)
    check_optional_weight(weight, "weight", input)
    check_reduction(reduction)
    loss = bce_with_logits_terms(input, y)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss.sum(-1) / input.shape[-1], reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    r"""The multi-label soft margin loss: :func:`multilabel_soft_margin_loss` as a module, where the
    formula and the conventions are; ``weight`` is kept as a buffer.

    .. math::
        \ell_n = \frac{1}{C} \sum_{c} w_c \bigl[-y_{nc} \log \sigma(x_{nc})
        - (1 - y_{nc}) \log \sigma(-x_{nc})\bigr],

    followed by ``reduction`` over the samples.

    Args:
        weight: per-class weight :math:`w`, usually of shape :math:`(C)`. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(*, C)`, logits, classes last.
        - target: :math:`(*, C)`, same shape as input, labels 0 or 1.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import MultiLabelSoftMarginLoss
        >>> loss = MultiLabelSoftMarginLoss(weight=torch.tensor([1.0, 3.0]))
        >>> round(
        ...     loss(torch.zeros(1, 2), torch.tensor([[1, 0]])).item(), 4
        ... )  # (1 + 3) log 2 / 2
        1.3863
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
        return multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


# -- multi-class margin (Weston-Watkins) ----------------------------------------------------------


@float32_under_autocast
def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Optional[Tensor] = None,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The multi-class margin loss (Weston and Watkins): every other class's score must stay a
    margin below the true class's.

    .. math::
        \ell_n = \frac{1}{C} \sum_{i \ne y_n} w_{y_n} \max(0, \Delta - x_{n y_n} + x_{ni})^p,

    followed by ``reduction`` over the samples (``'mean'`` divides by their number, with or without
    ``weight``, as in torch). As in torch, the sum leaves out the true class but the divisor is
    :math:`C`, all the classes; only the true class's weight :math:`w_{y_n}` counts, and it multiplies
    the hinge after the power. A sample whose true class leads every other by at least
    :math:`\Delta` has loss 0 and gradient 0: the hinge stops, where cross-entropy keeps pushing.
    At the kink (:math:`\Delta - x_{ny} + x_{ni} = 0`) the term's gradient is 0, as torch's.

    Where lossref differs from torch (2.13): a NaN score gives NaN wherever it takes part in a term
    (torch's kernel drops that term); an empty batch gives NaN for ``'mean'`` and 0 for ``'sum'``
    (torch's kernel: uninitialised memory); a 0-dimensional input is refused (torch takes it as one
    class). lossref's loss is also
    differentiable in ``weight`` (torch's raises).

    Args:
        input: scores :math:`x`, shape :math:`(N, C)` or :math:`(C)`, floating dtype.
        target: class indices :math:`y`, shape :math:`(N)` (or :math:`()` for an input :math:`(C)`),
            integer dtype, values in :math:`[0, C)`.
        p: 1 (the hinge) or 2 (the squared hinge). Default: ``1``.
        margin: :math:`\Delta`, a finite real number. Default: ``1.0``.
        weight: per-class weight :math:`w`, shape :math:`(C)`, the input's dtype. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, C)` or :math:`(C)`.
        - target: :math:`(N)` or :math:`()`.
        - output: scalar, or :math:`(N)` with ``reduction='none'`` (:math:`()` for an input :math:`(C)`).

    Raises:
        TypeError: non-tensors, an integer ``input``, a floating ``target``, a ``weight`` of another
            dtype, or a ``margin`` that is not a real number.
        ValueError: an input not of shape :math:`(N, C)` or :math:`(C)`, a target of another shape, a
            class index out of range (this check reads the data), ``p`` other than 1 and 2, a
            ``weight`` not of shape :math:`(C)`, a margin that is not finite, or an unknown
            ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import multi_margin_loss
        >>> x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> y = torch.tensor([3])
        >>> # the hinges of classes 0, 1, 2 against class 3, divided by C = 4:
        >>> # (0.3 + 0.4 + 0.6) / 4
        >>> round(multi_margin_loss(x, y).item(), 4)
        0.325
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    num_classes = _check_scores(input)
    check_sample_classes(target, input, num_classes)
    p = _check_p(p)
    margin = check_real_number(margin, "margin")
    check_class_weight(weight, "weight", input, num_classes)
    check_reduction(reduction)
    index = target.long().unsqueeze(-1)
    # relu: gradient 0 at the kink, as torch's kernel, which adds a term only where it is positive
    hinge = torch.relu(margin - input.gather(-1, index) + input)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[index]
    is_true = torch.arange(num_classes, device=input.device) == index
    loss = torch.where(is_true, 0.0, hinge).sum(-1) / num_classes
    return reduce_loss(loss, reduction)


class MultiMarginLoss(_WeightedLoss):
    r"""The multi-class margin loss: :func:`multi_margin_loss` as a module, where the formula, torch's
    conventions and the differences from torch are; ``weight`` is kept as a buffer.

    .. math::
        \ell_n = \frac{1}{C} \sum_{i \ne y_n} w_{y_n} \max(0, \Delta - x_{n y_n} + x_{ni})^p,

    followed by ``reduction`` over the samples.

    Args:
        p: 1 (the hinge) or 2 (the squared hinge). Default: ``1``.
        margin: :math:`\Delta`, a finite real number. Default: ``1.0``.
        weight: per-class weight :math:`w`, shape :math:`(C)`. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, C)` or :math:`(C)`, scores.
        - target: :math:`(N)` or :math:`()`, class indices.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import MultiMarginLoss
        >>> loss = MultiMarginLoss(p=2, margin=0.5)
        >>> # the true class leads by 1 >= 0.5: no loss
        >>> loss(torch.tensor([[2.0, 1.0]]), torch.tensor([0])).item()
        0.0
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Optional[Tensor] = None,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
    ) -> None:
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"weight must have shape (C,), one entry per class, got {tuple(weight.shape)}")
        super().__init__(weight, reduction, size_average=size_average, reduce=reduce)
        self.p = _check_p(p)
        self.margin = check_real_number(margin, "margin")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multi_margin_loss(input, target, self.p, self.margin, self.weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"p={self.p}, margin={self.margin}, {super().extra_repr()}"


# -- multi-label margin ---------------------------------------------------------------------------


def _check_label_lists(target: Tensor, input: Tensor, num_classes: int) -> None:
    """Class indices, -1-terminated, of the input's shape; every entry in [-1, C), as torch checks."""
    check_tensor(target, "target")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(
            f"target must hold class indices with an integer dtype, got {target.dtype}; for a 0/1 "
            f"indicator of each class use multilabel_soft_margin_loss"
        )
    if target.shape != input.shape:
        raise ValueError(
            f"target must have the input's shape {tuple(input.shape)}: per sample, the indices of its "
            f"classes, then -1 (the rest is ignored); got {tuple(target.shape)}"
        )
    if target.device != input.device:
        raise ValueError(f"target is on device {target.device} but input is on {input.device}")
    data = checked(target)
    if data is None:
        return
    bad = (data < -1) | (data >= num_classes)
    message = f"target must hold class indices in [0, {num_classes}) or -1 (the end of a sample's list)"
    if torch.compiler.is_compiling():  # the graph cannot branch on the values
        compiled_assert(~bad.any(), message)
        return
    if bool(bad.any()):
        raise ValueError(
            f"{message}, got {int(data[bad][0])}; {int(bad.sum())} of {data.numel()} are out of range"
        )


@float32_under_autocast
def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The multi-label margin loss: every class a sample has must score a margin of 1 above every
    class it does not have.

    .. math::
        \ell_n = \frac{1}{C} \sum_{j \in J_n} \sum_{i \notin J_n} \max(0, 1 - x_{nj} + x_{ni}),

    followed by ``reduction`` over the samples. :math:`J_n`, the sample's classes, is read from its
    row of ``target`` as in torch: the class indices before the first -1 (the rest of the row is
    ignored; all of it when there is no -1). An index listed twice counts twice, as in torch. A sample
    with no class, or with every class, has loss 0. At the kink the gradient is 0, as torch's.

    Computed by sorting each sample's scores once (time :math:`N C \log C`, memory :math:`N C`;
    torch's kernel visits every pair, time :math:`N C^2`); the sum is of non-negative terms, so it is
    as accurate as summing the pairs. A pair of infinite scores of the same sign adds 0, as torch's.

    Where lossref differs from torch (2.13): a NaN score gives NaN wherever it takes part in a term
    (torch's kernel drops that term); an empty batch gives NaN for ``'mean'`` and 0 for ``'sum'``
    (torch's kernel: uninitialised memory); a 0-dimensional input is refused.

    Args:
        input: scores :math:`x`, shape :math:`(N, C)` or :math:`(C)`, floating dtype.
        target: per sample, its class indices followed by -1, integer dtype, the input's shape;
            every entry in :math:`[-1, C)`, also after the first -1 (torch checks them all).
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, C)` or :math:`(C)`.
        - target: same shape as input.
        - output: scalar, or :math:`(N)` with ``reduction='none'`` (:math:`()` for an input :math:`(C)`).

    Raises:
        TypeError: non-tensors, an integer ``input`` or a floating ``target``.
        ValueError: an input not of shape :math:`(N, C)` or :math:`(C)`, a target of another shape,
            an entry outside :math:`[-1, C)` (this check reads the data), or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import multilabel_margin_loss
        >>> x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> y = torch.tensor(
        ...     [[3, 0, -1, 1]]
        ... )  # classes 3 and 0; the 1 after -1 is ignored
        >>> # pairs (3, 1), (3, 2), (0, 1), (0, 2): (0.4 + 0.6 + 1.1 + 1.3) / 4
        >>> round(multilabel_margin_loss(x, y).item(), 4)
        0.85
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    num_classes = _check_scores(input)
    _check_label_lists(target, input, num_classes)
    check_reduction(reduction)
    listed = (target != -1).cumprod(-1).bool()  # the entries before the first -1
    index = torch.where(listed, target, 0).long()
    # times each class is listed; a class listed 0 times is free (the pairs' second class i)
    count = torch.zeros_like(input).scatter_add(-1, index, listed.to(input.dtype))
    free = count == 0
    # For a listed class j, the free classes with a positive hinge are the K_j largest free scores
    # u_0 >= u_1 >= ... that exceed x_j - 1 (strictly: at the kink the hinge is inactive, torch's
    # rule). Sorting once costs C log C per sample instead of C^2 pairs, and memory N C.
    u = torch.where(free, input, float("-inf")).sort(-1, descending=True).values
    free_count = free.sum(-1, keepdim=True)
    k = torch.searchsorted(-u, 1 - input, side="left")  # K_j = #{u > x_j - 1}
    k = torch.minimum(k, free_count)
    # sum_{r<K} (1 - x_j + u_r) = G_K + K (1 - x_j + u_{K-1}), with G_K = sum_{r<K} (u_r - u_{K-1})
    # = sum_{l<K-1} (l + 1)(u_l - u_{l+1}): a cumulative sum of non-negative steps, so no
    # cancellation (a running sum of the scores would lose the small hinges of large scores)
    above, below = u[..., :-1], u[..., 1:]
    step = torch.where((above == below) & above.isinf(), 0.0, above - below)  # no inf - inf
    rank = torch.arange(1, num_classes, device=input.device, dtype=input.dtype)
    steps = torch.arange(num_classes - 1, device=input.device) < free_count - 1
    g = torch.where(steps, rank * step, 0.0).cumsum(-1)
    g = torch.cat([torch.zeros_like(u[..., :1]), g], -1)
    last = (k - 1).clamp_min(0)
    hinges = g.gather(-1, last) + k * (1 - input + u.gather(-1, last))
    loss = torch.where(~free & (k > 0), count * hinges, 0.0).sum(-1) / num_classes
    # a NaN score takes part in a term whenever the sample has a listed and a free class
    has_pairs = (~free).any(-1) & free.any(-1)
    loss = torch.where(has_pairs & input.isnan().any(-1), float("nan"), loss)
    return reduce_loss(loss, reduction)


class MultiLabelMarginLoss(_Loss):
    r"""The multi-label margin loss: :func:`multilabel_margin_loss` as a module, where the formula,
    torch's target convention and the differences from torch are.

    .. math::
        \ell_n = \frac{1}{C} \sum_{j \in J_n} \sum_{i \notin J_n} \max(0, 1 - x_{nj} + x_{ni}),

    followed by ``reduction`` over the samples; :math:`J_n` is the row's indices before its first -1.

    Args:
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, C)` or :math:`(C)`, scores.
        - target: same shape as input, class indices then -1.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import MultiLabelMarginLoss
        >>> x = torch.tensor([[3.0, 1.0, 0.0]])
        >>> MultiLabelMarginLoss()(
        ...     x, torch.tensor([[0, -1, -1]])
        ... ).item()  # class 0 leads by >= 1
        0.0
    """

    def __init__(
        self, size_average: Optional[bool] = None, reduce: Optional[bool] = None, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multilabel_margin_loss(input, target, reduction=self.reduction)


# -- margin ranking -------------------------------------------------------------------------------


@float32_under_autocast
def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The margin ranking loss: the score of the item that should rank higher must lead by a margin.

    .. math::
        \ell_n = \max(0, \Delta - y_n (x^{(1)}_n - x^{(2)}_n)),

    followed by ``reduction``, with :math:`y_n = 1` where :math:`x^{(1)}_n` should rank higher and
    :math:`y_n = -1` where :math:`x^{(2)}_n` should. :math:`y_n = 0` (no order; torch's own tests use
    it) gives the constant :math:`\max(0, \Delta)` with gradient 0. The gradients are
    :math:`\mp y_n` for the two scores where the hinge is active, and the kink
    (:math:`\Delta = y_n (x^{(1)}_n - x^{(2)}_n)`) counts as active, as in torch; the loss is
    differentiable in ``target`` too, as torch's.

    Where lossref differs from torch (2.13): a label outside :math:`\{1, -1, 0\}` is a ``ValueError``
    (torch multiplies by any value); the three tensors must have one shape (torch broadcasts tensors
    with the same number of dimensions).

    Args:
        input1: scores :math:`x^{(1)}`, any shape, floating dtype.
        input2: scores :math:`x^{(2)}`, the shape, dtype and device of ``input1``.
        target: labels :math:`y \in \{1, -1, 0\}`, same shape; ``input1``'s dtype, or an integer dtype.
        margin: :math:`\Delta`, a finite real number. Default: ``0.0``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input1: :math:`(*)`, any number of dimensions.
        - input2: :math:`(*)`, same shape as input1.
        - target: :math:`(*)`, same shape as input1.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, integer scores, a floating ``target`` or ``input2`` of another dtype,
            a bool ``target``, or a ``margin`` that is not a real number.
        ValueError: shapes that differ, a label outside :math:`\{1, -1, 0\}` (this check reads the
            data), a margin that is not finite, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import margin_ranking_loss
        >>> x1 = torch.tensor([0.3, 1.0, -0.5])
        >>> x2 = torch.tensor([0.1, 2.0, 0.5])
        >>> y = torch.tensor([1, 1, -1])
        >>> # 0.5 - 0.2, 0.5 + 1, 0
        >>> margin_ranking_loss(x1, x2, y, margin=0.5, reduction="none")
        tensor([0.3000, 1.5000, 0.0000])
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(input1, "input1")
    check_like(input2, "input2", input1, "input1")
    if input2.shape != input1.shape:
        raise ValueError(
            f"input2 must have the shape of input1 {tuple(input1.shape)}, got {tuple(input2.shape)}"
        )
    y = labels_like(target, input1, "input1")
    if y.shape != input1.shape:
        raise ValueError(f"target must have the shape of input1 {tuple(input1.shape)}, got {tuple(y.shape)}")
    margin = check_real_number(margin, "margin")
    check_reduction(reduction)
    check_label_values(y, (1.0, -1.0, 0.0), "; 1: input1 should rank higher, -1: input2 should")
    # clamp_min passes the gradient at the kink, as torch's
    loss = torch.clamp_min(margin - y * (input1 - input2), 0.0)
    return reduce_loss(loss, reduction)


class MarginRankingLoss(_Loss):
    r"""The margin ranking loss: :func:`margin_ranking_loss` as a module, where the formula and the
    differences from torch are.

    .. math::
        \ell_n = \max(0, \Delta - y_n (x^{(1)}_n - x^{(2)}_n)),

    followed by ``reduction``.

    Args:
        margin: :math:`\Delta`, a finite real number. Default: ``0.0``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input1: :math:`(*)`, scores.
        - input2: :math:`(*)`, same shape as input1.
        - target: :math:`(*)`, same shape as input1, labels :math:`1, -1` (or 0).
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import MarginRankingLoss
        >>> loss = MarginRankingLoss(margin=1.0)
        >>> loss(
        ...     torch.tensor([2.0]), torch.tensor([0.5]), torch.tensor([1])
        ... ).item()  # leads by 1.5
        0.0
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.margin = check_real_number(margin, "margin")

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, {super().extra_repr()}"
