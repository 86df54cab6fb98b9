"""The tutorials as notebooks: each script's ``# %%`` cells (jupytext's percent format).

Used by the docs build (a notebook to download on every tutorial page) and by the tests,
which run every tutorial through this conversion in a real Jupyter kernel.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat

__all__ = ["TUTORIALS", "tutorial_notebook", "tutorial_scripts"]

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"

KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def tutorial_scripts() -> dict[str, Path]:
    """Each tutorial's script by its two-digit number."""
    return {path.name[:2]: path for path in sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))}


def tutorial_notebook(script: Path) -> nbformat.NotebookNode:
    """The tutorial ``script`` as a notebook with a Python kernel.

    Its last cell is the script's ``if __name__ == "__main__":`` guard, which in a Jupyter
    kernel calls ``main()`` with its defaults.
    """
    notebook = jupytext.read(script, fmt="py:percent")
    notebook.metadata["kernelspec"] = KERNEL
    notebook.metadata.pop("jupytext", None)  # a plain notebook, not paired with the script
    return notebook
