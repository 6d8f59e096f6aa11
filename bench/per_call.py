"""Scenario 1, per-call overhead: 1 login + 1,000 ``automatos.get_machine`` calls.

The engine runs ``bench/playbooks/per-call.yaml`` (a ``loop:`` over 1,000 hostnames, each call
with a JSONPath extraction and an assertion) through ``runner.api.run`` against the Automatos
simulator of a :class:`~runner.sandbox.Sandbox` started here. The baselines do the same calls
in plain Python on the same simulator, in the same process: one ``requests.Session``, one
``urllib3.PoolManager``, one ``http.client.HTTPConnection``; each parses the JSON answer, picks
the machine of department DEV and checks its id, as the playbook does.

Variants are interleaved round by round; times are medians, ratios the median of each round's
ratio. "runner" is a run as ``runner run`` makes it (the default
store, here a fresh file in a temp dir) and "runner (no store)" passes ``store=False``.
Targets: runner/requests <= 1.15, stretch runner/urllib3 <= 1.5.
"""

from __future__ import annotations

import http.client
import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench import PLAYBOOKS, Outcome, log, median, private_store, rounds

PLAYBOOK = PLAYBOOKS / "per-call.yaml"
CALLS = 1000
HOSTNAME, DEPARTMENT, MACHINE_ID = "NTB2", "DEV", "456DEF"


def _check(data: Any) -> str:
    """What the playbook's extraction and assertion do, in plain Python."""
    if not (isinstance(data, dict) and data.get("status") is not False):
        raise AssertionError(f"vendor error: {data!r}")
    found = [m["machineId"] for m in data["data"]["machines"] if m["department"] == DEPARTMENT]
    if len(found) != 1 or found[0] != MACHINE_ID:
        raise AssertionError(f"{HOSTNAME} resolved to {found}")
    return found[0]


def _login_body(settings: dict[str, Any]) -> bytes:
    return json.dumps({"automatosId": settings["automatos_id"],
                       "automatosKey": settings["automatos_key"]}).encode()


def with_requests(settings: dict[str, Any], n: int) -> None:
    import requests

    base = settings["base_url"]
    with requests.Session() as s:
        r = s.post(base + "/auth", data=_login_body(settings),
                   headers={"Content-Type": "application/json", "Accept": "application/json"})
        token = r.json()["data"]["token"]
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        for _ in range(n):
            r = s.get(base + "/machine", params={"hostname": HOSTNAME}, headers=headers,
                      timeout=(5, 30))
            if r.status_code != 200:
                raise AssertionError(r.status_code)
            _check(r.json())


def with_urllib3(settings: dict[str, Any], n: int) -> None:
    import urllib3

    base = settings["base_url"]
    pool = urllib3.PoolManager()
    try:
        r = pool.request("POST", base + "/auth", body=_login_body(settings),
                         headers={"Content-Type": "application/json"})
        token = json.loads(r.data)["data"]["token"]
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        timeout = urllib3.Timeout(connect=5, read=30)
        for _ in range(n):
            r = pool.request("GET", base + "/machine", fields={"hostname": HOSTNAME},
                             headers=headers, timeout=timeout)
            if r.status != 200:
                raise AssertionError(r.status)
            _check(json.loads(r.data))
    finally:
        pool.clear()


def with_http_client(settings: dict[str, Any], n: int) -> None:
    url = urlsplit(settings["base_url"])
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.request("POST", url.path + "/auth", body=_login_body(settings),
                     headers={"Content-Type": "application/json"})
        token = json.loads(conn.getresponse().read())["data"]["token"]
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        target = url.path + "/machine?" + urlencode({"hostname": HOSTNAME})
        for _ in range(n):
            conn.request("GET", target, headers=headers)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise AssertionError(r.status)
            _check(json.loads(body))
    finally:
        conn.close()


def with_runner(box: Any, n: int, **kw: Any) -> None:
    from runner import api

    result = api.run(PLAYBOOK, env="sandbox", inputs={"hostnames": [HOSTNAME] * n},
                     quiet=True, sandbox=box, **kw)
    if result.status != "passed":
        raise AssertionError(f"runner run failed: {result.error}")
    loop = next(s for s in result.steps if s.step_id == "lookup")
    ran = len(loop.iterations) + sum((loop.omitted or {}).values())  # 20 kept, the rest counted
    if ran != n:
        raise AssertionError(f"{ran} iterations, expected {n}")


def variants(box: Any, n: int) -> dict[str, Any]:
    settings = box.settings("automatos")
    out: dict[str, Any] = {}
    out["runner"] = lambda: with_runner(box, n)  # the default store, as `runner run` has
    out["runner (no store)"] = lambda: with_runner(box, n, store=False)
    out["requests"] = lambda: with_requests(settings, n)
    out["urllib3"] = lambda: with_urllib3(settings, n)
    out["http.client"] = lambda: with_http_client(settings, n)
    return out


def run(opts: Any) -> Outcome:
    from runner.sandbox import Sandbox

    out = Outcome("per_call", f"1 login + {CALLS:,} get_machine calls, each extract + assert")
    reps = opts.reps
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp, private_store(Path(tmp)), \
            Sandbox() as box:
        box.start(["automatos"])
        sim = box.simulators["automatos"]
        log(f"per_call: warm-up, then {reps} interleaved rounds of {CALLS} calls per variant")
        rounds(variants(box, 50), 1)  # imports, compiled templates, first connections
        before = sim.calls["get_machine"]
        times = rounds(variants(box, CALLS), reps)
        sent = sim.calls["get_machine"] - before
    expected = CALLS * reps * len(times)
    if sent != expected:
        raise AssertionError(f"the simulator saw {sent} get_machine calls, expected {expected}")

    med = {name: median(ts) for name, ts in times.items()}
    per_call_us = {name: m / CALLS * 1e6 for name, m in med.items()}
    for name in med:
        out.add(f"{name}: per call", per_call_us[name], "us")
    engines = ["runner", "runner (no store)"]
    def ratio(a: str, b: str) -> float:
        # the median of the ratios of each round: both sides of a pair ran back to back
        return median([x / y for x, y in zip(times[a], times[b], strict=True)])

    for engine in engines:
        label = "runner" if engine == "runner" else "runner no-store"
        out.add(f"{label} / requests", ratio(engine, "requests"), "x", target=("<=", 1.15))
        out.add(f"{label} / urllib3", ratio(engine, "urllib3"), "x", target=("<=", 1.5),
                stretch=True)
        out.add(f"{label} / http.client", ratio(engine, "http.client"), "x")
    for engine in engines:
        out.add(f"{engine} - requests: engine cost per call",
                per_call_us[engine] - per_call_us["requests"], "us")
    out.details = {
        "calls_per_repetition": CALLS, "repetitions": reps,
        "seconds": {k: [round(t, 4) for t in v] for k, v in times.items()},
        "median_seconds": {k: round(v, 4) for k, v in med.items()},
        "per_call_us": {k: round(v, 1) for k, v in per_call_us.items()},
        "ratio_of_medians": {f"{e} / {b}": round(med[e] / med[b], 3) for e in engines
                             for b in ("requests", "urllib3", "http.client")},
        "note": "'runner' uses the default run store (a fresh file in a temp dir); "
                "'runner (no store)' passes store=False",
    }
    return out
