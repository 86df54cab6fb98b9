"""``python -m foldrace``: the same as the ``foldrace`` command."""

from foldrace.cli import main

raise SystemExit(main())
