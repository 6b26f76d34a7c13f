"""The chapter template of CHAPTERS.md, as far as a program can check it: the order of a chapter's
sections, written solutions for every exercise, a folded Verification section, and what the reader
sees (no visible code cell over 40 lines, at most 20 visible printed lines that hold a boolean).
Each rule is also shown failing on a small notebook that breaks it."""

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
#: the appendix checks blog posts in their order: only the visibility rules apply to it (it has
#: no exercises, and its checks are its verdicts)
APPENDIX = {"errata"}
#: the ## headings every chapter has, in this order (others may come between them)
SECTIONS = [
    "The idea",
    "Derivation",
    "Which loss when",
    "Implementation",
    "Stability",
    "Pitfalls",
    "Summary",
    "Exercises",
    "Verification",
]
MAX_VISIBLE_CELL_LINES = 40
MAX_VISIBLE_BOOLEAN_LINES = 20
FOLDED_INPUT = {"hide-input", "remove-input", "hide-cell", "remove-cell"}
FOLDED_OUTPUT = {"hide-output", "remove-output", "hide-cell", "remove-cell"}
SOLUTION = re.compile(r"^:::\{admonition\} Solution (\d+)\n:class: dropdown\n", re.M)


def tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def sections(nb) -> list[tuple[str, list]]:
    """The chapter cut at its ``##`` headings: (heading, cells from the heading on), in order. A
    heading inside a fenced block is not one."""
    found: list[tuple[str, list]] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = re.sub(r"^(```|:::).*?^\1", "", cell.source, flags=re.M | re.S)
            for heading in re.findall(r"^## (.+)$", text, re.M):
                found.append((heading.strip(), []))
        if found:
            found[-1][1].append(cell)
    return found


def order_problems(nb) -> list[str]:
    headings = [h for h, _ in sections(nb)]
    problems = []
    first = nb.cells[0].source if nb.cells else ""
    if "**What you'll learn**" not in first:
        problems.append("the first cell has no **What you'll learn**")
    positions = [headings.index(s) if s in headings else None for s in SECTIONS]
    missing = [s for s, i in zip(SECTIONS, positions, strict=True) if i is None]
    if missing:
        return problems + [f"missing sections: {missing}"]
    if positions != sorted(positions):
        problems.append(f"sections out of order: {headings}")
    if headings[0] != SECTIONS[0]:
        problems.append(f"the first section is {headings[0]!r}, not {SECTIONS[0]!r}")
    if positions[1] - positions[0] < 2:
        problems.append("no picture or experiment between The idea and Derivation")
    if headings[-1] != SECTIONS[-1]:
        problems.append(f"the last section is {headings[-1]!r}, not {SECTIONS[-1]!r}")
    return problems


def exercise_problems(nb) -> list[str]:
    (cells,) = [c for h, c in sections(nb) if h == "Exercises"]
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    numbered = [int(n) for n in re.findall(r"^(\d+)\. ", text, re.M)]
    solved = [int(n) for n in SOLUTION.findall(text)]
    if not numbered:
        return ["no numbered exercise"]
    if solved != list(range(1, len(numbered) + 1)) or numbered != solved:
        return [f"exercises {numbered}, written solutions {solved}"]
    return []


def verification_problems(nb) -> list[str]:
    (cells,) = [c for h, c in sections(nb) if h == "Verification"]
    code = [c for c in cells if c.cell_type == "code"]
    if not code:
        return ["Verification runs no check"]
    return [f"Verification code not folded:\n{c.source[:120]}" for c in code if not tags(c) & FOLDED_INPUT]


