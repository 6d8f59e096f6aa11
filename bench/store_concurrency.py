"""The SQLite store under many runs at once (issue 11): N rows of distribute-package.yaml at
``--concurrency N`` as ``runner run --inputs-from``, against one Automatos simulator served by
this process, optionally while another process holds the store's write lock for ``--hold``
seconds (from when a third of the creates were sent). Prints one JSON line: wall time, the
batch summary's passed/failed, the store's statuses, the errors, and whether the summary's run
ids match the store's rows.

    .venv/bin/python bench/store_concurrency.py --rows 1000 --hold 11
    # the code before the change, for comparison:
    git archive d639134 runner plugins | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    .venv/bin/python bench/store_concurrency.py --rows 1000 --hold 11 --code /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import RUNNER, automatos_env  # noqa: E402
from runner.builtin.automatos.simulator import AutomatosSimulator  # noqa: E402

HOLDER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
c.execute("BEGIN IMMEDIATE")
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")
"""


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--rows", type=int, default=1000)
    args.add_argument("--hold", type=float, default=0.0, help="seconds the lock is held")
    args.add_argument("--code", help="a checkout of runner/ and plugins/ to run instead")
    opts = args.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="store-bench-"))
    store = tmp / "runs.db"
    extra = {"PYTHONPATH": opts.code} if opts.code else {}
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=1.0) as sim:
        env = automatos_env(tmp, sim)
        rows = tmp / "rows.jsonl"
        rows.write_text("".join(json.dumps({"hostname": "NTB1"}) + "\n"
                                for _ in range(opts.rows)))
        started = time.perf_counter()
        batch = subprocess.Popen(
            [str(RUNNER), "run", str(ROOT / "playbooks/automatos/distribute-package.yaml"),
             "--inputs-from", str(rows), "--concurrency", str(opts.rows), "--env", str(env),
             "-q", "--report-json", str(tmp / "summary.json"), "--store", str(store)],
            cwd=opts.code or tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **extra, "AUTOMATOS_KEY": sim.automatos_key})
        if opts.hold:
            while sim.calls["create_distribution"] < opts.rows // 3 and batch.poll() is None:
                time.sleep(0.05)
            subprocess.run([sys.executable, "-c", HOLDER, str(store), str(opts.hold)],
                           check=True)
        batch.communicate()
        wall = time.perf_counter() - started
    with sqlite3.connect(store) as c:
        statuses = dict(c.execute("SELECT status, count(*) FROM runs GROUP BY 1").fetchall())
        ids = {r[0] for r in c.execute("SELECT run_id FROM runs")}
    summary = json.loads((tmp / "summary.json").read_text())
    errors: dict[str, int] = {}
    for f in summary["failures"]:
        errors[f["error"][:60]] = errors.get(f["error"][:60], 0) + 1
    print(json.dumps({
        "rows": opts.rows, "hold_s": opts.hold, "wall_s": round(wall, 1),
        "summary_passed_failed": [summary["passed"], summary["failed"]], "store": statuses,
        "errors": errors, "summary_matches_store": ids == {r for r in summary["run_ids"] if r},
    }))


if __name__ == "__main__":
    main()
