"""Scripts that also run as notebooks: the tutorials' command-line arguments."""

from __future__ import annotations

import sys

__all__ = ["in_notebook", "script_arguments"]


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel, whose ``sys.argv`` is the kernel's own."""
    return "ipykernel" in sys.modules


def script_arguments() -> list[str]:
    """The command line's arguments after the script's name; none in a Jupyter kernel.

    A tutorial's ``main(*script_arguments()[:1])`` takes its output folder from the command
    line as a script, and its defaults as a notebook (where ``sys.argv`` holds the kernel's
    ``-f CONNECTION_FILE``).
    """
    return [] if in_notebook() else sys.argv[1:]
