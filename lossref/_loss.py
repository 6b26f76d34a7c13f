"""Base classes of the loss modules, as in ``torch.nn.modules.loss``."""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from lossref._validation import check_reduction


class _Loss(nn.Module):
    """Holds and validates ``reduction`` once, at construction."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """Keeps ``weight`` as a buffer so that it follows ``.to(device)`` and lands in ``state_dict``."""

    weight: Optional[Tensor]

    def __init__(self, weight: Optional[Tensor] = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
