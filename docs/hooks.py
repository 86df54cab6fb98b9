"""mkdocs hooks: tables generated from foldrace's own registry, so nothing is listed twice."""

from __future__ import annotations

from foldrace.executors import executor_table

MARKER = "<!-- executors-table -->"


def executors_table() -> str:
    """A Markdown table of the registry: name, family, options, schedule rule, description."""
    table = executor_table()
    rows = ["| " + " | ".join(table.columns) + " |", "|---" * len(table.columns) + "|"]
    for row in table.itertuples(index=False):
        rows.append(f"| `{row[0]}` | " + " | ".join(map(str, row[1:])) + " |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replace the executors marker with the table."""
    return markdown.replace(MARKER, executors_table())
