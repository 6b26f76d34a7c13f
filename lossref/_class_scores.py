r"""Helpers shared by the losses of class scores: ``cross_entropy``/``nll_loss``, ``poly1_cross_entropy``
and ``softmax_focal_loss``.

They take log-probabilities (from :func:`~lossref.log_softmax`, or ``nll_loss``'s input) with the
classes in dim 1 (dim 0 for a single sample of shape :math:`(C)`), and are plain differentiable torch
code, so the losses built on them are plain autograd.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def class_dim(t: Tensor) -> int:
    """The class dimension of class scores: 0 for a single sample of shape (C), else 1."""
    return 0 if t.dim() == 1 else 1


def class_view(t: Tensor, input: Tensor) -> Tensor:
    """A per-class tensor of shape (C,) shaped to broadcast along input's class dimension."""
    return t if input.dim() == 1 else t.view(-1, *[1] * (input.dim() - 2))


def pick_target(
    log_probs: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Per sample: ``log_probs`` at the target class (0 where ignored), the weight ``w[y]`` of the target
    class (1 without ``weight``; 0 where ignored), and the mask of the samples that are not ignored."""
    dim = class_dim(log_probs)
    keep = target != ignore_index
    safe = torch.where(keep, target, 0).long()
    # masked, not multiplied by w = 0: an ignored row may hold -inf (a masked-out class), as in torch;
    # and masked last, so that its gradient is 0 at ignored samples whatever flows back (inf * 0 = NaN
    # where 'mean' divides by a total weight of 0, every target ignored)
    picked = log_probs.gather(dim, safe.unsqueeze(dim)).squeeze(dim).masked_fill(~keep, 0)
    # selected, not multiplied by keep, for weight's gradient, for the same reason
    w = keep.to(log_probs.dtype) if weight is None else torch.where(keep, weight[safe], 0)
    return picked, w, keep


def weighted_nll(
    log_probs: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int
) -> tuple[Tensor, Tensor]:
    """Per-element ``-w[y] log_probs[y]`` (0 where ignored) and the per-element weights ``w[y]``."""
    picked, w, _ = pick_target(log_probs, target, weight, ignore_index)
    return -(picked * w), w


def index_nll(
    log_probs: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int, eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Cross-entropy of class indices per sample from log-probabilities, before the reduction: torch's
    :math:`(1 - \varepsilon) w_y (-\log p_y) + \tfrac{\varepsilon}{C} \sum_c w_c (-\log p_c)`, 0 where
    ignored; with the per-sample weights :math:`w_y` and :math:`\log p_y` (both 0 where ignored)."""
    log_p_y, w, keep = pick_target(log_probs, target, weight, ignore_index)
    loss = 0.0 - log_p_y * w  # not -(...): +0, not -0, where ignored or where log p_y rounds to 0
    if eps > 0:
        dim = class_dim(log_probs)
        # masked before the sum too: an ignored padding row of -inf logits has NaN log-probabilities,
        # which would reach weight's gradient as NaN * 0
        kept = log_probs.masked_fill(~keep.unsqueeze(dim), 0)
        weighted = kept if weight is None else kept * class_view(weight, kept)
        smooth = -weighted.sum(dim).masked_fill(~keep, 0)
        loss = (1 - eps) * loss + (eps / log_probs.shape[dim]) * smooth
    return loss, w, log_p_y
