r"""Contrastive losses: InfoNCE and NT-Xent (self-supervised learning), supervised contrastive, and the
image-text losses of CLIP and SigLIP.

Each scores a batch of embeddings against each other. A *similarity logit* is a scaled dot product
:math:`s_{ij} = z_i \cdot z'_j / \tau` of unit vectors (``normalize=True``, the default, makes them
unit length as ``F.normalize`` does); the softmax losses are cross-entropies over one row of these
logits, the positive being the "class" among the candidates. torch has none of them.

**Stability.** The softmax losses use :func:`lossref.log_softmax`, accurate in value and gradient
for any logits (a temperature of 0.01 puts unit-vector logits in :math:`[-100, 100]`); SigLIP's
pair loss is :math:`-\log\sigma(\pm s)` by ``F.logsigmoid``, which never forms :math:`e^{s}`. A
candidate masked out (an anchor is not its own candidate) gets the logit :math:`-\infty`, so its
probability is exactly 0 and its gradient 0.

**Conditioning.** Given the logits, the losses are accurate to float32's and float64's precision
(tests/test_contrastive.py checks them against an mpmath oracle). The logits themselves carry the
rounding of the dot products, about :math:`10^{-7}` in float32 for unit vectors, multiplied by
:math:`1/\tau`, and a loss inherits it as a relative error: NT-Xent of 256 pairs of 128-D float32
embeddings differs from its float64 value by up to :math:`5.5 \cdot 10^{-6}` relative at
:math:`\tau = 0.1` and :math:`5.2 \cdot 10^{-5}` at :math:`\tau = 0.01` (the tests bound them by
:math:`10^{-5}` and :math:`10^{-4}`). Compute in float64
where a loss must be known to more digits than that.

**Zero embeddings.** ``F.normalize`` divides by :math:`\max(\|z\|, 10^{-12})`: a zero embedding stays
zero, its similarity with everything is 0 and the loss is finite; its gradient is scaled by
:math:`10^{12}`, so keep zero embeddings out of a batch.

**Across processes.** Each loss is one computation over this process's anchors and a block of
candidates, with each anchor's positive (and itself) located in the block by the offset where this
process's rows begin. Locally the block is the batch and the offset 0. With ``sync``
(:mod:`lossref.distributed`) the block is every process's embeddings, gathered with their gradient
(open_clip's ``local_loss`` with ``gather_with_grad``), and ``'mean'`` divides by the global batch
size: every process then returns the loss of the whole batch.
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossref._autocast import float32_under_autocast
from lossref._loss import _Loss
from lossref._reduction import reduce as reduce_loss
from lossref._validation import (
    check_bool,
    check_embeddings,
    check_like,
    check_real_number,
    check_reduction,
    check_tensor,
)
from lossref.cross_entropy import log_softmax
from lossref.distributed import Sync, check_sync, gather_rows, group_of

__all__ = [
    "info_nce",
    "InfoNCELoss",
    "nt_xent",
    "NTXentLoss",
    "supervised_contrastive",
    "SupervisedContrastiveLoss",
    "clip_loss",
    "ClipLoss",
    "siglip_loss",
    "SigLipLoss",
    "CLIP_MAX_LOGIT_SCALE",
]

#: CLIP clips its learned log-scale at ln 100 (the logits are scaled by at most 100); so does
#: open_clip, in place after each optimizer step. lossref clips where the scale is used.
CLIP_MAX_LOGIT_SCALE = math.log(100.0)
#: CLIP's initial logit scale: ln(1 / 0.07), a temperature of 0.07 (Wu et al. 2018's)
CLIP_INIT_LOGIT_SCALE = math.log(1 / 0.07)
#: SigLIP's initial t' = ln 10 (a scale of 10) and bias b = -10: at the start every pair looks
#: negative, as almost every pair of a batch is
SIGLIP_INIT_LOGIT_SCALE = math.log(10.0)
SIGLIP_INIT_LOGIT_BIAS = -10.0

NEGATIVE_MODES = ("unpaired", "paired")


def _check_temperature(temperature: float) -> float:
    temperature = check_real_number(temperature, "temperature")
    if temperature <= 0:
        raise ValueError(
            f"temperature must be greater than 0 (it divides every similarity), got {temperature}"
        )
    return temperature


def _unit(z: Tensor, normalize: bool) -> Tensor:
    return F.normalize(z, dim=-1) if normalize else z


def _scalar(value: Union[Tensor, float], name: str, like: Tensor, like_name: str) -> Tensor:
    """A learnable scalar: a 0-dim tensor of ``like``'s dtype and device, or a Python number."""
    if not isinstance(value, Tensor):
        return torch.tensor(check_real_number(value, name), dtype=like.dtype, device=like.device)
    check_like(value, name, like, like_name)
    if value.dim() != 0:
        raise ValueError(f"{name} must be a 0-dim tensor (a scalar), got shape {tuple(value.shape)}")
    return value


