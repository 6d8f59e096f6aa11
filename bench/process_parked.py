"""Scenario ``process_parked``: thousands of distribution runs at once, each waiting on a 30 s
job, as a user types it (issue 17).

Two processes: ``runner sandbox -c automatos --set automatos.fleet_size=N --set
automatos.schedule_seconds=10 --set automatos.run_seconds=20 --write-env env.yaml`` (the
simulator, a 30 s job per create), and ``runner run playbooks/automatos/distribute-package.yaml
--inputs-from rows.jsonl --concurrency N --env env.yaml -q`` (every row at once; the
playbook's own poll settings: every 0.5 s, x1.5, so a run reads its job's status ~10 times and
sees it done at ~37 s), with 1, 1,000, 5,000 and 10,000 rows (``--quick``: 1, 100, 300). Of the
batch process: wall, CPU (user + sys, ``os.wait4``), peak RSS (GNU time), its summary (every
row must pass); of the sandbox process: CPU over the batch (``/proc/PID/stat``).
CPU per run at N = (CPU(N) - CPU(1 row)) / (N - 1).

Then the parked cost: ``bench/playbooks/park-long.yaml`` (a login, then ``sleep: 10m``) with
10,000 rows (``--quick``: 300); once every run is parked (the store's journal has a ``parked``
entry for each), the batch process's CPU over ``IDLE_WINDOW`` seconds, as % of one core; then
SIGTERM, which must stop every parked run at once (``interrupted``).

One round (``--reps`` is not used): a 10,000-row batch takes minutes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log
from bench.processes import Child, child_env, run_child, runner_cmd

DISTRIBUTE = "playbooks/automatos/distribute-package.yaml"
PARK_LONG = str((PLAYBOOKS / "park-long.yaml").relative_to(ROOT))
IDLE_WINDOW = 20.0  # seconds the parked batch's CPU is sampled over
_SUMMARY = re.compile(r"(\d+) passed, (\d+) failed")


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class Sandbox:
    """``runner sandbox`` as a process of its own, with its environment file written."""

    def __init__(self, tmp: Path, fleet: int, env: dict[str, str]) -> None:
        self.env_file = tmp / "env.yaml"
        self.proc = subprocess.Popen(
            runner_cmd("sandbox", "-c", "automatos", "--set", f"automatos.fleet_size={fleet}",
                       "--set", "automatos.schedule_seconds=10",
                       "--set", "automatos.run_seconds=20", "--write-env", str(self.env_file)),
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip() == "ready":
                break
        else:
            raise RuntimeError("runner sandbox did not start")

    def cpu(self) -> float:
        return _cpu_ticks(self.proc.pid) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _rows(tmp: Path, n: int) -> Path:
    path = tmp / f"rows-{n}.jsonl"
    path.write_text("".join(json.dumps({"hostname": f"FLEET{i:05d}"}) + "\n"
                            for i in range(1, n + 1)))
    return path


def _batch(sandbox: Sandbox, tmp: Path, n: int) -> tuple[Child, float]:
    env = child_env(tmp, store=tmp / f"runs-{n}.db")
    before = sandbox.cpu()
    child = run_child(runner_cmd("run", DISTRIBUTE, "--env", str(sandbox.env_file), "-q",
                                 "--inputs-from", str(_rows(tmp, n)), "--concurrency", str(n)),
                      env, memory=True)
    m = _SUMMARY.search(child.output)
    if not m or (int(m[1]), int(m[2])) != (n, 0):
        raise AssertionError(f"{n} rows: the batch said {m[0] if m else child.output[-800:]!r}")
    return child, sandbox.cpu() - before


def _parked_cost(sandbox: Sandbox, tmp: Path, n: int) -> dict[str, Any]:
    """CPU of a batch whose ``n`` runs all wait in a 10-minute sleep, as % of one core."""
    store = tmp / "parked.db"
    env = child_env(tmp, store=store)
    proc = subprocess.Popen(
        runner_cmd("run", PARK_LONG, "--env", str(sandbox.env_file), "-q", "--inputs-from",
                   str(_rows(tmp, n)), "--concurrency", str(n)),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    try:
        while True:
            time.sleep(1)
            if proc.poll() is not None:
                raise AssertionError(f"the parked batch ended: {proc.stdout.read()[-800:]}")
            try:
                with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30) as c:
                    parked = c.execute("SELECT COUNT(*) FROM journal WHERE event = 'parked'"
                                       ).fetchone()[0]
            except sqlite3.OperationalError:
                parked = 0
            if parked >= n:
                break
            if time.monotonic() - started > 600:
                raise AssertionError(f"only {parked} of {n} runs parked after 10 min")
        all_parked = time.monotonic() - started
        threads = len(os.listdir(f"/proc/{proc.pid}/task"))
        rss = 0.0
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
        time.sleep(2)  # the last parks' journal writes settle
        t0, c0 = time.monotonic(), _cpu_ticks(proc.pid)
        time.sleep(IDLE_WINDOW)
        t1, c1 = time.monotonic(), _cpu_ticks(proc.pid)
        stop = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=300)
        stopped = time.monotonic() - stop
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with sqlite3.connect(str(store)) as c:
        statuses = dict(c.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))
    if statuses != {"interrupted": n}:
        raise AssertionError(f"after SIGTERM the store says {statuses}: {out[-500:]}")
    core = (c1 - c0) / os.sysconf("SC_CLK_TCK") / (t1 - t0) * 100
    return {"core_pct": core, "threads": threads, "rss_mb": rss, "all_parked_s": all_parked,
            "sigterm_to_exit_s": stopped}


def run(opts: Any) -> Outcome:
    sizes = (100, 300) if opts.quick else (1000, 5000, 10000)
    idle_n = 300 if opts.quick else 10000
    out = Outcome("process_parked", f"runner run distribute-package --inputs-from, "
                                    f"{'/'.join(map(str, sizes))} rows at once, 30 s jobs; "
                                    f"{idle_n:,} runs parked")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-parked-") as name:
        tmp = Path(name)
        (tmp / "home").mkdir()
        sandbox = Sandbox(tmp, max(*sizes, idle_n), child_env(tmp))
        try:
            log("process_parked: 1-row batch (the fixed cost)")
            one, _ = _batch(sandbox, tmp, 1)
            runs: dict[int, tuple[Child, float]] = {}
            for n in sizes:
                log(f"process_parked: {n:,} rows at --concurrency {n}")
                runs[n] = _batch(sandbox, tmp, n)
                log(f"  wall {runs[n][0].wall:.1f} s, CPU {runs[n][0].cpu:.1f} s, "
                    f"peak RSS {runs[n][0].rss_mb:.0f} MB, sandbox CPU {runs[n][1]:.1f} s")
            log(f"process_parked: {idle_n:,} runs parked in sleep: 10m")
            idle = _parked_cost(sandbox, tmp, idle_n)
        finally:
            sandbox.stop()
    per_run = {n: (c.cpu - one.cpu) / (n - 1) * 1e3 for n, (c, _) in runs.items()}
    targets = {5000: 60.0, 10000: 120.0}
    for n, (child, sb_cpu) in runs.items():
        out.add(f"{n:,} rows: wall", child.wall, "s",
                target=("<=", targets[n]) if n in targets else None)
        out.add(f"{n:,} rows: peak RSS", child.rss_mb, "MB",
                target=("<=", 300.0) if n == 5000 else None)
        out.add(f"{n:,} rows: runner CPU per run", per_run[n], "ms")
        out.add(f"{n:,} rows: sandbox CPU per run", sb_cpu / n * 1e3, "ms")
    first, last = sizes[0], sizes[-1]
    out.add(f"runner CPU per run, {last:,} / {first:,} rows", per_run[last] / per_run[first],
            "x", target=("<=", 1.2))
    out.add(f"{idle_n:,} runs parked: CPU", idle["core_pct"], "% of a core",
            target=("<=", 2.0))
    out.add(f"{idle_n:,} runs parked: threads", idle["threads"], "")
    out.add(f"{idle_n:,} runs parked: RSS", idle["rss_mb"], "MB")
    out.add(f"{idle_n:,} runs parked: SIGTERM to exit (all interrupted)",
            idle["sigterm_to_exit_s"], "s")
    out.details = {
        "command": f"runner run {DISTRIBUTE} --inputs-from rows-N.jsonl --concurrency N "
                   "--env env.yaml -q (runner sandbox in another process, 30 s jobs)",
        "one_row": {"wall": round(one.wall, 2), "cpu": round(one.cpu, 3)},
        "runs": {n: {"wall": round(c.wall, 2), "cpu": round(c.cpu, 2),
                     "peak_rss_mb": round(c.rss_mb, 1), "sandbox_cpu": round(s, 2),
                     "summary": (_SUMMARY.search(c.output) or [""])[0]}
                 for n, (c, s) in runs.items()},
        "parked": {k: round(v, 3) for k, v in idle.items()},
        "loadavg_after": os.getloadavg(),
    }
    return out
