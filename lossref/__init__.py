"""lossref: reference implementations of deep-learning losses.

torch-style signatures (functional and ``nn.Module`` forms), written from torch primitives,
numerically stable, each checked against torch's kernels and a high-precision sympy/mpmath oracle.

Examples:
    >>> import torch, lossref
    >>> logits = torch.tensor([[1.5, -0.3], [-2.0, 0.7]])
    >>> labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> loss = lossref.binary_cross_entropy_with_logits(logits, labels)
    >>> round(loss.item(), 4)
    0.3215
"""

from lossref._validation import set_value_checks
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
from lossref.cross_entropy import CrossEntropyLoss, NLLLoss, cross_entropy, log_softmax, nll_loss
from lossref.divergence import (
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

__version__ = "0.1.0"

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "BCELoss",
    "BCEWithLogitsLoss",
    "nll_loss",
    "cross_entropy",
    "NLLLoss",
    "CrossEntropyLoss",
    "log_softmax",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "FocalLoss",
    "SoftmaxFocalLoss",
    "poly1_cross_entropy",
    "Poly1CrossEntropyLoss",
    "kl_div",
    "KLDivLoss",
    "distillation_loss",
    "DistillationLoss",
    "js_divergence",
    "JSDivergenceLoss",
    "gaussian_nll_loss",
    "GaussianNLLLoss",
    "poisson_nll_loss",
    "PoissonNLLLoss",
    "hinge_embedding_loss",
    "HingeEmbeddingLoss",
    "soft_margin_loss",
    "SoftMarginLoss",
    "multilabel_soft_margin_loss",
    "MultiLabelSoftMarginLoss",
    "multi_margin_loss",
    "MultiMarginLoss",
    "multilabel_margin_loss",
    "MultiLabelMarginLoss",
    "margin_ranking_loss",
    "MarginRankingLoss",
    "cosine_embedding_loss",
    "CosineEmbeddingLoss",
    "triplet_margin_loss",
    "TripletMarginLoss",
    "triplet_margin_with_distance_loss",
    "TripletMarginWithDistanceLoss",
    "arcface_loss",
    "ArcFaceLoss",
    "cosface_loss",
    "CosFaceLoss",
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
    "l1_loss",
    "mse_loss",
    "smooth_l1_loss",
    "huber_loss",
    "log_cosh_loss",
    "quantile_loss",
    "charbonnier_loss",
    "L1Loss",
    "MSELoss",
    "SmoothL1Loss",
    "HuberLoss",
    "LogCoshLoss",
    "QuantileLoss",
    "CharbonnierLoss",
    "dice_loss",
    "jaccard_loss",
    "tversky_loss",
    "focal_tversky_loss",
    "dice_bce_loss",
    "combo_loss",
    "lovasz_hinge",
    "lovasz_softmax",
    "boundary_loss",
    "hausdorff_dt_loss",
    "signed_distance_map",
    "set_value_checks",
    "DiceLoss",
    "JaccardLoss",
    "TverskyLoss",
    "FocalTverskyLoss",
    "DiceBCELoss",
    "ComboLoss",
    "LovaszHingeLoss",
    "LovaszSoftmaxLoss",
    "BoundaryLoss",
    "HausdorffDTLoss",
]
