"""Registry entries of loss families lossref does not ship yet, driven through the generic tests.

They show that the registry's schema fits the coming families without a name branch anywhere: a
loss with integer lengths (a sequence loss over the first ``lengths[n]`` steps, as CTC takes
lengths) and a loss whose module owns a learnable scalar (cross-entropy with a learned temperature,
as CLIP learns its logit scale). (The triplet fixture of three tensors gave way to lossref's
``triplet_margin_loss``; ArcFace's class vectors are a learnable parameter sized by the input.)
Each is written plainly from torch primitives, checks its arguments like lossref's losses, and has a
written-out reference oracle. They are test fixtures, not part of lossref.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossref._inputs import LossInputs
from lossref._loss import _Loss
from lossref._reduction import reduce
from lossref._validation import check_floating, check_like, check_reduction, check_tensor
from lossref.registry import Arg, LossSpec, Parameter, Reference


def _check_dims(t: Tensor, name: str, dims: int, batch: int | None = None) -> None:
    if t.dim() != dims or (batch is not None and t.shape[0] != batch):
        first = "" if batch is None else f" with the batch ({batch}) first"
        raise ValueError(f"{name} must have {dims} dimension(s){first}, got {tuple(t.shape)}")


# -- integer lengths ---------------------------------------------------------------------------------


def masked_mse(input: Tensor, target: Tensor, lengths: Tensor, reduction: str = "mean") -> Tensor:
    """The mean squared error of each sequence over its first ``lengths[n]`` steps: (N, T) -> (N,)."""
    check_floating(input, "input")
    check_like(target, "target", input)
    check_tensor(lengths, "lengths")
    check_reduction(reduction)
    if lengths.is_floating_point():
        raise TypeError(f"lengths must have an integer dtype, got {lengths.dtype}")
    _check_dims(input, "input", 2)
    if target.shape != input.shape:
        raise ValueError(
            f"target must have the shape of input {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    _check_dims(lengths, "lengths", 1, input.shape[0])
    steps = torch.arange(input.shape[1], device=input.device)
    counted = (steps < lengths[:, None]).to(input.dtype)
    loss = ((input - target) ** 2 * counted).sum(1) / lengths.to(input.dtype)
    return reduce(loss, reduction)


class MaskedMSE(_Loss):
    def forward(self, input: Tensor, target: Tensor, lengths: Tensor) -> Tensor:
        return masked_mse(input, target, lengths, self.reduction)


def _masked_mse_reference(input: Tensor, target: Tensor, lengths: Tensor) -> Tensor:
    """Sequence by sequence, step by step."""
    losses = []
    for x, y, n in zip(input, target, lengths.tolist(), strict=True):
        losses.append(sum((x[k] - y[k]) ** 2 for k in range(n)) / n)
    return torch.stack(losses) if losses else input.new_zeros(0)


def _masked_mse_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    input, target = torch.randn(shape, generator=g, dtype=dtype), torch.randn(shape, generator=g, dtype=dtype)
    lengths = torch.randint(1, shape[1] + 1, shape[:1], generator=g)
    return LossInputs({"input": input, "target": target, "lengths": lengths})


# -- a learnable parameter ---------------------------------------------------------------------------


def temperature_cross_entropy(
    input: Tensor, target: Tensor, log_temperature: Tensor, reduction: str = "mean"
) -> Tensor:
    """Cross-entropy of the logits divided by a temperature exp(log_temperature): (N, C) -> (N,)."""
    check_floating(input, "input")
    check_tensor(target, "target")
    check_floating(log_temperature, "log_temperature")
    check_reduction(reduction)
    if log_temperature.dim() != 0:
        raise ValueError(f"log_temperature must be a scalar, got shape {tuple(log_temperature.shape)}")
    _check_dims(input, "input", 2)
    _check_dims(target, "target", 1, input.shape[0])
    return reduce(F.cross_entropy(input * torch.exp(-log_temperature), target, reduction="none"), reduction)


class TemperatureCrossEntropy(_Loss):
    """Owns ``log_temperature``, a learnable scalar starting at 0 (temperature 1)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return temperature_cross_entropy(input, target, self.log_temperature, self.reduction)


def _temperature_reference(input: Tensor, target: Tensor, log_temperature: Tensor) -> Tensor:
    """-log of the softmax at the target, as written: z_y - log sum exp z, with z = x / T."""
    z = input / torch.exp(log_temperature)
    return torch.log(torch.exp(z).sum(1)) - z.gather(1, target[:, None]).squeeze(1)


def _temperature_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    input = 3 * torch.randn(shape, generator=g, dtype=dtype)
    target = torch.randint(0, shape[1], shape[:1], generator=g)
    log_temperature = 0.5 * torch.randn((), generator=g, dtype=dtype)
    return LossInputs({"input": input, "target": target}, parameters={"log_temperature": log_temperature})


FIXTURE_LOSSES: tuple[LossSpec, ...] = (
    LossSpec(
        name="masked_mse",
        function=masked_mse,
        module=MaskedMSE,
        domain="predictions",
        target="sample",
        generate=_masked_mse_inputs,
        oracle=Reference(_masked_mse_reference, "a fixture: sequence by sequence, step by step"),
        args=(
            Arg("input", differentiable=True),
            Arg("target", differentiable=True),
            Arg("lengths", integer=True),
        ),
    ),
    LossSpec(
        name="temperature_cross_entropy",
        function=temperature_cross_entropy,
        module=TemperatureCrossEntropy,
        domain="logits",
        target="sample",
        generate=_temperature_inputs,
        oracle=Reference(_temperature_reference, "a fixture: the softmax written out"),
        args=(Arg("input", differentiable=True), Arg("target", integer=True)),
        parameters=(Parameter("log_temperature", init="zeros (temperature 1)", initial=0.0),),
    ),
)
