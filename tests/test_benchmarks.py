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
    target = inputs.target.round() if inputs.target.is_floating_point() else inputs.target
    inputs = inputs.replace(target=target)
    reference = impls["lossref"](*inputs.args.values(), **inputs.options)
    for name, fn in impls.items():
        value = fn(*inputs.args.values(), **inputs.options)
        assert abs(value.item() - reference.item()) <= 1e-5 * abs(reference.item()) + 1e-7, name
    measured = bench.compare(impls, spec, inputs, min_time=0.01, rounds=2)
    assert [m.impl for m in measured] == list(impls)
    for m in measured:
        assert m.shape == shape and m.seconds > 0 and m.peak_bytes is None  # CPU: no allocator statistics
        assert m.saved_bytes >= 4 * 8  # autograd saves at least part of the input
