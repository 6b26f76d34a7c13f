"""Global losses under data parallelism (lossref.distributed), with real processes.

One spawn of 2 and one of 3 processes (gloo, on the CPU; rendezvous through a file store in the
test's temporary directory; bounded in time, killed on a timeout) runs every case of
tests/distributed_cases.py. For every registry loss with ``sync``, after one DDP backward step on
deliberately uneven shards (one empty; one whose targets are all ignored):

- the loss every process returns equals the single-process loss on the concatenated batch;
- every parameter's gradient, after DDP's average, equals the single-process gradient;
- each process's gradient with respect to its own inputs is the world size times the
  single-process gradient of those rows (the scaling rule of lossref.distributed);

all in float64 to 1e-12 relative. The naive loss (each process's own, ``sync=False``) fails the same
comparison, so the comparison can fail. ``all_gather_with_grad`` is checked against a gather whose
backward keeps only the local gradient, which fails.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
import torch
import torch.multiprocessing as mp
from distributed_cases import SHARDS, SPECS, case_ids, shape, worker

import lossref
from lossref.distributed import all_gather_with_grad, all_sum, group_of

#: seconds one spawn may take (it takes about ... s on 2 cores)
TIMEOUT = 240
TOLERANCE = 1e-12

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch.distributed with gloo is not available",
)


def spawn(world: int, directory) -> dict[str, dict[str, float]]:
    """Every case in ``world`` processes; each case's errors, the largest over the processes."""
    context = mp.start_processes(
        worker,
        args=(world, str(directory / "store"), str(directory)),
        nprocs=world,
        join=False,
        start_method="spawn",
    )
    deadline = time.monotonic() + TIMEOUT
    try:
        while not context.join(timeout=max(1.0, deadline - time.monotonic())):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{world} processes did not finish in {TIMEOUT} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
                process.join()
    ranks = [json.loads((directory / f"rank{r}.json").read_text()) for r in range(world)]
    return {case: {k: max(r[case][k] for r in ranks) for k in ranks[0][case]} for case in ranks[0]}


@pytest.fixture(scope="module", params=sorted(SHARDS), ids=lambda w: f"world{w}")
def results(request, tmp_path_factory):
    return request.param, spawn(request.param, tmp_path_factory.mktemp(f"world{request.param}"))


def test_every_case_ran(results):
    world, errors = results
    assert sorted(k for k in errors if k in case_ids(world)) == sorted(case_ids(world))


def test_global_loss_equals_one_process(results):
    _, errors = results
    failed = {
        case: e
        for case, e in errors.items()
        if "value" in e and max(e["value"], e["grads"], e["inputs"]) > TOLERANCE
    }
    assert not failed


def test_naive_local_loss_fails(results):
    _, errors = results
    passed = [case for case, e in errors.items() if "naive" in e and e["naive"] <= 1e-6]
    assert not passed


def test_collectives_compile_to_the_eager_numbers(results):
    _, errors = results
    assert errors["compiled"] and all(e <= TOLERANCE for e in errors["compiled"].values())


def test_gather_with_grad_and_the_bug(results):
    _, errors = results
    for split in SHARDS[2]:
        e = errors[f"all_gather_with_grad-{split}"]
        assert e["gather"] <= TOLERANCE
        assert e["buggy"] > 0.1


# -- without torch.distributed initialised: sync does nothing --------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_sync_without_a_process_group_is_the_local_loss(spec):
    inputs = spec.make_inputs(shape(spec), seed=3, dtype=torch.float64, weighted=True)
    assert torch.equal(spec.call(inputs, sync=True), spec.call(inputs))
    modules = [spec.build_module(inputs, sync=sync).to(torch.float64) for sync in (True, False)]
    assert torch.equal(*(module(*inputs.args.values()) for module in modules))


# torch 2.13's own warning while dynamo traces a custom Function (as in tests/test_compile.py)
@pytest.mark.filterwarnings("ignore:<class 'torch.autograd.function.Function'>:DeprecationWarning")
@pytest.mark.parametrize("spec", [s for s in SPECS if not s.no_fullgraph], ids=lambda s: s.name)
def test_sync_compiles_to_the_local_graph(spec):
    inputs = spec.make_inputs(shape(spec), seed=3, weighted=True)
    if spec.precompute:  # the distance map, computed once per target outside the graph
        inputs = replace(inputs, options={**inputs.options, **spec.precompute(inputs)})
    torch._dynamo.reset()
    compiled = torch.compile(lambda i: spec.call(i, sync=True), backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(inputs), spec.call(inputs))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("sync", [1, "world", None])
def test_rejects_a_sync_that_is_not_a_bool_or_group(spec, sync):
    inputs = spec.make_inputs(shape(spec), seed=3)
    with pytest.raises(TypeError, match=r"sync must be a bool or a torch.distributed.ProcessGroup, got"):
        spec.call(inputs, sync=sync)
    with pytest.raises(TypeError, match=r"sync must be a bool"):
        spec.build_module(inputs, sync=sync)


def test_collectives_without_a_process_group_return_their_input():
    x = torch.randn(3, 2)
    assert all_sum(x) is x and all_gather_with_grad(x) is x
    assert group_of(True) is None and group_of(False) is None


def test_only_the_registrys_sync_losses_take_sync():
    import inspect

    takes = {
        name for name in lossref.__all__ if "sync" in inspect.signature(getattr(lossref, name)).parameters
    }
    expected = {s.function.__name__ for s in SPECS} | {s.module.__name__ for s in SPECS}
    assert takes == expected
