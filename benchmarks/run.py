"""Forward+backward time and memory of every registry loss: lossref vs torch and peer libraries.

Run: ``python benchmarks/run.py`` (add ``--device cuda`` on a GPU machine, ``--losses NAME ...`` to
pick). Machines are noisy, so only the ratios measured in one run mean anything: each (loss, shape)
runs in a fresh process, lossref and every peer are timed in alternating rounds, and the ratio is the
median over the rounds of the ratio within a round (load that drifts between rounds cancels); median
absolute times are printed for context. ``ratio < 1``: lossref is faster.

The boundary loss gets its target's distance map precomputed (it depends on the target only, and
its docstring says to compute it once per target); the Hausdorff loss needs the prediction's map,
so both it and its peer compute maps inside every step.

Memory is the bytes autograd saves for the backward pass (exact and device-independent) and, on
CUDA, the peak allocated during one forward+backward.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import statistics
import sys
from dataclasses import dataclass, replace
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from lossref.registry import LOSSES, LossInputs, LossSpec, get

# elements per input for elementwise losses; (N, C[, H, W]) shapes for class losses
ELEMENTWISE_SIZES = [64_000, 4_000_000]
CLASS_SHAPES = [(8192, 1000), (16, 21, 64, 64)]
# region losses: 8 images, 4 classes (or 4 x 256 x 256 pixels of one binary mask), 256 x 256
REGION_SHAPES = [(8, 4, 256, 256)]


def _torchvision_focal(x, y, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss's documented formula (no CPU torchvision wheel exists)."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    return ((alpha * y + (1 - alpha) * (1 - y)) * ce * (1 - p_t) ** gamma).mean()


def _softmax_focal_formula(x, y, gamma=2.0, ignore_index=-100):
    """The multi-class focal loss as usually written: log_softmax, gather, (1 - p_t)^gamma."""
    keep = y != ignore_index
    log_pt = F.log_softmax(x, 1).gather(1, torch.where(keep, y, 0).unsqueeze(1)).squeeze(1)
    return (-((1 - log_pt.exp()) ** gamma) * log_pt * keep).sum() / keep.sum()


def _poly1_formula(x, y, epsilon=1.0, ignore_index=-100):
    """Poly-1 as usually written: torch's cross-entropy plus epsilon (1 - softmax gathered at the target)."""
    keep = y != ignore_index
    p_t = F.softmax(x, 1).gather(1, torch.where(keep, y, 0).unsqueeze(1)).squeeze(1)
    ce = F.cross_entropy(x, y, ignore_index=ignore_index, reduction="none")
    return ((ce + epsilon * (1 - p_t)) * keep).sum() / keep.sum()


# the usual formulas of losses that torch does not have, at lossref's default parameters
FORMULAS: dict[str, Callable] = {
    "softmax_focal_loss": _softmax_focal_formula,
    "poly1_cross_entropy": _poly1_formula,
    "log_cosh_loss": lambda x, y: (x - y + F.softplus(-2 * (x - y)) - math.log(2)).mean(),
    "quantile_loss": lambda x, y: torch.maximum(0.5 * (y - x), -0.5 * (y - x)).mean(),
    "charbonnier_loss": lambda x, y: torch.sqrt((x - y) ** 2 + 1e-6).mean(),
}


