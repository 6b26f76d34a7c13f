r"""Embedding losses: torch.nn's three losses that put a margin on the distance or the cosine between
embeddings (metric learning, re-identification, Siamese networks).

Each has torch 2.13's signature, positional order, defaults and numbers, established by experiment
(the chapter *Margins* shows them). Where lossref's answer differs from torch's, the function's
docstring says so and a test checks it. The differences common to the three:

- *Shapes are not broadcast*: the embeddings of a call have one shape, :math:`(N, D)` or :math:`(D)`
  (torch broadcasts tensors with the same number of dimensions, so an embedding :math:`(N, 1)` against
  :math:`(N, D)` silently compares one number with every coordinate).
- *Embeddings are floating*: torch also takes integer tensors (and wraps ``uint8`` differences).

**The gradient at the kink** of :math:`\max(0, z)` is torch's for each: ``clamp_min``'s rule,
:math:`z = 0` counts as active.
"""

from __future__ import annotations

import numbers
from typing import Callable, Optional

import torch
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._loss import _Loss
from lossref._reduction import legacy_reduction
from lossref._reduction import reduce as reduce_loss  # `reduce` is torch's legacy argument here
from lossref._validation import (
    check_embeddings,
    check_label_values,
    check_real_number,
    check_reduction,
    labels_like,
)

__all__ = [
    "cosine_embedding_loss",
    "CosineEmbeddingLoss",
    "triplet_margin_loss",
    "TripletMarginLoss",
    "triplet_margin_with_distance_loss",
    "TripletMarginWithDistanceLoss",
]

#: torch's cosine embedding loss adds its C++ ``constexpr float EPSILON = 1e-12`` to each squared
#: norm: the float32 number nearest 1e-12, which float64 inputs see as 9.999999960041972e-13
COSINE_EPS = float(torch.tensor(1e-12, dtype=torch.float32))


def _cosine_margin(margin: float) -> float:
    margin = check_real_number(margin, "margin")
    if not -1 <= margin <= 1:
        raise ValueError(f"margin must be in [-1, 1], the range of a cosine, got {margin}")
    return margin


def _positive_margin(margin: float) -> float:
    margin = check_real_number(margin, "margin")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return margin


# -- cosine embedding --------------------------------------------------------------------------------


@float32_under_autocast
def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The cosine embedding loss: the cosine of a similar pair pulled up to 1, the cosine of a
    dissimilar pair pushed down to a margin.

    .. math::
        \ell_n = \begin{cases} 1 - \cos(x^{(1)}_n, x^{(2)}_n), & y_n = 1, \\
        \max(0, \cos(x^{(1)}_n, x^{(2)}_n) - \Delta), & y_n = -1, \end{cases}
        \qquad \cos(u, v) = \frac{u \cdot v}{\sqrt{\|u\|^2 + \epsilon}\,\sqrt{\|v\|^2 + \epsilon}},

    followed by ``reduction``. As in torch, :math:`\epsilon` is float32's 1e-12 added to each squared
    norm, so a zero embedding has cosine 0 with every vector (loss 1 for a similar pair) and a finite
    gradient; its gradient is of order :math:`1 / \sqrt{\epsilon} = 10^6`, so a zero embedding is
    best kept out of a batch (in float16, :math:`\epsilon` rounds to 0 and a zero embedding gives
    NaN, as in torch). At the kink (:math:`\cos = \Delta`) the gradient is the hinge's side,
    as in torch.

    lossref takes the square roots of the two norms apart (torch: the root of their product), so
    squared norms up to float's largest number do not overflow; the results differ from torch's by
    a rounding.

    Where lossref differs from torch (2.13): a label other than 1 and -1 is a ``ValueError`` (torch
    gives such a pair loss 0, and still counts it in the mean), and a bool target is refused (torch
    takes ``False`` as neither label); a margin outside :math:`[-1, 1]`, where a cosine cannot reach
    it, is a ``ValueError`` (torch takes any number); shapes are not broadcast.

    Args:
        input1: embeddings :math:`x^{(1)}`, shape :math:`(N, D)` or :math:`(D)`, floating dtype.
        input2: embeddings :math:`x^{(2)}`, the shape, dtype and device of ``input1``.
        target: labels :math:`y`, 1 (similar) or -1 (dissimilar), shape :math:`(N)` (or :math:`()`);
            ``input1``'s dtype, or an integer dtype.
        margin: :math:`\Delta \in [-1, 1]`; 0 to 0.5 is usual. Default: ``0.0``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input1: :math:`(N, D)` or :math:`(D)`.
        - input2: same shape as input1.
        - target: :math:`(N)` or :math:`()`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, integer embeddings, a floating ``target`` or ``input2`` of another
            dtype, a bool ``target``, or a ``margin`` that is not a real number.
        ValueError: embeddings not of shape :math:`(N, D)` or :math:`(D)`, shapes that differ, a label
            other than 1 and -1 (this check reads the data), a margin outside :math:`[-1, 1]`, or an
            unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import cosine_embedding_loss
        >>> x1 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
        >>> x2 = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
        >>> y = torch.tensor([1, -1])
        >>> # cos = 0.7071: 1 - cos, then cos - 0.5
        >>> cosine_embedding_loss(x1, x2, y, 0.5, reduction="none")
        tensor([0.2929, 0.2071])
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_embeddings({"input1": input1, "input2": input2})
    y = labels_like(target, input1, "input1")
    if y.shape != input1.shape[:-1]:
        raise ValueError(
            f"target must have shape {tuple(input1.shape[:-1])}, one label per pair of embeddings "
            f"{tuple(input1.shape)}, got {tuple(y.shape)}"
        )
    margin = _cosine_margin(margin)
    check_reduction(reduction)
    check_label_values(y, (1.0, -1.0), "; for 0/1 labels pass 2 * target - 1")
    dot = (input1 * input2).sum(-1)
    norms = ((input1 * input1).sum(-1) + COSINE_EPS).sqrt() * ((input2 * input2).sum(-1) + COSINE_EPS).sqrt()
    cos = dot / norms
    loss = torch.where(y == 1, 1 - cos, (cos - margin).clamp_min(0))
    return reduce_loss(loss, reduction)


