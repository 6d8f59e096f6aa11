"""Scenario ``limits``: what a connector's ``limits:`` costs per call when it does not throttle.

In-process, same run: one ``ConnectorClient`` of the generic ``http`` connector sends N calls
through its whole ``send`` path (retry loop, auth flow, hooks, vendor-error check, the gate)
to a stub transport that answers at once, so the figure is the client's own time and the
limits' share of it is not drowned in loopback's ~450 us. Variants, interleaved round by round:
no limits (the gate still checks for a Retry-After pause), limits that never throttle (a rate
and a burst far above what is sent, ``concurrent``, a breaker), the same with a ``per:`` key
template. The cost is the median over rounds of (variant - no limits) / N.
Target (issue 18): limits cost < 20 us per call when not throttling.

Whole process: ``runner run bench/playbooks/process-calls.yaml`` (a login and N GETs on
bench/aioserver.py) with an environment without limits and one with limits that never throttle,
interleaved; the difference of the medians per call is reported (no target: the shared
machine's noise between processes is larger than the figure).
"""

from __future__ import annotations

import time
from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log, median
from bench.processes import child_env, interleaved, run_child, runner_cmd, workplace

CALLS = 20000
NOT_THROTTLING = {"rate": 1e9, "burst": 1000000000, "concurrent": 100000,
                  "breaker": {"failures": 5, "cooldown": 30}}
PLAYBOOK = str((PLAYBOOKS / "process-calls.yaml").relative_to(ROOT))


class Stub:
    """A transport that answers every call at once with the same small JSON answer."""

    follow_redirects = True

    def send(self, call: Any) -> Any:
        from runner.connectors.response import Response

        return Response(200, {"content-type": "application/json"}, b'{"ok": true}',
                        url=call.url, method=call.method)

    def follows(self, call: Any) -> bool:
        return True

    def close(self) -> None:
        pass


def _client(limits: dict[str, Any] | None, base: str) -> Any:
    from runner.connectors import registry
    from runner.connectors.client import ConnectorClient
    from runner.secrets import Redactor

    return ConnectorClient("api", registry.get("http"), {"base_url": base}, Redactor(),
                           transport=Stub(), limits=limits)  # type: ignore[arg-type]


def _sends(client: Any, n: int) -> None:
    for i in range(n):
        client.send(client.prepare_raw("GET", f"/items/{i % 10}"))


def in_process(out: Outcome, reps: int, n: int) -> dict[str, Any]:
    variants = {
        "no limits": _client(None, "http://127.0.0.1:1"),
        "limits": _client(NOT_THROTTLING, "http://127.0.0.1:2"),
        "limits + per": _client({**NOT_THROTTLING, "per": "{{ method }}"}, "http://127.0.0.1:3"),
    }
    for c in variants.values():
        _sends(c, 200)  # warm-up: templates compiled, gates made
    seconds: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(reps):
        for name, c in variants.items():
            start = time.perf_counter()
            _sends(c, n)
            seconds[name].append(time.perf_counter() - start)
    per_call = {k: median(v) / n * 1e6 for k, v in seconds.items()}
    for name in variants:
        out.add(f"client.send, {name}", per_call[name], "us")
    cost = {}
    for name in ("limits", "limits + per"):
        cost[name] = median([(x - y) / n * 1e6 for x, y in zip(
            seconds[name], seconds["no limits"], strict=True)])
        out.add(f"{name}: cost per call (same run)", cost[name], "us", target=("<=", 20.0))
    gate = variants["limits"].gate
    start = time.perf_counter()
    for _ in range(n):
        token, _waited = gate.enter("", time.sleep)
        gate.leave("", token, True)
    out.add("gate.enter + leave alone", (time.perf_counter() - start) / n * 1e6, "us")
    bare = variants["no limits"].gate  # every connector's: only the Retry-After pause
    start = time.perf_counter()
    for _ in range(n):
        token, _waited = bare.enter("", time.sleep)
        bare.leave("", token, True)
    out.add("gate.enter + leave, no limits (every connector)",
            (time.perf_counter() - start) / n * 1e6, "us")
    return {"calls": n, "rounds": reps, "per_call_us": {k: round(v, 2) for k, v in
                                                        per_call.items()},
            "cost_us": {k: round(v, 2) for k, v in cost.items()}}


def whole_process(out: Outcome, reps: int, n: int) -> dict[str, Any]:
    with workplace() as (server, tmp):
        env = child_env(tmp)
        plain = (tmp / "env.yaml").read_text()
        limited = plain.replace("password: {secret: BENCH_PASSWORD}}",
                                "password: {secret: BENCH_PASSWORD},\n"
                                "        limits: {rate: 1000000000, burst: 1000000000, "
                                "concurrent: 100000, breaker: {failures: 5}}}")
        assert limited != plain
        (tmp / "limited.yaml").write_text(limited)
        variants = {name: (lambda f=f: run_child(runner_cmd(
            "run", PLAYBOOK, "--env", str(tmp / f), "-q", "-i", f"n={n}"), env))
            for name, f in (("no limits", "env.yaml"), ("limits", "limited.yaml"))}
        for fn in variants.values():
            fn()  # warm-up
        before = server.stats()["items"]
        runs = interleaved(variants, reps)
        sent = server.stats()["items"] - before
    if sent != reps * len(variants) * n:
        raise AssertionError(f"the server answered {sent} item reads, expected "
                             f"{reps * len(variants) * n}")
    walls = {k: [c.wall for c in v] for k, v in runs.items()}
    for k, v in walls.items():
        out.add(f"runner run, {n:,} calls, {k}", median(v), "s")
    diff = median([(x - y) / n * 1e6 for x, y in zip(walls["limits"], walls["no limits"],
                                                      strict=True)])
    out.add("limits: cost per call (whole process, noisy)", diff, "us")
    return {"process_calls": n, "process_rounds": reps,
            "process_seconds": {k: [round(t, 3) for t in v] for k, v in walls.items()}}


def run(opts: Any) -> Outcome:
    out = Outcome("limits", "connector limits that do not throttle: cost per call")
    n = 2000 if opts.quick else CALLS
    log(f"limits: {opts.reps} interleaved rounds of {n:,} sends per variant, in-process")
    out.details.update(in_process(out, opts.reps, n))
    m = 200 if opts.quick else 1000
    log(f"limits: {opts.reps} interleaved rounds of runner run with {m:,} calls, each a process")
    out.details.update(whole_process(out, opts.reps, m))
    return out
