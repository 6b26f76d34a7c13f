r"""Divergences between distributions: the Kullback-Leibler divergence, and knowledge distillation.

:func:`kl_div` has torch 2.13's signature, positional order, reductions (``'batchmean'`` included),
``'mean'`` warning and numbers, with two deliberate differences where torch returns NaN for a term
that is 0 (a target of probability 0): see :func:`kl_div`. The sympy definition is ``KL_DIV`` in
:mod:`lossref.symbolic`.

:func:`distillation_loss` (Hinton et al. 2015), which torch lacks, is the KL divergence of the
student's softened distribution from the teacher's, computed from both logits in log space, plus
cross-entropy on the labels. Its sympy definition is ``DISTILLATION`` in :mod:`lossref.symbolic`.
:func:`js_divergence` is the Jensen-Shannon divergence between two predicted distributions (AugMix's
consistency loss), from their logits; its sympy definition is ``JS_DIVERGENCE``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Optional

import torch
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._loss import _Loss
from lossref._primitives import log_softmax
from lossref._reduction import legacy_reduction, reduce_backward
from lossref._reduction import reduce as reduce_loss  # `reduce` is torch's legacy argument here
from lossref._validation import (
    check_elementwise,
    check_floating,
    check_like,
    check_reduction,
    check_sample_classes,
)

__all__ = [
    "kl_div",
    "KLDivLoss",
    "distillation_loss",
    "DistillationLoss",
    "js_divergence",
    "JSDivergenceLoss",
]

#: the reductions of ``kl_div``: torch's three and ``'batchmean'``
KL_REDUCTIONS: tuple[str, ...] = ("none", "batchmean", "sum", "mean")

#: torch 2.13's warning for ``reduction='mean'``, word for word (its sentences are joined without spaces)
MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


def _no_mass(t: Tensor, log_target: bool) -> Tensor:
    """Where the target puts no probability: ``t == 0``, or ``t == -inf`` for a log-target."""
    return t == (-math.inf if log_target else 0.0)


class _KLDiv(torch.autograd.Function):
    r"""The elementwise KL term, reduced: a custom Function because the terms of zero target mass have
    gradient 0 by definition (the derivative of :math:`q \log q` at :math:`q = 0` is :math:`-\infty`),
    which autograd of the formula gives as NaN. The backward is differentiable torch code on the inputs.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, t: Tensor, log_target: bool, reduction: str) -> Tensor:
        zero = _no_mass(t, log_target)
        if log_target:
            loss = torch.exp(t) * (t - x)
        else:
            # t (log t - x): one rounding fewer than xlogy(t, t) - t x. Where t = 0 it is NaN
            # (0 * -inf), which the mask below replaces: a where on t before the log cost a quarter
            # more time compiled (forward 1.48 against 0.78 x torch's kernel, 4M float32 elements)
            loss = t * (torch.log(t) - x)
        # a term without mass is 0 whatever the input (torch: 0 * inf = NaN), but NaN stays NaN;
        # x == x is "not NaN", which inductor vectorizes (isnan it computes one element at a time)
        loss = torch.where(zero & (x == x), 0.0, loss)
        return reduce_loss(loss, reduction)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, t, ctx.log_target, ctx.reduction = inputs
        ctx.numel = x.numel()
        # the input is read only by the target's gradient: saved only when that is needed
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, t)

    @staticmethod
    def backward(ctx, g: Tensor):
        x, t = ctx.saved_tensors
        g = reduce_backward(g, ctx.reduction, ctx.numel)  # 0-dim unless reduction='none'
        zero = _no_mass(t, ctx.log_target)
        grad_x = grad_t = None
        if ctx.log_target:
            q = torch.exp(t)  # 0 where t = -inf
            if ctx.needs_input_grad[0]:
                grad_x = -q * g
            if ctx.needs_input_grad[1]:
                t_safe = torch.where(zero, 0.0, t)
                grad_t = torch.where(zero, 0.0, torch.exp(t_safe) * (t_safe - x + 1)) * g
        else:
            if ctx.needs_input_grad[0]:
                grad_x = -t * g
            if ctx.needs_input_grad[1]:
                grad_t = torch.where(zero, 0.0, torch.log(torch.where(zero, 1.0, t)) + 1 - x) * g
        return grad_x, grad_t, None, None