class CosineEmbeddingLoss(_Loss):
    r"""The cosine embedding loss: :func:`cosine_embedding_loss` as a module, where the formula,
    torch's conventions and the differences from torch are.

    .. math::
        \ell_n = \begin{cases} 1 - \cos(x^{(1)}_n, x^{(2)}_n), & y_n = 1, \\
        \max(0, \cos(x^{(1)}_n, x^{(2)}_n) - \Delta), & y_n = -1, \end{cases}

    followed by ``reduction``.

    Args:
        margin: :math:`\Delta \in [-1, 1]`; 0 to 0.5 is usual. Default: ``0.0``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input1: :math:`(N, D)` or :math:`(D)`, embeddings.
        - input2: same shape as input1.
        - target: :math:`(N)` or :math:`()`, labels 1 or -1.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import CosineEmbeddingLoss
        >>> loss = CosineEmbeddingLoss(margin=0.2)
        >>> x = torch.tensor([[1.0, 0.0]])
        >>> # orthogonal, dissimilar: cos 0 is below the margin
        >>> loss(x, torch.tensor([[0.0, 3.0]]), torch.tensor([-1])).item()
        0.0
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.margin = _cosine_margin(margin)

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, {super().extra_repr()}"


# -- triplet margin ----------------------------------------------------------------------------------


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(
            f"p must be a real number > 0 (the norm's order; 2 is Euclidean, math.inf the largest "
            f"coordinate), got {p!r}"
        )
    return float(p)


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6) -> Tensor:
    """torch's ``pairwise_distance``: the p-norm of ``x1 - x2 + eps`` (eps is added to every
    coordinate of the difference, so the distance at x1 = x2 is eps D^(1/p) with a finite gradient,
    and d(x1, x2) != d(x2, x1))."""
    return torch.linalg.vector_norm(x1 - x2 + eps, ord=p, dim=-1)


def _triplet(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    distance: Callable[[Tensor, Tensor], Tensor],
    margin: float,
    swap: bool,
    reduction: str,
) -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)), d(a, n) replaced by min(d(a, n), d(p, n)) with ``swap``."""
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:  # minimum: a tie splits the gradient in halves, as torch's
        negative_distance = torch.minimum(negative_distance, distance(positive, negative))
    # margin first: torch's order of the additions, so the numbers are torch's to the last bit
    loss = (margin + positive_distance - negative_distance).clamp_min(0)
    return reduce_loss(loss, reduction)