def _rows(n: int, start: int, like: Tensor) -> Tensor:
    """The candidate-block indices of this process's n anchors: start, ..., start + n - 1."""
    return torch.arange(start, start + n, device=like.device)


def _masked_self(logits: Tensor, own: Tensor) -> Tensor:
    """The logits with each anchor's own column (``own``) at -inf: it is not its own candidate."""
    return logits.scatter(-1, own.unsqueeze(-1), -math.inf)


class _TemperatureLoss(_Loss):
    """Holds and checks the temperature, ``normalize`` and ``sync`` of a softmax contrastive loss."""

    def __init__(self, temperature: float, reduction: str, normalize: bool, sync: Sync) -> None:
        super().__init__(reduction)
        self.temperature = _check_temperature(temperature)
        self.normalize = check_bool(normalize, "normalize")
        self.sync = check_sync(sync)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, normalize={self.normalize}, {super().extra_repr()}"


# -- InfoNCE ------------------------------------------------------------------------------------------


@float32_under_autocast
def info_nce(
    query: Tensor,
    positive_key: Tensor,
    negative_keys: Optional[Tensor] = None,
    temperature: float = 0.1,
    reduction: str = "mean",
    negative_mode: str = "unpaired",
    normalize: bool = True,
    *,
    sync: Sync = False,
) -> Tensor:
    r"""The InfoNCE loss (van den Oord et al. 2018; MoCo, He et al. 2020): the cross-entropy of
    picking each query's positive key among its candidates by similarity.

    .. math::
        \ell_n = -\log \frac{e^{q_n \cdot k_n / \tau}}{\sum_{c \in C_n} e^{q_n \cdot c / \tau}},

    followed by ``reduction``, with :math:`C_n` the candidates of query :math:`n`, its positive
    :math:`k_n` among them:

    - ``negative_keys=None``: every key of the batch (in-batch negatives; CLIP's image-to-text
      half, MoCo v3);
    - ``negative_mode='unpaired'``, ``negative_keys`` :math:`(M, D)`: :math:`k_n` and the same
      :math:`M` negatives for every query (MoCo's queue);
    - ``negative_mode='paired'``, ``negative_keys`` :math:`(N, M, D)`: :math:`k_n` and query
      :math:`n`'s own :math:`M` negatives.

    It is the cross-entropy of the logits :math:`q_n \cdot c / \tau` with the positive as the
    target class (``F.cross_entropy`` gives the same number from those logits). The signature is
    the one of the ``info-nce-pytorch`` package; MoCo's code takes :math:`\tau = 0.07` (v1) or 0.2
    (v2).

    Args:
        query: :math:`q`, shape :math:`(N, D)`, floating dtype.
        positive_key: :math:`k`, the positive of each query, the shape, dtype and device of
            ``query``.
        negative_keys: ``None``, or negatives of shape :math:`(M, D)` (``'unpaired'``) or
            :math:`(N, M, D)` (``'paired'``), ``query``'s dtype and device. Default: ``None``.
        temperature: :math:`\tau > 0`. Default: ``0.1``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        negative_mode: ``'unpaired'`` | ``'paired'``, how ``negative_keys`` is shared (above).
            Default: ``'unpaired'``.
        normalize: make every embedding unit length first, so that the similarities are cosines.
            Default: ``True``.
        sync: ``True`` or a process group: the keys of every process's batch as candidates (with
            ``negative_keys=None``), and the ``'mean'`` and ``'sum'`` over every process's queries
            (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - query, positive_key: :math:`(N, D)`.
        - negative_keys: :math:`(M, D)` or :math:`(N, M, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, integer embeddings, embeddings of other dtypes, or a
            ``temperature`` that is not a real number.
        ValueError: shapes other than these, a temperature that is not > 0, or an unknown
            ``reduction`` or ``negative_mode``.

    Examples:
        >>> import torch
        >>> from lossref import info_nce
        >>> q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> # cosines 1 (positive) and 0 (other key): log(1 + e^(-1 / 0.5))
        >>> round(info_nce(q, q, temperature=0.5).item(), 4)
        0.1269
    """
    check_embeddings({"query": query, "positive_key": positive_key}, batched=True)
    temperature = _check_temperature(temperature)
    check_reduction(reduction)
    normalize = check_bool(normalize, "normalize")
    if negative_mode not in NEGATIVE_MODES:
        raise ValueError(f"negative_mode must be one of {NEGATIVE_MODES}, got {negative_mode!r}")
    group = group_of(sync)
    q, k = _unit(query, normalize), _unit(positive_key, normalize)
    if negative_keys is None:
        # key `start + n` is query n's positive and every other key a negative
        keys, start = gather_rows(k, group)
        loss = -log_softmax(q @ keys.T / temperature, -1).diagonal(start)
        return reduce_loss(loss, reduction, group)
    check_like(negative_keys, "negative_keys", query, "query")
    n, d = query.shape
    expected = (d,) if negative_mode == "unpaired" else (n, d)
    if (
        negative_keys.dim() != len(expected) + 1
        or negative_keys.shape[:-2] + negative_keys.shape[-1:] != expected
    ):
        wanted = "(M, D)" if negative_mode == "unpaired" else "(N, M, D)"
        raise ValueError(
            f"negative_keys must have shape {wanted} with negative_mode={negative_mode!r}, here "
            f"{wanted.replace('N', str(n)).replace('D', str(d))}, got {tuple(negative_keys.shape)}"
        )
    negatives = _unit(negative_keys, normalize)
    if negative_mode == "unpaired":
        negative = q @ negatives.T
    else:
        negative = (q.unsqueeze(1) @ negatives.transpose(1, 2)).squeeze(1)
    positive = (q * k).sum(-1, keepdim=True)
    loss = -log_softmax(torch.cat([positive, negative], -1) / temperature, -1)[:, 0]
    return reduce_loss(loss, reduction, group)


