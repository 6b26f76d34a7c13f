"""The ``reduction`` argument, applied once for every loss."""

from __future__ import annotations

from torch import Tensor

from lossref._validation import check_reduction


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """``'none'``: the elementwise loss; ``'sum'``: its sum; ``'mean'``: its sum / number of elements.

    As in torch, ``'mean'`` of an empty tensor is NaN and ``'sum'`` of it is 0.
    """
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def reduce_backward(grad: Tensor, reduction: str, numel: int) -> Tensor:
    """The gradient of :func:`reduce` with respect to each element, given the gradient of its output.

    For ``'mean'`` and ``'sum'`` it stays a 0-dim tensor that broadcasts, instead of the full-size
    tensor autograd would materialise; losses written as one ``autograd.Function`` use it to fold
    the reduction into their backward.
    """
    return grad / numel if reduction == "mean" else grad


def reduce_by_weight(loss: Tensor, w: Tensor, reduction: str) -> Tensor:
    """'mean' divides by the total weight of the non-ignored targets (NaN if there is none, as torch)."""
    if reduction == "mean":
        return loss.sum() / w.sum()
    return reduce(loss, reduction)
