"""Cost of the global losses (sync=True) against the local loss on 2 CPU processes, and bytes per step.

The global losses are those of lossref.distributed: ``sync=True`` makes a loss the whole batch's
across the processes. This times them against the local loss (``sync=False``) and counts the bytes
they communicate.

Run: ``python benchmarks/distributed.py`` (``--losses NAME ...`` to pick among the registry's losses
with ``sync``, ``--compile`` to try ``torch.compile`` of the global loss as well). Two processes
(gloo, one thread each, so that the two use two cores) each hold their half of the batch that
benchmarks/run.py times for the loss's layout (the registry's unweighted inputs, seed 0), the rows
``rank * N / 2`` to ``(rank + 1) * N / 2``. Each step is one forward and backward of the loss,
``reduction='mean'``, on this process's shard: ``sync=False`` (local: this shard's loss) against
``sync=True`` (global: the whole batch's loss, through the collectives). A region loss runs with
``per_image=True`` and ``per_image=False``. The
differentiable arguments and the learnable parameters are leaves that need a gradient, as the outputs
of a model would be (both embeddings of a contrastive loss, so that the backward of a gather runs).

As in benchmarks/run.py, only ratios measured side by side in one run mean anything: the steps are
timed in alternating rounds, and the ratio is the median over the rounds of the ratio within a round,
printed with its interquartile range (rank 0's clock). The collectives need every process to run the
same calls, so both processes run the same number of steps in every block (fixed once, from the
slower process's warm step) and meet at a barrier before and after each block; a block's time is
until both processes are done, for the local loss too, which runs in the same lockstep, so that both
forms share the cores the same way and both are timed as a data-parallel step sees them. The global
loss also waits at each of its collectives for the other process: on a loaded machine that wait for
the slower process, not the bytes, is most of its cost where it sends a few scalars.

Bytes per step: during one untimed step, every collective lossref calls through ``torch.distributed``
(``all_reduce``, ``all_gather_single``, ``reduce_scatter_single``, and the other gathers, scatters and
broadcasts, should a loss use them) is wrapped to add up the bytes of the tensor this process puts in:
``all_reduce``'s tensor, a gather's local shard (``all_gather_single``'s input: this process's rows,
padded to the longest shard) and a reduce-scatter's whole input (the gradient of every process's rows,
``world`` shards). Forward and backward together, on rank 0; what arrives is not counted, nor what the
transport adds. The local loss sends nothing (checked).

``--compile``: the global loss compiled with inductor, first ``fullgraph=True``; where that fails,
without it. The ``compile`` column says ``whole`` (one graph), ``breaks`` (graphs with breaks between
them, with the reason ``fullgraph=True`` gave) or ``fails`` (neither runs); where it runs, its value
is checked against the eager global loss (``WRONG`` where it differs), it is timed in the same
rounds, and its ratio is to the eager local loss.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lossref.registry import LOSSES, LossInputs, LossSpec, get

_RUN = Path(__file__).resolve().with_name("run.py")
_spec = importlib.util.spec_from_file_location("benchmark_run", _RUN)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # its dataclasses look their module up there
_spec.loader.exec_module(bench)

WORLD = 2
#: the whole batch of --tiny (a smoke test): a few rows of every layout
TINY_SHAPES = {"class indices": [(8, 5), (4, 3, 4, 4)], "region": [(4, 2, 8, 8)], "sample": [(8, 16)]}
#: the collectives counted, and the argument each one sends from this process
COLLECTIVES = {
    "all_reduce": "tensor",
    "broadcast": "tensor",
    "all_gather": "tensor",
    "all_gather_single": "input_tensor",
    "all_gather_into_tensor": "input_tensor",
    "reduce_scatter_single": "input",
    "reduce_scatter_tensor": "input",
}
#: the losses that gather rows of (n, D) embeddings
SAMPLE = {spec.name for spec in LOSSES if spec.target == "sample"}


@dataclass
class Case:
    """One row: a loss, its whole batch (both processes' shards) and, for a region loss, per_image."""

    loss: str
    shape: tuple[int, ...]
    per_image: Optional[bool] = None


@dataclass
class Result:
    case: Case
    shard: tuple[int, ...]
    #: seconds per step in every round, by step: "local", "global" and, with --compile, "compiled"
    rounds: dict[str, list[float]]
    #: bytes rank 0 sent per global step, and calls, by collective
    sent: dict[str, int]
    calls: dict[str, int]
    #: --compile: whether the global loss compiles whole, with breaks, or fails
    compile: str = ""


def sync_losses() -> list[str]:
    return [spec.name for spec in LOSSES if spec.sync is not None]


def cases(names: list[str], tiny: bool) -> list[Case]:
    out = []
    for name in names:
        spec = get(name)
        shapes = TINY_SHAPES[spec.target] if tiny else bench.shapes(spec)
        modes = [True, False] if "per_image" in inspect.signature(spec.function).parameters else [None]
        out += [Case(name, tuple(shape), per_image) for shape in shapes for per_image in modes]
    return out


def shard(spec: LossSpec, inputs: LossInputs, rank: int) -> LossInputs:
    """This process's rows of every positional argument; the options the registry precomputes from
    the target (the boundary loss's distance map) computed on the shard, as a user would."""
    n = inputs.input.shape[0]
    rows = slice(rank * n // WORLD, (rank + 1) * n // WORLD)
    mine = LossInputs({k: v[rows].clone() for k, v in inputs.args.items()}, {}, dict(inputs.parameters))
    if spec.precompute is not None:
        mine = LossInputs(mine.args, spec.precompute(mine), mine.parameters)
    return mine


def leaves(spec: LossSpec, inputs: LossInputs) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The positional arguments and the parameters, those that are differentiable as fresh leaves
    that need a gradient; and the leaves."""
    grads = {a.name for a in spec.args if a.differentiable}
    tensors, needs = [], []
    for name, t in [*inputs.args.items(), *inputs.parameters.items()]:
        if (name in grads or name in inputs.parameters) and t.is_floating_point():
            t = t.detach().clone().requires_grad_(True)
            needs.append(t)
        tensors.append(t)
    return tensors, needs


def loss_function(spec: LossSpec, inputs: LossInputs, case: Case, sync: bool) -> Callable[..., torch.Tensor]:
    keywords = {**spec.keywords, **inputs.options, "reduction": "mean", "sync": sync}
    if case.per_image is not None:
        keywords["per_image"] = case.per_image

    def loss(*tensors: torch.Tensor) -> torch.Tensor:
        return spec.function(*tensors, **keywords)

    return loss


def step_of(fn: Callable[..., torch.Tensor], spec: LossSpec, inputs: LossInputs) -> Callable[[], None]:
    tensors, needs = leaves(spec, inputs)

    def step() -> None:
        for t in needs:
            t.grad = None
        fn(*tensors).backward()

    return step


@contextmanager
def counting() -> Iterator[tuple[Counter, Counter]]:
    """The bytes this process puts into each collective called through ``torch.distributed``, and
    the calls, while the block runs."""
    sent: Counter = Counter()
    calls: Counter = Counter()
    originals = {name: getattr(dist, name) for name in COLLECTIVES}

    def wrap(name: str, original: Callable) -> Callable:
        signature = inspect.signature(original)

        def counted(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            sent[name] += bound.arguments[COLLECTIVES[name]].nbytes
            calls[name] += 1
            return original(*args, **kwargs)

        return counted

    for name, original in originals.items():
        setattr(dist, name, wrap(name, original))
    try:
        yield sent, calls
    finally:
        for name, original in originals.items():
            setattr(dist, name, original)


def first_line(e: BaseException) -> str:
    """The error's first line, and dynamo's own account of it where it gives one."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    why = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Developer debug context:")]
    return f"{type(e).__name__}: {lines[0] if lines else ''}{f' ({why[0]})' if why and why[0] else ''}"[:240]


