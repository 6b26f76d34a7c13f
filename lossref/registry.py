"""The registry: the one place for everything about a loss that is not its code.

Each :class:`LossSpec` in :data:`LOSSES` holds one loss's function and module, its argument schema
(the tensors it takes and which are differentiable, integer lengths, learnable parameters its module
owns, whether it couples the samples of a batch), its torch counterpart, its peers in other libraries
(with the callables the benchmark times), its paper, its chapter, its oracle (a sympy definition of
:mod:`lossref.symbolic` or a written-out reference formula) and a generator of valid inputs. The
generic tests, the benchmarks, the book's loss atlas and its API page read it; none of them branches
on a loss's name. Adding a loss means: its function and module, one entry here, a chapter.

Examples:
    >>> from lossref.registry import LOSSES, get
    >>> names = [spec.name for spec in LOSSES]
    >>> len(names), len(set(names))  # 45 losses, no name twice
    (45, 45)
    >>> names[:2]  # binary cross-entropy, on probabilities and on logits
    ['binary_cross_entropy', 'binary_cross_entropy_with_logits']
    >>> spec = get("binary_cross_entropy_with_logits")
    >>> inputs = spec.make_inputs((4, 3), seed=0, weighted=True)
    >>> list(inputs.args), sorted(inputs.options)
    (['input', 'target'], ['pos_weight', 'weight'])
    >>> tuple(spec.call(inputs).shape)  # the loss, reduced to a scalar
    ()
    >>> spec.differentiable, spec.oracle.name
    (('input', 'target', 'weight', 'pos_weight'), 'BCE_WITH_LOGITS')
    >>> spec.chapter
    'chapters/classification/binary_cross_entropy'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lossref import _formulas as formulas
from lossref._inputs import (
    LossInputs,
    angular_inputs,
    bce_inputs,
    bce_logits_inputs,
    class_inputs,
    distance_label_inputs,
    distillation_inputs,
    embedding_pair_inputs,
    focal_inputs,
    gaussian_inputs,
    image_text_inputs,
    kl_inputs,
    label_list_inputs,
    labelled_embedding_inputs,
    logit_pair_inputs,
    multi_margin_inputs,
    multilabel_inputs,
    poisson_inputs,
    ranking_inputs,
    region_class_inputs,
    region_inputs,
    regression_inputs,
    score_label_inputs,
    triplet_inputs,
    view_pair_inputs,
)
from lossref.angular import ArcFaceLoss, CosFaceLoss, arcface_loss, cosface_loss
from lossref.bce import BCELoss, BCEWithLogitsLoss, binary_cross_entropy, binary_cross_entropy_with_logits
from lossref.boundary import (
    BoundaryLoss,
    HausdorffDTLoss,
    boundary_loss,
    hausdorff_dt_loss,
    signed_distance_map,
)
from lossref.contrastive import (
    CLIP_INIT_LOGIT_SCALE,
    SIGLIP_INIT_LOGIT_BIAS,
    SIGLIP_INIT_LOGIT_SCALE,
    ClipLoss,
    InfoNCELoss,
    NTXentLoss,
    SigLipLoss,
    SupervisedContrastiveLoss,
    clip_loss,
    info_nce,
    nt_xent,
    siglip_loss,
    supervised_contrastive,
)
from lossref.cross_entropy import CrossEntropyLoss, NLLLoss, cross_entropy, nll_loss
from lossref.divergence import (
    MEAN_WARNING,
    DistillationLoss,
    JSDivergenceLoss,
    KLDivLoss,
    distillation_loss,
    js_divergence,
    kl_div,
)
from lossref.embedding import (
    CosineEmbeddingLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
    cosine_embedding_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from lossref.focal import FocalLoss, SoftmaxFocalLoss, sigmoid_focal_loss, softmax_focal_loss
from lossref.likelihood import GaussianNLLLoss, PoissonNLLLoss, gaussian_nll_loss, poisson_nll_loss
from lossref.lovasz import LovaszHingeLoss, LovaszSoftmaxLoss, lovasz_hinge, lovasz_softmax
from lossref.margin import (
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    SoftMarginLoss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
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

__all__ = [
    "Arg",
    "Parameter",
    "Peer",
    "Symbolic",
    "Reference",
    "LossInputs",
    "LossSpec",
    "LOSSES",
    "UTILITIES",
    "get",
]

Layout = Literal["elementwise", "class indices", "region", "sample"]


@dataclass(frozen=True)
class Arg:
    """A tensor argument of a loss."""

    name: str
    #: gradients flow to it (gradcheck perturbs it)
    differentiable: bool = False
    #: it holds integers: class indices, or lengths (of sequences, as CTC's)
    integer: bool = False
    #: it holds labels (1 and -1, or 0 and 1), taken in the input's floating dtype or as integers
    #: (torch's own tests pass ``int64`` labels)
    labels: bool = False


@dataclass(frozen=True)
class Parameter:
    """A learnable tensor the module creates and owns (visible to ``parameters()``, trained with the
    model); the function form takes it as an argument after the positional tensors."""

    name: str
    #: how the module initialises it, in words (the atlas shows it)
    init: str
    #: its initial value where it is a constant (the tests check it)
    initial: Optional[float] = None
    #: the module's constructor arguments that give its shape, one per dimension (the class vectors
    #: of ArcFace: ``("num_classes", "embedding_dim")``); ``()``: a scalar or a fixed shape
    sizes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Peer:
    """The same loss elsewhere: a peer library's function or class, or the usual formula."""

    #: ``"torchvision"``, ``"MONAI"``, ``"kornia"``, ... or ``"formula"`` (what posts write)
    library: str
    #: how it is called there (the atlas shows library peers; the tests import MONAI's and kornia's)
    call: str
    #: builds the benchmark's callable, ``(input, target, **options) -> loss`` with ``reduction='mean'``
    #: at lossref's defaults; ``None``: listed in the atlas, not timed
    build: Optional[Callable[[], Callable[..., Tensor]]] = None


