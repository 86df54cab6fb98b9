"""mkdocs hooks: tables generated from foldrace's own registry, so nothing is listed twice."""

from __future__ import annotations

from foldrace.executors import EXECUTORS

MARKER = "<!-- executors-table -->"


def executors_table() -> str:
    """A Markdown table of the registry: name, schedule rule, description."""
    rows = ["| executor | schedule rule | how it dispatches |", "|---|---|---|"]
    rows += [f"| `{name}` | {cls.schedule} | {cls.summary} |" for name, cls in EXECUTORS.items()]
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replace the executors marker with the table."""
    return markdown.replace(MARKER, executors_table())
