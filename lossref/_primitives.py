r"""The two primitives whose derivative autograd loses, written once as ``autograd.Function``\ s.

- ``sigmoid_pair``: :math:`p = \sigma(x)` and :math:`q = \sigma(-x)`. Autograd forms
  :math:`\sigma'(x)` as :math:`p (1 - p)`, which is 0 in float32 once :math:`p` rounds to 1
  (:math:`x \gtrsim 17`); here it is :math:`p q`, accurate for every :math:`x`.
- ``log_softmax``: the log-softmax of :func:`lossref.log_softmax`. Autograd of its forward forms
  the gradient of :math:`\log p_j` for the most probable class :math:`j` as :math:`1/(1 + r) - 1`,
  0 once :math:`r` is below the rounding of 1 (logits :math:`(20, 0, 0)` in float32); here
  :math:`1 - p_j = -\operatorname{expm1}(\log p_j)`, exact from the accurate output.

Both backwards are differentiable torch code on saved outputs, so second derivatives, ``torch.func``
(``grad``, ``vmap``, ``jacrev``) and every autograd mode run the same formulas. The losses that need a
sigmoid or a softmax are plain autograd code over these two.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["sigmoid_pair", "log_softmax", "sum_without_max"]

# log(1/2): at most one class has log p above it, and for that class 1 - p needs expm1
_LOG_HALF = -math.log(2.0)


def sum_without_max(e: Tensor, dim: int) -> Tensor:
    r"""The sum :math:`r = \sum_{k \ne j} e_k` of :math:`e = e^{x - x_j}`, exactly 1 at the maximum :math:`j`.

    ``frac`` zeroes the 1s (one pass, and no arg-max, which is several times
    slower than ``amax``): the maximum and any logit that ties with it or is within rounding of it.
    Their number less one, an integer that ``round`` recovers from the two sums, is added back; it is 0
    unless :math:`r \ge 1`, so a small :math:`r` is exact to the last bit.
    """
    below = torch.frac(e).sum(dim, keepdim=True)
    return below + (e.sum(dim, keepdim=True) - below - 1).round()


class _SigmoidPair(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> tuple[Tensor, Tensor]:
        return torch.sigmoid(x), torch.sigmoid(-x)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(*output)

    @staticmethod
    def backward(ctx, grad_p: Tensor, grad_q: Tensor) -> Tensor:
        p, q = ctx.saved_tensors
        return (grad_p - grad_q) * (p * q)


def sigmoid_pair(x: Tensor) -> tuple[Tensor, Tensor]:
    r""":math:`\sigma(x)` and :math:`\sigma(-x)`, each to relative accuracy, with the derivative
    :math:`\pm p q` (see the module's notes)."""
    return _SigmoidPair.apply(x)


class _LogSoftmax(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, dim: int) -> Tensor:
        # in place wherever the tensor written is a temporary: on the CPU every full-size temporary
        # alive at once costs page faults that outweigh the arithmetic (benchmarks/run.py)
        shifted = x - x.amax(dim, keepdim=True)
        r = sum_without_max(shifted.exp(), dim)
        return shifted.sub_(r.log1p_())

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.dim = inputs[1]
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g: Tensor) -> tuple[Tensor, None]:
        # g - p sum(g); where p > 1/2 (one class at most), as (g - sum(g)) - expm1(log p) sum(g), where
        # g - sum(g) is exactly 0 when all of g sits on that class (a confident correct prediction).
        # Elsewhere the plain form is the accurate one. Elementwise: torch.compile fuses it into one
        # pass, where an arg-max, gather and scatter cost several times more, eager or compiled.
        # A row without gradient (sum(g) = 0 exactly) gets g, also where log p is not finite: an ignored
        # padding row of -inf logits has a NaN log-softmax, which would make it NaN (NaN * 0).
        (log_p,) = ctx.saved_tensors
        total = g.sum(ctx.dim, keepdim=True)
        none = total == 0
        # in place only on a tensor that depends on every operand (under vmap, only a batched tensor
        # can take a batched operand in place); -a + b rounds as b - a
        top = torch.mul(torch.expm1(log_p), total).masked_fill_(none, 0).neg_().add_(g - total)
        rest = torch.mul(torch.exp(log_p), total).masked_fill_(none, 0).neg_().add_(g)
        return torch.where(log_p > _LOG_HALF, top, rest), None


def log_softmax(input: Tensor, dim: int) -> Tensor:
    r""":math:`(x_c - x_j) - \log(1 + \sum_{k \ne j} e^{x_k - x_j})` along ``dim``, :math:`j` the arg-max,
    with the accurate backward of the module's notes (documented at :func:`lossref.log_softmax`)."""
    if input.shape[dim] == 0:  # nothing to normalise (an empty batch of candidates); amax would raise
        return input.clone()
    return _LogSoftmax.apply(input, dim)