def visibility_problems(nb) -> list[str]:
    problems = []
    boolean_lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = len(cell.source.splitlines())
        if lines > MAX_VISIBLE_CELL_LINES and not tags(cell) & FOLDED_INPUT:
            problems.append(f"a visible code cell of {lines} lines:\n{cell.source[:120]}")
        if tags(cell) & FOLDED_OUTPUT:
            continue
        for out in cell.get("outputs", []):
            text = (
                out.get("text", "")
                if out.output_type == "stream"
                else out.get("data", {}).get("text/plain", "")
            )
            boolean_lines += [line for line in text.splitlines() if re.search(r"\b(True|False)\b", line)]
    if len(boolean_lines) > MAX_VISIBLE_BOOLEAN_LINES:
        problems.append(
            f"{len(boolean_lines)} visible printed lines hold a boolean"
            f" (at most {MAX_VISIBLE_BOOLEAN_LINES}), e.g. {boolean_lines[:3]}"
        )
    return problems


FAMILY = [p for p in CHAPTERS if p.stem not in APPENDIX]


@pytest.mark.parametrize(
    "rule", [order_problems, exercise_problems, verification_problems], ids=lambda r: r.__name__
)
@pytest.mark.parametrize("path", FAMILY, ids=lambda p: p.stem)
def test_family_chapter_follows_the_template(path, rule):
    """The sections in the template's order, a written solution for every exercise, and a folded
    Verification section that runs checks."""
    assert rule(nbformat.read(path, as_version=4)) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_what_the_reader_sees(path):
    assert visibility_problems(nbformat.read(path, as_version=4)) == []


# -- each rule fails on a notebook that breaks it ---------------------------------------------------


def template_notebook(**changes) -> nbformat.NotebookNode:
    """A smallest chapter that follows the template; ``changes`` replace a section's cells."""
    cells = {
        "title": [new_markdown_cell("# A loss\n\n**What you'll learn**\n\n- one thing")],
        "The idea": [new_markdown_cell("## The idea\n\nText.")],
        "A picture": [new_markdown_cell("## A picture\n\nText.")],
        **{s: [new_markdown_cell(f"## {s}\n\nText.")] for s in SECTIONS[1:-2]},
        "Exercises": [
            new_markdown_cell(
                "## Exercises\n\n1. Show it.\n\n:::{admonition} Solution 1\n:class: dropdown\nBecause.\n:::"
            )
        ],
        "Verification": [
            new_markdown_cell("## Verification"),
            new_code_cell("print('lossref = torch: True')", metadata={"tags": ["hide-input"]}),
        ],
    }
    cells.update(changes)
    return new_notebook(cells=[c for group in cells.values() for c in group])


def test_the_template_notebook_passes():
    nb = template_notebook()
    problems = (
        order_problems(nb) + exercise_problems(nb) + verification_problems(nb) + visibility_problems(nb)
    )
    assert problems == []


def test_each_rule_fails_when_broken():
    assert order_problems(template_notebook(**{"A picture": []})) == [
        "no picture or experiment between The idea and Derivation"
    ]
    moved = template_notebook(
        Implementation=[], Pitfalls=[new_markdown_cell("## Implementation\n\n## Pitfalls")]
    )
    assert "sections out of order" in order_problems(moved)[0]
    assert "missing sections" in order_problems(template_notebook(**{"Which loss when": []}))[0]
    unsolved = new_markdown_cell(
        "## Exercises\n\n1. Show it.\n2. And this.\n\n:::{admonition} Solution 1\n:::"
    )
    assert exercise_problems(template_notebook(Exercises=[unsolved])) == [
        "exercises [1, 2], written solutions []"
    ]
    shown = [new_markdown_cell("## Verification"), new_code_cell("print(True)")]
    assert len(verification_problems(template_notebook(Verification=shown))) == 1
    long_cell = new_code_cell("\n".join(["x = 1"] * 41))
    assert len(visibility_problems(template_notebook(**{"A picture": [long_cell]}))) == 1
    flood = new_code_cell("", outputs=[new_output("stream", name="stdout", text="ok: True\n" * 21)])
    assert "21 visible printed lines" in visibility_problems(template_notebook(**{"A picture": [flood]}))[0]
    folded = new_code_cell("", metadata={"tags": ["hide-output"]}, outputs=flood.outputs)
    assert visibility_problems(template_notebook(**{"A picture": [folded]})) == []
