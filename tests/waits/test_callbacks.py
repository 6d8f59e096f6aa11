"""Callbacks end to end in one process: real HTTP from the Alvaria simulator (and from the test)
to the run's own listener, a real SQLite store. A callback is taken with its body as the
answer, masked; a second POST, a forged signature and an expired URL are refused with 4xx and
recorded; with no callback, the step falls back to polling (or fails without `otherwise:`)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runner.builtin.alvaria.simulator import AlvariaSimulator

from runner import api
from runner.callback_inbox import rows
from runner.callback_listener import Listener
from runner.callback_token import callback_key, mint
from runner.results import RunResult
from runner.sandbox import Sandbox
from runner.secrets import Redactor
from runner.store import Store

PLAYBOOK = """\
name: callback
inputs:
  vsn: {type: string, default: WelcomeService}
  send: {type: boolean, default: true}
connectors:
  alvaria: {use: alvaria}
steps:
  - id: hook
    callback: {expires: 1h}
  - id: trigger
    call: alvaria.execute
    with:
      vsn: "{{ inputs.vsn }}"
      triggerParameters: {employee: Ada}
      callbackUrls: "{{ [steps.hook.url] if inputs.send else [] }}"
    extract: {trigger_uuid: $.triggerUUID}
  - id: done
    wait-for: hook
    timeout: TIMEOUT
OTHERWISE    extract: {outcome: $.status}
    assert:
      - that: "response.json.triggerUUID == trigger_uuid"
outputs:
  outcome: "{{ outcome }}"
"""
POLL = """\
    otherwise:
      poll-until: "response.status_code == 204"
      call: alvaria.result
      with: {vsn: "{{ inputs.vsn }}", triggerUUID: "{{ trigger_uuid }}"}
      every: 200ms
