"""``runner.api.schedule`` and ``schedules``: fire the schedules of a file until stopped
(``runner scheduler``), and say what each schedule will do (``runner schedule list``)."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from runner import tracing
from runner.distributed import CeleryDispatcher, safe_url
from runner.errors import InvalidInput
from runner.jobs import LocalDispatcher, not_handed_over
from runner.schedule_file import Schedule, fire_iso, load_schedules
from runner.scheduler import Scheduler, last_fires
from runner.store import Store


def local_time(t: float, tz: str) -> str:
    """A fire time as the schedule's clock shows it."""
    return dt.datetime.fromtimestamp(t, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


def schedule(schedules_file: str, *, store: str | None = None, broker: str | None = None,
             queue: str = "runner", concurrency: int = 4, stale_after: float = 30.0,
             log: Callable[[str], None] = print, trace: bool | str | None = None) -> None:
    """Fire the enabled schedules of ``schedules_file`` until SIGTERM or Ctrl-C; ``log`` is
    handed a line for each thing worth saying. Without ``broker`` the runs run in this
    process, ``concurrency`` at once (runs left unfinished by an earlier start are taken up
    first); with it they go to the workers of ``queue``. ``trace``: as
    :func:`runner.api.run`'s, for the runs run here."""
    schedules = load_schedules(schedules_file)
    if not any(s.enabled for s in schedules):
        raise InvalidInput(f"{schedules_file} has no enabled schedule",
                           hint="add one under schedules:")
    db = Store(store)
    local: LocalDispatcher | None = None
    remote: CeleryDispatcher | None = None
    if broker:
        remote = CeleryDispatcher(broker, queue=queue)
        mode = f"hands runs to workers through {safe_url(broker)} (queue {queue})"
    else:
        local = LocalDispatcher(db, concurrency=concurrency, stale_after=stale_after, log=log)
        mode = f"runs them here, {concurrency} at once"
    sched = Scheduler(schedules, db, remote or local, log=log,  # type: ignore[arg-type]
                      notify=not_handed_over)
    log(f"scheduler: {len(sched.schedules)} schedule(s) from {schedules_file}; "
        f"store {safe_url(db.url)}; {mode}")
    now = time.time()
    for s in sched.schedules.values():
        log(f"  {s.name}: {s.cron} ({s.timezone}), next "
            f"{local_time(s.next_fire(now), s.timezone)}")
    traced = local is not None and tracing.switch_on(trace)  # the workers trace theirs
    if local is not None:
        for job in sched.unfinished():
            log(f"{job.schedule}: run {job.run_id} was left unfinished; taking it up")
            local(job)
    signal.signal(signal.SIGTERM, lambda *_: sched.stop.set())
    try:
        sched.run()
    except KeyboardInterrupt:
        sched.stop.set()
    finally:
        if remote is not None:
            remote.close()
        if local is not None and local.active():
            log(f"stopping: waiting for {local.active()} run(s) in progress (Ctrl-C again "
                "leaves them; the next start resumes them)")
            try:
                local.wait()
            except KeyboardInterrupt:
                pass
        db.close()
        if traced:
            tracing.stop()  # after the runs in progress: their spans go too
    log("scheduler stopped")


@dataclass
class ScheduleView:
    """One schedule of a file, with its last fire time dealt with (from a store) and its next
    fire times, each as (the schedule's clock, UTC)."""

    schedule: Schedule
    last: str | None = None
    next: list[tuple[str, str]] = field(default_factory=list)


def schedules(schedules_file: str, *, count: int = 1,
              store: str | None = None) -> list[ScheduleView]:
    """The schedules of ``schedules_file`` (validated, with their playbooks), each with its
    next ``count`` fire times; ``store``: also the last fire time each has dealt with."""
    loaded = load_schedules(schedules_file)
    last: dict[str, float] = {}
    if store:
        db = Store(store)
        try:
            last = last_fires(db)
        finally:
            db.close()
    now = time.time()
    return [ScheduleView(s, fire_iso(last[s.name]) if s.name in last else None,
                         [(local_time(t, s.timezone), fire_iso(t))
                          for t in s.next_fires(now, max(1, count))]) for s in loaded]
