"""Forward+backward time and memory of every registry loss: lossref vs torch and peer libraries.

Run: ``python benchmarks/run.py`` (add ``--device cuda`` on a GPU machine, ``--losses NAME ...`` to
pick). Machines are noisy, so only the ratios measured in one run mean anything: each (loss, shape)
runs in a fresh process, lossref and every peer are timed in alternating rounds, and the ratio is the
median over the rounds of the ratio within a round (load that drifts between rounds cancels); median
absolute times are printed for context. ``ratio < 1``: lossref is faster.

The peers are the registry's (``lossref.registry``): torch's kernel where torch has the loss, and
each peer with a ``build``. Options that depend on the target only are precomputed where the registry
says so (the boundary loss's distance map, which its docstring says to compute once per target); the
Hausdorff loss needs the prediction's map, so both it and its peer compute maps inside every step.

Memory is the bytes autograd saves for the backward pass (exact and device-independent) and, on
CUDA, the peak allocated during one forward+backward.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
from dataclasses import dataclass, replace
from typing import Callable, Optional

import torch
from torch.utils import benchmark

from lossref.registry import LOSSES, LossInputs, LossSpec, get

# elements per input for elementwise losses; (N, C[, H, W]) shapes for class losses
ELEMENTWISE_SIZES = [64_000, 4_000_000]
CLASS_SHAPES = [(8192, 1000), (16, 21, 64, 64)]
# region losses: 8 images, 4 classes (or 4 x 256 x 256 pixels of one binary mask), 256 x 256
REGION_SHAPES = [(8, 4, 256, 256)]
# losses scoring samples: a batch of 4096 rows of 256
SAMPLE_SHAPES = [(4096, 256)]


def peers(spec: LossSpec) -> dict[str, Callable]:
    """torch's kernel and the registry's timed peers, each computing the loss with reduction='mean'.

    A peer whose library is not installed is left out, with a line on stderr."""
    found: dict[str, Callable] = {}
    if spec.torch_function is not None:
        found["torch"] = spec.torch_function
    for peer in spec.peers:
        if peer.build is None:
            continue
        label = peer.library if peer.library != "formula" else f"formula: {peer.call}"
        try:
            found[label] = peer.build()
        except ImportError as e:
            print(f"{spec.name}: {label} not installed ({e})", file=sys.stderr)
    return found


def ours(spec: LossSpec) -> Callable:
    return lambda *args, **kw: spec.function(*args, reduction="mean", **kw)


@dataclass
class Measurement:
    loss: str
    impl: str
    shape: tuple[int, ...]
    seconds: float
    round_seconds: tuple[float, ...]
    saved_bytes: int
    peak_bytes: Optional[int]


def _leaves(inputs: LossInputs) -> list[torch.Tensor]:
    """The positional arguments, the first one (the prediction) as a fresh leaf that needs a gradient."""
    first, *rest = inputs.args.values()
    return [first.detach().clone().requires_grad_(True), *rest]


def _step(fn: Callable, inputs: LossInputs) -> Callable[[], None]:
    args = _leaves(inputs)

    def step() -> None:
        args[0].grad = None
        fn(*args, *inputs.parameters.values(), **inputs.options).backward()

    return step


def _saved_bytes(fn: Callable, inputs: LossInputs) -> int:
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*_leaves(inputs), *inputs.parameters.values(), **inputs.options)
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


def compiled(spec: LossSpec) -> dict[str, Callable]:
    """lossref compiled with inductor (whole, ``fullgraph=True``, unless the registry says it cannot be),
    then torch's kernel compiled the same way, then lossref eager: the first is compared with each."""
    found = {"lossref compiled": torch.compile(ours(spec), fullgraph=spec.no_fullgraph is None)}
    if spec.torch_function is not None:
        found["torch compiled"] = torch.compile(spec.torch_function, fullgraph=True)
    return {**found, "lossref": ours(spec)}


def _job(args: tuple[str, tuple[int, ...], str, float, bool, int, bool]) -> list[Measurement]:
    name, shape, device, min_time, weighted, rounds, compile_ = args
    spec = get(name)
    inputs = spec.make_inputs(shape, device=device, weighted=weighted and spec.torch_function is not None)
    if spec.precompute is not None:  # options of the target only: computed once, outside the step
        inputs = replace(inputs, options={**inputs.options, **spec.precompute(inputs)})
    impls = compiled(spec) if compile_ else {"lossref": ours(spec), **peers(spec)}
    if len(impls) == 1:
        return []
    return compare(impls, spec, inputs, min_time, rounds)


def shapes(spec: LossSpec) -> list[tuple[int, ...]]:
    by_layout = {"class indices": CLASS_SHAPES, "region": REGION_SHAPES, "sample": SAMPLE_SHAPES}
    return by_layout.get(spec.target, [(n // 1000, 1000) for n in ELEMENTWISE_SIZES])


def run(
    names: list[str],
    device: str,
    min_time: float,
    weighted: bool,
    rounds: int,
    out=sys.stdout,
    compile_: bool = False,
):
    rows: list[Measurement] = []
    jobs = [
        (name, shape, device, min_time, weighted, rounds, compile_)
        for name in names
        for shape in shapes(get(name))
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
    parser.add_argument(
        "--compiled", action="store_true", help="lossref compiled (inductor) vs torch compiled and eager"
    )
    args = parser.parse_args(argv)
    print(
        f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads;"
        " forward+backward, reduction='mean'; ratio = lossref / peer, < 1: lossref faster"
    )
    run(args.losses, args.device, args.min_time, args.weighted, args.rounds, compile_=args.compiled)


if __name__ == "__main__":
    main()
