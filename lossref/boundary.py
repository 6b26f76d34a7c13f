r"""Distance-map losses for segmentation: the boundary loss (Kervadec et al. 2019) and the
distance-transform Hausdorff loss (Karimi & Salcudean 2019), and the signed distance map they use.

Unlike a "shape" term computed from the target alone (which has no gradient with respect to the
prediction and only shifts the loss), both losses multiply the prediction by distances to the
target's boundary, so a prediction far from the target costs more than one next to it, and the
gradient reaches every predicted pixel. Conventions as :mod:`lossref._region`, with 0/1 targets.

**The signed distance map** :math:`\phi` of a mask :math:`G` (one image, one class) is, for each
pixel :math:`q`, the Euclidean distance between pixel centres (neighbours are 1 apart; anisotropic
spacing is not modelled) to the nearest pixel of the other side:

.. math::
    \phi(q) = \begin{cases} \min_{g \in G} \|q - g\| & q \notin G \\
                            -\min_{b \notin G} \|q - b\| & q \in G, \end{cases}

so it is :math:`\pm 1` on both sides of the boundary and never 0 (Kervadec's reference code
subtracts 1 inside, which makes missing the inner boundary free). A mask with no foreground has no
distance to it: the map is :math:`+D` everywhere, :math:`D = \sqrt{\sum_k s_k^2}` the diagonal of
the :math:`s_1 \times \cdots \times s_k` image, larger than any distance inside it, so a prediction
on an empty target costs more per pixel than anywhere near a real one; an all-foreground mask gets
:math:`-D`. (MONAI's ``HausdorffDTLoss`` uses 0 in both cases: a prediction on an empty target is
then free.) Ignored pixels count as background for the map and are left out of the losses. Maps are
computed on the CPU with ``scipy.ndimage.distance_transform_edt``, once per call unless passed in as
``distance_map``. scipy is needed for these losses only, and is not a dependency of lossref: install
it with the extra, ``pip install "lossref[distance]"``. Without it, each call that would compute a
map raises an ImportError that says so before it converts any tensor; :func:`boundary_loss` given a
``distance_map`` needs no scipy.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
from torch import Tensor

from lossref._autocast import float32_under_autocast
from lossref._region import (
    Mode,
    Region,
    _RegionLoss,
    canonical_input,
    check_common,
    check_mode,
    num_channels,
    pixel_mean,
    prepare,
    probabilities,
    probability,
    reduce_region,
)
from lossref._validation import check_index_target, check_same_shape, check_tensor, checked, readable
from lossref.distributed import Sync

__all__ = ["signed_distance_map", "boundary_loss", "hausdorff_dt_loss", "BoundaryLoss", "HausdorffDTLoss"]


def _require_scipy(loss: str, alternative: str = "") -> None:
    """Raise a clear ImportError at the start of a call that computes a distance map when scipy is
    missing; checked later, torch's "Numpy is not available" would come first (scipy needs numpy)."""
    try:
        import scipy.ndimage  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"{loss} needs scipy, which is not installed: the distance maps come from its Euclidean "
            f"distance transform (scipy.ndimage.distance_transform_edt). Install it with: pip install "
            f'"lossref[distance]"{alternative}'
        ) from e


def _edt(mask: Any) -> Any:
    from scipy.ndimage import distance_transform_edt  # an optional extra: imported on first use

    return distance_transform_edt(mask)


def _signed_maps(masks: Any) -> Any:
    """Signed distance maps of boolean numpy masks of shape (N, C, *spatial), as float64."""
    import numpy as np  # needed here only: torch itself does not require numpy

    spatial = masks.shape[2:]
    diagonal = math.sqrt(max(1, sum(s * s for s in spatial)))
    out = np.empty(masks.shape, dtype=np.float64)
    for index in np.ndindex(*masks.shape[:2]):
        m = masks[index]
        if m.size == 0:
            continue
        if not m.any():
            out[index] = diagonal
        elif m.all():
            out[index] = -diagonal
        else:
            out[index] = _edt(~m) - _edt(m)  # outside: distance to G; inside: to the background
    return out


_TARGET_HINT = "compute the target's map outside vmap with signed_distance_map and pass distance_map="
_PREDICTION_HINT = (
    "hausdorff_dt_loss computes the prediction's map at every call, so it cannot run under vmap: loop over "
    "the samples for per-sample gradients"
)


