"""The processes of the chapter "Losses under data parallelism".

The notebook cannot give a function it defines to a new process: the
``spawn`` start method pickles a function by its name, and the new process
imports it. So the work of every process lives in this module.
:func:`run` starts the processes, waits for them (and kills any that is
still alive after a time limit) and returns what each one wrote.
:func:`worker` is one process: it joins the group (gloo, on the CPU),
runs every experiment of the chapter on its shard of each batch, and
writes its results to a JSON file. Only the notebook prints.

The batches and the models are made here by seeded functions, so that the
notebook computes the single-process reference on the same numbers.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import tempfile
import time
from datetime import timedelta
from typing import Any, Callable, Iterator

import lossref
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from lossref.distributed import all_gather_with_grad, all_sum
from lossref.registry import LOSSES
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

#: the number of processes of the chapter's experiments
WORLD = 3
#: the class targets that ``ignore_index`` hides in the classification
#: batch: 1 of the 2 samples of process 0, 3 of the 6 of process 2
IGNORED = (1, 6, 7, 11)
#: the classification experiment: each case's shard sizes, and whether it
#: ignores the targets IGNORED and weights the classes
CASES = {
    "equal shards": ([4, 4, 4], False, False),
    "uneven shards": ([2, 4, 6], False, False),
    "+ ignore_index": ([2, 4, 6], True, False),
    "+ class weight": ([2, 4, 6], True, True),
}
#: segmentation: the side of each image's square object, in pixels
SIDES = (2, 3, 4, 8, 10, 12)
#: ... and the images of each process: the small objects on process 0
SEGMENT_SIZES = [1, 2, 3]
#: contrastive batches: uneven shards for the gathers, even for CLIP
GATHER_SIZES = [2, 3, 4]
CLIP_SIZES = [4, 4, 4]
#: training: steps of SGD on a new batch of 12 image-text pairs each
STEPS, LEARNING_RATE = 5, 0.5


def shard(sizes: list[int], rank: int) -> slice:
    """The rows of process ``rank`` in a batch split into ``sizes``."""
    begin = sum(sizes[:rank])
    return slice(begin, begin + sizes[rank])


# -- the batches and models, the same in every process and in the notebook


def classification_batch(ignore: bool) -> tuple[Tensor, Tensor, Tensor]:
    """12 samples of 4 features, their classes (of 3), a class weight."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(12, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (12,), generator=g)
    if ignore:
        y[list(IGNORED)] = -100
    weight = torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64)
    return x, y, weight


def classifier(dtype: torch.dtype = torch.float64) -> nn.Linear:
    """A linear classifier, 4 features to 3 classes, seeded weights."""
    g = torch.Generator().manual_seed(1)
    layer = nn.Linear(4, 3, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(3, 4, generator=g))
        layer.bias.zero_()
    return layer


def segmentation_batch() -> tuple[Tensor, Tensor]:
    """6 noisy 16 x 16 images and their masks: a square object each."""
    g = torch.Generator().manual_seed(2)
    masks = torch.zeros(len(SIDES), 16, 16, dtype=torch.float64)
    for i, side in enumerate(SIDES):
        masks[i, 2 : 2 + side, 2 : 2 + side] = 1.0
    noise = torch.randn(masks.shape, generator=g, dtype=torch.float64)
    return 2 * (2 * masks - 1) + 2 * noise, masks


class PixelLogit(nn.Module):
    """A per-pixel logit a x + b of an image x: the smallest segmenter."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
        self.b = nn.Parameter(torch.tensor(0.0, dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        return self.a * x + self.b


def pairs(n: int, dim: int, seed: int) -> tuple[Tensor, Tensor]:
    """``n`` pairs of related embeddings: the second is the first plus
    noise."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, dim, generator=g, dtype=torch.float64)
    return a, a + 0.8 * torch.randn(
        n, dim, generator=g, dtype=torch.float64
    )


