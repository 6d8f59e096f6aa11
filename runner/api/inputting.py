"""Inputs the user keeps in a file (``-i @vars.yaml``): read here so that the command line
reaches :mod:`runner.inputs_file` through the door, as every other command does."""

from __future__ import annotations

from typing import Any


def parse_inputs(pairs: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``-i key=value`` pairs and ``-i @FILE`` files (YAML or JSON mappings, typed as
    written), merged left to right; each file's keys remember their line."""
    from runner import inputs_file

    return inputs_file.merge_pairs(pairs)
