"""The one list of losses that tests, benchmarks and the book iterate over.

Adding a loss to lossref means adding one :class:`LossSpec` to :data:`LOSSES`: its function, its
module, its torch counterpart (if any), its sympy definition and a generator of valid inputs.

Examples:
    >>> from lossref.registry import LOSSES, get
    >>> [spec.name for spec in LOSSES]  # doctest: +NORMALIZE_WHITESPACE
    ['binary_cross_entropy', 'binary_cross_entropy_with_logits', 'cross_entropy', 'nll_loss',
     'sigmoid_focal_loss', 'softmax_focal_loss', 'poly1_cross_entropy', 'l1_loss', 'mse_loss',
     'smooth_l1_loss', 'huber_loss', 'log_cosh_loss', 'quantile_loss', 'charbonnier_loss', 'dice_loss',
     'jaccard_loss', 'tversky_loss', 'focal_tversky_loss', 'dice_bce_loss', 'combo_loss', 'lovasz_hinge',
     'lovasz_softmax', 'boundary_loss', 'hausdorff_dt_loss']
    >>> spec = get("binary_cross_entropy_with_logits")
    >>> inputs = spec.make_inputs((4, 3), seed=0, weighted=True)
    >>> sorted(inputs.options), tuple(spec.function(inputs.input, inputs.target, **inputs.options).shape)
    (['pos_weight', 'weight'], ())
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Callable, Literal, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossref.bce import BCELoss, BCEWithLogitsLoss, binary_cross_entropy, binary_cross_entropy_with_logits
from lossref.cross_entropy import CrossEntropyLoss, NLLLoss, cross_entropy, nll_loss
from lossref.boundary import BoundaryLoss, HausdorffDTLoss, boundary_loss, hausdorff_dt_loss
from lossref.focal import FocalLoss, SoftmaxFocalLoss, sigmoid_focal_loss, softmax_focal_loss
from lossref.lovasz import LovaszHingeLoss, LovaszSoftmaxLoss, lovasz_hinge, lovasz_softmax
from lossref.overlap import (
    ComboLoss,
    DiceBCELoss,
    DiceLoss,
    FocalTverskyLoss,
    JaccardLoss,
    TverskyLoss,
    combo_loss,
    dice_bce_loss,
    dice_loss,
    focal_tversky_loss,
    jaccard_loss,
    tversky_loss,
)
from lossref.poly import Poly1CrossEntropyLoss, poly1_cross_entropy
from lossref.regression import (
    CharbonnierLoss,
    HuberLoss,
    L1Loss,
    LogCoshLoss,
    MSELoss,
    QuantileLoss,
    SmoothL1Loss,
    charbonnier_loss,
    huber_loss,
    l1_loss,
    log_cosh_loss,
    mse_loss,
    quantile_loss,
    smooth_l1_loss,
)

if TYPE_CHECKING:  # sympy is an optional extra
    from lossref.symbolic import SymbolicLoss

__all__ = ["LossInputs", "LossSpec", "LOSSES", "get"]


@dataclass(frozen=True)
class LossInputs:
    """One valid call: ``function(input, target, **options)`` == ``module(**options)(input, target)``."""

    input: Tensor
    target: Tensor
    options: dict[str, Tensor] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> "LossInputs":
        return LossInputs(
            self.input.to(device), self.target.to(device), {k: v.to(device) for k, v in self.options.items()}
        )


@dataclass(frozen=True)
class LossSpec:
    """Everything the project knows about one loss."""

    name: str
    function: Callable[..., Tensor]
    module: type[nn.Module]
    #: torch's own implementation with the same signature, or ``None`` where torch has none
    torch_function: Optional[Callable[..., Tensor]]
    #: what ``input`` holds
    domain: Literal["logits", "probabilities", "log-probabilities", "predictions"]
    #: ``"elementwise"``: target has the input's shape and the loss is per element;
    #: ``"class indices"``: input is (C,) or (N, C, d...) and target holds one class per sample;
    #: ``"region"``: a segmentation loss scoring whole images (lossref._region's conventions): binary
    #: input (N, *) with a target of its shape, or with ``region_classes`` input (N, C, *) and class
    #: indices (N, *); ``reduction='none'`` gives one loss per image and class, (N, 1) or (N, C)
    target: Literal["elementwise", "class indices", "region"]
    #: ``(shape, generator, dtype, weighted) -> LossInputs``, generated on the CPU
    generate: Callable[[tuple[int, ...], torch.Generator, torch.dtype, bool], LossInputs]
    #: name of the :class:`~lossref.symbolic.SymbolicLoss` in :mod:`lossref.symbolic`, or ``None``
    #: where the oracle machinery does not fit (``no_symbolic`` then says why)
    symbolic_name: Optional[str]
    #: the arguments the loss is differentiable in (gradcheck perturbs these)
    differentiable: tuple[str, ...] = ("input",)
    #: with an elementwise ``weight``, ``'mean'`` divides by the total weight instead of the number
    #: of elements (torch's weighted ``l1_loss`` and ``mse_loss``)
    mean_by_weight: bool = False
    #: region losses: the input has classes in dimension 1 and the target holds class indices
    region_classes: bool = False
    #: why there is no symbolic definition (required when ``symbolic_name`` is ``None``)
    no_symbolic: Optional[str] = None

    def __post_init__(self) -> None:
        if (self.symbolic_name is None) == (self.no_symbolic is None):
            raise ValueError(f"{self.name}: give exactly one of symbolic_name and no_symbolic (the reason)")

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        """The shape of the loss with ``reduction='none'``."""
        shape = tuple(input_shape)
        if self.target == "class indices":
            return () if len(shape) == 1 else shape[:1] + shape[2:]
        if self.target == "region":
            return (shape[0], shape[1] if self.region_classes else 1)
        return shape

    @property
    def symbolic(self) -> "SymbolicLoss":
        """The sympy definition (imports sympy on first use)."""
        if self.symbolic_name is None:
            raise LookupError(f"{self.name} has no symbolic definition: {self.no_symbolic}")
        return getattr(importlib.import_module("lossref.symbolic"), self.symbolic_name)

    def make_inputs(
        self,
        shape: Sequence[int],
        *,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
        weighted: bool = False,
    ) -> LossInputs:
        """Seeded valid inputs, made on the CPU and then moved, so every device sees the same numbers."""
        generator = torch.Generator().manual_seed(seed)
        return self.generate(tuple(shape), generator, dtype, weighted).to(device)


def _soft_and_hard_targets(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype) -> Tensor:
    """Half hard 0/1 labels, half soft labels in (0, 1)."""
    soft = torch.rand(shape, generator=g, dtype=dtype)
    hard = torch.rand(shape, generator=g, dtype=dtype) < 0.5
    return torch.where(torch.rand(shape, generator=g) < 0.5, hard.to(dtype), soft)


def _last_dim_weight(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype) -> Tensor:
    """A positive weight of shape (shape[-1],), which broadcasts along the last dimension."""
    return 0.5 + 2 * torch.rand(shape[-1:], generator=g, dtype=dtype)


def _bce_inputs(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool) -> LossInputs:
    probs = torch.sigmoid(3 * torch.randn(shape, generator=g, dtype=dtype))
    options = {"weight": _last_dim_weight(shape, g, dtype)} if weighted else {}
    return LossInputs(probs, _soft_and_hard_targets(shape, g, dtype), options)


def _bce_logits_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    logits = 3 * torch.randn(shape, generator=g, dtype=dtype)
    options = {}
    if weighted:
        options = {
            "weight": _last_dim_weight(shape, g, dtype),
            "pos_weight": _last_dim_weight(shape, g, dtype),
        }
    return LossInputs(logits, _soft_and_hard_targets(shape, g, dtype), options)


def _focal_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Logits and labels; no tensor options (the module takes alpha and gamma as numbers)."""
    logits = 3 * torch.randn(shape, generator=g, dtype=dtype)
    return LossInputs(logits, _soft_and_hard_targets(shape, g, dtype))


