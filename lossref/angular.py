r"""Additive-margin softmax losses of face recognition: ArcFace (an angle margin) and CosFace (a
cosine margin).

Both score an embedding :math:`x` against one learned vector :math:`w_c` per class by the cosine of
the angle between them, :math:`\cos\theta_c = \hat x \cdot \hat w_c` (hats: unit length), move the
true class's cosine down by a margin, multiply every cosine by a scale :math:`s` and take the
softmax cross-entropy: a sample counts as correct only when its true class wins by the margin.

.. math::
    \ell_n = -\log \frac{e^{s\,\psi(\cos\theta_{n y_n})}}{e^{s\,\psi(\cos\theta_{n y_n})}
    + \sum_{c \ne y_n} e^{s \cos\theta_{nc}}},

with :math:`\psi(\cos\theta) = \cos(\theta + m)` for ArcFace (Deng et al. 2019) and
:math:`\psi(\cos\theta) = \cos\theta - m` for CosFace (Wang et al. 2018). torch has neither; the
functions take the class vectors as an argument (shape :math:`(C, D)`, the layout of
``nn.Linear`` and of the ArcFace authors' code) and the modules own them as a ``Parameter``.

Embeddings and class vectors are made unit length as ``F.normalize`` does, dividing by
:math:`\max(\|v\|, 10^{-12})`: a zero vector stays zero, so its cosine with everything is 0 and the
loss is finite (there is no NaN at zero norms); its gradient is scaled by :math:`10^{12}`, so keep
zero embeddings out of a batch. The cross-entropy is :func:`lossref.log_softmax`'s, accurate for
confident predictions.

**Conditioning.** The scale multiplies the rounding of the cosines (about :math:`10^{-7}` in
float32) by :math:`s = 64`: from float32 embeddings a loss is accurate to a few :math:`10^{-6}`
absolute, whatever the formula does after the cosines. Given the cosines, both losses are computed to
float32's and float64's precision (tests/test_angular.py checks them against the mpmath oracle).
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossref._autocast import float32_under_autocast
from lossref._loss import _Loss
from lossref._reduction import reduce as reduce_loss
from lossref._validation import (
    check_floating,
    check_like,
    check_real_number,
    check_reduction,
    check_sample_classes,
)
from lossref.cross_entropy import log_softmax

__all__ = ["arcface_loss", "ArcFaceLoss", "cosface_loss", "CosFaceLoss", "SIN_FLOOR"]

#: ArcFace's derivative d cos(theta + m) / d cos(theta) = cos m + sin m cos(theta) / sin(theta) has
#: no bound as theta -> 0: lossref takes sin(theta) at least SIN_FLOOR. Below it the derivative is
#: cos m (the floor's own derivative is 0); above it, at most cos m + sin m / SIN_FLOOR. (Near pi the
#: margin is on its continuation cos(theta) - m sin m, of slope 1.) float32 cannot tell angles below
#: 2^-12 = 2.44e-4 from 0 (their cosine rounds to 1), so the floor changes no float32 value that
#: carries information.
SIN_FLOOR = 1e-4


def _check_scale(scale: float) -> float:
    scale = check_real_number(scale, "scale")
    if scale <= 0:
        raise ValueError(f"scale must be greater than 0 (it multiplies every cosine), got {scale}")
    return scale


def _check_margin(margin: float, upper: float, meaning: str) -> float:
    margin = check_real_number(margin, "margin")
    if not 0 <= margin < upper:
        raise ValueError(f"margin must be in [0, {upper:.6g}) ({meaning}), got {margin}")
    return margin


def _cosines(input: Tensor, target: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    """The cosines (N, C) or (C,) of the embeddings with every class vector, and the true class's
    (N, 1) or (1,), after checking the three arguments."""
    check_floating(input, "input")
    check_like(weight, "weight", input)
    if input.dim() not in (1, 2):
        raise ValueError(
            f"input must have shape (N, D) or (D,), embeddings of D coordinates, got {tuple(input.shape)}"
        )
    if weight.dim() != 2 or weight.shape[1] != input.shape[-1] or weight.shape[0] == 0:
        raise ValueError(
            f"weight must have shape (C, D) = (classes, {input.shape[-1]}), one vector per class with "
            f"the embeddings' D, got {tuple(weight.shape)}"
        )
    check_sample_classes(target, input, weight.shape[0])
    cos = F.normalize(input, dim=-1) @ F.normalize(weight, dim=-1).T
    return cos, cos.gather(-1, target.long().unsqueeze(-1))


def _margin_softmax_loss(cos: Tensor, target: Tensor, true: Tensor, scale: float, reduction: str) -> Tensor:
    """Cross-entropy of ``scale * cos`` with the true class's cosine replaced by ``true``."""
    index = target.long().unsqueeze(-1)
    is_true = torch.arange(cos.shape[-1], device=cos.device) == index
    logits = scale * torch.where(is_true, true, cos)
    loss = -log_softmax(logits, -1).gather(-1, index).squeeze(-1)
    return reduce_loss(loss, reduction)


