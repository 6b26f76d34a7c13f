"""Every lossref loss runs in float32 under :func:`torch.autocast`, as torch's own losses do.

Autocast runs matrix products in float16/bfloat16 and leaves most other ops in the dtype they are
given, so a loss written from torch primitives would compute in the reduced precision of its
input: bfloat16 keeps 8 bits of mantissa, and a loss is made of small differences (a log of a
probability near 1, a residual). torch's autocast policy lists its losses among the ops that run
in float32; :func:`float32_under_autocast` gives lossref's losses the same policy. The gradient
flows back to the reduced-precision input in its own dtype, as with torch's losses.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, TypeVar

import torch

__all__ = ["float32_under_autocast", "refused_under_autocast"]

F = TypeVar("F", bound=Callable[..., Any])
_REDUCED = (torch.float16, torch.bfloat16)


def _autocast_device(value: Any) -> Optional[str]:
    """The device type of ``value`` if it is a tensor on a device where autocast is on, else None.
    Devices autocast does not know (``meta``, on which shapes are inferred and ``torch.compile``
    traces) have it off."""
    if not isinstance(value, torch.Tensor):
        return None
    device = value.device.type
    on = torch.amp.is_autocast_available(device) and torch.is_autocast_enabled(device)
    return device if on else None


def _upcast(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.dtype in _REDUCED:
        return value.float()
    return value


def float32_under_autocast(fn: F) -> F:
    """Decorate a loss function: where autocast is on for the input's device, cast float16 and
    bfloat16 tensor arguments to float32 and run the loss with autocast off (its result is then
    float32); elsewhere call it unchanged."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the first argument: input, or a loss's own name for it (distillation_loss's student)
        first = args[0] if args else next((v for v in kwargs.values() if isinstance(v, torch.Tensor)), None)
        device = _autocast_device(first)
        if device is None:
            return fn(*args, **kwargs)
        with torch.autocast(device, enabled=False):
            return fn(*(_upcast(a) for a in args), **{k: _upcast(v) for k, v in kwargs.items()})

    return wrapper  # type: ignore[return-value]


def refused_under_autocast(fn: F) -> F:
    """Decorate a loss of probabilities: under autocast for the input's device, raise instead of
    computing. torch refuses ``binary_cross_entropy`` under CUDA autocast for this reason: in
    float16/bfloat16 a sigmoid output rounds to exactly 1 from a logit of 9 (float16) or 7
    (bfloat16) on, so the loss of a wrong label saturates at the clamp and its gradient vanishes
    before the loss is reached. lossref refuses on every device, because the rounding is the same."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the first argument: input, or a loss's own name for it (distillation_loss's student)
        first = args[0] if args else next((v for v in kwargs.values() if isinstance(v, torch.Tensor)), None)
        device = _autocast_device(first)
        if device is not None:
            raise RuntimeError(
                f"lossref.{fn.__name__} takes probabilities, which are unsafe under autocast: in "
                "float16/bfloat16 sigmoid(x) rounds to 1 from x = 9 / 7 on, and the loss of a wrong label "
                "then saturates with zero gradient. Pass the logits to binary_cross_entropy_with_logits "
                "(or BCEWithLogitsLoss) instead, or compute the probabilities and the loss with autocast "
                f"disabled: with torch.autocast({device!r}, enabled=False): ..."
            )
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
