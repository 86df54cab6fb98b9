"""A griffe extension for the API page: Sphinx roles in docstrings become code.

foldrace's docstrings cross-reference with Sphinx roles (``:func:`~foldrace.race```),
which Python's ``help()`` and IDEs read as they are, but which Markdown would show raw.
mkdocstrings loads this extension (``mkdocs.yml``); each role becomes inline code of the
name it shows: the last part after ``~``, the whole path otherwise, or the title of a
``title <target>`` role.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:func|meth|class|attr|mod|data|exc|obj|const|ref):`(~?)([^`<]+?)\s*(?:<[^>]+>)?`"
)


def shown(match: re.Match[str]) -> str:
    """The code span a role shows."""
    short, name = match.group(1), match.group(2).strip()
    return f"`{name.rsplit('.', 1)[-1] if short else name}`"


def plain(text: str) -> str:
    """``text`` with every Sphinx role turned into inline code."""
    return ROLE.sub(shown, text)


class SphinxRoles(griffe.Extension):
    """Rewrite each object's docstring as it is loaded."""

    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
