"""Re-execute chapter notebooks in place, storing the outputs that nbval checks.

Usage: ``python tools/execute_notebooks.py [NOTEBOOK ...]`` (default: every chapter). Run it after
editing a chapter, then commit the notebook. Timing metadata is not recorded, so an unchanged
chapter re-executes to the same bytes.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":  # markdown cells have no outputs (nbformat's schema, ruff's parser)
            cell.outputs = _coalesce_streams(cell.outputs)
    nbformat.write(nb, path)


def _coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) chunks: how the kernel splits a print into messages varies
    from run to run, and nbval compares the merged text anyway."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        same_stream = prev is not None and out.output_type == prev.output_type == "stream"
        if same_stream and prev.name == out.name:
            prev.text += out.text
        else:
            merged.append(out)
    return merged


def main(paths: list[str]) -> None:
    notebooks = [Path(p).resolve() for p in paths] or sorted((ROOT / "chapters").rglob("*.ipynb"))
    for i, path in enumerate(notebooks, 1):
        if ".ipynb_checkpoints" in path.parts:
            continue
        print(f"[{i}/{len(notebooks)}] {path.relative_to(ROOT)}", flush=True)
        execute(path)


if __name__ == "__main__":
    main(sys.argv[1:])
