"""One-off: cite the original papers (references.bib) in the chapters' markdown where each loss appears.

Usage: python tools/add_citations.py [NOTEBOOK ...]   (default: every chapter it knows)

Each edit replaces one exact passage and is skipped when the passage is already cited; a passage
that is not found once exactly is reported (the chapter changed: edit by hand). Re-execute the
notebooks afterwards (tools/execute_notebooks.py): markdown does not change the outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

EDITS: dict[str, list[tuple[str, str]]] = {
    "chapters/classification/focal_loss.ipynb": [
        (
            "- how the focal loss of Lin et al. (2017) is built",
            "- how the focal loss of {cite:t}`lin2017focal` is built",
        ),
        (
            "Lin et al. (2017, *Focal Loss for Dense Object Detection*)\nrescale",
            "{cite:t}`lin2017focal` (*Focal Loss for Dense Object Detection*)\nrescale",
        ),
    ],
    "chapters/classification/cross_entropy.ipynb": [
        (
            "## Label smoothing\n\n`label_smoothing` $\\varepsilon$ moves",
            "## Label smoothing\n\n`label_smoothing` $\\varepsilon$ {cite:p}`szegedy2016rethinking` moves",
        ),
    ],
    "chapters/regression/regression.ipynb": [
        (
            "| smooth L1 | $\\tfrac12 r^2 / \\beta$",
            "| smooth L1 {cite:p}`girshick2015fast` | $\\tfrac12 r^2 / \\beta$",
        ),
        ("| Huber | $\\tfrac12 r^2$ if", "| Huber {cite:p}`huber1964robust` | $\\tfrac12 r^2$ if"),
    ],
}


def apply(path: Path, edits: list[tuple[str, str]]) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    problems = []
    for old, new in edits:
        if any(new in c.source for c in nb.cells if c.cell_type == "markdown"):
            continue
        hits = [c for c in nb.cells if c.cell_type == "markdown" and c.source.count(old) == 1]
        if len(hits) != 1:
            problems.append(f"{path}: passage not found once: {old[:60]!r}")
            continue
        hits[0].source = hits[0].source.replace(old, new)
    nbformat.write(nb, path)
    return problems


def main(argv: list[str]) -> int:
    targets = [Path(a).resolve().relative_to(ROOT).as_posix() for a in argv] or list(EDITS)
    problems = []
    for rel in targets:
        problems += apply(ROOT / rel, EDITS.get(rel, []))
    for p in problems:
        print(f"add_citations: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
