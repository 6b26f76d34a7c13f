"""The arguments of one call of a loss, and seeded valid ones for every kind of loss, made on the CPU.

Each generator is ``(shape, generator, dtype, weighted) -> LossInputs`` (some take a keyword more,
bound with ``functools.partial`` in the registry). The registry's ``make_inputs`` calls them and moves
the result, so that every device sees the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass(frozen=True)
class LossInputs:
    """One valid call of a loss, by argument name.

    ``function(*args.values(), *parameters.values(), **options)`` and, with the module holding
    ``parameters``, ``module(**options)(*args.values())`` compute the same loss; a region loss also
    takes its required ``mode``, the registry's ``LossSpec.keywords`` (``LossSpec.call`` and
    ``LossSpec.build_module`` pass it).
    """

    #: the positional tensor arguments, in call order (input, target; or anchor, positive, negative;
    #: integer lengths included)
    args: dict[str, Tensor]
    #: the optional tensor arguments the module keeps as buffers (weight, pos_weight, ...)
    options: dict[str, Tensor] = field(default_factory=dict)
    #: values of the learnable parameters the module owns; the function takes them after ``args``
    parameters: dict[str, Tensor] = field(default_factory=dict)

    @property
    def input(self) -> Tensor:
        """The prediction, the first of the positional arguments."""
        return next(iter(self.args.values()))

    @property
    def target(self) -> Tensor:
        return self.args["target"]

    def replace(self, **tensors: Tensor) -> "LossInputs":
        """The same call with some arguments, options or parameters replaced by name."""
        parts = (dict(self.args), dict(self.options), dict(self.parameters))
        for name, value in tensors.items():
            part = next((p for p in parts if name in p), None)
            if part is None:
                raise KeyError(f"no argument named {name!r}; known: {[k for p in parts for k in p]}")
            part[name] = value
        return LossInputs(*parts)

    def to(self, device: torch.device | str) -> "LossInputs":
        return LossInputs(*({k: v.to(device) for k, v in part.items()} for part in self.parts()))

    def parts(self) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Tensor]]:
        return self.args, self.options, self.parameters


def pair(input: Tensor, target: Tensor, options: dict[str, Tensor] | None = None) -> LossInputs:
    """The inputs of a loss called as ``function(input, target, **options)``."""
    return LossInputs({"input": input, "target": target}, options or {})


def _soft_and_hard_targets(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype) -> Tensor:
    """Half hard 0/1 labels, half soft labels in (0, 1)."""
    soft = torch.rand(shape, generator=g, dtype=dtype)
    hard = torch.rand(shape, generator=g, dtype=dtype) < 0.5
    return torch.where(torch.rand(shape, generator=g) < 0.5, hard.to(dtype), soft)


def _last_dim_weight(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype) -> Tensor:
    """A positive weight of shape (shape[-1],), which broadcasts along the last dimension."""
    return 0.5 + 2 * torch.rand(shape[-1:], generator=g, dtype=dtype)


def bce_inputs(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool) -> LossInputs:
    probs = torch.sigmoid(3 * torch.randn(shape, generator=g, dtype=dtype))
    options = {"weight": _last_dim_weight(shape, g, dtype)} if weighted else {}
    return pair(probs, _soft_and_hard_targets(shape, g, dtype), options)


def bce_logits_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    logits = 3 * torch.randn(shape, generator=g, dtype=dtype)
    options = {}
    if weighted:
        options = {
            "weight": _last_dim_weight(shape, g, dtype),
            "pos_weight": _last_dim_weight(shape, g, dtype),
        }
    return pair(logits, _soft_and_hard_targets(shape, g, dtype), options)


def focal_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Logits and labels; no tensor options (the module takes alpha and gamma as numbers)."""
    logits = 3 * torch.randn(shape, generator=g, dtype=dtype)
    return pair(logits, _soft_and_hard_targets(shape, g, dtype))


