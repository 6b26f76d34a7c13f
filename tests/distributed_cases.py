"""The cases of tests/test_distributed.py and the worker that runs them in every process.

``torch.multiprocessing.spawn`` pickles the worker by name, so it lives in an importable module. One
spawn per world size runs every case: for each registry loss with ``sync`` (LossSpec.sync), each
variant of its options and each way of splitting a batch of :data:`N` samples into shards, a small
model (a learned per-feature affine map of every differentiable argument, then the loss's module)
is wrapped in ``DistributedDataParallel`` and trained one backward step on this process's shard. The
single-process reference is the same model without ``sync`` on the whole batch. Each process writes
its relative errors to ``rank<r>.json``; the parent asserts on them.
"""

from __future__ import annotations

import inspect
import json
import os
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from lossref.distributed import all_gather_with_grad, all_sum
from lossref.registry import LOSSES, LossSpec

#: samples in the whole batch: prime, so that it equals no class count or queue length, and an
#: option whose first dimension is N is one per sample (sharded with the arguments)
N = 7
#: how the N samples are split over the processes, by world size; "ignored": shard 0's targets
#: are all ignore_index (for the losses that take it)
SHARDS: dict[int, dict[str, list[int]]] = {
    2: {"uneven": [2, 5], "empty": [0, 7], "ignored": [3, 4]},
    3: {"uneven": [1, 2, 4], "empty": [0, 3, 4], "ignored": [2, 2, 3]},
}
SPECS = [spec for spec in LOSSES if spec.sync is not None]


def shape(spec: LossSpec) -> tuple[int, ...]:
    """A small batch of N samples in the loss's layout."""
    if spec.target == "region":
        return (N, 3, 4, 4) if spec.region_classes else (N, 4, 4)
    return (N, 5) if spec.target == "sample" else (N, 4)


def variants(spec: LossSpec) -> list[dict[str, Any]]:
    """The options each loss runs with: both reductions, and both batch modes of a region loss."""
    out: list[dict[str, Any]] = [{"reduction": "mean"}, {"reduction": "sum"}]
    if "per_image" in inspect.signature(spec.function).parameters:
        out = [{**v, "per_image": per_image} for v in out for per_image in (True, False)]
    return out


def takes_ignore_index(spec: LossSpec) -> bool:
    return "ignore_index" in inspect.signature(spec.function).parameters


def case_ids(world: int) -> list[str]:
    """Every case one spawn of ``world`` processes runs, by id."""
    return [
        f"{spec.name}-{split}-{'-'.join(f'{k}={v}' for k, v in variant.items())}"
        for spec in SPECS
        for variant in variants(spec)
        for split in SHARDS[world]
        if split != "ignored" or takes_ignore_index(spec)
    ]


class Head(nn.Module):
    """A per-feature affine map of every differentiable argument, then the loss's module."""

    def __init__(self, spec: LossSpec, full: dict[str, Tensor], loss: nn.Module) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(1)
        learned = [a.name for a in spec.args if a.differentiable and full[a.name].is_floating_point()]
        self.scale = nn.ParameterDict(
            {
                k: nn.Parameter(1 + 0.1 * torch.randn(full[k].shape[1:], generator=g, dtype=torch.float64))
                for k in learned
            }
        )
        self.shift = nn.ParameterDict(
            {
                k: nn.Parameter(0.1 * torch.randn(full[k].shape[1:], generator=g, dtype=torch.float64))
                for k in learned
            }
        )
        self.loss = loss
        self.inputs: dict[str, Tensor] = {}

    def forward(self, args: dict[str, Tensor]) -> Tensor:
        self.inputs = {k: v * self.scale[k] + self.shift[k] for k, v in args.items() if k in self.scale}
        for v in self.inputs.values():
            v.retain_grad()
        return self.loss(*{**args, **self.inputs}.values())


def relative(ours: Tensor, reference: Tensor) -> float:
    """max |ours - reference| / max |reference|; 0 for two empty tensors, inf where NaN differs."""
    if ours.numel() == 0:
        return 0.0
    if torch.isnan(ours).any() or torch.isnan(reference).any():
        return 0.0 if torch.equal(torch.isnan(ours), torch.isnan(reference)) else float("inf")
    scale = reference.abs().max().clamp_min(1e-300)
    return ((ours - reference).abs().max() / scale).item()


def run_case(spec: LossSpec, variant: dict[str, Any], split: str, sizes: list[int], rank: int) -> dict:
    """This process's errors for one case: the loss value, the parameters' gradients after DDP's
    average and the input gradients (against world size x the reference's), with ``sync``, and the
    larger of the value and gradient errors of the naive local loss."""
    inputs = spec.make_inputs(shape(spec), seed=0, dtype=torch.float64, weighted=True)
    full = dict(inputs.args)
    if split == "ignored":  # shard 0's targets all ignored
        full["target"] = full["target"].clone()
        full["target"][: sizes[0]] = -100
    begin = sum(sizes[:rank])
    mine = slice(begin, begin + sizes[rank])

    def step(sync: bool, args: dict[str, Tensor], wrap: bool) -> tuple[Tensor, dict, dict]:
        head = Head(spec, full, spec.build_module(inputs, sync=sync, **variant).to(torch.float64))
        model = DistributedDataParallel(head) if wrap else head
        loss = model(args)
        loss.backward()
        grads = {name: p.grad for name, p in head.named_parameters()}
        return loss.detach(), grads, {k: v.grad for k, v in head.inputs.items()}

    value, grads, input_grads = step(False, full, wrap=False)
    shard = {k: v[mine] for k, v in full.items()}
    errors = {}
    for sync in (True, False):
        got, got_grads, got_input_grads = step(sync, shard, wrap=True)
        value_error = relative(got, value)
        grad_error = max(relative(got_grads[k], grads[k]) for k in grads)
        if sync:
            world = dist.get_world_size()
            errors["value"], errors["grads"] = value_error, grad_error
            errors["inputs"] = max(
                relative(got_input_grads[k], world * input_grads[k][mine]) for k in input_grads
            )
        else:
            errors["naive"] = max(value_error, grad_error)
    return errors


