"""Traces through the whole command: ``runner run --trace`` exports by OTLP/HTTP to a real
receiver started here (decoded with the protocol's own messages), and with traces off a run
imports no OpenTelemetry module at all."""

from __future__ import annotations

import gzip
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, RUNNER, automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.errors import EXIT_INVALID, EXIT_NOT_INSTALLED, EXIT_OK
from runner.store import Store

PLAYBOOK = ROOT / "playbooks" / "automatos" / "distribute-package.yaml"
ONE_CALL = ROOT / "tests" / "playbooks" / "automatos" / "short-timeouts.yaml"


class Receiver:
    """An OTLP/HTTP trace receiver: POST /v1/traces, the body kept as it came; ``answers``:
    the statuses of the first POSTs (a 503 is a busy collector), 200 after them."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.answers: list[int] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if receiver.answers:
                    receiver.refused += 1
                    self.send_response(receiver.answers.pop(0))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver.paths.append(self.path)
                receiver.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) for every span received."""
        # the dev extra has opentelemetry-proto: without it the test fails (it does not skip)
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        out = []
        for body in self.bodies:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for rs in request.resource_spans:
                resource = {a.key: a.value.string_value for a in rs.resource.attributes}
                for ss in rs.scope_spans:
                    out.extend((resource, span) for span in ss.spans)
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.1, run_seconds=0.1) as s:
        yield s


