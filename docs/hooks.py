"""mkdocs hooks: tables generated from foldrace's own registry, so nothing is listed twice,
and every tutorial offered as a notebook built from its script."""

from __future__ import annotations

import re
from typing import Any

import nbformat
import pandas as pd
from mkdocs.structure.files import File, Files
from notebooks import tutorial_notebook, tutorial_scripts  # docs/notebooks.py

from foldrace.executors import backend_table, executor_table

NOTEBOOKS = "notebooks"
"""The site's folder of tutorial notebooks."""

TABLES = {"<!-- executors-table -->": executor_table, "<!-- backends-table -->": backend_table}


def markdown_table(table: pd.DataFrame) -> str:
    """A Markdown table, the first column's values as code."""
    rows = ["| " + " | ".join(table.columns) + " |", "|---" * len(table.columns) + "|"]
    for row in table.itertuples(index=False):
        rows.append(f"| `{row[0]}` | " + " | ".join(map(str, row[1:])) + " |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Replace each table's marker with the table; under a tutorial's title, its notebook."""
    for marker, make in TABLES.items():
        if marker in markdown:
            markdown = markdown.replace(marker, markdown_table(make()))
    link = notebook_link(page.file.src_uri)
    if link is not None:
        title, _, rest = markdown.partition("\n")
        markdown = f"{title}\n\n{link}\n{rest}"
    return markdown


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    """Add ``notebooks/NN_name.ipynb`` for every tutorial, built from its script."""
    for script in tutorial_scripts().values():
        content = nbformat.writes(tutorial_notebook(script))
        files.append(File.generated(config, f"{NOTEBOOKS}/{script.stem}.ipynb", content=content))
    return files


def notebook_link(page_path: str) -> str | None:
    """The download line for the tutorial page at ``page_path`` (``tutorials/NN-name.md``)."""
    found = re.fullmatch(r"tutorials/(\d\d)-[^/]+\.md", page_path)
    if found is None or found.group(1) not in tutorial_scripts():
        return None
    script = tutorial_scripts()[found.group(1)]
    notebook = f"{script.stem}.ipynb"
    return (
        f'[Download as a notebook](../{NOTEBOOKS}/{notebook}){{: download="{notebook}" }}'
        f" ({notebook}, the same code as `tutorials/{script.name}` in cells)"
    )
