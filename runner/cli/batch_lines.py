"""What ``runner run --inputs-from`` prints: a line per row as it ends, then the summary; and
how it exits (0 every row passed, 1 not, 130 stopped by Ctrl-C or SIGTERM)."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from runner.cli.common import echo
from runner.cli.guard import crash_log
from runner.printable import printable


class BatchLines:
    """The ``on_start`` and ``on_result`` of :func:`runner.api.run_batch`, and its end."""

    def __init__(self, inputs_from: str, quiet: bool) -> None:
        self.inputs_from, self.quiet = inputs_from, quiet
        self.width = 1
        self.crash_logs: dict[int, str] = {}  # row -> the log its internal error's hint names

    def on_start(self, summary: Any) -> None:
        self.width = len(str(summary.total))
        if summary.batch_id:  # shown first: what `runner resume --batch` needs if it dies
            echo(f"batch {summary.batch_id}: {summary.total} rows from {self.inputs_from} "
                 f"(if it is stopped: runner resume --batch {summary.batch_id})")
        if self.quiet:
            return
        for a in summary.already_ran:
            echo(f"row {a.row + 1:>{self.width}}  {a.line()}")

    def on_result(self, index: int, _inputs: Any, result: Any, failure: Any) -> None:
        if result is not None and result.status == "errored" and result.traceback:
            self.crash_logs[index] = crash_log(result.traceback)
        if self.quiet:
            return
        if failure is None:
            echo(f"row {index + 1:>{self.width}}  passed  {result.run_id}  "
                 f"{result.duration_ms / 1000:.1f}s")
        else:
            echo(printable(f"row {index + 1:>{self.width}}  {failure.line()}"))

    def finish(self, summary: Any) -> NoReturn:
        echo(printable(summary.text(self.inputs_from)))  # it quotes the servers' errors
        for index, where in sorted(self.crash_logs.items()):
            echo(f"  row {index + 1}: the details are in {where}; please attach it to a bug "
                 "report")
        if summary.stopped:  # Ctrl-C: what ran is recorded, interrupted runs are resumable
            sys.exit(130)
        sys.exit(0 if summary.ok else 1)
