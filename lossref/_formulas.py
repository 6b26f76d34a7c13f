"""Plain formulas of lossref's losses, as blog posts and other libraries write them.

The registry (:mod:`lossref.registry`) names them in two roles:

- **peers** of the benchmark (``benchmarks/run.py``): the usual formula of a loss that torch does
  not have, or a peer library's class set up with lossref's defaults, all with ``reduction='mean'``;
- **reference oracles** of the tests, for losses whose oracle is not a sympy expression: a
  written-out computation of the loss with ``reduction='none'``, run in float64, that shares no
  numerical trick with lossref's implementation.

Nothing here is exported: these are the yardsticks, not the losses. Peer libraries (MONAI, kornia)
are imported only when a peer is built, so lossref itself needs only torch.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

Loss = Callable[..., Tensor]


# -- usual formulas (benchmark peers) -----------------------------------------------------------


def torchvision_focal(x: Tensor, y: Tensor, alpha: float = 0.25, gamma: float = 2.0) -> Tensor:
    """torchvision.ops.sigmoid_focal_loss's documented formula (there is no CPU torchvision wheel)."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    return ((alpha * y + (1 - alpha) * (1 - y)) * ce * (1 - p_t) ** gamma).mean()


def softmax_focal(x: Tensor, y: Tensor, gamma: float = 2.0, ignore_index: int = -100) -> Tensor:
    """The multi-class focal loss as usually written: log_softmax, gather, (1 - p_t)^gamma."""
    keep = y != ignore_index
    log_pt = F.log_softmax(x, 1).gather(1, torch.where(keep, y, 0).unsqueeze(1)).squeeze(1)
    return (-((1 - log_pt.exp()) ** gamma) * log_pt * keep).sum() / keep.sum()


def poly1(x: Tensor, y: Tensor, epsilon: float = 1.0, ignore_index: int = -100) -> Tensor:
    """Poly-1 as usually written: cross-entropy plus epsilon (1 - softmax gathered at the target)."""
    keep = y != ignore_index
    p_t = F.softmax(x, 1).gather(1, torch.where(keep, y, 0).unsqueeze(1)).squeeze(1)
    ce = F.cross_entropy(x, y, ignore_index=ignore_index, reduction="none")
    return ((ce + epsilon * (1 - p_t)) * keep).sum() / keep.sum()


def distillation(
    student: Tensor, teacher: Tensor, target: Tensor, temperature: float = 4.0, alpha: float = 0.9
) -> Tensor:
    """Hinton et al.'s distillation loss as usually written (done right: 'batchmean', T ** 2, the
    teacher's softmax as the target): kl_div of the softened log-softmaxes plus cross-entropy."""
    soft = F.kl_div(
        F.log_softmax(student / temperature, 1), F.softmax(teacher / temperature, 1), reduction="batchmean"
    )
    return alpha * temperature**2 * soft + (1 - alpha) * F.cross_entropy(student, target)


def js_divergence(x: Tensor, z: Tensor) -> Tensor:
    """The Jensen-Shannon divergence as AugMix writes it (two distributions, without its clamp of the
    mixture at 1e-7): kl_div of log((p + r) / 2) against p and against r, 'batchmean', halved."""
    p, r = F.softmax(x, 1), F.softmax(z, 1)
    log_m = ((p + r) / 2).log()
    return (F.kl_div(log_m, p, reduction="batchmean") + F.kl_div(log_m, r, reduction="batchmean")) / 2


def log_cosh(x: Tensor, y: Tensor) -> Tensor:
    """log cosh r as r + softplus(-2 r) - log 2: stable, but two passes more than lossref."""
    r = x - y
    return (r + F.softplus(-2 * r) - math.log(2)).mean()


def naive_log_cosh(x: Tensor, y: Tensor) -> Tensor:
    """What blog posts write; overflows to inf beyond |r| ~ 89 in float32."""
    return torch.log(torch.cosh(x - y)).mean()


def quantile(x: Tensor, y: Tensor, q: float = 0.5) -> Tensor:
    """The pinball loss as max(q r, (q - 1) r), r = y - x."""
    return torch.maximum(q * (y - x), (q - 1) * (y - x)).mean()


