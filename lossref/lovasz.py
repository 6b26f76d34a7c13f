r"""Lovász losses (Berman, Triki & Blaschko 2018): the Lovász extension of the Jaccard loss.

The Jaccard loss :math:`\Delta(M) = 1 - |G \cap P| / |G \cup P|` is a set function of the set
:math:`M` of mispredicted pixels (and of the ground truth :math:`G`). Its Lovász extension
:math:`\bar\Delta(m) = \sum_k m_{(k)} g_k(m)` - the errors :math:`m` sorted in decreasing order, times
the increments :math:`g_k = \Delta(\{(1), \ldots, (k)\}) - \Delta(\{(1), \ldots, (k - 1)\})` of the
Jaccard loss along that order - is convex and piecewise linear in :math:`m`, and equals
:math:`\Delta(M)` when :math:`m` is the indicator of :math:`M`: on hard predictions it is exactly
:math:`1 - \mathrm{IoU}`.

Both losses follow the conventions of :mod:`lossref._region`, with two restrictions: targets must be
hard (0/1 or class indices; the set function needs sets) and :func:`lovasz_hinge` takes logits
only. Every class counts, also one absent from an image (Berman's ``classes='all'``, kornia's
choice): its extension is the largest error of the class, so a prediction on an empty target costs
up to 1 and an empty prediction 0, as the empty-mask rule of :mod:`lossref._region` says; Berman's
default ``classes='present'`` would leave false positives of absent classes unpenalised. There is no
``smooth``: :math:`|G \cup P|` along the order is never 0 while a pixel has a positive error.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._region import (
    Mode,
    Region,
    _RegionLoss,
    canonical_input,
    check_common,
    prepare,
    probability,
    reduce_region,
)
from lossref.distributed import Sync, gather_rows

__all__ = ["lovasz_hinge", "lovasz_softmax", "LovaszHingeLoss", "LovaszSoftmaxLoss"]


def _jaccard_increments(gt_sorted: Tensor) -> Tensor:
    """g_k of the docstring for 0/1 labels sorted by decreasing error, along the last dimension."""
    total = gt_sorted.sum(-1, keepdim=True)
    intersection = total - gt_sorted.cumsum(-1)
    union = total + (1 - gt_sorted).cumsum(-1)  # >= 1 at every position
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[..., :1], jaccard[..., 1:] - jaccard[..., :-1]], -1)


def _extension(errors: Tensor, region: Region, per_image: bool, hinge: bool) -> Tensor:
    """The Lovász extension of each (image, class) row of errors (N, C', S), or of each class."""
    gt = region.t
    if not per_image:  # one row per class: the pixels of every image, of every process's batch
        errors, gt = gather_rows(errors, region.group)[0], gather_rows(gt, region.group)[0]
        errors, gt = errors.movedim(0, 1).flatten(1), gt.movedim(0, 1).flatten(1)
    errors_sorted, order = torch.sort(errors, -1, descending=True)
    increments = _jaccard_increments(gt.gather(-1, order))
    if hinge:
        errors_sorted = torch.relu(errors_sorted)
    return (errors_sorted * increments).sum(-1)


def _check_hinge_mode(mode: str) -> None:
    if mode == "multiclass":
        raise ValueError(
            "lovasz_hinge takes mode='binary' or 'multilabel'; for mode='multiclass' use lovasz_softmax"
        )


@float32_under_autocast
def lovasz_hinge(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    *,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Lovász hinge loss: the Lovász extension of the Jaccard loss applied to hinge errors.

    .. math::
        m_i = \max(0,\ 1 - x_i\,(2 t_i - 1)), \qquad \ell = \bar\Delta(m)

    for logits :math:`x` (margins) and 0/1 targets :math:`t` (see :mod:`lossref.lovasz` for
    :math:`\bar\Delta`). Modes ``'binary'`` and ``'multilabel'`` (one hinge per channel); for
    ``'multiclass'`` use :func:`lovasz_softmax`. Ignored pixels get error 0. The other conventions
    are those of :mod:`lossref._region`; there is no ``from_logits`` (the hinge needs logits).

    Args:
        input: logits, :math:`(N, *)` for ``'binary'``, :math:`(N, C, *)` for ``'multilabel'``.
        target: 0/1 labels (or ``ignore_index``), the input's shape and dtype.
        mode: ``'binary'`` | ``'multilabel'``, required (``'multiclass'`` raises: use
            :func:`lovasz_softmax`).
        per_image: one loss per image (Berman's ``per_image=True``) or per class over the batch.
            Default: ``True``.
        weight, include_background, ignore_index, reduction: as in :mod:`lossref._region`.

    Shape:
        As :func:`~lossref.dice_loss`.

    Raises:
        TypeError, ValueError: as :func:`~lossref.dice_loss`; also a soft target, and ``'multiclass'``.

    Examples:
        >>> import torch
        >>> from lossref import lovasz_hinge
        >>> t = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> # every margin >= 1
        >>> x = torch.tensor([[2.0, 1.0, -1.0, -3.0]])
        >>> lovasz_hinge(x, t, "binary").item()
        0.0
        >>> # pixel 1 undecided, error 1:
        >>> # the Jaccard loss of mispredicting it, 1 - 1/2
        >>> x = torch.tensor([[2.0, 0.0, -1.0, -3.0]])
        >>> lovasz_hinge(x, t, "binary").item()
        0.5
    """
    check_common(input, target, mode, weight, reduction)
    _check_hinge_mode(mode)
    region = prepare(
        input,
        target,
        mode,
        True,
        ignore_index,
        include_background,
        weight,
        hard_target="lovasz_hinge",
        sync=sync,
    )
    x = canonical_input(input, mode, region)
    errors = 1 - x * (2 * region.t - 1)
    if region.valid is not None:
        errors = errors * region.valid
    return reduce_region(
        _extension(errors, region, per_image, hinge=True), weight, region, reduction, per_image
    )


@float32_under_autocast
def lovasz_softmax(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    *,
    from_logits: bool = True,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Lovász-Softmax loss: the Lovász extension of each class's Jaccard loss applied to
    :math:`m_i = |t_i - p_i|`.

    :math:`p` is the softmax of the logits (``'multiclass'``) or their sigmoid
    (``'binary'``/``'multilabel'``, sometimes called Lovász-sigmoid), or the given probabilities
    with ``from_logits=False``; :math:`t` is the one-hot target. On hard probabilities the loss of
    each class is exactly :math:`1 - \mathrm{IoU}`. Every class counts (see :mod:`lossref.lovasz`);
    ignored pixels get error 0. Conventions as :mod:`lossref._region`. Compiled with inductor, the
    value may differ from eager by a few :math:`10^{-6}` relative in float32 (the cumulative sums
    over the sorted errors are added in another order, as in any float32 sum that inductor
    reorders). This is accepted, not fixed; ``tests/test_compile.py`` allows :math:`10^{-5}`.

    Args:
        input: logits or probabilities, :math:`(N, C, *)` (``(N, *)`` for ``'binary'``).
        target: class indices :math:`(N, *)` for ``'multiclass'``; 0/1 labels of the input's shape
            otherwise.
        mode: ``'multiclass'`` | ``'binary'`` | ``'multilabel'``, required.
        from_logits, per_image, weight, include_background, ignore_index, reduction: as in
            :mod:`lossref._region`.

    Shape:
        As :func:`~lossref.dice_loss`.

    Raises:
        TypeError, ValueError: as :func:`~lossref.dice_loss`; also a soft (non-0/1) target.

    Examples:
        >>> import torch
        >>> from lossref import lovasz_softmax
        >>> # (N=1, C=2, 3 pixels)
        >>> probs = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
        >>> labels = torch.tensor([[0, 1, 1]])
        >>> # 1 - IoU: 1 - 1/2, 1 - 1/2
        >>> lovasz_softmax(
        ...     probs, labels, "multiclass", from_logits=False, reduction="none"
        ... )
        tensor([[0.5000, 0.5000]])
    """
    check_common(input, target, mode, weight, reduction)
    region = prepare(
        input,
        target,
        mode,
        from_logits,
        ignore_index,
        include_background,
        weight,
        hard_target="lovasz_softmax",
        sync=sync,
    )
    errors = (region.t - probability(region)).abs()  # 0 at ignored pixels, where both are 0
    return reduce_region(
        _extension(errors, region, per_image, hinge=False), weight, region, reduction, per_image
    )


class LovaszHingeLoss(_RegionLoss):
    r"""Lovász hinge loss: the Lovász extension of the Jaccard loss applied to the hinge errors
    :math:`\max(0, 1 - x_i (2 t_i - 1))` of the logits, per image and class. The module form of
    :func:`lovasz_hinge`; like it, it takes logits only (no ``from_logits``).

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'`` or ``'multilabel'`` (see Shape).
            Required; ``'multiclass'`` raises (use :class:`LovaszSoftmaxLoss`).
        per_image: one loss per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multilabel'``. Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        - input: logits, :math:`(N, *)` or :math:`(N, 1, *)` for ``'binary'``, :math:`(N, C, *)`
          for ``'multilabel'``.
        - target: 0/1 labels (or ``ignore_index``) of the input's shape and dtype.
        - output: scalar; with ``reduction='none'``, :math:`(N, C')` (:math:`(C',)` with
          ``per_image=False``), :math:`C'` the included classes (1 for ``'binary'``).

    Examples:
        >>> import torch
        >>> from lossref import LovaszHingeLoss
        >>> criterion = LovaszHingeLoss("binary")
        >>> t = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> # pixel 1 undecided, error 1: 1 - IoU of mispredicting it
        >>> criterion(torch.tensor([[2.0, 0.0, -1.0, -3.0]]), t).item()
        0.5
    """

    def __init__(
        self,
        mode: Mode,
        *,
        per_image: bool = True,
        weight: Optional[Tensor] = None,
        include_background: bool = True,
        ignore_index: int = -100,
        reduction: str = "mean",
        sync: Sync = False,
    ) -> None:
        super().__init__(
            mode,
            from_logits=True,
            per_image=per_image,
            weight=weight,
            include_background=include_background,
            ignore_index=ignore_index,
            reduction=reduction,
            sync=sync,
        )
        _check_hinge_mode(mode)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        kw = self._common()
        del kw["from_logits"]
        return lovasz_hinge(input, target, **kw)


class LovaszSoftmaxLoss(_RegionLoss):
    r"""Lovász-Softmax loss: the Lovász extension of each class's Jaccard loss applied to the errors
    :math:`|t_i - p_i|` of the probabilities, per image and class (exactly :math:`1 - \mathrm{IoU}`
    on hard probabilities). The module form of :func:`lovasz_softmax`.

    Args:
        mode: how ``input`` and ``target`` are read: ``'multiclass'`` (a softmax over the
            classes), ``'binary'`` or ``'multilabel'`` (a sigmoid; see Shape). Required.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one loss per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        - input: :math:`(N, C, *)`; :math:`(N, *)` or :math:`(N, 1, *)` for ``'binary'``.
        - target: class indices :math:`(N, *)` for ``'multiclass'``; otherwise 0/1 labels (or
          ``ignore_index``) of the input's shape.
        - output: scalar; with ``reduction='none'``, :math:`(N, C')` (:math:`(C',)` with
          ``per_image=False``), :math:`C'` the included classes (1 for ``'binary'``).

    Examples:
        >>> import torch
        >>> from lossref import LovaszSoftmaxLoss
        >>> criterion = LovaszSoftmaxLoss("multiclass", from_logits=False)
        >>> # (N=1, C=2, 3 pixels): 1 - IoU = 1/2 for both classes
        >>> probs = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
        >>> criterion(probs, torch.tensor([[0, 1, 1]])).item()
        0.5
    """

    def __init__(
        self,
        mode: Mode,
        *,
        from_logits: bool = True,
        per_image: bool = True,
        weight: Optional[Tensor] = None,
        include_background: bool = True,
        ignore_index: int = -100,
        reduction: str = "mean",
        sync: Sync = False,
    ) -> None:
        super().__init__(
            mode,
            from_logits=from_logits,
            per_image=per_image,
            weight=weight,
            include_background=include_background,
            ignore_index=ignore_index,
            reduction=reduction,
            sync=sync,
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return lovasz_softmax(input, target, **self._common())