def _class_inputs(
    shape: tuple[int, ...],
    g: torch.Generator,
    dtype: torch.dtype,
    weighted: bool,
    log_probs: bool,
    class_weight: str = "weight",
) -> LossInputs:
    """Logits (or log-probabilities) of shape (C,) or (N, C, d...); class indices, about 1 in 8 ignored.

    ``weighted`` adds a positive per-class weight under the name ``class_weight``."""
    c = shape[0] if len(shape) == 1 else shape[1]
    scores = 3 * torch.randn(shape, generator=g, dtype=dtype)
    if log_probs:
        scores = torch.log_softmax(scores, 0 if len(shape) == 1 else 1)
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = torch.randint(0, c, target_shape, generator=g)
    target = torch.where(torch.rand(target_shape, generator=g) < 0.125, -100, target)
    options = {class_weight: 0.5 + 2 * torch.rand(c, generator=g, dtype=dtype)} if weighted else {}
    return LossInputs(scores, target, options)


def _regression_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool, has_weight: bool
) -> LossInputs:
    """Predictions and real targets whose residuals span 1e-3 to 1e2 in magnitude, both signs.

    Every 16th element (flat index 15, 31, ...) is an exact tie, residual 0, where L1 and the
    quantile loss have a kink: often enough for the comparisons with torch, and absent from the
    12-element inputs of the gradient checks (a second derivative does not exist at a kink).
    """
    target = 2 * torch.randn(shape, generator=g, dtype=dtype)
    magnitude = 10 ** (5 * torch.rand(shape, generator=g, dtype=dtype) - 3)
    sign = torch.where(torch.rand(shape, generator=g) < 0.5, -1.0, 1.0).to(dtype)
    tie = (torch.arange(target.numel()) % 16 == 15).reshape(shape)
    input = torch.where(tie, target, target + sign * magnitude)
    # a weight of the input's full shape: torch 2.13's weighted l1/mse/huber accept no other
    # (lossref also broadcasts one; tests/test_regression.py compares that with torch)
    options = {}
    if weighted and has_weight:
        options["weight"] = 0.5 + 2 * torch.rand(shape, generator=g, dtype=dtype)
    return LossInputs(input, target, options)


