"""Forward+backward time and memory of every registry loss: lossref vs torch and peer libraries,
eager and compiled.

Run: ``python benchmarks/run.py`` (add ``--device cuda`` on a GPU machine, ``--losses NAME ...`` to
pick, ``--eager`` to skip compiling). Machines are noisy, so only the ratios measured in one run mean
anything: each (loss, shape) runs in a fresh process, every implementation is timed in alternating
rounds, and a ratio is the median over the rounds of the ratio within a round (load that drifts
between rounds cancels), printed with its interquartile range; median absolute times are printed for
context. ``ratio < 1``: lossref is faster.

The implementations: lossref, torch's kernel where torch has the loss, and each registry peer with a
``build``; then each of them compiled with inductor (lossref whole, ``fullgraph=True``, unless the
registry says it cannot be; a peer that does not compile is left out, with a line on stderr).
Options that depend on the target only are precomputed where the registry says so (the boundary
loss's distance map, which its docstring says to compute once per target); the Hausdorff loss needs
the prediction's map, so both it and its peer compute maps inside every step.

The targets (issue 16), checked in the table printed at the end:

- compiled: lossref compiled at most torch compiled where torch has the loss, else at most the fastest
  peer, eager or compiled;
- eager, losses torch lacks: at most the fastest eager peer, or the registry's ``eager_allowance``;
- eager, losses torch has: at most 1.2 x torch's kernel, a target to report.

Memory is the bytes autograd saves for the backward pass (exact and device-independent) and, on
CUDA, the peak allocated during one forward+backward. For elementwise losses the compiled lossref's
speed is also given as a fraction of the machine's copy bandwidth: a fused forward reads every
argument once, a fused backward reads them again and writes the input's gradient, against
``b.copy_(a)`` of a tensor of the same size, timed in the same rounds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import sys
import warnings
from dataclasses import dataclass, field, replace
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

#: eager lossref against torch's kernel: a target to report, not an acceptance (issue 16)
EAGER_TORCH_TARGET = 1.2
COMPILED = " compiled"
COPY = "copy (bandwidth)"


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
    return lambda *args, **kw: spec.function(*args, reduction="mean", **spec.keywords, **kw)


def compiled(spec: LossSpec, eager: dict[str, Callable]) -> dict[str, Callable]:
    """Each implementation compiled with inductor: lossref whole (``fullgraph=True``) unless the
    registry says it cannot be, the others as torch.compile takes them."""
    return {
        name + COMPILED: torch.compile(
            fn, fullgraph=spec.no_fullgraph is None if name == "lossref" else name == "torch"
        )
        for name, fn in eager.items()
    }


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


def _copy_step(inputs: LossInputs) -> Callable[[], None]:
    source = inputs.input.detach().clone()
    destination = torch.empty_like(source)
    return lambda: destination.copy_(source)


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


def _warmed(steps: dict[str, Callable[[], None]], loss: str) -> dict[str, Callable[[], None]]:
    """The steps that run (twice: compiling happens in the first); a peer that fails is left out."""
    kept = {}
    for name, step in steps.items():
        try:
            step()
            step()
        except Exception as e:  # a peer torch.compile cannot take: reported, not timed
            if name.startswith("lossref"):
                raise
            print(f"{loss}: {name} left out ({type(e).__name__}: {str(e).splitlines()[0]})", file=sys.stderr)
            continue
        kept[name] = step
    return kept


def compare(
    impls: dict[str, Callable],
    spec: LossSpec,
    inputs: LossInputs,
    min_time: float,
    rounds: int,
    copy: bool = False,
) -> list[Measurement]:
    """Every implementation timed in alternating rounds, so that drift on a noisy machine hits all
    (with ``copy``, a copy of the input as well, for the bandwidth)."""
    steps = _warmed({name: _step(fn, inputs) for name, fn in impls.items()}, spec.name)
    if copy:
        steps[COPY] = _copy_step(inputs)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            # every thread torch uses (the Timer's default is one, which the header would misreport)
            timer = benchmark.Timer(
                stmt="step()", globals={"step": step}, num_threads=torch.get_num_threads()
            )
            times[name].append(timer.blocked_autorange(min_run_time=min_time / rounds).median)
    cuda = inputs.input.is_cuda
    return [
        Measurement(
            spec.name,
            name,
            tuple(inputs.input.shape),
            statistics.median(times[name]),
            tuple(times[name]),
            0 if name == COPY else _saved_bytes(impls[name], inputs),
            _peak_bytes(steps[name]) if cuda else None,
        )
        for name in steps
    ]


def _job(args: tuple[str, tuple[int, ...], str, float, bool, int, bool]) -> tuple[list[Measurement], int]:
    name, shape, device, min_time, weighted, rounds, compile_ = args
    spec = get(name)
    if spec.mean_warning is not None:  # given by design at every call, lossref's and torch's alike
        warnings.filterwarnings("ignore", message=re.escape(spec.mean_warning), category=UserWarning)
    inputs = spec.make_inputs(shape, device=device, weighted=weighted and spec.torch_function is not None)
    if spec.precompute is not None:  # options of the target only: computed once, outside the step
        inputs = replace(inputs, options={**inputs.options, **spec.precompute(inputs)})
    impls = {"lossref": ours(spec), **peers(spec)}
    if compile_:
        impls |= compiled(spec, impls)
    copy = compile_ and spec.target == "elementwise"
    # the forward reads every input-sized tensor, the backward reads them again and writes a gradient
    sized = [t for t in (*inputs.args.values(), *inputs.options.values()) if t.shape == inputs.input.shape]
    return compare(impls, spec, inputs, min_time, rounds, copy=copy), 2 * len(sized) + 1


def shapes(spec: LossSpec) -> list[tuple[int, ...]]:
    by_layout = {"class indices": CLASS_SHAPES, "region": REGION_SHAPES, "sample": SAMPLE_SHAPES}
    return by_layout.get(spec.target, [(n // 1000, 1000) for n in ELEMENTWISE_SIZES])


@dataclass
class Ratio:
    """lossref's time over another's: the median of the per-round ratios and their quartiles."""

    against: str
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, mine: Measurement, ref: Measurement) -> "Ratio":
        ratios = [a / b for a, b in zip(mine.round_seconds, ref.round_seconds, strict=True)]
        low, median, high = statistics.quantiles(ratios, n=4, method="inclusive")
        return cls(ref.impl, median, low, high)

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}-{self.high:.2f})"


@dataclass
class Row:
    """One (loss, shape): the ratios the targets are about, and whether each holds."""

    loss: str
    shape: tuple[int, ...]
    eager: Optional[Ratio] = None
    eager_limit: Optional[float] = None
    compiled: Optional[Ratio] = None
    bandwidth: Optional[float] = None
    notes: list[str] = field(default_factory=list)

    def holds(self) -> bool:
        """Whether the acceptance targets hold (eager against torch is a target to report)."""
        ok = self.compiled is None or self.compiled.median <= 1.0
        return ok and (
            self.eager_limit is None or self.eager is None or self.eager.median <= self.eager_limit
        )


def _fastest(measured: list[Measurement], names: list[str]) -> Optional[Measurement]:
    candidates = [m for m in measured if m.impl in names]
    return min(candidates, key=lambda m: m.seconds) if candidates else None


def summarize(spec: LossSpec, measured: list[Measurement], streams: Optional[int] = None) -> Row:
    """The targets' ratios for one (loss, shape); ``streams``: the input-sized tensors a fused
    forward and backward must read and write (a copy reads one and writes one)."""
    by_name = {m.impl: m for m in measured}
    row = Row(spec.name, measured[0].shape)
    eager_peers = [n for n in by_name if n not in ("lossref", COPY) and not n.endswith(COMPILED)]
    if "torch" in by_name:
        row.eager = Ratio.of(by_name["lossref"], by_name["torch"])
        row.notes.append(f"eager target {EAGER_TORCH_TARGET} x torch: to report")
    elif (fastest := _fastest(measured, eager_peers)) is not None:
        row.eager = Ratio.of(by_name["lossref"], fastest)
        row.eager_limit = 1.0
        if spec.eager_allowance is not None:
            row.eager_limit, why = spec.eager_allowance
            row.notes.append(f"eager allowed {row.eager_limit} x: {why}")
    if "lossref" + COMPILED in by_name:
        mine = by_name["lossref" + COMPILED]
        if "torch" + COMPILED in by_name:
            row.compiled = Ratio.of(mine, by_name["torch" + COMPILED])
        else:
            others = [n for n in by_name if n not in ("lossref", "lossref" + COMPILED, COPY)]
            if (fastest := _fastest(measured, others)) is not None:
                row.compiled = Ratio.of(mine, fastest)
        if COPY in by_name and streams is not None:
            row.bandwidth = (
                streams
                / 2
                * statistics.median(
                    c / t for c, t in zip(by_name[COPY].round_seconds, mine.round_seconds, strict=True)
                )
            )
    return row


def _line(mine: Measurement, ref: Measurement) -> str:
    peak = "" if mine.peak_bytes is None else f"  peak {mine.peak_bytes / max(ref.peak_bytes or 1, 1):.2f}x"
    return (
        f"{mine.loss:33s} {str(mine.shape):18s} {mine.impl:17s} vs {ref.impl:26s}"
        f" {mine.seconds * 1e3:8.3f} / {ref.seconds * 1e3:8.3f} ms, ratio {Ratio.of(mine, ref)}"
        f"  saved {mine.saved_bytes / 2**20:7.2f} / {ref.saved_bytes / 2**20:7.2f} MiB{peak}"
    )


def table(rows: list[Row]) -> str:
    """The targets as a markdown table: median ratio (interquartile range) and the verdict."""
    lines = [
        "| loss | shape | eager / torch or fastest peer (limit) | compiled / torch compiled or fastest"
        " peer | bandwidth | targets |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        limit = "" if r.eager_limit is None else f" (≤ {r.eager_limit})"
        eager = "" if r.eager is None else f"{r.eager} vs {r.eager.against}{limit}"
        compiled_ = "" if r.compiled is None else f"{r.compiled} vs {r.compiled.against}"
        bandwidth = "" if r.bandwidth is None else f"{r.bandwidth:.0%}"
        verdict = "hold" if r.holds() else "MISSED"
        lines.append(f"| {r.loss} | {r.shape} | {eager} | {compiled_} | {bandwidth} | {verdict} |")
    return "\n".join(lines)


def run(
    names: list[str],
    device: str,
    min_time: float,
    weighted: bool,
    rounds: int,
    out=sys.stdout,
    compile_: bool = True,
) -> list[Row]:
    rows: list[Row] = []
    jobs = [
        (name, shape, device, min_time, weighted, rounds, compile_)
        for name in names
        for shape in shapes(get(name))
    ]
    context = multiprocessing.get_context("spawn")
    for i, job in enumerate(jobs, 1):
        print(f"[{i}/{len(jobs)}] {job[0]} {job[1]}", file=sys.stderr, flush=True)
        with context.Pool(1) as pool:  # a fresh process: no allocator state carried over
            measured, streams = pool.apply(_job, (job,))
        by_name = {m.impl: m for m in measured}
        for mine in (by_name["lossref"], by_name.get("lossref" + COMPILED)):
            for ref in measured:
                if mine is not None and ref.impl not in ("lossref", mine.impl, COPY):
                    if not (mine.impl == "lossref" and ref.impl.endswith(COMPILED)):
                        print(_line(mine, ref), file=out, flush=True)
        rows.append(summarize(get(job[0]), measured, streams))
    print("\n" + table(rows), file=out)
    for note in dict.fromkeys(n for r in rows for n in r.notes):
        print(f"- {note}", file=out)
    return rows


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--losses", nargs="+", default=[s.name for s in LOSSES], help="registry names")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds of timing per implementation")
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds the time is split into")
    parser.add_argument("--weighted", action="store_true", help="pass the registry's weight options too")
    parser.add_argument("--eager", action="store_true", help="eager only: nothing compiled")
    args = parser.parse_args(argv)
    print(
        f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads;"
        " forward+backward, reduction='mean'; ratio = lossref / other, median (interquartile range)"
        " of the per-round ratios, < 1: lossref faster"
    )
    run(args.losses, args.device, args.min_time, args.weighted, args.rounds, compile_=not args.eager)


if __name__ == "__main__":
    main()