@float32_under_autocast
def arcface_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor,
    scale: float = 64.0,
    margin: float = 0.5,
    reduction: str = "mean",
) -> Tensor:
    r"""The ArcFace loss (additive angular margin, Deng et al. 2019): softmax cross-entropy of scaled
    cosines, with the angle to the true class widened by :math:`m`.

    .. math::
        \ell_n = -\log \frac{e^{s\,\psi(\cos\theta_{n y_n})}}{e^{s\,\psi(\cos\theta_{n y_n})}
        + \sum_{c \ne y_n} e^{s \cos\theta_{nc}}},
        \qquad \psi(\cos\theta) = \begin{cases} \cos(\theta + m), & \theta + m \le \pi, \\
        \cos\theta - m \sin m, & \text{otherwise,} \end{cases}

    followed by ``reduction``, with :math:`\cos\theta_{nc}` the cosine of embedding :math:`n` with
    class vector :math:`c`. :math:`\cos(\theta + m) = \cos\theta\cos m - \sin\theta\sin m` with
    :math:`\sin\theta = \sqrt{(1 - \cos\theta)(1 + \cos\theta)}`, so no arccos is taken. Past
    :math:`\theta = \pi - m`, :math:`\cos(\theta + m)` would turn back up; there the papers' code
    (insightface before 2023, pytorch-metric-learning) switches to the CosFace-like
    :math:`\cos\theta - m \sin m`, which keeps :math:`\psi` decreasing in :math:`\theta` (with a
    step of :math:`1 - \cos m - m \sin m`, -0.117 for :math:`m = 0.5`, at the switch). lossref does
    the same.

    **Near** :math:`\theta = 0`: :math:`d\cos(\theta + m) / d\cos\theta
    = \cos m + \sin m \cos\theta / \sin\theta` has no bound, and no rewriting removes it. lossref
    takes :math:`\sin\theta \ge` ``lossref.angular.SIN_FLOOR`` (:math:`10^{-4}`), so the gradient
    is finite everywhere: :math:`\cos m` where the floor applies (at :math:`\cos\theta = 1`
    exactly), and 1 near :math:`\theta = \pi`, on the continuation. The floor changes the value by
    less than :math:`10^{-4} \sin m`, at angles float32 cannot resolve (below :math:`2^{-12}`, the
    cosine rounds to 1); in float64 it is the one place where the value and gradient are not
    :math:`\cos(\theta + m)`'s. (The widely copied sqrt form, and insightface's code before 2023,
    give NaN or infinite gradients at :math:`\theta = 0`; insightface's current code passes the
    gradient of :math:`\cos\theta` straight through, ignoring the margin's derivative.)

    Args:
        input: embeddings :math:`x`, shape :math:`(N, D)` or :math:`(D)`, floating dtype; any length
            (they are made unit length).
        target: class indices :math:`y`, shape :math:`(N)` (or :math:`()`), integer dtype, values in
            :math:`[0, C)`.
        weight: one vector per class, shape :math:`(C, D)`, the input's dtype; any length (they are
            made unit length). A module (:class:`ArcFaceLoss`) learns it.
        scale: :math:`s > 0`. Default: ``64.0`` (the paper's).
        margin: :math:`m \in [0, \pi)`, in radians. Default: ``0.5`` (the paper's, 28.6 degrees).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, D)` or :math:`(D)`.
        - target: :math:`(N)` or :math:`()`.
        - weight: :math:`(C, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, an integer ``input``, a ``weight`` of another dtype, a floating
            ``target``, or a ``scale`` or ``margin`` that is not a real number.
        ValueError: shapes other than these, a class index out of range (this check reads the data),
            a scale that is not > 0, a margin outside :math:`[0, \pi)`, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import arcface_loss
        >>> x = torch.tensor([[1.0, 0.0]])
        >>> w = torch.tensor([[1.0, 1.0], [0.0, 1.0]])  # 45 and 90 degrees
        >>> # logits 4 cos(pi/4 + 0.5) = 1.126 and 4 cos(pi/2) = 0
        >>> y = torch.tensor([0])
        >>> round(arcface_loss(x, y, w, scale=4.0).item(), 4)
        0.2809
    """
    cos, cos_true = _cosines(input, target, weight)
    scale = _check_scale(scale)
    margin = _check_margin(margin, math.pi, "an angle in radians")
    check_reduction(reduction)
    # (1 - c)(1 + c): accurate near c = 1 and -1, where 1 - c^2 loses the small angle
    sin = ((1 - cos_true) * (1 + cos_true)).clamp_min(SIN_FLOOR**2).sqrt()
    widened = cos_true * math.cos(margin) - sin * math.sin(margin)
    # theta + m <= pi, i.e. cos(theta) >= cos(pi - m); beyond, the monotone continuation
    true = torch.where(cos_true >= math.cos(math.pi - margin), widened, cos_true - margin * math.sin(margin))
    return _margin_softmax_loss(cos, target, true, scale, reduction)