class InfoNCELoss(_TemperatureLoss):
    r"""The InfoNCE loss: :func:`info_nce` as a module.

    .. math::
        \ell_n = -\log \frac{e^{q_n \cdot k_n / \tau}}{\sum_{c \in C_n} e^{q_n \cdot c / \tau}},

    followed by ``reduction``; the candidates :math:`C_n` are the batch's keys, or the positive and
    the ``negative_keys`` passed to the call.

    Args:
        temperature: :math:`\tau > 0`. Default: ``0.1``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        negative_mode: ``'unpaired'`` | ``'paired'``. Default: ``'unpaired'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - query, positive_key: :math:`(N, D)`.
        - negative_keys (optional): :math:`(M, D)` or :math:`(N, M, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import InfoNCELoss
        >>> _ = torch.manual_seed(0)
        >>> q, k = torch.randn(8, 16), torch.randn(8, 16)
        >>> loss = InfoNCELoss(temperature=0.07)(q, k, torch.randn(32, 16))
        >>> loss.ndim
        0
    """

    def __init__(
        self,
        temperature: float = 0.1,
        reduction: str = "mean",
        negative_mode: str = "unpaired",
        normalize: bool = True,
        *,
        sync: Sync = False,
    ) -> None:
        super().__init__(temperature, reduction, normalize, sync)
        if negative_mode not in NEGATIVE_MODES:
            raise ValueError(f"negative_mode must be one of {NEGATIVE_MODES}, got {negative_mode!r}")
        self.negative_mode = negative_mode

    def forward(self, query: Tensor, positive_key: Tensor, negative_keys: Optional[Tensor] = None) -> Tensor:
        return info_nce(
            query,
            positive_key,
            negative_keys,
            self.temperature,
            self.reduction,
            self.negative_mode,
            self.normalize,
            sync=self.sync,
        )

    def extra_repr(self) -> str:
        return f"negative_mode={self.negative_mode!r}, {super().extra_repr()}"


# -- NT-Xent ------------------------------------------------------------------------------------------