def _region_peers(name: str) -> dict[str, Callable]:
    """MONAI's and kornia's equivalents of the region losses, at lossref's defaults and binary mode
    (per image, smooth 1e-5; (N, *) logits given to MONAI as (N, 1, *)), and the formula of the
    boundary and Hausdorff losses, which no library has with lossref's distance maps (MONAI's
    HausdorffDTLoss scores empty masks differently)."""
    from kornia.losses import lovasz_hinge_loss, lovasz_softmax_loss
    from monai.losses import DiceCELoss, DiceLoss, TverskyLoss

    from lossref import signed_distance_map

    def channel(f: Callable) -> Callable:
        return lambda x, y: f(x[:, None], y[:, None])

    def boundary(x, y, distance_map=None):
        phi = signed_distance_map(y) if distance_map is None else distance_map
        return (phi * (torch.sigmoid(x) - y)).mean()

    def hausdorff(x, y):
        p = torch.sigmoid(x)
        d_pred = signed_distance_map((p.detach() > 0.5).to(x.dtype)).abs()
        return ((p - y) ** 2 * (d_pred**2 + signed_distance_map(y).abs() ** 2)).mean()

    tversky = TverskyLoss(alpha=0.3, beta=0.7, sigmoid=True, reduction="none")
    table: dict[str, dict[str, Callable]] = {
        "dice_loss": {"MONAI": channel(DiceLoss(sigmoid=True))},
        "jaccard_loss": {"MONAI": channel(DiceLoss(sigmoid=True, jaccard=True, smooth_nr=0, smooth_dr=0))},
        "tversky_loss": {"MONAI": channel(TverskyLoss(alpha=0.3, beta=0.7, sigmoid=True))},
        "focal_tversky_loss": {"MONAI ** 0.75": channel(lambda x, y: (tversky(x, y) ** 0.75).mean())},
        "dice_bce_loss": {"MONAI": channel(DiceCELoss(sigmoid=True))},
        "combo_loss": {
            "MONAI + torch": channel(
                lambda x, y: 0.25 * F.binary_cross_entropy_with_logits(x, y) + 0.5 * DiceLoss(sigmoid=True)(x, y)
            )
        },
        # kornia takes (B, C, H, W): every image's pixels as one row
        "lovasz_hinge": {
            "kornia": lambda x, y: lovasz_hinge_loss(x.reshape(len(x), 1, 1, -1), y.reshape(len(y), 1, -1).long())
        },
        "lovasz_softmax": {
            "kornia": lambda x, y: lovasz_softmax_loss(x.reshape(*x.shape[:2], 1, -1), y.reshape(len(y), 1, -1))
        },
        "boundary_loss": {"formula": boundary},
        "hausdorff_dt_loss": {"formula": hausdorff},
    }
    return table.get(name, {})


def peers(spec: LossSpec) -> dict[str, Callable]:
    """Implementations to compare with, computing the same loss with reduction='mean'."""
    found: dict[str, Callable] = {}
    if spec.torch_function is not None:
        found["torch"] = spec.torch_function
    if spec.name in FORMULAS:
        found["formula"] = FORMULAS[spec.name]
    if spec.target == "region":
        found.update(_region_peers(spec.name))
    if spec.name == "log_cosh_loss":  # what blog posts write; overflows to inf beyond |r| ~ 89 in float32
        found["naive log(cosh)"] = lambda x, y: torch.log(torch.cosh(x - y)).mean()
    if spec.name == "sigmoid_focal_loss":
        found["torchvision formula"] = lambda x, y: _torchvision_focal(x, y)
        try:
            from kornia.losses import binary_focal_loss_with_logits
            from monai.losses import FocalLoss as MonaiFocalLoss

            monai_focal = MonaiFocalLoss(gamma=2.0, alpha=0.25, reduction="mean")
            found["MONAI"] = lambda x, y: monai_focal(x, y)
            found["kornia"] = lambda x, y: binary_focal_loss_with_logits(x, y, alpha=0.25, reduction="mean")
        except ImportError:
            print("MONAI/kornia not installed: comparing with the torchvision formula only", file=sys.stderr)
    return found


def ours(spec: LossSpec) -> Callable:
    return lambda x, y, **kw: spec.function(x, y, reduction="mean", **kw)


@dataclass
class Measurement:
    loss: str
    impl: str
    shape: tuple[int, ...]
    seconds: float
    round_seconds: tuple[float, ...]
    saved_bytes: int
    peak_bytes: Optional[int]


def _step(fn: Callable, inputs: LossInputs) -> Callable[[], None]:
    x = inputs.input.detach().clone().requires_grad_(True)

    def step() -> None:
        x.grad = None
        fn(x, inputs.target, **inputs.options).backward()

    return step


