"""Forward+backward time and memory of every registry loss: lossref vs torch, side by side.

Run: ``python benchmarks/run.py`` (add ``--device cuda`` on a GPU machine). Machines are noisy, so
only the ratios measured in one run mean anything: each loss is timed against torch in alternating
rounds and the medians are compared; absolute times are printed for context.

Memory is the bytes autograd saves for the backward pass (exact and device-independent) and, on
CUDA, the peak allocated during one forward+backward.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch.utils import benchmark

from lossref.registry import LOSSES, LossInputs, LossSpec


@dataclass
class Measurement:
    loss: str
    impl: str
    numel: int
    seconds: float
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


def _peak_bytes(step: Callable[[], None]) -> Optional[int]:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def compare(
    spec: LossSpec, inputs: LossInputs, min_time: float, rounds: int
) -> tuple[Measurement, Measurement]:
    """lossref and torch timed in alternating rounds, so that drift on a noisy machine hits both."""
    impls = {"lossref": spec.function, "torch": spec.torch_function}
    steps = {name: _step(fn, inputs) for name, fn in impls.items()}
    times: dict[str, list[float]] = {name: [] for name in impls}
    for step in steps.values():
        step()  # warm-up
    for _ in range(rounds):
        for name, step in steps.items():
            timer = benchmark.Timer(stmt="step()", globals={"step": step})
            times[name].append(timer.blocked_autorange(min_run_time=min_time / rounds).median)
    cuda = inputs.input.is_cuda
    ours, ref = (
        Measurement(
            spec.name,
            name,
            inputs.input.numel(),
            statistics.median(times[name]),
            _saved_bytes(impls[name], inputs),
            _peak_bytes(steps[name]) if cuda else None,
        )
        for name in impls
    )
    return ours, ref


def _compare_in_fresh_process(
    args: tuple[str, int, str, float, bool, int],
) -> tuple[Measurement, Measurement]:
    name, n, device, min_time, weighted, rounds = args
    spec = next(s for s in LOSSES if s.name == name)
    inputs = spec.make_inputs((n // 1000, 1000) if n >= 1000 else (n,), device=device, weighted=weighted)
    return compare(spec, inputs, min_time, rounds)


def run(
    sizes: list[int], device: str, min_time: float, weighted: bool, rounds: int = 5, out=sys.stdout
) -> list[Measurement]:
    """Each (loss, size) runs in a fresh process: the allocator state an earlier loss leaves behind
    (freed 16 MiB blocks returned to the OS or not) would otherwise change the next one's time."""
    rows: list[Measurement] = []
    jobs = [
        (s.name, n, device, min_time, weighted, rounds) for s in LOSSES if s.torch_function for n in sizes
    ]
    context = multiprocessing.get_context("spawn")
    for i, job in enumerate(jobs, 1):
        print(f"[{i}/{len(jobs)}] {job[0]}, {job[1]} elements", file=sys.stderr, flush=True)
        with context.Pool(1) as pool:
            ours, ref = pool.apply(_compare_in_fresh_process, (job,))
        rows += [ours, ref]
        peak = (
            "" if ours.peak_bytes is None else f"  peak {ours.peak_bytes / max(ref.peak_bytes or 1, 1):.2f}x"
        )
        print(
            f"{ours.loss:34s} {ours.numel:>9d}"
            f"  lossref {ours.seconds * 1e3:9.3f} ms  torch {ref.seconds * 1e3:9.3f} ms"
            f"  time ratio {ours.seconds / ref.seconds:5.2f}x"
            f"  saved {ours.saved_bytes / 2**20:7.2f} MiB vs {ref.saved_bytes / 2**20:7.2f} MiB{peak}",
            file=out,
            flush=True,
        )
    return rows


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[64_000, 4_000_000], help="elements per input"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds of timing per implementation")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds the time is split into")
    parser.add_argument("--weighted", action="store_true", help="pass weight (and pos_weight) too")
    args = parser.parse_args(argv)
    print(
        f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads;"
        " ratio < 1: lossref faster"
    )
    run(args.sizes, args.device, args.min_time, args.weighted, args.rounds)


if __name__ == "__main__":
    main()
