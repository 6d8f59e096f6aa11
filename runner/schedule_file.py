"""The schedule file: which playbook runs when, checked when it is loaded, and the fire times
each schedule has (cron, time zone, daylight saving, jitter, late and missed ones).

A schedule file (``schedules.yaml``; its schema is :mod:`runner.schedule_schema`)::

    schedules:
      - name: nightly-7zip                 # letters, digits, - _ . ; unique in the store
        playbook: playbooks/automatos/distribute-package.yaml   # relative to this file
        cron: "0 2 * * 1-5"                # 5 fields, or 6 with seconds first, or @daily ...
        timezone: Europe/Lisbon            # default UTC
        environment: prod                  # default sandbox; a name, or a file (relative here)
        inputs: {hostname: NTB1}
        overlap: skip                      # skip | queue | allow   (default skip)
        catch_up: latest                   # none | latest | all    (default latest)
        jitter: 30s                        # start each fire up to 30 s late (default 0)
        notify:                            # apprise URLs, as on a playbook (runner.notify_targets)
          - {url: {secret: OPS_SLACK_URL}, on: failure}
        on_failure: {webhook: {secret: OPS_WEBHOOK_URL}}   # deprecated: runner's own JSON POST

Each (schedule, fire time) has one key, ``name@2026-11-23T02:00:00Z`` (the fire time in UTC):
the run's ``dedup_key`` (:mod:`runner.scheduler` records one run per key).

Daylight saving, as cron does it (:mod:`runner.cron_times`). A wall-clock time that comes
twice when the clocks go back fires once, at its first occurrence; a time skipped when they go
forward fires once, at the next valid instant. A schedule with ``*`` in its minute or hour
(``*/15 * * * *``, ``@hourly``) keeps to elapsed time instead, as in cron.

Late and missed (:func:`plan_fires`). A fire time noticed up to ``grace`` (60 s) after it was
due is on time and runs whatever ``catch_up`` says: a restart or a slow tick loses nothing.
Older ones were missed (the scheduler was down): ``none`` drops them, ``latest`` runs only the
most recent, ``all`` runs each (at most :data:`MAX_CATCH_UP`, the most recent ones).

Jitter delays the start of each fire time by a fixed share of ``jitter`` drawn from a hash of
its key, so every scheduler agrees on it; the fire time itself (and its key) does not move.

Nothing here touches the run store or starts a run: that is :mod:`runner.scheduler`'s loop.
The file's JSON Schema is :data:`runner.schedule_schema.SCHEDULES_SCHEMA`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from runner.cron_times import cron_times
from runner.errors import InvalidInput, Location, PlaybookError
from runner.inputs import coerce_inputs, masked_inputs
from runner.loader import Document, Path_, load_file
from runner.notify_targets import Target, read_targets
from runner.schedule_schema import SCHEDULES_SCHEMA
from runner.validation import validate_against

__all__ = ["MAX_CATCH_UP", "MISFIRE_GRACE", "Plan", "Schedule", "dedup_key", "fire_iso",
           "load_schedules", "plan_fires"]

MISFIRE_GRACE = 60.0  # a fire time noticed this late is late, not missed
MAX_CATCH_UP = 1000  # catch_up: all runs at most this many missed fire times


def fire_iso(t: float) -> str:
    """A fire time as its key shows it: UTC, to the second."""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dedup_key(name: str, t: float) -> str:
    return f"{name}@{fire_iso(t)}"


@dataclass(frozen=True, eq=False)
class Schedule:
    """One validated schedule, its paths absolute and its inputs checked against the playbook."""

    name: str
    playbook: str  # absolute path
    playbook_name: str
    cron: str
    timezone: str
    environment: str  # sandbox, or the absolute path of the environment file
    inputs: dict[str, Any]
    stored_inputs: dict[str, Any]  # as the store keeps them: secret inputs masked
    overlap: str = "skip"
    catch_up: str = "latest"
    jitter: float = 0.0
    webhook: str | dict[str, str] | None = None  # deprecated: notify: replaces it
    enabled: bool = True
    notify: tuple[Target, ...] = ()
    location: Location | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _times(self, start: float, backwards: bool = False) -> Iterator[float]:
        """Fire times after ``start`` (before it, ``backwards``), the nearest first."""
        return cron_times(self.cron, self.tz, start, backwards)

    def next_fire(self, after: float) -> float:
        """The first fire time strictly after ``after``."""
        return next(self._times(after))

    def next_fires(self, after: float, count: int) -> list[float]:
        return list(itertools.islice(self._times(after), count))

    def fire_times(self, after: float, until: float,
                   limit: int = MAX_CATCH_UP) -> tuple[list[float], bool]:
        """Fire times in (after, until], oldest first: the latest ``limit`` of them, and
        whether older ones were left out."""
        found: list[float] = []
        for t in self._times(math.floor(until) + 1.0, backwards=True):
            if t <= after:
                return found[::-1], False
            if len(found) == limit:
                return found[::-1], True
            found.append(t)
        raise AssertionError("unreachable: croniter's iteration does not end")

    def offset(self, t: float) -> float:
        """The jitter of fire time ``t``: the same in every process."""
        if not self.jitter:
            return 0.0
        digest = hashlib.sha256(dedup_key(self.name, t).encode()).digest()
        return self.jitter * int.from_bytes(digest[:4], "big") / 2**32

    def key(self, t: float) -> str:
        return dedup_key(self.name, t)


# -- loading -----------------------------------------------------------------------------------
def load_schedules(path: str | Path) -> list[Schedule]:
    """Load and check a schedule file; every error names file:line and says what to do."""
    doc = load_file(path)
    validate_against(SCHEDULES_SCHEMA, doc, what="schedule file")
    base = Path(doc.file).resolve().parent
    out: list[Schedule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(doc.data.get("schedules") or []):
        name = raw["name"]
        if name in seen:
            first = doc.loc(("schedules", seen[name], "name"))
            raise _error(doc, i, name, "name", f"a second schedule named '{name}'",
                         hint=f"the first one is at line {first.line}; names must be unique")
        seen[name] = i
        out.append(_build(doc, i, raw, base))
    return out


def _error(doc: Document, i: int, name: str, key: str, message: str,
           hint: str | None = None) -> PlaybookError:
    path: Path_ = ("schedules", i, key)
    return PlaybookError(message, location=doc.loc(path), path=f"schedule '{name}' > {key}",
                         hint=hint)


def _build(doc: Document, i: int, raw: dict[str, Any], base: Path) -> Schedule:
    from runner.environment import load_environment
    from runner.model import seconds
    from runner.playbook import load_playbook

    name = raw["name"]
    fields = [f for f in raw["cron"].split() if f]
    if not (raw["cron"].strip().startswith("@") and len(fields) == 1) and len(fields) not in (5, 6):
        raise _error(doc, i, name, "cron", f"'{raw['cron']}' has {len(fields)} fields",
                     hint="write 5 fields (minute hour day month weekday), or 6 with seconds "
                     "first, or @hourly / @daily / @weekly / @monthly")
    if not croniter.is_valid(raw["cron"], second_at_beginning=True):
        raise _error(doc, i, name, "cron", f"'{raw['cron']}' is not a valid cron expression",
                     hint="e.g. '0 2 * * 1-5' (02:00 on weekdays), '*/15 * * * *', "
                     "'*/10 * * * * *' (every 10 seconds)")
    tz = raw.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _error(doc, i, name, "timezone", f"unknown time zone '{tz}'",
                     hint="use an IANA name such as UTC, Europe/Lisbon, America/Sao_Paulo"
                     ) from None
    file = (base / raw["playbook"]).resolve()
    if not file.is_file():
        raise _error(doc, i, name, "playbook", f"no playbook at {file}",
                     hint="the path is relative to the schedule file")
    playbook = load_playbook(file)
    env_name = raw.get("environment", "sandbox")
    try:
        if env_name.endswith((".yaml", ".yml")):
            env = load_environment(str(base / env_name))
        else:
            env = load_environment(env_name, search=file)
    except PlaybookError:
        raise
    except InvalidInput as e:
        raise _error(doc, i, name, "environment", e.message, hint=e.hint) from None
    given = raw.get("inputs") or {}
    try:
        values = coerce_inputs(playbook, given)
    except InvalidInput as e:
        raise _error(doc, i, name, "inputs", e.message, hint=e.hint) from None
    return Schedule(
        name=name, playbook=str(file), playbook_name=playbook.name, cron=raw["cron"].strip(),
        timezone=tz, environment=str(Path(env.source).resolve()) if env.source else env.name,
        inputs=dict(given), stored_inputs=masked_inputs(playbook, values),
        overlap=raw.get("overlap", "skip"), catch_up=raw.get("catch_up", "latest"),
        jitter=seconds(raw.get("jitter", 0)),
        webhook=(raw.get("on_failure") or {}).get("webhook"),
        enabled=raw.get("enabled", True), location=doc.loc(("schedules", i)),
        notify=read_targets(raw.get("notify"), doc, ("schedules", i, "notify")),
    )


# -- fire times at a given now ---------------------------------------------------------------------
@dataclass
class Plan:
    """The fire times of a schedule at a given now: to fire, due, dropped."""
    fire: list[float] = field(default_factory=list)
    due: list[float] = field(default_factory=list)
    dropped: int = 0  # missed fire times not run (catch_up)
    truncated: bool = False  # more than MAX_CATCH_UP were due: the older ones are dropped


def plan_fires(s: Schedule, last: float, now: float, grace: float = MISFIRE_GRACE) -> Plan:
    """Which fire times after ``last`` are due at ``now``, and which of them run."""
    times, truncated = s.fire_times(last, now)
    plan = Plan(truncated=truncated)
    for t in times:  # in order: a later fire time never goes before an earlier one's jitter
        if t + s.offset(t) > now:
            break
        plan.due.append(t)
    on_time = [t for t in plan.due if now - (t + s.offset(t)) <= grace]
    missed = [t for t in plan.due if now - (t + s.offset(t)) > grace]
    if s.catch_up == "all":
        plan.fire = list(plan.due)
    elif s.catch_up == "latest":
        plan.fire = on_time or missed[-1:]
    else:
        plan.fire = on_time
    plan.dropped += len(plan.due) - len(plan.fire)
    return plan
