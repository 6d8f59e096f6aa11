"""A worker SIGKILLed in the middle of a poll: the run is finished by the other worker, or by
`runner resume`, and the vendor sees exactly one create."""

from __future__ import annotations

import time
from pathlib import Path

from helpers import PLAYBOOKS, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.store import Store
from runner.submit import Submitter
from tests.distributed.servers import Broker, Worker, env_file, start_workers

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
# short enough for a test: a vanished worker's message comes back after 4 s, a run whose
# heartbeat is 1.5 s old is dead
FAST_RECOVERY = ("--visibility-timeout", "4", "--stale-after", "1.5", "--concurrency", "2")


def wait_for(what: str, check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def submit_and_kill_mid_poll(broker: Broker, store: str, env: Path, sim: AutomatosSimulator,
                             workers: list[Worker]) -> tuple[str, Worker]:
    with Submitter(broker.url, store, queue=broker.queue) as s:
        run_id = s.submit(DISTRIBUTE, str(env), {"hostname": "NTB2"})
    wait_for("the poll to begin", lambda: sim.calls["distribution_status"] >= 1)
    row = Store(store).get_run(run_id)
    assert row is not None and row["status"] == "running"
    pid = int(str(row["owner"]).split(":")[1])
    victim = next(w for w in workers if w.pid == pid)
    victim.kill()
    assert sim.calls["create_distribution"] == 1
    return run_id, victim


def test_a_killed_worker_run_is_finished_by_the_other_one(
        tmp_path: Path, broker: Broker, pg_url: str, sim: AutomatosSimulator) -> None:
    env = env_file(tmp_path, sim)
    workers = start_workers(2, broker, pg_url, tmp_path, {"AUTOMATOS_KEY": sim.automatos_key},
                            *FAST_RECOVERY)
    try:
        killed_at = time.monotonic()
        run_id, victim = submit_and_kill_mid_poll(broker, pg_url, env, sim, workers)
        survivor = next(w for w in workers if w is not victim)
        db = Store(pg_url)

        def finished() -> bool:
            row = db.get_run(run_id)
            return row is not None and row["status"] not in ("queued", "running")

        wait_for("the other worker to finish the run", finished, timeout=40)
        took = time.monotonic() - killed_at
        print(f"\nkilled mid-poll; the other worker finished the run {took:.1f} s later")
        row = db.get_run(run_id)
        assert row is not None and row["status"] == "passed", survivor.output()[-3000:]
        assert row["owner"].split(":")[1] == str(survivor.pid)
        assert sim.calls["create_distribution"] == 1  # never sent twice
        assert len(sim.distributions) == 1
        resumed = [s["id"] for s in row["report"]["steps"] if s.get("resumed")]
        assert resumed == ["step1", "machine", "job"]  # picked up at the poll
        assert row["outputs"]["job"] == sim.distributions[0]["jobName"]
        assert f"run {run_id} resumed" in survivor.output()
    finally:
        for w in workers:
            w.stop()


def test_a_killed_worker_run_is_finished_by_runner_resume(
        tmp_path: Path, broker: Broker, pg_url: str, sim: AutomatosSimulator) -> None:
    env = env_file(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    workers = start_workers(1, broker, pg_url, tmp_path, secrets, *FAST_RECOVERY)
    try:
        run_id, _ = submit_and_kill_mid_poll(broker, pg_url, env, sim, workers)
    finally:
        for w in workers:
            w.stop()
    resumed = cli("resume", run_id, "--store", pg_url, "--force", env=secrets)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sim.calls["create_distribution"] == 1
    row = Store(pg_url).get_run(run_id)
    assert row is not None and row["status"] == "passed"
