"""Scenario 4, polling cost: 100 runs at once, each waiting 30 s for its job.

``bench/playbooks/poll-30s.yaml`` creates a distribution that takes 30 s in the simulator
(schedule 10 s + run 20 s) and polls it every 5 s; :func:`runner.batch.run_batch` runs 100 of
them at once (one thread each) against one sandbox in this process. A sampler reads the
process's CPU time (``time.process_time``: every thread, the simulator's included) every
0.5 s, so besides the average we get the CPU share of the windows between two rounds of
polls, which is what waiting itself costs.

The same 100 waits are then done by a plain baseline (one thread and one ``requests.Session``
per job, ``time.sleep`` between polls) on the same simulator, so the average is comparable.

Target: waiting uses almost no CPU: the windows between poll rounds <= 1 % of one core; the
average over the whole wait is reported beside the baseline's.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import PLAYBOOKS, Outcome, log, median, private_store

PLAYBOOK = PLAYBOOKS / "poll-30s.yaml"
RUNS = 100
JOB = {"schedule_seconds": 10.0, "run_seconds": 20.0}  # 30 s per job
WINDOW = 0.5


def baseline(settings: dict[str, Any], machine_ids: list[str]) -> None:
    """The same job, created and polled every 5 s, with requests in one thread per job."""
    import requests

    base = settings["base_url"]
    failures: list[str] = []

    def one(machine: str) -> None:
        with requests.Session() as s:
            s.headers["Accept"] = "application/json"
            token = s.post(base + "/auth", json={"automatosId": settings["automatos_id"],
                                                 "automatosKey": settings["automatos_key"]},
                           timeout=30).json()["data"]["token"]
            s.headers["Authorization"] = f"Bearer {token}"
            job = s.post(base + "/express/distribution",
                         json={"machineId": machine, "package": "7zip.exe"},
                         timeout=30).json()["data"]["jobName"]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                data = s.get(base + "/express/distribution", params={"jobName": job},
                             timeout=30).json()
                if data.get("data", {}).get("delivered") == "Y":
                    if data["data"].get("error") != "":
                        failures.append(machine)
                    return
                time.sleep(5)
            failures.append(machine)

    threads = [threading.Thread(target=one, args=(m,)) for m in machine_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise AssertionError(f"baseline: {len(failures)} jobs did not finish")


class CpuSampler:
    """Process CPU seconds per wall-clock window, sampled in a thread of its own."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self.shares: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        while not self._stop.wait(self.window):
            c, w = time.process_time(), time.perf_counter()
            self.shares.append((c - cpu) / (w - wall))
            cpu, wall = c, w

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(opts: Any) -> Outcome:
    from runner.batch import run_batch
    from runner.sandbox import Sandbox

    n = 20 if opts.quick else RUNS
    out = Outcome("polling", f"{n} concurrent polls, each waiting 30 s (every 5 s)")
    ms = [{"machineId": f"P{i:04d}", "hostname": f"POLL{i:04d}", "department": "DEV"}
          for i in range(n)]
    rows = [{"machine": m["machineId"]} for m in ms]
    box = Sandbox({"automatos": {"machines": ms, **JOB}})
    log(f"polling: {n} runs of a 30 s job, every 5 s (about 35 s)")
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp, private_store(Path(tmp)):
        box.start(["automatos"])
        try:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            with CpuSampler() as sampler:
                summary = run_batch(PLAYBOOK, env="sandbox", rows=rows, concurrency=n,
                                    sandbox=box)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            sim = box.simulators["automatos"]
            polls = sim.calls["distribution_status"]
            requests = sum(sim.calls.values())
            log(f"polling: the same {n} waits with requests threads (about 32 s)")
            bcpu0, bwall0 = time.process_time(), time.perf_counter()
            with CpuSampler() as base_sampler:
                baseline(box.settings("automatos"), [m["machineId"] for m in ms])
            bcpu, bwall = time.process_time() - bcpu0, time.perf_counter() - bwall0
            base_requests = sum(sim.calls.values()) - requests
        finally:
            box.stop()
    shares = sampler.shares
    idle = sorted(shares)[: max(1, len(shares) // 2)]  # the quieter half: between poll rounds
    out.add("runs passed", summary.passed, "runs", target=(">=", n))
    out.add("wall time", wall, "s")
    out.add("CPU time (process, all threads)", cpu, "s")
    out.add("CPU / wall (share of one core)", cpu / wall * 100, "%")
    out.add("CPU share between poll rounds (median window)", median(idle) * 100, "%",
            target=("<=", 1.0))
    out.add("CPU per request (engine + simulator)", cpu / requests * 1000, "ms",
            note=f"{requests} requests, {polls} of them polls")
    out.add("poll requests", polls, "")
    base_idle = sorted(base_sampler.shares)[: max(1, len(base_sampler.shares) // 2)]
    out.add("baseline (requests threads): CPU / wall", bcpu / bwall * 100, "%")
    out.add("baseline: CPU share between poll rounds", median(base_idle) * 100, "%")
    out.add("baseline: CPU per request", bcpu / base_requests * 1000, "ms")
    out.add("runner CPU / baseline CPU", cpu / bcpu, "x")
    out.details = {
        "runs": n, "job_seconds": sum(JOB.values()), "every_seconds": 5,
        "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 3),
        "baseline": {"wall_seconds": round(bwall, 2), "cpu_seconds": round(bcpu, 3),
                     "requests": base_requests,
                     "cpu_share_windows": [round(s, 4) for s in base_sampler.shares]},
        "simulator_requests": dict(sim.calls),
        "cpu_share_windows": [round(s, 4) for s in shares], "window_seconds": WINDOW,
        "summary": {k: v for k, v in summary.to_dict().items() if k != "run_ids"},
    }
    return out