class TwoTowers(nn.Module):
    """An image encoder, a text encoder and the CLIP loss with its scale:
    one module, so that DDP averages the scale's gradient too."""

    def __init__(self, sync: bool) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.image = nn.Linear(6, 4, dtype=torch.float64)
        self.text = nn.Linear(6, 4, dtype=torch.float64)
        with torch.no_grad():
            for layer in (self.image, self.text):
                layer.weight.copy_(torch.randn(4, 6, generator=g))
                layer.bias.zero_()
        self.loss = lossref.ClipLoss(sync=sync).to(torch.float64)

    def forward(self, images: Tensor, texts: Tensor) -> Tensor:
        return self.loss(self.image(images), self.text(texts))


class Encoders(nn.Module):
    """The two encoders of ``towers`` without its loss."""

    def __init__(self, towers: TwoTowers) -> None:
        super().__init__()
        self.image, self.text = towers.image, towers.text

    def forward(
        self, images: Tensor, texts: Tensor
    ) -> tuple[Tensor, Tensor]:
        return self.image(images), self.text(texts)


def parameters(module: nn.Module) -> list[float]:
    return torch.cat(
        [p.detach().flatten() for p in module.parameters()]
    ).tolist()


def gradients(module: nn.Module) -> list[float]:
    return torch.cat(
        [p.grad.flatten() for p in module.parameters()]
    ).tolist()


# -- the experiments: each returns this process's results as plain lists


def mean_of_means(rank: int) -> dict[str, Any]:
    """cross_entropy of each case, local and with sync, under DDP: the
    loss, the parameters' gradients after DDP's average, and the gradient
    of the loss with respect to this process's logits."""
    out: dict[str, Any] = {}
    for case, (sizes, ignore, weighted) in CASES.items():
        x, y, weight = classification_batch(ignore)
        mine = shard(sizes, rank)
        for sync in (False, True):
            model = DistributedDataParallel(classifier())
            logits = model(x[mine])
            logits.retain_grad()
            loss = lossref.cross_entropy(
                logits, y[mine], weight if weighted else None, sync=sync
            )
            loss.backward()
            out[f"{case}, sync={sync}"] = {
                "loss": loss.item(),
                "grad": gradients(model.module),
                "logits_grad": logits.grad.tolist(),
            }
    return out


def batch_dice(rank: int) -> dict[str, Any]:
    """dice_loss over the batch and per image, local and with sync."""
    images, masks = segmentation_batch()
    mine = shard(SEGMENT_SIZES, rank)
    out = {}
    for per_image in (False, True):
        for sync in (False, True):
            model = DistributedDataParallel(PixelLogit())
            loss = lossref.dice_loss(
                model(images[mine]),
                masks[mine],
                "binary",
                per_image=per_image,
                sync=sync,
            )
            loss.backward()
            out[f"per_image={per_image}, sync={sync}"] = {
                "loss": loss.item(),
                "grad": gradients(model.module),
            }
    return out


class LocalSliceGather(torch.autograd.Function):
    """The bug: a gather whose backward returns this process's slice of
    its own gradient only (lightly's GatherLayer before its fix)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, start: int) -> Tensor:
        ctx.rows = slice(start, start + len(x))
        # inside a Function's forward autograd records nothing: this is a
        # plain gather, and backward below is its only gradient
        return all_gather_with_grad(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad[ctx.rows], None


def gather_put_back(x: Tensor, start: int) -> Tensor:
    """Every process's rows without gradient, this process's own rows put
    back in their place: their gradient is this process's only."""
    rows = all_gather_with_grad(x.detach())
    return torch.cat([rows[:start], x, rows[start + len(x) :]])


def gather_with_grad(x: Tensor, start: int) -> Tensor:
    """lossref's gather, whose backward is the reduce-scatter (``start``
    is unused: the signature of the two buggy gathers)."""
    return all_gather_with_grad(x)