@float32_under_autocast
def cosface_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor,
    scale: float = 64.0,
    margin: float = 0.35,
    reduction: str = "mean",
) -> Tensor:
    r"""The CosFace loss (large margin cosine loss, Wang et al. 2018): softmax cross-entropy of
    scaled cosines, with the true class's cosine lowered by :math:`m`.

    .. math::
        \ell_n = -\log \frac{e^{s(\cos\theta_{n y_n} - m)}}{e^{s(\cos\theta_{n y_n} - m)}
        + \sum_{c \ne y_n} e^{s \cos\theta_{nc}}},

    followed by ``reduction``, with :math:`\cos\theta_{nc}` the cosine of embedding :math:`n` with
    class vector :math:`c`. The margin is linear in the cosine, so its derivative is bounded
    everywhere (unlike ArcFace's at :math:`\theta = 0`).

    Args:
        input: embeddings :math:`x`, shape :math:`(N, D)` or :math:`(D)`, floating dtype; any length
            (they are made unit length).
        target: class indices :math:`y`, shape :math:`(N)` (or :math:`()`), integer dtype, values in
            :math:`[0, C)`.
        weight: one vector per class, shape :math:`(C, D)`, the input's dtype; any length. A module
            (:class:`CosFaceLoss`) learns it.
        scale: :math:`s > 0`. Default: ``64.0`` (the paper's).
        margin: :math:`m \in [0, 2)`, on the cosine. Default: ``0.35`` (the paper's).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, D)` or :math:`(D)`.
        - target: :math:`(N)` or :math:`()`.
        - weight: :math:`(C, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, an integer ``input``, a ``weight`` of another dtype, a floating
            ``target``, or a ``scale`` or ``margin`` that is not a real number.
        ValueError: shapes other than these, a class index out of range (this check reads the data),
            a scale that is not > 0, a margin outside :math:`[0, 2)`, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import cosface_loss
        >>> x = torch.tensor([[1.0, 0.0]])
        >>> w = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> # logits 4 (1 - 0.35) = 2.6 and 0: log(1 + exp(-2.6))
        >>> round(cosface_loss(x, torch.tensor([0]), w, scale=4.0).item(), 4)
        0.0716
    """
    cos, cos_true = _cosines(input, target, weight)
    scale = _check_scale(scale)
    margin = _check_margin(margin, 2.0, "a cosine is in [-1, 1]")
    check_reduction(reduction)
    return _margin_softmax_loss(cos, target, cos_true - margin, scale, reduction)


