"""The book's generated pages (tools/lossref_book.py) follow the registry; the Colab cell follows _config.yml."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import lossref
from lossref.registry import LOSSES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab_cell  # noqa: E402
import lossref_book  # noqa: E402


def test_every_registry_loss_has_an_atlas_entry_with_formula_and_gradient():
    text = "\n".join(lossref_book.atlas_rst(lossref_book.chapter_losses()))
    for spec in LOSSES:
        assert f".. _atlas-{spec.name}:" in text
        if getattr(spec, "symbolic_name", None) is None:  # the registry says why there is none
            assert "No sympy definition" in text
            continue
        expr, variable, gradient = lossref_book.formula_and_gradient(spec)
        assert f"\\ell = {expr}" in text and gradient in text


def test_every_public_name_is_in_the_api_reference():
    text = "\n".join(lossref_book.api_rst(lossref_book.chapter_losses()))
    for name in lossref.__all__:
        assert f":: lossref.{name}\n" in text + "\n"


def test_the_chapters_cover_the_registry_losses_they_list():
    chapters = lossref_book.chapter_losses()
    assert chapters["binary_cross_entropy"] == "chapters/classification/binary_cross_entropy"
    assert chapters["huber_loss"] == "chapters/regression/regression"
    for docname in chapters.values():
        assert (ROOT / f"{docname}.ipynb").is_file()


@pytest.mark.parametrize(
    "call", [call for peers in lossref_book.PEERS.values() for lib, call in peers if lib in ("MONAI", "kornia")]
)
def test_peer_names_exist(call):
    module, _, name = call.split("(")[0].rpartition(".")
    assert hasattr(importlib.import_module(module), name), call


def test_paper_keys_are_in_references_bib():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    for keys in lossref_book.PAPERS.values():
        for key in keys:
            assert "{" + key + "," in bib


def test_every_chapter_starts_with_the_colab_install_cell_for_the_configured_repository():
    assert colab_cell.main(["--check"]) == 0, "run: .venv/bin/python tools/colab_cell.py"
    url = colab_cell.repository_url()
    for path in sorted((ROOT / "chapters").rglob("*.ipynb")):
        import nbformat

        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert first.get("id") == colab_cell.CELL_ID and url in first.source
        assert first.get("outputs") == [], f"{path}: the install cell must print nothing outside Colab"
