"""The ``reduction`` argument, applied once for every loss, and torch's deprecated ``size_average`` and
``reduce``, resolved once for every loss that torch gives them."""

from __future__ import annotations

import warnings
from typing import Optional

import torch
from torch import Tensor

from lossref._validation import check_reduction
from lossref.distributed import ProcessGroup, sum_over


def legacy_reduction(size_average: Optional[bool], reduce: Optional[bool], reduction: str) -> str:
    """The reduction a call asks for: ``reduction``, unless ``size_average`` or ``reduce`` is given.

    Then the two decide by torch's rule and with torch's deprecation warning, so that a call written
    for torch means the same here: ``reduce=False`` gives ``'none'``; otherwise ``size_average=False``
    gives ``'sum'`` and anything else ``'mean'`` (``None`` counts as ``True``), and ``reduction`` is
    ignored. This is ``torch.nn._reduction.legacy_get_string`` written out, because
    ``torch.compile(fullgraph=True)`` cannot trace a call into that helper, while torch's own losses
    compile with the legacy arguments. Nor can it trace ``warnings.warn`` (torch 2.13), so a compiled
    call resolves the arguments without the warning; torch's compiled losses warn once, while tracing.
    """
    if size_average is None and reduce is None:
        return reduction
    reduces = reduce is None or bool(reduce)
    averages = size_average is None or bool(size_average)
    resolved = ("mean" if averages else "sum") if reduces else "none"
    if not torch.compiler.is_compiling():
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{resolved}' instead.",
            stacklevel=2,
        )
    return resolved


def reduce(loss: Tensor, reduction: str, group: Optional[ProcessGroup] = None) -> Tensor:
    """``'none'``: the elementwise loss; ``'sum'``: its sum; ``'mean'``: its sum / number of elements.

    As in torch, ``'mean'`` of an empty tensor is NaN and ``'sum'`` of it is 0. With a process
    ``group`` (:mod:`lossref.distributed`), ``'sum'`` and ``'mean'`` are those of every process's
    elements; ``'none'`` stays this process's.
    """
    check_reduction(reduction)
    if reduction == "none":
        return loss
    if group is not None:
        count = torch.tensor(loss.numel(), dtype=loss.dtype, device=loss.device)
        return reduce_by_weight(loss, count, reduction, group)
    return loss.mean() if reduction == "mean" else loss.sum()


def reduce_backward(grad: Tensor, reduction: str, numel: int) -> Tensor:
    """The gradient of :func:`reduce` with respect to each element, given the gradient of its output.

    For ``'mean'`` and ``'sum'`` it stays a 0-dim tensor that broadcasts, instead of the full-size
    tensor autograd would materialise; losses written as one ``autograd.Function`` use it to fold
    the reduction into their backward.
    """
    return grad / numel if reduction == "mean" else grad


def reduce_by_weight(loss: Tensor, w: Tensor, reduction: str, group: Optional[ProcessGroup] = None) -> Tensor:
    """'mean' divides by the total weight of the non-ignored targets (NaN if there is none, as torch).

    With a process ``group``, the sum and the weight are every process's.
    """
    if reduction == "none" or (reduction == "sum" and group is None):
        return reduce(loss, reduction)
    total = loss.sum()
    if reduction == "sum":
        return sum_over(total, group)
    weight = w.sum()
    if group is not None:  # one all-reduce of both
        total, weight = sum_over(torch.stack([total, weight.to(total.dtype)]), group).unbind()
    return total / weight
