"""The command line: parses arguments and calls ``runner.api``; one module per command.

``runner.cli.main`` is the ``runner`` console script. Each module below registers its command
on it when imported; imports of the engine stay inside the commands, so ``runner --version``
and ``runner validate`` start fast.
"""

from __future__ import annotations

from runner.cli import (  # noqa: F401  (each registers its command on `main`)
    connectors,
    history,
    plan,
    resume,
    run,
    sandbox,
    schedules,
    schema,
    validate,
    worker,
)
from runner.cli.common import main

__all__ = ["main"]