def charbonnier(x: Tensor, y: Tensor, eps: float = 1e-3) -> Tensor:
    """sqrt(r^2 + eps^2)."""
    return torch.sqrt((x - y) ** 2 + eps**2).mean()


def channel(loss: Loss) -> Loss:
    """A MONAI loss, which wants (N, C, *), called on lossref's binary (N, *) layout."""
    return lambda x, y: loss(x[:, None], y[:, None])


def monai(name: str, **options: object) -> Callable[[], Loss]:
    """A builder of MONAI's ``monai.losses.<name>(**options)`` on the binary layout."""

    def build() -> Loss:
        import monai.losses

        return channel(getattr(monai.losses, name)(**options))

    return build


def monai_focal_tversky() -> Loss:
    """MONAI's Tversky loss per image raised to lossref's default gamma, 0.75, then averaged."""
    from monai.losses import TverskyLoss

    tversky = TverskyLoss(alpha=0.3, beta=0.7, sigmoid=True, reduction="none")
    return channel(lambda x, y: (tversky(x, y) ** 0.75).mean())


def monai_combo() -> Loss:
    """Combo loss at lossref's defaults: 0.25 BCE (torch) + 0.5 Dice (MONAI)."""
    from monai.losses import DiceLoss

    dice = DiceLoss(sigmoid=True)
    return channel(lambda x, y: 0.25 * F.binary_cross_entropy_with_logits(x, y) + 0.5 * dice(x, y))


def monai_focal() -> Loss:
    from monai.losses import FocalLoss

    return FocalLoss(gamma=2.0, alpha=0.25, reduction="mean")


def kornia_focal() -> Loss:
    from kornia.losses import binary_focal_loss_with_logits

    return lambda x, y: binary_focal_loss_with_logits(x, y, alpha=0.25, reduction="mean")


def kornia_lovasz_hinge() -> Loss:
    """kornia takes (B, C, H, W): every image's pixels as one row."""
    from kornia.losses import lovasz_hinge_loss

    return lambda x, y: lovasz_hinge_loss(x.reshape(len(x), 1, 1, -1), y.reshape(len(y), 1, -1).long())


def kornia_lovasz_softmax() -> Loss:
    from kornia.losses import lovasz_softmax_loss

    return lambda x, y: lovasz_softmax_loss(x.reshape(*x.shape[:2], 1, -1), y.reshape(len(y), 1, -1))


def boundary_mean(x: Tensor, y: Tensor, distance_map: Tensor | None = None) -> Tensor:
    """The boundary loss's formula, mean of phi (p - t) over every pixel."""
    return boundary(x, y, distance_map).mean()


def hausdorff_mean(x: Tensor, y: Tensor) -> Tensor:
    """The Hausdorff distance-transform loss's formula, averaged over every pixel."""
    return hausdorff(x, y).mean()


# -- reference oracles: reduction='none', one loss per image (binary layout, (N, 1)) ---------------


def _per_image(v: Tensor) -> Tensor:
    return v.reshape(len(v), -1)


def tversky_power(x: Tensor, y: Tensor, alpha: float = 0.3, beta: float = 0.7, gamma: float = 0.75) -> Tensor:
    """Focal Tversky as written: (1 - (TP + s) / (TP + alpha FP + beta FN + s)) ** gamma per image."""
    p, t = _per_image(torch.sigmoid(x)), _per_image(y)
    tp, fp, fn = (p * t).sum(1), (p * (1 - t)).sum(1), ((1 - p) * t).sum(1)
    smooth = 1e-5
    return ((1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)) ** gamma)[:, None]


def _lovasz_extension(errors: Tensor, gt: Tensor) -> Tensor:
    """The errors of one row sorted in decreasing order, each times the increment of the Jaccard loss
    1 - |G & P| / |G | P| when its pixel joins the predicted set P, one pixel at a time."""
    order = torch.argsort(errors, descending=True)
    e, g, total = errors[order], gt[order], gt.sum()
    loss = previous = e.new_zeros(())
    for k in range(len(e)):
        jaccard = 1 - (total - g[: k + 1].sum()) / (total + (1 - g[: k + 1]).sum())
        loss = loss + e[k] * (jaccard - previous)
        previous = jaccard
    return loss


