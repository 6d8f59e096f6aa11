"""Inputs the user keeps in a file (``-i @vars.yaml``): read here so that the command line
reaches :mod:`runner.inputs_file` through the door, as every other command does."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_inputs_file(path: str | Path) -> dict[str, Any]:
    """The inputs a YAML or JSON mapping file gives (``-i @FILE``), typed as written."""
    from runner import inputs_file

    return inputs_file.read_inputs_file(path)
