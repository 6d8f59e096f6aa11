"""Parked waits on workers (issue 17), on the machine's real Redis and PostgreSQL with real
`runner worker` processes: a run whose poll waits longer than --park-after gives its slot back
(recorded `parked`, handed back to the broker with a countdown) and is resumed from its journal
by whichever worker gets it then. More runs than slots are all waiting at once, each sends its
create once, and a worker SIGKILLed while runs are parked leaves them to the other."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import automatos_env, cli
from runner.builtin.alvaria.simulator import AlvariaSimulator
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.store import Store
from runner.submit import Submitter
from tests.distributed.servers import Broker, Worker, free_port, start_workers
from tests.distributed.test_callbacks_worker import RUNBOOK, Callbacks

LONG_POLL = Path(__file__).resolve().parent / "long_poll.yaml"
PARKING = ("--park-after", "2", "--concurrency", "2", "--stale-after", "1.5",
           "--visibility-timeout", "8")
RUNS = 6


@pytest.fixture()
def slow_sim() -> Iterator[AutomatosSimulator]:
    # delivered ~7 s after the create: the 3 s poll waits park twice or more per run
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=6.0) as s:
        yield s


def submit(broker: Broker, store: str, env: Path, count: int) -> list[str]:
    with Submitter(broker.url, store, queue=broker.queue) as s:
        return [s.submit(LONG_POLL, str(env), {"hostname": "NTB2"}) for _ in range(count)]


def watch(db: Store, run_ids: list[str], sim: AutomatosSimulator,
          timeout: float = 90) -> dict[str, int]:
    """Until every run ended: the most runs parked at once, and the most that were between
    their create and their end at once (a run holding its slot would cap that at the slots)."""
    most = {"parked": 0, "begun": 0}
    deadline = time.monotonic() + timeout
    while True:
        rows = [db.get_run(r) or {} for r in run_ids]
        ended = sum(r.get("status") in ("passed", "failed", "errored", "interrupted")
                    for r in rows)
        most["parked"] = max(most["parked"], sum(r.get("status") == "parked" for r in rows))
        most["begun"] = max(most["begun"], sim.calls["create_distribution"] - ended)
        if ended == len(run_ids):
            return most
        assert time.monotonic() < deadline, f"not all ended: {[r.get('status') for r in rows]}"
        time.sleep(0.1)


def check_finished(db: Store, run_ids: list[str], sim: AutomatosSimulator,
                   workers: list[Worker]) -> None:
    for run_id in run_ids:
        row = db.get_run(run_id)
        assert row is not None
        assert row["status"] == "passed", (row["error"], workers[0].output()[-3000:])
        resumed = [s["id"] for s in row["report"]["steps"] if s.get("resumed")]
        assert resumed == ["step1", "machine", "job"]  # woken at the poll, the create restored
        parks = [e for e in db.entries(run_id) if e.event == "parked"]
        assert len(parks) >= 2  # parked at every 3 s wait
    assert sim.calls["create_distribution"] == len(run_ids)  # never sent twice
    jobs = {(db.get_run(r) or {})["outputs"]["job"] for r in run_ids}
    assert jobs == {d["jobName"] for d in sim.distributions}


def test_parked_runs_hold_no_slot(tmp_path: Path, broker: Broker, pg_url: str,
                                  slow_sim: AutomatosSimulator) -> None:
    env = automatos_env(tmp_path, slow_sim)
    workers = start_workers(1, broker, pg_url, tmp_path,
                            {"AUTOMATOS_KEY": slow_sim.automatos_key}, *PARKING)
    try:
        db = Store(pg_url)
        run_ids = submit(broker, pg_url, env, RUNS)
        most = watch(db, run_ids, slow_sim)
        print(f"\n{RUNS} runs on 2 slots: at most {most['parked']} parked, "
              f"{most['begun']} begun and not ended at once")
        assert most["begun"] > 2, most  # more runs waiting at once than the worker has slots
        assert most["parked"] > 2, most
        check_finished(db, run_ids, slow_sim, workers)
        assert "parked: its slot is free" in workers[0].output()
    finally:
        for w in workers:
            w.stop()


def test_a_worker_killed_while_runs_are_parked(tmp_path: Path, broker: Broker, pg_url: str,
                                               slow_sim: AutomatosSimulator) -> None:
    env = automatos_env(tmp_path, slow_sim)
    workers = start_workers(2, broker, pg_url, tmp_path,
                            {"AUTOMATOS_KEY": slow_sim.automatos_key}, *PARKING)
    try:
        db = Store(pg_url)
        run_ids = submit(broker, pg_url, env, RUNS)
        deadline = time.monotonic() + 30
        # every run parked, so none is in its create (a create cut off mid-way is not sent
        # again: that run would end failed, "not safe to repeat", truthfully)
        while sum((db.get_run(r) or {}).get("status") == "parked" for r in run_ids) < RUNS:
            assert time.monotonic() < deadline, "the runs did not park"
            time.sleep(0.05)
        victim, survivor = workers
        victim.kill()  # with the messages due at the parked runs' wake times it holds
        killed = time.monotonic()
        watch(db, run_ids, slow_sim)
        took = time.monotonic() - killed
        check_finished(db, run_ids, slow_sim, [survivor])
        owners = {str((db.get_run(r) or {})["owner"]).split(":")[1] for r in run_ids}
        assert owners == {str(survivor.pid)}  # every run ended on the survivor
        swept = survivor.output().count("handed over again")
        print(f"\nworker killed with runs parked: the other one ended all {RUNS} {took:.1f} s "
              f"later ({swept} handed over by its sweep)")
    finally:
        for w in workers:
            w.stop()


def test_a_parked_poll_keeps_its_timeout_and_attempts(tmp_path: Path, broker: Broker,
                                                      pg_url: str,
                                                      slow_sim: AutomatosSimulator) -> None:
    """Every wake resumes the run; the poll's timeout still counts from its first attempt
    (were it counted from each wake, this poll would never end)."""
    never = tmp_path / "never.yaml"
    never.write_text(LONG_POLL.read_text().replace("== 'Y'", "== 'never'")
                     .replace("timeout: 5m", "timeout: 8s"))
    env = automatos_env(tmp_path, slow_sim)
    workers = start_workers(1, broker, pg_url, tmp_path,
                            {"AUTOMATOS_KEY": slow_sim.automatos_key}, *PARKING)
    try:
        db = Store(pg_url)
        with Submitter(broker.url, pg_url, queue=broker.queue) as s:
            run_id = s.submit(never, str(env), {"hostname": "NTB2"})
        deadline = time.monotonic() + 40
        while (db.get_run(run_id) or {}).get("status") not in ("failed", "passed", "errored"):
            assert time.monotonic() < deadline, "the poll never timed out"
            time.sleep(0.1)
        row = db.get_run(run_id)
        assert row is not None and row["status"] == "failed"
        assert "still false after 8 s (4 attempts)" in row["error"], row["error"]
        assert len([e for e in db.entries(run_id) if e.event == "parked"]) >= 2
        assert slow_sim.calls["create_distribution"] == 1
    finally:
        for w in workers:
            w.stop()


def test_runner_resume_of_a_parked_run_says_a_worker_wakes_it(
        tmp_path: Path, broker: Broker, pg_url: str, slow_sim: AutomatosSimulator) -> None:
    """A parked run is held by the broker's message, not by a process: ``runner resume RUN_ID``
    says when a worker wakes it and leaves it as it was (exit 2); the worker ends it, its
    create sent once."""
    env = automatos_env(tmp_path, slow_sim)
    workers = start_workers(1, broker, pg_url, tmp_path,
                            {"AUTOMATOS_KEY": slow_sim.automatos_key}, *PARKING)
    try:
        db = Store(pg_url)
        (run_id,) = submit(broker, pg_url, env, 1)
        deadline = time.monotonic() + 30
        while (db.get_run(run_id) or {}).get("status") != "parked":
            assert time.monotonic() < deadline, "the run did not park"
            time.sleep(0.05)
        said = cli("resume", run_id, "--store", pg_url,
                   env={"AUTOMATOS_KEY": slow_sim.automatos_key})
        out = said.stdout + said.stderr
        assert said.returncode == 2, out
        assert f"run {run_id} is parked until " in out and "--force" in out, out
        assert "Traceback" not in out
        watch(db, [run_id], slow_sim)
        check_finished(db, [run_id], slow_sim, workers)
    finally:
        for w in workers:
            w.stop()


def test_runs_parked_at_a_wait_for_are_woken_by_their_callbacks(
        tmp_path: Path, broker: Broker, pg_url: str) -> None:
    """`wait-for` on a worker parks until its deadline; `runner callbacks` wakes the run
    through the broker when the vendor's POST comes, and a worker ends it with the callback."""
    secret = {"RUNNER_CALLBACK_KEY": secrets.token_urlsafe(32)}
    port = free_port()
    with AlvariaSimulator(run_seconds=4.0) as sim:
        settings = sim.connector_settings()
        secret.update(ALV_SECRET=settings.pop("client_secret"), ALV_KEY=settings.pop("api_key"))
        env = tmp_path / "lab.yaml"
        env.write_text("connectors:\n  alvaria:\n"
                       + "".join(f"    {k}: \"{v}\"\n" for k, v in settings.items())
                       + "    client_secret: {secret: ALV_SECRET}\n"
                       "    api_key: {secret: ALV_KEY}\n"
                       f"callbacks: {{url: \"http://127.0.0.1:{port}\"}}\n")
        listener = Callbacks(tmp_path, pg_url, broker, port, secret)
        # a visibility timeout far off: no wake message comes before the 2 minutes' deadline
        workers = start_workers(1, broker, pg_url, tmp_path, secret, *PARKING[:-1], "600")
        try:
            db = Store(pg_url)
            with Submitter(broker.url, pg_url, queue=broker.queue) as s:
                run_ids = [s.submit(RUNBOOK, str(env), {}) for _ in range(4)]
            most, deadline = 0, time.monotonic() + 60
            while True:
                statuses = [(db.get_run(r) or {}).get("status") for r in run_ids]
                most = max(most, statuses.count("parked"))
                if all(st in ("passed", "failed", "errored") for st in statuses):
                    break
                assert time.monotonic() < deadline, (statuses, workers[0].output()[-3000:])
                time.sleep(0.1)
            assert most > 2, most  # more runs waiting for callbacks than the worker's slots
            for run_id in run_ids:
                row = db.get_run(run_id)
                assert row is not None and row["status"] == "passed", row and row["error"]
                entries = db.entries(run_id)
                done = next(e for e in entries if e.event == "finished" and
                            e.step_key == "steps/3")
                assert done.data["steps"]["callback"] is True  # the callback, not the poll
                assert len([e for e in entries if e.event == "sent"]) == 1  # one trigger
                assert any(e.event == "parked" and e.step_key == "steps/3" for e in entries)
            # woken by `runner callbacks`, or at once by the worker that parked it, when the
            # callback came while it parked (a loaded machine)
            woken = listener.output().count("woken through the broker") + \
                workers[0].output().count("came as it parked; woken now")
            assert woken >= len(run_ids), (listener.output(), workers[0].output()[-3000:])
        finally:
            for w in workers:
                w.stop()
            listener.stop()