def lovasz_hinge(x: Tensor, y: Tensor) -> Tensor:
    """Hinge errors max(0, 1 - x (2 t - 1)) of each image through the Lovász extension, (N, 1)."""
    rows = zip(_per_image(x), _per_image(y), strict=True)
    return torch.stack([_lovasz_extension(torch.relu(1 - xi * (2 * yi - 1)), yi) for xi, yi in rows])[:, None]


def lovasz_softmax(x: Tensor, y: Tensor) -> Tensor:
    """Errors |onehot - softmax| of each image and class through the Lovász extension, (N, C)."""
    p = torch.softmax(x, 1).reshape(*x.shape[:2], -1)
    onehot = F.one_hot(y.reshape(len(y), -1), x.shape[1]).movedim(-1, 1).to(x.dtype)
    rows = [
        [_lovasz_extension((onehot[n, c] - p[n, c]).abs(), onehot[n, c]) for c in range(x.shape[1])]
        for n in range(len(x))
    ]
    return torch.stack([torch.stack(row) for row in rows])


def boundary(x: Tensor, y: Tensor, distance_map: Tensor | None = None) -> Tensor:
    """phi (sigmoid(x) - t), phi the target's signed distance map: the loss per pixel."""
    from lossref.boundary import signed_distance_map

    phi = signed_distance_map(y, "binary") if distance_map is None else distance_map
    return phi * (torch.sigmoid(x) - y)


def hausdorff(x: Tensor, y: Tensor, alpha: float = 2.0) -> Tensor:
    """(p - t)^2 (d_p^alpha + d_t^alpha), d the unsigned distance maps of the thresholded prediction
    and of the target: the loss per pixel."""
    from lossref.boundary import signed_distance_map

    p = torch.sigmoid(x)
    d_pred = signed_distance_map((p.detach() > 0.5).to(x.dtype), "binary").abs()
    return (p - y) ** 2 * (d_pred**alpha + signed_distance_map(y, "binary").abs() ** alpha)


def boundary_per_image(x: Tensor, y: Tensor) -> Tensor:
    return _per_image(boundary(x, y)).mean(1, keepdim=True)


def hausdorff_per_image(x: Tensor, y: Tensor) -> Tensor:
    return _per_image(hausdorff(x, y)).mean(1, keepdim=True)


def distillation_per_sample(
    student: Tensor, teacher: Tensor, target: Tensor, temperature: float = 4.0, alpha: float = 0.9
) -> Tensor:
    """The distillation loss of each sample as written: softmaxes as exp / sum exp (moderate logits
    only), alpha T^2 sum_c q_c log(q_c / p_c) + (1 - alpha) (-log of the student's softmax at y)."""

    def softmax(z: Tensor) -> Tensor:
        return torch.exp(z) / torch.exp(z).sum(1, keepdim=True)

    p, q = softmax(student / temperature), softmax(teacher / temperature)
    kl = (q * torch.log(q / p)).sum(1)
    ce = -torch.log(softmax(student).gather(1, target[:, None]).squeeze(1))
    return alpha * temperature**2 * kl + (1 - alpha) * ce


def js_per_sample(x: Tensor, z: Tensor) -> Tensor:
    """The Jensen-Shannon divergence of each sample as written: softmaxes as exp / sum exp (moderate
    logits only), m = (p + r) / 2, (sum_c p_c log(p_c / m_c) + r_c log(r_c / m_c)) / 2."""

    def softmax(v: Tensor) -> Tensor:
        return torch.exp(v) / torch.exp(v).sum(1, keepdim=True)

    p, r = softmax(x), softmax(z)
    m = (p + r) / 2
    return ((p * torch.log(p / m)).sum(1) + (r * torch.log(r / m)).sum(1)) / 2


