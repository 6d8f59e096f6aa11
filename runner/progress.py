"""Progress as a run goes: a live line on a terminal, or one JSON object per event.

Three console listeners, one chosen per run by :func:`console_listener`:

- :class:`~runner.report.ConsoleReporter`: one line per event. Used when the output is not a
  terminal (CI logs, pipes, files) or with ``--no-progress``.
- :class:`LiveProgress`: the same lines, plus one live line at the bottom, redrawn in place
  (``\\r`` and "clear line"), for what is still running: a poll (attempt, elapsed, last state), a
  loop (iterations done of total), any other step (elapsed, last request). A poll then leaves no
  "attempt N" line per attempt; its result line says how many attempts it took.
- :class:`JsonLogReporter`: ``--log-format json``, one JSON object per line and per event
  (``run_started``, ``step_started``, ``exchange``, ``poll_attempt``, ``step_finished``,
  ``run_finished``), for log shippers.

Everything written goes through the run's redactor, like every other output.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode

from runner.printable import printable
from runner.report import ConsoleReporter, describe_request
from runner.results import ERRORED, FAILED, Exchange, Listener, RunResult, StepResult
from runner.secrets import Redactor

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


@dataclass
class _Running:
    """What the live line knows about one running step."""

    result: StepResult
    started: float
    iteration: int | None = None
    attempt: int = 0
    poll_elapsed: float = 0.0
    poll_seen: float = 0.0  # monotonic time of the last poll_attempt
    state: str = ""
    last: str = ""  # the last request and its answer
    total: int | None = None  # loop: iterations to run (when the engine says)
    done: int = 0
    failed: int = 0
    running: int = 0


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
        self._running: dict[int, _Running] = {}  # id(result) -> state, in start order
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
            now = time.monotonic()
            running = list(self._running.values())
            loops = [r for r in running if r.total is not None or r.done or r.running]
            if loops:
                return self._loop_text(loops[0], now)  # the outermost loop
            tops = [r for r in running if r.iteration is None]
            if not tops:
                return ""
            return self._step_text(tops[-1], now)  # the innermost step (includes nest)

    @staticmethod
    def _name(result: StepResult) -> str:
        return result.trail or result.step_id

    def _step_text(self, r: _Running, now: float) -> str:
        head = f"{self._name(r.result)} {r.result.target}"
        if r.attempt:
            elapsed = r.poll_elapsed + (now - r.poll_seen)
            text = f"{head} · attempt {r.attempt} · {elapsed:.1f} s"
            return text + (f" · {r.state}" if r.state else "")
        text = f"{head} · {now - r.started:.1f} s"
        return text + (f" · {r.last}" if r.last else "")

    def _loop_text(self, r: _Running, now: float) -> str:
        of = f"/{r.total}" if r.total is not None else ""
        text = f"{self._name(r.result)} {r.result.target} · {r.done}{of} done"
        if r.failed:
            text += f", {r.failed} failed"
        if r.running:
            text += f", {r.running} running"
        text += f" · {now - r.started:.1f} s"
        polls = [i for i in self._running.values() if i.attempt and i is not r
                 and self._inside(i.result, r.result)]
        if polls:
            p = polls[-1]
            where = self._name(p.result)[len(self._name(r.result)):]
            text += f" · {where.strip()} attempt {p.attempt}" + (f": {p.state}" if p.state
                                                                 else "")
        return text

    @staticmethod
    def _inside(inner: StepResult, outer: StepResult) -> bool:
        if inner.trail and outer.trail:
            return inner.trail.startswith(outer.trail + "[")
        return inner.step_id == outer.step_id

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
            self._running[id(result)] = _Running(result, time.monotonic(), iteration)
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

    def _parent(self, iteration: StepResult) -> _Running | None:
        """The running loop step an iteration belongs to."""
        for r in reversed(list(self._running.values())):
            if r.result is not iteration and r.iteration is None and self._inside(iteration,
                                                                                 r.result):
                return r
        return None


def _url(request: dict[str, Any]) -> str:
    query = {k: v for k, v in (request.get("query") or {}).items() if v is not None}
    if not query:
        return str(request["url"])
    return f"{request['url']}?{urlencode(query, doseq=True)}"


class JsonLogReporter(Listener):
    """``--log-format json``: one JSON object per line and per event, secrets redacted.

    Every object has ``event``, ``ts`` (Unix time) and ``run_id``; step events add ``step``
    (the step id) and, inside a loop, ``iteration``.
    """

    def __init__(self, redactor: Redactor, stream: IO[str]) -> None:
        self.redactor = redactor
        self.stream = stream
        self.run_id = ""
        self._lock = threading.Lock()
        self.closed = False  # as ConsoleReporter.put: a closed stdout stops the log, not the run

    def emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "ts": round(time.time(), 3), "run_id": self.run_id, **fields}
        record = self.redactor.redact_data(record)
        text = json.dumps(record, ensure_ascii=False, default=str)
        with self._lock:
            if self.closed:
                return
            try:
                self.stream.write(self.redactor.redact(text) + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                self.closed = True

    @staticmethod
    def _step(result: StepResult, iteration: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"step": result.step_id}
        if result.trail and result.trail != result.step_id:
            out["trail"] = result.trail  # inside a loop or an include: "software[1] > wait"
        if iteration is not None:
            out["iteration"] = iteration
        return out

    def run_started(self, run: RunResult) -> None:
        self.run_id = run.run_id
        self.emit("run_started", playbook=run.playbook, file=run.file,
                  environment=run.environment, inputs=run.inputs)

    def step_started(self, result: StepResult, iteration: int | None) -> None:
        self.emit("step_started", **self._step(result, iteration), label=result.label,
                  kind=result.kind, target=result.target, name=result.name)

    def exchange(self, result: StepResult, exchange: Exchange) -> None:
        response = exchange.response or {}
        fields: dict[str, Any] = {
            **self._step(result), "method": exchange.request.get("method"),
            "url": _url(exchange.request), "status": response.get("status"),
            "ms": response.get("elapsed_ms"),
        }
        if exchange.attempt is not None:
            fields["attempt"] = exchange.attempt
        if exchange.error or response.get("error"):
            fields["error"] = exchange.error or response.get("error")
        self.emit("exchange", **fields)

    def poll_attempt(self, result: StepResult, attempt: int, elapsed: float, state: str) -> None:
        self.emit("poll_attempt", **self._step(result), attempt=attempt,
                  elapsed_s=round(elapsed, 3), state=state)

    def step_finished(self, result: StepResult, iteration: int | None) -> None:
        fields: dict[str, Any] = {**self._step(result, iteration), "status": result.status,
                                  "duration_ms": round(result.duration_ms, 2)}
        if result.attempts:
            fields["attempts"] = result.attempts
        if result.extracted:
            fields["extracted"] = result.extracted
        if result.outputs is not None:
            fields["outputs"] = result.outputs
        if result.skipped_reason:
            fields["skipped_reason"] = result.skipped_reason
        if result.error:
            fields["error"] = result.error
            if result.hint:
                fields["hint"] = result.hint
        self.emit("step_finished", **fields)

    def run_finished(self, run: RunResult) -> None:
        counts: dict[str, int] = {}
        for s in run.steps:
            counts[s.status] = counts.get(s.status, 0) + 1
        self.emit("run_finished", status=run.status, duration_ms=round(run.duration_ms, 2),
                  steps=counts, outputs=run.outputs, failed_step=run.failed_step,
                  error=run.error, hint=run.hint)
