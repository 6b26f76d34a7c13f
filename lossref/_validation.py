"""Argument checks shared by every loss, and where lossref's answers to bad input differ from torch's.

Each check raises ``ValueError`` or ``TypeError`` naming the argument, what was expected and what
was found, so that bad input fails at the call site instead of deep inside a torch kernel. Checks
that read values (a probability in [0, 1], a class index in range) pass tensors on the ``meta``
device, which have no values: shape inference and tracing run every loss there. Under
``torch.compile`` they are asynchronous asserts in the graph, and :func:`~lossref.set_value_checks`
turns them off.

**Deliberate differences from torch.** lossref refuses some inputs torch accepts, and answers some
bad inputs differently; each is tested (``tests/test_bad_input.py``, ``tests/test_torch_module_db.py``):

- *Mixed dtypes*: a ``target`` or an option (``weight``, ``pos_weight``, ...) whose dtype differs from
  the input's is a ``TypeError``; torch promotes one of them silently.
- *Broadcasting targets*: an elementwise ``target`` must have the input's shape; torch's regression
  losses broadcast an (N, 1) prediction against an (N,) target to (N, N), with a warning, and return
  a wrong number.
- *Error types*: where torch's kernels raise ``RuntimeError`` or ``IndexError`` (a class index out of
  range, zero classes, a shape mismatch), lossref raises ``ValueError``/``TypeError`` naming the
  argument; options are checked where they are written (``CrossEntropyLoss(label_smoothing=1.5)``
  fails in the constructor, torch's at the first call).
- *Non-finite input*: NaN in gives NaN out for every loss, as torch's; probabilities are checked, so
  NaN or inf given to :func:`~lossref.binary_cross_entropy` is a ``ValueError`` (torch raises too).
  Where torch's formula gives NaN at an infinite logit, lossref may give the limit instead (the BCE
  with logits of ``-inf`` and a soft target is ``inf``).
- *Gradients at a point*: :func:`~lossref.binary_cross_entropy`'s target gradient is that of the
  clamped loss, and the second derivative of :func:`~lossref.huber_loss` and
  :func:`~lossref.smooth_l1_loss` exactly at the joint takes the quadratic side (their docstrings).
"""

from __future__ import annotations

import math
import numbers
from typing import Literal, Optional

import torch
from torch import Tensor

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