def _maps_like(masks: Tensor, dtype: torch.dtype, hint: str) -> Tensor:
    """The signed distance maps of boolean masks (N, C, *spatial), computed by scipy: constants, also
    under torch.func.grad; under torch.func.vmap, which hides the batch scipy needs, a ValueError (with
    ``hint``)."""
    data = readable(masks)
    if data is None:  # a meta tensor: only the map's shape and dtype exist
        return torch.empty(masks.shape, dtype=dtype, device=masks.device)
    if data.shape != masks.shape:
        raise ValueError(
            f"a distance map cannot be computed per sample under torch.func.vmap (scipy reads the whole "
            f"batch); {hint}"
        )
    with torch._C._DisableFuncTorch():  # numpy() dispatches an op, which torch.func.grad would wrap
        array = data.cpu().numpy()
    return torch.from_numpy(_signed_maps(array)).to(device=masks.device, dtype=dtype)


def signed_distance_map(
    target: Tensor,
    mode: Mode,
    *,
    num_classes: Optional[int] = None,
    ignore_index: int = -100,
    dtype: Optional[torch.dtype] = None,
) -> Tensor:
    r"""The signed distance map :math:`\phi` of each image and class of a 0/1 target (see
    :mod:`lossref.boundary`): negative inside, positive outside, :math:`\pm D` for an empty or full
    mask. Compute it once per target and pass it to :func:`boundary_loss` or
    :func:`hausdorff_dt_loss` as ``distance_map``.

    Args:
        target: 0/1 labels :math:`(N, *)` (``'binary'``) or :math:`(N, C, *)` (``'multilabel'``),
            or class indices :math:`(N, *)` (``'multiclass'``); ``ignore_index`` counts as background.
        mode: ``'binary'`` | ``'multiclass'`` | ``'multilabel'``, required.
        num_classes: :math:`C`, needed for ``'multiclass'``. Default: ``None``.
        ignore_index: target value of ignored pixels. Default: ``-100``.
        dtype: dtype of the result. Default: the target's if floating, else torch's default dtype.

    Returns:
        The map, with the shape of the matching input (the target's shape, or :math:`(N, C, *)`
        for ``'multiclass'``).

    Raises:
        ImportError: scipy is not installed (``pip install "lossref[distance]"``).
        TypeError: a non-tensor target, or a floating ``'multiclass'`` target.
        ValueError: a soft or out-of-range target, ``'multiclass'`` without ``num_classes``, an
            unknown ``mode``.

    Examples:
        >>> import torch
        >>> from lossref import signed_distance_map
        >>> t = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.0]])
        >>> signed_distance_map(t, "binary")
        tensor([[ 1., -1., -1.,  1.,  2.]])
        >>> # no foreground: the diagonal, 3
        >>> signed_distance_map(torch.zeros(1, 3), "binary")
        tensor([[3., 3., 3.]])
    """
    _require_scipy("signed_distance_map")
    check_tensor(target, "target")
    check_mode(mode)
    if mode == "multiclass":
        if num_classes is None:
            raise ValueError("signed_distance_map of class indices (mode='multiclass') needs num_classes")
        if target.dim() < 1:
            raise ValueError("target for mode='multiclass' needs a batch dimension, got shape ()")
        shape = (target.shape[0], num_classes, *target.shape[1:])
        fake_input = torch.empty(shape, device=target.device)
        check_index_target(target, fake_input, num_classes, ignore_index)
        # compared with each class index, not F.one_hot, which reads the range (vmap would refuse it
        # before the clear error of _maps_like)
        classes = torch.arange(num_classes, device=target.device).view(-1, *[1] * (target.dim() - 1))
        masks = (target.unsqueeze(1) == classes) & (target != ignore_index).unsqueeze(1)
        return _maps_like(masks, dtype or torch.get_default_dtype(), _TARGET_HINT)
    if not target.is_floating_point():
        raise TypeError(f"target must have a floating-point dtype for mode={mode!r}, got {target.dtype}")
    data = checked(target)
    if data is not None:
        valid = (data == 0) | (data == 1) | (data == ignore_index)
        if not bool(valid.all()):
            raise ValueError(
                "target must hold 0/1 values (or ignore_index) for a distance map, got "
                f"{data[~valid][0].item()!r}; {int((~valid).sum())} of {data.numel()} elements are not 0 or 1"
            )
    if target.dim() < (1 if mode == "binary" else 2):
        raise ValueError(f"target for mode={mode!r} needs a batch dimension, got shape {tuple(target.shape)}")
    masks = target == 1
    if mode == "binary" and not (masks.dim() >= 3 and masks.shape[1] == 1):
        return _maps_like(masks.unsqueeze(1), dtype or target.dtype, _TARGET_HINT).squeeze(1)
    return _maps_like(masks, dtype or target.dtype, _TARGET_HINT)


