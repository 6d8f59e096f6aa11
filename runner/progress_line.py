"""What the live line says about the steps still running: one line of text, no terminal.

:class:`runner.progress.LiveProgress` keeps a :class:`Running` per running step, from the
listener's events, and redraws :func:`status_text` in place; this room only composes the text
(a poll's attempt and the values its ``poll-until`` reads, a loop's counts and slowest
iteration from its :class:`~runner.loop_tally.LoopTally`, any other step's elapsed time and
last request), so it can be read and tested without threads or a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.loop_tally import LoopTally
from runner.report import describe_request
from runner.results import Exchange, StepResult


@dataclass
class Running:
    """What the live line knows about one running step."""

    result: StepResult
    started: float
    iteration: int | None = None
    attempt: int = 0
    poll_elapsed: float = 0.0
    poll_seen: float = 0.0  # monotonic time of the last poll_attempt
    state: str = ""  # a poll: the values its poll-until read in the last answer
    last: Exchange | None = None  # the last request and its answer
    tally: LoopTally | None = None  # a loop: its counts so far


def status_text(running: list[Running], now: float) -> str:
    """The live line for ``running`` (in start order) at monotonic time ``now``; empty when
    nothing runs."""
    loops = [r for r in running if r.tally is not None]
    if loops:
        return _loop_text(loops[0], running, now)  # the outermost loop
    tops = [r for r in running if r.iteration is None]
    if not tops:
        return ""
    return _step_text(tops[-1], now)  # the innermost step (includes nest)


def inside(inner: StepResult, outer: StepResult) -> bool:
    """Whether ``inner`` runs inside ``outer`` (an iteration of its loop, a step it includes)."""
    if inner.trail and outer.trail:
        return inner.trail.startswith(outer.trail + "[")
    return inner.step_id == outer.step_id


def _name(result: StepResult) -> str:
    return result.trail or result.step_id


def _step_text(r: Running, now: float) -> str:
    head = f"{_name(r.result)} {r.result.target}"
    if r.attempt:
        elapsed = r.poll_elapsed + (now - r.poll_seen)
        text = f"{head} · attempt {r.attempt} · {elapsed:.1f} s"
        return text + (f" · {r.state}" if r.state else "")
    text = f"{head} · {now - r.started:.1f} s"
    if r.last is None:
        return text
    answer = r.last.error or (r.last.response or {}).get("status", "")
    return f"{text} · {describe_request(r.last.request)} -> {answer}"


def _loop_text(r: Running, running: list[Running], now: float) -> str:
    t = r.tally
    assert t is not None
    of = f"/{t.total:,}" if t.total is not None else ""
    text = f"{_name(r.result)} {r.result.target} · {t.done:,}{of} done"
    if t.failed:
        text += f", {t.failed:,} failed"
    if t.running:
        text += f", {t.running} running"
    slowest = t.slowest_text()
    text += (f" · {slowest}" if slowest else "") + f" · {now - r.started:.1f} s"
    polls = [i for i in running if i.attempt and i is not r and inside(i.result, r.result)]
    if polls:
        p = polls[-1]
        where = _name(p.result)[len(_name(r.result)):]
        text += f" · {where.strip()} attempt {p.attempt}" + (f": {p.state}" if p.state
                                                             else "")
    return text
