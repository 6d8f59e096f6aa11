"""Redis restarted empty in the middle of 40 runs on two workers, one of which is SIGKILLed
while Redis is down: the messages of the runs still queued are gone, and so are those of the
killed worker's runs; the surviving worker's sweep hands them all over again. Every run ends
passed, none is left queued or running, and the vendor sees each create once."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PLAYBOOKS, ROOT, RUNNER, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.journal import ResumeState
from runner.store import Store
from runner.submit import Submitter
from tests.distributed.servers import Broker, PrivateRedis, env_file, start_workers

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
RUNS = 40
FAST = ("--visibility-timeout", "4", "--stale-after", "1.5", "--concurrency", "8")


@pytest.fixture()
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    yield server
    server.stop()


def past_create(store: Store, run_id: str) -> bool:
    """The run's create (step 2) has finished: it is polling."""
    return "steps/2" in ResumeState.load(store, run_id).finished


def kill_a_local_run_mid_poll(store: Store, pg_url: str, env: Path,
                              key: dict[str, str]) -> str:
    """A plain `runner run` (not handed to workers) SIGKILLed after its create was answered:
    left running, with no owner. Its run id."""
    proc = subprocess.Popen(
        [str(RUNNER), "run", str(DISTRIBUTE), "--env", str(env), "--store", pg_url, "-q",
         "-i", "hostname=NTB2"], cwd=ROOT, env={**os.environ, **key},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        mine = [r for r in store.find_runs(status="running", limit=1000) if not r["owner"]]
        if mine and past_create(store, mine[0]["run_id"]):
            break
        assert time.monotonic() < deadline and proc.poll() is None, "the local run did not poll"
        time.sleep(0.02)
    proc.kill()
    proc.wait(10)
    return str(mine[0]["run_id"])


def test_runs_whose_messages_redis_lost_are_handed_over_again(
        tmp_path: Path, private_redis: PrivateRedis, pg_url: str,
        sim: AutomatosSimulator) -> None:
    broker = Broker(private_redis.url, f"runner-test-{secrets.token_hex(4)}")
    env = env_file(tmp_path, sim)
    workers = start_workers(2, broker, pg_url, tmp_path, {"AUTOMATOS_KEY": sim.automatos_key},
                            *FAST)
    db = Store(pg_url)
    try:
        local = kill_a_local_run_mid_poll(db, pg_url, env, {"AUTOMATOS_KEY": sim.automatos_key})
        with Submitter(broker.url, pg_url, queue=broker.queue) as s:
            run_ids = [s.submit(DISTRIBUTE, str(env), {"hostname": "NTB2"})
                       for _ in range(RUNS)]
        deadline = time.monotonic() + 60
        while sim.calls["create_distribution"] < 8:  # a few runs are under way
            assert time.monotonic() < deadline, "the workers did not start the runs"
            time.sleep(0.05)
        private_redis.kill()  # no worker takes a new run while it is down
        victim, survivor = workers
        deadline = time.monotonic() + 30
        while True:  # the victim's runs are past their create (or before it), none inside it
            held = [r for r in run_ids if (row := db.get_run(r) or {}).get("status") == "running"
                    and str(row["owner"]).split(":")[1] == str(victim.pid)]
            polling = [r for r in held if past_create(db, r)]
            if polling and not any("unknown" in ResumeState.load(db, r).unsafe_outcome.values()
                                   for r in held):
                break
            assert time.monotonic() < deadline, "the killed worker held no run"
            time.sleep(0.01)
        victim.kill()  # its runs stay running: their messages die with Redis
        private_redis.start()  # empty: the queued runs' messages are gone
        lost_at = time.monotonic()
        queued = [r for r in run_ids if (db.get_run(r) or {}).get("status") == "queued"]
        assert queued, "every run had started: nothing was lost"

        def statuses() -> dict[str, str]:
            return {r: str((db.get_run(r) or {}).get("status")) for r in run_ids}

        deadline = time.monotonic() + 60
        while any(st in ("queued", "running") for st in statuses().values()):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        took = time.monotonic() - lost_at
        ended = statuses()
        print(f"\n{len(queued)} of {RUNS} runs were queued and {len(held)} running on the "
              f"killed worker ({len(polling)} polling) when Redis lost its messages; all "
              f"ended {took:.1f} s later")
        logs = survivor.output()
        assert sorted(set(ended.values())) == ["passed"], (ended, logs[-5000:])
        assert sim.calls["create_distribution"] == RUNS + 1  # none sent twice
        assert len(sim.distributions) == RUNS + 1
        assert "handed over again" in logs
        # a plain `runner run` that died is not the workers' to take: its user resumes it
        assert (db.get_run(local) or {}).get("status") == "running" and local not in logs
        for r in held:  # taken over by the survivor
            assert str((db.get_run(r) or {})["owner"]).split(":")[1] == str(survivor.pid)
        for r in polling:  # resumed from the journal at the poll, not started afresh
            assert f"run {r} resumed" in logs
    finally:
        db.close()
        for w in workers:
            w.stop()


def test_runner_resume_stale_resumes_every_run_nobody_works_on(
        tmp_path: Path, private_redis: PrivateRedis, pg_url: str,
        sim: AutomatosSimulator) -> None:
    broker = Broker(private_redis.url, f"runner-test-{secrets.token_hex(4)}")
    env = env_file(tmp_path, sim)
    key = {"AUTOMATOS_KEY": sim.automatos_key}
    (worker,) = start_workers(1, broker, pg_url, tmp_path, key, *FAST)
    db = Store(pg_url)
    try:
        local = kill_a_local_run_mid_poll(db, pg_url, env, key)
        with Submitter(broker.url, pg_url, queue=broker.queue) as s:
            polling = s.submit(DISTRIBUTE, str(env), {"hostname": "NTB2"})
            deadline = time.monotonic() + 30
            while not past_create(db, polling):
                assert time.monotonic() < deadline, worker.output()[-3000:]
                time.sleep(0.02)
            worker.kill()  # `polling` stays running, its heartbeat goes stale
            lost = [s.submit(DISTRIBUTE, str(env), {"hostname": "NTB2"}) for _ in range(2)]
            private_redis.kill()
            private_redis.start()  # the two queued runs' messages are gone
            waiting = s.submit(DISTRIBUTE, str(env), {"hostname": "NTB2"})  # has a message
        time.sleep(1.6)  # all four are older than --stale-after
        done = cli("resume", "--stale", "--stale-after", "1.5", "--store", pg_url,
                   "--broker", broker.url, "--queue", broker.queue, env=key, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"run {polling} (was running): passed" in done.stdout
        assert f"run {local} (was running): passed" in done.stdout  # a killed `runner run`
        for run_id in lost:
            assert f"run {run_id} (was queued): passed" in done.stdout
        assert "4 stale run(s): 4 passed, 0 not" in done.stdout
        assert waiting not in done.stdout  # its message is in the broker: the workers' run
        assert (db.get_run(waiting) or {}).get("status") == "queued"
        assert sim.calls["create_distribution"] == 4  # the killed runs' creates: not again
        for run_id in (polling, local):
            row = db.get_run(run_id) or {}
            assert [st["id"] for st in row["report"]["steps"] if st.get("resumed")] == \
                ["step1", "machine", "job"]
        again = cli("resume", "--stale", "--stale-after", "1.5", "--store", pg_url,
                    "--broker", broker.url, "--queue", broker.queue, env=key)
        assert again.returncode == 0 and again.stdout.startswith("no stale runs"), again.stdout
    finally:
        db.close()
        worker.stop()
