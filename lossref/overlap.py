r"""Overlap losses for segmentation: Dice, Jaccard (soft IoU), Tversky, focal Tversky, and Dice
combined with cross-entropy (Dice + BCE, and the Combo loss of Taghanaki et al. 2019).

Every function here follows the conventions of :mod:`lossref._region` (modes, ``from_logits``,
``per_image``, ``weight``, ``include_background``, ``ignore_index``, ``smooth``, empty masks, the
shapes of ``reduction='none'``). All of them are one formula, the Tversky loss

.. math::
    \ell_{\alpha, \beta, s} = 1 - \frac{TP + s}{TP + \alpha FP + \beta FN + s}
    = \frac{\alpha FP + \beta FN}{TP + \alpha FP + \beta FN + s},

evaluated in the second form (non-negative terms only): Dice is :math:`\ell_{1/2, 1/2, s/2}`
(:math:`= 1 - (2\,TP + s)/(2\,TP + FP + FN + s)`), Jaccard is :math:`\ell_{1, 1, s}`.
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
    check_common,
    check_smooth,
    confusion,
    pixel_count,
    prepare,
    ratio,
    reduce_region,
)
from lossref.distributed import Sync

__all__ = [
    "dice_loss",
    "jaccard_loss",
    "tversky_loss",
    "focal_tversky_loss",
    "dice_bce_loss",
    "combo_loss",
    "DiceLoss",
    "JaccardLoss",
    "TverskyLoss",
    "FocalTverskyLoss",
    "DiceBCELoss",
    "ComboLoss",
]


def _check_alpha_beta(alpha: float, beta: float) -> None:
    if not (alpha >= 0 and beta >= 0 and alpha + beta > 0):
        raise ValueError(
            f"alpha and beta must be >= 0 with alpha + beta > 0 (alpha weighs false positives, beta false "
            f"negatives), got alpha={alpha}, beta={beta}"
        )


def _check_gamma(gamma: float) -> None:
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0 (1 is the Tversky loss), got {gamma}")


def _check_fraction(value: float, name: str, what: str) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be in [0, 1] ({what}), got {value}")


def _tversky(region: Region, per_image: bool, alpha: float, beta: float, smooth: float) -> Tensor:
    tp, fp, fn = confusion(region, per_image)
    return _tversky_index_loss(tp, fp, fn, alpha, beta, smooth)


def _tversky_index_loss(
    tp: Tensor, fp: Tensor, fn: Tensor, alpha: float, beta: float, smooth: float
) -> Tensor:
    num = alpha * fp + beta * fn
    return ratio(num, tp + num + smooth)


def _power(loss: Tensor, gamma: float) -> Tensor:
    """loss ** gamma with gradient 0 (not NaN or inf) at loss = 0, also for gamma < 1."""
    if gamma == 1:
        return loss
    # tested as loss == 0, not loss > 0, so that a NaN loss stays NaN
    zero = loss == 0
    return torch.where(zero, 0.0, torch.where(zero, 1.0, loss) ** gamma)


@float32_under_autocast
def tversky_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    alpha: float = 0.3,
    beta: float = 0.7,
    *,
    from_logits: bool = True,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    smooth: float = 1e-5,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Tversky loss (Salehi et al. 2017): one minus the Tversky index of each image and class.

    .. math::
        \ell = 1 - \frac{TP + s}{TP + \alpha FP + \beta FN + s}
             = \frac{\alpha FP + \beta FN}{TP + \alpha FP + \beta FN + s}

    :math:`\alpha` weighs false positives and :math:`\beta` false negatives (Salehi's, MONAI's and
    kornia's order; Abraham & Khan's focal Tversky paper swaps the letters). :math:`\alpha = \beta =
    \tfrac12` is the Dice loss with ``smooth`` doubled, :math:`\alpha = \beta = 1` the Jaccard loss.
    The conventions (modes, empty masks, ``reduction``) are those of :mod:`lossref._region`.

    Args:
        input: logits (or probabilities with ``from_logits=False``), see Shape.
        target: see Shape.
        mode: how ``input`` and ``target`` are read, ``'binary'`` | ``'multiclass'`` |
            ``'multilabel'`` (see Shape). Required, with no default.
        alpha: weight of false positives, :math:`\ge 0`. Default: ``0.3`` (Salehi et al.).
        beta: weight of false negatives, :math:`\ge 0`, :math:`\alpha + \beta > 0`. Default: ``0.7``.
        from_logits: whether ``input`` holds logits. Default: ``True``.
        per_image: one score per image and class (``True``) or per class over the batch. Default: ``True``.
        weight: optional per-class weight, shape :math:`(C,)`. Default: ``None``.
        include_background: keep channel 0. Default: ``True``.
        ignore_index: target value of pixels left out. Default: ``-100``.
        smooth: :math:`s \ge 0`, added to numerator and denominator. Default: ``1e-5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        - input: :math:`(N, *)` or :math:`(N, 1, *)` for ``'binary'`` (one mask per image, every
          dimension after the batch spatial), :math:`(N, C, *)` for ``'multiclass'`` and
          ``'multilabel'``.
        - target: the input's shape, values in :math:`[0, 1]`; class indices :math:`(N, *)` for
          ``'multiclass'``.
        - output: scalar; with ``reduction='none'``, :math:`(N, C')` (``per_image=True``) or
          :math:`(C',)`, :math:`C'` the included classes (1 for ``'binary'``).

    Raises:
        TypeError: non-tensor or non-floating ``input``, a target of the wrong dtype (floating for
            ``'binary'``/``'multilabel'``, integer for ``'multiclass'``), a ``weight`` of another dtype.
        ValueError: shapes that do not match, an index target out of range (and not
            ``ignore_index``), values outside :math:`[0, 1]` (target; input with
            ``from_logits=False``), ``alpha``/``beta`` negative or summing to 0, ``smooth < 0``, an
            unknown ``mode`` (the error lists the modes and what each expects) or ``reduction``,
            ``include_background=False`` in ``'binary'`` mode.

    Examples:
        >>> import torch
        >>> from lossref import tversky_loss
        >>> p = torch.tensor([[1.0, 1.0, 0.0, 0.0]])  # predicted mask
        >>> t = torch.tensor([[1.0, 0.0, 1.0, 0.0]])  # TP = 1, FP = 1, FN = 1
        >>> kw = dict(from_logits=False, smooth=0)
        >>> loss = tversky_loss(p, t, "binary", 0.3, 0.7, **kw)
        >>> round(loss.item(), 6)  # 1 - 1 / 2
        0.5
        >>> loss = tversky_loss(p, t, "binary", 0.1, 0.9, **kw)
        >>> round(loss.item(), 6)  # FP = FN: only alpha + beta counts
        0.5
    """
    check_common(input, target, mode, weight, reduction)
    _check_alpha_beta(alpha, beta)
    check_smooth(smooth)
    region = prepare(input, target, mode, from_logits, ignore_index, include_background, weight, sync=sync)
    return reduce_region(
        _tversky(region, per_image, alpha, beta, smooth), weight, region, reduction, per_image
    )