class _AngularMarginLoss(_Loss):
    """Owns the class vectors ``weight`` (C, D), initialised as the ArcFace authors' code does:
    normal with standard deviation 0.01 (the loss sees only their directions)."""

    def __init__(
        self, num_classes: int, embedding_dim: int, scale: float, margin: float, reduction: str
    ) -> None:
        super().__init__(reduction)
        for name, value in (("num_classes", num_classes), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.num_classes, self.embedding_dim = int(num_classes), int(embedding_dim)
        self.scale = _check_scale(scale)
        self.margin = margin  # checked by the subclass, against its loss's range
        self.weight = nn.Parameter(torch.empty(self.num_classes, self.embedding_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=0.01)

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, embedding_dim={self.embedding_dim}, scale={self.scale}, "
            f"margin={self.margin}, {super().extra_repr()}"
        )


class ArcFaceLoss(_AngularMarginLoss):
    r"""The ArcFace loss: :func:`arcface_loss` as a module that learns the class vectors, where the
    formula and its behaviour near :math:`\theta = 0` are.

    .. math::
        \ell_n = -\log \frac{e^{s\,\psi(\cos\theta_{n y_n})}}{e^{s\,\psi(\cos\theta_{n y_n})}
        + \sum_{c \ne y_n} e^{s \cos\theta_{nc}}}, \qquad \psi(\cos\theta) = \cos(\theta + m),

    followed by ``reduction``. ``weight`` (:math:`(C, D)`) is a ``Parameter``, normal with standard
    deviation 0.01 at the start (the ArcFace authors' code); train it with the embedding network.

    Args:
        num_classes: :math:`C`.
        embedding_dim: :math:`D`.
        scale: :math:`s > 0`. Default: ``64.0``.
        margin: :math:`m \in [0, \pi)`, in radians. Default: ``0.5``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, D)` or :math:`(D)`, embeddings.
        - target: :math:`(N)` or :math:`()`, class indices.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import ArcFaceLoss
        >>> _ = torch.manual_seed(0)
        >>> head = ArcFaceLoss(num_classes=10, embedding_dim=8)
        >>> loss = head(torch.randn(4, 8), torch.tensor([0, 3, 3, 9]))
        >>> loss.backward()
        >>> tuple(head.weight.grad.shape)
        (10, 8)
    """

    def __init__(
        self,
        num_classes: int,
        embedding_dim: int,
        scale: float = 64.0,
        margin: float = 0.5,
        reduction: str = "mean",
    ) -> None:
        super().__init__(
            num_classes, embedding_dim, scale, _check_margin(margin, math.pi, "radians"), reduction
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return arcface_loss(input, target, self.weight, self.scale, self.margin, self.reduction)


class CosFaceLoss(_AngularMarginLoss):
    r"""The CosFace loss: :func:`cosface_loss` as a module that learns the class vectors.

    .. math::
        \ell_n = -\log \frac{e^{s(\cos\theta_{n y_n} - m)}}{e^{s(\cos\theta_{n y_n} - m)}
        + \sum_{c \ne y_n} e^{s \cos\theta_{nc}}},

    followed by ``reduction``. ``weight`` (:math:`(C, D)`) is a ``Parameter``, normal with standard
    deviation 0.01 at the start; train it with the embedding network.

    Args:
        num_classes: :math:`C`.
        embedding_dim: :math:`D`.
        scale: :math:`s > 0`. Default: ``64.0``.
        margin: :math:`m \in [0, 2)`. Default: ``0.35``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, D)` or :math:`(D)`, embeddings.
        - target: :math:`(N)` or :math:`()`, class indices.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import CosFaceLoss
        >>> head = CosFaceLoss(num_classes=3, embedding_dim=2, scale=4.0)
        >>> with torch.no_grad():
        ...     _ = head.weight.copy_(torch.eye(3, 2))
        >>> x = torch.tensor([[1.0, 0.0]])
        >>> # logits 2.6, 0, 0 (the third vector is 0: cosine 0)
        >>> round(head(x, torch.tensor([0])).item(), 4)
        0.1385
    """

    def __init__(
        self,
        num_classes: int,
        embedding_dim: int,
        scale: float = 64.0,
        margin: float = 0.35,
        reduction: str = "mean",
    ) -> None:
        super().__init__(
            num_classes, embedding_dim, scale, _check_margin(margin, 2.0, "on a cosine"), reduction
        )

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cosface_loss(input, target, self.weight, self.scale, self.margin, self.reduction)