def multilabel_soft_margin_per_sample(x: Tensor, y: Tensor) -> Tensor:
    """As written: -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), averaged over the classes (moderate
    logits only)."""
    p = torch.sigmoid(x)
    return (-(y * torch.log(p) + (1 - y) * torch.log(1 - p))).mean(-1)


def multi_margin_per_sample(x: Tensor, y: Tensor) -> Tensor:
    """As written, sample by sample: sum over the other classes i of max(0, 1 - x_y + x_i), over C."""
    rows = []
    for scores, true in zip(x, y.tolist(), strict=True):
        others = [(1 - scores[true] + scores[i]).clamp(min=0) for i in range(len(scores)) if i != true]
        rows.append(torch.stack(others).sum() / len(scores))
    return torch.stack(rows)


def multilabel_margin_per_sample(x: Tensor, y: Tensor) -> Tensor:
    """As written, sample by sample: J the indices before the first -1, and the sum over j in J and
    i not in J of max(0, 1 - x_j + x_i), over C."""
    rows = []
    for scores, labels in zip(x, y.tolist(), strict=True):
        listed = labels[: labels.index(-1)] if -1 in labels else labels
        others = [i for i in range(len(scores)) if i not in listed]
        terms = [(1 - scores[j] + scores[i]).clamp(min=0) for j in listed for i in others]
        rows.append(torch.stack(terms).sum() / len(scores) if terms else scores.sum() * 0)
    return torch.stack(rows)


def margin_ranking(x1: Tensor, x2: Tensor, y: Tensor) -> Tensor:
    """As written: max(0, -y (x1 - x2)), the default margin 0."""
    return (-y * (x1 - x2)).clamp(min=0)


def cosine_embedding(x1: Tensor, x2: Tensor, y: Tensor) -> Tensor:
    """As torch's kernel writes it, pair by pair: cos = x1 . x2 / sqrt((|x1|^2 + e)(|x2|^2 + e)) with
    e = float32's 1e-12, then 1 - cos for y = 1 and max(0, cos) for y = -1 (the default margin 0)."""
    e = float(torch.tensor(1e-12, dtype=torch.float32))
    rows = []
    for u, v, label in zip(x1, x2, y.tolist(), strict=True):
        cos = torch.dot(u, v) / torch.sqrt((torch.dot(u, u) + e) * (torch.dot(v, v) + e))
        rows.append(1 - cos if label == 1 else cos.clamp(min=0))
    return torch.stack(rows)