@float32_under_autocast
def dice_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    *,
    from_logits: bool = True,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    smooth: float = 1e-5,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Soft Dice loss: one minus the Sørensen-Dice coefficient of each image and class.

    .. math::
        \ell = 1 - \frac{2\,TP + s}{\sum_i p_i + \sum_i t_i + s} = \frac{FP + FN}{2\,TP + FP + FN + s}

    (:math:`\sum p + \sum t = 2\,TP + FP + FN`). The conventions (modes, per-image statistics,
    weights, ``ignore_index``, empty masks, shapes) are those of :mod:`lossref._region`; the
    arguments are those of :func:`tversky_loss` without ``alpha`` and ``beta``.

    Unlike the ``view(-1)`` Dice of blog posts, a multi-class batch is never flattened into one set:
    each class (and with ``per_image=True``, each image) is scored on its own. With the defaults this
    is MONAI's ``DiceLoss(sigmoid=True)`` (``softmax=True, to_onehot_y=True`` for ``'multiclass'``).

    Raises:
        TypeError, ValueError: as :func:`tversky_loss`.

    Examples:
        >>> import torch
        >>> from lossref import dice_loss
        >>> p = torch.tensor([[0.9, 0.8, 0.1, 0.0]])
        >>> t = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> kw = dict(from_logits=False, smooth=0)
        >>> # 1 - 2 * 1.7 / (1.8 + 2)
        >>> round(dice_loss(p, t, "binary", **kw).item(), 6)
        0.105263
        >>> empty = torch.zeros(1, 4)
        >>> # empty on empty: perfect
        >>> dice_loss(empty, empty, "binary", **kw).item()
        0.0
        >>> # anything on empty: the worst
        >>> dice_loss(p, empty, "binary", **kw).item()
        1.0
        >>> # three classes: softmax over C, class indices
        >>> logits = torch.randn(2, 3, 8, 8)
        >>> labels = torch.randint(0, 3, (2, 8, 8))
        >>> loss = dice_loss(logits, labels, "multiclass", reduction="none")
        >>> loss.shape  # (N, C)
        torch.Size([2, 3])
    """
    check_common(input, target, mode, weight, reduction)
    check_smooth(smooth)
    region = prepare(input, target, mode, from_logits, ignore_index, include_background, weight, sync=sync)
    return reduce_region(
        _tversky(region, per_image, 0.5, 0.5, smooth / 2), weight, region, reduction, per_image
    )


@float32_under_autocast
def jaccard_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    *,
    from_logits: bool = True,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    smooth: float = 1e-5,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Jaccard loss (soft IoU): one minus the soft intersection over union of each image and class.

    .. math::
        \ell = 1 - \frac{TP + s}{\sum_i p_i + \sum_i t_i - TP + s} = \frac{FP + FN}{TP + FP + FN + s}

    The conventions are those of :mod:`lossref._region`; the arguments those of :func:`dice_loss`.
    For hard predictions this is :math:`1 - \mathrm{IoU}`; MONAI's ``DiceLoss(jaccard=True)`` smooths
    differently (:math:`(2\,TP + s) / (2 (P + T - TP) + s)`), equal for ``smooth=0``.

    Raises:
        TypeError, ValueError: as :func:`tversky_loss`.

    Examples:
        >>> import torch
        >>> from lossref import jaccard_loss
        >>> p = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> t = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
        >>> loss = jaccard_loss(p, t, "binary", from_logits=False, smooth=0)
        >>> round(loss.item(), 6)  # 1 - 1/3
        0.666667
    """
    check_common(input, target, mode, weight, reduction)
    check_smooth(smooth)
    region = prepare(input, target, mode, from_logits, ignore_index, include_background, weight, sync=sync)
    return reduce_region(_tversky(region, per_image, 1.0, 1.0, smooth), weight, region, reduction, per_image)


