"""Folders kept at the repository's top level and shipped inside the package (samples/, macros/).

pyproject.toml maps each into the package (`toolkit.samples`, `toolkit.macros`), so an installed brandkit
finds it with importlib.resources. A checkout (an editable install, whose finder serves no data folder
mapped under a regular package, or PYTHONPATH=.) has no such package and uses the repository's folder.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def bundled(name: str) -> Traversable:
    """The shipped folder `name` ("samples", "macros"): the installed package's, else the checkout's."""
    from importlib.resources import files

    try:
        return files(f"toolkit.{name}")
    except ModuleNotFoundError:
        return CHECKOUT / name
