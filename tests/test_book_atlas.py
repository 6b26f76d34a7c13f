"""The book's generated pages (tools/lossref_book.py) follow the registry."""

from __future__ import annotations

import importlib
import re
import sys
from itertools import pairwise
from pathlib import Path

import nbformat
import pytest

import lossref
from lossref.registry import LOSSES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import lossref_book  # noqa: E402


def test_every_registry_loss_has_an_atlas_entry_with_formula_and_gradient():
    text = "\n".join(lossref_book.atlas_rst(lossref_book.chapter_losses()))
    for spec in LOSSES:
        assert f".. _atlas-{spec.name}:" in text
        if spec.no_symbolic is not None:  # the registry says why there is none, and names the reference
            assert f"No sympy definition in :mod:`lossref.symbolic`: {spec.no_symbolic}." in text
            assert spec.oracle.function.__name__ in text
            continue
        form, variable, gradient, where = lossref_book.formula_and_gradient(spec)
        assert f"\\ell = {form}" in text
        assert f"\\frac{{\\partial \\ell}}{{\\partial {variable}}} = {gradient}" in text
        assert all(short in text and definition in text for short, definition in where)


def test_atlas_has_one_section_per_family():
    """A section per module (loss family), titled by FAMILIES, not one per chapter with the titles of
    its families joined; the summary table links every loss's entry."""
    lines = lossref_book.atlas_rst(lossref_book.chapter_losses())
    sections = [title for title, underline in pairwise(lines) if underline and set(underline) == {"-"}]
    modules = dict.fromkeys(spec.function.__module__ for spec in LOSSES)
    assert sections == [lossref_book.family_title(module) for module in modules]
    for spec in LOSSES:
        assert f"   * - |atlas-{spec.name}|_" in lines


def test_every_public_name_is_in_the_api_reference():
    text = "\n".join(lossref_book.api_rst(lossref_book.chapter_losses()))
    for name in lossref.__all__:
        assert f":: lossref.{name}\n" in text + "\n"


def test_each_registry_chapter_exists_and_lists_its_losses():
    """A chapter's notebook names its losses in ``CHAPTER_LOSSES``: the same set as the registry's."""
    by_chapter: dict[str, set[str]] = {}
    for spec in LOSSES:
        assert spec.chapter, f"{spec.name} has no chapter"
        by_chapter.setdefault(spec.chapter, set()).add(spec.name)
    for docname, names in by_chapter.items():
        nb = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
        cell = next(c.source for c in nb.cells if c.cell_type == "code" and "CHAPTER_LOSSES =" in c.source)
        listed = cell[cell.index("CHAPTER_LOSSES =") :].split("]")[0]
        assert set(re.findall(r"[\"']([a-z0-9_]+)[\"']", listed)) == names, docname


@pytest.mark.parametrize(
    "call", [peer.call for spec in LOSSES for peer in spec.peers if peer.library in ("MONAI", "kornia")]
)
def test_peer_names_exist(call):
    module, _, name = call.split("(")[0].rpartition(".")
    assert hasattr(importlib.import_module(module), name), call


def test_paper_keys_are_in_references_bib():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    for spec in LOSSES:
        for key in spec.papers:
            assert "{" + key + "," in bib, (spec.name, key)
