r"""Conventions shared by every region (segmentation) loss of lossref.

The overlap losses (:mod:`lossref.overlap`), the Lovász losses (:mod:`lossref.lovasz`) and the
distance-map losses (:mod:`lossref.boundary`) all read their arguments the same way, described here
once; their docstrings refer to this page.

**Modes** (``mode``, required: as in segmentation_models_pytorch it has no default and is never
guessed from shapes):

==================  ============================  ==================================  ==============
mode                input                         target                              probabilities
==================  ============================  ==================================  ==============
``'binary'``        :math:`(N, *)` or             same shape, floating, values in      ``sigmoid``
                    :math:`(N, 1, *)`             :math:`[0, 1]` (soft) or
                                                  ``ignore_index``
``'multiclass'``    :math:`(N, C, *)`             class indices :math:`(N, *)`,        ``softmax``
                                                  integer, in :math:`[0, C)` or        over dim 1
                                                  ``ignore_index``
``'multilabel'``    :math:`(N, C, *)`             same shape, floating, values in      ``sigmoid`` per
                                                  :math:`[0, 1]` or ``ignore_index``   channel
==================  ============================  ==================================  ==============

Dimension 0 is always the batch; in ``'binary'`` mode every other dimension is spatial (a channel
of size 1 changes nothing), so there is one class, :math:`C = 1`, the foreground. An
:math:`(N, C, *)` input with :math:`C > 1` is then one mask per image spanning the channels, as asked;
for one mask per channel pass ``'multilabel'``.

**from_logits** (default ``True``; :func:`~lossref.lovasz_hinge` has none, its hinge is on the
logits): ``input`` holds logits. With ``from_logits=False`` it holds probabilities, checked to lie
in :math:`[0, 1]` (for ``'multiclass'`` they should sum to 1 over dim 1; that is not checked). Logs
(the cross-entropy terms of :func:`~lossref.dice_bce_loss` and :func:`~lossref.combo_loss`) are
taken from logits as log-sigmoid / log-softmax, never as ``log(sigmoid(x))``, so logits of
:math:`\pm 10^4` give finite losses and gradients; from probabilities they are clamped at
:math:`-100`, as :func:`~lossref.binary_cross_entropy` does. The complement :math:`1 - p` is
:math:`\sigma(-x)` from logits, and the sum of the other classes' probabilities for the softmax, so
it keeps its relative precision where :math:`p \to 1`.

**Statistics.** For each image :math:`n` and class :math:`c`, over the counted pixels :math:`i`:

.. math::
    TP = \sum_i p_i t_i, \qquad FP = \sum_i p_i (1 - t_i), \qquad FN = \sum_i (1 - p_i) t_i,

with soft targets :math:`t_i \in [0, 1]` allowed (one-hot for class indices). ``per_image=True``
(default, as MONAI's ``batch=False`` and kornia) scores every image separately; ``per_image=False``
sums the statistics over the whole batch first (one score per class, as smp, and what the
``view(-1)`` of a binary blog loss computes; flattening a *multi-class* batch that way mixes classes,
which these functions never do).

**ignore_index** (default ``-100``): pixels whose target equals it are left out of every statistic
(and of the cross-entropy terms); their gradient is 0. In ``'multilabel'`` mode this is per element.

**include_background** (default ``True``): ``False`` leaves out channel 0 (for ``'multiclass'`` the
softmax still runs over all :math:`C` channels). It needs a channel 0: in ``'binary'`` mode it is an
error, the one channel is the foreground.

**weight**: an optional per-class weight of shape :math:`(C,)` (:math:`(1,)` for ``'binary'``),
indexed like the input's channels (so with ``include_background=False`` its entry 0 is unused).

**smooth** (default ``1e-5``, MONAI's): added to numerator and denominator of the index, e.g.
:math:`\mathrm{Dice} = (2\,TP + s) / (2\,TP + FP + FN + s)`. The losses are computed as
:math:`1 - \mathrm{index}` written without the subtraction, e.g.
:math:`(FP + FN) / (2\,TP + FP + FN + s)`: a sum of non-negative terms over another, so the loss
keeps its relative precision when it is small. There is no ``eps``: the one undefined case, 0/0, is
defined below instead of being shifted.

**Empty masks.** A class absent from both the target and the prediction is a perfect score, loss 0
(with ``smooth=0`` this is 0/0, defined as 0, with gradient 0 - no NaN). A prediction with mass
:math:`P` on an empty target costs :math:`P / (P + s)` (Dice; :math:`\alpha P / (\alpha P + s)` for
Tversky): proportional to the predicted mass while it is small against ``smooth``, and the worst
value, 1, once it is not (exactly 1 with ``smooth=0``). So an empty target is never free of cost, and
``smooth`` sets the scale, in pixels, below which a stray prediction is forgiven. With ``smooth=0``
an empty target gives loss 1 and gradient 0 for every non-empty soft prediction. MONAI (smooth
``1e-5``) gives the same numbers; kornia (``eps`` only in the denominator) scores empty-on-empty as
loss 1 for ``dice_loss``, and leaves absent classes out of ``tversky_loss``'s mean
(``tests/test_region.py`` asserts both). Only 0/0 is defined so: a NaN logit makes the statistics
and the loss of its (image, class) NaN, as in torch's losses, never a perfect 0 (every class of the
image for ``'multiclass'``, through the softmax; with ``per_image=False`` the class).

**reduction**: ``'none'`` returns the weighted per-(image, class) losses, shape :math:`(N, C')`
(``per_image=True``) or :math:`(C',)` (``per_image=False``), where :math:`C'` counts the included
classes (:math:`C' = 1` for ``'binary'``); ``'sum'`` their sum; ``'mean'`` their weighted mean
:math:`\sum w_c \ell_{nc} / \sum w_c` over the entries, so a loss in :math:`[0, 1]` stays there
whatever the weights (MONAI and kornia average :math:`w_c \ell_{nc}` over the entries instead).
As in torch, ``'mean'`` of no entries (an empty batch) is NaN.

**Across processes.** With ``sync`` (:mod:`lossref.distributed`), ``per_image=False`` sums the
statistics (TP, FP, FN, the counted pixels, the cross-entropy terms) over every process's images,
one all-reduce per call of ``batch_sums`` (one for Dice, two for Dice+BCE and Combo), so every
process computes the batch's per-class losses, the same on every process, and reduces them locally;
Lovász's batch extension sorts the errors of every process's images, gathered. ``per_image=True``
keeps each image's loss and reduces over every process's images.

**Autograd.** The region losses are plain autograd code over ``sigmoid_pair`` (``lossref/_primitives.py``),
whose derivative :math:`p q` stays accurate where :math:`p \to 1`; custom Functions that fused the
statistics measured no faster once they save only their inputs (see ``confusion``), and one for
:func:`~lossref.boundary_loss` that was faster eager was 3 times slower compiled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossref._primitives import sigmoid_pair
from lossref._reduction import reduce, reduce_by_weight
from lossref._validation import (
    check_class_weight,
    check_floating,
    check_index_target,
    check_like,
    check_reduction,
    check_same_shape,
    check_tensor,
    checked,
    compiled_assert,
    readable,
)
from lossref.distributed import ProcessGroup, Sync, check_sync, group_of, sum_over

Mode = Literal["binary", "multiclass", "multilabel"]
MODES: tuple[str, ...] = ("binary", "multiclass", "multilabel")
#: what each mode reads, for the error of an unknown mode
_MODE_EXPECTS = (
    "'binary': input (N, *) or (N, 1, *), one mask per image, and a floating target of its shape; "
    "'multiclass': input (N, C, *), a softmax over the C classes, and integer class indices (N, *); "
    "'multilabel': input (N, C, *), one mask per channel, and a floating target of its shape"
)
#: the floor of a log of a probability, as torch's binary_cross_entropy
LOG_FLOOR = -100.0


@dataclass
class Region:
    """A region loss's arguments after :func:`prepare`: the target in the canonical layout (N, C', S), C'
    the included classes and S the flattened spatial size, and the input the probabilities are formed
    from when a loss asks for them (:func:`probability`, :func:`probabilities`,
    :func:`probabilities_and_logs`)."""

    x: Tensor  #: the input, channels first (N, C, *spatial), every channel (the softmax needs them all)
    t: Tensor  #: (N, C', S) targets in [0, 1], 0 at ignored pixels
    #: (N, 1 or C', S): 1 where the pixel counts, 0 where it is ignored; None when no pixel is ignored
    #: (then there is nothing to multiply by)
    valid: Optional[Tensor]
    mode: str
    from_logits: bool
    spatial: tuple[int, ...]  #: the spatial shape, for distance maps
    classes: slice  #: the included channels of the input (for weight and distance maps)
    #: the processes whose shards form the batch (:mod:`lossref.distributed`); None: this one's alone
    group: Optional[ProcessGroup] = None


def check_mode(mode: str) -> None:
    # a string first: `in` would compare a tensor elementwise
    if not (isinstance(mode, str) and mode in MODES):
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}. {_MODE_EXPECTS}")


def check_smooth(smooth: float) -> None:
    if not smooth >= 0:
        raise ValueError(f"smooth must be >= 0, got {smooth}")


def _in_unit_or_ignored(data: Tensor, ignore_index: Optional[int]) -> Tensor:
    ok = (data >= 0) & (data <= 1)
    return ok if ignore_index is None else ok | (data == ignore_index)


def _check_values(t: Tensor, name: str, ignore_index: Optional[int], hint: str) -> bool:
    """Values in [0, 1], or equal to ignore_index. NaN fails. Reads the data (synchronises a GPU).
    Returns whether every value is in [0, 1] (one min/max pass; then no value can be an
    ignore_index outside [0, 1]). A ``meta`` tensor has no values: it passes."""
    data = checked(t)
    if data is None:  # value checks off: nothing is known about the values
        return False
    if data.numel() == 0:
        return True
    message = f"{name} must hold values in [0, 1]{hint}"
    if torch.compiler.is_compiling():  # the graph cannot branch on whether every value is in [0, 1]
        compiled_assert(_in_unit_or_ignored(data, ignore_index).all(), message)
        return False
    lo, hi = torch.aminmax(data)  # one pass, no temporary: the usual case ends here
    if bool((lo >= 0) & (hi <= 1)):  # NaN fails this and goes to the full check
        return True
    ok = _in_unit_or_ignored(data, ignore_index)
    if bool(ok.all()):
        return False
    bad = ~ok
    raise ValueError(
        f"{message}, but {int(bad.sum())} of {data.numel()} elements do not (e.g. {data[bad][0].item()!r})"
    )


def check_common(
    input: Tensor,
    target: Tensor,
    mode: str,
    weight: Optional[Tensor],
    reduction: str,
    extra: tuple[tuple[Optional[Tensor], str], ...] = (),
) -> None:
    """The checks that read no data and no shape: mode, types, dtypes, reduction (run first)."""
    check_mode(mode)
    check_floating(input, "input")
    check_tensor(target, "target")
    check_reduction(reduction)
    if weight is not None:
        check_like(weight, "weight", input)
    for t, name in extra:
        if t is not None:
            check_like(t, name, input)
    if mode != "multiclass":
        check_like(target, "target", input)


def num_channels(input: Tensor, mode: str) -> int:
    return 1 if mode == "binary" else input.shape[1]


def _channels_first(input: Tensor, mode: str) -> Tensor:
    """(N, C, *spatial) view of the input."""
    if mode == "binary":
        if input.dim() >= 3 and input.shape[1] == 1:
            return input
        return input.unsqueeze(1)
    return input


def _safe_log(p: Tensor) -> Tensor:
    """max(log p, -100) with a finite gradient everywhere (0 where clamped, p = 0 included)."""
    floor = torch.tensor(LOG_FLOOR, dtype=p.dtype).exp().item()
    keep = p > floor
    return torch.where(keep, torch.log(torch.where(keep, p, 1.0)), LOG_FLOOR)


def _log1m_softmax(log_p: Tensor) -> Tensor:
    """log(1 - p_c) for a softmax along dim 1: log1p(-p) where p < 1/2, and for the one class that
    may have p >= 1/2, the log-sum-exp of the other classes (no cancellation as p -> 1)."""
    p = log_p.exp()
    top = log_p.argmax(1, keepdim=True)
    # a finite fill instead of -inf keeps C = 1 free of NaN gradients (log(1 - p) is then ~ -3e38)
    others = log_p.scatter(1, top, torch.finfo(log_p.dtype).min)
    lse = torch.logsumexp(others, 1, keepdim=True)
    is_top = torch.zeros_like(p, dtype=torch.bool).scatter(1, top, True)
    use_lse = is_top & (p >= 0.5)
    return torch.where(use_lse, lse.expand_as(p), torch.log1p(-torch.where(use_lse, 0.0, p)))


def _check_shapes(
    input: Tensor,
    target: Tensor,
    mode: str,
    ignore_index: int,
    include_background: bool,
    weight: Optional[Tensor],
) -> None:
    """The checks of shapes, and of class indices (in range, or ``ignore_index``)."""
    if input.dim() < (1 if mode == "binary" else 2):
        expected = "(N, *)" if mode == "binary" else "(N, C, *)"
        raise ValueError(
            f"input for mode={mode!r} must have shape {expected} with the batch in dimension 0, got "
            f"{tuple(input.shape)}"
            + ("; for a single image add the batch dimension, input.unsqueeze(0)" if input.dim() else "")
        )
    c = num_channels(input, mode)
    if c == 0:
        raise ValueError(f"input must have at least one class in dimension 1, got shape {tuple(input.shape)}")
    if mode == "multiclass":
        check_index_target(target, input, c, ignore_index)
    else:
        check_same_shape(target, input)
    check_class_weight(weight, "weight", input, c)
    if not include_background:
        if mode == "binary":
            raise ValueError(
                "include_background=False needs a background channel 0 to leave out, but mode='binary' has "
                "one channel, the foreground; use mode='multiclass' or 'multilabel' with (N, C, *) input"
            )
        if c < 2:
            raise ValueError(f"include_background=False leaves no class of input with C = {c} channels")


def _soft(data: Tensor) -> Tensor:
    return (data > 0) & (data < 1)


def _check_hard(target: Tensor, loss: str) -> None:
    """0/1 values (or ignore_index) in a floating target already checked by :func:`_check_values`,
    for the losses of sets (Lovász, distance maps)."""
    # values are in [0, 1] or ignore_index (an integer) by now: hard exactly when integral
    data = checked(target)
    if data is None:
        return
    message = f"target of {loss} must hold 0/1 values (or ignore_index)"
    if torch.compiler.is_compiling():  # the graph cannot branch on the values
        compiled_assert(~_soft(data).any(), message)
        return
    if torch.equal(data.round(), data):  # the usual case, without the masks
        return
    soft = _soft(data)
    if bool(soft.any()):
        raise ValueError(
            f"{message}, got a soft label "
            f"{data[soft][0].item()!r}; {int(soft.sum())} of {data.numel()} elements are soft"
        )


def _any_ignored_index(target: Tensor, c: int, ignore_index: int) -> bool:
    """Whether a class-index target holds ``ignore_index``, from one min or max where it lies outside
    [0, C) (the target is checked: every other value is in [0, C)); a ``meta`` target holds none."""
    data = readable(target)
    if data is None or data.numel() == 0:
        return False
    if torch.compiler.is_compiling():  # the graph cannot branch on it: mask always, the same numbers
        return True
    if 0 <= ignore_index < c:  # a class index: its pixels are left out
        return bool((data == ignore_index).any())
    return bool(data.min() < 0) if ignore_index < 0 else bool(data.max() >= c)


def _one_hot_target(target: Tensor, x: Tensor, ignore_index: int) -> tuple[Tensor, Optional[Tensor]]:
    """Class indices (N, *spatial) as one-hot (N, C, *spatial) in the dtype of the input ``x``
    (channels first), and the valid mask (N, 1, *spatial), None if no pixel is ignored."""
    index, valid = target, None
    if _any_ignored_index(target, x.shape[1], ignore_index):
        keep = target != ignore_index
        index, valid = torch.where(keep, target, 0), keep.unsqueeze(1).to(x.dtype)
    # scatter out of place: under vmap the zeros are one sample's and the index a batch (F.one_hot
    # reads the index's range, which vmap refuses)
    one_hot = torch.zeros(x.shape, dtype=x.dtype, device=x.device).scatter(1, index.long().unsqueeze(1), 1.0)
    return (one_hot if valid is None else one_hot * valid), valid  # an ignored pixel is no class's


def _label_target(
    target: Tensor, mode: str, ignore_index: int, in_unit: bool
) -> tuple[Tensor, Optional[Tensor]]:
    """A floating target, channels first, with 0 at ignored pixels, and the valid mask (None if no
    pixel is ignored). ``in_unit``: every value is known to lie in [0, 1]."""
    t = _channels_first(target, mode)
    # values all in [0, 1] rule out an ignore_index outside it without another pass over the target
    data = readable(t)
    if data is None or (in_unit and not 0 <= ignore_index <= 1):
        return t, None
    # under torch.compile the graph cannot branch on it: masked always, the same numbers
    if not torch.compiler.is_compiling() and not bool((data == ignore_index).any()):
        return t, None
    keep = t != ignore_index
    return torch.where(keep, t, 0.0), keep.to(t.dtype)


def _canonical(v: Tensor, classes: slice) -> Tensor:
    """(N, C or 1, *spatial) -> (N, C', S): the included channels, the spatial dimensions flattened.
    A single channel is kept whole: it is the binary foreground, or a valid mask shared by the classes."""
    v = v if v.shape[1] == 1 else v[:, classes]
    return v.reshape(v.shape[0], v.shape[1], math.prod(v.shape[2:]))


def prepare(
    input: Tensor,
    target: Tensor,
    mode: str,
    from_logits: bool,
    ignore_index: int,
    include_background: bool,
    weight: Optional[Tensor],
    hard_target: Optional[str] = None,
    sync: Sync = False,
) -> Region:
    """Validate shapes and values and return the canonical :class:`Region` (see the module's docs):
    the target one-hot (class indices) or as given (labels), and the valid mask. It forms no
    probabilities; the loss asks for those it needs.

    ``hard_target``: the name of the loss, if it needs 0/1 targets (Lovász, distance maps).
    ``sync``: the loss's argument, resolved here to the region's process group.
    """
    _check_shapes(input, target, mode, ignore_index, include_background, weight)
    if not from_logits:
        _check_values(
            input, "input", None, " with from_logits=False (probabilities; for logits pass from_logits=True)"
        )
    x = _channels_first(input, mode)
    if mode == "multiclass":
        t, valid = _one_hot_target(target, x, ignore_index)
    else:
        in_unit = _check_values(target, "target", ignore_index, f" or be ignore_index ({ignore_index})")
        if hard_target is not None:
            _check_hard(target, hard_target)
        t, valid = _label_target(target, mode, ignore_index, in_unit)
    classes = slice(0 if include_background else 1, None)
    return Region(
        x=x,
        t=_canonical(t, classes),
        valid=None if valid is None else _canonical(valid, classes),
        mode=mode,
        from_logits=from_logits,
        spatial=tuple(x.shape[2:]),
        classes=classes,
        group=group_of(sync),
    )


def _counted(v: Tensor, region: Region) -> Tensor:
    """v (N, C or 1, *spatial) in the canonical layout, 0 at ignored pixels."""
    v = _canonical(v, region.classes)
    return v if region.valid is None else v * region.valid


def probability(region: Region) -> Tensor:
    """p (N, C', S), 0 at ignored pixels, for the losses that need no 1 - p."""
    if not region.from_logits:
        return _counted(region.x, region)
    if region.mode == "multiclass":
        return _counted(torch.softmax(region.x, 1), region)
    # the pair's derivative p q keeps its precision where p -> 1 (sigmoid's own p (1 - p) does not)
    return _counted(sigmoid_pair(region.x)[0], region)


def probabilities(region: Region) -> tuple[Tensor, Tensor]:
    """p and q = 1 - p formed accurately (see the module's docs), each (N, C', S), 0 at ignored pixels."""
    x = region.x
    if not region.from_logits:
        p, q = x, 1 - x
    elif region.mode == "multiclass":
        p, q = torch.softmax(x, 1), _log1m_softmax(torch.log_softmax(x, 1)).exp()
    else:
        p, q = sigmoid_pair(x)
    return _counted(p, region), _counted(q, region)


def probabilities_and_logs(region: Region) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """p, q = 1 - p (0 at ignored pixels), log p and log q (not masked: their terms are weighted by
    the target and the valid mask), each (N, C', S). Logs of logits are log-sigmoid / log-softmax
    (p and q then their exponentials); logs of probabilities are floored at -100."""
    x = region.x
    if not region.from_logits:
        p, q = x, 1 - x
        log_p, log_q = _safe_log(p), _safe_log(q)
    elif region.mode == "multiclass":
        log_p = torch.log_softmax(x, 1)
        log_q = _log1m_softmax(log_p)
        p, q = log_p.exp(), log_q.exp()
    else:
        p, q = sigmoid_pair(x)
        log_p, log_q = F.logsigmoid(x), F.logsigmoid(-x)
    canonical_logs = _canonical(log_p, region.classes), _canonical(log_q, region.classes)
    return _counted(p, region), _counted(q, region), *canonical_logs


def confusion(region: Region, per_image: bool, with_ce: bool = False) -> tuple[Tensor, ...]:
    """TP, FP, FN per (image, class), or per class summed over the batch; with ``with_ce`` also
    POS = sum t (-log p) and NEG = sum (1 - t)(-log(1 - p)) over the counted pixels. Non-negative
    terms only.

    Plain autograd: a custom Function that fused the sums and formed the derivative in its forward pass
    was 1.5 to 1.8 times faster, but one that saves only its inputs (as torch.func and second
    derivatives need) measured no faster than these sums.
    """
    t = region.t
    u = 1 - t if region.valid is None else (1 - t) * region.valid  # 0 at ignored pixels, as t is
    if with_ce:
        p, q, log_p, log_q = probabilities_and_logs(region)
    else:
        p, q = probabilities(region)
    sums: tuple[Tensor, ...] = (p * t).sum(-1), (p * u).sum(-1), (q * t).sum(-1)
    if with_ce:
        sums += (-(t * log_p).sum(-1), -(u * log_q).sum(-1))
    return sums if per_image else batch_sums(sums, region)


def pixel_count(region: Region, per_image: bool) -> Tensor:
    """The number of counted pixels per (image, class), or per class over the batch."""
    if region.valid is None:
        count = torch.full(
            region.t.shape[:-1], region.t.shape[-1], dtype=region.t.dtype, device=region.t.device
        )
    else:
        count = region.valid.expand_as(region.t).sum(-1)
    return count if per_image else batch_sums((count,), region)[0]


def ratio(num: Tensor, den: Tensor) -> Tensor:
    """num / den for den >= 0, with 0 / 0 defined as 0 and a zero (not NaN) gradient there."""
    # tested as den == 0, not den > 0: a NaN denominator (from a NaN input) must give NaN, not 0
    empty = den == 0
    return torch.where(empty, 0.0, num / torch.where(empty, 1.0, den))


def pixel_mean(values: Tensor, region: Region, per_image: bool) -> Tensor:
    """Mean over the counted pixels of each (image, class) of a (N, C', S) tensor; 0 if none count."""
    if region.valid is None:
        total = values.sum(-1)
        count = torch.full_like(total, values.shape[-1])
    else:
        valid = region.valid.expand_as(values)
        total, count = (values * valid).sum(-1), valid.sum(-1)
    if not per_image:
        total, count = batch_sums((total, count), region)
    return ratio(total, count)


def batch_sums(values: tuple[Tensor, ...], region: Region) -> tuple[Tensor, ...]:
    """Each (N, C', ...) statistic summed over the batch: over every process's images with a process
    group, in one all-reduce."""
    sums = [v.sum(0) for v in values]
    if region.group is None:
        return tuple(sums)
    return tuple(sum_over(torch.stack(sums), region.group).unbind())


def reduce_region(
    loss: Tensor, weight: Optional[Tensor], region: Region, reduction: str, per_image: bool
) -> Tensor:
    """Apply the class weight and the reduction to per-(image, class) losses (see the module's docs).
    With a process group, per-image losses are reduced over every process's images; per-class losses
    of the batch are already the whole batch's, the same on every process."""
    group = region.group if per_image else None
    if weight is None:
        return reduce(loss, reduction, group)
    w = weight[region.classes]
    return reduce_by_weight(loss * w, w.expand_as(loss), reduction, group)


class _RegionLoss(nn.Module):
    """Holds the shared options; ``weight`` is a buffer (follows ``.to()``, lands in ``state_dict``).
    The public modules set the defaults in their own signatures."""

    weight: Optional[Tensor]

    def __init__(
        self,
        mode: Mode,
        *,
        from_logits: bool,
        per_image: bool,
        weight: Optional[Tensor],
        include_background: bool,
        ignore_index: int,
        reduction: str,
        sync: Sync,
    ) -> None:
        super().__init__()
        check_mode(mode)
        check_reduction(reduction)
        self.mode, self.from_logits, self.per_image = mode, from_logits, per_image
        self.include_background, self.ignore_index, self.reduction = (
            include_background,
            ignore_index,
            reduction,
        )
        self.register_buffer("weight", weight)
        self.sync = check_sync(sync)

    def _common(self) -> dict:
        return dict(
            mode=self.mode,
            from_logits=self.from_logits,
            per_image=self.per_image,
            weight=self.weight,
            include_background=self.include_background,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            sync=self.sync,
        )

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, per_image={self.per_image}, reduction={self.reduction!r}"


def canonical_input(input: Tensor, mode: str, region: Region) -> Tensor:
    """A tensor of the input's shape (the raw input, a distance map) in the (N, C', S) layout of
    ``region``."""
    return _canonical(_channels_first(input, mode), region.classes)