def triplet_margin(anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
    """As written: max(0, 1 + d(a, p) - d(a, n)), d(u, v) = sqrt(sum (u - v + 1e-6)^2), torch's
    defaults (margin 1, p = 2, eps 1e-6)."""

    def distance(u: Tensor, v: Tensor) -> Tensor:
        return ((u - v + 1e-6) ** 2).sum(-1).sqrt()

    return (1.0 + distance(anchor, positive) - distance(anchor, negative)).clamp(min=0)


def _margin_softmax(cos: Tensor, y: Tensor, true: Tensor, scale: float) -> Tensor:
    """-log(e^(s true) / (e^(s true) + sum over the other classes of e^(s cos))), written out."""
    others = torch.ones_like(cos, dtype=torch.bool).scatter(1, y[:, None], False)
    rest = torch.where(others, torch.exp(scale * cos), 0).sum(1)
    return -torch.log(torch.exp(scale * true) / (torch.exp(scale * true) + rest))


def _unit_cosines(x: Tensor, y: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    cos = (x / x.norm(dim=1, keepdim=True)) @ (w / w.norm(dim=1, keepdim=True)).T
    return cos, cos.gather(1, y[:, None]).squeeze(1)


def arcface(x: Tensor, y: Tensor, w: Tensor, scale: float = 64.0, margin: float = 0.5) -> Tensor:
    """As the paper writes it, with the angle: theta = arccos(cos), cos(theta + m) while
    theta + m <= pi, else cos(theta) - m sin(m); then the softmax written out (moderate angles only:
    arccos's derivative is infinite at cos = 1)."""
    cos, cos_true = _unit_cosines(x, y, w)
    theta = torch.arccos(cos_true)
    true = torch.where(
        theta + margin <= math.pi, torch.cos(theta + margin), cos_true - margin * math.sin(margin)
    )
    return _margin_softmax(cos, y, true, scale)


def cosface(x: Tensor, y: Tensor, w: Tensor, scale: float = 64.0, margin: float = 0.35) -> Tensor:
    """As the paper writes it: the true class's cosine minus m; then the softmax written out."""
    cos, cos_true = _unit_cosines(x, y, w)
    return _margin_softmax(cos, y, cos_true - margin, scale)


def arcface_usual(x: Tensor, y: Tensor, w: Tensor, scale: float = 64.0, margin: float = 0.5) -> Tensor:
    """The ArcFace head as widely copied (ArcMarginProduct): sqrt(1 - cos^2) over the whole matrix, the
    threshold cos(pi - m) with the fallback cos - m sin m, a one-hot blend, ``F.cross_entropy``."""
    cos = F.linear(F.normalize(x), F.normalize(w))
    sine = torch.sqrt((1.0 - cos * cos).clamp(0, 1))
    phi = cos * math.cos(margin) - sine * math.sin(margin)
    phi = torch.where(cos > math.cos(math.pi - margin), phi, cos - margin * math.sin(margin))
    one_hot = torch.zeros_like(cos).scatter_(1, y.view(-1, 1), 1)
    return F.cross_entropy(scale * (one_hot * phi + (1.0 - one_hot) * cos), y)


def cosface_usual(x: Tensor, y: Tensor, w: Tensor, scale: float = 64.0, margin: float = 0.35) -> Tensor:
    """The CosFace head as widely copied (AddMarginProduct): a one-hot blend, ``F.cross_entropy``."""
    cos = F.linear(F.normalize(x), F.normalize(w))
    one_hot = torch.zeros_like(cos).scatter_(1, y.view(-1, 1), 1)
    return F.cross_entropy(scale * (cos - one_hot * margin), y)


# -- contrastive losses: references (reduction='none', the paper's equations term by term) --------


def _unit(z: Tensor) -> Tensor:
    return z / z.norm(dim=-1, keepdim=True)


def _contrast(anchor: Tensor, candidates: Tensor, positive: int, temperature: float | Tensor) -> Tensor:
    """-log(e^(a . c_positive / t) / sum over c of e^(a . c / t)), written out."""
    e = torch.exp(candidates @ anchor / temperature)
    return -torch.log(e[positive] / e.sum())


def info_nce(query: Tensor, positive_key: Tensor, temperature: float = 0.1) -> Tensor:
    """van den Oord et al.'s InfoNCE with the batch's keys as candidates, query by query."""
    q, k = _unit(query), _unit(positive_key)
    return torch.stack([_contrast(q[n], k, n, temperature) for n in range(len(q))])


def nt_xent(input1: Tensor, input2: Tensor, temperature: float = 0.1) -> Tensor:
    """SimCLR's l(i, j), anchor by anchor over the 2N views without the anchor itself, averaged over
    the two views of each sample (so that the mean is the paper's 1 / 2N sum)."""
    z = _unit(torch.cat([input1, input2]))
    n = len(input1)
    losses = []
    for i in range(2 * n):
        others = [j for j in range(2 * n) if j != i]
        losses.append(_contrast(z[i], z[others], others.index((i + n) % (2 * n)), temperature))
    each = torch.stack(losses)
    return (each[:n] + each[n:]) / 2


def supervised_contrastive(input: Tensor, target: Tensor, temperature: float = 0.1) -> Tensor:
    """Khosla et al.'s L_out, anchor by anchor: the mean over the positives of -log p, the denominator
    over every other embedding; 0 for an anchor without a positive (the authors' code)."""
    z = _unit(input)
    losses = []
    for i in range(len(z)):
        others = [j for j in range(len(z)) if j != i]
        positives = [others.index(p) for p in others if target[p] == target[i]]
        terms = [_contrast(z[i], z[others], p, temperature) for p in positives]
        losses.append(torch.stack(terms).mean() if terms else z.new_zeros(()))
    return torch.stack(losses)


def clip(image_features: Tensor, text_features: Tensor, logit_scale: Tensor) -> Tensor:
    """CLIP's two cross-entropies per pair, written out: scale e^t (t at most ln 100) times the cosine,
    -log of the softmax over texts of image n and over images of text n, averaged."""
    image, text = _unit(image_features), _unit(text_features)
    scale = torch.exp(torch.clamp(logit_scale, max=math.log(100.0)))
    n = len(image)
    return torch.stack(
        [
            (_contrast(image[i], text, i, 1 / scale) + _contrast(text[i], image, i, 1 / scale)) / 2
            for i in range(n)
        ]
    )


def siglip(image_features: Tensor, text_features: Tensor, logit_scale: Tensor, logit_bias: Tensor) -> Tensor:
    """SigLIP's pair terms log(1 + e^(-z s)), z = 1 for the matching pair and -1 otherwise, summed over
    the texts of each image."""
    logits = torch.exp(logit_scale) * _unit(image_features) @ _unit(text_features).T + logit_bias
    signs = 2 * torch.eye(len(logits), dtype=logits.dtype) - 1
    return torch.log1p(torch.exp(-signs * logits)).sum(1)


# -- contrastive losses: the usual formulas and pytorch-metric-learning (benchmark peers) ---------


def info_nce_usual(query: Tensor, positive_key: Tensor, temperature: float = 0.1) -> Tensor:
    """As info-nce-pytorch and MoCo v3 write it: normalize, F.cross_entropy(q k^T / t, arange)."""
    logits = F.normalize(query, dim=-1) @ F.normalize(positive_key, dim=-1).T
    return F.cross_entropy(logits / temperature, torch.arange(len(query), device=query.device))


def nt_xent_usual(input1: Tensor, input2: Tensor, temperature: float = 0.1) -> Tensor:
    """As SimCLR implementations in PyTorch write it: normalize both views, the 2N x 2N similarities
    with the diagonal at -inf, F.cross_entropy against the other view."""
    z = F.normalize(torch.cat([input1, input2]), dim=-1)
    n = len(input1)
    eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = (z @ z.T / temperature).masked_fill(eye, -math.inf)
    return F.cross_entropy(logits, (torch.arange(2 * n, device=z.device) + n) % (2 * n))


def clip_usual(image_features: Tensor, text_features: Tensor, logit_scale: Tensor) -> Tensor:
    """open_clip's ClipLoss after CLIP's model: normalized features, the scale e^t, and the mean of
    F.cross_entropy over images and over texts."""
    logits = logit_scale.exp() * F.normalize(image_features, dim=-1) @ F.normalize(text_features, dim=-1).T
    labels = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def siglip_usual(
    image_features: Tensor, text_features: Tensor, logit_scale: Tensor, logit_bias: Tensor
) -> Tensor:
    """open_clip's SigLipLoss after its model: -logsigmoid(labels * logits).sum() / N, labels 2 I - 1."""
    logits = logit_scale.exp() * F.normalize(image_features, dim=-1) @ F.normalize(text_features, dim=-1).T
    labels = 2 * torch.eye(len(logits), dtype=logits.dtype, device=logits.device) - 1
    return -F.logsigmoid(labels * (logits + logit_bias)).sum() / len(logits)


def pml_nt_xent() -> Loss:
    """pytorch-metric-learning's NTXentLoss on the two views, labelled by sample (SimCLR's pairs)."""
    from pytorch_metric_learning.losses import NTXentLoss

    loss = NTXentLoss(temperature=0.1)

    def call(input1: Tensor, input2: Tensor) -> Tensor:
        labels = torch.arange(len(input1), device=input1.device).repeat(2)
        return loss(torch.cat([input1, input2]), labels)

    return call


def pml_supcon() -> Loss:
    """pytorch-metric-learning's SupConLoss (the same loss where every anchor has a positive)."""
    from pytorch_metric_learning.losses import SupConLoss

    return SupConLoss(temperature=0.1)