def _saved_bytes(fn: Callable, inputs: LossInputs) -> int:
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    x = inputs.input.detach().clone().requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(x, inputs.target, **inputs.options)
    return sum(seen.values())


def _peak_bytes(step: Callable[[], None]) -> int:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def compare(impls: dict[str, Callable], spec: LossSpec, inputs: LossInputs, min_time: float, rounds: int):
    """Every implementation timed in alternating rounds, so that drift on a noisy machine hits all."""
    steps = {name: _step(fn, inputs) for name, fn in impls.items()}
    times: dict[str, list[float]] = {name: [] for name in impls}
    for step in steps.values():
        step()  # warm-up
    for _ in range(rounds):
        for name, step in steps.items():
            timer = benchmark.Timer(stmt="step()", globals={"step": step})
            times[name].append(timer.blocked_autorange(min_run_time=min_time / rounds).median)
    cuda = inputs.input.is_cuda
    return [
        Measurement(
            spec.name,
            name,
            tuple(inputs.input.shape),
            statistics.median(times[name]),
            tuple(times[name]),
            _saved_bytes(impls[name], inputs),
            _peak_bytes(steps[name]) if cuda else None,
        )
        for name in impls
    ]


def _job(args: tuple[str, tuple[int, ...], str, float, bool, int]) -> list[Measurement]:
    name, shape, device, min_time, weighted, rounds = args
    spec = get(name)
    inputs = spec.make_inputs(shape, device=device, weighted=weighted and spec.torch_function is not None)
    if name == "boundary_loss":  # its map depends on the target only: computed once, outside the step
        from lossref import signed_distance_map

        inputs = replace(inputs, options={**inputs.options, "distance_map": signed_distance_map(inputs.target)})
    impls = {"lossref": ours(spec), **peers(spec)}
    if len(impls) == 1:
        return []
    return compare(impls, spec, inputs, min_time, rounds)


def shapes(spec: LossSpec) -> list[tuple[int, ...]]:
    if spec.target == "class indices":
        return CLASS_SHAPES
    if spec.target == "region":
        return REGION_SHAPES
    return [(n // 1000, 1000) for n in ELEMENTWISE_SIZES]


def run(names: list[str], device: str, min_time: float, weighted: bool, rounds: int, out=sys.stdout):
    rows: list[Measurement] = []
    jobs = [
        (name, shape, device, min_time, weighted, rounds) for name in names for shape in shapes(get(name))
    ]
    context = multiprocessing.get_context("spawn")
    for i, job in enumerate(jobs, 1):
        print(f"[{i}/{len(jobs)}] {job[0]} {job[1]}", file=sys.stderr, flush=True)
        with context.Pool(1) as pool:  # a fresh process: no allocator state carried over
            measured = pool.apply(_job, (job,))
        rows += measured
        for m in measured[1:]:
            ref, mine = m, measured[0]
            paired = zip(mine.round_seconds, ref.round_seconds, strict=True)
            ratio = statistics.median(a / b for a, b in paired)
            peak = (
                ""
                if mine.peak_bytes is None
                else f"  peak {mine.peak_bytes / max(ref.peak_bytes or 1, 1):.2f}x"
            )
            print(
                f"{mine.loss:33s} {str(mine.shape):18s} vs {ref.impl:20s}"
                f" {mine.seconds * 1e3:8.3f} ms / {ref.seconds * 1e3:8.3f} ms, ratio {ratio:5.2f}x"
                f"  saved {mine.saved_bytes / 2**20:7.2f} / {ref.saved_bytes / 2**20:7.2f} MiB{peak}",
                file=out,
                flush=True,
            )
    return rows


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--losses", nargs="+", default=[s.name for s in LOSSES], help="registry names")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds of timing per implementation")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds the time is split into")
    parser.add_argument("--weighted", action="store_true", help="pass the registry's weight options too")
    args = parser.parse_args(argv)
    print(
        f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads;"
        " forward+backward, reduction='mean'; ratio = lossref / peer, < 1: lossref faster"
    )
    run(args.losses, args.device, args.min_time, args.weighted, args.rounds)


if __name__ == "__main__":
    main()