def _region_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool, hard: bool
) -> LossInputs:
    """Binary segmentation: logits (N, *) and a target of that shape - 0/1 labels (about 40%
    foreground; with ``hard``, every image of two or more pixels has both foreground and background,
    where distance maps are defined by distances) or with ``hard=False`` half of them soft;
    ``weighted``: a class weight of shape (1,). No ``ignore_index`` pixels, so that the benchmark's
    peers (MONAI, kornia) compute the same numbers; tests/test_region*.py test ``ignore_index``."""
    logits = 3 * torch.randn(shape, generator=g, dtype=dtype)
    target = (torch.rand(shape, generator=g) < 0.4).to(dtype)
    if hard and len(shape) > 1 and math.prod(shape[1:]) > 1:
        flat = target.view(shape[0], math.prod(shape[1:]))
        flat[:, 0], flat[:, -1] = 1.0, 0.0
    if not hard:
        target = torch.where(torch.rand(shape, generator=g) < 0.5, torch.rand(shape, generator=g, dtype=dtype), target)
    options = {"weight": 0.5 + 2 * torch.rand(1, generator=g, dtype=dtype)} if weighted else {}
    return LossInputs(logits, target, options)


def _region_class_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Multi-class segmentation: logits (N, C, *), class indices (N, *), none ignored (as above);
    ``weighted``: a positive class weight (C,). A 1-d shape (C,) - no batch, which region losses
    reject - still gives tensors, for the checks of argument types."""
    c = shape[0] if len(shape) == 1 else shape[1]
    logits = 3 * torch.randn(shape, generator=g, dtype=dtype)
    target = torch.randint(0, c, () if len(shape) == 1 else shape[:1] + shape[2:], generator=g)
    options = {"weight": 0.5 + 2 * torch.rand(c, generator=g, dtype=dtype)} if weighted else {}
    return LossInputs(logits, target, options)


_NO_SYMBOLIC_SORT = "sorts the errors: piecewise linear, checked against 1 - IoU and by hand in tests/test_region.py"
_NO_SYMBOLIC_EDT = (
    "needs a Euclidean distance transform of the target: checked by hand and against MONAI in tests/test_region.py"
)


LOSSES: tuple[LossSpec, ...] = (
    LossSpec(
        name="binary_cross_entropy",
        function=binary_cross_entropy,
        module=BCELoss,
        torch_function=F.binary_cross_entropy,
        domain="probabilities",
        target="elementwise",
        generate=_bce_inputs,
        symbolic_name="BCE",
        differentiable=("input", "weight"),  # targets stay in [0, 1] only away from 0 and 1
    ),
    LossSpec(
        name="binary_cross_entropy_with_logits",
        function=binary_cross_entropy_with_logits,
        module=BCEWithLogitsLoss,
        torch_function=F.binary_cross_entropy_with_logits,
        domain="logits",
        target="elementwise",
        generate=_bce_logits_inputs,
        symbolic_name="BCE_WITH_LOGITS",
        differentiable=("input", "target", "weight", "pos_weight"),
    ),
    LossSpec(
        name="cross_entropy",
        function=cross_entropy,
        module=CrossEntropyLoss,
        torch_function=F.cross_entropy,
        domain="logits",
        target="class indices",
        generate=partial(_class_inputs, log_probs=False),
        symbolic_name="CROSS_ENTROPY",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="nll_loss",
        function=nll_loss,
        module=NLLLoss,
        torch_function=F.nll_loss,
        domain="log-probabilities",
        target="class indices",
        generate=partial(_class_inputs, log_probs=True),
        symbolic_name="NLL",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="sigmoid_focal_loss",
        function=sigmoid_focal_loss,
        module=FocalLoss,
        torch_function=None,  # torchvision.ops has one; tests compare with its documented formula
        domain="logits",
        target="elementwise",
        generate=_focal_inputs,
        symbolic_name="SIGMOID_FOCAL",
    ),
    LossSpec(
        name="softmax_focal_loss",
        function=softmax_focal_loss,
        module=SoftmaxFocalLoss,
        torch_function=None,  # gamma = 0, alpha = None: torch's cross_entropy (tests/test_focal.py)
        domain="logits",
        target="class indices",
        generate=partial(_class_inputs, log_probs=False, class_weight="alpha"),
        symbolic_name="SOFTMAX_FOCAL",
        differentiable=("input", "alpha"),
    ),
    LossSpec(
        name="poly1_cross_entropy",
        function=poly1_cross_entropy,
        module=Poly1CrossEntropyLoss,
        torch_function=None,  # epsilon = 0: torch's cross_entropy (tests/test_poly.py)
        domain="logits",
        target="class indices",
        generate=partial(_class_inputs, log_probs=False),
        symbolic_name="POLY1_CROSS_ENTROPY",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="l1_loss",
        function=l1_loss,
        module=L1Loss,
        torch_function=F.l1_loss,
        domain="predictions",
        target="elementwise",
        generate=partial(_regression_inputs, has_weight=True),
        symbolic_name="L1",
        differentiable=("input", "target", "weight"),
        mean_by_weight=True,
    ),
    LossSpec(
        name="mse_loss",
        function=mse_loss,
        module=MSELoss,
        torch_function=F.mse_loss,
        domain="predictions",
        target="elementwise",
        generate=partial(_regression_inputs, has_weight=True),
        symbolic_name="MSE",
        differentiable=("input", "target", "weight"),
        mean_by_weight=True,
    ),
    LossSpec(
        name="smooth_l1_loss",
        function=smooth_l1_loss,
        module=SmoothL1Loss,
        torch_function=F.smooth_l1_loss,
        domain="predictions",
        target="elementwise",
        generate=partial(_regression_inputs, has_weight=False),
        symbolic_name="SMOOTH_L1",
        differentiable=("input", "target"),
    ),
    LossSpec(
        name="huber_loss",
        function=huber_loss,
        module=HuberLoss,
        torch_function=F.huber_loss,
        domain="predictions",
        target="elementwise",
        generate=partial(_regression_inputs, has_weight=True),
        symbolic_name="HUBER",
        differentiable=("input", "target", "weight"),
    ),
    LossSpec(
        name="log_cosh_loss",
        function=log_cosh_loss,
        module=LogCoshLoss,
        torch_function=None,
        domain="predictions",
        target="elementwise",
        generate=partial(_regression_inputs, has_weight=False),
        symbolic_name="LOG_COSH",
        differentiable=("input", "target"),
    ),
    LossSpec(
        name="quantile_loss",
        function=quantile_loss,
        module=QuantileLoss,
        torch_function=None,
        domain="predictions",
        target="elementwise",
        generate=partial(_regression_inputs, has_weight=False),
        symbolic_name="QUANTILE",
        differentiable=("input", "target"),
    ),
    LossSpec(
        name="charbonnier_loss",
        function=charbonnier_loss,
        module=CharbonnierLoss,
        torch_function=None,
        domain="predictions",
        target="elementwise",
        generate=partial(_regression_inputs, has_weight=False),
        symbolic_name="CHARBONNIER",
        differentiable=("input", "target"),
    ),
    LossSpec(
        name="dice_loss",
        function=dice_loss,
        module=DiceLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=False),
        symbolic_name="DICE",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="jaccard_loss",
        function=jaccard_loss,
        module=JaccardLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=False),
        symbolic_name="JACCARD",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="tversky_loss",
        function=tversky_loss,
        module=TverskyLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=False),
        symbolic_name="TVERSKY",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="focal_tversky_loss",
        function=focal_tversky_loss,
        module=FocalTverskyLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=False),
        symbolic_name=None,
        no_symbolic="tversky ** gamma: sympy does not prove identities under a symbolic power in reasonable "
        "time; tests/test_region.py checks it against TVERSKY's oracle raised to gamma",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="dice_bce_loss",
        function=dice_bce_loss,
        module=DiceBCELoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=False),
        symbolic_name="DICE_BCE",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="combo_loss",
        function=combo_loss,
        module=ComboLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=False),
        symbolic_name="COMBO",
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="lovasz_hinge",
        function=lovasz_hinge,
        module=LovaszHingeLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=True),
        symbolic_name=None,
        no_symbolic=_NO_SYMBOLIC_SORT,
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="lovasz_softmax",
        function=lovasz_softmax,
        module=LovaszSoftmaxLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=_region_class_inputs,
        symbolic_name=None,
        no_symbolic=_NO_SYMBOLIC_SORT,
        differentiable=("input", "weight"),
        region_classes=True,
    ),
    LossSpec(
        name="boundary_loss",
        function=boundary_loss,
        module=BoundaryLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=True),
        symbolic_name=None,
        no_symbolic=_NO_SYMBOLIC_EDT,
        differentiable=("input", "weight"),
    ),
    LossSpec(
        name="hausdorff_dt_loss",
        function=hausdorff_dt_loss,
        module=HausdorffDTLoss,
        torch_function=None,
        domain="logits",
        target="region",
        generate=partial(_region_inputs, hard=True),
        symbolic_name=None,
        no_symbolic=_NO_SYMBOLIC_EDT,
        differentiable=("input", "weight"),
    ),
)


def get(name: str) -> LossSpec:
    """The spec of the loss called ``name``."""
    for spec in LOSSES:
        if spec.name == name:
            return spec
    raise KeyError(f"no loss named {name!r}; known: {[s.name for s in LOSSES]}")
