r"""Exact global losses under data parallelism, on ``torch.distributed``.

Under ``DistributedDataParallel`` (DDP) every process computes the loss of its own shard of the batch,
and DDP averages the processes' gradients. A loss whose value depends on more than one sample then
changes meaning: a ``'mean'`` over uneven shards, or with ``ignore_index`` or class weights, is a
mean of means; a batch Dice is one process's Dice; a contrastive loss sees only local negatives. The
losses that couple the samples of a batch take ``sync``: ``sync=True`` (the default group) or a
process group makes their value the one of the whole batch, the concatenation of every process's
shard, on every process.

Two collectives do it, each an ``autograd.Function`` with its exact backward:

- :func:`all_sum`, a sum over processes (``dist.all_reduce``): the numerator and the count of a
  global mean, the TP, FP and FN of a batch Dice;
- :func:`all_gather_with_grad`, the rows of every process (``dist.all_gather_single``; shards of
  any size, empty ones included): a contrastive loss's candidates. Its backward gives each process
  the gradient of its own rows summed over the processes, a reduce-scatter
  (``dist.reduce_scatter_single``). A gather whose backward keeps only the local gradient (as
  ``torch.distributed.all_gather`` used under autograd, whose output carries no gradient, or a
  backward that returns the local slice) loses the other processes' share.

**The scaling rule.** Every process returns the same global loss :math:`L = \sum_p s_p / n`, with
:math:`s_p` process :math:`p`'s sum and :math:`n` the global count. Process :math:`p` can
differentiate only through its own :math:`s_p`, which gives :math:`\partial s_p / n`; DDP then
averages over the :math:`P` processes, giving :math:`\frac{1}{P} \sum_p \partial s_p / n`, which is
:math:`1/P` of :math:`\partial L`. The exact backward of a sum over processes is the sum over
processes of the incoming gradients; each process back-propagates the same :math:`L` with the same
gradient, so that sum is :math:`P` times the local one. :func:`all_sum`'s backward multiplies by
:math:`P` (instead of a second collective), and that is the one place the rule is applied: with DDP's
average, every parameter then gets exactly the gradient of the single-process loss on the
concatenated batch. A process's gradient with respect to its own inputs is :math:`P` times the
single-process gradient of those rows. The rule assumes what DDP training does: every process
back-propagates the returned loss with the same weight (no per-process loss scale, the same number
of accumulation steps); the group of ``sync`` is the group DDP averages over (with a smaller group
the factor would be that group's size); and every parameter the loss depends on is inside the DDP
model, whose average completes the rule. A gather keeps the rule: its reduce-scatter returns each
process the part of every process's gradient that belongs to its rows. Where each process computes
its rows' losses and :func:`all_sum` sums them, those parts already carry the factor :math:`P`;
where every process computes the whole loss from the gathered rows (Lovász's batch extension),
the :math:`P` equal parts summed are the factor. A loss module's own parameters (the logit scale of
:class:`~lossref.ClipLoss`) belong in the wrapped model too: outside it, each process would keep
its own gradient, and the processes' parameters would drift apart.

**What it costs.** A global mean adds one all-reduce of two numbers per call (a batch Dice, of a few
per class). A gather sends this process's rows to every process and, in the backward, receives its
rows' summed gradient: for a contrastive loss, the embeddings, in the dtype the loss computes in
(float32 under autocast, as every loss does). Shards are padded to the longest for the collective,
so very uneven shards send more. Every process must call a synced loss, and run its backward, in
the same order: each call is a collective that waits for the other processes (a process that skips
one waits until the group's timeout).

Written for every backend; tested on the CPU with gloo (``tests/test_distributed.py``). NCCL (CUDA)
takes the same calls on CUDA tensors but has not been tested. Under ``torch.compile`` the global
means compile whole (``fullgraph=True``) with a process group; a gather reads the shards' lengths,
which the graph cannot hold, so the losses that gather need ``fullgraph=False`` there. When
``torch.distributed`` is not initialised, or the group has one process, ``sync`` does nothing: the
loss runs its local code, and every loss compiles whole.

Examples:
    >>> import torch
    >>> from lossref import cross_entropy
    >>> from lossref.distributed import all_gather_with_grad
    >>> x, y = torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    >>> # not initialised: the local loss, and the gather returns its input
    >>> cross_entropy(x, y, sync=True).item() == cross_entropy(x, y).item()
    True
    >>> all_gather_with_grad(x) is x
    True
"""

from __future__ import annotations

from typing import Any, Optional, Union

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["Sync", "all_gather_with_grad", "all_sum", "group_of"]

if dist.is_available():
    from torch.distributed import ProcessGroup
else:  # a torch built without distributed: there is no group, and sync is a bool

    class ProcessGroup:  # type: ignore[no-redef]
        pass


#: ``False``: the local loss; ``True``: global over the default process group; a ``ProcessGroup``:
#: global over that group
Sync = Union[bool, ProcessGroup]


