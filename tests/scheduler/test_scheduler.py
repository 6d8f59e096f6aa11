"""runner.schedule_file and runner.scheduler: schedule files, fire times, catch-up and overlap
policies, restarts, failure webhooks. Time is driven by the tests (``tick(now)``, an injected
clock and sleep); the store is a SQLite file of the test's own."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import PLAYBOOKS, ROOT, RUNNER, cli

from runner.errors import PlaybookError
from runner.jobs import LocalDispatcher, RunJob, notify_failure
from runner.schedule_file import MAX_CATCH_UP, Schedule, fire_iso, load_schedules, plan_fires
from runner.schedule_schema import SCHEDULES_SCHEMA
from runner.scheduler import Scheduler
from runner.store import Store

BY_HOSTNAME = PLAYBOOKS / "automatos" / "distribute-by-hostname.yaml"
TINY = ROOT / "tests" / "distributed" / "get_machine.yaml"  # one lookup: a fast run
T0 = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc).timestamp()  # a Monday, 00:00 UTC


def schedule_file(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text("schedules:\n" + "".join(entries))
    return path


def entry(name: str = "job", cron: str = "* * * * * *", **extra: Any) -> str:
    lines = [f"  - name: {name}\n", f"    playbook: {BY_HOSTNAME}\n", f"    cron: \"{cron}\"\n",
             "    inputs: {hostname: NTB2}\n"]
    lines += [f"    {k}: {json.dumps(v)}\n" for k, v in extra.items()]
    return "".join(lines)


class Recorder:
    """A dispatch that only remembers what it was handed."""

    def __init__(self) -> None:
        self.jobs: list[RunJob] = []

    def __call__(self, job: RunJob) -> None:
        self.jobs.append(job)

    @property
    def fire_times(self) -> list[str]:
        return [str(j.fire_time) for j in self.jobs]


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "runs.db"))
    yield s
    s.close()


def make(tmp_path: Path, store: Store, *entries: str, **kw: Any) -> tuple[Scheduler, Recorder]:
    rec = Recorder()
    return Scheduler(load_schedules(schedule_file(tmp_path, *entries)), store, rec, **kw), rec


def finish(store: Store, run_id: str, status: str = "passed") -> None:
    store.update_run(run_id, status=status, finished=time.time())


def keys(store: Store) -> list[str]:
    return sorted(str(r["dedup_key"]) for r in store.find_runs(limit=10_000))


def iso(offset: float) -> str:
    return fire_iso(T0 + offset)


# -- the file ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "line", "message"), [
    (entry(cron="61 * * * *"), 4, "'61 * * * *' is not a valid cron expression"),
    (entry(cron="* * * *"), 4, "has 4 fields"),
    (entry(cron="0 0 1 1 * 2030 *"), 4, "has 7 fields"),
    (entry(timezone="Mars/Olympus"), 6, "unknown time zone 'Mars/Olympus'"),
    (entry(overlap="wait"), 6, "'wait' is not allowed"),
    (entry(catch_up="some"), 6, "'some' is not allowed"),
    (entry(jitter="soon"), 6, "'soon' is not valid here"),
    (entry(colour="red"), 6, "unknown key 'colour'"),
    (entry(on_failure={"webhook": "ftp://x"}), 6, "is not valid here"),
    (entry(environment="nowhere"), 6, "environment 'nowhere' not found"),
    (entry() + entry(), 6, "a second schedule named 'job'"),
    (entry(name="bad name"), 2, "does not match the expected form"),
    (entry().replace("{hostname: NTB2}", "{hostnam: NTB2}"), 5, "playbook has no input"),
    (entry().replace(str(BY_HOSTNAME), "missing.yaml"), 3, "no playbook at"),
])
def test_an_invalid_schedule_file_names_file_line_and_what(tmp_path: Path, text: str,
                                                           line: int, message: str) -> None:
    path = schedule_file(tmp_path, text)
    with pytest.raises(PlaybookError) as err:
        load_schedules(path)
    rendered = err.value.render()
    assert f"{path}:{line}:" in rendered, rendered
    assert message in rendered, rendered


def test_the_schema_is_json_and_documents_every_key() -> None:
    item = SCHEDULES_SCHEMA["properties"]["schedules"]["items"]
    assert set(item["properties"]) == {
        "name", "description", "playbook", "cron", "timezone", "environment", "inputs",
        "overlap", "catch_up", "jitter", "enabled", "on_failure", "notify"}
    json.dumps(SCHEDULES_SCHEMA)


def test_the_example_file_is_valid() -> None:
    schedules = load_schedules(ROOT / "schedules.example.yaml")
    assert [s.name for s in schedules] == ["distribute-7zip-weekdays", "sandbox-heartbeat"]


def test_seconds_field_first_and_time_zones(tmp_path: Path) -> None:
    lisbon, seconds = load_schedules(schedule_file(
        tmp_path, entry("nightly", "0 2 * * *", timezone="Europe/Lisbon"),
        entry("tens", "*/10 * * * * *")))
    winter = dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc).timestamp()
    summer = dt.datetime(2026, 7, 10, tzinfo=dt.timezone.utc).timestamp()
    assert fire_iso(lisbon.next_fire(winter)) == "2026-01-10T02:00:00Z"  # WET = UTC
    assert fire_iso(lisbon.next_fire(summer)) == "2026-07-10T01:00:00Z"  # WEST = UTC+1
    assert [t - T0 for t in seconds.next_fires(T0, 3)] == [10, 20, 30]
    # the fall-back hour: 01:30 comes twice in local time, its keys stay distinct in UTC
    hourly = load_schedules(schedule_file(tmp_path, entry("h", "30 * * * *",
                                                          timezone="Europe/Lisbon")))[0]
    night = dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.timezone.utc).timestamp()
    fires = [hourly.key(t) for t in hourly.next_fires(night, 4)]
    assert len(set(fires)) == 4 and all(k.endswith(":30:00Z") for k in fires)


# -- daylight saving: a repeated wall-clock time fires once, a skipped one at the next instant --
def utc(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def zoned(cron: str, zone: str) -> Schedule:
    return Schedule("job", "p", "p", cron, zone, "sandbox", {}, {})


def all_ways(s: Schedule, start: str, end: str) -> tuple[list[str], list[str]]:
    """The fire times in (start, end] found forwards (next_fires, next_fire) and backwards
    (fire_times, what a tick after downtime uses): both must agree."""
    after, until = utc(start), utc(end)
    forwards = [t for t in s.next_fires(after, 10) if t <= until]
    one_by_one, t = [], after
    while (t := s.next_fire(t)) <= until:
        one_by_one.append(t)
    assert one_by_one == forwards
    backwards, truncated = s.fire_times(after, until)
    assert not truncated
    return [fire_iso(t) for t in forwards], [fire_iso(t) for t in backwards]


@pytest.mark.parametrize(("cron", "zone", "start", "end", "expected"), [
    # Berlin, 2026-10-25: 03:00 CEST -> 02:00 CET, so 02:30 is 00:30Z and again 01:30Z
    ("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00", "2026-10-26T12:00:00",
     ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]),
    ("0 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00", "2026-10-26T12:00:00",
     ["2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z"]),
    # 6 fields (seconds first) name a time of day just the same
    ("0 30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00", "2026-10-26T12:00:00",
     ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]),
    # a list of hours: each named hour once, the repeated one at its first occurrence
    ("0 1-3 * * *", "Europe/Berlin", "2026-10-24T22:00:00", "2026-10-25T03:00:00",
     ["2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"]),
    # Sao Paulo, 2019-02-17 00:00 -02 -> 2019-02-16 23:00 -03: 23:00 on the 16th comes twice
    ("0 23 * * *", "America/Sao_Paulo", "2019-02-15T12:00:00", "2019-02-18T12:00:00",
     ["2019-02-16T01:00:00Z", "2019-02-17T01:00:00Z", "2019-02-18T02:00:00Z"]),
    ("30 23 * * *", "America/Sao_Paulo", "2019-02-16T12:00:00", "2019-02-18T12:00:00",
     ["2019-02-17T01:30:00Z", "2019-02-18T02:30:00Z"]),
])
def test_a_wall_clock_time_that_comes_twice_in_autumn_fires_once(
        cron: str, zone: str, start: str, end: str, expected: list[str]) -> None:
    forwards, backwards = all_ways(zoned(cron, zone), start, end)
    assert forwards == expected
    assert backwards == expected


def test_after_the_first_occurrence_the_repeat_is_not_next() -> None:
    berlin = zoned("30 2 * * *", "Europe/Berlin")
    between = utc("2026-10-25T01:00:00")  # 02:00 CET: after the first 02:30, before the second
    assert fire_iso(berlin.next_fire(between)) == "2026-10-26T01:30:00Z"
    assert berlin.fire_times(between, utc("2026-10-25T02:00:00")) == ([], False)


@pytest.mark.parametrize(("cron", "zone", "start", "end", "expected"), [
    # Berlin, 2026-03-29: 02:00 CET -> 03:00 CEST; 02:30 never happens: 03:00 CEST = 01:00Z
    ("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00", "2026-03-30T12:00:00",
     ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]),
    # two skipped times are still one fire, at the same next valid instant
    ("0,30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00", "2026-03-29T12:00:00",
     ["2026-03-29T01:00:00Z"]),
    # Sao Paulo, 2018-11-04: 00:00 -03 -> 01:00 -02; midnight is skipped: 01:00 -02 = 03:00Z
    ("0 0 * * *", "America/Sao_Paulo", "2018-11-02T12:00:00", "2018-11-05T12:00:00",
     ["2018-11-03T03:00:00Z", "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"]),
    ("30 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00:00", "2018-11-05T12:00:00",
     ["2018-11-04T03:00:00Z", "2018-11-05T02:30:00Z"]),
])
def test_a_wall_clock_time_skipped_in_spring_fires_once_at_the_next_instant(
        cron: str, zone: str, start: str, end: str, expected: list[str]) -> None:
    forwards, backwards = all_ways(zoned(cron, zone), start, end)
    assert forwards == expected
    assert backwards == expected


@pytest.mark.parametrize(("cron", "zone", "start", "count"), [
    ("*/30 * * * *", "Europe/Berlin", "2026-10-24T23:45:00", 8),  # 4 h of real time
    ("0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00", 4),
    ("@hourly", "America/Sao_Paulo", "2019-02-17T00:30:00", 4),
    ("*/15 2 * * *", "Europe/Berlin", "2026-10-24T23:59:00", 8),  # both 2 o'clocks, as cron
])
def test_a_schedule_with_a_star_in_minute_or_hour_keeps_to_elapsed_time(
        cron: str, zone: str, start: str, count: int) -> None:
    """cron's own rule: only a schedule that names its minute and hour is moved by a clock
    change; an every-30-minutes schedule has no hour-long hole when the clocks go back."""
    s = zoned(cron, zone)
    times = s.next_fires(utc(start), count)
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps == {1800.0 if cron.startswith("*/30") else 900.0 if "*/15" in cron else 3600.0}
    assert len({dt.datetime.fromtimestamp(t, s.tz).fold for t in times}) == 2


@pytest.mark.parametrize(("cron", "zone", "start", "end", "expected"), [
    ("30 2 * * *", "Europe/Berlin", "2026-10-24T20:00:00", "2026-10-25T04:00:00",
     ["2026-10-25T00:30:00Z"]),
    ("30 2 * * *", "Europe/Berlin", "2026-03-28T20:00:00", "2026-03-29T04:00:00",
     ["2026-03-29T01:00:00Z"]),
    ("0 23 * * *", "America/Sao_Paulo", "2019-02-16T20:00:00", "2019-02-17T06:00:00",
     ["2019-02-17T01:00:00Z"]),
    ("0 0 * * *", "America/Sao_Paulo", "2018-11-03T20:00:00", "2018-11-04T06:00:00",
     ["2018-11-04T03:00:00Z"]),
])
def test_the_scheduler_records_one_run_per_wall_clock_time_across_a_clock_change(
        tmp_path: Path, store: Store, cron: str, zone: str, start: str, end: str,
        expected: list[str]) -> None:
    """The real loop's tick, a minute at a time through the night, into a SQLite store."""
    sched, rec = make(tmp_path, store, entry(cron=cron, timezone=zone, overlap="allow",
                                             catch_up="all"))
    for now in range(int(utc(start)), int(utc(end)) + 1, 60):
        sched.tick(float(now))
    assert keys(store) == [f"job@{t}" for t in expected]
    assert rec.fire_times == expected
    # down through the whole night, catch_up: all: the same fire times, no more
    other = Store(str(tmp_path / "other.db"))
    late, _ = make(tmp_path, other, entry(cron=cron, timezone=zone, overlap="allow",
                                             catch_up="all"), grace=0)
    late.tick(utc(start))
    late.tick(utc(end))
    assert keys(other) == [f"job@{t}" for t in expected]
    other.close()


