"""The acceptance test of connector limits across processes: two real ``runner run`` processes
(as two workers would), each a loop of concurrent calls, share one rate of 5 requests per second
through the real Redis (the environment's ``limits: {redis: URL}``), measured at the server as
requests arrive. Without the shared bucket each process would send at 5 per second on its own
(10 together). Two real workers share them the same way through their broker
(``gates.share_through``)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from helpers import RUNNER
from limits_server import Recorder
from wsgi_servers import serving

from runner import api
from runner.connectors import gates
from runner.connectors.gates_redis import RedisBackend
from runner.connectors.limits import Limits
from runner.submit import Submitter
from tests.distributed.servers import Broker, start_workers

RATE = 5.0
WINDOW = 20.0  # seconds measured
CALLS = 60  # per process: 120 in all, 24 s at 5 per second, so the window is full

PLAYBOOK = f"""\
name: hammer
connectors:
  api: {{use: http}}
steps:
  - id: hit
    loop: "{{{{ range({CALLS}) | list }}}}"
    concurrency: 4
    call: api
    method: GET
    path: "/hit/{{{{ inputs.who }}}}"
inputs:
  who: {{type: string, required: true}}
"""


def test_a_rate_holds_within_10_percent_over_20_s_across_two_processes(
        tmp_path: Path, broker: Broker) -> None:
    rec = Recorder()
    with serving(rec, threads=16) as url:
        (tmp_path / "hammer.yaml").write_text(PLAYBOOK)
        (tmp_path / "env.yaml").write_text(f"""\
limits: {{redis: {{env: LIMITS_REDIS}}}}
connectors:
  api:
    base_url: {url}
    limits: {{rate: {RATE:g}}}
""")
        env = {**os.environ, "LIMITS_REDIS": broker.url}
        procs = [subprocess.Popen(
            [str(RUNNER), "run", "hammer.yaml", "--env", "env.yaml", "-q", "-i", f"who={who}",
             "--store", str(tmp_path / f"{who}.db")],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for who in ("a", "b")]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
    arrivals = sorted(rec.arrivals)
    assert len(arrivals) == 2 * CALLS
    start = arrivals[0][0]
    in_window = [path for t, path in arrivals if t < start + WINDOW]
    rate = len(in_window) / WINDOW
    print(f"measured at the server: {rate:.2f} requests per second over {WINDOW:g} s")
    assert abs(rate - RATE) <= 0.1 * RATE, f"{rate:.2f} requests per second at the server"
    # both processes sent all along: one bucket, taken in turn
    assert {"/hit/a", "/hit/b"} <= set(in_window[len(in_window) // 2:])


def test_a_workers_broker_shares_its_limits(broker: Broker) -> None:
    before = gates.shared_redis
    try:
        gates.share_through(broker.url)
        gate = gates.gate_for("shared", "http://127.0.0.1:9", Limits(rate=1000.0))
        assert isinstance(gate.backend, RedisBackend)
        pause_only = gates.gate_for("shared", "http://127.0.0.1:9", None)
        assert not isinstance(pause_only.backend, RedisBackend)  # no round trip for a pause
        gates.share_through("amqp://elsewhere")  # not a Redis: the limits stay here
        assert gates.shared_redis is None
    finally:
        gates.shared_redis = before


def test_a_pause_in_redis_holds_another_process(broker: Broker) -> None:
    ident = f"paused|{time.time()}"
    one, two = RedisBackend(broker.url, ident), RedisBackend(broker.url, ident)
    assert one.reserve("", 0.5, 0.0) == (0.0, True)
    one.pause(2.0, 0.0)
    wait, reserved = two.reserve("", 0.5, 0.0)
    assert not reserved and 0 < wait <= 2.0
    token = two.take_slot("", 1)
    assert token is not None and one.take_slot("", 1) is None
    two.give_slot("", token)
    assert one.take_slot("", 1) is not None


def test_two_workers_share_a_limit_through_their_broker(
        tmp_path: Path, broker: Broker, pg_url: str) -> None:
    """Two real ``runner worker`` processes, no Redis named in the environment: the broker's
    is the limits' too. Four runs of ten calls each at 5 per second, at the server: never
    faster than the rate (each worker alone would send at 5 per second, 10 together)."""
    rec = Recorder()
    with serving(rec, threads=16) as url:
        playbook = tmp_path / "hammer.yaml"
        playbook.write_text(PLAYBOOK.replace(f"range({CALLS})", "range(10)"))
        env = tmp_path / "env.yaml"
        env.write_text(f"connectors:\n  api:\n    base_url: {url}\n    limits: {{rate: 5}}\n")
        workers = start_workers(2, broker, pg_url, tmp_path, {}, "--concurrency", "2")
        try:
            with Submitter(broker.url, pg_url, queue=broker.queue) as s:
                run_ids = [s.submit(playbook, str(env), {"who": str(i)}) for i in range(4)]
                statuses = s.wait(run_ids, timeout=90)
        finally:
            for w in workers:
                w.stop()
    assert set(statuses.values()) == {"passed"}, statuses
    times = rec.times()
    assert len(times) == 40
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= RATE * 1.1, f"{rate:.2f} requests per second at the server"
    history = api.history(store=pg_url, limit=100)
    owners = {str(r["owner"]).split(":")[1] for r in history if r["run_id"] in run_ids}
    assert owners == {str(w.pid) for w in workers}  # both sent, one bucket