@float32_under_autocast
def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: Optional[bool] = None,
    reduce: Optional[bool] = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    r"""The Kullback-Leibler divergence loss of log-probabilities ``input`` from a target distribution.

    .. math::
        \ell_n = q_n (\log q_n - x_n), \qquad q_n = \texttt{target}_n
        \ \ (\text{or } q_n = e^{\texttt{target}_n} \text{ with } \texttt{log\_target=True}),

    with :math:`\ell_n = 0` where :math:`q_n = 0`, followed by ``reduction``. With ``input`` the
    log-probabilities :math:`\log p` of a model over the last dimension, the sum over one sample's
    classes is :math:`\mathrm{KL}(q \,\|\, p) = \sum_c q_c \log(q_c / p_c)`, so **``'batchmean'`` (the
    sum divided by the batch size, ``input.size(0)``) is the KL divergence per sample**. ``'mean'``,
    torch's default, divides by the number of elements, which is the divergence divided by the
    number of classes as well: not the KL divergence. As in torch, ``'mean'`` warns (torch's
    message, word for word) unless the deprecated ``size_average``/``reduce`` decide the reduction.

    The gradient with respect to ``input`` is :math:`-q_n`, exactly 0 where :math:`q_n = 0`; with
    respect to ``target`` it is :math:`\log q_n + 1 - x_n` (:math:`q_n (\log q_n + 1 - x_n)` for a
    log-target). ``log_target=True`` is the accurate way to pass a target that is itself a softmax:
    ``log_softmax`` keeps probabilities far below the float range.

    Where lossref differs from torch (2.13), both tested: a term of zero target mass is 0 with
    gradient 0 whatever the input, which is the limit :math:`q \log q \to 0`. torch gives NaN for
    the target's gradient at :math:`q = 0` (:math:`0 / 0` in ``xlogy``'s backward), and NaN for the
    value where a log-target is :math:`-\infty` (:math:`0 \cdot \infty`) or where ``input`` is
    :math:`-\infty` at :math:`q = 0`. A NaN input is still NaN out. Also, ``target`` must have the
    input's shape (torch broadcasts the two silently).

    Args:
        input: log-probabilities :math:`x`, any shape, floating dtype; for distributions over
            classes, shape :math:`(N, C)` with the classes last.
        target: probabilities :math:`q` (log-probabilities with ``log_target=True``), same shape and
            dtype as ``input``.
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``. ``'batchmean'`` divides the sum
            by ``input.size(0)`` (a 0-dimensional input: by 1), ``'mean'`` by the number of elements.
            Default: ``'mean'``.
        log_target: whether ``target`` holds log-probabilities. Default: ``False``.

    Shape:
        - input: :math:`(*)`, any number of dimensions; :math:`(N, C)` for a batch of distributions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Raises:
        TypeError: non-tensor or integer ``input``/``target``, or dtypes that differ.
        ValueError: shapes that do not match, or an unknown ``reduction``.

    Examples:
        >>> import torch
        >>> from lossref import kl_div
        >>> log_p = torch.tensor([[0.5, 0.5], [0.9, 0.1]]).log()
        >>> q = torch.tensor([[0.9, 0.1], [0.9, 0.1]])
        >>> # KL(q || p) per sample: (0.9 ln 1.8 + 0.1 ln 0.2 + 0) / 2
        >>> round(kl_div(log_p, q, reduction="batchmean").item(), 4)
        0.184
        >>> # a target of probability 0 adds 0 (torch: NaN)
        >>> kl_div(
        ...     log_p[:1],
        ...     torch.tensor([[0.0, -float("inf")]]),
        ...     reduction="none",
        ...     log_target=True,
        ... )
        tensor([[0.6931, 0.0000]])
    """
    legacy = size_average is not None or reduce is not None
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_elementwise(input, target, reduction, KL_REDUCTIONS)
    if reduction == "mean" and not legacy and not torch.compiler.is_compiling():
        warnings.warn(MEAN_WARNING, stacklevel=3)  # the caller of the autocast wrapper

    if reduction == "batchmean":
        total = _KLDiv.apply(input, target, log_target, "sum")
        return total / input.shape[0] if input.dim() > 0 else total
    return _KLDiv.apply(input, target, log_target, reduction)


