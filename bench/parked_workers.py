"""Parked waits on workers (issue 17): ``--runs`` runs of a playbook whose poll waits
``--every`` seconds between looks, submitted to ONE `runner worker` with ``--concurrency`` slots
(real Redis on 127.0.0.1:6379, a fresh database on the real PostgreSQL 127.0.0.1:5432), against
an Automatos simulator served by this process that delivers each package ``--deliver`` seconds
after its create. Prints one JSON line: the wall from the first submit to the last end, the
worker's CPU (all, and over a window while every run is parked), the most runs parked at once,
the statuses, the creates the simulator saw, and the wall the slots alone would allow.

    nice .venv/bin/python bench/parked_workers.py --runs 200 --concurrency 4
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import automatos_env  # noqa: E402
from runner.builtin.automatos.simulator import AutomatosSimulator  # noqa: E402

from runner.store import Store  # noqa: E402
from runner.submit import Submitter  # noqa: E402
from tests.distributed.servers import PG_DSN, Broker, Worker, database  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--runs", type=int, default=200)
    args.add_argument("--concurrency", type=int, default=4)
    args.add_argument("--every", type=float, default=30.0, help="the poll's interval, s")
    args.add_argument("--deliver", type=float, default=45.0, help="create to delivered, s")
    args.add_argument("--park-after", type=float, default=10.0)
    opts = args.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="parked-bench-"))
    playbook = tmp / "long_poll.yaml"
    playbook.write_text((ROOT / "tests/distributed/long_poll.yaml").read_text()
                        .replace("every: 3s", f"every: {opts.every:g}s")
                        .replace("timeout: 5m", "timeout: 30m"))
    broker = Broker(f"redis://127.0.0.1:6379/{1 + secrets.randbelow(15)}",
                    f"runner-bench-{secrets.token_hex(4)}")
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=opts.deliver - 1.0) as sim:
        env = automatos_env(tmp, sim)
        for url in database(PG_DSN):
            worker = Worker(broker, url, tmp / "worker.log", {"AUTOMATOS_KEY": sim.automatos_key},
                            "--concurrency", str(opts.concurrency),
                            "--park-after", str(opts.park_after))
            try:
                worker.wait_ready(60)
                db = Store(url)
                cpu0 = cpu(worker.pid)
                started = time.monotonic()
                with Submitter(broker.url, url, queue=broker.queue) as s:
                    run_ids = [s.submit(playbook, str(env), {"hostname": "NTB2"})
                               for _ in range(opts.runs)]
                submitted = time.monotonic() - started
                most_parked, idle = 0, None
                while True:
                    statuses = [(db.get_run(r) or {}).get("status") for r in run_ids]
                    parked = statuses.count("parked")
                    most_parked = max(most_parked, parked)
                    if parked == opts.runs and idle is None:  # all parked: a quiet window
                        t0, c0 = time.monotonic(), cpu(worker.pid)
                        time.sleep(5.0)
                        idle = (cpu(worker.pid) - c0) / (time.monotonic() - t0)
                    if all(st in ("passed", "failed", "errored", "interrupted")
                           for st in statuses):
                        break
                    time.sleep(0.5)
                wall = time.monotonic() - started
                used = cpu(worker.pid) - cpu0
                parks = sum(1 for r in run_ids for e in db.entries(r) if e.event == "parked")
                print(json.dumps({
                    "runs": opts.runs, "concurrency": opts.concurrency, "every": opts.every,
                    "deliver": opts.deliver, "park_after": opts.park_after,
                    "wall_s": round(wall, 1), "submit_s": round(submitted, 1),
                    "slots_alone_wall_s": round(opts.runs / opts.concurrency * opts.deliver),
                    "worker_cpu_s": round(used, 2),
                    "worker_cpu_ms_per_run": round(used / opts.runs * 1000, 1),
                    "worker_cpu_share_all_parked": None if idle is None else round(idle, 4),
                    "most_parked_at_once": most_parked, "parked_entries": parks,
                    "statuses": {st: statuses.count(st) for st in set(statuses)},
                    "creates": sim.calls["create_distribution"],
                    "logins": sim.calls["auth"], "status_calls": sim.calls["distribution_status"],
                }))
            finally:
                worker.stop()


if __name__ == "__main__":
    main()