def agreed(ok: bool) -> bool:
    """Whether every process succeeded."""
    flag = torch.tensor([int(ok)])
    dist.all_reduce(flag, dist.ReduceOp.MIN)
    return bool(flag.item())


def compiled_step(spec: LossSpec, inputs: LossInputs, case: Case) -> tuple[str, Optional[Callable[[], None]]]:
    """The global loss compiled: fullgraph=True, else without; its verdict and its step, if it runs.

    Tracing fails before any collective runs, and both processes trace the same code, so both take
    the same branch; they check that they agree before going on."""
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    eager = loss_function(spec, inputs, case, sync=True)
    tensors = leaves(spec, inputs)[0]
    expected = eager(*tensors).detach()
    reason = ""
    for fullgraph in (True, False):
        counters.clear()
        fn = torch.compile(eager, fullgraph=fullgraph)
        step = step_of(fn, spec, inputs)
        try:
            step()
            step()
            value = fn(*tensors).detach()
            error = None
        except Exception as e:  # a verdict to report, not a failure of the benchmark
            error = e
        if agreed(error is None):
            graphs = counters["stats"]["unique_graphs"]
            verdict = "whole" if fullgraph else f"breaks ({graphs} graphs; fullgraph=True: {reason})"
            if not torch.allclose(value, expected, rtol=1e-4, atol=1e-6):
                verdict += f"; WRONG value {value.item():.6g}, eager {expected.item():.6g}"
            return verdict, step
        reason = first_line(error) if error is not None else "failed on the other process"
        torch._dynamo.reset()
    return f"fails ({reason})", None