def local_info_nce(
    q: Tensor,
    k: Tensor,
    gather: Callable[[Tensor, int], Tensor],
    start: int,
) -> Tensor:
    """InfoNCE (tau = 0.1) of this process's queries against every key,
    this process's keys starting at row ``start``: the sum over the local
    queries, then the global mean."""
    keys = gather(F.normalize(k), start)
    logits = F.normalize(q) @ keys.T / 0.1
    total = -logits.log_softmax(-1).diagonal(start).sum()
    count = torch.tensor(float(len(q)), dtype=q.dtype)
    total, count = all_sum(torch.stack([total, count])).unbind()
    return total / count


def gathers(rank: int) -> dict[str, Any]:
    """The gradients of the queries and keys of this process, through
    lossref's info_nce and three gathers."""
    q, k = pairs(sum(GATHER_SIZES), 5, seed=4)
    mine = shard(GATHER_SIZES, rank)
    start = mine.start
    ways: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
        "lossref": lambda a, b: lossref.info_nce(a, b, sync=True),
        "with grad": lambda a, b: local_info_nce(
            a, b, gather_with_grad, start
        ),
        "local slice": lambda a, b: local_info_nce(
            a, b, LocalSliceGather.apply, start
        ),
        "put back": lambda a, b: local_info_nce(
            a, b, gather_put_back, start
        ),
    }
    out = {}
    for name, loss_of in ways.items():
        a = q[mine].clone().requires_grad_()
        b = k[mine].clone().requires_grad_()
        loss = loss_of(a, b)
        loss.backward()
        out[name] = {
            "loss": loss.item(),
            "q": a.grad.tolist(),
            "k": b.grad.tolist(),
        }
    return out


class SumWithoutScale(torch.autograd.Function):
    """A sum over processes whose backward passes the gradient through,
    without the factor P."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        total = x.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


def scaling(rank: int) -> dict[str, Any]:
    """The scaling rule: a global mean whose sum has no factor P in its
    backward, under DDP; and cross_entropy with ``sync=`` a group of 2
    processes (ranks 0 and 1, the first 6 samples) under DDP over all 3
    processes: the logits' gradient, and the parameters' gradient after
    DDP's average (rank 2 back-propagates a zero loss, so that it takes
    part in DDP's all-reduce)."""
    x, y, _ = classification_batch(ignore=False)
    sizes = CASES["uneven shards"][0]
    mine = shard(sizes, rank)
    model = DistributedDataParallel(classifier())
    losses = F.cross_entropy(model(x[mine]), y[mine], reduction="none")
    count = torch.tensor(float(len(losses)), dtype=losses.dtype)
    total, count = SumWithoutScale.apply(
        torch.stack([losses.sum(), count])
    ).unbind()
    (total / count).backward()
    out: dict[str, Any] = {"no factor P": gradients(model.module)}
    pair = dist.new_group([0, 1])  # every process takes part in this call
    model = DistributedDataParallel(classifier())
    if rank < 2:
        logits = model(x[shard([2, 4], rank)])
        logits.retain_grad()
        lossref.cross_entropy(
            logits, y[shard([2, 4], rank)], sync=pair
        ).backward()
        out["pair logits_grad"] = logits.grad.tolist()
    else:
        (0 * model(x[:1]).sum()).backward()
    out["pair, DDP over 3"] = gradients(model.module)
    return out


def clip(rank: int) -> dict[str, Any]:
    """clip_loss of 12 pairs on 3 processes: local and with sync."""
    images, texts = pairs(sum(CLIP_SIZES), 8, seed=5)
    mine = shard(CLIP_SIZES, rank)
    out = {}
    for sync in (False, True):
        x = images[mine].clone().requires_grad_()
        y = texts[mine].clone().requires_grad_()
        loss = lossref.clip_loss(x, y, math.log(1 / 0.07), sync=sync)
        loss.backward()
        out[f"sync={sync}"] = {
            "loss": loss.item(),
            "x": x.grad.tolist(),
            "y": y.grad.tolist(),
        }
    return out