APPROVE = """\
name: Distribute once approved
inputs:
  hostname: {type: string, default: NTB2}
connectors:
  automatos: {use: automatos}
steps:
  - auth: automatos
  - id: machine
    call: automatos.get_machine
    with: {hostname: "{{ inputs.hostname }}"}
    extract: {machine_id: "$.data.machines[?(@.department == 'DEV')].machineId"}
  - id: go
    approve: "Distribute to {{ inputs.hostname }}?"
    deadline: 10m
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: 7zip.exe}
    extract: {job_name: $.data.jobName}
outputs:
  job: "{{ job_name }}"
"""


def test_runs_parked_at_an_approval_are_woken_by_runner_approve(
        tmp_path: Path, broker: Broker, pg_url: str, slow_sim: AutomatosSimulator) -> None:
    """`approve:` on a worker parks until its deadline (10 minutes here); `runner approve
    --broker` wakes each run at once, and a worker sends its create."""
    playbook = tmp_path / "approve.yaml"
    playbook.write_text(APPROVE)
    env = automatos_env(tmp_path, slow_sim)
    secret = {"AUTOMATOS_KEY": slow_sim.automatos_key}
    workers = start_workers(1, broker, pg_url, tmp_path, secret, *PARKING)
    try:
        db = Store(pg_url)
        with Submitter(broker.url, pg_url, queue=broker.queue) as s:
            run_ids = [s.submit(playbook, str(env), {"hostname": "NTB2"}) for _ in range(4)]
        deadline = time.monotonic() + 30
        while [(db.get_run(r) or {}).get("status") for r in run_ids] != ["parked"] * 4:
            assert time.monotonic() < deadline, workers[0].output()[-3000:]
            time.sleep(0.1)  # all four wait for an answer, on a worker of two slots
        assert slow_sim.calls["create_distribution"] == 0
        for run_id in run_ids:
            said = cli("approve", run_id, "--as", "alice", "--store", pg_url, "--broker",
                       broker.url, "--queue", broker.queue)
            assert said.returncode == 0, said.stdout + said.stderr
            assert "handed to them now" in said.stdout
        deadline = time.monotonic() + 30
        while any((db.get_run(r) or {}).get("status") != "passed" for r in run_ids):
            assert time.monotonic() < deadline, workers[0].output()[-3000:]
            time.sleep(0.1)
        assert slow_sim.calls["create_distribution"] == 4
        for run_id in run_ids:
            answers = [e for e in db.entries(run_id) if e.event == "approval"]
            assert [(e.status, e.data["by"]) for e in answers] == [("approved", "alice")]
    finally:
        for w in workers:
            w.stop()