@float32_under_autocast
def focal_tversky_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    alpha: float = 0.3,
    beta: float = 0.7,
    gamma: float = 0.75,
    *,
    from_logits: bool = True,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    smooth: float = 1e-5,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Focal Tversky loss (Abraham & Khan 2019): the Tversky loss raised to :math:`\gamma`.

    .. math::
        \ell = \left(\frac{\alpha FP + \beta FN}{TP + \alpha FP + \beta FN + s}\right)^{\gamma}

    Here :math:`\gamma` is the exponent itself (as in smp's ``TverskyLoss(gamma=...)``); the paper
    writes :math:`(1 - TI)^{1/\gamma}` and recommends its :math:`\gamma = 4/3`, which is this
    function's default ``gamma=0.75``. :math:`\gamma < 1` raises the loss of well-segmented images
    (it focuses on them), :math:`\gamma = 1` is :func:`tversky_loss`. The derivative
    :math:`\gamma \ell^{\gamma - 1} \ell'` is infinite at :math:`\ell = 0` for :math:`\gamma < 1`;
    there (a perfect score, the minimum) the gradient is defined as 0, so fractional :math:`\gamma`
    never gives NaN. Conventions as :mod:`lossref._region`; arguments as :func:`tversky_loss`.

    Args:
        gamma: the exponent :math:`\gamma > 0`. Default: ``0.75``.

    Raises:
        TypeError, ValueError: as :func:`tversky_loss`; also ``gamma <= 0``.

    Examples:
        >>> import torch
        >>> from lossref import focal_tversky_loss
        >>> p = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> t = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
        >>> loss = focal_tversky_loss(
        ...     p, t, "binary", gamma=0.5, from_logits=False, smooth=0
        ... )
        >>> round(loss.item(), 6)  # 0.5 ** 0.5
        0.707107
    """
    check_common(input, target, mode, weight, reduction)
    _check_alpha_beta(alpha, beta)
    _check_gamma(gamma)
    check_smooth(smooth)
    region = prepare(input, target, mode, from_logits, ignore_index, include_background, weight, sync=sync)
    loss = _power(_tversky(region, per_image, alpha, beta, smooth), gamma)
    return reduce_region(loss, weight, region, reduction, per_image)


def _dice_and_cross_entropy(
    region: Region, per_image: bool, beta: Optional[float], smooth: float
) -> tuple[Tensor, Tensor]:
    """The Dice loss and the mean over the counted pixels of -[b t log p + (1 - b)(1 - t) log(1 - p)]
    (plain BCE for beta None), per (image, class) or per class."""
    tp, fp, fn, pos, neg = confusion(region, per_image, with_ce=True)
    ce = pos + neg if beta is None else beta * pos + (1 - beta) * neg
    return _tversky_index_loss(tp, fp, fn, 0.5, 0.5, smooth / 2), ratio(ce, pixel_count(region, per_image))


@float32_under_autocast
def dice_bce_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    *,
    from_logits: bool = True,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    smooth: float = 1e-5,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Dice loss plus binary cross-entropy, per image and class.

    .. math::
        \ell = \underbrace{-\frac{1}{|\Omega|}\sum_{i \in \Omega}
               \left[t_i \log p_i + (1 - t_i) \log(1 - p_i)\right]}_{\text{BCE}}
             + \frac{FP + FN}{2\,TP + FP + FN + s}

    over the counted pixels :math:`\Omega` of the image (of the batch with ``per_image=False``) and
    one class. The cross-entropy is the binary one of each channel, one class against the rest; for
    ``'multiclass'`` that is :math:`-[t \log p_c + (1 - t) \log(1 - p_c)]` of the softmax
    probability (not the softmax cross-entropy :math:`-\log p_y`). Its logs come from log-sigmoid /
    log-softmax (:math:`\log(1 - p_c)` as the log-sum-exp of the other classes), so logits of
    :math:`\pm 10^4` are finite. For ``'binary'`` with equal-size images and no ignored pixels,
    ``'mean'`` is :func:`~lossref.binary_cross_entropy_with_logits` plus the mean Dice loss.
    Conventions as :mod:`lossref._region`; arguments as :func:`dice_loss`.

    Raises:
        TypeError, ValueError: as :func:`tversky_loss`.

    Examples:
        >>> import torch
        >>> from lossref import dice_bce_loss
        >>> # p = 1/2 everywhere
        >>> x, t = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
        >>> # ln 2 + (0.5 + 0.5) / (1 + 0.5 + 0.5)
        >>> round(dice_bce_loss(x, t, "binary", smooth=0).item(), 6)
        1.193147
    """
    check_common(input, target, mode, weight, reduction)
    check_smooth(smooth)
    region = prepare(input, target, mode, from_logits, ignore_index, include_background, weight, sync=sync)
    dice, bce = _dice_and_cross_entropy(region, per_image, None, smooth)
    loss = bce + dice
    return reduce_region(loss, weight, region, reduction, per_image)


@float32_under_autocast
def combo_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    alpha: float = 0.5,
    beta: float = 0.5,
    *,
    from_logits: bool = True,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    smooth: float = 1e-5,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Combo loss (Taghanaki et al. 2019): a weighted sum of a :math:`\beta`-weighted cross-entropy
    and the Dice loss, per image and class.

    .. math::
        \ell = \alpha \underbrace{\left(-\frac{1}{|\Omega|}\sum_{i \in \Omega}
               \left[\beta\, t_i \log p_i + (1 - \beta)(1 - t_i) \log(1 - p_i)\right]\right)}_{\text{WCE}}
             + (1 - \alpha) \left(1 - \frac{2\,TP + s}{\sum_i p_i + \sum_i t_i + s}\right)

    The paper (eq. 3) writes :math:`\alpha\,\mathrm{WCE} - (1 - \alpha)\,\mathrm{DSC}` with the Dice
    *coefficient* summed over the :math:`K` classes; this function uses the Dice *loss*
    :math:`1 - \mathrm{DSC}`, which adds the constant :math:`1 - \alpha` per class: the same
    gradients, but the loss is :math:`\ge 0`, is 0 for a perfect prediction, and its ``'mean'`` is a
    mean over classes like the other losses here. :math:`\beta > \tfrac12` penalises false negatives
    (missed foreground) more, :math:`\beta < \tfrac12` false positives; :math:`\beta = \tfrac12` is
    half the BCE. The common blog version, ``ALPHA * (t log p + (1 - ALPHA)(1 - t) log(1 - p))``,
    multiplies the negative term by :math:`\beta(1 - \beta)` instead of :math:`1 - \beta`; this is not
    that. The cross-entropy is that of :func:`dice_bce_loss` (stable logs, one class against the
    rest). Conventions as :mod:`lossref._region`; arguments as :func:`dice_loss`.

    Args:
        alpha: weight of the cross-entropy term in :math:`[0, 1]`; ``1 - alpha`` weighs the Dice
            term. Default: ``0.5``.
        beta: weight of the positive (foreground) cross-entropy term in :math:`[0, 1]`. Default: ``0.5``.

    Raises:
        TypeError, ValueError: as :func:`tversky_loss`; also ``alpha`` or ``beta`` outside :math:`[0, 1]`.

    Examples:
        >>> import torch
        >>> from lossref import combo_loss
        >>> x, t = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
        >>> # WCE = ln 2 / 2 at beta = 1/2, Dice loss 1/2:
        >>> # 0.5 * (0.5 ln 2) + 0.5 * 0.5
        >>> round(combo_loss(x, t, "binary", smooth=0).item(), 6)
        0.423287
    """
    check_common(input, target, mode, weight, reduction)
    _check_fraction(alpha, "alpha", "the weight of the cross-entropy term")
    _check_fraction(beta, "beta", "the weight of the foreground cross-entropy term")
    check_smooth(smooth)
    region = prepare(input, target, mode, from_logits, ignore_index, include_background, weight, sync=sync)
    dice, wce = _dice_and_cross_entropy(region, per_image, beta, smooth)
    loss = alpha * wce + (1 - alpha) * dice
    return reduce_region(loss, weight, region, reduction, per_image)


class _SmoothedLoss(_RegionLoss):
    def __init__(
        self,
        mode: Mode,
        *,
        from_logits: bool = True,
        per_image: bool = True,
        weight: Optional[Tensor] = None,
        include_background: bool = True,
        ignore_index: int = -100,
        smooth: float = 1e-5,
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
        check_smooth(smooth)
        self.smooth = smooth

    def extra_repr(self) -> str:
        return f"smooth={self.smooth}, " + super().extra_repr()


class DiceLoss(_SmoothedLoss):
    r"""Soft Dice loss, one minus the Sørensen-Dice coefficient of each image and class:
    :math:`(FP + FN) / (2\,TP + FP + FN + s)`. The module form of :func:`dice_loss`, where the
    formula and the conventions are written out.

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one score per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        smooth: :math:`s \ge 0`, added to the numerator and the denominator. Default: ``1e-5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        - input: :math:`(N, *)` or :math:`(N, 1, *)` for ``'binary'``, :math:`(N, C, *)` otherwise.
        - target: the input's shape, values in :math:`[0, 1]`; class indices :math:`(N, *)` for
          ``'multiclass'``.
        - output: scalar; with ``reduction='none'``, :math:`(N, C')` (:math:`(C',)` with
          ``per_image=False``), :math:`C'` the included classes (1 for ``'binary'``).

    Examples:
        >>> import torch
        >>> from lossref import DiceLoss
        >>> criterion = DiceLoss("multiclass", include_background=False)
        >>> logits = torch.randn(2, 3, 8, 8, requires_grad=True)
        >>> labels = torch.randint(0, 3, (2, 8, 8))
        >>> loss = criterion(logits, labels)
        >>> loss.backward()
        >>> loss.shape
        torch.Size([])
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return dice_loss(input, target, smooth=self.smooth, **self._common())


class JaccardLoss(_SmoothedLoss):
    r"""Jaccard loss (soft IoU), one minus the soft intersection over union of each image and class:
    :math:`(FP + FN) / (TP + FP + FN + s)`. The module form of :func:`jaccard_loss`.

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one score per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        smooth: :math:`s \ge 0`, added to the numerator and the denominator. Default: ``1e-5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        As :class:`DiceLoss`.

    Examples:
        >>> import torch
        >>> from lossref import JaccardLoss
        >>> criterion = JaccardLoss("binary", from_logits=False, smooth=0)
        >>> p = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> t = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
        >>> round(criterion(p, t).item(), 6)  # 1 - 1/3
        0.666667
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return jaccard_loss(input, target, smooth=self.smooth, **self._common())


class DiceBCELoss(_SmoothedLoss):
    r"""The Dice loss plus the binary cross-entropy of each image and class (of each channel, one
    class against the rest). The module form of :func:`dice_bce_loss`, where the formula is.

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one score per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        smooth: :math:`s \ge 0`, added to the numerator and the denominator of the Dice term.
            Default: ``1e-5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        As :class:`DiceLoss`.

    Examples:
        >>> import torch
        >>> from lossref import DiceBCELoss
        >>> criterion = DiceBCELoss("binary", smooth=0)
        >>> # p = 1/2 everywhere: ln 2 + (0.5 + 0.5) / (1 + 0.5 + 0.5)
        >>> x, t = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
        >>> round(criterion(x, t).item(), 6)
        1.193147
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return dice_bce_loss(input, target, smooth=self.smooth, **self._common())


class TverskyLoss(_SmoothedLoss):
    r"""Tversky loss (Salehi et al. 2017), one minus the Tversky index of each image and class:
    :math:`(\alpha FP + \beta FN) / (TP + \alpha FP + \beta FN + s)`. The module form of
    :func:`tversky_loss`.

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        alpha: weight of false positives, :math:`\ge 0`. Default: ``0.3``.
        beta: weight of false negatives, :math:`\ge 0`, :math:`\alpha + \beta > 0`. Default: ``0.7``.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one score per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        smooth: :math:`s \ge 0`, added to the numerator and the denominator. Default: ``1e-5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        As :class:`DiceLoss`.

    Examples:
        >>> import torch
        >>> from lossref import TverskyLoss
        >>> criterion = TverskyLoss(
        ...     "binary", 0.3, 0.7, from_logits=False, smooth=0
        ... )
        >>> p = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
        >>> t = torch.tensor([[1.0, 0.0, 0.0, 1.0]])  # TP 1, FP 2, FN 1
        >>> round(criterion(p, t).item(), 6)  # (0.6 + 0.7) / (1 + 0.6 + 0.7)
        0.565217
    """

    def __init__(
        self,
        mode: Mode,
        alpha: float = 0.3,
        beta: float = 0.7,
        *,
        from_logits: bool = True,
        per_image: bool = True,
        weight: Optional[Tensor] = None,
        include_background: bool = True,
        ignore_index: int = -100,
        smooth: float = 1e-5,
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
            smooth=smooth,
            reduction=reduction,
            sync=sync,
        )
        _check_alpha_beta(alpha, beta)
        self.alpha, self.beta = alpha, beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return tversky_loss(
            input, target, alpha=self.alpha, beta=self.beta, smooth=self.smooth, **self._common()
        )

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta}, " + super().extra_repr()


