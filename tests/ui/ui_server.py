"""What the ``runner ui`` tests share: a store holding real runs (made with ``runner run``
on sandbox playbooks, as a user makes them, plus rows a scheduler, a batch and a dead worker
leave), and ``runner ui`` started as a real process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from helpers import PLAYBOOKS, RUNNER

from runner.schedule_file import dedup_key
from runner.store import Store

PIN = "PIN-s3cr3t-7781"  # a secret input: the store keeps it masked, no page may show it
SCHEDULE = "nightly-ui"
BATCH = "batch-ui-1"


@dataclass
class Recorded:
    store: Path
    schedules: Path
    passed: str = ""
    failed: str = ""
    secret_run: str = ""
    scheduled: str = ""
    queued: str = ""
    stale: str = ""
    batch: list[str] = field(default_factory=list)


def run_playbook(store: Path | str, playbook: Path, *inputs: str) -> str:
    """`runner run PLAYBOOK` recorded in `store`, as a user runs it; its run id."""
    args = [str(RUNNER), "run", str(playbook), "--env", "sandbox", "--store", str(store), "-q"]
    for i in inputs:
        args += ["-i", i]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    db = Store(str(store))
    try:
        return str(db.find_runs(limit=1)[0]["run_id"])
    finally:
        db.close()


def record(tmp: Path) -> Recorded:
    """A store with: a passed and a failed run of distribute-package, a failed MOR run with a
    secret input, a run a schedule fired, two rows of a batch, a queued run nobody took and a
    running run whose process is gone (both silent for an hour)."""
    store = tmp / "runs.db"
    schedules = tmp / "schedules.yaml"
    playbook = PLAYBOOKS / "automatos" / "distribute-package.yaml"
    schedules.write_text(f"""schedules:
  - name: {SCHEDULE}
    playbook: {playbook}
    cron: "0 2 * * *"
    timezone: Europe/Lisbon
    inputs: {{hostname: NTB1}}
""")
    r = Recorded(store, schedules)
    r.passed = run_playbook(store, playbook, "hostname=NTB1")
    r.failed = run_playbook(store, playbook, "hostname=NTB2", "package=fail-setup.exe")
    r.secret_run = run_playbook(store, PLAYBOOKS / "mor" / "create-device.yaml", "user_id=2",
                        f"pin={PIN}")
    db = Store(str(store))
    try:
        old = time.time() - 3600
        r.scheduled, r.queued, r.stale = "sched-ui-run", "queued-ui-run", "stale-ui-run"
        db.create_run(r.scheduled, "Distribute a package to a machine", str(playbook),
                      "sandbox", {"hostname": "NTB1"}, status="passed",
                      dedup_key=dedup_key(SCHEDULE, 1796004000.0))  # as the scheduler keys it
        db.create_run(r.queued, "Distribute a package to a machine", str(playbook), "sandbox",
                      {"hostname": "NTB3"}, status="queued")
        db.create_run(r.stale, "Distribute a package to a machine", str(playbook), "sandbox",
                      {"hostname": "NTB4"}, status="running", owner="worker-gone@host")
        for run_id in (r.queued, r.stale):
            db.update_run(run_id, heartbeat=old, started=old)
        r.batch = ["batch-ui-row0", "batch-ui-row1"]
        db.create_runs([{"run_id": rid, "playbook": "Distribute a package to a machine",
                         "file": str(playbook), "environment": "sandbox",
                         "inputs": {"hostname": f"NTB{i}"}, "status": "passed",
                         "batch_id": BATCH, "batch_row": i} for i, rid in enumerate(r.batch)])
    finally:
        db.close()
    return r


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``runner ui ARGS`` on a free port until the block ends; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([str(RUNNER), "ui", "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break  # it answers (401 with a token)
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read() if proc.stdout else ""
                    raise AssertionError(f"runner ui did not start: {out}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