@dataclass(frozen=True)
class Symbolic:
    """The oracle is a :class:`~lossref.symbolic.SymbolicLoss`, evaluated exactly with mpmath on an
    adversarial grid (``tests/test_oracle.py``)."""

    #: its name in :mod:`lossref.symbolic`
    name: str
    #: the option values the grid is evaluated at, one call each (numbers, or tuples for per-class
    #: vectors such as a class weight)
    settings: tuple[dict[str, Any], ...] = ({},)
    #: the grid's inputs and targets where the layout's default grid does not fit the loss (the
    #: Poisson NLL's log-rates, whose exponential overflows beyond 88.7 in float32, and counts above 1);
    #: ``None``: the default grid of the loss's domain (tests/test_oracle.py)
    inputs: Optional[tuple[float, ...]] = None
    targets: Optional[tuple[float, ...]] = None


@dataclass(frozen=True)
class Reference:
    """The oracle is a written-out reference: ``function(*args, *parameters)`` computes the loss with
    ``reduction='none'`` the plain way (in float64 in the tests), sharing no trick with lossref."""

    function: Callable[..., Tensor]
    #: what it is and why there is no sympy definition (the atlas shows it)
    why: str


Oracle = Union[Symbolic, Reference]

#: the arguments of most losses: ``(input, target)``, differentiable in the input
INPUT_TARGET: tuple[Arg, ...] = (Arg("input", differentiable=True), Arg("target"))


@dataclass(frozen=True)
class LossSpec:
    """Everything the project knows about one loss, apart from its code."""

    name: str
    function: Callable[..., Tensor]
    module: type[nn.Module]
    #: what the first argument holds (``"log-rates"``: the log of a Poisson rate; ``"distances"``: a
    #: distance between two embeddings, which the hinge embedding loss scores against a label)
    domain: Literal[
        "logits", "probabilities", "log-probabilities", "log-rates", "predictions", "distances", "embeddings"
    ]
    #: ``"elementwise"``: target has the input's shape and the loss is per element;
    #: ``"class indices"``: input is (C,) or (N, C, d...) and target holds one class per sample;
    #: ``"region"``: a segmentation loss scoring whole images (lossref._region's conventions): binary
    #: input (N, *) with a target of its shape, or with ``region_classes`` input (N, C, *) and class
    #: indices (N, *), the ``mode`` of :attr:`keywords`; ``reduction='none'`` gives one loss per image
    #: and class, (N, 1) or (N, C);
    #: ``"sample"``: input (N, D) and one loss per sample, (N,)
    target: Layout
    #: ``(shape, generator, dtype, weighted) -> LossInputs``, generated on the CPU (lossref._inputs)
    generate: Callable[[tuple[int, ...], torch.Generator, torch.dtype, bool], LossInputs]
    oracle: Oracle
    #: the positional tensor arguments, in call order
    args: tuple[Arg, ...] = INPUT_TARGET
    #: optional tensor arguments (keyword), which the module keeps as buffers
    options: tuple[Arg, ...] = ()
    #: learnable parameters the module owns
    parameters: tuple[Parameter, ...] = ()
    #: the loss of a sample depends on the other samples of the batch (contrastive losses, batch
    #: Dice): a sub-batch's losses are then not a slice of the batch's
    couples_batch: bool = False
    #: what ``sync=True`` makes global across processes (lossref.distributed), in words: the loss
    #: then takes ``sync``, and tests/test_distributed.py checks its DDP gradients against one
    #: process's on the whole batch; ``None``: the loss takes no ``sync``
    sync: Optional[str] = None
    #: torch's own implementation with the same signature, or ``None`` where torch has none
    torch_function: Optional[Callable[..., Tensor]] = None
    peers: tuple[Peer, ...] = ()
    #: keys of references.bib
    papers: tuple[str, ...] = ()
    #: docname of the chapter that teaches it
    chapter: Optional[str] = None
    #: the loss is never negative; a negative log-likelihood without its normalising constant can be
    #: (Poisson's below its count's log-factorial, Gaussian's with a variance below 1 / 2 pi)
    nonnegative: bool = True
    #: ``"float32"``: computes in float32 under autocast, as torch's losses do; ``"refuses"``: raises
    autocast: Literal["float32", "refuses"] = "float32"
    #: with an elementwise ``weight``, ``'mean'`` divides by the total weight instead of the number
    #: of elements (torch's weighted ``l1_loss`` and ``mse_loss``)
    mean_by_weight: bool = False
    #: region losses: the input has classes in dimension 1 and the target holds class indices
    region_classes: bool = False
    #: options that depend on the target only, which a user computes once per target (the boundary
    #: loss's distance map); the benchmark computes them outside the timed step
    precompute: Optional[Callable[[LossInputs], dict[str, Tensor]]] = None
    #: why ``torch.func.vmap`` cannot run the loss, which then raises a ``ValueError`` saying so;
    #: ``None``: per-sample gradients by ``vmap(grad(...))`` work
    no_vmap: Optional[str] = None
    #: why ``torch.compile(fullgraph=True)`` cannot capture the loss whole; ``None``: it can
    no_fullgraph: Optional[str] = None
    #: why the loss is NaN where torch's kernel gives a number for a NaN score (its multi-margin
    #: kernels add a term only where it is positive, so a NaN term is dropped); ``None``: NaN where
    #: torch's is (tests/test_bad_input.py)
    nan_where_torch_drops_it: Optional[str] = None
    #: eager speed a loss torch lacks may spend beyond its fastest peer's, and why: ``(ratio, why)``;
    #: ``None``: at most the fastest peer's time (benchmarks/run.py checks it)
    eager_allowance: Optional[tuple[float, str]] = None
    #: the warning ``reduction='mean'`` gives by design, word for word (torch's ``kl_div`` warns that
    #: its ``'mean'`` is not the divergence); the tests and the benchmark expect it, and a warning from
    #: any other loss, or any other warning, fails the tests
    mean_warning: Optional[str] = None

    @property
    def keywords(self) -> dict[str, Any]:
        """Keyword arguments that every call needs besides the tensors. For a region loss this is
        ``mode`` (required, as in segmentation_models_pytorch), the one of the registry's inputs."""
        if self.target != "region":
            return {}
        return {"mode": "multiclass" if self.region_classes else "binary"}

    @property
    def differentiable(self) -> tuple[str, ...]:
        """The arguments and options the loss is differentiable in, and its parameters."""
        return tuple(a.name for a in self.args + self.options if a.differentiable) + tuple(
            p.name for p in self.parameters
        )

    def output_shape(self, input_shape: Sequence[int]) -> tuple[int, ...]:
        """The shape of the loss with ``reduction='none'``."""
        shape = tuple(input_shape)
        if self.target == "class indices":
            return () if len(shape) == 1 else shape[:1] + shape[2:]
        if self.target == "region":
            return (shape[0], shape[1] if self.region_classes else 1)
        if self.target == "sample":
            return shape[:1]
        return shape

    @property
    def symbolic(self) -> "SymbolicLoss":
        """The sympy definition (imports sympy on first use)."""
        if not isinstance(self.oracle, Symbolic):
            raise LookupError(f"{self.name} has no symbolic definition: {self.oracle.why}")
        return getattr(importlib.import_module("lossref.symbolic"), self.oracle.name)

    @property
    def no_symbolic(self) -> Optional[str]:
        """Why there is no sympy definition, or ``None`` where there is one."""
        return self.oracle.why if isinstance(self.oracle, Reference) else None

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

    def call(self, inputs: LossInputs, **kwargs: Any) -> Tensor:
        """The function form on ``inputs``:
        ``function(*args, *parameters, **options, **keywords, **kwargs)``."""
        return self.function(
            *inputs.args.values(),
            *inputs.parameters.values(),
            **inputs.options,
            **{**self.keywords, **kwargs},
        )

    def sizes(self, inputs: LossInputs) -> dict[str, int]:
        """The module's constructor arguments that size its parameters (:attr:`Parameter.sizes`), read
        from ``inputs``' parameter values: ``{}`` for most losses."""
        return {
            size: inputs.parameters[p.name].shape[dim]
            for p in self.parameters
            for dim, size in enumerate(p.sizes)
        }

    def build_module(self, inputs: LossInputs, **kwargs: Any) -> nn.Module:
        """The module form holding ``inputs``' options (and :attr:`keywords`), with its parameters set
        to ``inputs``' values (and sized by them, where a parameter names its ``sizes``)."""
        module = self.module(**self.sizes(inputs), **inputs.options, **{**self.keywords, **kwargs})
        with torch.no_grad():
            for name, value in inputs.parameters.items():
                getattr(module, name).copy_(value)
        return module


