r"""Helpers shared by the losses of class scores: ``cross_entropy``/``nll_loss``, ``poly1_cross_entropy``
and ``softmax_focal_loss``.

The class-index helpers (:func:`index_nll`, :func:`index_forward`, :func:`index_gradient`) take the
class scores batched as :math:`(N, C, K)`, a view of the input, with the target as :math:`(N, K)`.
:func:`~lossref.log_softmax` itself stays public in ``lossref/cross_entropy.py``; the composite forms
take its output, so that this module imports no loss module.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import torch
from torch import Tensor


def class_view(t: Tensor, input: Tensor) -> Tensor:
    """A per-class tensor of shape (C,) shaped to broadcast along input's class dimension."""
    return t if input.dim() == 1 else t.view(-1, *[1] * (input.dim() - 2))


def sum_without_max(e: Tensor, dim: int) -> Tensor:
    r"""The sum :math:`r = \sum_{k \ne j} e_k` of :math:`e = e^{x - x_j}`, exactly 1 at the maximum :math:`j`.

    ``frac`` zeroes the 1s (one pass, and no arg-max, which is several times slower than ``amax``):
    the maximum and any logit that ties with it or is within rounding of it. Their number less one,
    an integer that ``round`` recovers from the two sums, is added back; it is 0 unless :math:`r \ge 1`,
    so a small :math:`r` is exact to the last bit. Autograd differentiates ``frac`` as the identity
    and ``round`` as 0, so :math:`\partial r / \partial e_k = 1` for every :math:`k`, :math:`j`
    included: with the maximum held constant, the derivative of :math:`\log(1 + r)`, the log of the
    full sum.
    """
    below = torch.frac(e).sum(dim, keepdim=True)
    return below + (e.sum(dim, keepdim=True) - below - 1).round()


def weighted_nll(
    log_probs: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int
) -> tuple[Tensor, Tensor]:
    """Per-element ``-w[y] log_probs[y]`` (0 where ignored) and the per-element weights ``w[y]``."""
    class_dim = 0 if log_probs.dim() == 1 else 1
    keep = target != ignore_index
    safe = torch.where(keep, target, 0).long()
    # masked, not multiplied by w = 0: an ignored row may hold -inf (a masked-out class), as in torch
    picked = log_probs.gather(class_dim, safe.unsqueeze(class_dim)).squeeze(class_dim).masked_fill(~keep, 0)
    # selected, not multiplied by keep: weight's gradient stays 0 at ignored targets where 'mean' divides
    # by a total weight of 0 (every target ignored), whose gradient is 0/0
    w = keep.to(log_probs.dtype) if weight is None else torch.where(keep, weight[safe], 0)
    return -(picked * w), w


def drop_ignored_rows(x: Tensor, target: Tensor, ignore_index: int) -> Tensor:
    """``x`` with the class scores of ignored samples set to 0, for the composite forms: a padding row of
    -inf logits has a NaN log-softmax whose gradient is NaN even where the loss does not use it. Its
    gradient is 0 at ignored samples, ``x``'s gradient elsewhere."""
    class_dim = 0 if x.dim() == 1 else 1
    return x.masked_fill((target == ignore_index).unsqueeze(class_dim), 0)


def index_nll(
    log_probs: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int, eps: float
) -> tuple[Tensor, Tensor]:
    r"""Cross-entropy of class indices per sample from log-probabilities (classes in dim 1), before the
    reduction, and the per-sample weights :math:`w_y`: torch's :math:`(1 - \varepsilon) w_y (-\log p_y)
    + \tfrac{\varepsilon}{C} \sum_c w_c (-\log p_c)`, 0 where ignored. Differentiable primitives only:
    the composite form that autograd differentiates for ``weight``'s gradient and second derivatives."""
    loss, w = weighted_nll(log_probs, target, weight, ignore_index)
    if eps > 0:
        weighted = log_probs if weight is None else log_probs * class_view(weight, log_probs)
        smooth = -weighted.sum(1).masked_fill(target == ignore_index, 0)
        loss = (1 - eps) * loss + (eps / log_probs.shape[1]) * smooth
    return loss, w


class IndexParts(NamedTuple):
    """What :func:`index_gradient` reuses from :func:`index_forward`, each (N, 1, K) but ``e`` (N, C, K)."""

    e: Tensor  #: e^(x - max), 1 at the maximum
    rest: Tensor  #: r, the sum of e over all classes but the maximum (0 for ignored samples)
    shifted_y: Tensor  #: x_y - max (0 for ignored samples)
    y: Tensor  #: the target class (0 for ignored samples)
    w_y: Tensor  #: w_y, 0 for ignored samples
    keep: Tensor  #: not ignored


def finite_max(x: Tensor, dim: int) -> Tensor:
    r"""The maximum along ``dim`` (keepdim), -inf raised to the lowest finite value: a row of -inf
    logits (padding) then has :math:`e = 0`, not NaN, and the derived gradient :math:`e \cdot 0` of an
    ignored row is 0. Its :math:`r` is -1 (no 1 at the maximum), which the callers mask to 0 where
    the row is ignored; a row that is not ignored keeps it, so its loss and gradient are NaN, as torch's."""
    return x.amax(dim, keepdim=True).clamp_min_(torch.finfo(x.dtype).min)


