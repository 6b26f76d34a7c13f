"""benchmarks/run.py keeps working: one tiny comparison per registry loss."""

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


@pytest.mark.parametrize("spec", [s for s in LOSSES if s.torch_function], ids=lambda s: s.name)
def test_compare_measures_both_implementations(spec):
    inputs = spec.make_inputs((8, 5), weighted=True)
    ours, ref = bench.compare(spec, inputs, min_time=0.01, rounds=2)
    assert (ours.impl, ref.impl) == ("lossref", "torch")
    assert ours.numel == ref.numel == 40
    assert ours.seconds > 0 and ref.seconds > 0
    # autograd saves at least the input for the backward pass
    assert ours.saved_bytes >= 40 * 4 and ref.saved_bytes >= 40 * 4
    assert ours.peak_bytes is None  # CPU: no allocator statistics