def check_sync(sync: Sync) -> Sync:
    """``sync`` itself, a bool or a ``ProcessGroup`` (a module checks it when it is built).

    Raises:
        TypeError: ``sync`` is neither.
    """
    if not isinstance(sync, (bool, ProcessGroup)):
        raise TypeError(f"sync must be a bool or a torch.distributed.ProcessGroup, got {type(sync).__name__}")
    return sync


def group_of(sync: Sync) -> Optional[ProcessGroup]:
    """The process group a loss synchronises over: ``None`` (local) for ``sync=False``, and where
    ``torch.distributed`` is not initialised or the group has one process.

    Raises:
        TypeError: ``sync`` is neither a bool nor a ``ProcessGroup``.
    """
    if check_sync(sync) is False or not (dist.is_available() and dist.is_initialized()):
        return None
    group = dist.group.WORLD if isinstance(sync, bool) else sync
    return None if dist.get_world_size(group) == 1 else group


def _no_vmap(*_: Any) -> Any:
    raise ValueError(
        "sync cannot run under torch.func.vmap: a collective sums or gathers the processes' tensors"
    )


class _AllSum(torch.autograd.Function):
    """The sum over processes; its backward is the scaling rule (module docs)."""

    @staticmethod
    def forward(x: Tensor, group: ProcessGroup) -> Tensor:
        total = x.clone()
        dist.all_reduce(total, dist.ReduceOp.SUM, group=group)
        return total

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, ProcessGroup], output: Tensor) -> None:
        ctx.world_size = dist.get_world_size(inputs[1])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad * ctx.world_size, None

    vmap = staticmethod(_no_vmap)


def all_sum(tensor: Tensor, group: Optional[ProcessGroup] = None) -> Tensor:
    """The sum of ``tensor`` over the processes of ``group`` (default: every process), differentiable.

    Its backward multiplies the gradient by the number of processes: the sum over processes of the
    incoming gradients, when every process back-propagates the same loss (the scaling rule of the
    module docs). Without an initialised ``torch.distributed`` it returns ``tensor``.
    """
    return sum_over(tensor, group_of(True if group is None else group))


def sum_over(x: Tensor, group: Optional[ProcessGroup]) -> Tensor:
    """:func:`all_sum` over a group :func:`group_of` resolved (``x`` itself for ``None``), as the losses
    call it: the group is checked once per call, where the loss reads ``sync``."""
    return x if group is None else _AllSum.apply(x, group)


class _GatherRows(torch.autograd.Function):
    """The rows (dimension 0) of every process, in rank order, and each process's number of rows;
    shards may differ in length."""

    @staticmethod
    def forward(x: Tensor, group: ProcessGroup) -> tuple[Tensor, Tensor]:
        world = dist.get_world_size(group)
        counts = torch.empty(world, dtype=torch.int64, device=x.device)
        dist.all_gather_single(counts, torch.tensor([x.shape[0]], device=x.device), group=group)
        # all_gather_single takes one length: every shard padded to the longest
        longest = int(counts.max())
        padded = x.new_zeros((longest, *x.shape[1:]))
        padded[: x.shape[0]] = x
        gathered = x.new_empty((world * longest, *x.shape[1:]))
        dist.all_gather_single(gathered, padded, group=group)
        return gathered[_rows(counts, longest)], counts

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, ProcessGroup], output: tuple[Tensor, Tensor]) -> None:
        ctx.group, ctx.counts, ctx.local = inputs[1], output[1], inputs[0].shape[0]
        ctx.mark_non_differentiable(output[1])

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _: Optional[Tensor]) -> tuple[Tensor, None]:
        longest = int(ctx.counts.max())
        padded = grad.new_zeros((len(ctx.counts) * longest, *grad.shape[1:]))
        padded[_rows(ctx.counts, longest)] = grad
        mine = grad.new_empty((longest, *grad.shape[1:]))
        # every process's gradient of this process's rows, summed: a reduce-scatter
        dist.reduce_scatter_single(mine, padded, dist.ReduceOp.SUM, group=ctx.group)
        return mine[: ctx.local], None

    vmap = staticmethod(_no_vmap)


def _rows(counts: Tensor, longest: int) -> Tensor:
    """The gathered rows' places among the padded shards."""
    return torch.cat([torch.arange(p * longest, p * longest + n) for p, n in enumerate(counts.tolist())]).to(
        counts.device
    )


def gather_rows(x: Tensor, group: Optional[ProcessGroup]) -> tuple[Tensor, int]:
    """Every process's rows of ``x`` (``x`` itself without a group) and where this process's begin."""
    if group is None:
        return x, 0
    gathered, counts = _GatherRows.apply(x, group)
    return gathered, int(counts[: dist.get_rank(group)].sum())


def all_gather_with_grad(tensor: Tensor, group: Optional[ProcessGroup] = None) -> Tensor:
    """The concatenation along dimension 0 of ``tensor`` from every process of ``group`` (default:
    every process), in rank order. The shards may have different lengths, 0 included; the other
    dimensions must agree.

    Differentiable: the backward gives this process the gradient of its own rows summed over every
    process (a reduce-scatter), the exact gradient of the gather. Without an initialised
    ``torch.distributed`` it returns ``tensor``.
    """
    return gather_rows(tensor, group_of(True if group is None else group))[0]