# -- the entries ---------------------------------------------------------------------------------

_BCE_CHAPTER = "chapters/classification/binary_cross_entropy"
_CE_CHAPTER = "chapters/classification/cross_entropy"
_FOCAL_CHAPTER = "chapters/classification/focal_loss"
_REGRESSION_CHAPTER = "chapters/regression/regression"
_REGION_CHAPTER = "chapters/segmentation/region_losses"
_LIKELIHOOD_CHAPTER = "chapters/likelihood/divergences"
_MARGIN_CHAPTER = "chapters/margins/score_margins"
_EMBEDDING_CHAPTER = "chapters/margins/embedding_margins"
_CONTRASTIVE_CHAPTER = "chapters/contrastive/contrastive_losses"

#: what ``sync`` makes global (LossSpec.sync)
_CLASS_SYNC = "the weighted mean over every process's counted targets (sum and weight all-reduced)"
_REGION_SYNC = "batch statistics summed over processes (per_image=False); the mean over every image"
_LOVASZ_SYNC = "errors gathered for the batch extension (per_image=False); the mean over every image"

#: class losses: every grid without and with a class weight
_CLASS_WEIGHTS: tuple[dict[str, Any], ...] = ({}, {"weight": (1.0, 2.0, 0.5)})
_WEIGHT = Arg("weight", differentiable=True)
_CLASS_TARGET = Arg("target", integer=True)
_LABELS = Arg("target", labels=True)
_DROPS_NAN = (
    "NaN in gives NaN out: torch's kernel adds a hinge term only where it is positive, which a NaN is not"
)
_TRIPLET = tuple(Arg(name, differentiable=True) for name in ("anchor", "positive", "negative"))
#: the class vectors of the additive-margin softmax losses, which their modules learn
_CLASS_VECTORS = Parameter(
    "weight",
    init="normal, standard deviation 0.01 (the ArcFace authors' code)",
    sizes=("num_classes", "embedding_dim"),
)
_REGRESSION_ARGS = (Arg("input", differentiable=True), Arg("target", differentiable=True))
#: the learned log logit scale of CLIP and SigLIP and SigLIP's bias, as the papers' code starts them
_CLIP_SCALE = Parameter(
    "logit_scale",
    init="ln(1 / 0.07), used clipped at ln 100 (openai/CLIP clip/model.py; the paper's clip)",
    initial=CLIP_INIT_LOGIT_SCALE,
)
_SIGLIP_SCALE = Parameter(
    "logit_scale",
    init="ln 10 (open_clip's --siglip in open_clip_train/main.py; big_vision's SigLIP configs)",
    initial=SIGLIP_INIT_LOGIT_SCALE,
)
_SIGLIP_BIAS = Parameter(
    "logit_bias",
    init="-10 (model_configs/ViT-B-16-SigLIP.json of open_clip; big_vision's SigLIP demo)",
    initial=SIGLIP_INIT_LOGIT_BIAS,
)
_IMAGE_TEXT = (Arg("image_features", differentiable=True), Arg("text_features", differentiable=True))
_WRITTEN_OUT = (
    "a batch of embeddings scored against each other: checked against the paper's equation written "
)