@float32_under_autocast
def nt_xent(
    input1: Tensor,
    input2: Tensor,
    temperature: float = 0.1,
    reduction: str = "mean",
    normalize: bool = True,
    *,
    sync: Sync = False,
) -> Tensor:
    r"""The NT-Xent loss of SimCLR (Chen et al. 2020): InfoNCE with both views of every sample as
    anchors, and every other embedding of the two views as a candidate.

    With :math:`z = (x^{(1)}_1, \ldots, x^{(1)}_N, x^{(2)}_1, \ldots, x^{(2)}_N)` (unit vectors),
    :math:`s_{ij} = z_i \cdot z_j / \tau` and :math:`p(i)` the other view of :math:`i`,

    .. math::
        \ell(i) = -\log \frac{e^{s_{i\,p(i)}}}{\sum_{j \ne i} e^{s_{ij}}}, \qquad
        \ell_n = \tfrac{1}{2}\bigl(\ell(n) + \ell(N + n)\bigr),

    followed by ``reduction``: ``'mean'`` is the paper's :math:`\frac{1}{2N}\sum_i \ell(i)`. An
    embedding is never its own candidate (its logit is :math:`-\infty`); the other view of the same
    image is the positive, and the other :math:`2N - 2` embeddings, from both views, are the
    negatives. SimCLR's code (``tf2/objective.py``) returns the sum of the two views' means, twice
    this; pytorch-metric-learning's ``NTXentLoss`` on the two views with shared labels returns this.
    The default :math:`\tau = 0.1` is the ``temperature`` flag of SimCLR's code (its CIFAR-10 runs
    take 0.5).

    Args:
        input1: the first view's embeddings :math:`x^{(1)}`, shape :math:`(N, D)`, floating dtype.
        input2: the second view's :math:`x^{(2)}`, row :math:`n` the same sample as ``input1``'s;
            the shape, dtype and device of ``input1``.
        temperature: :math:`\tau > 0`. Default: ``0.1``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input1, input2: :math:`(N, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'`` (the mean of the two views' losses
          of each sample).

    Raises:
        TypeError: non-tensors, integer embeddings, embeddings of two dtypes, or a ``temperature``
            that is not a real number.
        ValueError: shapes other than these, a temperature that is not > 0, or an unknown
            ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import nt_xent
        >>> a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> # positive's cosine 1, the two negatives' 0: log(1 + 2 / e)
        >>> round(nt_xent(a, a, temperature=1.0).item(), 4)
        0.5514
    """
    check_embeddings({"input1": input1, "input2": input2}, batched=True)
    temperature = _check_temperature(temperature)
    check_reduction(reduction)
    normalize = check_bool(normalize, "normalize")
    group = group_of(sync)
    z = _unit(torch.cat([input1, input2]), normalize)  # the anchors, (2n, D)
    n = input1.shape[0]
    # the candidates: every process's first views, then every process's second views, (2N, D)
    pairs, start = gather_rows(torch.stack([z[:n], z[n:]], 1), group)
    candidates = torch.cat([pairs[:, 0], pairs[:, 1]])
    rows = _rows(n, start, z)
    own, other_view = torch.cat([rows, rows + len(pairs)]), torch.cat([rows + len(pairs), rows])
    log_p = log_softmax(_masked_self(z @ candidates.T / temperature, own), -1)
    loss = -log_p.gather(-1, other_view.unsqueeze(-1)).squeeze(-1)
    return reduce_loss((loss[:n] + loss[n:]) / 2, reduction, group)


class NTXentLoss(_TemperatureLoss):
    r"""The NT-Xent loss of SimCLR: :func:`nt_xent` as a module.

    .. math::
        \ell(i) = -\log \frac{e^{s_{i\,p(i)}}}{\sum_{j \ne i} e^{s_{ij}}}, \qquad
        \ell_n = \tfrac{1}{2}\bigl(\ell(n) + \ell(N + n)\bigr),

    followed by ``reduction``, over the :math:`2N` embeddings of two views.

    Args:
        temperature: :math:`\tau > 0`. Default: ``0.1``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input1, input2: :math:`(N, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import NTXentLoss
        >>> _ = torch.manual_seed(0)
        >>> x = torch.randn(8, 16)
        >>> noise = 0.1 * torch.randn(2, 8, 16)
        >>> views = x + noise[0], x + noise[1]
        >>> # the other view is by far the nearest: the loss is near 0
        >>> NTXentLoss()(*views).item() < 0.05
        True
    """

    def __init__(
        self, temperature: float = 0.1, reduction: str = "mean", normalize: bool = True, *, sync: Sync = False
    ) -> None:
        super().__init__(temperature, reduction, normalize, sync)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return nt_xent(input1, input2, self.temperature, self.reduction, self.normalize, sync=self.sync)


