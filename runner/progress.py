"""Progress as a run goes: a live line on a terminal, or one JSON object per event.

Three console listeners, one chosen per run by :func:`console_listener`:

- :class:`~runner.console.ConsoleReporter`: one line per event. Used when the output is not a
  terminal (CI logs, pipes, files) or with ``--no-progress``.
- :class:`LiveProgress`: the same lines, plus one live line at the bottom, redrawn in place
  (``\\r`` and "clear line"), for what is still running: a poll (attempt, elapsed, last state), a
  loop (iterations done of total), any other step (elapsed, last request). A poll then leaves no
  "attempt N" line per attempt; its result line says how many attempts it took.
- :class:`~runner.json_log.JsonLogReporter`: ``--log-format json``, one JSON object per line
  and per event, for log shippers.

The live line's text is composed in :mod:`runner.progress_line`; this module draws it, from a
thread of its own. Everything written goes through the run's redactor.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from typing import IO

from runner.console import ConsoleReporter
from runner.json_log import JsonLogReporter
from runner.printable import printable
from runner.progress_line import Running, inside, status_text
from runner.report import describe_request
from runner.results import ERRORED, FAILED, Exchange, Listener, RunResult, StepResult
from runner.secrets import Redactor

__all__ = ["CLEAR", "LiveProgress", "console_listener", "is_terminal"]

CLEAR = "\r\x1b[2K"  # back to column 0, erase the line
SPINNER = "|/-\\"


def is_terminal(stream: IO[str]) -> bool:
    """True when ``stream`` is an interactive terminal that understands "clear line"."""
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


def console_listener(redactor: Redactor, stream: IO[str], *, progress: bool = True,
                     log_format: str = "text") -> Listener:
    """The console listener for a run: JSON lines, a live terminal display, or plain lines."""
    if log_format == "json":
        return JsonLogReporter(redactor, stream)
    if progress and is_terminal(stream):
        return LiveProgress(redactor, stream)
    return ConsoleReporter(redactor, stream)


def _terminal_width(stream: IO[str]) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    # 0: a terminal that does not say its size (some CI runners, a bare pty)
    return columns if columns > 0 else shutil.get_terminal_size((100, 24)).columns


class LiveProgress(ConsoleReporter):
    """The console report plus a live line for what is still running, redrawn in place.

    Listener events come from the engine's threads (loop iterations run concurrently); a
    daemon thread redraws the line every ``interval`` seconds so elapsed times move between
    events. ``close()`` clears the line and stops that thread; ``run_finished`` calls it, and a
    caller whose run may end in an exception should call it too.
    """

    def __init__(self, redactor: Redactor, stream: IO[str] | None = None, *,
                 interval: float = 0.2, width: int | None = None) -> None:
        super().__init__(redactor, stream)
        self.interval = interval
        self.fixed_width = width
        self._live = threading.RLock()  # the live line's state; taken before write()'s lock
        self._running: dict[int, Running] = {}  # id(result) -> state, in start order
        self._shown = False
        self._frame = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- the live line ---------------------------------------------------------------------
    def write(self, lines: list[str]) -> None:
        with self._live:  # the permanent lines go above the live line: clear it first
            if self._shown:
                self.put(CLEAR)
                self._shown = False
            super().write(lines)

    def status(self) -> str:
        """The live line's text now (empty when nothing runs)."""
        with self._live:
            return status_text(list(self._running.values()), time.monotonic())

    def _draw(self) -> None:
        with self._live:
            text = self.status()
            if not text:
                if self._shown:
                    self.put(CLEAR)
                    self._shown = False
                return
            self._frame += 1
            text = f"  {SPINNER[self._frame % len(SPINNER)]} " + \
                printable(self.redactor.redact(text))
            width = self.fixed_width or _terminal_width(self.stream)
            if len(text) >= width:  # a wrapped line can't be redrawn in place
                text = text[: max(width - 4, 10)] + "..."
            self.put(CLEAR + text)
            self._shown = True

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self._draw()

    def close(self) -> None:
        """Clear the live line and stop redrawing it (idempotent)."""
        self._stop.set()
        ticker, self._ticker = self._ticker, None
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=2)
        with self._live:
            self._running.clear()
            if self._shown:
                self.put(CLEAR)
                self._shown = False

    # -- events ----------------------------------------------------------------------------
    def run_started(self, run: RunResult) -> None:
        super().run_started(run)
        if self.interval > 0 and self._ticker is None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, name="runner-progress",
                                            daemon=True)
            self._ticker.start()

    def step_started(self, result: StepResult, iteration: int | None) -> None:
        with self._live:
            self._running[id(result)] = Running(result, time.monotonic(), iteration)
            if iteration is not None:
                parent = self._parent(result)
                if parent is not None:
                    parent.running += 1
            self._draw()

    def loop_started(self, result: StepResult, total: int) -> None:
        """Optional event: a loop step is about to run ``total`` iterations."""
        with self._live:
            r = self._running.get(id(result))
            if r is not None:
                r.total = total
            self._draw()

    def exchange(self, result: StepResult, exchange: Exchange) -> None:
        with self._live:
            r = self._running.get(id(result))
            if r is not None:
                answer = exchange.error or (exchange.response or {}).get("status", "")
                r.last = f"{describe_request(exchange.request)} -> {answer}"
            self._draw()

    def poll_attempt(self, result: StepResult, attempt: int, elapsed: float, state: str) -> None:
        with self._live:
            r = self._running.get(id(result))
            if r is not None:
                r.attempt, r.poll_elapsed, r.state = attempt, elapsed, state
                r.poll_seen = time.monotonic()
            self._draw()

    def step_finished(self, result: StepResult, iteration: int | None) -> None:
        with self._live:
            self._running.pop(id(result), None)
            if iteration is not None:
                parent = self._parent(result)
                if parent is not None:
                    parent.running = max(parent.running - 1, 0)
                    parent.done += 1
                    parent.failed += result.status in (FAILED, ERRORED)
            super().step_finished(result, iteration)
            self._draw()

    def run_finished(self, run: RunResult) -> None:
        self.close()
        super().run_finished(run)

    def _parent(self, iteration: StepResult) -> Running | None:
        """The running loop step an iteration belongs to."""
        for r in reversed(list(self._running.values())):
            if r.result is not iteration and r.iteration is None and inside(iteration,
                                                                                 r.result):
                return r
        return None
