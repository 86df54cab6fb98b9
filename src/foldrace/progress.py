"""The progress bar: a widget in a notebook that can draw one, text everywhere else.

``tqdm.auto`` picks the widget bar inside a Jupyter kernel, and when ipywidgets is not
installed it falls back to the text bar, but only after warning ("IProgress not found")
the moment it is imported, so ``import foldrace`` would print a warning in every such
notebook. foldrace imports it with that one warning silenced: the text bar, written to
standard error, is what the notebook shows then.
"""

from __future__ import annotations

import warnings

from tqdm import TqdmWarning

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
