"""The README's Python example runs, and does what it says (same numbers as torch.nn)."""

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs_and_matches_torch():
    (block,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    torch.manual_seed(0)
    namespace: dict = {}
    exec(block, namespace)
    logits, labels, criterion = namespace["logits"], namespace["labels"], namespace["criterion"]
    assert logits.grad is not None and logits.grad.shape == (8, 3)
    reference = torch.nn.BCEWithLogitsLoss(pos_weight=criterion.pos_weight)
    torch.testing.assert_close(criterion(logits, labels), reference(logits, labels))
