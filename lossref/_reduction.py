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
