"""Callbacks of runs on workers, on the machine's real Redis and PostgreSQL: `runner callbacks`
beside `runner worker`s keeps the Alvaria simulator's POST in the store, where the waiting run
finds it; a run whose worker died while it waited is woken through the broker by its callback
and finished by another worker."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PLAYBOOKS, ROOT, RUNNER, cli

from runner.callback_token import mint
from runner.store import Store
from tests.distributed.servers import Broker, free_port, start_workers

RUNBOOK = PLAYBOOKS / "alvaria" / "trigger-and-callback.yaml"


class Callbacks:
    """A `runner callbacks` process."""

    def __init__(self, tmp: Path, store: str, broker: Broker, port: int,
                 env: dict[str, str]) -> None:
        self.log = tmp / "callbacks.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [str(RUNNER), "callbacks", "--bind", f"127.0.0.1:{port}", "--store", store,
             "--broker", broker.url, "--queue", broker.queue, "--stale-after", "2"],
            cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **env})
        deadline = time.monotonic() + 30
        while "listening on" not in self.output():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.output()
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)
        self._out.close()


@pytest.fixture
def lab(tmp_path: Path, broker: Broker, pg_url: str) -> Iterator[tuple[Path, dict[str, str],
                                                                       Callbacks]]:
    env = {"RUNNER_CALLBACK_KEY": secrets.token_urlsafe(32)}
    port = free_port()
    env_file = tmp_path / "lab.yaml"
    env_file.write_text(f"""\
sandbox: true
simulators:
  alvaria: {{run_seconds: 0.5, service_seconds: {{SlowService: 600}}}}
callbacks: {{url: "http://127.0.0.1:{port}"}}
""")
    listener = Callbacks(tmp_path, pg_url, broker, port, env)
    yield env_file, env, listener
    listener.stop()


def test_the_simulators_callback_reaches_a_run_on_a_worker(
        tmp_path: Path, broker: Broker, pg_url: str,
        lab: tuple[Path, dict[str, str], Callbacks]) -> None:
    env_file, env, _ = lab
    [worker] = start_workers(1, broker, pg_url, tmp_path, env)
    try:
        done = cli("run", str(RUNBOOK), "--broker", broker.url, "--store", pg_url, "--queue",
                   broker.queue, "--env", str(env_file), "--wait", "--timeout", "60")
    finally:
        worker.stop()
    assert done.returncode == 0, done.stdout + done.stderr + worker.output()
    run_id = done.stdout.split()[2]
    store = Store(pg_url)
    entries = store.entries(run_id)
    got = [e for e in entries if e.event == "callback"]
    assert [e.status for e in got] == ["received"]
    assert json.loads(got[0].data["body"])["status"] == "completed"
    finished = next(e for e in entries if e.event == "finished" and e.step_key == "steps/3")
    assert finished.data["steps"]["callback"] is True  # the callback, not the poll
    record = store.get_run(run_id)
    assert record is not None and str(worker.pid) in record["owner"]


def test_a_callback_wakes_a_run_nobody_holds_through_the_broker(
        tmp_path: Path, broker: Broker, pg_url: str,
        lab: tuple[Path, dict[str, str], Callbacks]) -> None:
    """The run's worker dies while it waits and no worker is left to sweep it up: the callback
    is kept, the run handed to the broker, and the next worker to start ends it with it."""
    env_file, env, listener = lab
    (tmp_path / "a").mkdir()
    [held] = start_workers(1, broker, pg_url, tmp_path / "a", env, "--stale-after", "2")
    queued = cli("run", str(RUNBOOK), "--broker", broker.url, "--store", pg_url,
                 "--queue", broker.queue, "--env", str(env_file), "-i", "vsn=SlowService")
    assert queued.returncode == 0, queued.stderr
    run_id = queued.stdout.split()[2]
    store = Store(pg_url)
    deadline = time.monotonic() + 30
    while (store.get_run(run_id) or {}).get("status") != "waiting":
        assert time.monotonic() < deadline, held.output()[-2000:]
        time.sleep(0.1)
    held.kill()  # SIGKILL while it waits: its simulator (and its callback) die with it
    time.sleep(2.5)  # the run's heartbeat goes stale
    # the service's callback, as the vendor would send it: the URL names the run and the
    # callback step, signed with the key the workers and the listener share
    url = mint(env["RUNNER_CALLBACK_KEY"].encode(), f"http://127.0.0.1:{listener_port(env_file)}",
               run_id, "steps/1", time.time() + 60)
    body = json.dumps({"status": "completed", "triggerUUID": "another"}).encode()
    with urllib.request.urlopen(urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}),
            timeout=10) as resp:
        assert resp.status == 200
    deadline = time.monotonic() + 10
    while f"run {run_id}: woken through the broker" not in listener.output():
        assert time.monotonic() < deadline, listener.output()
        time.sleep(0.1)
    tmp_b = tmp_path / "b"
    tmp_b.mkdir()
    [other] = start_workers(1, broker, pg_url, tmp_b, env, "--stale-after", "2")
    try:
        deadline = time.monotonic() + 60
        while (store.get_run(run_id) or {}).get("status") not in ("passed", "failed"):
            assert time.monotonic() < deadline, other.output()[-3000:]
            time.sleep(0.2)
    finally:
        other.stop()
    record = store.get_run(run_id)
    assert record is not None and f":{other.pid}:" in str(record["owner"])
    # it took the callback the test sent: its assertion names the other trigger
    assert record["status"] == "failed", record["error"]
    assert "the callback is for another trigger" in record["error"]
    sent = [e for e in store.entries(run_id) if e.event == "sent"]
    assert len(sent) == 1  # the resumed run did not trigger the service again


def listener_port(env_file: Path) -> int:
    return int(env_file.read_text().split("127.0.0.1:")[1].split('"')[0])