def class_inputs(
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
    return pair(scores, target, options)


def regression_inputs(
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
    return pair(input, target, options)


def region_inputs(
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
        target = torch.where(
            torch.rand(shape, generator=g) < 0.5, torch.rand(shape, generator=g, dtype=dtype), target
        )
    options = {"weight": 0.5 + 2 * torch.rand(1, generator=g, dtype=dtype)} if weighted else {}
    return pair(logits, target, options)


def region_class_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Multi-class segmentation: logits (N, C, *), class indices (N, *), none ignored (as above);
    ``weighted``: a positive class weight (C,). A 1-d shape (C,) - no batch, which region losses
    reject - still gives tensors, for the checks of argument types."""
    c = shape[0] if len(shape) == 1 else shape[1]
    logits = 3 * torch.randn(shape, generator=g, dtype=dtype)
    target = torch.randint(0, c, () if len(shape) == 1 else shape[:1] + shape[2:], generator=g)
    options = {"weight": 0.5 + 2 * torch.rand(c, generator=g, dtype=dtype)} if weighted else {}
    return pair(logits, target, options)


def kl_inputs(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool) -> LossInputs:
    """Log-probabilities and target probabilities, each a softmax over the last dimension (a
    0-dimensional shape: one class, probability 1). The targets are positive: a target of 0, where
    lossref's target gradient (0) differs on purpose from torch's (NaN), is tested in
    tests/test_divergence.py. No tensor options."""
    scores = 3 * torch.randn(shape, generator=g, dtype=dtype)
    target = 2 * torch.randn(shape, generator=g, dtype=dtype)
    if not shape:
        return pair(scores.new_zeros(()), target.new_ones(()))
    return pair(torch.log_softmax(scores, -1), torch.softmax(target, -1))


def gaussian_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Means, observations and a variance per element (log-normal, about 0.05 to 20), above the
    default clamp eps = 1e-6, where torch's gradient and the derivative agree. No tensor options."""
    input = 2 * torch.randn(shape, generator=g, dtype=dtype)
    target = input + torch.randn(shape, generator=g, dtype=dtype)
    var = torch.exp(torch.randn(shape, generator=g, dtype=dtype))
    return LossInputs({"input": input, "target": target, "var": var})


def poisson_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Log-rates (normal, scale 2) and counts drawn from a Poisson of that rate, as floats; no count is
    exactly 1 (where ``full``'s Stirling term starts, a jump). No tensor options."""
    log_rate = 2 * torch.randn(shape, generator=g, dtype=dtype)
    counts = torch.poisson(torch.exp(log_rate), generator=g)
    return pair(log_rate, torch.where(counts == 1, 2.0, counts))


def distillation_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Student and teacher logits of shape (N, C) (the teacher's wider: a confident teacher) and one
    class index per sample, none out of range. No tensor options."""
    student = 3 * torch.randn(shape, generator=g, dtype=dtype)
    teacher = 6 * torch.randn(shape, generator=g, dtype=dtype)
    n, c = (shape[0], shape[-1]) if len(shape) > 1 else (1, shape[0] if shape else 1)
    target = torch.randint(0, max(c, 1), shape[:1] if len(shape) > 1 else (n,), generator=g)
    return LossInputs({"student": student, "teacher": teacher, "target": target})


def logit_pair_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Two batches of logits of shape (N, C), the other's wider (one prediction more confident than
    the other). No tensor options."""
    input = 3 * torch.randn(shape, generator=g, dtype=dtype)
    other = 5 * torch.randn(shape, generator=g, dtype=dtype)
    return LossInputs({"input": input, "other": other})


def _signs(shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype) -> Tensor:
    """Labels 1 and -1, half each."""
    return torch.where(torch.rand(shape, generator=g) < 0.5, 1.0, -1.0).to(dtype)


def distance_label_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Distances in [0, 3), either side of the default margin 1, and labels 1 (similar) or -1. No
    tensor options."""
    return pair(3 * torch.rand(shape, generator=g, dtype=dtype), _signs(shape, g, dtype))


def score_label_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Scores (normal, scale 3) and labels 1 or -1. No tensor options."""
    return pair(3 * torch.randn(shape, generator=g, dtype=dtype), _signs(shape, g, dtype))


def multilabel_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Logits (normal, scale 3) with classes last and 0/1 labels, a third of them 1; ``weighted``
    adds a positive per-class weight (the last dimension)."""
    labels = (torch.rand(shape, generator=g) < 1 / 3).to(dtype)
    options = {"weight": _last_dim_weight(shape, g, dtype)} if weighted else {}
    return pair(3 * torch.randn(shape, generator=g, dtype=dtype), labels, options)


def multi_margin_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Scores (N, C) or (C,) (standard normal: most pairs within the margin 1 of each other) and one
    class per sample; ``weighted`` adds a positive per-class weight."""
    c = shape[-1]
    options = {"weight": 0.5 + 2 * torch.rand(c, generator=g, dtype=dtype)} if weighted else {}
    target = torch.randint(0, c, shape[:-1], generator=g)
    return pair(torch.randn(shape, generator=g, dtype=dtype), target, options)


def label_list_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Scores (N, C) or (C,) and, per sample, a list of 1 to C - 1 distinct classes, then -1, then
    indices in [-1, C) that the loss ignores. No tensor options."""
    c = shape[-1]
    classes = torch.rand(shape, generator=g).argsort(-1)
    # 1 to C - 1 classes: every score takes part in a term (no class, or all: loss 0, tested apart)
    length = torch.randint(1, max(c, 2), (*shape[:-1], 1), generator=g)
    position = torch.arange(c)
    ignored = torch.randint(-1, c, shape, generator=g)
    target = torch.where(position < length, classes, torch.where(position == length, -1, ignored))
    return pair(torch.randn(shape, generator=g, dtype=dtype), target)


def ranking_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Two scores (standard normal) and labels 1 or -1, one in eight 0 (no order). No tensor options."""
    first, second = (torch.randn(shape, generator=g, dtype=dtype) for _ in range(2))
    labels = torch.where(torch.rand(shape, generator=g) < 0.125, 0.0, _signs(shape, g, dtype)).to(dtype)
    return LossInputs({"input1": first, "input2": second, "target": labels})


def embedding_pair_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Two embeddings (N, D) or (D,) (standard normal) and a label 1 or -1 per pair. No tensor
    options."""
    first, second = (torch.randn(shape, generator=g, dtype=dtype) for _ in range(2))
    return LossInputs({"input1": first, "input2": second, "target": _signs(shape[:-1], g, dtype)})


def triplet_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Anchors (N, D) or (D,), positives near them (noise of scale 0.5) and negatives farther (scale
    1): some triplets inside the default margin 1, some outside. No tensor options."""
    anchor = torch.randn(shape, generator=g, dtype=dtype)
    positive = anchor + 0.5 * torch.randn(shape, generator=g, dtype=dtype)
    negative = anchor + torch.randn(shape, generator=g, dtype=dtype)
    return LossInputs({"anchor": anchor, "positive": positive, "negative": negative})


def angular_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Embeddings (N, D) or (D,), one class per sample and 4 D class vectors (standard normal), the
    class vectors as the module's learnable ``weight``."""
    classes = 4 * shape[-1]
    input = torch.randn(shape, generator=g, dtype=dtype)
    target = torch.randint(0, classes, shape[:-1], generator=g)
    weight = torch.randn(classes, shape[-1], generator=g, dtype=dtype)
    return LossInputs({"input": input, "target": target}, parameters={"weight": weight})


def view_pair_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool, names: tuple[str, str]
) -> LossInputs:
    """Two views (N, D) of N samples (standard normal, the second the first plus noise of scale 0.5),
    under the loss's two argument names. No tensor options."""
    first = torch.randn(shape, generator=g, dtype=dtype)
    second = first + 0.5 * torch.randn(shape, generator=g, dtype=dtype)
    return LossInputs(dict(zip(names, (first, second), strict=True)))


def labelled_embedding_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool
) -> LossInputs:
    """Embeddings (N, D), standard normal, and integer labels in which every label occurs at least
    twice (for N >= 2): every anchor has a positive, as with two views of every sample."""
    n = shape[0]
    labels = torch.randperm(n, generator=g) % max(1, n // 2)
    return LossInputs({"input": torch.randn(shape, generator=g, dtype=dtype), "target": labels})


def image_text_inputs(
    shape: tuple[int, ...], g: torch.Generator, dtype: torch.dtype, weighted: bool, bias: bool
) -> LossInputs:
    """Image and text features (N, D), the text of pair n near image n (noise of scale 0.5), and the
    learnable log logit scale near CLIP's start, ln(1 / 0.07); with ``bias``, SigLIP's: log scale
    near ln 10 and bias near -10."""
    image = torch.randn(shape, generator=g, dtype=dtype)
    text = image + 0.5 * torch.randn(shape, generator=g, dtype=dtype)

    def near(value: float) -> Tensor:
        return value + 0.1 * torch.randn((), generator=g, dtype=dtype)

    parameters = {"logit_scale": near(math.log(10.0) if bias else math.log(1 / 0.07))}
    if bias:
        parameters["logit_bias"] = near(-10.0)
    return LossInputs({"image_features": image, "text_features": text}, parameters=parameters)
