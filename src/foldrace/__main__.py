"""``python -m foldrace``: the same as the ``foldrace`` command."""

from foldrace.cli import console_main

console_main()