class FocalTverskyLoss(TverskyLoss):
    r"""Focal Tversky loss (Abraham & Khan 2019), the Tversky loss of each image and class raised to
    :math:`\gamma`. The module form of :func:`focal_tversky_loss`, where :math:`\gamma` is compared
    with the paper's.

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        alpha: weight of false positives, :math:`\ge 0`. Default: ``0.3``.
        beta: weight of false negatives, :math:`\ge 0`, :math:`\alpha + \beta > 0`. Default: ``0.7``.
        gamma: the exponent :math:`\gamma > 0`; ``1`` is the Tversky loss. Default: ``0.75``.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one score per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        smooth: :math:`s \ge 0`, added to the numerator and the denominator. Default: ``1e-5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        As :class:`DiceLoss`.

    Examples:
        >>> import torch
        >>> from lossref import FocalTverskyLoss
        >>> criterion = FocalTverskyLoss(
        ...     "binary", gamma=0.5, from_logits=False, smooth=0
        ... )
        >>> p = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
        >>> t = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
        >>> round(criterion(p, t).item(), 6)  # 0.5 ** 0.5
        0.707107
    """

    def __init__(
        self,
        mode: Mode,
        alpha: float = 0.3,
        beta: float = 0.7,
        gamma: float = 0.75,
        *,
        from_logits: bool = True,
        per_image: bool = True,
        weight: Optional[Tensor] = None,
        include_background: bool = True,
        ignore_index: int = -100,
        smooth: float = 1e-5,
        reduction: str = "mean",
        sync: Sync = False,
    ) -> None:
        super().__init__(
            mode,
            alpha,
            beta,
            from_logits=from_logits,
            per_image=per_image,
            weight=weight,
            include_background=include_background,
            ignore_index=ignore_index,
            smooth=smooth,
            reduction=reduction,
            sync=sync,
        )
        _check_gamma(gamma)
        self.gamma = gamma

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return focal_tversky_loss(
            input,
            target,
            alpha=self.alpha,
            beta=self.beta,
            gamma=self.gamma,
            smooth=self.smooth,
            **self._common(),
        )

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, " + super().extra_repr()


