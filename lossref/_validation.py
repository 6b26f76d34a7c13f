"""Argument checks shared by every loss.

Each check raises ``ValueError`` or ``TypeError`` naming the argument, what was expected and what
was found, so that bad input fails at the call site instead of deep inside a torch kernel.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def check_tensor(t: object, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")


def check_floating(t: Tensor, name: str) -> None:
    check_tensor(t, name)
    if not t.is_floating_point():
        raise TypeError(
            f"{name} must have a floating-point dtype, got {t.dtype}; convert it with {name}.float()"
        )


def check_like(t: Tensor, name: str, input: Tensor) -> None:
    """``t`` must be floating, with the dtype and device of ``input`` (no silent promotion)."""
    check_floating(t, name)
    if t.dtype != input.dtype:
        raise TypeError(
            f"{name} has dtype {t.dtype} but input has dtype {input.dtype}; "
            f"cast one of them, e.g. {name}.to(input.dtype)"
        )
    if t.device != input.device:
        raise ValueError(
            f"{name} is on device {t.device} but input is on {input.device}; "
            f"move it with {name}.to(input.device)"
        )


def check_same_shape(target: Tensor, input: Tensor) -> None:
    if target.shape != input.shape:
        raise ValueError(
            f"target must have the shape of input {tuple(input.shape)}, got {tuple(target.shape)}"
        )


def check_broadcasts_to(t: Tensor, name: str, shape: torch.Size, hint: str = "") -> None:
    """``t`` must broadcast to ``shape`` without enlarging it (the loss keeps the input's shape)."""
    try:
        ok = torch.broadcast_shapes(t.shape, shape) == shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name} of shape {tuple(t.shape)} cannot be broadcast to the input's shape {tuple(shape)}{hint}"
        )


def check_unit_interval(t: Tensor, name: str) -> None:
    """All elements in [0, 1]. NaN fails the check. Data-dependent: synchronises a GPU stream."""
    if t.numel() == 0:
        return
    low, high = torch.aminmax(t.detach())  # one pass; NaN propagates into both
    if bool((low >= 0) & (high <= 1)):
        return
    bad = ~((t >= 0) & (t <= 1))
    first = t[bad][0].item()
    raise ValueError(
        f"{name} must hold values in [0, 1], but {int(bad.sum())} of {t.numel()} elements do not "
        f"(e.g. {first!r})"
    )
