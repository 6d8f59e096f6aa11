"""The console report: one line per event as the run goes, readable in a terminal and in a
CI log alike (``runner run`` without ``--log-format json``).

A loop prints, when it ends, a summary line (counts, the slowest iteration, its time) and the
lines of its failed iterations; with ``verbose`` (``runner run -v``) every iteration's line as
it ends instead. A failure says the vendor's words first, then runner's, then where the step is
(:mod:`runner.failure_words`). :class:`runner.progress.LiveProgress` draws these same lines
through rich on a terminal, in colour, with a live line below them. Everything goes through
the run's redactor on its way out; nothing here prints a secret.
"""

from __future__ import annotations

import sys
import threading
from typing import IO

from runner.failure_words import failure_of, vendor_words
from runner.loop_tally import LoopTally, loop_of
from runner.printable import printable
from runner.report import MARK, describe_request, ms, short, step_counts
from runner.results import ERRORED, FAILED, PASSED, Exchange, Listener, RunResult, StepResult
from runner.secrets import Redactor

UNDO_SAID = {"undone": "undone: every undo step passed",
             "partly-undone": "partly undone: an undo step failed, the others ran "
             "(runner undo RUN_ID tries the failed ones again)",
             "interrupted": "stopped mid-undo (runner resume RUN_ID continues it)"}


