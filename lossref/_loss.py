"""Base classes of the loss modules, as in ``torch.nn.modules.loss``."""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from lossref._reduction import legacy_reduction
from lossref._validation import REDUCTIONS, check_reduction


class _Loss(nn.Module):
    """Holds and validates ``reduction`` once, at construction. The modules that torch gives the
    deprecated ``size_average`` and ``reduce`` pass them on; they override ``reduction`` as in torch.
    A loss with reductions of its own (``KLDivLoss``'s ``'batchmean'``) lists them in ``_reductions``."""

    _reductions: tuple[str, ...] = REDUCTIONS

    def __init__(
        self, reduction: str = "mean", *, size_average: Optional[bool] = None, reduce: Optional[bool] = None
    ) -> None:
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        check_reduction(reduction, self._reductions)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """Keeps ``weight`` as a buffer so that it follows ``.to(device)`` and lands in ``state_dict``."""

    weight: Optional[Tensor]

    def __init__(
        self,
        weight: Optional[Tensor] = None,
        reduction: str = "mean",
        *,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.register_buffer("weight", weight)
