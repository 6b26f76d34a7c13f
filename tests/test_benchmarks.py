"""benchmarks/run.py keeps working: one tiny comparison per registry loss and its peers."""

import importlib.util
import sys
from pathlib import Path

import pytest

from lossref.registry import LOSSES

_path = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
_spec = importlib.util.spec_from_file_location("benchmark_run", _path)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_compare_measures_lossref_and_every_peer(spec):
    shape = (8, 5)
    inputs = spec.make_inputs(shape, weighted=spec.torch_function is not None)
    impls = {"lossref": bench.ours(spec), **bench.peers(spec)}
    assert len(impls) >= 2, "every registry loss has something to be compared with"
    # every peer computes the same number as lossref (on hard labels: MONAI's focal loss treats soft
    # labels differently, see tests/test_focal.py)
    if "target" in inputs.args:  # (js_divergence compares two predictions: no target)
        target = inputs.target.round() if inputs.target.is_floating_point() else inputs.target
        inputs = inputs.replace(target=target)
    tensors = [*inputs.args.values(), *inputs.parameters.values()]
    reference = impls["lossref"](*tensors, **inputs.options)
    for name, fn in impls.items():
        value = fn(*tensors, **inputs.options)
        assert abs(value.item() - reference.item()) <= 1e-5 * abs(reference.item()) + 1e-7, name
    measured = bench.compare(impls, spec, inputs, min_time=0.01, rounds=2)
    assert [m.impl for m in measured] == list(impls)
    for m in measured:
        assert m.shape == shape and m.seconds > 0 and m.peak_bytes is None  # CPU: no allocator statistics
        assert m.saved_bytes >= 4 * 8  # autograd saves at least part of the input


def _measured(spec, **seconds_per_round) -> list:
    """Measurements whose per-round times are given: name -> list of seconds."""
    names = {"lossref_compiled": "lossref compiled", "torch_compiled": "torch compiled"}
    return [
        bench.Measurement(spec.name, names.get(k, k), (8, 5), sorted(v)[len(v) // 2], tuple(v), 0, None)
        for k, v in seconds_per_round.items()
    ]


def test_a_ratio_is_the_median_of_per_round_ratios_with_its_quartiles():
    spec = LOSSES[0]
    mine, ref = _measured(spec, lossref=[1.0, 2.0, 3.0, 8.0, 5.0], torch=[2.0, 2.0, 2.0, 2.0, 10.0])
    ratio = bench.Ratio.of(mine, ref)  # per round: 0.5, 1, 1.5, 4, 0.5
    assert (ratio.low, ratio.median, ratio.high) == (0.5, 1.0, 1.5) and ratio.against == "torch"


def test_the_targets_of_a_loss_torch_has_compare_compiled_with_torch_compiled():
    spec = next(s for s in LOSSES if s.torch_function is not None)
    rounds = dict(lossref=[3.0] * 3, torch=[2.0] * 3, lossref_compiled=[1.0] * 3, torch_compiled=[0.8] * 3)
    row = bench.summarize(spec, _measured(spec, **rounds))
    assert row.eager.median == 1.5 and row.eager_limit is None  # eager against torch: reported only
    assert row.compiled.median == 1.25 and row.compiled.against == "torch compiled"
    assert not row.holds()
    rounds["torch_compiled"] = [1.0] * 3
    assert bench.summarize(spec, _measured(spec, **rounds)).holds()


def test_the_targets_of_a_loss_torch_lacks_take_the_fastest_peer_and_the_allowance():
    spec = next(s for s in LOSSES if s.eager_allowance is not None)
    peer = next(p.library for p in spec.peers if p.build is not None)
    rounds = {
        "lossref": [1.4] * 3,
        peer: [1.0] * 3,
        "lossref_compiled": [0.5] * 3,
        f"{peer} compiled": [0.6] * 3,
    }
    row = bench.summarize(spec, _measured(spec, **rounds))
    assert row.eager_limit == spec.eager_allowance[0] and row.eager.against == peer
    assert row.compiled.against == f"{peer} compiled" and row.holds()  # 1.4 within the allowance
    rounds["lossref"] = [1.6] * 3
    row = bench.summarize(spec, _measured(spec, **rounds))
    assert not row.holds() and "MISSED" in bench.table([row])