def _target_map(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    ignore_index: int,
    distance_map: Optional[Tensor],
    region: Region,
) -> Tensor:
    if distance_map is None:
        distance_map = signed_distance_map(
            target,
            mode,
            num_classes=num_channels(input, mode),
            ignore_index=ignore_index,
            dtype=input.dtype,
        )
    else:
        try:
            check_same_shape(distance_map, input)
        except ValueError as e:
            raise ValueError(
                f"distance_map must have the shape of input {tuple(input.shape)}, got "
                f"{tuple(distance_map.shape)} (see signed_distance_map)"
            ) from e
    return canonical_input(distance_map, mode, region)


@float32_under_autocast
def boundary_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    *,
    from_logits: bool = True,
    distance_map: Optional[Tensor] = None,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Boundary loss (Kervadec et al. 2019): the prediction weighted by the target's signed distance.

    .. math::
        \ell = \frac{1}{|\Omega|} \sum_{i \in \Omega} \phi_G(i)\,(p_i - t_i) \;\ge 0

    per image and class, :math:`\phi_G` the signed distance map of the target (see
    :mod:`lossref.boundary`). The paper's loss is :math:`\sum_i \phi_G(i) p_i`, negative at its
    optimum; subtracting its minimum :math:`\sum_i \phi_G(i) t_i` (a constant of the target) gives
    the same gradient, :math:`\phi_G(i) / |\Omega|`: a predicted pixel outside the target is pushed
    down in proportion to its distance, a missed pixel inside is pushed up. Each term is
    :math:`\ge 0`, and the loss is 0 exactly when :math:`p = t`. The paper adds it to a regional
    loss (:func:`~lossref.dice_loss`) with a weight that grows during training.

    Each term is formed as :math:`\phi p` where :math:`t = 0` and :math:`-\phi (1 - p)` where
    :math:`t = 1`, with :math:`1 - p = \sigma(-x)` from logits, so a confident pixel keeps its small
    term and gradient. Plain autograd: a custom ``autograd.Function`` of the sums was 1.4 times
    faster eager but 3 times slower under ``torch.compile`` (``benchmarks/run.py``).

    Args:
        input: logits (or probabilities with ``from_logits=False``), as in :func:`~lossref.dice_loss`.
        target: 0/1 labels or class indices, as in :func:`~lossref.dice_loss`.
        mode: ``'binary'`` | ``'multiclass'`` | ``'multilabel'``, required, as in
            :func:`~lossref.dice_loss`.
        distance_map: the precomputed :func:`signed_distance_map` of ``target``, the input's shape
            and dtype (then scipy is not needed); ``None`` computes it (on the CPU, with scipy).
            Default: ``None``.
        from_logits, per_image, weight, include_background, ignore_index, reduction: as in
            :mod:`lossref._region`.

    Shape:
        As :func:`~lossref.dice_loss`.

    Raises:
        ImportError: scipy is not installed and no ``distance_map`` is given.
        TypeError, ValueError: as :func:`~lossref.dice_loss`; also a soft target, and a
            ``distance_map`` of another shape or dtype.

    Examples:
        >>> import torch
        >>> from lossref import boundary_loss
        >>> # phi = 1, -1, -1, 1, 2
        >>> t = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.0]])
        >>> # misses pixel 2, adds pixel 4
        >>> p = torch.tensor([[0.0, 1.0, 0.0, 0.0, 1.0]])
        >>> # (-1 * -1 + 2 * 1) / 5
        >>> boundary_loss(p, t, "binary", from_logits=False).item()
        0.6000000238418579
    """
    if distance_map is None:
        _require_scipy("boundary_loss", ", or pass a precomputed distance_map")
    check_common(input, target, mode, weight, reduction, extra=((distance_map, "distance_map"),))
    region = prepare(
        input,
        target,
        mode,
        from_logits,
        ignore_index,
        include_background,
        weight,
        hard_target="boundary_loss",
        sync=sync,
    )
    phi = _target_map(input, target, mode, ignore_index, distance_map, region)
    # p - t as p where t = 0 and -(1 - p) where t = 1 (one lerp, exact at both): every term, which is
    # >= 0, keeps its relative precision (p - 1 would round a confident pixel's term to 0). Plain
    # autograd: a custom Function was 1.4 times faster eager but 3 times slower compiled (issue 16)
    p, q = probabilities(region)  # 0 at ignored pixels, so are their terms
    loss = pixel_mean(phi * torch.lerp(p, -q, region.t), region, per_image)
    return reduce_region(loss, weight, region, reduction, per_image)


@float32_under_autocast
def hausdorff_dt_loss(
    input: Tensor,
    target: Tensor,
    mode: Mode,
    alpha: float = 2.0,
    *,
    from_logits: bool = True,
    distance_map: Optional[Tensor] = None,
    per_image: bool = True,
    weight: Optional[Tensor] = None,
    include_background: bool = True,
    ignore_index: int = -100,
    reduction: str = "mean",
    sync: Sync = False,
) -> Tensor:
    r"""Hausdorff distance loss, distance-transform variant (Karimi & Salcudean 2019, eq. 8).

    .. math::
        \ell = \frac{1}{|\Omega|} \sum_{i \in \Omega}
               (p_i - t_i)^2 \left(d_P(i)^{\alpha} + d_G(i)^{\alpha}\right)

    per image and class: :math:`d_G = |\phi_G|` is the unsigned distance to the target's boundary and
    :math:`d_P` that of the predicted mask :math:`p > \tfrac12`, recomputed at each call and treated
    as a constant (a distance transform has no useful gradient), so the gradient is
    :math:`2 (p_i - t_i)(d_P^\alpha + d_G^\alpha) / |\Omega|`: errors far from either boundary cost
    most. On masks with foreground and background both this is MONAI's ``HausdorffDTLoss`` (with
    ``include_background=True``); for an empty target or prediction :math:`d = D` (see
    :mod:`lossref.boundary`) where MONAI uses 0.

    Plain autograd (:math:`d_P` is a constant to it): ``torch.func.grad`` and ``jacrev`` work, but
    ``torch.func.vmap`` raises a ValueError, since scipy needs the whole batch to compute :math:`d_P`.
    For the same reason it is the one loss that ``torch.compile(fullgraph=True)`` cannot capture
    whole: the distance transform of the prediction runs outside the graph at every step (without
    ``fullgraph`` it compiles with a graph break there).

    Args:
        mode: ``'binary'`` | ``'multiclass'`` | ``'multilabel'``, required, as in
            :func:`~lossref.dice_loss`.
        alpha: the exponent :math:`\alpha > 0` of the distances. Default: ``2.0`` (the paper's).
        distance_map: the precomputed :func:`signed_distance_map` of ``target`` (its absolute value
            is used). Default: ``None``.
        Others: as :func:`boundary_loss`.

    Raises:
        ImportError: scipy is not installed (the prediction's map needs it at every call).
        TypeError, ValueError: as :func:`boundary_loss`; also ``alpha <= 0``.

    Examples:
        >>> import torch
        >>> from lossref import hausdorff_dt_loss
        >>> # d_G = 1, 1, 1, 1, 2
        >>> t = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.0]])
        >>> # d_P the same (0.5 is not > 1/2)
        >>> p = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.5]])
        >>> # 0.25 * (4 + 4) / 5
        >>> hausdorff_dt_loss(p, t, "binary", from_logits=False).item()
        0.4000000059604645
    """
    _require_scipy("hausdorff_dt_loss")
    check_common(input, target, mode, weight, reduction, extra=((distance_map, "distance_map"),))
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0 (the exponent of the distances), got {alpha}")
    region = prepare(
        input,
        target,
        mode,
        from_logits,
        ignore_index,
        include_background,
        weight,
        hard_target="hausdorff_dt_loss",
        sync=sync,
    )
    d_target = _target_map(input, target, mode, ignore_index, distance_map, region).abs()
    p = probability(region)
    predicted = (p.detach() > 0.5).reshape(*p.shape[:2], *region.spatial)
    d_pred = _maps_like(predicted, input.dtype, _PREDICTION_HINT).abs().reshape(p.shape)
    loss = pixel_mean((p - region.t) ** 2 * (d_pred**alpha + d_target**alpha), region, per_image)
    return reduce_region(loss, weight, region, reduction, per_image)


class BoundaryLoss(_RegionLoss):
    r"""Boundary loss (Kervadec et al. 2019): the mean over the pixels of
    :math:`\phi_G (p - t) \ge 0`, the prediction's error weighted by the signed distance
    :math:`\phi_G` to the target's boundary, per image and class. The module form of
    :func:`boundary_loss`, where the formula and its relation to the paper's are. Its ``forward``
    takes an optional precomputed ``distance_map`` (:func:`signed_distance_map` of the target);
    without one it computes the map with scipy (``pip install "lossref[distance]"``).

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one loss per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out (background for the map).
            Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        - input: :math:`(N, *)` or :math:`(N, 1, *)` for ``'binary'``, :math:`(N, C, *)` otherwise.
        - target: 0/1 labels (or ``ignore_index``) of the input's shape; class indices
          :math:`(N, *)` for ``'multiclass'``.
        - distance_map (``forward``, optional): the input's shape and dtype.
        - output: scalar; with ``reduction='none'``, :math:`(N, C')` (:math:`(C',)` with
          ``per_image=False``), :math:`C'` the included classes (1 for ``'binary'``).

    Examples:
        >>> import torch
        >>> from lossref import BoundaryLoss, signed_distance_map
        >>> criterion = BoundaryLoss("binary", from_logits=False)
        >>> t = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.0]])  # phi 1, -1, -1, 1, 2
        >>> p = torch.tensor([[0.0, 1.0, 0.0, 0.0, 1.0]])
        >>> round(criterion(p, t).item(), 6)  # (-1 * -1 + 2 * 1) / 5
        0.6
        >>> phi = signed_distance_map(t, "binary")  # once per target
        >>> round(criterion(p, t, phi).item(), 6)
        0.6
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

    def forward(self, input: Tensor, target: Tensor, distance_map: Optional[Tensor] = None) -> Tensor:
        return boundary_loss(input, target, distance_map=distance_map, **self._common())


