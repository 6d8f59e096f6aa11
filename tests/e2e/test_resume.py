"""Journal and resume over real processes: SIGKILL in the middle of a poll, then
`runner resume` finishes the same job without a second create."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PLAYBOOKS, ROOT, RUNNER, automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.simulator_faults import Faults
from runner.store import Store

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=2.0) as s:
        yield s


def env_file(tmp_path: Path, sim: AutomatosSimulator) -> Path:
    return automatos_env(tmp_path, sim)


def run_id_of(store: Path) -> str:
    rows = Store(str(store)).find_runs()
    assert len(rows) == 1
    return str(rows[0]["run_id"])


def test_sigkill_mid_poll_then_resume_finishes_the_same_job(tmp_path: Path,
                                                            sim: AutomatosSimulator) -> None:
    store = tmp_path / "runs.db"
    env = env_file(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    proc = subprocess.Popen(
        [str(RUNNER), "run", str(DISTRIBUTE), "--env", str(env), "-i", "hostname=NTB2",
         "--store", str(store)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**__import__("os").environ, **secrets})
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait until the poll has begun
        if "attempt 1" in proc.stdout.readline():
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert sim.calls["create_distribution"] == 1
    run_id = run_id_of(store)
    row = Store(str(store)).get_run(run_id)
    assert row is not None and row["status"] == "running"  # killed: nobody closed it

    resumed = cli("resume", run_id, "--store", str(store), "--force", env=secrets)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sim.calls["create_distribution"] == 1  # never sent twice
    assert sim.calls["auth"] == 2  # a new process logs in again
    job = sim.distributions[0]["jobName"]
    assert f"job: {job}" in resumed.stdout  # the poll continued on the same job
    final = Store(str(store)).get_run(run_id)
    assert final is not None and final["status"] == "passed"
    resumed_steps = [s["id"] for s in final["report"]["steps"] if s.get("resumed")]
    assert resumed_steps == ["step1", "machine", "job"]


def test_unknown_outcome_of_a_create_is_not_resent(tmp_path: Path,
                                                   sim: AutomatosSimulator) -> None:
    store = tmp_path / "runs.db"
    env = env_file(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    # the server creates the job, then the connection drops before the answer
    sim.faults = Faults(drop_after=1.0, only={"create_distribution"}, count=1)
    first = cli("run", str(DISTRIBUTE), "--env", str(env), "-i", "hostname=NTB2",
                "--store", str(store), env=secrets)
    assert first.returncode == 1
    assert "connection was dropped" in first.stdout
    assert sim.calls["create_distribution"] == 1
    run_id = run_id_of(store)
    again = cli("resume", run_id, "--store", str(store), env=secrets)
    assert again.returncode == 1
    assert "not safe to repeat and was sent before the run stopped" in again.stdout
    assert "outcome is unknown" in again.stdout
    assert sim.calls["create_distribution"] == 1
    journal = json.loads(cli("show", run_id, "--store", str(store), "--json").stdout)["journal"]
    events = [(e["step_key"], e["event"]) for e in journal]
    assert ("steps/2", "sent") in events
    assert ("steps/2", "answered") not in events


def test_a_refused_create_may_be_sent_again(tmp_path: Path, sim: AutomatosSimulator) -> None:
    store = tmp_path / "runs.db"
    env = env_file(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    first = cli("run", str(DISTRIBUTE), "--env", str(env), "-i", "hostname=NTB2",
                "-i", "package=", "--store", str(store), env=secrets)
    assert first.returncode == 1 and "Something went wrong" in first.stdout
    run_id = run_id_of(store)
    # the vendor refused it: nothing happened, so resuming sends it again (with a fixed input)
    again = cli("resume", run_id, "--store", str(store), "-i", "package=7zip.exe", env=secrets)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(sim.distributions) == 1


def test_history_lists_and_filters(tmp_path: Path, sim: AutomatosSimulator) -> None:
    store = tmp_path / "runs.db"
    env = env_file(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    cli("run", str(DISTRIBUTE), "--env", str(env), "-i", "hostname=NOPE", "--store", str(store),
        env=secrets)
    out = cli("history", "--store", str(store), "--status", "failed").stdout
    assert "failed" in out and "machine not found" in out
    assert cli("history", "--store", str(store), "--status", "passed").stdout.strip() == \
        "no runs recorded yet"
    rows = [json.loads(x) for x in cli("history", "--store", str(store), "--json",
                                       "--since", "1h").stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["status"] == "failed"
    text = cli("show", rows[0]["run_id"], "--store", str(store)).stdout
    assert "FAIL machine" in text
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("runs.db*"))  # with the WAL
    for value in sim.secret_values():
        assert value.encode() not in stored


def test_two_resumes_of_one_run_at_once_one_runs_it(tmp_path: Path, sim: AutomatosSimulator,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`runner resume` claims the run as a worker would: a second resume (or a worker taking
    it over) while the first is going finds it taken, and the create is sent once."""
    import threading

    from runner import api
    from runner.errors import InvalidInput

    store = tmp_path / "runs.db"
    env = env_file(tmp_path, sim)
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    first = cli("run", str(DISTRIBUTE), "--env", str(env), "-i", "hostname=NTB2",
                "-i", "package=", "--store", str(store))
    assert first.returncode == 1
    run_id = run_id_of(store)
    outcomes: list[str] = []
    gate = threading.Barrier(2)

    def resume() -> None:
        gate.wait()
        try:
            result = api.resume(run_id, store=str(store), inputs={"package": "7zip.exe"},
                                quiet=True)
            outcomes.append(result.status)
        except InvalidInput as e:
            outcomes.append(e.message)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=len)[0] == "passed", outcomes
    other = sorted(outcomes, key=len)[1]
    assert "looks alive" in other or "another process took it up" in other, outcomes
    assert len(sim.distributions) == 1
    row = Store(str(store)).get_run(run_id)
    assert row is not None and row["status"] == "passed"
    assert str(row["owner"]).count(":") == 2  # host:pid:token of the resume that ran it


def test_a_run_left_queued_is_run_by_resume(tmp_path: Path, sim: AutomatosSimulator) -> None:
    """A run whose message the broker lost stays queued: history shows it, resume runs it."""
    store = tmp_path / "runs.db"
    env = env_file(tmp_path, sim)
    db = Store(str(store))
    assert db.create_run("20261130-000000-abcdef", "Distribute", str(DISTRIBUTE), str(env),
                         {"hostname": "NTB2"}, status="queued")
    db.close()
    listed = cli("history", "--store", str(store), "--status", "queued")
    assert "20261130-000000-abcdef" in listed.stdout
    done = cli("resume", "20261130-000000-abcdef", "--store", str(store),
               env={"AUTOMATOS_KEY": sim.automatos_key})
    assert done.returncode == 0, done.stdout + done.stderr
    assert sim.calls["create_distribution"] == 1
    row = Store(str(store)).get_run("20261130-000000-abcdef")
    assert row is not None and row["status"] == "passed"