# -- firing ------------------------------------------------------------------------------------
def test_each_fire_time_runs_once_across_a_restart(tmp_path: Path, store: Store) -> None:
    first, rec1 = make(tmp_path, store, entry(catch_up="all", overlap="allow"))
    assert first.tick(T0) == []  # first sight: fire times count from now
    for s in range(1, 6):
        first.tick(T0 + s)
    first.tick(T0 + 5)  # the same moment again: nothing new
    assert rec1.fire_times == [iso(s) for s in range(1, 6)]

    again = Store(store.url.removeprefix("sqlite:///"))  # a restart: new process, same store
    second, rec2 = make(tmp_path, again, entry(catch_up="all", overlap="allow"))
    second.tick(T0 + 5)
    assert rec2.jobs == []
    second.tick(T0 + 8)  # down for 3 s: caught up, nothing doubled
    assert rec2.fire_times == [iso(6), iso(7), iso(8)]

    # a crash after the runs were recorded but before the schedule's state moved on
    with again.db.begin() as c:
        c.execute("UPDATE schedule_state SET last_fire = :t", {"t": T0 + 2})
    third, rec3 = make(tmp_path, again, entry(catch_up="all", overlap="allow"))
    third.tick(T0 + 9)
    assert rec3.fire_times == [iso(9)]  # 3..8 exist already: the unique key holds
    assert keys(store) == [f"job@{iso(s)}" for s in range(1, 10)]
    again.close()