def test_run_trace_sends_the_spans_to_the_otlp_endpoint(tmp_path: Path, receiver: Receiver,
                                                        sim: AutomatosSimulator) -> None:
    env = automatos_env(tmp_path, sim)
    proc = cli("run", str(PLAYBOOK), "--env", str(env), "-i", "hostname=NTB1", "--trace", "-q",
               env={"AUTOMATOS_KEY": sim.automatos_key,
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url,
                    "OTEL_SERVICE_NAME": "deploys", "OTEL_RESOURCE_ATTRIBUTES": "team=ops"})
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert receiver.paths and set(receiver.paths) == {"/v1/traces"}
    got = receiver.spans()
    names = [span.name for _, span in got]
    assert "run Distribute a package to a machine" in names
    assert {"step machine", "step job", "step wait"} <= set(names)
    assert "POST automatos.create_distribution" in names
    resource = got[0][0]
    assert resource["service.name"] == "deploys" and resource["team"] == "ops"
    assert len({span.trace_id for _, span in got}) == 1
    run = next(span for _, span in got if span.name.startswith("run "))
    assert run.parent_span_id == b""
    attributes = {a.key: a.value.string_value for a in run.attributes}
    assert attributes["runner.run.status"] == "passed"
    # the key, the token it bought: in no byte sent to the collector
    raw = b"".join(receiver.bodies)
    for value in sim.secret_values():
        assert value.encode() not in raw


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_collector_is_one_line_and_changes_nothing_else(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1/traces"
    db = tmp_path / "runs.db"
    proc = cli("run", str(ONE_CALL), "--trace", "-q", "--store", str(db),
               env={**_environ(), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": url}, timeout=120)
    assert proc.returncode == EXIT_OK, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr  # not the SDK's warning per try
    assert lines[0].startswith("warning: the traces could not be sent to " + url), lines
    assert "Connection refused" in lines[0]
    assert "Traceback" not in proc.stderr
    store = Store(str(db))
    assert [r["status"] for r in store.find_runs(limit=5)] == ["passed"]
    store.close()


def test_a_collector_that_refuses_the_spans_is_named_with_its_answer(
        tmp_path: Path, receiver: Receiver) -> None:
    receiver.answers = [400]  # not worth a retry
    proc = cli("run", str(ONE_CALL), "--trace", "-q", "--store", str(tmp_path / "runs.db"),
               env={**_environ(), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url})
    assert proc.returncode == EXIT_OK, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and receiver.url in lines[0], proc.stderr
    assert "answered 400" in lines[0]


@pytest.mark.parametrize("variable", ["OTEL_EXPORTER_OTLP_TIMEOUT",
                                      "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"])
def test_a_timeout_the_user_set_is_waited_for(tmp_path: Path, receiver: Receiver,
                                               variable: str) -> None:
    # a busy collector: two 503s, then it takes them. The SDK retries after ~1 s and ~2 s
    # more; the user's 30 s lets it, where runner alone gives up a second after the run
    receiver.answers = [503, 503]
    proc = cli("run", str(ONE_CALL), "--trace", "-q", "--store", str(tmp_path / "runs.db"),
               env={**_environ(), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url,
                    variable: "30"}, timeout=120)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert receiver.refused == 2 and receiver.spans(), proc.stderr
    assert "could not be sent" not in proc.stderr


def test_a_spell_of_failed_exports_is_said_once(receiver: Receiver,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # a worker's spans go every few seconds: a collector down for an hour is one line, and
    # one more if it goes down again after it took some (in this process: each flush sends)
    from runner import tracing

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "5")
    tracing.start("otlp")
    try:
        for answers in ([400], [400], [], [400], []):
            receiver.answers = list(answers)
            tracing._tracer.start_span("one").end()
            tracing._provider.force_flush()
    finally:
        tracing.stop()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"warning: the traces could not be sent to {receiver.url}: the collector "
                     "answered 400 Bad Request; the spans are dropped (the run is not changed)"
                     ] * 2
    assert receiver.refused == 3 and len(receiver.spans()) == 2


def test_run_trace_without_the_extra_says_which_to_install(tmp_path: Path) -> None:
    # an `opentelemetry` package that cannot be imported stands for one not installed
    blocked = tmp_path / "blocked" / "opentelemetry"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('not installed')\n")
    proc = cli("run", str(ONE_CALL), "--trace", "-q", env={"PYTHONPATH": str(blocked.parent)})
    assert proc.returncode == EXIT_NOT_INSTALLED, proc.stderr
    assert "traces extra" in proc.stderr and "pip install 'runner[traces]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_trace_with_broker_is_refused_the_workers_trace() -> None:
    proc = cli("run", str(ONE_CALL), "--trace", "--broker", "redis://127.0.0.1:9/0")
    assert proc.returncode == EXIT_INVALID
    assert "--trace does not go with --broker" in proc.stderr
    assert "runner worker --trace" in proc.stderr


def test_a_bad_runner_traces_value_is_refused() -> None:
    proc = cli("run", str(ONE_CALL), "-q", env={"RUNNER_TRACES": "jaeger"})
    assert proc.returncode == EXIT_INVALID
    assert "RUNNER_TRACES='jaeger'" in proc.stderr


def test_runner_scheduler_trace_sends_the_spans_of_its_runs(tmp_path: Path,
                                                            receiver: Receiver) -> None:
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(f"""\
schedules:
  - name: tick
    playbook: {ROOT / "tests" / "distributed" / "get_machine.yaml"}
    cron: "* * * * * *"
    inputs: {{hostname: NTB2}}
""")
    db = tmp_path / "runs.db"
    proc = subprocess.Popen([str(RUNNER), "scheduler", str(schedules), "--store", str(db),
                             "--trace"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**_environ(), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url})
    try:
        store = Store(str(db))
        deadline = time.monotonic() + 60  # a wait for the first run, not a measurement
        while not any(r["status"] == "passed" for r in store.find_runs(limit=10)):
            assert time.monotonic() < deadline and proc.poll() is None, "no run passed"
            time.sleep(0.2)
        store.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    runs = [span for _, span in receiver.spans() if span.name.startswith("run ")]
    assert runs  # sent on the way out, after the runs in progress
    assert all(span.parent_span_id == b"" for span in runs)


SCRIPT = """
import json, sys
from runner import api
result = api.run(sys.argv[1], quiet=True, store=False)
print(json.dumps({"status": result.status,
                  "loaded": sorted(m for m in sys.modules if m.startswith("opentelemetry"))}))
"""


def test_with_traces_off_nothing_of_opentelemetry_is_imported(tmp_path: Path) -> None:
    # the exporter's variables set, as on a machine where other services trace: still off
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/", "RUNNER_TRACES": ""}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(ONE_CALL)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120,
                          env={**_environ(), **env})
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got == {"status": "passed", "loaded": []}
    # ... and the whole command, as -X importtime lists every module it imported
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "runner.cli", "run",
                           str(ONE_CALL), "-q", "--store", str(tmp_path / "runs.db")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**_environ(), **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "runner.tracing" in proc.stderr  # the list is the real one
    assert "opentelemetry" not in proc.stderr


def test_with_traces_on_the_command_imports_the_sdk(tmp_path: Path, receiver: Receiver) -> None:
    # the converse of the test above, so that it can tell on and off apart
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "runner.cli", "run",
                           str(ONE_CALL), "-q", "--trace", "--store", str(tmp_path / "runs.db")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**_environ(), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "opentelemetry.sdk.trace" in proc.stderr
    assert receiver.spans()


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RUNNER_TRACES"))}