def clip_saved(rank: int) -> dict[str, int]:
    """The tensors that autograd keeps for the backward pass of
    clip_loss(sync=True) with a learned scale, on 12 pairs of 5
    coordinates (n = 4 on each process, N = 12): how many blocks of N x D
    values (the gathered embeddings) and of n x N values (logits) it
    keeps. Each storage is counted once (a transposed view shares its
    storage)."""
    n, big_n, dim = CLIP_SIZES[rank], sum(CLIP_SIZES), 5
    x, y = (t[shard(CLIP_SIZES, rank)] for t in pairs(big_n, dim, seed=5))
    x, y = x.clone().requires_grad_(), y.clone().requires_grad_()
    scale = torch.tensor(2.0, dtype=x.dtype, requires_grad=True)
    kept: dict[int, int] = {}  # storage address: its number of values

    def keep(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        kept[storage.data_ptr()] = storage.nbytes() // t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda t: t):
        lossref.clip_loss(x, y, scale, sync=True)
    sizes = list(kept.values())
    return {
        "N x D": sizes.count(big_n * dim),
        "n x N": sizes.count(n * big_n),
    }


def training_batch(step: int) -> tuple[Tensor, Tensor]:
    """The 12 image-text pairs of one step, 6 features each."""
    return pairs(12, 6, seed=100 + step)


def train(sync: bool, rank: int) -> list[float]:
    """STEPS of SGD under DDP, each process on its shard of each batch;
    the parameters at the end."""
    model = DistributedDataParallel(TwoTowers(sync))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    mine = shard(CLIP_SIZES, rank)
    for step in range(STEPS):
        images, texts = training_batch(step)
        # with sync=True: the loss of the whole batch, on every process
        loss = model(images[mine], texts[mine])
        optimizer.zero_grad()
        loss.backward()  # DDP averages the gradients over the processes
        optimizer.step()
    return parameters(model.module)


def training(rank: int) -> dict[str, Any]:
    """Training with sync and without; and one step of SGD with the loss
    module outside DDP: the gradient of its scale on this process, and
    the scale after the step."""
    out: dict[str, Any] = {
        f"sync={s}": train(s, rank) for s in (True, False)
    }
    towers = TwoTowers(sync=True)
    encoders = DistributedDataParallel(Encoders(towers))
    optimizer = torch.optim.SGD(towers.parameters(), lr=LEARNING_RATE)
    images, texts = training_batch(0)
    mine = shard(CLIP_SIZES, rank)
    towers.loss(*encoders(images[mine], texts[mine])).backward()
    out["scale grad outside DDP"] = towers.loss.logit_scale.grad.item()
    optimizer.step()
    out["scale after a step"] = towers.loss.logit_scale.item()
    return out


def stability(rank: int) -> dict[str, Any]:
    """float32: process 0's 3 targets all ignored (shards 3, 4, 5)."""
    x, y, _ = classification_batch(ignore=False)
    y[:3] = -100
    mine = shard([3, 4, 5], rank)
    out = {}
    for sync in (False, True):
        model = DistributedDataParallel(classifier(torch.float32))
        loss = lossref.cross_entropy(
            model(x[mine].float()), y[mine], sync=sync
        )
        with torch.no_grad():
            torch_loss = F.cross_entropy(
                model.module(x[mine].float()), y[mine]
            )
        loss.backward()
        out[f"sync={sync}"] = {
            "loss": loss.item(),
            "torch": torch_loss.item(),
            "grad": gradients(model.module),
        }
    return out


@contextlib.contextmanager
def spying(name: str) -> Iterator[list[Tensor]]:
    """The tensors this process puts into the collective ``dist.<name>``
    while the block runs (its data argument: the second one of a gather,
    the first one of an all-reduce)."""
    sent: list[Tensor] = []
    collective = getattr(dist, name)
    where = 1 if name == "all_gather_single" else 0

    def spy(*args: Any, **kwargs: Any) -> Any:
        sent.append(args[where])
        return collective(*args, **kwargs)

    setattr(dist, name, spy)
    try:
        yield sent
    finally:
        setattr(dist, name, collective)


def collectives(rank: int) -> dict[str, Any]:
    """What lossref sends: the dtypes of clip_loss's gather on bfloat16
    features, without autocast and under it (CPU); and the all-reduces
    of one forward and backward pass of cross_entropy with sync (no DDP,
    whose own all-reduce does not go through dist.all_reduce)."""
    x, y = (t[shard(CLIP_SIZES, rank)] for t in pairs(12, 8, seed=5))
    out: dict[str, Any] = {}
    for autocast in (False, True):
        with (
            spying("all_gather_single") as sent,
            torch.autocast("cpu", torch.bfloat16, enabled=autocast),
        ):
            lossref.clip_loss(x.bfloat16(), y.bfloat16(), 2.0, sync=True)
        dtypes = {t.dtype for t in sent if t.is_floating_point()}
        out[f"autocast={autocast}"] = sorted(  # not the shards' lengths
            str(d).removeprefix("torch.") for d in dtypes
        )
    x, y, _ = classification_batch(ignore=False)
    mine = shard(CASES["uneven shards"][0], rank)
    logits = classifier()(x[mine])
    with spying("all_reduce") as sent:
        lossref.cross_entropy(logits, y[mine], sync=True).backward()
    out["cross_entropy all_reduce"] = [t.numel() for t in sent]
    return out


# -- the check of every loss that takes sync (the chapter's Verification)


def relative(ours: Tensor, reference: Tensor) -> float:
    """max |ours - reference| / max |reference| (0 for empty tensors)."""
    if ours.numel() == 0:
        return 0.0
    scale = reference.abs().max().clamp_min(1e-300)
    return ((ours - reference).abs().max() / scale).item()


def registry_case(
    spec: Any,
    kwargs: dict,
    sizes: list[int],
    ignore_first: bool,
    rank: int,
) -> list[float]:
    """One loss on one split (with ``ignore_first``, every target of
    process 0 ignored): the errors of the value and of the input gradient
    (against P x the single-process gradient) with sync, and the error of
    the local loss's value."""
    shape = (7, 5)
    if spec.target == "region":
        shape = (7, 3, 4, 4) if spec.region_classes else (7, 4, 4)
    inputs = spec.make_inputs(
        shape,
        seed=0,
        dtype=torch.float64,
        weighted=True,
    )
    if ignore_first:
        target = inputs.args["target"].clone()
        target[: sizes[0]] = -100
        inputs = inputs.replace(target=target)
    learned = [k for k, v in inputs.args.items() if v.is_floating_point()]

    def value_and_grads(
        args: dict[str, Tensor], sync: bool
    ) -> list[Tensor]:
        leaves = {
            k: v.clone().requires_grad_(k in learned)
            for k, v in args.items()
        }
        value = spec.call(inputs.replace(**leaves), sync=sync, **kwargs)
        grads = torch.autograd.grad(
            value.sum(), [leaves[k] for k in learned]
        )
        return [value.detach(), *grads]

    mine = shard(sizes, rank)
    one, *one_grads = value_and_grads(inputs.args, sync=False)
    local = {k: v[mine] for k, v in inputs.args.items()}
    value, *grads = value_and_grads(local, sync=True)
    naive = value_and_grads(local, sync=False)[0]
    world = dist.get_world_size()
    grad_error = max(
        relative(g, world * o[mine])
        for g, o in zip(grads, one_grads, strict=True)
    )
    naive_error = (
        relative(naive, one) if not torch.isnan(naive) else math.inf
    )
    return [relative(value, one), grad_error, naive_error]


def registry(rank: int) -> dict[str, list[float]]:
    """Every registry loss that takes sync, the reductions 'mean' and
    'sum' (and both batch modes), on uneven shards, with an empty shard,
    and (where the loss takes ignore_index) with a shard whose targets are
    all ignored."""
    out = {}
    for spec in (s for s in LOSSES if s.sync is not None):
        signature = inspect.signature(spec.function).parameters
        modes = (False, True) if "per_image" in signature else (None,)
        splits = [([1, 2, 4], False), ([0, 3, 4], False)]
        if "ignore_index" in signature:
            splits.append(([2, 2, 3], True))
        for reduction in ("mean", "sum"):
            for per_image in modes:
                kwargs: dict[str, Any] = {"reduction": reduction}
                if per_image is not None:
                    kwargs["per_image"] = per_image
                for sizes, ignore_first in splits:
                    case = f"{spec.name} {kwargs} {sizes}"
                    out[case] = registry_case(
                        spec, kwargs, sizes, ignore_first, rank
                    )
    return out


def all_gather_rows(rank: int) -> dict[str, float]:
    """all_gather_with_grad of shards of sizes (2, 0, 5) and (1, 2, 4):
    the rows, and the gradient of a loss every process computes on
    them."""
    out = {}
    for sizes in ([2, 0, 5], [1, 2, 4]):
        g = torch.Generator().manual_seed(6)
        full = torch.randn(7, 3, generator=g, dtype=torch.float64)
        weight = torch.randn(7, 3, generator=g, dtype=torch.float64)
        mine = shard(sizes, rank)
        x = full[mine].clone().requires_grad_()
        rows = all_gather_with_grad(x)
        (rows * weight).sum().backward()  # every process: the same loss
        expected = dist.get_world_size() * weight[mine]
        out[str(sizes)] = max(
            relative(rows.detach(), full), relative(x.grad, expected)
        )
    return out


EXPERIMENTS: dict[str, Callable[[int], Any]] = {
    "mean_of_means": mean_of_means,
    "dice": batch_dice,
    "gathers": gathers,
    "scaling": scaling,
    "clip": clip,
    "training": training,
    "stability": stability,
    "collectives": collectives,
    "clip saved": clip_saved,
    "registry": registry,
    "all_gather": all_gather_rows,
}


def worker(rank: int, world: int, folder: str) -> None:
    """One process: runs every experiment, writes ``rank<r>.json``."""
    # what gloo prints goes to a file, not into the notebook
    with open(os.path.join(folder, f"rank{rank}.log"), "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"file://{os.path.join(folder, 'store')}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=60),
    )
    try:
        results = {
            name: run_one(rank) for name, run_one in EXPERIMENTS.items()
        }
        with open(os.path.join(folder, f"rank{rank}.json"), "w") as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()


def run(
    world: int = WORLD, timeout: float = 120.0
) -> list[dict[str, Any]]:
    """Start ``world`` processes, wait at most ``timeout`` seconds, and
    return each one's results, by rank. If a process fails or runs over
    the time, the error says so and holds the end of rank 0's log."""
    with tempfile.TemporaryDirectory() as folder:
        # the new interpreters print no warning while they import torch
        # and lossref: that happens before worker() redirects their output
        warnings = os.environ.get("PYTHONWARNINGS")
        os.environ["PYTHONWARNINGS"] = "ignore"
        try:
            context = mp.start_processes(
                worker,
                args=(world, folder),
                nprocs=world,
                join=False,
                start_method="spawn",
            )
        finally:
            if warnings is None:
                del os.environ["PYTHONWARNINGS"]
            else:
                os.environ["PYTHONWARNINGS"] = warnings
        deadline = time.monotonic() + timeout
        try:
            while not context.join(timeout=1.0):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{world} processes ran over {timeout} s"
                    )
        except Exception as error:
            raise RuntimeError(
                f"{error}\nrank 0's log ends:\n{log_end(folder)}"
            ) from error
        finally:
            for process in context.processes:  # only after a failure
                if process.is_alive():
                    process.kill()
                    process.join()
        results = []
        for rank in range(world):
            with open(os.path.join(folder, f"rank{rank}.json")) as f:
                results.append(json.load(f))
        return results


def log_end(folder: str, characters: int = 2000) -> str:
    """The last characters of rank 0's log (empty if it has none)."""
    try:
        with open(os.path.join(folder, "rank0.log")) as f:
            return f.read()[-characters:]
    except OSError:
        return ""