@pytest.mark.parametrize(("policy", "expected"), [
    ("none", []),
    ("latest", [3600]),
    ("all", list(range(300, 3601, 300))),
])
def test_catch_up_after_downtime(tmp_path: Path, store: Store, policy: str,
                                 expected: list[int]) -> None:
    sched, rec = make(tmp_path, store, entry(cron="*/5 * * * *", catch_up=policy,
                                             overlap="allow"))
    sched.tick(T0)
    sched.tick(T0 + 3600 + 120)  # down for an hour: the latest fire time is 2 minutes old
    assert rec.fire_times == [iso(s) for s in expected]
    sched.tick(T0 + 3900 + 1)  # back to normal: the next fire time runs whatever the policy
    assert rec.fire_times[-1] == iso(3900)


def test_a_late_fire_time_is_not_a_missed_one(tmp_path: Path, store: Store) -> None:
    sched, rec = make(tmp_path, store, entry(cron="*/5 * * * *", catch_up="none"))
    sched.tick(T0)
    sched.tick(T0 + 300 + 45)  # a restart took 45 s: within the grace, it still runs
    assert rec.fire_times == [iso(300)]


def test_catch_up_all_is_bounded() -> None:
    s = Schedule("s", "p", "p", "* * * * * *", "UTC", "sandbox", {}, {}, catch_up="all")
    plan = plan_fires(s, T0, T0 + 7200)  # two hours of a per-second schedule missed
    assert len(plan.fire) == MAX_CATCH_UP and plan.truncated
    assert plan.fire[-1] == T0 + 7200  # the most recent ones are kept