"""


def playbook(tmp_path: Path, timeout: str = "30s", otherwise: bool = False) -> Path:
    path = tmp_path / "callback.yaml"
    text = PLAYBOOK.replace("TIMEOUT", timeout).replace("OTHERWISE", POLL if otherwise else "")
    if otherwise:  # the poll's 204 has no body: the assertion reads the callback's
        text = text.replace("    extract: {outcome: $.status}\n    assert:\n      - that: "
                            "\"response.json.triggerUUID == trigger_uuid\"\n", "")
        text = text.replace('  outcome: "{{ outcome }}"', '  outcome: polled')
    path.write_text(text)
    return path


@pytest.fixture
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox({"alvaria": {"run_seconds": 0.3, "service_seconds": {"SlowService": 60}}})
    sandbox.start(["alvaria"])
    yield sandbox
    sandbox.stop()


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_simulators_callback_ends_the_wait_with_its_body_as_the_answer(
        tmp_path: Path, box: Sandbox) -> None:
    db = tmp_path / "runs.db"
    result = api.run(playbook(tmp_path), sandbox=box, store=str(db), quiet=True)
    assert result.status == "passed", result.error
    assert result.outputs == {"outcome": "completed"}
    sim: AlvariaSimulator = box.simulators["alvaria"]
    assert [status for _, status in sim.callbacks_sent] == [200]
    assert sim.calls.get("result", 0) == 0  # nothing polled
    store = Store(str(db))
    entries = store.entries(result.run_id)
    got = [e for e in entries if e.event == "callback"]
    assert [e.status for e in got] == ["received"]
    assert json.loads(got[0].data["body"])["triggerUUID"] == result.steps[1].extracted[
        "trigger_uuid"]
    assert [e.status for e in entries if e.event == "waiting"] == ["waiting"]
    assert store.get_run(result.run_id)["status"] == "passed"  # type: ignore[index]


def run_in_thread(path: Path, box: Sandbox, db: Path, **kw: Any) -> tuple[threading.Thread,
                                                                          list[RunResult]]:
    out: list[RunResult] = []
    thread = threading.Thread(target=lambda: out.append(
        api.run(path, sandbox=box, store=str(db), quiet=True, **kw)))
    thread.start()
    return thread, out


def callback_url(sim: AlvariaSimulator) -> tuple[str, str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with sim.lock:
            for trig in sim.triggers.values():
                if trig.callback_urls:
                    return trig.callback_urls[0], trig.uuid
        time.sleep(0.05)
    raise AssertionError("the run never triggered the service")


def test_a_body_is_masked_and_a_second_post_refused_and_recorded(tmp_path: Path,
                                                               box: Sandbox) -> None:
    db = tmp_path / "runs.db"
    redactor = Redactor()
    report = tmp_path / "report.json"
    thread, out = run_in_thread(playbook(tmp_path), box, db, inputs={"vsn": "SlowService"},
                                redactor=redactor, report_json=report)
    sim: AlvariaSimulator = box.simulators["alvaria"]
    url, uuid = callback_url(sim)
    # the run's secrets as the vendor might echo them: kept masked, never as sent
    secret = sim.api_key
    status, answer = post(url, {"triggerUUID": uuid, "status": "completed", "echo": secret})
    assert status == 200 and answer["message"] == "received"
    thread.join(30)
    assert out and out[0].status == "passed", out and out[0].error
    again, said = post(url, {"triggerUUID": uuid, "status": "completed"})
    assert again == 409 and "used already" in said["message"]
    store = Store(str(db))
    entries = store.entries(out[0].run_id)
    got = [(e.status, e.data) for e in entries if e.event == "callback"]
    assert [s for s, _ in got] == ["received", "refused"]
    assert "second POST" in got[1][1]["reason"]
    stored = repr(entries) + repr(store.get_run(out[0].run_id))
    assert secret not in stored and "***" in got[0][1]["body"]
    signature = url.rsplit("/", 1)[1]
    assert signature not in stored  # whoever has the URL may POST: masked like a secret
    assert secret not in report.read_text() and signature not in report.read_text()
    done = next(e for e in entries if e.event == "finished" and e.step_key.endswith("/2"))
    assert json.loads(done.data["response"]["body"])["echo"] == "***"  # as a resume reads it


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[Listener, Store, str]]:
    store = Store(str(tmp_path / "runs.db"))
    store.create_run("run-1", "p", "/p.yaml", "sandbox", {}, status="waiting")
    lst = Listener(store)
    lst.start()
    yield lst, store, "run-1"
    lst.stop()


def test_forged_altered_and_expired_urls_are_refused_and_recorded(
        listener: tuple[Listener, Store, str]) -> None:
    lst, store, run_id = listener
    secret = callback_key(store.url)
    good = mint(secret, lst.url, run_id, "steps/0", time.time() + 60)
    parts = good.split("/")
    forged = "/".join([*parts[:-1], "0" * 32])  # the signature guessed
    other_step = "/".join([*parts[:-4], "c3RlcHMvMQ", *parts[-3:]])  # another step's key
    later = "/".join([*parts[:-3], str(int(time.time()) + 10**6), *parts[-2:]])  # extended
    expired = mint(secret, lst.url, run_id, "steps/0", time.time() - 1)
    wrong_key = mint(b"not the key", lst.url, run_id, "steps/0", time.time() + 60)
    answers = {name: post(url, {"x": 1})[0] for name, url in [
        ("forged", forged), ("other_step", other_step), ("later", later),
        ("expired", expired), ("wrong_key", wrong_key)]}
    assert answers == {"forged": 403, "other_step": 403, "later": 403, "expired": 410,
                       "wrong_key": 403}
    assert post(lst.url + "/callbacks/x", {})[0] == 404
    refused = [r.data["reason"] for key in ("steps/0", "steps/1")
               for r in rows(store, run_id, key, "callback")]
    assert len(refused) == 5 and sum("forged" in r for r in refused) == 4
    assert any(r.startswith("expired") for r in refused)
    assert all(r.status == "refused" for r in rows(store, run_id, "steps/0", "callback"))
    assert post(good, {"x": 1})[0] == 200  # the real one still passes, once
    assert post(good, {"x": 1})[0] == 409


def test_with_no_callback_the_timeout_falls_back_to_polling(tmp_path: Path,
                                                          box: Sandbox) -> None:
    db = tmp_path / "runs.db"
    result = api.run(playbook(tmp_path, timeout="1s", otherwise=True), sandbox=box,
                     store=str(db), inputs={"send": False}, quiet=True)
    assert result.status == "passed", result.error
    sim: AlvariaSimulator = box.simulators["alvaria"]
    assert sim.calls.get("result", 0) >= 1 and not sim.callbacks_sent
    done = result.steps[2]
    assert done.duration_ms >= 1000 and done.attempts >= 1
    assert result.outputs == {"outcome": "polled"}


def test_with_no_callback_and_no_otherwise_the_step_fails_saying_so(tmp_path: Path,
                                                                   box: Sandbox) -> None:
    result = api.run(playbook(tmp_path, timeout="500ms"), sandbox=box,
                     store=str(tmp_path / "runs.db"), inputs={"send": False}, quiet=True)
    assert result.status == "failed"
    assert "no callback to hook's URL within 0.5 s" in (result.error or "")


def test_a_callback_step_needs_the_store(tmp_path: Path, box: Sandbox) -> None:
    result = api.run(playbook(tmp_path), sandbox=box, store=False, quiet=True)
    assert result.status == "failed" and "needs the run store" in (result.error or "")


def test_a_callback_that_came_while_the_run_was_stopped_is_taken_on_resume(
        tmp_path: Path, box: Sandbox) -> None:
    db = tmp_path / "runs.db"
    cancel = threading.Event()
    thread, out = run_in_thread(playbook(tmp_path), box, db, inputs={"vsn": "SlowService"},
                                cancel=cancel)
    sim: AlvariaSimulator = box.simulators["alvaria"]
    url, uuid = callback_url(sim)
    store = Store(str(db))
    deadline = time.monotonic() + 20
    while not any(r["status"] == "waiting" for r in store.find_runs()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cancel.set()  # as Ctrl-C: the run stops in its wait, resumable
    thread.join(30)
    assert out and out[0].status == "interrupted", out and out[0].error
    run_id = out[0].run_id
    assert post(url, {"triggerUUID": uuid, "status": "completed"})[0] == 200
    resumed = api.resume(run_id, store=str(db), sandbox=box, quiet=True)
    assert resumed.status == "passed", resumed.error
    assert resumed.outputs == {"outcome": "completed"}
    assert sim.calls["execute"] == 1  # the trigger was not sent again
    waits = [e for e in store.entries(run_id) if e.event == "waiting"]
    assert len(waits) == 1  # the first attempt's deadline held


def test_the_environment_binds_the_listener_and_callback_url_names_its_public_address(
        tmp_path: Path) -> None:
    from helpers import cli

    from tests.distributed.servers import free_port

    port = free_port()
    env = tmp_path / "lab.yaml"
    env.write_text(f"sandbox: true\nsimulators: {{alvaria: {{run_seconds: 0.3}}}}\n"
                   f"callbacks: {{bind: '127.0.0.1:{port}'}}\n")
    report = tmp_path / "report.json"
    done = cli("run", str(playbook(tmp_path)), "--env", str(env), "--store",
               str(tmp_path / "runs.db"), "--callback-url", f"http://localhost:{port}",
               "--report-json", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    sent = json.loads(report.read_text())["steps"][1]["exchanges"][-1]["request"]
    assert f"http://localhost:{port}/callbacks/" in json.dumps(sent)  # the public URL
    refused = cli("run", str(playbook(tmp_path)), "--inputs-from", str(tmp_path / "x.jsonl"),
                  "--callback-url", "http://localhost:1")
    assert refused.returncode == 2 and "--callback-url goes with one run here" in refused.stderr


def test_a_wait_for_naming_no_earlier_callback_step_is_refused_at_validate_time(
        tmp_path: Path) -> None:
    from runner.errors import PlaybookError
    from runner.playbook import load_playbook

    path = tmp_path / "bad.yaml"
    for steps in ("  - {id: hook, callback: {}}\n  - {id: done, wait-for: hoook}\n",
                  "  - {id: done, wait-for: hook}\n  - {id: hook, callback: {}}\n",
                  "  - {id: hook, sleep: 1s}\n  - {id: done, wait-for: hook}\n"):
        path.write_text("name: bad\nsteps:\n" + steps)
        with pytest.raises(PlaybookError, match=r"no callback step '(hoook|hook)' comes before"):
            load_playbook(path)
    path.write_text("name: ok\nsteps:\n  - {id: hook, callback: {}}\n"
                    "  - {id: done, wait-for: hook}\n")
    assert load_playbook(path).steps[1].kind == "wait-for"