def timed(steps: dict[str, Callable[[], None]], rounds: int, min_time: float) -> dict[str, list[float]]:
    """Seconds per step of every step in ``rounds`` alternating rounds, in lockstep with the other
    process: the same number of steps per block on both (from the slower one's warm step), and a
    barrier before and after each block, whose time is until both processes are done."""
    for step in steps.values():
        step()
    once = []
    for step in steps.values():
        dist.barrier()
        start = time.perf_counter()
        step()
        once.append(time.perf_counter() - start)
    slowest = torch.tensor(once, dtype=torch.float64)
    dist.all_reduce(slowest, dist.ReduceOp.MAX)
    numbers = [max(1, math.ceil(min_time / rounds / t)) for t in slowest.tolist()]
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for (name, step), number in zip(steps.items(), numbers, strict=True):
            dist.barrier()
            start = time.perf_counter()
            for _ in range(number):
                step()
            dist.barrier()  # the block ends when both processes are done
            times[name].append((time.perf_counter() - start) / number)
    return times


def measure(case: Case, rank: int, rounds: int, min_time: float, compile_: bool) -> Result:
    spec = get(case.loss)
    mine = shard(spec, spec.make_inputs(case.shape, seed=0), rank)
    steps = {
        "local": step_of(loss_function(spec, mine, case, sync=False), spec, mine),
        "global": step_of(loss_function(spec, mine, case, sync=True), spec, mine),
    }
    steps["global"]()  # warm: the counted step is an ordinary one
    with counting() as (sent, calls):
        steps["global"]()
    with counting() as (_, local_calls):
        steps["local"]()
    assert not local_calls, f"the local {case.loss} called collectives: {dict(local_calls)}"
    verdict = ""
    if compile_:
        verdict, step = compiled_step(spec, mine, case)
        if step is not None:
            steps["compiled"] = step
    return Result(
        case,
        tuple(mine.input.shape),
        timed(steps, rounds, min_time),
        dict(sent),
        dict(calls),
        verdict,
    )


def worker(rank: int, store: str, out: str, config: dict) -> None:
    """One process: every case, in the same order as the other; rank 0 writes one JSON line each."""
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")  # two processes, two cores
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"file://{store}",
        rank=rank,
        world_size=WORLD,
        timeout=timedelta(seconds=config["timeout"]),
    )
    try:
        todo = [Case(c["loss"], tuple(c["shape"]), c["per_image"]) for c in config["cases"]]
        for i, case in enumerate(todo, 1):
            if rank == 0:
                per_image = "" if case.per_image is None else f" per_image={case.per_image}"
                print(f"[{i}/{len(todo)}] {case.loss} {case.shape}{per_image}", file=sys.stderr, flush=True)
            result = measure(case, rank, config["rounds"], config["min_time"], config["compile"])
            if rank == 0:
                with open(os.path.join(out, "results.jsonl"), "a") as f:
                    f.write(json.dumps(asdict(result)) + "\n")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def spawn(config: dict, timeout: float) -> list[Result]:
    """Both processes, bounded by ``timeout`` seconds (killed past it, or when one fails); the
    results rank 0 wrote, those of the cases it finished if it did not finish them all."""
    with tempfile.TemporaryDirectory() as directory:
        context = mp.start_processes(
            worker,
            args=(os.path.join(directory, "store"), directory, config),
            nprocs=WORLD,
            join=False,
            start_method="spawn",
        )
        deadline = time.monotonic() + timeout
        error: Optional[BaseException] = None
        try:
            while not context.join(timeout=max(1.0, min(10.0, deadline - time.monotonic()))):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the benchmark did not finish in {timeout:.0f} s")
        except Exception as e:
            error = e
        finally:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
                    process.join()
        path = Path(directory, "results.jsonl")
        lines = path.read_text().splitlines() if path.exists() else []
    results = []
    for line in lines:
        r = json.loads(line)
        r["case"] = Case(r["case"]["loss"], tuple(r["case"]["shape"]), r["case"]["per_image"])
        r["shard"] = tuple(r["shard"])
        results.append(Result(**r))
    if error is not None:
        print(table(results), file=sys.stderr)
        raise RuntimeError(f"{len(results)}/{len(config['cases'])} cases done") from error
    return results