class _LocalGradientGather(torch.autograd.Function):
    """The common bug: a gather whose backward returns only this process's slice of its own
    gradient, dropping the other processes' share."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, sizes: list[int]) -> Tensor:
        rank = dist.get_rank()
        ctx.mine = slice(sum(sizes[:rank]), sum(sizes[: rank + 1]))
        return all_gather_with_grad(x)  # the right rows (autograd is off in a forward)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad[ctx.mine], None


def gather_case(sizes: list[int], rank: int) -> dict:
    """all_gather_with_grad of uneven shards: the rows, and the gradient of a loss every process
    computes on the gathered rows, P times the gradient of this process's rows; the buggy gather's."""
    g = torch.Generator().manual_seed(2)
    full = torch.randn(sum(sizes), 3, generator=g, dtype=torch.float64)
    weight = torch.randn(sum(sizes), 3, generator=g, dtype=torch.float64)
    begin = sum(sizes[:rank])
    mine = slice(begin, begin + sizes[rank])
    errors = {}
    for name, gather in (("gather", all_gather_with_grad), ("buggy", None)):
        x = full[mine].clone().requires_grad_()
        rows = all_gather_with_grad(x) if gather else _LocalGradientGather.apply(x, sizes)
        (rows * weight).sum().backward()
        expected = dist.get_world_size() * weight[mine]
        errors[name] = max(relative(rows.detach(), full), relative(x.grad, expected))
    return errors


def compiled_loss_case(spec: LossSpec, sizes: list[int], rank: int, fullgraph: bool) -> float:
    """A registry loss with ``sync=True`` compiled against eager: the value and the input's gradient
    on this process's shard (a region loss in batch mode, which sums its statistics)."""
    inputs = spec.make_inputs(shape(spec), seed=4, dtype=torch.float64, weighted=True)
    begin = sum(sizes[:rank])
    shard = inputs.replace(**{k: v[begin : begin + sizes[rank]] for k, v in inputs.args.items()})
    options = {"sync": True}
    if "per_image" in inspect.signature(spec.function).parameters:
        options["per_image"] = False
    torch._dynamo.reset()
    compiled = torch.compile(lambda i: spec.call(i, **options), backend="aot_eager", fullgraph=fullgraph)
    first = spec.args[0].name
    results = []
    for fn in (lambda i: spec.call(i, **options), compiled):
        x = shard.args[first].clone().requires_grad_()
        value = fn(shard.replace(**{first: x}))
        value.backward()
        results.append((value.detach(), x.grad))
    (value, grad), (got, got_grad) = results
    return max(relative(got, value), relative(got_grad, grad))


def compile_case(sizes: list[int], rank: int) -> dict:
    """The collectives under torch.compile, against eager: all_sum whole (``fullgraph=True``), and
    all_gather_with_grad with graph breaks (the shards' lengths are data); then the first registry
    loss of each layout: a class loss and a batch region loss whole, a contrastive loss (which
    gathers) with breaks."""
    g = torch.Generator().manual_seed(3)
    full = torch.randn(sum(sizes), 3, generator=g, dtype=torch.float64)
    begin = sum(sizes[:rank])
    x = full[begin : begin + sizes[rank]]
    errors = {}
    for name, fn, fullgraph in (
        ("all_sum", lambda v: all_sum(torch.stack([v.sum(), v.square().sum()])), True),
        ("gather", lambda v: all_gather_with_grad(v).square().sum(), False),
    ):
        torch._dynamo.reset()
        compiled = torch.compile(fn, backend="aot_eager", fullgraph=fullgraph)
        leaves = [x.clone().requires_grad_() for _ in range(2)]
        values = [f(v) for f, v in zip((fn, compiled), leaves, strict=True)]
        for v in values:
            v.sum().backward()
        errors[name] = max(relative(values[1], values[0]), relative(leaves[1].grad, leaves[0].grad))
    for layout, fullgraph in (("class indices", True), ("region", True), ("sample", False)):
        spec = next(s for s in SPECS if s.target == layout)
        errors[layout] = compiled_loss_case(spec, sizes, rank, fullgraph)
    return errors


def worker(rank: int, world: int, store: str, out: str) -> None:
    """One process: every case of this world size, errors written to ``out/rank<rank>.json``."""
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=world, timeout=timedelta(seconds=60)
    )
    try:
        results = {}
        ids = iter(case_ids(world))
        for spec in SPECS:
            for variant in variants(spec):
                for split, sizes in SHARDS[world].items():
                    if split != "ignored" or takes_ignore_index(spec):
                        results[next(ids)] = run_case(spec, variant, split, sizes, rank)
        for split, sizes in SHARDS[world].items():
            results[f"all_gather_with_grad-{split}"] = gather_case(sizes, rank)
        results["compiled"] = compile_case(SHARDS[world]["uneven"], rank)
        with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()