@float32_under_autocast
def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
) -> Tensor:
    r"""The triplet margin loss (Schroff et al., FaceNet): an anchor must be closer to its positive
    than to its negative by a margin.

    .. math::
        \ell_n = \max(0, \Delta + d(a_n, p_n) - d(a_n, n_n)),
        \qquad d(u, v) = \|u - v + \epsilon\|_p,

    followed by ``reduction``. As in torch, :math:`\epsilon` is added to every coordinate of the
    difference (torch's ``pairwise_distance``), so an anchor equal to its positive has distance
    :math:`\epsilon D^{1/p}` and a finite gradient. With ``swap`` (Balntas et al. 2016) the negative's
    distance is the smaller of :math:`d(a_n, n_n)` and :math:`d(p_n, n_n)`: the harder of the two
    negatives. A triplet whose negative is already farther by the margin has loss 0 and gradient 0:
    with random triplets most are, which is why triplet training mines hard ones (the chapter
    shows it). At the kink the gradient is the hinge's side, as in torch.

    Where lossref differs from torch (2.13): ``p`` must be > 0 (torch also takes 0, which counts the
    nonzero coordinates and has no gradient, and negative orders, which are not distances); the
    embeddings are :math:`(N, D)` or :math:`(D)` of one shape (torch broadcasts them, and takes more
    dimensions).

    Args:
        anchor: embeddings :math:`a`, shape :math:`(N, D)` or :math:`(D)`, floating dtype.
        positive: embeddings :math:`p` of the anchors' class, same shape, dtype and device.
        negative: embeddings :math:`n` of other classes, same shape, dtype and device.
        margin: :math:`\Delta > 0`. Default: ``1.0``.
        p: the norm's order, a real number > 0 (``math.inf``: the largest coordinate). Default: ``2``.
        eps: :math:`\epsilon`, added to each coordinate of the differences. Default: ``1e-6``.
        swap: use the harder of the two negatives' distances. Default: ``False``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - anchor, positive, negative: :math:`(N, D)` or :math:`(D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, integer embeddings, embeddings of another dtype, or a ``margin`` or
            ``eps`` that is not a real number.
        ValueError: embeddings not of shape :math:`(N, D)` or :math:`(D)`, shapes that differ, a
            margin that is not > 0, ``p`` not > 0, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import triplet_margin_loss
        >>> a = torch.tensor([[0.0, 0.0]])
        >>> pos, neg = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.5]])
        >>> # 1 + 3 - 3.5, with eps = 0 to read it by eye
        >>> triplet_margin_loss(a, pos, neg, eps=0.0).item()
        0.5
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_embeddings({"anchor": anchor, "positive": positive, "negative": negative})
    margin = _positive_margin(margin)
    p = _check_p(p)
    eps = check_real_number(eps, "eps")
    check_reduction(reduction)

    def distance(x1: Tensor, x2: Tensor) -> Tensor:
        return _pairwise_distance(x1, x2, p, eps)

    return _triplet(anchor, positive, negative, distance, margin, bool(swap), reduction)


class TripletMarginLoss(_Loss):
    r"""The triplet margin loss: :func:`triplet_margin_loss` as a module, where the formula, torch's
    conventions and the differences from torch are.

    .. math::
        \ell_n = \max(0, \Delta + d(a_n, p_n) - d(a_n, n_n)),
        \qquad d(u, v) = \|u - v + \epsilon\|_p,

    followed by ``reduction``.

    Args:
        margin: :math:`\Delta > 0`. Default: ``1.0``.
        p: the norm's order, a real number > 0. Default: ``2``.
        eps: :math:`\epsilon`, added to each coordinate of the differences. Default: ``1e-6``.
        swap: use the harder of the two negatives' distances. Default: ``False``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - anchor, positive, negative: :math:`(N, D)` or :math:`(D)`, embeddings.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import TripletMarginLoss
        >>> loss = TripletMarginLoss(margin=0.5, eps=0.0)
        >>> a, pos = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
        >>> loss(a, pos, torch.tensor([[0.0, 2.0]])).item()  # 2 >= 1 + 0.5
        0.0
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.margin = _positive_margin(margin)
        self.p = _check_p(p)
        self.eps = check_real_number(eps, "eps")
        self.swap = bool(swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"margin={self.margin}, p={self.p}, eps={self.eps}, swap={self.swap}, {super().extra_repr()}"


@float32_under_autocast
def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Optional[Callable[[Tensor, Tensor], Tensor]] = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    r"""The triplet margin loss with a distance of your choice.

    .. math::
        \ell_n = \max(0, \Delta + d(a_n, p_n) - d(a_n, n_n)),

    followed by ``reduction``; :func:`triplet_margin_loss` with ``distance_function`` as :math:`d`,
    called on ``(anchor, positive)``, ``(anchor, negative)`` and, with ``swap``,
    ``(positive, negative)``, in that order, as torch calls it. The default is the Euclidean
    ``pairwise_distance`` with :math:`\epsilon = 10^{-6}` (then the loss is
    :func:`triplet_margin_loss`'s). A cosine distance,
    ``lambda u, v: 1 - F.cosine_similarity(u, v)``, is a common choice. As in torch, the arguments
    after the three embeddings are keyword-only, and a distance may be negative (it is not checked).

    Where lossref differs from torch (2.13): a distance whose result is not a tensor of shape
    :math:`(N)` (:math:`()` for unbatched embeddings) is a ``ValueError`` (torch broadcasts it, and
    an :math:`(N, 1)` distance then gives an :math:`(N, 1)` loss); the embeddings are
    :math:`(N, D)` or :math:`(D)` of one shape.

    Args:
        anchor: embeddings :math:`a`, shape :math:`(N, D)` or :math:`(D)`, floating dtype.
        positive: embeddings :math:`p` of the anchors' class, same shape, dtype and device.
        negative: embeddings :math:`n` of other classes, same shape, dtype and device.
        distance_function: ``(x1, x2) -> distances``, shape :math:`(N)`; ``None``: the Euclidean
            distance. Default: ``None``.
        margin: :math:`\Delta > 0`. Default: ``1.0``.
        swap: use the harder of the two negatives' distances. Default: ``False``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - anchor, positive, negative: :math:`(N, D)` or :math:`(D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, integer embeddings, embeddings of another dtype, a
            ``distance_function`` that is not callable, or a ``margin`` that is not a real number.
        ValueError: embeddings not of shape :math:`(N, D)` or :math:`(D)`, shapes that differ, a
            margin that is not > 0, a distance of another shape, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import triplet_margin_with_distance_loss
        >>> def l1(u, v):
        ...     return (u - v).abs().sum(-1)
        >>> a = torch.tensor([[0.0, 0.0]])
        >>> pos, neg = torch.tensor([[1.0, 1.0]]), torch.tensor([[2.0, 0.5]])
        >>> # 1 + 2 - 2.5
        >>> triplet_margin_with_distance_loss(
        ...     a, pos, neg, distance_function=l1
        ... ).item()
        0.5
    """
    check_embeddings({"anchor": anchor, "positive": positive, "negative": negative})
    if distance_function is not None and not callable(distance_function):
        raise TypeError(
            "distance_function must be callable as (x1, x2) -> distances, got "
            f"{type(distance_function).__name__}"
        )
    margin = _positive_margin(margin)
    check_reduction(reduction)
    if distance_function is None:
        return _triplet(anchor, positive, negative, _pairwise_distance, margin, bool(swap), reduction)
    user_distance = distance_function

    def distance(x1: Tensor, x2: Tensor) -> Tensor:
        d = user_distance(x1, x2)
        if not isinstance(d, Tensor) or d.shape != anchor.shape[:-1]:
            got = tuple(d.shape) if isinstance(d, Tensor) else type(d).__name__
            raise ValueError(
                f"distance_function must return a tensor of shape {tuple(anchor.shape[:-1])}, one "
                f"distance per pair of embeddings {tuple(anchor.shape)}, got {got}"
            )
        return d

    return _triplet(anchor, positive, negative, distance, margin, bool(swap), reduction)


class TripletMarginWithDistanceLoss(_Loss):
    r"""The triplet margin loss with a distance of your choice:
    :func:`triplet_margin_with_distance_loss` as a module, where the formula, torch's conventions and
    the differences from torch are.

    .. math::
        \ell_n = \max(0, \Delta + d(a_n, p_n) - d(a_n, n_n)),

    followed by ``reduction``. As in torch, every argument is keyword-only. A ``distance_function``
    that is a module (``nn.PairwiseDistance()``, or one with parameters) is a child of this one.

    Args:
        distance_function: ``(x1, x2) -> distances``, shape :math:`(N)`; ``None``: the Euclidean
            distance with :math:`\epsilon = 10^{-6}` (torch's ``PairwiseDistance()``). Default:
            ``None``.
        margin: :math:`\Delta > 0`. Default: ``1.0``.
        swap: use the harder of the two negatives' distances. Default: ``False``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - anchor, positive, negative: :math:`(N, D)` or :math:`(D)`, embeddings.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> import torch.nn.functional as F
        >>> from lossref import TripletMarginWithDistanceLoss
        >>> loss = TripletMarginWithDistanceLoss(
        ...     distance_function=lambda u, v: 1 - F.cosine_similarity(u, v),
        ...     margin=0.5,
        ... )
        >>> a, pos = torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]])
        >>> # cosine distances 0 and 1: 0.5 + 0 - 1 < 0
        >>> loss(a, pos, torch.tensor([[0.0, 1.0]])).item()
        0.0
    """

    def __init__(
        self,
        *,
        distance_function: Optional[Callable[[Tensor, Tensor], Tensor]] = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        self.distance_function = distance_function
        self.margin = _positive_margin(margin)
        self.swap = bool(swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        return f"margin={self.margin}, swap={self.swap}, {super().extra_repr()}"