def test_overlap_skip_records_the_skipped_fire_time(tmp_path: Path, store: Store) -> None:
    sched, rec = make(tmp_path, store, entry(cron="* * * * *", overlap="skip"))
    sched.tick(T0)
    sched.tick(T0 + 60)
    sched.tick(T0 + 120)  # the first run is still queued or running
    assert rec.fire_times == [iso(60)]
    skipped = [r for r in store.find_runs() if r["status"] == "skipped"]
    assert [r["dedup_key"] for r in skipped] == [f"job@{iso(120)}"]
    assert "overlap: skip" in skipped[0]["error"]
    finish(store, rec.jobs[0].run_id)
    sched.tick(T0 + 180)
    assert rec.fire_times == [iso(60), iso(180)]


def test_overlap_queue_runs_waiting_fire_times_in_order(tmp_path: Path, store: Store) -> None:
    sched, rec = make(tmp_path, store, entry(cron="* * * * *", overlap="queue"))
    sched.tick(T0)
    sched.tick(T0 + 60)
    sched.tick(T0 + 120)
    sched.tick(T0 + 180)
    assert rec.fire_times == [iso(60)]
    assert sorted(r["status"] for r in store.find_runs()) == ["pending", "pending", "queued"]
    sched.tick(T0 + 181)  # still running: nothing moves
    assert len(rec.jobs) == 1
    finish(store, rec.jobs[0].run_id, "failed")
    sched.tick(T0 + 182)  # done (failed counts as done): the oldest waiting one starts
    assert rec.fire_times == [iso(60), iso(120)]
    finish(store, rec.jobs[1].run_id)
    sched.tick(T0 + 183)
    assert rec.fire_times == [iso(60), iso(120), iso(180)]
    assert [j.run_id for j in rec.jobs] == [r["run_id"] for r in sorted(
        store.find_runs(), key=lambda r: r["dedup_key"])]