class ComboLoss(_SmoothedLoss):
    r"""Combo loss (Taghanaki et al. 2019): :math:`\alpha` times a :math:`\beta`-weighted binary
    cross-entropy plus :math:`1 - \alpha` times the Dice loss, per image and class. The module form
    of :func:`combo_loss`, where the formula and its difference from the paper's are.

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        alpha: weight of the cross-entropy term in :math:`[0, 1]`; ``1 - alpha`` weighs the Dice
            term. Default: ``0.5``.
        beta: weight of the positive (foreground) cross-entropy term in :math:`[0, 1]`.
            Default: ``0.5``.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one score per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out. Default: ``-100``.
        smooth: :math:`s \ge 0`, added to the numerator and the denominator of the Dice term.
            Default: ``1e-5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        As :class:`DiceLoss`.

    Examples:
        >>> import torch
        >>> from lossref import ComboLoss
        >>> criterion = ComboLoss("binary", smooth=0)
        >>> x, t = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
        >>> # 0.5 * (0.5 ln 2) + 0.5 * 0.5
        >>> round(criterion(x, t).item(), 6)
        0.423287
    """

    def __init__(
        self,
        mode: Mode,
        alpha: float = 0.5,
        beta: float = 0.5,
        *,
        from_logits: bool = True,
        per_image: bool = True,
        weight: Optional[Tensor] = None,
        include_background: bool = True,
        ignore_index: int = -100,
        smooth: float = 1e-5,
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
            smooth=smooth,
            reduction=reduction,
            sync=sync,
        )
        _check_fraction(alpha, "alpha", "the weight of the cross-entropy term")
        _check_fraction(beta, "beta", "the weight of the foreground cross-entropy term")
        self.alpha, self.beta = alpha, beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return combo_loss(
            input, target, alpha=self.alpha, beta=self.beta, smooth=self.smooth, **self._common()
        )

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, beta={self.beta}, " + super().extra_repr()