def index_forward(
    x: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int, eps: float
) -> tuple[Tensor, IndexParts]:
    r"""Cross-entropy of class indices per sample, (N, 1, K), weighted, before the reduction, in one
    exp pass: :math:`-\log p_y = \log(1 + r) - (x_y - m)`; with label smoothing ``eps`` torch's
    :math:`(1 - \varepsilon) w_y (-\log p_y) + \tfrac{\varepsilon}{C} \sum_c w_c (-\log p_c)`."""
    num_classes = x.shape[1]
    ignored = (target == ignore_index).unsqueeze(1)
    keep = ~ignored
    y = torch.where(keep, target.unsqueeze(1), 0).long()
    shifted = x - finite_max(x, 1)
    # ignored rows read class 0; masked to 0 (one per row), as their logits may be -inf
    shifted_y = shifted.gather(1, y).masked_fill_(ignored, 0.0)
    w_view = None if weight is None else class_view(weight, x)
    if eps > 0:
        weighted_sum = (shifted if w_view is None else shifted * w_view).sum(1, keepdim=True)
        weighted_sum.masked_fill_(ignored, 0.0)
    e = shifted.exp_()  # the shifted logits are not needed any more
    rest = sum_without_max(e, 1).masked_fill_(ignored, 0.0)  # see finite_max
    lse = torch.log1p(rest)
    w_y = keep.to(x.dtype) if weight is None else weight[y] * keep
    loss = (lse - shifted_y) * w_y
    if eps > 0:
        total_weight = num_classes if weight is None else weight.sum()
        smooth = (lse * total_weight - weighted_sum) * keep
        loss = (1 - eps) * loss + (eps / num_classes) * smooth
    return loss, IndexParts(e, rest, shifted_y, y, w_y, keep)


def index_gradient(
    g: Tensor,
    parts: IndexParts,
    weight: Optional[Tensor],
    eps: float,
    reduction: str,
    target_factor: Optional[Tensor] = None,
) -> Tensor:
    r"""The derived gradient :math:`A p - B\, \mathrm{onehot}(y) - D w` of :func:`index_forward`'s loss
    reduced by ``reduction``, given ``g``, the gradient of the reduced loss: :math:`B = (1 - \varepsilon)
    w_y` times an optional per-sample ``target_factor`` (Poly-1's :math:`1 + \varepsilon p_y`),
    :math:`D = \varepsilon / C` and :math:`A = B + D \sum_c w_c`."""
    e, rest, y, w_y, keep = parts.e, parts.rest, parts.y, parts.w_y, parts.keep
    num_classes = e.shape[1]
    if reduction == "none":
        coef = g.unsqueeze(1)
    else:
        coef = g / w_y.sum() if reduction == "mean" else g
    # selected, as torch leaves the gradient of ignored samples at 0: 'mean' with every target ignored
    # has coef = g / 0, and inf * w_y = inf * 0 is NaN (without weight, w_y is 1 where kept: no product)
    b = coef * (1 - eps)
    b = torch.where(keep, b if weight is None else b * w_y, 0)
    if target_factor is not None:
        b = b * target_factor
    e_y = parts.shifted_y.exp()  # e at y: cheaper than a gather from e
    # at y, A p_y - B as (B (e_y - 1 - r) + D e_y sum_c w_c) / (1 + r): e_y - 1 is exactly 0 where y
    # is the maximum, where A / (1 + r) - B would cancel to 0 once r is below the rounding of 1
    a, at_y = b, b * (e_y - 1 - rest)
    if eps > 0:  # smoothing: A = B + D sum_c w_c, and D w_c taken from every class
        d = torch.where(keep, coef * (eps / num_classes), 0)
        d_total = d * (num_classes if weight is None else weight.sum())
        a, at_y = b + d_total, at_y + d_total * e_y
    one_plus_rest = 1 + rest
    grad = e * (a / one_plus_rest)
    grad.scatter_(1, y, at_y / one_plus_rest)
    if eps > 0:
        grad.sub_(d if weight is None else d * class_view(weight, e))
    return grad


def gradient_by_autograd(
    needs_input_grad: tuple[bool, ...],
    g: Tensor,
    x: Tensor,
    weight: Optional[Tensor],
    composite: Callable[[Tensor, Optional[Tensor]], Tensor],
) -> tuple[Optional[Tensor], Optional[Tensor]]:
    """The gradients for x and weight (a Function's inputs 0 and 2; focal's ``alpha``) of
    ``composite(x, weight)``, a differentiable version of the loss, under autograd: for weight's
    gradient, and for a differentiable gradient (create_graph)."""
    need_x, need_w = needs_input_grad[0], needs_input_grad[2]
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        if create_graph:  # stay connected to the graph that produced x and weight
            x_, w_ = x, weight
        else:
            x_ = x.detach().requires_grad_(need_x)
            w_ = None if weight is None else weight.detach().requires_grad_(need_w)
        wrt = [t for t, need in ((x_, need_x), (w_, need_w)) if need and t is not None]
        grads = iter(torch.autograd.grad(composite(x_, w_), wrt, g, create_graph=create_graph))
    return (next(grads) if need_x else None), (next(grads) if need_w else None)
