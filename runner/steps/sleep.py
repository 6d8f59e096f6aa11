"""`sleep`: wait before the next step, for a vendor that says "try again in a minute".

A wait the run can be stopped in: Ctrl-C or SIGTERM ends it at once (the run is then
interrupted and resumable, as in a poll's wait), and a resumed run does not sleep again for a
step that finished. For "until something holds", `poll-until` is the step to use.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.loader import Path_
from runner.model import Step, seconds
from runner.schema_atoms import DURATION
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.results import StepResult

KEY = "sleep"
YIELDS_TO: tuple[str, ...] = ()
SCHEMA: dict[str, Any] = {"sleep": {**DURATION, "description": "wait this long: 30s, 2m, 500ms "
                                    "(Ctrl-C and SIGTERM still stop the run at once)"}}
KEYS = frozenset(SCHEMA)


@dataclass(frozen=True)
class SleepSpec:
    """A ``sleep:`` step: how long."""
    seconds: float
    written: str  # as the playbook says it: 30s

    @property
    def target(self) -> str:
        return f"sleep {self.written}"


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> SleepSpec:
    try:
        return SleepSpec(seconds(raw["sleep"]), str(raw["sleep"]))
    except ValueError:
        raise b.fail(path + ("sleep",), f"sleep: {raw['sleep']!r} is not a duration",
                     hint="write seconds, or a number with a unit: 500ms, 30s, 2m, 1h") from None


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    spec: SleepSpec = step.spec
    woken = rt.parked_until()  # resumed: sleep what is left of the journaled wait
    rt.sleep(spec.seconds if woken is None else max(0.0, woken - time.time()))
    rt.remember(step, scope)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    spec: SleepSpec = step.spec
    p.line(f"{pad}waits {spec.written}, sends nothing")