def ratio(result: Result, mine: str) -> str:
    def measurement(name: str) -> Any:
        seconds = result.rounds[name]
        return bench.Measurement(
            result.case.loss, name, result.shard, statistics.median(seconds), tuple(seconds), 0, None
        )

    return str(bench.Ratio.of(measurement(mine), measurement("local")))


def size(n: int) -> str:
    if n < 2**10:
        return f"{n} B"
    return f"{n / 2**10:.1f} KiB" if n < 2**20 else f"{n / 2**20:.2f} MiB"


def table(results: list[Result]) -> str:
    compiled = any(r.compile for r in results)
    head = (
        "| loss | per_image | shard (per process) | local ms | global ms | global / local | bytes per step |"
    )
    head += " collectives (calls: bytes) |"
    if compiled:
        head += " compile | compiled global ms | compiled global / local |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        ms = {name: f"{statistics.median(t) * 1e3:.3f}" for name, t in r.rounds.items()}
        collectives = "; ".join(f"{name} {r.calls[name]}: {r.sent[name]:,}" for name in r.calls)
        per_image = "" if r.case.per_image is None else str(r.case.per_image)
        sent = sum(r.sent.values())
        line = (
            f"| {r.case.loss} | {per_image} | {r.shard} | {ms['local']} | {ms['global']} |"
            f" {ratio(r, 'global')} | {sent:,} ({size(sent)}) | {collectives} |"
        )
        if compiled:
            timing = f" {ms['compiled']} | {ratio(r, 'compiled')} |" if "compiled" in r.rounds else " | |"
            line += f" {r.compile} |" + timing
        lines.append(line)
    return "\n".join(lines)


def notes(results: list[Result]) -> list[str]:
    """The counting convention, and the analytic bytes of a gathered shard for the shapes run."""
    out = [
        "bytes: what rank 0 puts into each collective in one forward+backward (all_reduce: its tensor;"
        " all_gather_single: its rows, padded to the longest shard; reduce_scatter_single: its whole"
        " input); the local loss sends none",
        "analytic: a sum all-reduced is its few float32 scalars, 4 B each; a gathered float32 (n, D)"
        f" shard sends 8 B (its row count) + 4 n D B in the forward and 4 x {WORLD} n x D B (the gradient"
        f" of the gathered ({WORLD} n, D) rows, reduce-scattered) in the backward; integer labels"
        " 8 + 8 n B, forward only",
    ]
    for n, d in dict.fromkeys(r.shard for r in results if len(r.shard) == 2 and r.case.loss in SAMPLE):
        out.append(
            f"a gathered ({n}, {d}) shard: {8 + 4 * n * d:,} B forward + {WORLD * 4 * n * d:,} B backward"
            f" = {8 + (WORLD + 1) * 4 * n * d:,} B"
        )
    return out


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--losses", nargs="+", default=sync_losses(), help="registry names (losses with sync)"
    )
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds of timing per step and loss")
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds the time is split into")
    parser.add_argument("--compile", action="store_true", help="also try torch.compile of the global loss")
    parser.add_argument("--tiny", action="store_true", help="a few rows per layout (a smoke test)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds for the whole run")
    args = parser.parse_args(argv)
    unknown = [name for name in args.losses if name not in sync_losses()]
    if unknown:
        parser.error(f"not a registry loss with sync: {unknown}; those are {sync_losses()}")
    todo = cases(args.losses, args.tiny)
    config = {
        "cases": [asdict(c) for c in todo],
        "rounds": args.rounds,
        "min_time": args.min_time,
        "compile": args.compile,
        "timeout": args.timeout,
    }
    print(
        f"torch {torch.__version__}, {WORLD} processes (gloo, CPU, 1 thread each);"
        " one forward+backward on each process's shard, reduction='mean'; ratio = global (sync=True)"
        " / local (sync=False), median (interquartile range) of the per-round ratios; times on rank 0"
    )
    start = time.monotonic()
    results = spawn(config, args.timeout)
    print("\n" + table(results))
    for note in notes(results):
        print(f"- {note}")
    print(f"\n{len(results)} cases in {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
