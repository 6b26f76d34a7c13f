"""Give every chapter notebook its first cell: check that what the chapter imports is installed.

Usage: python tools/setup_cell.py [--check] [NOTEBOOK ...]   (default: every chapter)

The cell (id ``setup``, tagged ``hide-cell`` so the book folds it away) looks for every module the
chapter needs. Where all are there it does nothing and prints nothing, so nbval and the book are
unaffected. Where some are missing: on Colab it pip-installs ``lossref[symbolic]`` from the
repository named once in _config.yml (``repository.url``) and the peer libraries the chapter needs,
at the versions pinned in requirements.txt; anywhere else it stops with a ``ModuleNotFoundError``
that names the missing modules and the one command that installs them all (``lossref[book]``).
Run it again after changing ``repository.url`` (then re-execute the notebooks:
tools/execute_notebooks.py). ``--check`` changes nothing and exits 1 if a notebook's cell is missing
or out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CELL_ID = "setup"
#: libraries a chapter may need that Colab does not preinstall (module name -> pip name)
EXTRA = {
    "monai": "monai",
    "kornia": "kornia",
    "scipy": "scipy",
    "pytorch_metric_learning": "pytorch-metric-learning",
}
#: modules a chapter needs without importing them: lossref calls them for these functions
CALLED = {"scipy": ("boundary_loss", "hausdorff_dt_loss", "signed_distance_map")}


def repository_url(root: Path = ROOT) -> str:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/")


def pins(root: Path = ROOT) -> dict[str, str]:
    found = {}
    for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def imported(nb: nbformat.NotebookNode) -> set[str]:
    names = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("id") != CELL_ID:
            names |= set(re.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", cell.source, flags=re.M))
    return names


def needed(nb: nbformat.NotebookNode) -> list[str]:
    """The modules the chapter needs that are not part of Python: those it imports, and those that
    lossref's functions it calls import."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and c.get("id") != CELL_ID)
    called = {m for m, functions in CALLED.items() if any(f in code for f in functions)}
    return sorted((imported(nb) | called) - set(sys.stdlib_module_names), key=str.lower)


def _items(names: list[str], indent: int) -> str:
    # one item a line, with a trailing comma: the form ruff's formatter keeps (tests/test_style.py)
    return "".join(f"{' ' * indent}{name},\n" for name in names)


def cell_source(nb: nbformat.NotebookNode, root: Path = ROOT) -> str:
    pinned = pins(root)
    modules = needed(nb)
    colab = ['f"lossref[symbolic] @ git+{url}"']
    for module, package in EXTRA.items():
        if module in modules:
            version = pinned.get(package)
            colab.append(f'"{package}=={version}"' if version else f'"{package}"')
    pip = ["sys.executable", '"-m"', '"pip"', '"install"', '"--quiet"', *colab]
    return (
        "# Setup: the modules this chapter needs. On Colab, installs what is\n"
        "# missing; elsewhere, names it and the command that installs it.\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        f'url = "{repository_url(root)}"\n'
        "needed = [\n"
        f"{_items([repr(m).replace(chr(39), chr(34)) for m in modules], 4)}"
        "]\n"
        "missing = [m for m in needed if importlib.util.find_spec(m) is None]\n"
        'if missing and "google.colab" in sys.modules:\n'
        "    subprocess.run(\n"
        "        [\n"
        f"{_items(pip, 12)}"
        "        ],\n"
        "        check=True,\n"
        "    )\n"
        "elif missing:\n"
        "    command = f'pip install \"lossref[book] @ git+{url}\"'\n"
        "    raise ModuleNotFoundError(\n"
        "        f\"this chapter needs {', '.join(missing)}, not installed here;\"\n"
        '        f" install everything the book uses with: {command}"\n'
        "    )"
    )


#: the labels of the folded cell in the book (myst-nb's default says "Show code cell content")
PROMPTS = {
    "code_prompt_show": "Show the setup cell",
    "code_prompt_hide": "Hide the setup cell",
}


def expected_cell(nb: nbformat.NotebookNode, root: Path = ROOT) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(cell_source(nb, root))
    cell["id"] = CELL_ID
    cell["metadata"] = {"tags": ["hide-cell"], "mystnb": dict(PROMPTS)}
    return cell


def first_code_cell(nb: nbformat.NotebookNode) -> int | None:
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)


def update(path: Path, root: Path = ROOT, check: bool = False) -> bool:
    """Insert or refresh the cell before the notebook's first code cell; True if it was up to date."""
    nb = nbformat.read(path, as_version=4)
    want = expected_cell(nb, root)
    existing = next((i for i, c in enumerate(nb.cells) if c.get("id") == CELL_ID), None)
    if existing is not None:
        cell = nb.cells[existing]
        if (
            cell.source == want.source
            and cell.metadata.get("tags") == ["hide-cell"]
            and cell.metadata.get("mystnb") == PROMPTS
            and existing == first_code_cell(nb)
        ):
            return True
        if check:
            return False
        cell.source = want.source
        cell.metadata["tags"] = ["hide-cell"]
        cell.metadata["mystnb"] = dict(PROMPTS)
    else:
        if check:
            return False
        index = first_code_cell(nb)
        nb.cells.insert(len(nb.cells) if index is None else index, want)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return False


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"] or sorted((ROOT / "chapters").rglob("*.ipynb"))
    stale = []
    for path in paths:
        if ".ipynb_checkpoints" in path.parts:
            continue
        if not update(path, check=check):
            stale.append(path)
    for path in stale:
        print(
            f"setup_cell: {'out of date' if check else 'updated'}: {path}",
            file=sys.stderr if check else sys.stdout,
        )
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
