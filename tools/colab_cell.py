"""Give every chapter notebook its first cell: install lossref when the notebook runs on Colab.

Usage: python tools/colab_cell.py [--check] [NOTEBOOK ...]   (default: every chapter)

The cell (id ``colab-install``, tagged ``hide-cell`` so the book folds it away) does nothing
outside Colab and prints nothing anywhere, so nbval and the book are unaffected. On Colab it pip-installs
``lossref[symbolic]`` from the repository named once in _config.yml (``repository.url``), and the
peer libraries the notebook imports, at the versions pinned in requirements.txt. Run it again after
changing ``repository.url`` (then re-execute the notebooks: tools/execute_notebooks.py).
``--check`` changes nothing and exits 1 if a notebook's cell is missing or out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CELL_ID = "colab-install"
#: libraries a chapter may import that Colab does not preinstall (module name -> pip name)
EXTRA = {"monai": "monai", "kornia": "kornia", "scipy": "scipy"}


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


def cell_source(nb: nbformat.NotebookNode, root: Path = ROOT) -> str:
    pinned = pins(root)
    packages = [f'"lossref[symbolic] @ git+{repository_url(root)}"']
    for module, package in EXTRA.items():
        if module in imported(nb):
            version = pinned.get(package)
            packages.append(f'"{package}=={version}"' if version else f'"{package}"')
    # one item a line, with a trailing comma: the form ruff's formatter keeps (tests/test_style.py)
    items = ["sys.executable", '"-m"', '"pip"', '"install"', '"--quiet"', *packages]
    listing = "".join(f"            {item},\n" for item in items)
    return (
        "# On Colab only: install lossref and the libraries this chapter compares with\n"
        "# (does nothing elsewhere)\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    subprocess.run(\n"
        "        [\n"
        f"{listing}"
        "        ],\n"
        "        check=True,\n"
        "    )"
    )


#: the labels of the folded cell in the book (myst-nb's default says "Show code cell content")
PROMPTS = {
    "code_prompt_show": "Show the Colab install cell",
    "code_prompt_hide": "Hide the Colab install cell",
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
            f"colab_cell: {'out of date' if check else 'updated'}: {path}",
            file=sys.stderr if check else sys.stdout,
        )
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