# -- supervised contrastive ----------------------------------------------------------------------------


@float32_under_autocast
def supervised_contrastive(
    input: Tensor,
    target: Tensor,
    temperature: float = 0.1,
    reduction: str = "mean",
    normalize: bool = True,
    *,
    sync: Sync = False,
) -> Tensor:
    r"""The supervised contrastive loss (Khosla et al. 2020), in the form the paper recommends
    (:math:`\mathcal{L}^{sup}_{out}`): every embedding with the anchor's label is a positive, and the
    mean over the positives is taken outside the log.

    .. math::
        \ell_n = -\frac{1}{|P(n)|} \sum_{p \in P(n)}
        \log \frac{e^{z_n \cdot z_p / \tau}}{\sum_{a \ne n} e^{z_n \cdot z_a / \tau}},
        \qquad P(n) = \{p \ne n : y_p = y_n\},

    followed by ``reduction``. The denominator runs over every other embedding, positives included;
    an embedding is never its own candidate. **An anchor without a positive**
    (:math:`P(n) = \emptyset`, a label seen once in the batch) has :math:`\ell_n = 0` and gradient 0,
    and still counts in ``'mean'``, as in the authors' code (SupContrast's ``losses.py`` since
    December 2023; before, such an anchor made the loss NaN); pytorch-metric-learning's
    ``SupConLoss`` leaves such anchors out of its mean instead. With two views of every sample each
    anchor has a positive, and the two agree. Pass the views of a
    sample as separate rows with the same label (two views of :math:`B` samples: :math:`N = 2B`).
    With one positive per anchor (labels :math:`0..B-1` twice) it is NT-Xent over the :math:`2N`
    anchors.

    The authors' code multiplies the loss by :math:`\tau / \tau_{base}` (both 0.07 by default, so
    the factor is 1); lossref computes the paper's equation, without it.

    Args:
        input: embeddings :math:`z`, shape :math:`(N, D)`, floating dtype.
        target: labels :math:`y`, shape :math:`(N)`, integer dtype (any values).
        temperature: :math:`\tau > 0`. Default: ``0.1`` (the paper's).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input: :math:`(N, D)`.
        - target: :math:`(N)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensors, an integer ``input``, a floating or bool ``target``, or a
            ``temperature`` that is not a real number.
        ValueError: shapes other than these, a temperature that is not > 0, or an unknown
            ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import supervised_contrastive
        >>> z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> y = torch.tensor([0, 0, 1])
        >>> # anchors 0 and 1: log(1 + e^-1); anchor 2 has no positive: 0
        >>> loss = supervised_contrastive(z, y, 1.0, reduction="none")
        >>> loss.round(decimals=4)
        tensor([0.3133, 0.3133, 0.0000])
    """
    check_embeddings({"input": input}, batched=True)
    check_tensor(target, "target")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold labels with an integer dtype, got {target.dtype}")
    if target.shape != input.shape[:1]:
        raise ValueError(
            f"target must have shape ({input.shape[0]},), one label per embedding of input "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    if target.device != input.device:
        raise ValueError(f"target is on device {target.device} but input is on {input.device}")
    temperature = _check_temperature(temperature)
    check_reduction(reduction)
    z = _unit(input, check_bool(normalize, "normalize"))
    group = group_of(sync)
    candidates, start = gather_rows(z, group)
    labels = gather_rows(target, group)[0]
    own = _rows(len(z), start, z)
    log_p = log_softmax(_masked_self(z @ candidates.T / temperature, own), -1)
    positive = (target.unsqueeze(1) == labels.unsqueeze(0)).scatter(-1, own.unsqueeze(-1), False)
    # a sum of terms <= 0: nothing cancels; zero positives give 0 / 1
    loss = torch.where(positive, -log_p, 0).sum(-1) / positive.sum(-1).clamp_min(1)
    return reduce_loss(loss, reduction, group)


class SupervisedContrastiveLoss(_TemperatureLoss):
    r"""The supervised contrastive loss: :func:`supervised_contrastive` as a module.

    .. math::
        \ell_n = -\frac{1}{|P(n)|} \sum_{p \in P(n)}
        \log \frac{e^{z_n \cdot z_p / \tau}}{\sum_{a \ne n} e^{z_n \cdot z_a / \tau}},

    followed by ``reduction``; an anchor without a positive has loss 0.

    Args:
        temperature: :math:`\tau > 0`. Default: ``0.1``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - input: :math:`(N, D)`.
        - target: :math:`(N)`, integer labels.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import SupervisedContrastiveLoss
        >>> z = torch.tensor([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]])
        >>> y = torch.tensor([0, 0, 1, 1])
        >>> loss = SupervisedContrastiveLoss()(z, y)
        >>> # each positive is the nearest: near the least loss, 0
        >>> loss.item() < 0.01
        True
    """

    def __init__(
        self, temperature: float = 0.1, reduction: str = "mean", normalize: bool = True, *, sync: Sync = False
    ) -> None:
        super().__init__(temperature, reduction, normalize, sync)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return supervised_contrastive(
            input, target, self.temperature, self.reduction, self.normalize, sync=self.sync
        )


# -- CLIP and SigLIP -----------------------------------------------------------------------------------


def _pairs(
    image_features: Tensor, text_features: Tensor, logit_scale: Union[Tensor, float], normalize: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """The image and text embeddings (unit vectors with ``normalize``) and the logit scale as a tensor."""
    check_embeddings({"image_features": image_features, "text_features": text_features}, batched=True)
    scale = _scalar(logit_scale, "logit_scale", image_features, "image_features")
    normalize = check_bool(normalize, "normalize")
    return _unit(image_features, normalize), _unit(text_features, normalize), scale


@float32_under_autocast
def clip_loss(
    image_features: Tensor,
    text_features: Tensor,
    logit_scale: Union[Tensor, float],
    reduction: str = "mean",
    normalize: bool = True,
    *,
    sync: Sync = False,
) -> Tensor:
    r"""The CLIP loss (Radford et al. 2021): the mean of the image-to-text and the text-to-image
    cross-entropies of the batch's similarity logits, pair :math:`n` the positive of both.

    .. math::
        s_{ij} = e^{t} \, \hat x_i \cdot \hat y_j, \qquad
        \ell_n = \tfrac{1}{2}\Bigl(-\log \frac{e^{s_{nn}}}{\sum_j e^{s_{nj}}}
        - \log \frac{e^{s_{nn}}}{\sum_i e^{s_{in}}}\Bigr),

    followed by ``reduction``: ``'mean'`` is CLIP's (and open_clip's)
    :math:`\frac{1}{2}(\mathrm{CE}_{image} + \mathrm{CE}_{text})`. The scale :math:`e^t` is at most
    100: :math:`t` is clipped at :math:`\ln 100` (``CLIP_MAX_LOGIT_SCALE``), as the CLIP paper
    says; beyond it the gradient with respect to :math:`t` is 0, so a :math:`t` that an optimizer
    step pushes past the clip stays there. open_clip instead clamps the parameter itself to
    :math:`[0, \ln 100]` after each optimizer step; to train as it does, do the same:
    ``with torch.no_grad(): head.logit_scale.clamp_(0, CLIP_MAX_LOGIT_SCALE)``.

    **The scale is passed as its log**, :math:`t`, the learned parameter of CLIP's model
    (``model.logit_scale``, initialised to :math:`\ln(1/0.07)`). open_clip's ``ClipLoss`` takes the
    exponentiated scale instead: passing that here would scale the logits by :math:`e^{e^t}`, clipped
    to 100.

    Args:
        image_features: :math:`x`, shape :math:`(N, D)`, floating dtype.
        text_features: :math:`y`, text :math:`n` the caption of image :math:`n`; the shape, dtype and
            device of ``image_features``.
        logit_scale: :math:`t`, the log of the logit scale: a 0-dim tensor of the features' dtype
            and device (learnable), or a Python number. A module (:class:`ClipLoss`) learns it.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first (CLIP's model does so before its
            loss). Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - image_features, text_features: :math:`(N, D)`.
        - logit_scale: :math:`()`.
        - output: scalar, or :math:`(N)` with ``reduction='none'`` (pair :math:`n`'s two halves,
          averaged).

    Raises:
        TypeError: non-tensors, integer features, features or a ``logit_scale`` of other dtypes, or
            a ``logit_scale`` that is not a tensor or a real number.
        ValueError: shapes other than these, or an unknown ``reduction``.

    Examples:
        >>> import math
        >>> import torch
        >>> from lossref import clip_loss
        >>> x = torch.eye(2)
        >>> # logits 2 on the diagonal, 0 off it: log(1 + e^-2), both ways
        >>> round(clip_loss(x, x, math.log(2.0)).item(), 4)
        0.1269
    """
    x, y, t = _pairs(image_features, text_features, logit_scale, normalize)
    check_reduction(reduction)
    group = group_of(sync)
    texts, start = gather_rows(y, group)
    scale = t.clamp(max=CLIP_MAX_LOGIT_SCALE).exp()
    logits = scale * (x @ texts.T)  # this process's images (rows) against every text
    image_to_text = log_softmax(logits, -1).diagonal(start)
    # every image (rows) against this process's texts (columns): locally the same matrix
    text_logits = logits if group is None else scale * (gather_rows(x, group)[0] @ y.T)
    text_to_image = log_softmax(text_logits, 0).diagonal(-start)
    return reduce_loss(-(image_to_text + text_to_image) / 2, reduction, group)


@float32_under_autocast
def siglip_loss(
    image_features: Tensor,
    text_features: Tensor,
    logit_scale: Union[Tensor, float],
    logit_bias: Union[Tensor, float],
    reduction: str = "mean",
    normalize: bool = True,
    *,
    sync: Sync = False,
) -> Tensor:
    r"""The SigLIP loss (Zhai et al. 2023): every image-text pair of the batch is a binary
    classification, positive for the matching pair and negative for the others; no softmax over the
    batch.

    .. math::
        s_{ij} = e^{t'} \, \hat x_i \cdot \hat y_j + b, \qquad
        \ell_n = -\sum_{j=1}^{N} \log \sigma\bigl(z_{nj}\, s_{nj}\bigr), \qquad
        z_{nj} = \begin{cases} 1, & j = n, \\ -1, & j \ne n, \end{cases}

    followed by ``reduction``: ``'mean'`` is the paper's :math:`\frac{1}{N}\sum_{i,j}`, the sum over
    every pair divided by the batch size, not by the :math:`N^2` pairs. :math:`-\log\sigma` is
    ``F.logsigmoid``'s stable form. :math:`t'` and :math:`b` start at :math:`\ln 10` and
    :math:`-10` (the paper's initialisation, which :class:`SigLipLoss` uses).

    **The scale is passed as its log**, :math:`t'`, the learned parameter (big_vision's ``t``);
    open_clip's ``SigLipLoss`` takes :math:`e^{t'}`.

    Args:
        image_features: :math:`x`, shape :math:`(N, D)`, floating dtype.
        text_features: :math:`y`, text :math:`n` the caption of image :math:`n`; the shape, dtype and
            device of ``image_features``.
        logit_scale: :math:`t'`, the log of the scale: a 0-dim tensor of the features' dtype and
            device, or a Python number.
        logit_bias: :math:`b`: a 0-dim tensor of the features' dtype and device, or a Python number.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - image_features, text_features: :math:`(N, D)`.
        - logit_scale, logit_bias: :math:`()`.
        - output: scalar, or :math:`(N)` with ``reduction='none'`` (image :math:`n`'s row of pairs).

    Raises:
        TypeError: non-tensors, integer features, features or scalars of other dtypes, or scalars
            that are not tensors or real numbers.
        ValueError: shapes other than these, or an unknown ``reduction``.

    Examples:
        >>> import math
        >>> import torch
        >>> from lossref import siglip_loss
        >>> x = torch.eye(2)
        >>> # matching pair: 10 - 10 = 0, log 2; other: log(1 + e^-10)
        >>> round(siglip_loss(x, x, math.log(10.0), -10.0).item(), 4)
        0.6932
    """
    x, y, t = _pairs(image_features, text_features, logit_scale, normalize)
    b = _scalar(logit_bias, "logit_bias", image_features, "image_features")
    check_reduction(reduction)
    group = group_of(sync)
    texts, start = gather_rows(y, group)
    logits = t.exp() * (x @ texts.T) + b  # this process's images against every text
    # z = 2 I - 1 (1 at the matching pairs); z s flips the sign exactly (a product with +-1 is exact,
    # and eager on the CPU it costs a third less than a `where` on an N x N bool mask)
    z = torch.full_like(logits, -1.0)
    z.diagonal(start).fill_(1.0)
    loss = -F.logsigmoid(z * logits).sum(-1)
    return reduce_loss(loss, reduction, group)


class _ImageTextLoss(_Loss):
    """Holds and checks ``normalize`` of an image-text loss; the subclass owns its scale (and bias)."""

    def __init__(self, reduction: str, normalize: bool, sync: Sync) -> None:
        super().__init__(reduction)
        self.normalize = check_bool(normalize, "normalize")
        self.sync = check_sync(sync)

    def extra_repr(self) -> str:
        return f"normalize={self.normalize}, {super().extra_repr()}"


class ClipLoss(_ImageTextLoss):
    r"""The CLIP loss: :func:`clip_loss` as a module that learns the log logit scale ``logit_scale``.

    .. math::
        \ell_n = \tfrac{1}{2}\Bigl(-\log \frac{e^{s_{nn}}}{\sum_j e^{s_{nj}}}
        - \log \frac{e^{s_{nn}}}{\sum_i e^{s_{in}}}\Bigr), \qquad s_{ij} = e^{t}\,\hat x_i \cdot \hat y_j,

    followed by ``reduction``. ``logit_scale`` (:math:`t`) is a 0-dim ``Parameter`` initialised to
    :math:`\ln(1/0.07)`, as in CLIP, and clipped at :math:`\ln 100` where it is used.
    With ``sync``, keep the module inside the model that ``DistributedDataParallel`` wraps, so that
    DDP averages the scale's gradient (:mod:`lossref.distributed`).

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - image_features, text_features: :math:`(N, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import ClipLoss
        >>> head = ClipLoss()
        >>> round(head.logit_scale.exp().item(), 2)  # 1 / 0.07
        14.29
        >>> head(torch.eye(4), torch.eye(4)).backward()
        >>> # a larger scale lowers this loss
        >>> head.logit_scale.grad.item() < 0
        True
    """

    def __init__(self, reduction: str = "mean", normalize: bool = True, *, sync: Sync = False) -> None:
        super().__init__(reduction, normalize, sync)
        self.logit_scale = nn.Parameter(torch.tensor(CLIP_INIT_LOGIT_SCALE))

    def forward(self, image_features: Tensor, text_features: Tensor) -> Tensor:
        return clip_loss(
            image_features, text_features, self.logit_scale, self.reduction, self.normalize, sync=self.sync
        )


class SigLipLoss(_ImageTextLoss):
    r"""The SigLIP loss: :func:`siglip_loss` as a module that learns ``logit_scale`` (:math:`t'`) and
    ``logit_bias`` (:math:`b`).

    .. math::
        \ell_n = -\sum_{j=1}^{N} \log \sigma\bigl(z_{nj}\, s_{nj}\bigr), \qquad
        s_{ij} = e^{t'} \, \hat x_i \cdot \hat y_j + b,

    followed by ``reduction``, with :math:`z_{nj}` 1 for the matching pair and -1 otherwise. Both
    are 0-dim ``Parameter``\ s, initialised as in the paper: :math:`t' = \ln 10`, :math:`b = -10`.
    With ``sync``, keep the module inside the model that ``DistributedDataParallel`` wraps, so that
    DDP averages their gradients (:mod:`lossref.distributed`).

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        normalize: make every embedding unit length first. Default: ``True``.
        sync: ``True`` or a process group: the candidates of every process's batch, and the
            ``'mean'`` and ``'sum'`` over it (:mod:`lossref.distributed`). Default: ``False``.

    Shape:
        - image_features, text_features: :math:`(N, D)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import SigLipLoss
        >>> head = SigLipLoss()
        >>> round(head.logit_scale.exp().item(), 2), head.logit_bias.item()
        (10.0, -10.0)
    """

    def __init__(self, reduction: str = "mean", normalize: bool = True, *, sync: Sync = False) -> None:
        super().__init__(reduction, normalize, sync)
        self.logit_scale = nn.Parameter(torch.tensor(SIGLIP_INIT_LOGIT_SCALE))
        self.logit_bias = nn.Parameter(torch.tensor(SIGLIP_INIT_LOGIT_BIAS))

    def forward(self, image_features: Tensor, text_features: Tensor) -> Tensor:
        return siglip_loss(
            image_features,
            text_features,
            self.logit_scale,
            self.logit_bias,
            self.reduction,
            self.normalize,
            sync=self.sync,
        )
