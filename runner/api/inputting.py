"""Inputs the user keeps in a file (``-i @vars.yaml``): read here so that the command line
reaches :mod:`runner.inputs_file` through the door, as every other command does."""

from __future__ import annotations

from runner.inputs_file import read_inputs_file

__all__ = ["read_inputs_file"]
