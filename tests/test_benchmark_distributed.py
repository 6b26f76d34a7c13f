"""benchmarks/distributed.py keeps working: a tiny run in 2 gloo processes, with the bytes a gather
sends checked against the analytic figure."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "distributed.py"

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="torch.distributed with gloo is not available",
)


def test_a_tiny_run_times_both_forms_and_counts_the_bytes():
    options = "--tiny --rounds 2 --min-time 0.01 --timeout 90 --losses cross_entropy clip_loss dice_loss"
    command = [sys.executable, str(SCRIPT), *options.split()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=SCRIPT.parent.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {
        tuple(cell.strip() for cell in line.split("|")[1:3]): line
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| loss")
    }
    expected = {("cross_entropy", ""), ("clip_loss", ""), ("dice_loss", "True"), ("dice_loss", "False")}
    assert set(rows) == expected
    # clip_loss gathers the (4, 16) float32 shards of images and texts: each sends its row count (8 B)
    # and 4 x 16 x 4 B forward, and the gradient of the gathered (8, 16) rows backward
    clip = rows["clip_loss", ""]
    assert "all_gather_single 4: 528;" in clip and "reduce_scatter_single 2: 1,024" in clip, clip
    assert "a gathered (4, 16) shard: 264 B forward + 512 B backward" in done.stdout
    for line in rows.values():
        local, global_, ratio = (cell.strip() for cell in line.split("|")[4:7])
        assert float(local) > 0 and float(global_) > 0 and float(ratio.split()[0]) > 0, line
