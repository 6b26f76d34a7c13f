r"""Softmax cross-entropy and the negative log-likelihood of class scores.

Both are the negative log-likelihood of a categorical variable. ``cross_entropy`` takes logits and is
plain autograd over :func:`~lossref.log_softmax` (accurate in value and gradient also for confident
predictions); ``nll_loss`` takes log-probabilities. The semantics follow torch 2.13 exactly, including the
combinations of ``weight``, ``ignore_index`` and ``label_smoothing`` that torch got wrong in earlier
releases; each formula below is checked against torch in the tests.
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from lossref import _primitives
from lossref._autocast import float32_under_autocast
from lossref._class_scores import class_dim, class_view, index_nll, weighted_nll
from lossref._loss import _WeightedLoss
from lossref._reduction import legacy_reduction, reduce_by_weight
from lossref._reduction import reduce as reduce_loss  # `reduce` is torch's legacy argument here
from lossref._validation import (
    check_class_scores,
    check_class_weight,
    check_index_target,
    check_label_smoothing,
    check_like,
    check_reduction,
    check_tensor,
)
from lossref.distributed import Sync, check_sync, group_of

__all__ = ["log_softmax", "nll_loss", "cross_entropy", "NLLLoss", "CrossEntropyLoss"]


def log_softmax(input: Tensor, dim: int) -> Tensor:
    r"""Log-softmax along ``dim``, accurate also for the most probable class, in value and gradient.

    .. math::
        \log p_c = (x_c - x_j) - \log\Bigl(1 + \sum_{k \ne j} e^{x_k - x_j}\Bigr),
        \qquad j = \arg\max_k x_k.

    Both terms are :math:`\le 0`, so nothing cancels, and ``log1p`` keeps the second term exact when
    class :math:`j` dominates. The usual :math:`x_c - m - \log \sum_k e^{x_k - m}` (torch's
    ``log_softmax``) rounds :math:`\log p_j` to a few ulp of :math:`\log(1 + \text{tiny})`: at logits
    :math:`(20, 0, 0)` its relative error is about :math:`10^{-7}` in float64.

    It is a custom ``autograd.Function`` because autograd of that formula loses the gradient of a
    confident prediction: it forms :math:`g_c - p_c \sum_k g_k` with :math:`p_j = 1/(1 + r)`, and
    :math:`1 - p_j` rounds to 0 once :math:`r` is below the rounding of 1 (logits :math:`(20, 0, 0)` in
    float32). Its backward, the same :math:`g_c - p_c \sum_k g_k`, takes :math:`1 - p_j` for the class
    with :math:`p_j > 1/2` as :math:`-\operatorname{expm1}(\log p_j)` from the accurate output, so the
    gradient of :math:`-\log p_0` there keeps its :math:`-4.12 \cdot 10^{-9}`. The backward is
    differentiable torch code, so second derivatives and ``torch.func`` (``grad``, ``vmap``,
    ``jacrev``) work; the softmax losses are plain autograd over this function.

    Known limit: :math:`x_k - x_j` is rounded to the input's precision, and :math:`e^{x_k - x_j}`
    inherits that absolute error as a relative one, :math:`|x_k - x_j| \cdot 2^{-24}` in float32 (up to
    about :math:`5 \cdot 10^{-6}` for a gap of 87, where the exponential underflows); float64 stays
    below :math:`10^{-13}`. torch does worse there: for logits :math:`(33.92, 0.02, 0.77)` in float32
    its loss of class 0 is 0, lossref's is off by :math:`1.03 \cdot 10^{-6}` of the exact
    :math:`5.87 \cdot 10^{-15}`.

    Examples:
        >>> import torch
        >>> from lossref import log_softmax
        >>> x = torch.tensor([20.0, 0.0, 0.0], dtype=torch.float64)
        >>> f"{-log_softmax(x, 0)[0].item():.6e}"  # log(1 + 2 e^-20)
        '4.122307e-09'
    """
    return _primitives.log_softmax(input, dim)


@float32_under_autocast
def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    size_average: Optional[bool] = None,
    ignore_index: int = -100,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
    *,
    sync: Sync = False,
) -> Tensor:
    r"""Negative log-likelihood of class log-probabilities.

    .. math::
        \ell_n = -w_{y_n} x_{n, y_n}, \qquad \ell_n = 0 \text{ where } y_n = \text{ignore\_index},

    and with ``reduction='mean'`` the result is :math:`\sum_n \ell_n / \sum_{n: y_n \ne
    \text{ignore\_index}} w_{y_n}`: a weighted mean over the targets that count. If every target is
    ignored this is :math:`0/0`, NaN, as in torch, with gradient 0; ``'sum'`` gives 0. Plain autograd:
    a gather, a product and a sum, which autograd differentiates exactly.

    Args:
        input: log-probabilities, shape :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`, floating.
        target: class indices, shape :math:`()` or :math:`(N, d_1, \ldots, d_k)`, any integer dtype,
            values in :math:`[0, C)` or ``ignore_index``.
        weight: per-class weight of shape :math:`(C)`, same dtype as ``input``. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        ignore_index: a target value that contributes neither loss nor weight. Default: ``-100``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - output: scalar, or the target's shape with ``reduction='none'``.

    Raises:
        TypeError: non-integer ``target`` (e.g. float labels), or dtypes that differ from ``input``'s.
        ValueError: shapes that do not match, a class index out of range (this check reads the data),
            a ``weight`` without one entry per class, an unknown ``reduction``, or an ``input`` without
            classes (torch raises an IndexError there).

    Examples:
        >>> import torch
        >>> from lossref import nll_loss
        >>> log_probs = torch.log(
        ...     torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]])
        ... )
        >>> # (ln 2 - ln 0.8) / 2
        >>> round(nll_loss(log_probs, torch.tensor([0, 1])).item(), 4)
        0.4581
        >>> # second ignored: ln 2
        >>> round(nll_loss(log_probs, torch.tensor([0, -100])).item(), 4)
        0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    num_classes = check_class_scores(input)
    check_tensor(target, "target")
    check_index_target(target, input, num_classes, ignore_index)
    check_class_weight(weight, "weight", input, num_classes)
    check_reduction(reduction)
    loss, w = weighted_nll(input, target, weight, ignore_index)
    return reduce_by_weight(loss, w, reduction, group_of(sync))


@float32_under_autocast
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    size_average: Optional[bool] = None,
    ignore_index: int = -100,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    *,
    sync: Sync = False,
) -> Tensor:
    r"""Cross-entropy between the softmax of logits and class-index or class-probability targets.

    With :math:`\log p_{n,c} = x_{n,c} - \log \sum_k e^{x_{n,k}}` (evaluated by :func:`~lossref.log_softmax`,
    which is accurate where torch's is not: a confident correct prediction, e.g. logits
    :math:`(20, 0, 0)` for class 0) and smoothing :math:`\varepsilon`:

    - **class indices** :math:`y_n`:

      .. math::
          \ell_n = (1 - \varepsilon)\, w_{y_n} (-\log p_{n, y_n})
                   + \frac{\varepsilon}{C} \sum_c w_c (-\log p_{n,c}),

      0 where :math:`y_n` is ``ignore_index``. ``'mean'`` divides :math:`\sum_n \ell_n` by
      :math:`\sum_{n \text{ not ignored}} w_{y_n}`, the same denominator with or without smoothing
      (this is torch 2.13's rule; the smoothing term is weighted by every class's weight). If every
      target is ignored, ``'mean'`` is NaN and ``'sum'`` is 0, as in torch, and the gradient is 0. An
      ignored sample costs nothing and has gradient 0 even where all its logits are :math:`-\infty`
      (padding); torch drops its loss too, but its gradient there is NaN.
    - **class probabilities** :math:`q_{n,c}` (same shape as ``input``):

      .. math::
          \ell_n = -\sum_c w_c \left[(1 - \varepsilon) q_{n,c} + \frac{\varepsilon}{C}\right] \log p_{n,c},

      and ``'mean'`` divides by the number of elements of the output (the weights do not normalise).
      ``ignore_index`` does not apply.

    Plain autograd over :func:`~lossref.log_softmax`: its backward keeps the gradient of a confident
    prediction, and the gather, weights and reduction around it need no custom ``autograd.Function``.

    Args:
        input: logits, shape :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`, floating.
        target: class indices (integer dtype, shape :math:`()` or :math:`(N, d_1, \ldots, d_k)`) or class
            probabilities (``input``'s shape and dtype).
        weight: per-class weight of shape :math:`(C)`. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        ignore_index: with class indices, a target value that contributes neither loss nor weight.
            Default: ``-100``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        label_smoothing: :math:`\varepsilon \in [0, 1]`, the weight moved from the target onto the
            uniform distribution. Default: ``0.0``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - output: scalar, or :math:`()` / :math:`(N, d_1, \ldots, d_k)` with ``reduction='none'``.

    Raises:
        TypeError: float class indices, integer class probabilities, or mismatched dtypes.
        ValueError: shapes that do not match, a class index out of range (this check reads the data),
            a ``weight`` without one entry per class, ``label_smoothing`` outside :math:`[0, 1]`,
            ``ignore_index`` with probability targets, an unknown ``reduction``, or an ``input`` without
            classes (torch raises an IndexError there).

    Examples:
        >>> import torch
        >>> from lossref import cross_entropy
        >>> logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> target = torch.tensor([0, 2])
        >>> # mean of 0.2395 and ln 3
        >>> round(cross_entropy(logits, target).item(), 4)
        0.6691
        >>> loss = cross_entropy(logits, target, label_smoothing=0.1)
        >>> round(loss.item(), 4)
        0.7357
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    num_classes = check_class_scores(input)
    check_tensor(target, "target")
    check_class_weight(weight, "weight", input, num_classes)
    check_reduction(reduction)
    check_label_smoothing(label_smoothing)
    if target.is_floating_point() and target.shape == input.shape:
        check_like(target, "target", input)
        if ignore_index != -100:
            raise ValueError("ignore_index applies to class indices only, not to class probabilities")
        dim = class_dim(input)
        log_probs = log_softmax(input, dim)
        q = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / num_classes
        if weight is not None:
            q = q * class_view(weight, input)
        return reduce_loss(-(q * log_probs).sum(dim), reduction, group_of(sync))

    check_index_target(target, input, num_classes, ignore_index)
    log_probs = log_softmax(input, class_dim(input))
    loss, w, _ = index_nll(log_probs, target, weight, ignore_index, label_smoothing)
    return reduce_by_weight(loss, w, reduction, group_of(sync))


class NLLLoss(_WeightedLoss):
    r"""Negative log-likelihood of class log-probabilities: :func:`nll_loss` as a module.

    .. math::
        \ell_n = -w_{y_n} x_{n, y_n}, \qquad \ell_n = 0 \text{ where } y_n = \text{ignore\_index},

    followed by ``reduction``: ``'mean'`` divides by the total weight of the targets that count. Put a
    :func:`~lossref.log_softmax` before it, or use :class:`CrossEntropyLoss` on logits.

    Args:
        weight: per-class weight of shape :math:`(C)`, kept as a buffer. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        ignore_index: a target value that contributes neither loss nor weight. Default: ``-100``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input: :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`, log-probabilities.
        - target: :math:`()` or :math:`(N, d_1, \ldots, d_k)`, class indices in :math:`[0, C)` or
          ``ignore_index``.
        - output: scalar, or the target's shape with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import NLLLoss
        >>> log_probs = torch.log(torch.tensor([[0.5, 0.5]]))
        >>> round(NLLLoss()(log_probs, torch.tensor([1])).item(), 4)
        0.6931
    """

    def __init__(
        self,
        weight: Optional[Tensor] = None,
        size_average: Optional[bool] = None,
        ignore_index: int = -100,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
        *,
        sync: Sync = False,
    ) -> None:
        super().__init__(weight, reduction, size_average=size_average, reduce=reduce)
        self.ignore_index, self.sync = ignore_index, check_sync(sync)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            sync=self.sync,
        )


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross-entropy between the softmax of logits and class indices or class probabilities:
    :func:`cross_entropy` as a module.

    For class indices :math:`y_n` and smoothing :math:`\varepsilon`,

    .. math::
        \ell_n = (1 - \varepsilon)\, w_{y_n} (-\log p_{n, y_n})
                 + \frac{\varepsilon}{C} \sum_c w_c (-\log p_{n,c}),
        \qquad p_n = \operatorname{softmax}(x_n),

    followed by ``reduction``; :func:`cross_entropy` gives the form for class probabilities and how
    ``'mean'`` counts the weights.

    Args:
        weight: per-class weight of shape :math:`(C)`, kept as a buffer. Default: ``None``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        ignore_index: with class indices, a target value that contributes neither loss nor weight.
            Default: ``-100``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        label_smoothing: :math:`\varepsilon \in [0, 1]`, the weight moved from the target onto the
            uniform distribution. Default: ``0.0``.
        sync: ``True`` or a process group: ``'mean'`` and ``'sum'`` over every process's batch
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input: :math:`(C)` or :math:`(N, C, d_1, \ldots, d_k)`, logits.
        - target: class indices, :math:`()` or :math:`(N, d_1, \ldots, d_k)`; or class
          probabilities, the input's shape.
        - output: scalar, or :math:`()` / :math:`(N, d_1, \ldots, d_k)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import CrossEntropyLoss
        >>> criterion = CrossEntropyLoss(label_smoothing=0.1)
        >>> x, y = torch.zeros(2, 3), torch.tensor([0, 1])
        >>> round(criterion(x, y).item(), 4)  # ln 3, whatever the target
        1.0986
        >>> # torch's positional order: weight, size_average, ignore_index
        >>> x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> ignore_1 = CrossEntropyLoss(None, None, 1)
        >>> round(ignore_1(x, torch.tensor([0, 1])).item(), 4)  # class 1 ignored
        0.2395
    """

    def __init__(
        self,
        weight: Optional[Tensor] = None,
        size_average: Optional[bool] = None,
        ignore_index: int = -100,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
        *,
        sync: Sync = False,
    ) -> None:
        super().__init__(weight, reduction, size_average=size_average, reduce=reduce)
        check_label_smoothing(label_smoothing)
        self.ignore_index, self.label_smoothing, self.sync = ignore_index, label_smoothing, check_sync(sync)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
            sync=self.sync,
        )
