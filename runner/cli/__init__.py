"""The command line: parses arguments and calls ``runner.api``; one module per command.

The ``runner`` console script is :func:`runner.cli.entry.main`: it answers ``runner
--version`` alone without importing click or any command (issue 14: ~20 ms of a start, and
without the bytecode cache the most of it), and hands every other command line to the click
group :data:`runner.cli.common.main`, which ``runner.cli.main`` names (loaded when first used,
so importing ``runner.cli.entry`` does not import click). The commands are a table
(:data:`runner.cli.common.COMMANDS`): a command's module registers it on ``main`` when
imported, and is imported only when that command runs, so ``runner validate`` and ``runner
run`` load no other command's code; imports of the engine stay inside the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.cli.common import main

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":  # the click group, for ``from runner.cli import main`` (tests, programs)
        from runner.cli.common import main

        return main
    raise AttributeError(f"module 'runner.cli' has no attribute {name!r}")
