"""``--log-format json``: one JSON object per line and per event of a run, for log shippers.

The events are ``run_started``, ``step_started``, ``exchange``, ``poll_attempt``,
``step_finished`` and ``run_finished``. A room apart from the console's lines and the live
display: it shares none of their text, only the listener's events and the redactor every
output goes through.
"""

from __future__ import annotations

import json
import threading
import time
from typing import IO, Any
from urllib.parse import urlencode

from runner.results import Exchange, Listener, RunResult, StepResult
from runner.secrets import Redactor


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
        if exchange.waited_ms:
            fields["waited_ms"] = exchange.waited_ms  # for the connector's limits
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
        if result.pages:
            fields["pages"] = result.pages
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

    def undo_started(self, count: int, reason: str) -> None:
        self.emit("undo_started", steps=count, reason=reason)

    def undo_finished(self, status: str) -> None:
        self.emit("undo_finished", status=status)

    def run_finished(self, run: RunResult) -> None:
        counts: dict[str, int] = {}
        for s in run.steps:
            counts[s.status] = counts.get(s.status, 0) + 1
        self.emit("run_finished", status=run.status, duration_ms=round(run.duration_ms, 2),
                  steps=counts, outputs=run.outputs, failed_step=run.failed_step,
                  error=run.error, hint=run.hint,
                  **({"undo": run.undo_status} if run.undo_status else {}))