def check_reduction(reduction: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    """``reduction`` is one of ``allowed``: torch's three, or a loss's own (``kl_div``'s ``'batchmean'``)."""
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")


def check_elementwise(
    input: Tensor, target: Tensor, reduction: str, allowed: tuple[str, ...] = REDUCTIONS
) -> None:
    """An elementwise loss's arguments: a floating ``input``, a ``target`` of its dtype, device and
    shape, and a ``reduction`` among ``allowed``."""
    check_floating(input, "input")
    check_like(target, "target", input)
    check_same_shape(target, input)
    check_reduction(reduction, allowed)


def check_tensor(t: object, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")


def check_floating(t: Tensor, name: str) -> None:
    check_tensor(t, name)
    if not t.is_floating_point():
        raise TypeError(
            f"{name} must have a floating-point dtype, got {t.dtype}; convert it with {name}.float()"
        )


def check_like(t: Tensor, name: str, input: Tensor, input_name: str = "input") -> None:
    """``t`` must be floating, with the dtype and device of ``input`` (no silent promotion);
    ``input_name``: what the loss calls its first argument (``distillation_loss``'s ``student``)."""
    check_floating(t, name)
    if t.dtype != input.dtype:
        raise TypeError(
            f"{name} has dtype {t.dtype} but {input_name} has dtype {input.dtype}; "
            f"cast one of them, e.g. {name}.to({input_name}.dtype)"
        )
    if t.device != input.device:
        raise ValueError(
            f"{name} is on device {t.device} but {input_name} is on {input.device}; "
            f"move it with {name}.to({input_name}.device)"
        )


def check_same_shape(target: Tensor, input: Tensor) -> None:
    """Elementwise losses compare ``input[i]`` with ``target[i]``: the shapes must be equal.

    Broadcasting is refused on purpose: an (N, 1) prediction against an (N,) target broadcasts to
    (N, N) and compares every prediction with every target, a plausible but wrong number.
    """
    if target.shape == input.shape:
        return
    hint = ""
    if target.numel() == input.numel():
        hint = "; if they hold the same elements, reshape one, e.g. target.view_as(input)"
    else:
        try:
            broadcast = tuple(torch.broadcast_shapes(target.shape, input.shape))
        except RuntimeError:
            broadcast = None
        if broadcast == tuple(input.shape):
            hint = "; to compare every input element with a repeated target, pass target.expand_as(input)"
        elif broadcast is not None:
            hint = (
                f"; broadcasting them would give shape {broadcast}, pairing elements that do not belong "
                f"together: check which dimension is missing or extra"
            )
    raise ValueError(
        f"target must have the shape of input {tuple(input.shape)}, got {tuple(target.shape)}{hint}"
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


_VALUE_CHECKS = True


def set_value_checks(enabled: bool) -> None:
    """Turn on or off the checks that read tensor values (default: on).

    The checks of values are: probabilities in :math:`[0, 1]` (:func:`~lossref.binary_cross_entropy`,
    the region losses on probabilities and their targets), class indices in :math:`[0, C)` or
    ``ignore_index``, and 0/1 targets for the losses of sets (Lovász, distance maps). Each reads the
    data, so on a GPU it waits for the stream; under :func:`torch.compile` each is an asynchronous
    assert (``torch._assert_async``) in the graph, so every loss but ``hausdorff_dt_loss`` compiles
    with ``fullgraph=True`` (with inductor, a class index out of range is caught first by the
    generated kernel's own bounds check, a ``RuntimeError`` "index out of bounds"). Checks of types,
    shapes and options read no values and stay on.

    With value checks off, a value outside the domain is not caught: a probability outside
    :math:`[0, 1]` gives a wrong loss (NaN, or a number), and a class index out of range fails
    inside torch's ``gather`` (an ``IndexError`` on the CPU, a device-side assert on CUDA). The
    convention is torch's ``Distribution.set_default_validate_args``.

    Examples:
        >>> import torch, lossref
        >>> # for a training loop whose data is known to be valid
        >>> lossref.set_value_checks(False)
        >>> p, y = torch.tensor([0.5]), torch.tensor([1.0])
        >>> round(lossref.binary_cross_entropy(p, y).item(), 4)
        0.6931
        >>> lossref.set_value_checks(True)
    """
    global _VALUE_CHECKS
    _VALUE_CHECKS = check_bool(enabled, "enabled")


def checked(t: Tensor) -> Optional[Tensor]:
    """The data a value check reads (:func:`readable`), or ``None`` when value checks are off."""
    return readable(t) if _VALUE_CHECKS else None


def compiled_assert(ok: Tensor, message: str) -> None:
    """Under :func:`torch.compile`: assert ``ok`` (a 0-dim bool tensor) asynchronously with ``message``,
    since a Python ``if`` on a value would break the graph. Callers test
    ``torch.compiler.is_compiling()`` first, so that eager code does not form ``ok``: it reads the
    values in one pass and forms the masks of its detailed error only when a check fails."""
    torch._assert_async(ok, message)


def readable(t: Tensor) -> Optional[Tensor]:
    """The data a value check reads: ``t`` itself; under ``torch.func`` transforms the tensor they
    wrap (``vmap`` cannot branch on a value per sample, so the check reads the whole batch at once);
    ``None`` on the ``meta`` device (shape inference, the tracing of ``torch.compile``), which has a
    shape and a dtype but no data, so value checks pass it."""
    if t.device.type == "meta":
        return None
    if torch.compiler.is_compiling():  # the tracer sees no torch.func wrappers, and cannot trace these
        return t.detach()
    while torch._C._functorch.is_functorch_wrapped_tensor(t):
        t = torch._C._functorch.get_unwrapped(t)
    with torch._C._DisableFuncTorch():  # a detach under torch.func.grad would wrap the data again
        return t.detach()


def check_unit_interval(t: Tensor, name: str) -> None:
    """All elements in [0, 1]. NaN fails the check. Data-dependent: synchronises a GPU stream."""
    data = checked(t)
    if data is None or data.numel() == 0:
        return
    if torch.compiler.is_compiling():  # the graph cannot branch on the values
        compiled_assert(((data >= 0) & (data <= 1)).all(), f"{name} must hold values in [0, 1]")
        return
    low, high = torch.aminmax(data)  # one pass, no temporary; NaN propagates into both
    if bool((low >= 0) & (high <= 1)):
        return
    bad = ~((data >= 0) & (data <= 1))
    first = data[bad][0].item()
    raise ValueError(
        f"{name} must hold values in [0, 1], but {int(bad.sum())} of {data.numel()} elements do not "
        f"(e.g. {first!r})"
    )


def check_optional_weight(weight: Optional[Tensor], name: str, input: Tensor, hint: str = "") -> None:
    """An optional weight: the dtype and device of ``input``, broadcastable to its shape."""
    if weight is not None:
        check_like(weight, name, input)
        check_broadcasts_to(weight, name, input.shape, hint)


def check_class_scores(input: Tensor) -> int:
    """The number of classes C >= 1 of an input of shape (C,) or (N, C, d1, ..., dk)."""
    check_floating(input, "input")
    if input.dim() == 0:
        raise ValueError("input must have shape (C,) or (N, C, d1, ..., dk), got a 0-dimensional tensor")
    class_dim = 0 if input.dim() == 1 else 1
    if input.shape[class_dim] == 0:
        # torch fails later with an IndexError from its kernels, or mistakes it for a bad target
        raise ValueError(
            f"input must have at least one class in dimension {class_dim}, got shape {tuple(input.shape)}"
        )
    return input.shape[class_dim]


def _index_target_shape(input: Tensor) -> torch.Size:
    return input.shape[:0] if input.dim() == 1 else input.shape[:1] + input.shape[2:]


def check_index_target(target: Tensor, input: Tensor, num_classes: int, ignore_index: int) -> None:
    expected = _index_target_shape(input)
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        hint = ""
        if target.shape == expected:
            hint = (
                f"; for class indices use target.long(), for class probabilities pass a floating "
                f"target of the input's shape {tuple(input.shape)}"
            )
        raise TypeError(f"target of class indices must have an integer dtype, got {target.dtype}{hint}")
    if target.shape != expected:
        # the usual cause: classes last, (N, d1, ..., C), as a channels-last head produces them
        hint = "; classes go in dimension 1 of input, e.g. input.movedim(-1, 1)" if input.dim() > 1 else ""
        raise ValueError(
            f"target of class indices for input of shape {tuple(input.shape)} must have shape "
            f"{tuple(expected)}, got {tuple(target.shape)}{hint}"
        )
    if target.device != input.device:
        raise ValueError(f"target is on device {target.device} but input is on {input.device}")
    data = checked(target)
    if data is None:
        return
    bad = ((data < 0) | (data >= num_classes)) & (data != ignore_index)
    message = f"target must hold class indices in [0, {num_classes}) or ignore_index ({ignore_index})"
    if torch.compiler.is_compiling():  # the graph cannot branch on the values
        compiled_assert(~bad.any(), message)
        return
    if bool(bad.any()):  # data-dependent: synchronises a GPU stream, as torch's own check does
        raise ValueError(
            f"target holds class index {int(data[bad][0])}, outside [0, {num_classes}) and not "
            f"ignore_index ({ignore_index}); {int(bad.sum())} of {data.numel()} targets are out of range"
        )


def check_class_weight(weight: Optional[Tensor], name: str, input: Tensor, num_classes: int) -> None:
    """An optional per-class weight: shape (C,), the dtype and device of ``input``."""
    if weight is None:
        return
    check_like(weight, name, input)
    if weight.shape != (num_classes,):
        raise ValueError(
            f"{name} must have one entry per class, shape ({num_classes},), got {tuple(weight.shape)}"
        )


def check_label_smoothing(label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")


def check_nonnegative(t: Tensor, name: str, what: str) -> None:
    """All elements >= 0 (NaN passes: NaN in gives NaN out). Data-dependent: synchronises a GPU stream."""
    data = checked(t)
    if data is None or data.numel() == 0:
        return
    if torch.compiler.is_compiling():  # the graph cannot branch on the values
        compiled_assert(~(data < 0).any(), f"{name} must be non-negative ({what})")
        return
    bad = data < 0
    if bool(bad.any()):
        raise ValueError(
            f"{name} must be non-negative ({what}), but {int(bad.sum())} of {data.numel()} elements are "
            f"negative (e.g. {data[bad][0].item()!r})"
        )


def check_bool(value: bool, name: str) -> bool:
    """A Python bool (not 0 or 1, nor a tensor): a switch."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_embeddings(tensors: dict[str, Tensor], batched: bool = False) -> Tensor:
    """Embeddings of one shape, one floating dtype and device: the first of them. The shape is (N, D)
    or (D,); with ``batched``, (N, D) only (a loss that scores the samples of a batch against each
    other)."""
    (first_name, first), *others = tensors.items()
    check_floating(first, first_name)
    if first.dim() not in ((2,) if batched else (1, 2)):
        wanted = "(N, D), a batch of N embeddings" if batched else "(N, D) or (D,), embeddings"
        raise ValueError(f"{first_name} must have shape {wanted} of D coordinates, got {tuple(first.shape)}")
    for name, t in others:
        check_like(t, name, first, first_name)
        if t.shape != first.shape:
            raise ValueError(
                f"{name} must have the shape of {first_name} {tuple(first.shape)}, got {tuple(t.shape)}"
            )
    return first


def check_real_number(value: float, name: str) -> float:
    """A finite Python real number (not a bool or a tensor, which would put a value into the graph):
    its float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = f"; pass a Python number, e.g. {name}.item()" if isinstance(value, Tensor) else ""
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}{hint}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value}")
    return float(value)


def check_sample_classes(
    target: Tensor, input: Tensor, num_classes: int, input_name: str = "input", hint: str = ""
) -> None:
    """One class index per sample of scores with the classes last: shape ``input.shape[:-1]``
    (``()`` for an input (C,), (N,) for (N, C)), an integer dtype, values in [0, C) (read from the data)."""
    check_tensor(target, "target")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold class indices with an integer dtype, got {target.dtype}{hint}")
    expected = input.shape[:-1]
    if target.shape != expected:
        raise ValueError(
            f"target must have shape {tuple(expected)}, one class index per sample of {input_name} "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    if target.device != input.device:
        raise ValueError(f"target is on device {target.device} but {input_name} is on {input.device}")
    data = checked(target)
    if data is None:
        return
    bad = (data < 0) | (data >= num_classes)
    message = f"target must hold class indices in [0, {num_classes})"
    if torch.compiler.is_compiling():  # the graph cannot branch on the values
        compiled_assert(~bad.any(), message)
        return
    if bool(bad.any()):  # data-dependent: synchronises a GPU stream
        raise ValueError(
            f"{message}, got {int(data[bad][0])}; {int(bad.sum())} of {data.numel()} targets are out of range"
        )


def labels_like(target: Tensor, input: Tensor, input_name: str = "input") -> Tensor:
    """A label tensor in the input's dtype: floating of that dtype, or integer (converted exactly)."""
    check_tensor(target, "target")
    if target.is_floating_point():
        check_like(target, "target", input, input_name)
        return target
    if target.is_complex() or target.dtype == torch.bool:
        raise TypeError(
            f"target must hold labels as numbers (floating, of {input_name}'s dtype, or integer), got "
            f"{target.dtype}; convert it: target.long() for labels 0 and 1, 2 * target.long() - 1 for 1, -1"
        )
    if target.device != input.device:
        raise ValueError(f"target is on device {target.device} but {input_name} is on {input.device}")
    return target.to(input.dtype)


def check_label_values(y: Tensor, allowed: tuple[float, ...], hint: str) -> None:
    """Every label is one of ``allowed`` (NaN is not). Reads the data: a GPU stream waits."""
    data = checked(y)
    if data is None or data.numel() == 0:
        return
    ok = data == allowed[0]
    for value in allowed[1:]:
        ok = ok | (data == value)
    message = f"target must hold labels in {{{', '.join(f'{v:g}' for v in allowed)}}}"
    if torch.compiler.is_compiling():  # the graph cannot branch on the values
        compiled_assert(ok.all(), message)
        return
    if not bool(ok.all()):
        bad = data[~ok]
        raise ValueError(f"{message}, got {bad[0].item()!r} ({bad.numel()} of {data.numel()} labels){hint}")
