"""The command line: parses arguments and calls ``runner.api``; one module per command.

``runner.cli.main`` is the ``runner`` console script. The commands are a table
(:data:`runner.cli.common.COMMANDS`): a command's module registers it on ``main`` when
imported, and is imported only when that command runs, so ``runner --version``, ``runner
validate`` and ``runner run`` load no other command's code; imports of the engine stay inside
the commands.
"""

from __future__ import annotations

from runner.cli.common import main

__all__ = ["main"]
