"""``runner worker --trace``: the runs a real worker (Celery on a Redis of the test's own)
executes are traced, and their spans reach a real OTLP receiver."""

from __future__ import annotations

from pathlib import Path

from helpers import cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.errors import EXIT_OK
from tests.distributed.servers import TINY, Broker, PrivateRedis, Worker, env_file
from tests.tracing.test_process import Receiver


def test_a_worker_with_trace_sends_the_spans_of_its_runs(tmp_path: Path) -> None:
    redis = PrivateRedis(tmp_path)  # without redis-server: skipped, or failed under CI=true
    receiver = Receiver()
    store = str(tmp_path / "runs.db")
    broker = Broker(redis.url, "runner-traces")
    with AutomatosSimulator(schedule_seconds=0.1, run_seconds=0.1) as sim:
        secrets = {"AUTOMATOS_KEY": sim.automatos_key}
        worker = Worker(broker, store, tmp_path / "worker.log",
                        {**secrets, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url},
                        "--trace")
        try:
            worker.wait_ready()
            proc = cli("run", str(TINY), "--env", str(env_file(tmp_path, sim)), "--broker",
                       broker.url, "--queue", broker.queue, "--store", store, "--wait",
                       env=secrets)
            assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
        finally:
            worker.stop()  # a warm shutdown: the spans still held are sent on the way out
            redis.stop()
    try:
        spans = [span for _, span in receiver.spans()]
        names = {span.name for span in spans}
        assert {"run Look up one machine", "step machine",
                "GET automatos.get_machine"} <= names, worker.output()[-2000:]
        raw = b"".join(receiver.bodies)
        for value in sim.secret_values():
            assert value.encode() not in raw
    finally:
        receiver.close()
