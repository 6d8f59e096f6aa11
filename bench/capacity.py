"""Simulator capacity with ``wrk``: can the simulator keep up with the benchmarks?

The Automatos simulator is started in this process (as the benchmarks start it) on a free port
of 127.0.0.1 and ``wrk`` (an external process) sends authenticated ``GET /machine`` requests
over keep-alive connections: one connection (the latency floor of one call) and 16 (the
throughput). The simulator must answer far faster than the engine calls it: the per-call
scenario needs about 1,000 requests/s from one connection.

Commands (the token is made for the run)::

    wrk -t1 -c1 -d5s --latency -H 'Authorization: Bearer <token>' <url>/machine?hostname=NTB2
    wrk -t2 -c16 -d5s --latency -H 'Authorization: Bearer <token>' <url>/machine?hostname=NTB2
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import time
from typing import Any

from bench import Outcome, log

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return float(m[1]) * _UNITS[m[2]] if m else float("nan")


def parse_wrk(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["requests_per_s"] = float(m[1]) if m else float("nan")
    m = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    if m:
        out["latency_avg_ms"], out["latency_stdev_ms"], out["latency_max_ms"] = (
            _ms(m[1]), _ms(m[2]), _ms(m[3]))
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        out[f"p{pct}_ms"] = _ms(m[1]) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non_2xx"] = int(m[1]) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    out["socket_errors"] = m[1].strip() if m else ""
    return out


def run(opts: Any) -> Outcome:
    import requests

    from runner.sandbox import Sandbox

    out = Outcome("capacity", "Automatos simulator capacity (wrk, GET /machine, keep-alive)")
    wrk = shutil.which("wrk")
    if wrk is None:
        out.add("wrk not installed (apt-get install -y wrk)", float("nan"))
        return out
    seconds = 3 if opts.quick else 5
    runs: dict[str, Any] = {}
    with Sandbox() as box:
        box.start(["automatos"])
        st = box.settings("automatos")
        token = requests.post(st["base_url"] + "/auth",
                              json={"automatosId": st["automatos_id"],
                                    "automatosKey": st["automatos_key"]},
                              timeout=10).json()["data"]["token"]
        url = st["base_url"] + "/machine?hostname=NTB2"
        for threads, conns in ((1, 1), (2, 16)):
            cmd = [wrk, f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency",
                   "-H", f"Authorization: Bearer {token}", url]
            log(f"capacity: wrk -t{threads} -c{conns} -d{seconds}s")
            # wrk resets its connections when it stops; the simulator's server prints a
            # traceback for each: keep them out of the report unless they are something else
            noise = io.StringIO()
            with contextlib.redirect_stderr(noise):
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
                time.sleep(0.2)
            other = [line for line in noise.getvalue().splitlines()
                     if "Error" in line and "ConnectionResetError" not in line
                     and "BrokenPipeError" not in line]
            if other:
                log("capacity: the simulator reported:\n" + "\n".join(other))
            shown = " ".join(cmd).replace(token, "<token>").replace(st["base_url"], "<url>")
            runs[f"c{conns}"] = {"command": shown, **parse_wrk(proc.stdout),
                                 "server_resets_at_end": noise.getvalue().count(
                                     "ConnectionResetError:"),
                                 "output": proc.stdout.replace(token, "<token>")}
    for key, r in runs.items():
        conns = key[1:]
        out.add(f"{conns} connection(s): requests/s", r["requests_per_s"], "req/s",
                target=(">=", 1000.0) if conns == "1" else None)
        out.add(f"{conns} connection(s): latency p50", r["p50_ms"], "ms")
        out.add(f"{conns} connection(s): latency p99", r["p99_ms"], "ms")
        if r["non_2xx"] or r["socket_errors"]:
            out.add(f"{conns} connection(s): non-2xx answers", r["non_2xx"], "",
                    note=r["socket_errors"])
    out.details = {"duration_seconds": seconds, "runs": runs}
    return out