_SORTS = (
    "it sorts the errors (piecewise linear in them): checked against the Lovász extension written out "
    "pixel by pixel, against 1 - IoU on hard predictions and by hand in tests/test_region.py"
)
#: the exact-overlap family keeps TP, FP and FN as separate non-negative sums (no Σp + Σt − 2 TP,
#: which cancels to nothing for small losses): the decision of issue 16 accepts the extra passes
_EXACT_OVERLAP = (1.5, "exact, non-negative confusion statistics (TP, FP, FN summed separately)")
_DISTANCE = (
    "it needs a Euclidean distance transform of the target: checked against the formula with the "
    "same distance maps, by hand and against MONAI in tests/test_region.py"
)


def _region(
    name: str,
    function: Callable[..., Tensor],
    module: type[nn.Module],
    oracle: Oracle,
    *,
    hard: bool = False,
    peers: tuple[Peer, ...] = (),
    papers: tuple[str, ...] = (),
    sync: str = _REGION_SYNC,
    **kwargs: Any,
) -> LossSpec:
    """A binary segmentation loss with lossref._region's conventions: logits, a per-class weight."""
    return LossSpec(
        name=name,
        function=function,
        module=module,
        domain="logits",
        target="region",
        generate=partial(region_inputs, hard=hard),
        oracle=oracle,
        options=(_WEIGHT,),
        peers=peers,
        papers=papers,
        chapter=_REGION_CHAPTER,
        sync=sync,
        **kwargs,
    )


def _regression(
    name: str,
    function: Callable[..., Tensor],
    module: type[nn.Module],
    symbolic: str,
    *,
    weighted: bool = False,
    **kwargs: Any,
) -> LossSpec:
    """An elementwise regression loss: real predictions and targets, both differentiable."""
    return LossSpec(
        name=name,
        function=function,
        module=module,
        domain="predictions",
        target="elementwise",
        generate=partial(regression_inputs, has_weight=weighted),
        oracle=Symbolic(symbolic),
        args=_REGRESSION_ARGS,
        options=(_WEIGHT,) if weighted else (),
        chapter=_REGRESSION_CHAPTER,
        **kwargs,
    )


