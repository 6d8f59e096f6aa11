"""Runs on Celery workers with Redis and PostgreSQL: 200 runs through two workers, `runner
submit`, and `runner scheduler --broker`. Two workers serve the whole module."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, RUNNER, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner import api
from runner.store import Store
from runner.submit import Submitter
from tests.distributed.servers import TINY, Broker, Worker, env_file, start_workers


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AutomatosSimulator, Path]]:
    sim = AutomatosSimulator()
    sim.start()
    yield sim, env_file(tmp_path_factory.mktemp("lab"), sim)
    sim.stop()


@pytest.fixture(scope="module")
def workers(broker: Broker, pg_module_url: str, lab: tuple[AutomatosSimulator, Path],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Worker]]:
    sim, _ = lab
    ws = start_workers(2, broker, pg_module_url, tmp_path_factory.mktemp("workers"),
                       {"AUTOMATOS_KEY": sim.automatos_key}, "--concurrency", "4")
    yield ws
    for w in ws:
        w.stop()


def test_200_runs_through_two_workers_all_finish_and_appear_in_history(
        broker: Broker, pg_module_url: str, lab: tuple[AutomatosSimulator, Path],
        workers: list[Worker], record_property: Callable[[str, object], None]) -> None:
    sim, env = lab
    before = sim.calls["get_machine"]
    started = time.perf_counter()
    with Submitter(broker.url, pg_module_url, queue=broker.queue) as s:
        run_ids = [s.submit(TINY, str(env), {"hostname": "NTB2"}) for _ in range(200)]
        submitted = time.perf_counter() - started
        statuses = s.wait(run_ids, timeout=60)
    total = time.perf_counter() - started
    record_property("submit_200_s", round(submitted, 2))
    record_property("run_200_s", round(total, 2))
    print(f"\n200 runs through 2 workers (4 threads each): submitted in {submitted:.2f} s, "
          f"all finished in {total:.2f} s")
    assert sorted(set(statuses.values())) == ["passed"], statuses
    assert len(statuses) == 200
    assert sim.calls["get_machine"] - before == 200  # each ran once
    history = api.history(store=pg_module_url, limit=1000)
    assert {r["run_id"] for r in history if r["status"] == "passed"} >= set(run_ids)
    owners = {str(r["owner"]).split(":")[1] for r in history if r["run_id"] in run_ids}
    assert owners == {str(w.pid) for w in workers}  # both took their share


def test_runner_run_with_a_broker_waits_and_exits_as_run(broker: Broker, pg_module_url: str,
                                              lab: tuple[AutomatosSimulator, Path],
                                              workers: list[Worker]) -> None:
    sim, env = lab
    common = ["--broker", broker.url, "--store", pg_module_url, "--queue", broker.queue,
              "--env", str(env)]
    ok = cli("run", str(TINY), *common, "--wait")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert " passed" in ok.stdout
    bad = cli("run", str(TINY), *common, "-i", "hostname=NOPE", "--wait")
    assert bad.returncode == 1 and "machine not found" in bad.stdout
    later = cli("run", str(TINY), *common)
    assert later.returncode == 0 and later.stdout.startswith("queued: run ")
    run_id = later.stdout.split()[2]
    shown = cli("show", run_id, "--store", pg_module_url)
    assert shown.returncode == 0 and run_id in shown.stdout
    stored = cli("show", run_id, "--store", pg_module_url, "--json").stdout
    assert run_id in stored
    for value in sim.secret_values():  # the store never holds a secret
        assert value not in stored


def test_runner_run_with_a_broker_and_rows_of_inputs(
        tmp_path: Path, broker: Broker, pg_module_url: str,
        lab: tuple[AutomatosSimulator, Path], workers: list[Worker]) -> None:
    _, env = lab
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"hostname": "NTB2"}\n{"hostname": "NOPE"}\n{"hostname": "NTB2"}\n')
    report = tmp_path / "runs.json"
    done = cli("run", str(TINY), "--inputs-from", str(rows), "--broker", broker.url,
               "--store", pg_module_url, "--queue", broker.queue, "--env", str(env), "--wait",
               "--timeout", "60", "--report-json", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.count("queued: run ") == 3
    ended = json.loads(report.read_text())
    assert [r["status"] for r in ended] == ["passed", "failed", "passed"]
    assert "machine not found" in ended[1]["error"]
    recorded = {r["run_id"]: r["status"] for r in api.history(store=pg_module_url, limit=1000)}
    assert [recorded[r["run_id"]] for r in ended] == ["passed", "failed", "passed"]


def test_scheduler_with_a_broker_hands_runs_to_the_workers(
        tmp_path: Path, broker: Broker, pg_module_url: str,
        lab: tuple[AutomatosSimulator, Path], workers: list[Worker]) -> None:
    _, env = lab
    path = tmp_path / "schedules.yaml"
    path.write_text(f"""\
schedules:
  - name: remote-tick
    playbook: {TINY}
    cron: "* * * * * *"
    environment: {env}
    overlap: allow
""")
    proc = subprocess.Popen(
        [str(RUNNER), "scheduler", str(path), "--store", pg_module_url, "--broker", broker.url,
         "--queue", broker.queue], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    def fired() -> list[dict[str, Any]]:
        return [r for r in Store(pg_module_url).find_runs(limit=1000)
                if str(r["dedup_key"]).startswith("remote-tick@")]

    deadline = time.monotonic() + 20
    while len(fired()) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert "hands runs to workers" in out
    deadline = time.monotonic() + 15
    while True:
        rows = fired()
        if all(r["status"] == "passed" for r in rows) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(rows) >= 3 and {r["status"] for r in rows} == {"passed"}, out
    worker_pids = {str(w.pid) for w in workers}
    assert {str(r["owner"]).split(":")[1] for r in rows} <= worker_pids  # not the scheduler


def test_a_run_on_a_worker_notifies_its_environment_target(
        broker: Broker, pg_module_url: str, lab: tuple[AutomatosSimulator, Path],
        workers: list[Worker], tmp_path: Path) -> None:
    """The worker loads the environment file the run names, and tells its notify: target
    (issue 15): the run's end is the worker's, so is the notification."""
    from notify_receivers import json_receiver

    _, env = lab
    with json_receiver() as (url, posts):
        told = tmp_path / "told.yaml"
        told.write_text(env.read_text() + f"notify:\n  - url: '{url}'\n")
        bad = cli("run", str(TINY), "--broker", broker.url, "--store", pg_module_url,
                  "--queue", broker.queue, "--env", str(told), "-i", "hostname=NOPE", "--wait")
        assert bad.returncode == 1, bad.stdout + bad.stderr
        deadline = time.monotonic() + 30  # the worker sends once the run is recorded
        while not posts.got and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(posts.got) == 1
        text = posts.bodies[0]["message"]
        assert "failed step: step 'machine' at " in text and "machine not found" in text
