"""mkdocs hooks: tables generated from foldrace's own registry, so nothing is listed twice."""

from __future__ import annotations

from typing import Any

import pandas as pd

from foldrace.executors import backend_table, executor_table

TABLES = {"<!-- executors-table -->": executor_table, "<!-- backends-table -->": backend_table}


def markdown_table(table: pd.DataFrame) -> str:
    """A Markdown table, the first column's values as code."""
    rows = ["| " + " | ".join(table.columns) + " |", "|---" * len(table.columns) + "|"]
    for row in table.itertuples(index=False):
        rows.append(f"| `{row[0]}` | " + " | ".join(map(str, row[1:])) + " |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace each table's marker with the table."""
    for marker, make in TABLES.items():
        if marker in markdown:
            markdown = markdown.replace(marker, markdown_table(make()))
    return markdown