def test_a_scheduler_starts_what_another_one_left_waiting(tmp_path: Path, store: Store) -> None:
    first, rec_a = make(tmp_path, store, entry(cron="* * * * *", overlap="queue"))
    second, rec_b = make(tmp_path, store, entry(cron="* * * * *", overlap="queue"))
    first.tick(T0)
    second.tick(T0)  # nothing waiting yet: it stops looking every tick
    first.tick(T0 + 60)
    first.tick(T0 + 120)  # the first one queued a run and left one waiting, then died
    finish(store, rec_a.jobs[0].run_id)
    second.tick(T0 + 125)  # it still looks for waiting runs every 10 s
    assert rec_a.fire_times == [iso(60)] and rec_b.fire_times == [iso(120)]


def test_overlap_allow_starts_every_fire_time(tmp_path: Path, store: Store) -> None:
    sched, rec = make(tmp_path, store, entry(cron="* * * * *", overlap="allow"))
    for minute in range(4):
        sched.tick(T0 + 60 * minute)
    assert rec.fire_times == [iso(60), iso(120), iso(180)]


def test_jitter_delays_the_start_not_the_fire_time(tmp_path: Path, store: Store) -> None:
    sched, rec = make(tmp_path, store, entry(cron="* * * * *", jitter="30s"))
    s = sched.schedules["job"]
    offsets = [s.offset(T0 + 60 * m) for m in range(1, 50)]
    assert all(0 <= o < 30 for o in offsets) and len(set(offsets)) > 40
    twin = load_schedules(schedule_file(tmp_path, entry(cron="* * * * *", jitter=30)))[0]
    assert twin.offset(T0 + 60) == s.offset(T0 + 60)  # every scheduler agrees
    sched.tick(T0)
    sched.tick(T0 + 60 + s.offset(T0 + 60) - 0.01)
    assert rec.jobs == []
    sched.tick(T0 + 60 + s.offset(T0 + 60))
    assert rec.fire_times == [iso(60)]


