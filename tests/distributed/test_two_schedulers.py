"""Two schedulers on one PostgreSQL store, in real time: a schedule firing every second for
10 s yields each fire time exactly once, none lost."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

from helpers import ROOT, RUNNER
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.store import Store
from tests.distributed.servers import TINY, env_file


def test_two_schedulers_fire_each_second_exactly_once(tmp_path: Path, pg_url: str,
                                                      sim: AutomatosSimulator) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(f"""\
schedules:
  - name: every-second
    playbook: {TINY}
    cron: "* * * * * *"
    environment: {env_file(tmp_path, sim)}
    overlap: allow
    catch_up: all
""")
    env = {**os.environ, "AUTOMATOS_KEY": sim.automatos_key}
    procs = [subprocess.Popen([str(RUNNER), "scheduler", str(path), "--store", pg_url],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env) for _ in range(2)]
    # until 8 fire times are recorded (a loaded machine starts the schedulers late), not a
    # fixed sleep: what is checked is that each second fires once and none is lost
    deadline, watch = time.monotonic() + 60, Store(pg_url)
    while time.monotonic() < deadline and len(watch.find_runs(limit=1000)) < 9:
        time.sleep(0.5)
    watch.close()
    outs = []
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        out, _ = p.communicate(timeout=30)
        assert p.returncode == 0, out
        outs.append(out)

    rows = Store(pg_url).find_runs(limit=1000)
    fire_times = sorted(str(r["dedup_key"]).split("@")[1] for r in rows)
    seconds = [int(dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
                   .replace(tzinfo=dt.timezone.utc).timestamp()) for t in fire_times]
    assert len(seconds) >= 8, outs
    assert seconds == list(range(seconds[0], seconds[-1] + 1)), outs  # each once, none lost
    assert {r["status"] for r in rows} == {"passed"}, outs
    # every run was fired by exactly one of the two, whichever held the schedule's lock
    fired = [out.count(" queued") for out in outs]
    assert sum(fired) == len(rows), outs
    assert sim.calls["get_machine"] == len(rows)
    print(f"\ntwo schedulers, {len(rows)} fire times: fired {fired[0]} + {fired[1]}")
