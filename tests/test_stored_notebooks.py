"""The stored chapters as a reader downloads them and as the book shows them: valid notebooks, printed
output in one box per cell, folded cells labelled for what they hold; and the built book's check
(.ci/check_book.py) that fails if a flood of output boxes or a generic label comes back."""

from __future__ import annotations

import importlib.util
import re
import sys
import unicodedata
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the book's code column: the line length chapters/ruff.toml gives ruff for the chapters' code
COLUMN = int(re.search(r"^line-length = (\d+)", (ROOT / "chapters" / "ruff.toml").read_text(), re.M).group(1))
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

_spec = importlib.util.spec_from_file_location("check_book", ROOT / ".ci" / "check_book.py")
check_book = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = check_book
_spec.loader.exec_module(check_book)


def _kinds(cell: nbformat.NotebookNode) -> str:
    """A code cell's outputs as a string: 's' for printed text (a stream), 'o' for anything else."""
    return "".join("s" if out.output_type == "stream" else "o" for out in cell.outputs)


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request) -> nbformat.NotebookNode:
    return nbformat.read(request.param, as_version=4)


def test_every_stored_chapter_is_a_valid_notebook(notebook):
    nbformat.validate(notebook)  # raises on a schema violation, e.g. outputs on a markdown cell


def test_printed_output_is_one_box_between_other_outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert "ss" not in _kinds(cell), f"unmerged printed output in a cell:\n{cell.source[:200]}"


def test_only_cells_whose_text_alternates_with_figures_opt_out_of_merging(notebook):
    """The book merges each cell's printed output (nb_merge_streams in _config.yml), which moves it all
    before the cell's first figure or equation; a cell whose text comes between them opts out."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kinds = _kinds(cell)
        alternates = "o" in kinds[kinds.find("s") : kinds.rfind("s") + 1]  # text, a figure, text
        opted_out = cell.metadata.get("mystnb", {}).get("merge_streams") is False
        assert alternates == opted_out, f"merge_streams of the cell:\n{cell.source[:200]}"


def test_every_folded_exercise_solution_is_labelled_as_a_solution(notebook):
    solutions = [
        c
        for c in notebook.cells
        if c.cell_type == "code"
        and "hide-cell" in c.metadata.get("tags", [])
        and c.source.startswith("# Exercise")
    ]
    for cell in solutions:
        assert cell.metadata.get("mystnb", {}).get("code_prompt_show") == "Show the solution"
    for cell in notebook.cells:  # and no folded cell keeps myst-nb's generic "Show code cell content"
        if {"hide-cell", "hide-input", "hide-output"} & set(cell.metadata.get("tags", [])):
            assert "code_prompt_show" in cell.metadata.get("mystnb", {}), cell.source[:200]


def _page(body: str) -> check_book.Page:
    page = check_book.Page()
    page.feed(f"<html><body>{body}</body></html>")
    return page


def _cell(*outputs: str) -> str:
    boxes = {
        "s": '<div class="output stream highlight-myst-ansi notranslate"><pre>text</pre></div>',
        "o": '<div class="cell_output docutils container"><img src="figure.png"/></div>',
    }
    return '<div class="cell docutils container">' + "".join(boxes[o] for o in outputs) + "</div>"


def test_the_book_check_counts_printed_boxes_and_other_outputs_per_cell():
    figure_in_text = '<p><img src="drawing.png"/></p>'  # not a cell's output
    page = _page(_cell("s") + figure_in_text + _cell("o", "s", "o", "s") + _cell(*"s" * 219))
    assert page.stream_boxes == [1, 2, 219] and page.other_boxes == [0, 2, 0]


def test_the_book_check_fails_a_flood_of_boxes_a_generic_label_and_a_page_without_edit_or_date(
    tmp_path, monkeypatch
):
    html = tmp_path / "html"
    (html / "_static" / check_book.FONTS).mkdir(parents=True)
    (html / "_static" / check_book.FONTS / "a.woff").write_text("")
    (html / "_static" / check_book.MATHJAX).write_text("")
    (html / "intro.html").write_text("<html></html>")
    page = html / "chapters" / "a.html"
    page.parent.mkdir()
    monkeypatch.setattr(check_book, "CHAPTERS", ["chapters/a.html"])
    reader = '<a href="https://example.org/edit/main/a.ipynb">Edit</a><p>Last updated on 2026-12-06.</p>'
    page.write_text(_cell("o", "s", "o", "s") + _cell("s") + reader)
    page.write_text(page.read_text() + '<header id="pst-header" style="display: none"></header>')
    assert check_book.check(html) == []
    page.write_text(
        '<header id="pst-header"></header>' + _cell(*"s" * 219) + "<span>Show code cell content</span>"
    )
    problems = check_book.check(html)
    assert any("219 boxes" in p for p in problems) and any("folded cell" in p for p in problems)
    assert any("edit this page" in p for p in problems) and any("Last updated" in p for p in problems)
    assert any("second, empty header" in p for p in problems)


def width(line: str) -> int:
    """Columns a line takes in a monospace font: a wide character (Chinese) takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def test_every_printed_line_fits_the_code_column(notebook):
    """What a cell prints fits the column the book shows it in (its code does too: ruff's line
    length, tests/test_style.py), so that nothing is cut off or scrolls."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            text = (
                out.get("text", "")
                if out.output_type == "stream"
                else out.get("data", {}).get("text/plain", "")
            )
            wide = [line for line in "".join(text).splitlines() if width(line) > COLUMN]
            assert not wide, f"printed lines wider than {COLUMN} columns: {wide[:3]}\n{cell.source[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_literalinclude_marker_is_in_its_source(path):
    """A chapter shows the package's source by ``literalinclude`` with ``start-after``/``end-before``
    markers; a refactor that drops a marker's line fails the strict build only after a long
    execution, so the markers are checked here."""
    missing = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for block in re.finditer(r"```\{literalinclude\} (\S+)\n(.*?)```", cell.source, re.S):
            source = (path.parent / block.group(1)).read_text()
            for option in re.finditer(
                r"^:(start-after|start-at|end-before|end-at): (.*)$", block.group(2), re.M
            ):
                if option.group(2) not in source:
                    missing.append(f"{block.group(1)} {option.group(1)}: {option.group(2)}")
    assert missing == []