def test_the_loop_runs_on_an_injected_clock(tmp_path: Path, store: Store) -> None:
    now = [T0 + 0.5]
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += max(seconds, 0.001)
        if now[0] > T0 + 20:
            sched.stop.set()

    sched, rec = make(tmp_path, store, entry(cron="*/2 * * * * *", overlap="allow"),
                      clock=lambda: now[0], sleep=sleep)
    sched.run()
    assert rec.fire_times == [iso(s) for s in range(2, 21, 2)]
    assert max(naps) <= 1.0  # it wakes at least every second


# -- running them here, and telling someone when one fails -------------------------------------
class Hook:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture()
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.server.shutdown()


def test_a_failed_run_posts_to_the_webhook(tmp_path: Path, store: Store, hook: Hook,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_TEST_HOOK", hook.url)
    path = schedule_file(tmp_path, entry("ok", cron="* * * * *"),
                         entry("broken", cron="* * * * *",
                               on_failure={"webhook": {"secret": "RUNNER_TEST_HOOK"}})
                         .replace("NTB2", "NOPE"))
    local = LocalDispatcher(store)
    sched = Scheduler(load_schedules(path), store, local)
    sched.tick(T0)
    sched.tick(T0 + 60)
    assert local.wait(60)
    by_name = {r["dedup_key"].split("@")[0]: r for r in store.find_runs()}
    assert by_name["ok"]["status"] == "passed" and by_name["broken"]["status"] == "failed"
    assert len(hook.posts) == 1
    post = hook.posts[0]
    assert post["run_id"] == by_name["broken"]["run_id"]
    assert post["schedule"] == "broken" and post["fire_time"] == iso(60)
    assert post["status"] == "failed" and "machine not found" in post["error"]
    assert post["playbook"] == by_name["broken"]["playbook"]


def test_a_webhook_that_fails_does_not_raise(store: Store) -> None:
    job = RunJob("nope", "p", "sandbox", {}, webhook="http://127.0.0.1:9/hook")
    assert notify_failure(store, job, timeout=1) is False


# -- the commands ------------------------------------------------------------------------------
def test_schedule_list_shows_next_fire_times(tmp_path: Path) -> None:
    path = schedule_file(tmp_path, entry("nightly", "0 2 * * 1-5", timezone="Europe/Lisbon",
                                         jitter=30))
    out = cli("schedule", "list", str(path), "--next", "3")
    assert out.returncode == 0, out.stderr
    assert "nightly: 0 2 * * 1-5 (Europe/Lisbon) · overlap skip · catch_up latest" in out.stdout
    assert out.stdout.count("next ") == 3 and ":00:00Z)" in out.stdout
    bad = cli("schedule", "list", str(schedule_file(tmp_path, entry(cron="nope"))))
    assert bad.returncode == 2 and "schedules.yaml:4:" in bad.stderr


def test_runner_scheduler_runs_here_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    path = schedule_file(tmp_path, entry("tick", catch_up="all", overlap="allow")
                         .replace(str(BY_HOSTNAME), str(TINY)))
    db = tmp_path / "runs.db"

    def run_for(seconds: float) -> str:
        proc = subprocess.Popen([str(RUNNER), "scheduler", str(path), "--store", str(db)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=dict(os.environ))
        time.sleep(seconds)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        return out

    first = run_for(2.5)
    assert "runs them here" in first and "scheduler stopped" in first
    time.sleep(1.5)  # down: the fire times in between are caught up (catch_up: all)
    second = run_for(2.0)
    rows = Store(str(db)).find_runs(limit=1000)
    fired = sorted(r["dedup_key"] for r in rows)
    assert len(fired) == len(set(fired)) >= 4
    seconds = [int(dt.datetime.strptime(k.split("@")[1], "%Y-%m-%dT%H:%M:%SZ").timestamp())
               for k in fired]
    assert seconds == list(range(seconds[0], seconds[-1] + 1)), fired  # none lost
    assert {r["status"] for r in rows} == {"passed"}, second
    history = cli("history", "--store", str(db)).stdout
    assert history.count("passed") == len(rows)
