"""The ``runner`` console script (pyproject ``[project.scripts]``).

``runner --version`` is answered here, with what click's ``version_option`` on the group
prints (``runner, version X``), without importing click, the group or any command: that is
most of its start (issue 14; docs/design.md, "Start-up without the bytecode cache"). Any other
command line, ``--version`` among other arguments included, goes to the click group unchanged.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from runner import __version__

        try:
            sys.stdout.write(f"runner, version {__version__}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # `runner --version | true`: as click's main ends then
            sys.exit(1)
        return
    from runner.cli.common import main as group

    group()
