"""Progress as a run goes: on a terminal through rich (colour, a live line), else plain lines
or one JSON object per event.

Three console listeners, one chosen per run by :func:`console_listener`:

- :class:`~runner.console.ConsoleReporter`: one line per event, no colour. Used when the
  output is not a terminal (CI logs, pipes, files) or with ``--no-progress``; rich is then not
  even imported (a piped or ``-q`` run starts as fast as before).
- :class:`LiveProgress`: the same lines through a rich ``Console`` (its own terminal width and
  colour detection, ``NO_COLOR`` and ``FORCE_COLOR``), marks in colour, and one live line below
  them (a ``rich.live.Live``) for what is still running: a poll (attempt, elapsed, the values
  its ``poll-until`` reads), a loop (done of total, failed, running, the slowest so far), any
  other step (elapsed, last request). A poll then leaves no "attempt N" line per attempt. With
  ``FORCE_COLOR`` and no terminal it is the coloured lines without the live line.
- :class:`~runner.json_log.JsonLogReporter`: ``--log-format json``, one JSON object per line
  and per event, for log shippers.

Events change state and redraw at most once per interval; rich redraws the live line from a
thread of its own between them, so a loop of 1,000 calls costs no drawing per call. The live
line's text is composed in :mod:`runner.progress_line`. Everything written goes through the
run's redactor.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import IO, TYPE_CHECKING, cast

from runner.console import ConsoleReporter
from runner.json_log import JsonLogReporter
from runner.printable import printable
from runner.progress_line import Running, status_text
from runner.results import Exchange, Listener, RunResult, StepResult
from runner.secrets import Redactor

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

__all__ = ["CLEAR", "LiveProgress", "console_listener", "forced_colour", "is_terminal"]

CLEAR = "\r\x1b[2K"  # back to column 0, erase the line: how the live line is redrawn
SPINNER = "|/-\\"
# what is coloured in the console's lines: a step's mark, the run's end, a vendor's words
STYLES = (
    (re.compile(r"^ *(PASS)(?= )", re.M), "green"),
    (re.compile(r"^ *(FAIL)(?= )", re.M), "red"),
    (re.compile(r"^ *(SKIP)(?= )", re.M), "yellow"),
    (re.compile(r"^ *(ERR!)(?= )", re.M), "magenta"),
    (re.compile(r"^(PASSED)\b", re.M), "bold green"),
    (re.compile(r"^(FAILED|INTERRUPTED)\b", re.M), "bold red"),
    (re.compile(r"^(ERRORED)\b", re.M), "bold magenta"),
    (re.compile(r"^ *(\S+ said: .*)$", re.M), "red"),
    (re.compile(r"^ *(\.\.\. .*)$", re.M), "dim"),
)


def is_terminal(stream: IO[str]) -> bool:
    """True when ``stream`` is an interactive terminal that understands "clear line"."""
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


def forced_colour() -> bool:
    """``FORCE_COLOR`` set (not empty) and ``NO_COLOR`` not: colour even into a pipe."""
    return bool(os.environ.get("FORCE_COLOR")) and not os.environ.get("NO_COLOR")


def console_listener(redactor: Redactor, stream: IO[str], *, progress: bool = True,
                     log_format: str = "text", verbose: bool = False) -> Listener:
    """The console listener for a run: JSON lines, rich on a terminal, or plain lines."""
    if log_format == "json":
        return JsonLogReporter(redactor, stream)
    live = progress and is_terminal(stream)
    if live or forced_colour():
        return LiveProgress(redactor, stream, verbose=verbose, live=live)
    return ConsoleReporter(redactor, stream, verbose=verbose)


class _Guarded:
    """The stream as rich's file: a write the reader is not there for any more (``| head``, a
    closed terminal) marks the console closed instead of raising in the run or in rich's
    thread; the run goes on to its end as if nobody watched."""

    def __init__(self, stream: IO[str], owner: ConsoleReporter) -> None:
        self.stream, self.owner = stream, owner
        self.encoding = getattr(stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        if not self.owner.closed:
            try:
                self.stream.write(text)
            except (OSError, ValueError):  # ValueError: the stream was closed
                self.owner.closed = True
        return len(text)

    def flush(self) -> None:
        if not self.owner.closed:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self.owner.closed = True

    def isatty(self) -> bool:
        return True  # rich is used for a terminal, or told to colour anyway (FORCE_COLOR)

    def fileno(self) -> int:
        return self.stream.fileno()


class _LiveLine:
    """What rich draws as the live region: the live line's text at the time rich draws it (a
    text set once would be redrawn stale after each permanent line)."""

    def __init__(self, owner: LiveProgress) -> None:
        self.owner = owner

    def __rich__(self) -> Text:
        return self.owner.drawn()


class LiveProgress(ConsoleReporter):
    """The console report through rich, in colour, plus a live line for what is still running.

    Listener events come from the engine's threads (loop iterations run concurrently); they
    update the state the live line is drawn from, and rich's thread redraws it every
    ``interval`` seconds (0: on every event instead, for tests). ``close()`` clears the line
    and stops that thread; ``run_finished`` calls it, and a caller whose run may end in an
    exception should call it too. ``live=False``: the coloured lines only (no terminal).
    """

    def __init__(self, redactor: Redactor, stream: IO[str] | None = None, *,
                 interval: float = 0.25, width: int | None = None, verbose: bool = False,
                 live: bool = True) -> None:
        super().__init__(redactor, stream, verbose=verbose)
        from rich.console import Console

        self.interval = interval
        self.live = live
        self.console: Console = Console(
            file=cast("IO[str]", _Guarded(self.stream, self)), force_terminal=True,
            force_interactive=live, width=width, soft_wrap=True, highlight=False, markup=False,
            emoji=False)
        self._state = threading.Lock()  # the running steps; rich's locks are taken before it
        self._running: dict[int, Running] = {}  # id(result) -> state, in start order
        self._frame = 0
        self._drawn_at = 0.0  # monotonic time of the last redraw an event asked for
        self._live: Live | None = None

    # -- the lines ---------------------------------------------------------------------------
    def write(self, lines: list[str]) -> None:
        if self.closed:
            return
        self.console.print(self._styled(lines))  # above the live line, in one write

    def _styled(self, lines: list[str]) -> Text:
        from rich.text import Text

        text = Text("\n".join(printable(self.redactor.redact(x)) for x in lines))
        plain = text.plain
        for pattern, style in STYLES:
            for m in pattern.finditer(plain):
                text.stylize(style, m.start(1), m.end(1))
        return text

    # -- the live line -----------------------------------------------------------------------
    def status(self) -> str:
        """The live line's text now (empty when nothing runs)."""
        with self._state:
            return status_text(list(self._running.values()), time.monotonic())

    def drawn(self) -> Text:
        """The live line as rich draws it: a spinner, the text cut to the width, never wrapped."""
        from rich.text import Text

        text = self.status()
        if not text:
            return Text("", end="")
        self._frame += 1
        return Text(f"  {SPINNER[self._frame % len(SPINNER)]} "
                    + printable(self.redactor.redact(text)), style="dim", no_wrap=True,
                    overflow="ellipsis", end="")

    def _start(self) -> None:
        if not self.live or self._live is not None or self.closed:
            return
        from rich.live import Live

        self._live = Live(_LiveLine(self), console=self.console,
                          auto_refresh=self.interval > 0,
                          refresh_per_second=1 / self.interval if self.interval > 0 else 4,
                          transient=True, redirect_stdout=False, redirect_stderr=False)
        self._live.start()

    def _changed(self, now: bool = False) -> None:
        """Redraw on an event at most once per ``interval`` (rich's thread redraws between
        events): a loop of 1,000 quick calls draws a few times, not 3,000; ``now``: always."""
        live = self._live
        if live is None or self.closed:
            return
        at = time.monotonic()
        if now or self.interval <= 0 or at - self._drawn_at >= self.interval:
            self._drawn_at = at
            live.refresh()

    def close(self) -> None:
        """Clear the live line and stop redrawing it (idempotent)."""
        live, self._live = self._live, None
        with self._state:
            self._running.clear()
        if live is not None:
            live.stop()

    # -- events ------------------------------------------------------------------------------
    def run_started(self, run: RunResult) -> None:
        super().run_started(run)
        self._start()

    def step_started(self, result: StepResult, iteration: int | None) -> None:
        super().step_started(result, iteration)
        if iteration is not None:
            return  # its loop's count says it runs; it joins the line if it polls
        self._start()
        with self._state:
            self._running[id(result)] = Running(result, time.monotonic(), iteration)
        self._changed()

    def loop_started(self, result: StepResult, total: int) -> None:
        super().loop_started(result, total)
        with self._state:
            r = self._running.get(id(result))
            if r is not None:
                r.tally = self.tallies.get(result.trail)
        self._changed(now=True)  # the loop's length, as soon as it is known

    def exchange(self, result: StepResult, exchange: Exchange) -> None:
        super().exchange(result, exchange)  # the waits it counts
        with self._state:
            r = self._running.get(id(result))
            if r is not None:
                r.last = exchange  # worded when drawn: most are never drawn
        self._changed()

    def poll_attempt(self, result: StepResult, attempt: int, elapsed: float, state: str) -> None:
        if not self.live:
            super().poll_attempt(result, attempt, elapsed, state)
            return
        with self._state:
            r = self._running.get(id(result))
            if r is None:  # an iteration's poll: on the line from now on
                trail = result.trail
                index = int(trail[trail.rindex("[") + 1:-1]) if trail.endswith("]") else None
                r = self._running[id(result)] = Running(result, time.monotonic(), index)
            r.attempt, r.poll_elapsed, r.state = attempt, elapsed, state
            r.poll_seen = time.monotonic()
        self._changed()

    def step_finished(self, result: StepResult, iteration: int | None) -> None:
        with self._state:
            self._running.pop(id(result), None)
        super().step_finished(result, iteration)
        self._changed()

    def run_finished(self, run: RunResult) -> None:
        self.close()
        super().run_finished(run)