class ConsoleReporter(Listener):
    """One line per event, readable in a terminal and in a CI log alike.

    Steps of included playbooks print as they finish, indented under where they run
    (``software[1] > wait``); a loop prints its summary and its failed iterations when it
    ends (``verbose``: every iteration as it ends). Each step's lines go out in one write, so
    concurrent iterations don't interleave mid-step.
    """

    def __init__(self, redactor: Redactor, stream: IO[str] | None = None, *,
                 verbose: bool = False) -> None:
        self.redactor = redactor
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self.width = 34
        self._printed: set[str] = set()  # keys of the included steps printed as they ended
        self._lock = threading.Lock()
        self.tallies: dict[str, LoopTally] = {}  # running loops, by trail
        self.closed = False  # the console could not be written: the run goes on without it
        self.waited_ms = 0.0  # every exchange's wait for connector limits, summed

    def line(self, text: str = "") -> None:
        self.write([text])

    def write(self, lines: list[str]) -> None:
        text = "".join(printable(self.redactor.redact(x)) + "\n" for x in lines)
        with self._lock:
            self.put(text)

    def put(self, text: str) -> None:
        """Write ``text`` out. Once the console cannot take it (the reader of a pipe went away,
        ``runner run ... | head``; a full disk under a redirect), write nothing more to it:
        the run goes on to its end and its outcome is recorded as if nobody watched."""
        if self.closed:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            self.closed = True

    def run_started(self, run: RunResult) -> None:
        lines = [f"runner · {run.playbook}",
                 f"  file {run.file} · env {run.environment} · run {run.run_id}"]
        if run.inputs:
            lines.append("  inputs " + ", ".join(f"{k}={short(v, 40)}"
                                                 for k, v in run.inputs.items()))
        self.write([*lines, ""])

    def poll_attempt(self, result: StepResult, attempt: int, elapsed: float, state: str) -> None:
        if "[" in result.trail and not self.verbose:
            return  # an iteration's: its loop's summary says how it went
        self.line(f"  ...  {result.trail:<12} attempt {attempt} at {elapsed:5.1f} s: {state}")

    def exchange(self, result: StepResult, exchange: Exchange) -> None:
        if exchange.waited_ms:
            with self._lock:
                self.waited_ms += exchange.waited_ms

    def loop_started(self, result: StepResult, total: int) -> None:
        with self._lock:
            self.tallies[result.trail] = LoopTally(total)

    def step_started(self, result: StepResult, iteration: int | None) -> None:
        if iteration is not None:
            with self._lock:
                tally = self.tallies.get(loop_of(result))
                if tally is not None:
                    tally.start()

    def step_finished(self, result: StepResult, iteration: int | None) -> None:
        tally = None
        with self._lock:
            if iteration is not None:
                it = self.tallies.get(loop_of(result))
                if it is not None:
                    it.finish(result)
            else:
                tally = self.tallies.pop(result.trail, None)
        if not self.verbose and (iteration is not None or "[" in result.trail):
            return  # inside a loop: its end says how it went, with its failed iterations
        lines: list[str] = []
        self._step(result, result.key.count(">"), lines, tally)
        self.write(lines)

    def _step(self, result: StepResult, depth: int, out: list[str],
              tally: LoopTally | None = None) -> None:
        if ">" in result.key:
            self._printed.add(result.key)
        indent = "  " + "   " * depth
        name = result.trail if depth or "[" in result.trail else result.step_id
        mark = MARK.get(result.status, result.status.upper())
        head = f"{indent}{mark} {name:<12} {result.target:<{self.width}}"
        last = next((e for e in reversed(result.exchanges) if e.response or e.error), None)
        if last is not None:
            head += " " + self._exchange(last)
        if result.attempts > 1:
            head += f" · {result.attempts} attempts"
        if result.pages > 1:  # all: true; the request shown is the last page's
            head += f" · {result.pages} pages"
        head += f" · {ms(result.duration_ms)}"
        waited = sum(e.waited_ms for e in result.exchanges)
        if waited >= 1:
            head += f" · waited {ms(waited)} for limits"
        if result.resumed:
            head += " · done before the resume"
        out.append(head.rstrip())
        pad = indent + "     "
        if result.name:
            out.append(f"{pad}{result.name}")
        if result.skipped_reason:
            out.append(f"{pad}skipped ({result.skipped_reason})")
        looped = tally is not None or result.omitted or any(
            i.trail.endswith("]") for i in result.iterations)
        if looped:
            out.append(pad + (tally or LoopTally()).summary(result))
        for it in result.iterations:
            if it.key in self._printed:  # steps of includes were printed as they ended
                continue
            if looped and (self.verbose or it.status not in (FAILED, ERRORED)):
                continue  # printed as it ended (-v), or counted in the summary
            self._step(it, depth + 1, out)
        for k, v in result.extracted.items():
            out.append(f"{pad}{k} = {short(v)}")
        for a in result.assertions:
            if a.get("passed"):
                out.append(f"{pad}ok: {a['that']}")
        for k, v in (result.outputs or {}).items():
            out.append(f"{pad}output {k} = {short(v)}")
        if result.error and result.status in (FAILED, ERRORED) and not looped:
            words = vendor_words(last) if last is not None else ""
            if words:  # the vendor's words first, then what detected the failure
                out.append(f"{pad}{result.target.split('.')[0]} said: {words}")
            out.append(f"{pad}error: {result.error}")
            if result.hint:
                out.append(f"{pad}hint: {result.hint}")

    def _exchange(self, e: Exchange) -> str:
        req = describe_request(e.request)
        if e.error:
            return f"{req} -> {e.error}"
        assert e.response is not None
        return f"{req} -> {e.response['status']}"

    def undo_started(self, count: int, reason: str) -> None:
        self.write(["", f"undo: {count} completed step{'s' if count != 1 else ''} to undo, "
                    "the last first"])

    def undo_finished(self, status: str) -> None:
        self.write([f"undo: {UNDO_SAID.get(status, status)}"])

    def run_finished(self, run: RunResult) -> None:
        lines = [""]
        if run.outputs:
            lines.append("outputs:")
            lines += [f"  {k}: {short(v, 200)}" for k, v in run.outputs.items()]
        counts = step_counts(run)
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        if self.waited_ms >= 1:  # the whole run's, loops' iterations included
            summary += f"; calls waited {ms(self.waited_ms)} for limits"
        if run.status == PASSED:
            lines.append(f"PASSED in {ms(run.duration_ms)} ({summary})")
        else:
            lines += self._headline(run, summary)
        if run.undo_status is not None:
            failed = sum(1 for s in run.undone if s.status in (FAILED, ERRORED))
            said = {"partly-undone": "partly undone", "interrupted": "stopped mid-undo: "
                    f"runner resume {run.run_id} continues it"}
            lines.append(f"  undo: {said.get(run.undo_status, run.undo_status)}"
                         + (f" ({failed} undo step{'s' if failed != 1 else ''} failed)"
                            if failed else ""))
        self.write(lines)

    def _headline(self, run: RunResult, summary: str) -> list[str]:
        """A failed run's last lines: the step and its file:line, the vendor's words, then
        runner's (what detected it), the hint."""
        failure = failure_of(run)
        top = next((s for s in run.steps if s.status in (FAILED, ERRORED)), None)
        where = f" at {run.failed_step}" if run.failed_step else ""
        if top is not None and top.where:
            where += f" ({top.where})"
        lines = [f"{run.status.upper()}{where} in {ms(run.duration_ms)} ({summary})"]
        if failure is not None and failure.step is not top and failure.step.where:
            lines.append(f"  in {failure.step.trail} ({failure.step.where})")
        if failure is not None and failure.vendor:
            lines.append(f"  {failure.said_by} said: {failure.vendor}")
        error = failure.error if failure is not None else run.error
        if error:
            lines.append(f"  error: {error}")
        hint = (failure.step.hint if failure is not None else None) or run.hint
        if hint:
            lines.append(f"  hint: {hint}")
        return lines