class KLDivLoss(_Loss):
    r"""The Kullback-Leibler divergence loss: :func:`kl_div` as a module.

    .. math::
        \ell_n = q_n (\log q_n - x_n), \qquad \ell_n = 0 \text{ where } q_n = 0,

    followed by ``reduction``, with :math:`x` log-probabilities and :math:`q` the target's
    probabilities (:math:`e^{\texttt{target}}` with ``log_target=True``). ``reduction='batchmean'``
    gives the KL divergence per sample; ``'mean'`` (the default, as in torch) divides by the number
    of elements as well, and warns at each call, as torch's does.

    Args:
        size_average: deprecated, use ``reduction``. If ``size_average`` or ``reduce`` is not
            ``None``, the two decide the reduction instead of ``reduction``, as in torch and with its
            warning: ``False`` sums, ``True`` (also taken for ``None``) averages. Default: ``None``.
        reduce: deprecated, use ``reduction``. ``False`` gives ``'none'`` whatever ``size_average``
            says; ``True`` reduces as ``size_average`` says. Default: ``None``.
        reduction: ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``. Default: ``'mean'``.
        log_target: whether the target holds log-probabilities. Default: ``False``.

    Shape:
        - input: :math:`(*)`, log-probabilities; :math:`(N, C)` for a batch of distributions.
        - target: :math:`(*)`, same shape as input.
        - output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import KLDivLoss
        >>> loss = KLDivLoss(reduction="batchmean", log_target=True)
        >>> log_p = torch.tensor([[0.5, 0.5]]).log()
        >>> log_q = torch.tensor([[0.9, 0.1]]).log()
        >>> round(loss(log_p, log_q).item(), 4)  # 0.9 ln 1.8 + 0.1 ln 0.2
        0.3681
    """

    _reductions = KL_REDUCTIONS

    def __init__(
        self,
        size_average: Optional[bool] = None,
        reduce: Optional[bool] = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(reduction, size_average=size_average, reduce=reduce)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, log_target={self.log_target}"


# -- knowledge distillation ---------------------------------------------------------------------------


def _check_temperature(temperature: float) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        hint = "; pass a Python number, e.g. temperature.item()" if isinstance(temperature, Tensor) else ""
        raise TypeError(f"temperature must be a real number > 0, got {type(temperature).__name__}{hint}")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
    return float(temperature)


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        hint = "; pass a Python number, e.g. alpha.item()" if isinstance(alpha, Tensor) else ""
        raise TypeError(f"alpha must be a real number in [0, 1], got {type(alpha).__name__}{hint}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] (the weight of the soft-target term), got {alpha}")
    return float(alpha)


def _check_logit_pair(first: Tensor, first_name: str, second: Tensor, second_name: str) -> None:
    """Two batches of logits over the same classes: floating, shape (N, C) with C >= 1, same shape,
    dtype and device."""
    check_floating(first, first_name)
    if first.dim() != 2 or first.shape[1] == 0:
        raise ValueError(
            f"{first_name} must have shape (N, C), logits of N samples over C >= 1 classes (classes last), "
            f"got {tuple(first.shape)}"
        )
    check_like(second, second_name, first, first_name)
    if second.shape != first.shape:
        what = "the same classes" if second.dim() == 2 and second.shape[0] == first.shape[0] else "its shape"
        raise ValueError(
            f"{second_name} must have the shape of {first_name} {tuple(first.shape)} ({what}: "
            f"{first.shape[1]} classes in dimension 1), got {tuple(second.shape)}"
        )


@float32_under_autocast
def distillation_loss(
    student: Tensor,
    teacher: Tensor,
    target: Optional[Tensor] = None,
    temperature: float = 4.0,
    alpha: float = 0.9,
    reduction: str = "mean",
) -> Tensor:
    r"""Knowledge distillation (Hinton et al. 2015): the student's softened distribution fitted to
    the teacher's, plus cross-entropy on the labels.

    With :math:`T` the ``temperature``, :math:`p = \operatorname{softmax}(s_n / T)` and
    :math:`q = \operatorname{softmax}(t_n / T)` the softened distributions of the student's and the
    teacher's logits :math:`s_n, t_n` over the :math:`C` classes, and :math:`y_n` the label,

    .. math::
        \ell_n = \alpha\, T^2 \sum_c q_c (\log q_c - \log p_c)
        + (1 - \alpha) \bigl(-\log \operatorname{softmax}(s_n)_{y_n}\bigr),

    the KL divergence :math:`\mathrm{KL}(q \,\|\, p)` of sample :math:`n` scaled by :math:`T^2`, plus
    cross-entropy at temperature 1; then ``reduction``. **``'none'`` gives the per-sample loss and
    ``'mean'`` (the default) its mean over the batch**, so the soft term of ``'mean'`` is
    :math:`\alpha T^2` times ``kl_div(log p, log q, reduction='batchmean', log_target=True)``, the KL
    divergence per sample. Its gradient with respect to the student's logits is
    :math:`\alpha T (p - q) + (1 - \alpha)(\operatorname{softmax}(s_n) - \mathrm{onehot}(y_n))`: the
    soft term's :math:`(p - q) / T` shrinks as :math:`1 / T^2` for large :math:`T` (where
    :math:`p - q \approx (s_n - t_n) / (C T)` for logits of mean 0), and the factor :math:`T^2`
    keeps it on the scale of the hard term whatever the temperature, as the paper prescribes.

    Both distributions are log-softmaxes of the logits (:func:`~lossref.log_softmax`), and the KL
    term is :func:`kl_div`'s with ``log_target=True``: no probability is ever formed and then logged,
    so a confident teacher (a class of probability 1e-30, or of exactly 0 from a logit of
    :math:`-\infty`, which contributes 0 with gradient 0) keeps every digit. What common code gets
    wrong, each a different number:

    - ``F.kl_div(..., reduction='mean')`` (torch's default) divides by :math:`N C`, not :math:`N`:
      the divergence divided by the number of classes too; ``'batchmean'`` is the divergence.
    - a softmax passed where ``kl_div`` reads log-probabilities: the teacher's ``softmax(t / T)`` as
      the target with ``log_target=True``, or the student's softmax as the input; or the arguments
      swapped (``kl_div(log q, p)`` is :math:`\mathrm{KL}(p \,\|\, q)`): a number, but not this divergence.
    - ``softmax(t / T).log()``: the log of a probability that underflowed is :math:`-\infty`, and
      :math:`0 \cdot (-\infty)` is NaN.
    - no :math:`T^2`: the soft term's gradient then fades as :math:`1 / T^2`, and changing
      :math:`T` silently reweights the two terms.

    ``target=None`` computes the soft term alone, which needs ``alpha=1``. The loss is differentiable
    in the teacher's logits too; detach them (``teacher.detach()``) to train the student alone.

    Args:
        student: the student's logits :math:`s`, shape :math:`(N, C)`, floating.
        teacher: the teacher's logits :math:`t`, the student's shape, dtype and device.
        target: class indices :math:`y`, shape :math:`(N)`, integer dtype, values in :math:`[0, C)`;
            ``None``: no hard-label term (then ``alpha`` must be 1). Default: ``None``.
        temperature: :math:`T > 0`, finite; both logits are divided by it in the soft term.
            Default: ``4.0``.
        alpha: :math:`\alpha \in [0, 1]`, the weight of the soft term; the hard term has
            :math:`1 - \alpha`. Default: ``0.9``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``: the per-sample loss, its mean over the batch
            (the KL term then is the ``'batchmean'`` divergence), or its sum. Default: ``'mean'``.

    Shape:
        - student: :math:`(N, C)`.
        - teacher: :math:`(N, C)`.
        - target: :math:`(N)`, or ``None``.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: a non-tensor or integer ``student``/``teacher``, dtypes that differ, a floating
            ``target``, or a ``temperature``/``alpha`` that is not a real number.
        ValueError: shapes other than :math:`(N, C)` and :math:`(N)`, different class dimensions,
            a class index out of range (this check reads the data), ``temperature`` :math:`\le 0`,
            ``alpha`` outside :math:`[0, 1]`, ``target=None`` with ``alpha`` other than 1, or an
            unknown ``reduction``.

    Examples:
        >>> import math, torch
        >>> from lossref import distillation_loss
        >>> # teacher p = (3/4, 1/4) at T = 2; student uniform: KL = ln 2 - H(q)
        >>> s = torch.tensor([[0.0, 0.0]])
        >>> t = torch.tensor([[2 * math.log(3), 0.0]])
        >>> soft = distillation_loss(s, t, temperature=2.0, alpha=1.0)
        >>> round(soft.item(), 6)  # 4 (3/4 ln(3/2) + 1/4 ln(1/2))
        0.523248
        >>> y = torch.tensor([0])
        >>> loss = distillation_loss(s, t, y, temperature=2.0, alpha=0.5)
        >>> round(loss.item(), 6)  # (0.523248 + ln 2) / 2
        0.608198
        >>> # a teacher that gives class 1 a probability of 1e-30: exact, no NaN
        >>> t = torch.tensor([[0.0, -30 * math.log(10)]])
        >>> distillation_loss(s, t, temperature=1.0, alpha=1.0)
        tensor(0.6931)
    """
    _check_logit_pair(student, "student", teacher, "teacher")
    temperature = _check_temperature(temperature)
    alpha = _check_alpha(alpha)
    check_reduction(reduction)
    if target is None:
        if alpha != 1.0:
            raise ValueError(
                f"alpha must be 1 when target is None (the loss is then the soft-target term alone), got "
                f"alpha={alpha}; pass target (class indices of shape (N,)) for the hard-label term"
            )
    else:
        hint = "; pass target.long(), or target.argmax(dim=1) for one-hot labels (soft ones go in teacher)"
        check_sample_classes(target, student, student.shape[1], "student", hint)

    loss: Optional[Tensor] = None
    log_p: Optional[Tensor] = None
    if alpha > 0:
        log_p = log_softmax(student / temperature if temperature != 1.0 else student, 1)
        log_q = log_softmax(teacher / temperature if temperature != 1.0 else teacher, 1)
        kl = _KLDiv.apply(log_p, log_q, True, "none").sum(1)  # KL(q || p) per sample, from logs
        loss = (alpha * temperature**2) * kl
    if alpha < 1:
        assert target is not None  # checked above: alpha < 1 needs a target
        log_s = log_p if log_p is not None and temperature == 1.0 else log_softmax(student, 1)
        ce = 0.0 - log_s.gather(1, target.long().unsqueeze(1)).squeeze(1)  # +0, not -0
        loss = (1 - alpha) * ce if loss is None else loss + (1 - alpha) * ce
    assert loss is not None
    return reduce_loss(loss, reduction)


class DistillationLoss(_Loss):
    r"""Knowledge distillation (Hinton et al. 2015): :func:`distillation_loss` as a module, where
    the formula, its gradient and the common mistakes are.

    .. math::
        \ell_n = \alpha\, T^2\, \mathrm{KL}\bigl(\operatorname{softmax}(t_n / T) \,\big\|\,
        \operatorname{softmax}(s_n / T)\bigr) + (1 - \alpha) \operatorname{CE}(s_n, y_n),

    then ``reduction``; ``'mean'`` makes the KL term the divergence per sample (``'batchmean'``).

    Args:
        temperature: :math:`T > 0`, finite. Default: ``4.0``.
        alpha: :math:`\alpha \in [0, 1]`, the weight of the soft term. Default: ``0.9``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - student: :math:`(N, C)`, logits.
        - teacher: :math:`(N, C)`, logits.
        - target: :math:`(N)`, class indices, or ``None`` (then ``alpha`` must be 1).
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import DistillationLoss
        >>> criterion = DistillationLoss(temperature=1.0, alpha=0.0)
        >>> s, t = torch.zeros(2, 4), torch.randn(2, 4)
        >>> round(criterion(s, t, torch.tensor([0, 3])).item(), 4)  # ln 4
        1.3863
    """

    def __init__(self, temperature: float = 4.0, alpha: float = 0.9, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.temperature = _check_temperature(temperature)
        self.alpha = _check_alpha(alpha)

    def forward(self, student: Tensor, teacher: Tensor, target: Optional[Tensor] = None) -> Tensor:
        return distillation_loss(student, teacher, target, self.temperature, self.alpha, self.reduction)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, alpha={self.alpha}, {super().extra_repr()}"


# -- Jensen-Shannon divergence ------------------------------------------------------------------------

_LOG_2 = math.log(2.0)


def _js_terms(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    r"""The two terms of one class, :math:`p \log(p / m)` and :math:`r \log(r / m)`, of
    :math:`a = \log p` and :math:`b = \log r`, with :math:`m = (p + r) / 2`.

    With :math:`d = b - a`, :math:`\log(p / m) = L(d)` and :math:`\log(r / m) = L(-d) = L(d) + d`,
    where :math:`L(x) = \log(2 / (1 + e^x)) = -\operatorname{log1p}(\operatorname{expm1}(x) / 2)`.
    That form is accurate for :math:`x \le 0` (no cancellation where :math:`p \approx r`, no
    overflow), so :math:`L` is computed once, at :math:`-|d|`, and the other log is that plus
    :math:`-|d|`: one ``expm1`` and one ``log1p`` per class, and no mixture is ever formed. A class
    of no mass (:math:`a` or :math:`b = -\infty`) gives its own term 0, with gradient 0, and the other
    term :math:`\log 2`; every masked position holds finite numbers, so no NaN reaches a gradient.
    A NaN stays NaN.
    """
    has_a, has_b = a != -math.inf, b != -math.inf
    d = torch.where(has_a & has_b, b - a, 0.0)
    low = torch.where(d <= 0, d, -d)  # -|d|, with the derivative of the branch L needs at d = 0
    log_low = -torch.log1p(torch.expm1(low) / 2)  # L(-|d|), in [0, log 2)
    log_high = log_low + low  # L(|d|) = L(-|d|) - |d|
    log_p_over_m = torch.where(has_b, torch.where(d <= 0, log_low, log_high), _LOG_2)
    log_r_over_m = torch.where(has_a, torch.where(d <= 0, log_high, log_low), _LOG_2)
    p_term = torch.where(has_a, torch.exp(a) * log_p_over_m, 0.0)
    r_term = torch.where(has_b, torch.exp(b) * log_r_over_m, 0.0)
    return p_term, r_term


class _JSTerms(torch.autograd.Function):
    r"""The Jensen-Shannon terms of one class, :math:`\tfrac12 (p \log(p / m) + r \log(r / m))`, of
    :math:`a = \log p` and :math:`b = \log r`. A Function for its backward: the partial derivative in
    :math:`a` is exactly :math:`\tfrac12 p \log(p / m)` (autograd of the forward forms it as that
    plus :math:`p r / (p + r) - r p / (p + r)`, which cancels to rounding, not to 0, and swamps a
    small gradient where :math:`p \approx r`). The backward is differentiable torch code."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Tensor, b: Tensor) -> Tensor:
        p_term, r_term = _js_terms(a, b)
        return 0.5 * (p_term + r_term)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g: Tensor):
        p_term, r_term = _js_terms(*ctx.saved_tensors)
        return 0.5 * g * p_term, 0.5 * g * r_term


@float32_under_autocast
def js_divergence(input: Tensor, other: Tensor, reduction: str = "mean") -> Tensor:
    r"""The Jensen-Shannon divergence between the distributions of two batches of logits.

    With :math:`p = \operatorname{softmax}(x_n)`, :math:`r = \operatorname{softmax}(z_n)` over the
    :math:`C` classes and their mixture :math:`m = (p + r) / 2`,

    .. math::
        \ell_n = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(r \,\|\, m)
        = \tfrac12 \sum_c \Bigl(p_c \log \frac{p_c}{m_c} + r_c \log \frac{r_c}{m_c}\Bigr),

    then ``reduction``: ``'none'`` gives the divergence per sample, ``'mean'`` its mean over the batch
    (``'batchmean'``, as AugMix's consistency loss averages it), ``'sum'`` its sum. It is symmetric,
    between 0 (equal distributions) and :math:`\log 2` (disjoint supports), and finite where the KL
    divergence is not. Its gradient with respect to :math:`x_n` is
    :math:`\tfrac12 p \odot (\log(p / m) - \mathrm{JS}_p)` with :math:`\mathrm{JS}_p = \sum_c p_c
    \log(p_c / m_c)`, so it vanishes, and saturates, as the supports separate.

    Stable from logits: :math:`\log p` and :math:`\log r` are log-softmaxes
    (:func:`~lossref.log_softmax`), and :math:`\log(p_c / m_c) = \log 2 - \operatorname{softplus}(\log
    r_c - \log p_c)`, the log of the mixture :math:`\operatorname{logaddexp}(\log p_c, \log r_c) - \log
    2` without its cancellation (computed as :math:`-\operatorname{log1p}(\operatorname{expm1}(x) / 2)`
    at :math:`x = -|\log r_c - \log p_c|`, accurate where :math:`p_c \approx r_c`, and the other
    log from it, :math:`\log(r_c / m_c) = \log(p_c / m_c) + \log r_c - \log p_c`): no probability
    is formed and then logged, so classes of probability
    1e-30 and exactly 0 (a logit of :math:`-\infty`: 0 with gradient 0) keep their accuracy. The usual
    code, ``((p + r) / 2).log()`` (AugMix clamps it at 1e-7), rounds the mixture first.

    Args:
        input: logits :math:`x` of one prediction, shape :math:`(N, C)`, floating.
        other: logits :math:`z` of the other, the input's shape, dtype and device.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, C)`.
        - other: :math:`(N, C)`.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Raises:
        TypeError: a non-tensor or integer ``input``/``other``, or dtypes that differ.
        ValueError: shapes other than :math:`(N, C)`, different class dimensions, or an unknown
            ``reduction``.

    Examples:
        >>> import math, torch
        >>> from lossref import js_divergence
        >>> # disjoint supports: log 2; equal distributions: 0
        >>> x = torch.tensor([[0.0, -math.inf], [1.0, 2.0]])
        >>> z = torch.tensor([[-math.inf, 0.0], [1.0, 2.0]])
        >>> js_divergence(x, z, reduction="none")
        tensor([0.6931, 0.0000])
        >>> # p = (1/2, 1/2), r = (1, 0): (1/2 ln(2/3) + 1/2 ln 2 + ln(4/3)) / 2
        >>> x = torch.tensor([[0.0, 0.0]])
        >>> z = torch.tensor([[0.0, -math.inf]])
        >>> round(js_divergence(x, z).item(), 6)
        0.215762
    """
    _check_logit_pair(input, "input", other, "other")
    check_reduction(reduction)
    log_p, log_r = log_softmax(input, 1), log_softmax(other, 1)
    loss = _JSTerms.apply(log_p, log_r).sum(1)
    return reduce_loss(loss, reduction)


class JSDivergenceLoss(_Loss):
    r"""The Jensen-Shannon divergence between the distributions of two batches of logits:
    :func:`js_divergence` as a module, where the formula and its stable form are.

    .. math::
        \ell_n = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(r \,\|\, m), \qquad
        m = \tfrac12 (p + r),

    with :math:`p, r` the softmaxes of the two logits; then ``reduction`` (``'mean'``: per sample,
    averaged over the batch).

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - input: :math:`(N, C)`, logits.
        - other: :math:`(N, C)`, logits.
        - output: scalar, or :math:`(N)` with ``reduction='none'``.

    Examples:
        >>> import torch
        >>> from lossref import JSDivergenceLoss
        >>> x = torch.tensor([[10.0, -10.0], [0.0, 0.0]])
        >>> JSDivergenceLoss(reduction="none")(x, x.flip(1))
        tensor([0.6931, 0.0000])
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, other: Tensor) -> Tensor:
        return js_divergence(input, other, self.reduction)
