"""Strip outputs, execution counts and widget state from notebooks, so git holds only their
source (``make notebooks-clean``).

    python notebooks/strip_outputs.py [--check] [NOTEBOOK.ipynb ...]

Without paths: every ``*.ipynb`` in this folder. ``--check`` changes nothing and exits 1 when
a notebook would change.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
#: Notebook metadata that a run leaves behind (widget state, papermill/execution records).
RUN_METADATA = ("widgets", "papermill", "execution")


def strip_notebook(nb: nbformat.NotebookNode) -> bool:
    """Clear every code cell's outputs and execution count and the run's metadata in place;
    returns whether anything changed."""
    changed = False
    for key in RUN_METADATA:
        changed |= nb.metadata.pop(key, None) is not None
    for cell in nb.cells:
        for key in RUN_METADATA:
            changed |= cell.metadata.pop(key, None) is not None
        if cell.cell_type != "code":
            continue
        changed |= bool(cell.outputs) or cell.execution_count is not None
        cell.outputs, cell.execution_count = [], None
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"] or sorted(HERE.glob("*.ipynb"))
    dirty = []
    for path in paths:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        if strip_notebook(nb):
            dirty.append(path)
            if not check:
                nbformat.write(nb, path)
    verb = "has outputs (run make notebooks-clean)" if check else "stripped"
    for path in dirty:
        print(f"{path}: {verb}")
    return 1 if check and dirty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