LOSSES: tuple[LossSpec, ...] = (
    LossSpec(
        name="binary_cross_entropy",
        function=binary_cross_entropy,
        module=BCELoss,
        domain="probabilities",
        target="elementwise",
        generate=bce_inputs,
        oracle=Symbolic("BCE"),
        # targets stay in [0, 1] only away from 0 and 1, so gradcheck leaves them alone
        options=(_WEIGHT,),
        torch_function=F.binary_cross_entropy,
        chapter=_BCE_CHAPTER,
        autocast="refuses",
    ),
    LossSpec(
        name="binary_cross_entropy_with_logits",
        function=binary_cross_entropy_with_logits,
        module=BCEWithLogitsLoss,
        domain="logits",
        target="elementwise",
        generate=bce_logits_inputs,
        oracle=Symbolic("BCE_WITH_LOGITS", settings=({"pos_weight": 1.0}, {"pos_weight": 3.0})),
        args=_REGRESSION_ARGS,
        options=(_WEIGHT, Arg("pos_weight", differentiable=True)),
        torch_function=F.binary_cross_entropy_with_logits,
        chapter=_BCE_CHAPTER,
    ),
    LossSpec(
        name="cross_entropy",
        sync=_CLASS_SYNC,
        function=cross_entropy,
        module=CrossEntropyLoss,
        domain="logits",
        target="class indices",
        generate=partial(class_inputs, log_probs=False),
        oracle=Symbolic("CROSS_ENTROPY", settings=_CLASS_WEIGHTS),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        options=(_WEIGHT,),
        torch_function=F.cross_entropy,
        chapter=_CE_CHAPTER,
    ),
    LossSpec(
        name="nll_loss",
        sync=_CLASS_SYNC,
        function=nll_loss,
        module=NLLLoss,
        domain="log-probabilities",
        target="class indices",
        generate=partial(class_inputs, log_probs=True),
        oracle=Symbolic("NLL", settings=_CLASS_WEIGHTS),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        options=(_WEIGHT,),
        torch_function=F.nll_loss,
        chapter=_CE_CHAPTER,
    ),
    LossSpec(
        name="sigmoid_focal_loss",
        function=sigmoid_focal_loss,
        module=FocalLoss,
        domain="logits",
        target="elementwise",
        # the module takes alpha and gamma as numbers: no tensor options
        generate=focal_inputs,
        oracle=Symbolic(
            "SIGMOID_FOCAL",
            settings=(
                {"alpha": 0.25, "gamma": 2.0},
                {"alpha": 0.5, "gamma": 0.5},
                {"alpha": 1.0, "gamma": 0.0},
                {"alpha": 0.75, "gamma": 1.5},
            ),
        ),
        peers=(
            Peer("torchvision", "torchvision.ops.sigmoid_focal_loss", lambda: formulas.torchvision_focal),
            Peer("MONAI", "monai.losses.FocalLoss", formulas.monai_focal),
            Peer("kornia", "kornia.losses.binary_focal_loss_with_logits", formulas.kornia_focal),
        ),
        papers=("lin2017focal",),
        chapter=_FOCAL_CHAPTER,
    ),
    LossSpec(
        name="softmax_focal_loss",
        sync=_CLASS_SYNC,
        function=softmax_focal_loss,
        module=SoftmaxFocalLoss,
        domain="logits",
        target="class indices",
        generate=partial(class_inputs, log_probs=False, class_weight="alpha"),
        oracle=Symbolic(
            "SOFTMAX_FOCAL",
            settings=(
                {"gamma": 2.0},
                {"alpha": (1.0, 2.0, 0.5), "gamma": 0.5},
                {"alpha": (1.0, 2.0, 0.5), "gamma": 1.5},
            ),
        ),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        options=(Arg("alpha", differentiable=True),),
        peers=(
            Peer("MONAI", "monai.losses.FocalLoss(use_softmax=True)"),
            Peer("kornia", "kornia.losses.focal_loss"),
            Peer("formula", "log_softmax, gather, (1 - p_t) ** gamma", lambda: formulas.softmax_focal),
        ),
        papers=("lin2017focal",),
        chapter=_FOCAL_CHAPTER,
    ),
    LossSpec(
        name="poly1_cross_entropy",
        sync=_CLASS_SYNC,
        function=poly1_cross_entropy,
        module=Poly1CrossEntropyLoss,
        domain="logits",
        target="class indices",
        generate=partial(class_inputs, log_probs=False),
        oracle=Symbolic("POLY1_CROSS_ENTROPY", settings=_CLASS_WEIGHTS),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        options=(_WEIGHT,),
        peers=(
            Peer("formula", "cross_entropy + epsilon (1 - softmax at the target)", lambda: formulas.poly1),
        ),
        papers=("leng2022polyloss",),
        chapter="chapters/custom/writing_your_own_loss",
    ),
    LossSpec(
        name="kl_div",
        function=kl_div,
        module=KLDivLoss,
        domain="log-probabilities",
        target="elementwise",
        generate=kl_inputs,
        oracle=Symbolic("KL_DIV", settings=({"log_target": False}, {"log_target": True})),
        args=_REGRESSION_ARGS,
        torch_function=F.kl_div,
        mean_warning=MEAN_WARNING,
        papers=("kullback1951information",),
        chapter=_LIKELIHOOD_CHAPTER,
    ),
    LossSpec(
        name="distillation_loss",
        function=distillation_loss,
        module=DistillationLoss,
        domain="logits",
        target="sample",
        generate=distillation_inputs,
        oracle=Reference(
            formulas.distillation_per_sample,
            "its input is two vectors of logits, student and teacher, which the oracle grid (one "
            "vector of logits and a class) does not take: checked against the formula written out, "
            "and against the mpmath oracle of DISTILLATION in lossref.symbolic (confident teachers, "
            "T = 1 and T = 20) in tests/test_distillation.py",
        ),
        args=(Arg("student", differentiable=True), Arg("teacher", differentiable=True), _CLASS_TARGET),
        peers=(
            Peer(
                "formula",
                "alpha T^2 kl_div(log_softmax(s / T), softmax(t / T), 'batchmean') + (1 - alpha) CE",
                lambda: formulas.distillation,
            ),
        ),
        papers=("hinton2015distilling",),
        chapter=_LIKELIHOOD_CHAPTER,
    ),
    LossSpec(
        name="js_divergence",
        function=js_divergence,
        module=JSDivergenceLoss,
        domain="logits",
        target="sample",
        generate=logit_pair_inputs,
        oracle=Reference(
            formulas.js_per_sample,
            "its input is two vectors of logits, which the oracle grid (one vector of logits and a "
            "class) does not take: checked against the formula written out, and against the mpmath "
            "oracle of JS_DIVERGENCE in lossref.symbolic (probabilities down to 1e-30) in "
            "tests/test_js_divergence.py",
        ),
        args=(Arg("input", differentiable=True), Arg("other", differentiable=True)),
        peers=(
            Peer(
                "formula",
                "(kl_div(log m, p) + kl_div(log m, r)) / 2, 'batchmean', log m = log((p + r) / 2)",
                lambda: formulas.js_divergence,
            ),
        ),
        papers=("lin1991divergence", "hendrycks2020augmix"),
        chapter=_LIKELIHOOD_CHAPTER,
    ),
    LossSpec(
        name="hinge_embedding_loss",
        function=hinge_embedding_loss,
        module=HingeEmbeddingLoss,
        domain="distances",
        target="elementwise",
        generate=distance_label_inputs,
        oracle=Symbolic(
            "HINGE_EMBEDDING",
            settings=({"margin": 1.0}, {"margin": 0.5}),
            targets=(1.0, -1.0),
        ),
        args=(Arg("input", differentiable=True), _LABELS),
        torch_function=F.hinge_embedding_loss,
        papers=("hadsell2006dimensionality",),
        nonnegative=False,
        chapter=_MARGIN_CHAPTER,
    ),
    LossSpec(
        name="soft_margin_loss",
        function=soft_margin_loss,
        module=SoftMarginLoss,
        domain="logits",
        target="elementwise",
        generate=score_label_inputs,
        oracle=Symbolic("SOFT_MARGIN", targets=(1.0, -1.0)),
        args=(Arg("input", differentiable=True), _LABELS),
        torch_function=F.soft_margin_loss,
        papers=("bartlett2006convexity",),
        chapter=_MARGIN_CHAPTER,
    ),
    LossSpec(
        name="multilabel_soft_margin_loss",
        function=multilabel_soft_margin_loss,
        module=MultiLabelSoftMarginLoss,
        domain="logits",
        target="sample",
        generate=multilabel_inputs,
        oracle=Reference(
            formulas.multilabel_soft_margin_per_sample,
            "its terms are binary_cross_entropy_with_logits's, which the oracle grid checks at extreme "
            "logits (BCE_WITH_LOGITS); the mean over the classes is checked against the formula "
            "written out",
        ),
        args=(Arg("input", differentiable=True), Arg("target", differentiable=True, labels=True)),
        options=(_WEIGHT,),
        torch_function=F.multilabel_soft_margin_loss,
        chapter=_MARGIN_CHAPTER,
    ),
    LossSpec(
        name="multi_margin_loss",
        function=multi_margin_loss,
        module=MultiMarginLoss,
        domain="logits",
        target="sample",
        generate=multi_margin_inputs,
        oracle=Reference(
            formulas.multi_margin_per_sample,
            "piecewise linear in the scores (no rounding to amplify): checked against the sum over the "
            "other classes written out, sample by sample",
        ),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        options=(_WEIGHT,),
        torch_function=F.multi_margin_loss,
        nan_where_torch_drops_it=_DROPS_NAN,
        papers=("weston1999support",),
        chapter=_MARGIN_CHAPTER,
    ),
    LossSpec(
        name="multilabel_margin_loss",
        function=multilabel_margin_loss,
        module=MultiLabelMarginLoss,
        domain="logits",
        target="sample",
        generate=label_list_inputs,
        oracle=Reference(
            formulas.multilabel_margin_per_sample,
            "piecewise linear in the scores, with a target of index lists: checked against the sum over "
            "listed and unlisted classes written out, sample by sample",
        ),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        torch_function=F.multilabel_margin_loss,
        nan_where_torch_drops_it=_DROPS_NAN,
        chapter=_MARGIN_CHAPTER,
    ),
    LossSpec(
        name="margin_ranking_loss",
        function=margin_ranking_loss,
        module=MarginRankingLoss,
        domain="logits",
        target="elementwise",
        generate=ranking_inputs,
        oracle=Reference(
            formulas.margin_ranking,
            "three tensors, which the oracle grid (an input and a target) does not take; piecewise "
            "linear: checked against the formula written out",
        ),
        # the loss is differentiable in the labels too (torch's is), but a label is 1, -1 or 0: a
        # perturbed one is refused, so the tests do not take its gradient
        args=(Arg("input1", differentiable=True), Arg("input2", differentiable=True), _LABELS),
        torch_function=F.margin_ranking_loss,
        papers=("herbrich2000large",),
        chapter=_MARGIN_CHAPTER,
    ),
    LossSpec(
        name="cosine_embedding_loss",
        function=cosine_embedding_loss,
        module=CosineEmbeddingLoss,
        domain="embeddings",
        target="sample",
        generate=embedding_pair_inputs,
        oracle=Reference(
            formulas.cosine_embedding,
            "three tensors and a cosine of vectors, which the oracle grid (scalars) does not take: checked "
            "against torch's formula written out pair by pair",
        ),
        args=(Arg("input1", differentiable=True), Arg("input2", differentiable=True), _LABELS),
        torch_function=F.cosine_embedding_loss,
        papers=("bromley1993signature",),
        chapter=_EMBEDDING_CHAPTER,
    ),
    LossSpec(
        name="triplet_margin_loss",
        function=triplet_margin_loss,
        module=TripletMarginLoss,
        domain="embeddings",
        target="sample",
        generate=triplet_inputs,
        oracle=Reference(
            formulas.triplet_margin,
            "three tensors and distances of vectors: checked against the distances written out",
        ),
        args=_TRIPLET,
        torch_function=F.triplet_margin_loss,
        papers=("schroff2015facenet", "balntas2016learning"),
        chapter=_EMBEDDING_CHAPTER,
    ),
    LossSpec(
        name="triplet_margin_with_distance_loss",
        function=triplet_margin_with_distance_loss,
        module=TripletMarginWithDistanceLoss,
        domain="embeddings",
        target="sample",
        generate=triplet_inputs,
        oracle=Reference(
            formulas.triplet_margin,
            "three tensors and a distance of the caller's: checked, with the default distance, against "
            "the distances written out",
        ),
        args=_TRIPLET,
        torch_function=F.triplet_margin_with_distance_loss,
        papers=("schroff2015facenet", "hermans2017defense"),
        chapter=_EMBEDDING_CHAPTER,
    ),
    LossSpec(
        name="arcface_loss",
        function=arcface_loss,
        module=ArcFaceLoss,
        domain="embeddings",
        target="sample",
        generate=angular_inputs,
        oracle=Reference(
            formulas.arcface,
            "embeddings and learned class vectors: checked against the paper's formula with the angle "
            "(arccos) written out, and in tests/test_angular.py against the mpmath oracle of the "
            "margin on given cosines",
        ),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        parameters=(_CLASS_VECTORS,),
        peers=(
            Peer(
                "formula", "ArcMarginProduct: sqrt(1 - cos^2), one-hot blend", lambda: formulas.arcface_usual
            ),
        ),
        papers=("deng2019arcface",),
        chapter=_EMBEDDING_CHAPTER,
    ),
    LossSpec(
        name="cosface_loss",
        function=cosface_loss,
        module=CosFaceLoss,
        domain="embeddings",
        target="sample",
        generate=angular_inputs,
        oracle=Reference(
            formulas.cosface,
            "embeddings and learned class vectors: checked against the paper's formula written out",
        ),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        parameters=(_CLASS_VECTORS,),
        peers=(Peer("formula", "AddMarginProduct: one-hot blend", lambda: formulas.cosface_usual),),
        papers=("wang2018cosface",),
        chapter=_EMBEDDING_CHAPTER,
    ),
    LossSpec(
        name="info_nce",
        sync="keys gathered from every process as candidates (no negative_keys); the mean over all queries",
        function=info_nce,
        module=InfoNCELoss,
        domain="embeddings",
        target="sample",
        generate=partial(view_pair_inputs, names=("query", "positive_key")),
        oracle=Reference(
            formulas.info_nce,
            _WRITTEN_OUT + "out query by query, and in tests/test_contrastive.py against an mpmath oracle "
            "on given logits",
        ),
        args=(Arg("query", differentiable=True), Arg("positive_key", differentiable=True)),
        couples_batch=True,
        peers=(
            Peer(
                "formula",
                "F.cross_entropy(q k^T / t, arange) (info-nce-pytorch, MoCo v3)",
                lambda: formulas.info_nce_usual,
            ),
        ),
        papers=("oord2018cpc", "he2020moco"),
        chapter=_CONTRASTIVE_CHAPTER,
    ),
    LossSpec(
        name="nt_xent",
        sync="candidates gathered from every process with their gradient; the mean over all anchors",
        function=nt_xent,
        module=NTXentLoss,
        domain="embeddings",
        target="sample",
        generate=partial(view_pair_inputs, names=("input1", "input2")),
        oracle=Reference(
            formulas.nt_xent,
            _WRITTEN_OUT + "out anchor by anchor over the 2N views, and in tests/test_contrastive.py "
            "against an mpmath oracle on given logits",
        ),
        args=(Arg("input1", differentiable=True), Arg("input2", differentiable=True)),
        couples_batch=True,
        peers=(
            Peer(
                "formula",
                "F.cross_entropy of the 2N x 2N similarities, diagonal at -inf (SimCLR in PyTorch)",
                lambda: formulas.nt_xent_usual,
            ),
            Peer(
                "pytorch-metric-learning",
                "pytorch_metric_learning.losses.NTXentLoss, labels by sample",
                formulas.pml_nt_xent,
            ),
        ),
        papers=("chen2020simclr",),
        chapter=_CONTRASTIVE_CHAPTER,
    ),
    LossSpec(
        name="supervised_contrastive",
        sync="candidates gathered from every process with their gradient; the mean over all anchors",
        function=supervised_contrastive,
        module=SupervisedContrastiveLoss,
        domain="embeddings",
        target="sample",
        generate=labelled_embedding_inputs,
        oracle=Reference(
            formulas.supervised_contrastive,
            _WRITTEN_OUT + "out anchor by anchor and positive by positive, and in "
            "tests/test_contrastive.py against an mpmath oracle on given logits",
        ),
        args=(Arg("input", differentiable=True), Arg("target", integer=True)),
        couples_batch=True,
        peers=(
            Peer("pytorch-metric-learning", "pytorch_metric_learning.losses.SupConLoss", formulas.pml_supcon),
        ),
        papers=("khosla2020supcon",),
        chapter=_CONTRASTIVE_CHAPTER,
    ),
    LossSpec(
        name="clip_loss",
        sync="images and texts gathered from every process as candidates; the mean over all pairs",
        function=clip_loss,
        module=ClipLoss,
        domain="embeddings",
        target="sample",
        generate=partial(image_text_inputs, bias=False),
        oracle=Reference(
            formulas.clip,
            _WRITTEN_OUT + "out pair by pair, and in tests/test_contrastive.py against an mpmath oracle "
            "on given logits",
        ),
        args=_IMAGE_TEXT,
        parameters=(_CLIP_SCALE,),
        couples_batch=True,
        peers=(Peer("formula", "open_clip's ClipLoss: two F.cross_entropy", lambda: formulas.clip_usual),),
        papers=("radford2021clip",),
        chapter=_CONTRASTIVE_CHAPTER,
    ),
    LossSpec(
        name="siglip_loss",
        sync="texts gathered from every process, paired with the local images; the sum over all pairs / N",
        function=siglip_loss,
        module=SigLipLoss,
        domain="embeddings",
        target="sample",
        generate=partial(image_text_inputs, bias=True),
        oracle=Reference(
            formulas.siglip,
            _WRITTEN_OUT + "out pair by pair, and in tests/test_contrastive.py against an mpmath oracle "
            "on given logits",
        ),
        args=_IMAGE_TEXT,
        parameters=(_SIGLIP_SCALE, _SIGLIP_BIAS),
        couples_batch=True,
        peers=(
            Peer(
                "formula",
                "open_clip's SigLipLoss: -logsigmoid(labels * logits).sum() / N",
                lambda: formulas.siglip_usual,
            ),
        ),
        papers=("zhai2023siglip",),
        chapter=_CONTRASTIVE_CHAPTER,
    ),
    LossSpec(
        name="gaussian_nll_loss",
        function=gaussian_nll_loss,
        module=GaussianNLLLoss,
        domain="predictions",
        target="elementwise",
        generate=gaussian_inputs,
        oracle=Symbolic(
            "GAUSSIAN_NLL", settings=({"var": 0.5}, {"var": 2.0, "full": True}, {"var": 1e-3}, {"var": 1e4})
        ),
        args=(*_REGRESSION_ARGS, Arg("var", differentiable=True)),
        torch_function=F.gaussian_nll_loss,
        nonnegative=False,
        papers=("nix1994estimating",),
        chapter=_LIKELIHOOD_CHAPTER,
    ),
    LossSpec(
        name="poisson_nll_loss",
        function=poisson_nll_loss,
        module=PoissonNLLLoss,
        domain="log-rates",
        target="elementwise",
        generate=poisson_inputs,
        oracle=Symbolic(
            "POISSON_NLL",
            settings=({"log_input": True}, {"log_input": True, "full": True}),
            inputs=tuple(
                s * v for v in (0.0, 1e-6, 1e-3, 0.5, 1.0, 2.0, 5.0, 20.0, 50.0, 88.0) for s in (1, -1)
            ),
            targets=(0.0, 1.0, 0.5, 2.0, 3.0, 7.0, 100.0, 1e4),
        ),
        args=_REGRESSION_ARGS,
        torch_function=F.poisson_nll_loss,
        nonnegative=False,
        chapter=_LIKELIHOOD_CHAPTER,
    ),
    _regression(
        "l1_loss", l1_loss, L1Loss, "L1", weighted=True, torch_function=F.l1_loss, mean_by_weight=True
    ),
    _regression(
        "mse_loss", mse_loss, MSELoss, "MSE", weighted=True, torch_function=F.mse_loss, mean_by_weight=True
    ),
    _regression(
        "smooth_l1_loss",
        smooth_l1_loss,
        SmoothL1Loss,
        "SMOOTH_L1",
        torch_function=F.smooth_l1_loss,
        papers=("girshick2015fast",),
    ),
    _regression(
        "huber_loss",
        huber_loss,
        HuberLoss,
        "HUBER",
        weighted=True,
        torch_function=F.huber_loss,
        papers=("huber1964robust",),
    ),
    _regression(
        "log_cosh_loss",
        log_cosh_loss,
        LogCoshLoss,
        "LOG_COSH",
        peers=(
            Peer("formula", "r + softplus(-2 r) - log 2", lambda: formulas.log_cosh),
            Peer("formula", "log(cosh(r))", lambda: formulas.naive_log_cosh),
        ),
    ),
    _regression(
        "quantile_loss",
        quantile_loss,
        QuantileLoss,
        "QUANTILE",
        peers=(Peer("formula", "max(q r, (q - 1) r)", lambda: formulas.quantile),),
    ),
    _regression(
        "charbonnier_loss",
        charbonnier_loss,
        CharbonnierLoss,
        "CHARBONNIER",
        peers=(
            Peer("kornia", "kornia.losses.charbonnier_loss"),
            Peer("formula", "sqrt(r ** 2 + eps ** 2)", lambda: formulas.charbonnier),
        ),
    ),
    _region(
        "dice_loss",
        dice_loss,
        DiceLoss,
        Symbolic("DICE"),
        peers=(
            Peer("MONAI", "monai.losses.DiceLoss", formulas.monai("DiceLoss", sigmoid=True)),
            Peer("kornia", "kornia.losses.dice_loss"),
        ),
        papers=("milletari2016vnet",),
        eager_allowance=_EXACT_OVERLAP,
    ),
    _region(
        "jaccard_loss",
        jaccard_loss,
        JaccardLoss,
        Symbolic("JACCARD"),
        peers=(
            Peer(
                "MONAI",
                "monai.losses.DiceLoss(jaccard=True)",
                formulas.monai("DiceLoss", sigmoid=True, jaccard=True, smooth_nr=0, smooth_dr=0),
            ),
        ),
        eager_allowance=_EXACT_OVERLAP,
    ),
    _region(
        "tversky_loss",
        tversky_loss,
        TverskyLoss,
        Symbolic("TVERSKY"),
        peers=(
            Peer(
                "MONAI",
                "monai.losses.TverskyLoss",
                formulas.monai("TverskyLoss", alpha=0.3, beta=0.7, sigmoid=True),
            ),
            Peer("kornia", "kornia.losses.tversky_loss"),
        ),
        papers=("salehi2017tversky",),
    ),
    _region(
        "focal_tversky_loss",
        focal_tversky_loss,
        FocalTverskyLoss,
        Reference(
            formulas.tversky_power,
            "it is tversky ** gamma, and sympy does not prove identities under a symbolic power in "
            "reasonable time: checked against the written-out power, and against TVERSKY's oracle in "
            "tests/test_region.py",
        ),
        peers=(Peer("formula", "MONAI's TverskyLoss per image ** 0.75", formulas.monai_focal_tversky),),
        papers=("abraham2019focaltversky",),
    ),
    _region(
        "dice_bce_loss",
        dice_bce_loss,
        DiceBCELoss,
        Symbolic("DICE_BCE"),
        peers=(
            Peer(
                "MONAI", "monai.losses.DiceCELoss(sigmoid=True)", formulas.monai("DiceCELoss", sigmoid=True)
            ),
        ),
        eager_allowance=_EXACT_OVERLAP,
    ),
    _region(
        "combo_loss",
        combo_loss,
        ComboLoss,
        Symbolic("COMBO"),
        peers=(Peer("formula", "0.25 BCE (torch) + 0.5 Dice (MONAI)", formulas.monai_combo),),
        papers=("taghanaki2019combo",),
        eager_allowance=_EXACT_OVERLAP,
    ),
    _region(
        "lovasz_hinge",
        lovasz_hinge,
        LovaszHingeLoss,
        Reference(formulas.lovasz_hinge, _SORTS),
        hard=True,
        peers=(Peer("kornia", "kornia.losses.lovasz_hinge_loss", formulas.kornia_lovasz_hinge),),
        papers=("berman2018lovasz",),
        sync=_LOVASZ_SYNC,
    ),
    LossSpec(
        name="lovasz_softmax",
        sync=_LOVASZ_SYNC,
        function=lovasz_softmax,
        module=LovaszSoftmaxLoss,
        domain="logits",
        target="region",
        generate=region_class_inputs,
        oracle=Reference(formulas.lovasz_softmax, _SORTS),
        args=(Arg("input", differentiable=True), _CLASS_TARGET),
        options=(_WEIGHT,),
        peers=(Peer("kornia", "kornia.losses.lovasz_softmax_loss", formulas.kornia_lovasz_softmax),),
        papers=("berman2018lovasz",),
        chapter=_REGION_CHAPTER,
        region_classes=True,
    ),
    _region(
        "boundary_loss",
        boundary_loss,
        BoundaryLoss,
        Reference(formulas.boundary_per_image, _DISTANCE),
        hard=True,
        peers=(Peer("formula", "mean of phi (sigmoid(x) - t)", lambda: formulas.boundary_mean),),
        papers=("kervadec2019boundary",),
        precompute=lambda inputs: {"distance_map": signed_distance_map(inputs.target, "binary")},
    ),
    _region(
        "hausdorff_dt_loss",
        hausdorff_dt_loss,
        HausdorffDTLoss,
        Reference(formulas.hausdorff_per_image, _DISTANCE),
        hard=True,
        # MONAI scores empty masks differently: listed, not timed against
        peers=(
            Peer("MONAI", "monai.losses.HausdorffDTLoss"),
            Peer("formula", "mean of (p - t) ** 2 (d_p ** 2 + d_t ** 2)", lambda: formulas.hausdorff_mean),
        ),
        papers=("karimi2020hausdorff",),
        no_vmap="scipy's distance transform of the prediction reads the whole batch at once",
        no_fullgraph="scipy's distance transform of the prediction runs outside the graph, every step",
    ),
)

#: the public names of lossref that are not losses (the tests check that every other public name
#: is a registered loss's function or module, and the reverse)
UTILITIES: tuple[str, ...] = ("log_softmax", "signed_distance_map", "set_value_checks")


def get(name: str) -> LossSpec:
    """The spec of the loss called ``name``."""
    for spec in LOSSES:
        if spec.name == name:
            return spec
    raise KeyError(f"no loss named {name!r}; known: {[s.name for s in LOSSES]}")