class HausdorffDTLoss(_RegionLoss):
    r"""Hausdorff distance loss, distance-transform variant (Karimi & Salcudean 2019): the mean over
    the pixels of :math:`(p - t)^2 (d_P^\alpha + d_G^\alpha)`, :math:`d_G` and :math:`d_P` the
    distances to the boundaries of the target and of the predicted mask, per image and class. The
    module form of :func:`hausdorff_dt_loss`. It needs scipy at every call, for :math:`d_P`
    (``pip install "lossref[distance]"``); ``forward`` takes an optional precomputed
    ``distance_map`` of the target.

    Args:
        mode: how ``input`` and ``target`` are read: ``'binary'``, ``'multiclass'`` or
            ``'multilabel'`` (see Shape). Required, as in segmentation_models_pytorch.
        alpha: the exponent :math:`\alpha > 0` of the distances. Default: ``2.0``.
        from_logits: ``input`` holds logits (``True``) or probabilities. Default: ``True``.
        per_image: one loss per image and class (``True``), or one per class over the whole
            batch. Default: ``True``.
        weight: a weight per class, shape :math:`(C,)` (:math:`(1,)` for ``'binary'``), kept as a
            buffer. Default: ``None``.
        include_background: keep channel 0; ``False`` needs ``'multiclass'`` or ``'multilabel'``.
            Default: ``True``.
        ignore_index: the target value of pixels left out (background for the maps).
            Default: ``-100``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        sync: ``True`` or a process group: the batch's statistics (``per_image=False``), and the
            ``'mean'`` and ``'sum'`` over images, of every process's batch (:mod:`lossref.distributed`).
            Default: ``False``.

    Shape:
        As :class:`BoundaryLoss`.

    Examples:
        >>> import torch
        >>> from lossref import HausdorffDTLoss
        >>> criterion = HausdorffDTLoss("binary", from_logits=False)
        >>> t = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.0]])  # d_G 1, 1, 1, 1, 2
        >>> p = torch.tensor([[0.0, 1.0, 1.0, 0.0, 0.5]])  # d_P the same
        >>> round(criterion(p, t).item(), 6)  # 0.25 * (4 + 4) / 5
        0.4
    """

    def __init__(
        self,
        mode: Mode,
        alpha: float = 2.0,
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
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0 (the exponent of the distances), got {alpha}")
        self.alpha = alpha

    def forward(self, input: Tensor, target: Tensor, distance_map: Optional[Tensor] = None) -> Tensor:
        return hausdorff_dt_loss(input, target, alpha=self.alpha, distance_map=distance_map, **self._common())

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, " + super().extra_repr()
