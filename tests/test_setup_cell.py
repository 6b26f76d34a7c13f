"""Each chapter's first cell (written by tools/setup_cell.py) and what it promises a reader: on any
machine it names exactly the modules the chapter needs that are missing, with the one command that
installs them all (the ``book`` extra, which covers every module any chapter needs); on Colab it
installs them; where everything is installed it prints nothing."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import setup_cell  # noqa: E402

NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
COMMAND = f'pip install "lossref[book] @ git+{setup_cell.repository_url()}"'


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request) -> nbformat.NotebookNode:
    return nbformat.read(request.param, as_version=4)


def first_code_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code")


def run_cell(source: str, hidden: set[str], monkeypatch, on_colab: bool = False) -> list[list[str]]:
    """Run the cell as if the ``hidden`` modules were not installed; the pip commands it ran."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name in hidden else find_spec(name))
    ran: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda args, check: ran.append(args))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "<setup cell>", "exec"), {})
    return ran


def test_every_chapter_starts_with_the_setup_cell_for_the_configured_repository(notebook):
    assert setup_cell.main(["--check"]) == 0, "run: .venv/bin/python tools/setup_cell.py"
    first = first_code_cell(notebook)
    assert first.get("id") == setup_cell.CELL_ID and setup_cell.repository_url() in first.source
    assert first.get("outputs") == [], "the setup cell must print nothing where everything is installed"


def test_off_colab_the_cell_names_exactly_what_is_missing_and_the_command(notebook, monkeypatch):
    source = first_code_cell(notebook).source
    needed = setup_cell.needed(notebook)
    hidden = {m for m in needed if m not in ("torch", "lossref")}  # e.g. only the peers are missing
    with pytest.raises(ModuleNotFoundError) as raised:
        run_cell(source, hidden, monkeypatch)
    missing = ", ".join(m for m in needed if m in hidden)
    assert str(raised.value) == (
        f"this chapter needs {missing}, not installed here; install everything the book uses with: {COMMAND}"
    )


def test_the_cell_does_nothing_where_everything_is_installed(notebook, monkeypatch):
    assert run_cell(first_code_cell(notebook).source, set(), monkeypatch, on_colab=True) == []


def test_on_colab_the_cell_installs_lossref_and_the_pinned_peers_it_needs(notebook, monkeypatch):
    ran = run_cell(first_code_cell(notebook).source, {"lossref"}, monkeypatch, on_colab=True)
    ((*pip, lossref_spec), *more) = [[a for a in cmd if not a.endswith(tuple("0123456789"))] for cmd in ran]
    assert not more and pip == [sys.executable, "-m", "pip", "install", "--quiet"]
    assert lossref_spec == f"lossref[symbolic] @ git+{setup_cell.repository_url()}"
    pins = setup_cell.pins()
    peers = [a for a in ran[0] if "==" in a]
    needed = setup_cell.needed(notebook)
    assert peers == [f"{p}=={pins[p]}" for m, p in setup_cell.EXTRA.items() if m in needed]


def test_the_needed_modules_are_what_the_chapter_imports():
    """Checked on a notebook written here: an import, a from-import, a module in the standard library
    (not needed) and a call of a function whose module lossref imports itself (scipy)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import json\nimport torch\nfrom kornia import losses"),
        nbformat.v4.new_code_cell("x = lossref.boundary_loss(p, t)"),
    ]
    assert setup_cell.needed(nb) == ["kornia", "scipy", "torch"]


def book_extra() -> set[str]:
    """The packages of the ``book`` extra, from the installed lossref's metadata (what pip reads)."""
    requires = importlib.metadata.requires("lossref") or []
    extra = [r for r in requires if re.search(r"""extra\s*==\s*["']book["']""", r)]
    return {re.match(r"[A-Za-z0-9_.\-]+", r).group(0).lower() for r in extra}


def test_the_book_extra_installs_every_module_a_chapter_needs_and_jupyterlab():
    distributions = importlib.metadata.packages_distributions()  # module -> the installed package(s)
    needed = {m for path in NOTEBOOKS for m in setup_cell.needed(nbformat.read(path, as_version=4))}
    needed -= {"torch", "lossref"}  # lossref's own dependency, and lossref itself
    missing = {m for m in needed if not {d.lower() for d in distributions[m]} & book_extra()}
    assert not missing, f"modules the chapters need that the book extra does not install: {missing}"
    assert "jupyterlab" in book_extra()


def test_the_intros_instructions_work_as_written():
    """The intro says to open the chapters with the environment's Jupyter, or to install the extra."""
    intro = (ROOT / "intro.md").read_text(encoding="utf-8")
    assert ".venv/bin/jupyter lab chapters/" in intro and COMMAND in intro
    assert (Path(sys.executable).parent / "jupyter-lab").exists()  # this environment is .venv
    assert "-e .[book]" in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
