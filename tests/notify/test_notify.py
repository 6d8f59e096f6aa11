"""Notifications when a run ends (``notify:`` on a playbook, an environment file, a schedule),
sent through apprise to real local receivers: ``json://`` to a loopback HTTP server and
``mailto://`` to a loopback SMTP server (aiosmtpd). The message names the run, the failed
step with its file:line and the vendor's words, with every secret masked; a target that cannot
be reached never changes the run's outcome, and no output shows a target's URL."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import cli
from notify_receivers import json_receiver, smtp_receiver
from wsgi_servers import serving

from runner.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK

SECRET = "tok-9f8e7d6c5b4a"  # a secret input; the vendor echoes it, and a value derived from it
DERIVED = SECRET.upper()


def vendor(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A vendor that refuses every order, in its own words, echoing what it was sent."""
    if environ["PATH_INFO"] == "/health":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok": true}']
    size = int(environ.get("CONTENT_LENGTH") or 0)
    sent = json.loads(environ["wsgi.input"].read(size) or b"{}")
    words = (f"quota exceeded for key {environ.get('HTTP_X_KEY', '')} "
             f"(account {sent.get('account', '')})")
    start_response("422 Unprocessable Entity", [("Content-Type", "application/json")])
    return [json.dumps({"error": {"message": words}}).encode()]


@pytest.fixture(scope="module")
def vendor_url() -> Iterator[str]:
    with serving(vendor) as url:
        yield url


def playbook(folder: Path, notify: str, *, path: str = "/orders") -> Path:
    text = f"""\
name: order
inputs:
  key: {{type: string, secret: true}}
  base: {{type: string}}
connectors:
  shop: {{use: http, settings: {{base_url: "{{{{ inputs.base }}}}"}}}}
{notify}steps:
  - id: health
    call: shop
    method: GET
    path: /health
  - id: place
    call: shop
    method: POST
    path: {path}
    headers: {{X-Key: "{{{{ inputs.key }}}}"}}
    json: {{account: "{{{{ inputs.key | upper }}}}"}}
"""
    file = folder / "order.yaml"
    file.write_text(text)
    return file


def run(file: Path, base: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return cli("run", str(file), "--env", "none", "-i", f"key={SECRET}", "-i", f"base={base}",
               "--store", f"sqlite:///{file.parent / 'runs.db'}", *args, env=env)


def run_id(out: Any) -> str:
    found = [w for w in (out.stdout + out.stderr).split() if w.count("-") == 2
             and w[:8].isdigit()]
    assert found, out.stdout + out.stderr
    return found[0].strip("()")


def line_of(file: Path, text: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if text in line)


def assert_told(text: str, file: Path, rid: str) -> None:
    """The message names the run, the failed step where it is written, the vendor's words;
    the secret input and the value derived from it are masked."""
    assert f"run: {rid}" in text
    place = f"{file}:{line_of(file, '- id: place')}"
    assert f"failed step: step 'place' at {place}" in text
    assert text.count(f":{line_of(file, '- id: place')}") == 1  # the place once, not twice
    assert "quota exceeded for key *** (account ***)" in text
    assert "hint: the vendor refused the request" in text
    assert SECRET not in text and DERIVED not in text


def test_a_failed_run_notifies_its_playbook_target(tmp_path: Path, vendor_url: str) -> None:
    with json_receiver() as (url, posts):
        file = playbook(tmp_path, "notify:\n  - url: {secret: RUNNER_TEST_NOTIFY}\n")
        out = run(file, vendor_url, env={"RUNNER_TEST_NOTIFY": url})
        assert out.returncode == EXIT_FAILED, out.stderr
        assert len(posts.got) == 1, out.stderr
        got = posts.bodies[0]
        assert got["title"] == "runner: order failed" and got["type"] == "failure"
        assert_told(got["message"], file, run_id(out))
        assert SECRET not in json.dumps(got) and DERIVED not in json.dumps(got)
        assert "warning" not in out.stderr
        assert url.split("//")[1] not in out.stdout + out.stderr


def test_on_success_is_told_of_passed_runs_only(tmp_path: Path, vendor_url: str) -> None:
    with json_receiver() as (url, posts):
        notify = f"notify:\n  - {{url: '{url}', on: success}}\n"
        failing = playbook(tmp_path, notify)
        assert run(failing, vendor_url).returncode == EXIT_FAILED
        assert posts.got == []
        (tmp_path / "ok").mkdir()
        passing = playbook(tmp_path / "ok", notify, path="/health")
        out = run(passing, vendor_url)
        assert out.returncode == EXIT_OK, out.stderr
        assert len(posts.got) == 1, out.stderr
        got = posts.bodies[0]
        assert got["title"] == "runner: order passed" and got["type"] == "success"
        assert f"run: {run_id(out)}" in got["message"] and "failed step" not in got["message"]


def test_an_environment_file_notifies_by_mail(tmp_path: Path, vendor_url: str) -> None:
    with smtp_receiver() as (mailto, box), json_receiver() as (url, posts):
        env_file = tmp_path / "ops.yaml"
        env_file.write_text("notify:\n  - url: {secret: RUNNER_TEST_MAIL}\n"
                            "  - {url: {secret: RUNNER_TEST_HOOK}, on: always}\n")
        # the same URL in the playbook and the environment file: sent once
        file = playbook(tmp_path, "notify:\n  - url: {secret: RUNNER_TEST_HOOK}\n")
        out = cli("run", str(file), "--env", str(env_file), "-i", f"key={SECRET}", "-i",
                  f"base={vendor_url}", "--store", f"sqlite:///{tmp_path / 'runs.db'}",
                  env={"RUNNER_TEST_MAIL": mailto, "RUNNER_TEST_HOOK": url})
        assert out.returncode == EXIT_FAILED, out.stderr
        assert "warning" not in out.stderr
        assert len(box.mails) == 1 and len(posts.got) == 1
        text = box.texts()[0]
        assert text.startswith("runner: order failed\n")
        assert_told(text, file, run_id(out))
        assert "environment: ops" in text


def test_an_unreachable_receiver_changes_nothing_and_shows_no_url(tmp_path: Path,
                                                                  vendor_url: str) -> None:
    from notify_receivers import free_port

    port = free_port()  # nobody listens there
    url = f"json://hook-user:hook-pass-77@127.0.0.1:{port}/hook-token-5150"
    file = playbook(tmp_path, "notify:\n  - url: {secret: RUNNER_TEST_NOTIFY}\n"
                    "  - url: {secret: RUNNER_TEST_UNSET}\n")
    env = {k: v for k, v in os.environ.items() if k != "RUNNER_TEST_UNSET"}
    out = cli("run", str(file), "--env", "none", "-i", f"key={SECRET}", "-i",
              f"base={vendor_url}", "--store", f"sqlite:///{tmp_path / 'runs.db'}",
              env={**env, "RUNNER_TEST_NOTIFY": url})
    assert out.returncode == EXIT_FAILED, out.stderr  # as it would without the targets
    assert "Traceback" not in out.stderr
    assert f"warning: notify target at {file}:8 (json): not sent" in out.stderr
    assert f"warning: notify target at {file}:9: secret RUNNER_TEST_UNSET is not set" \
        in out.stderr
    for piece in ("hook-user", "hook-pass-77", "hook-token-5150", str(port)):
        assert piece not in out.stdout + out.stderr
    shown = cli("show", run_id(out), "--store", f"sqlite:///{tmp_path / 'runs.db'}")
    assert shown.returncode == 0 and "hook-token-5150" not in shown.stdout


def test_apprise_logs_no_url(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A worker's logging (root at DEBUG) hears nothing of apprise: its DEBUG lines name the
    URL it posts to."""
    import logging

    from runner.notify import notify_run, resolve
    from runner.notify_targets import Target
    from runner.results import RunResult
    from runner.secrets import Redactor

    caplog.set_level(logging.DEBUG)
    warned: list[str] = []
    redactor = Redactor()
    with json_receiver("500 Internal Server Error") as (url, posts):
        targets = resolve([((Target("x.yaml:3", url=url + "-tok-31337"),), os.environ.get)],
                          redactor)
        run_ = RunResult("r1", "p", "p.yaml", "none", {}, status="failed", error="boom")
        assert notify_run(targets, run_, None, redactor, warn=warned.append) == 0
        assert len(posts.got) == 1
    assert "tok-31337" not in caplog.text and "tok-31337" not in " ".join(warned)
    assert warned and warned[0].startswith("notify target at x.yaml:3 (json): not sent")


def test_a_bad_url_is_a_validate_error_at_its_line(tmp_path: Path) -> None:
    file = playbook(tmp_path, "notify:\n  - url: 'jsn://hooks.internal/T0KEN-xyz'\n")
    out = cli("validate", str(file))
    assert out.returncode == EXIT_INVALID
    assert f"{file}:8:" in out.stderr and "scheme 'jsn'" in out.stderr
    assert "T0KEN-xyz" not in out.stderr + out.stdout
    env_file = tmp_path / "e.yaml"
    env_file.write_text("notify:\n  - {url: 'not a url T0KEN', on: always}\n")
    file = playbook(tmp_path, "")
    out = run(file, "http://127.0.0.1:9", "--env", str(env_file))
    assert out.returncode == EXIT_INVALID
    assert f"{env_file}:2:" in out.stderr and "T0KEN" not in out.stderr


# -- scheduled runs ----------------------------------------------------------------------------
T0 = 1767571200.0  # 2026-01-05T00:00:00Z, a Monday


def test_a_schedule_notifies_of_its_runs(tmp_path: Path, vendor_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.jobs import LocalDispatcher
    from runner.schedule_file import load_schedules
    from runner.scheduler import Scheduler
    from runner.store import Store

    file = playbook(tmp_path, "")
    broken = tmp_path / "broken.yaml"
    broken.write_text(file.read_text())
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(f"""\
schedules:
  - name: orders
    playbook: {file.name}
    cron: "* * * * *"
    environment: none
    inputs: {{key: {SECRET}, base: "{vendor_url}"}}
    notify:
      - url: {{secret: RUNNER_TEST_SCHEDULE_HOOK}}
  - name: broken
    playbook: {broken.name}
    cron: "* * * * *"
    environment: none
    inputs: {{key: {SECRET}, base: "{vendor_url}"}}
    notify:
      - url: {{secret: RUNNER_TEST_SCHEDULE_HOOK}}
""")
    listed = cli("schedule", "list", str(schedules))
    assert listed.returncode == EXIT_OK and "· notify failure" in listed.stdout, listed.stderr
    store = Store(str(tmp_path / "runs.db"))
    with json_receiver() as (url, posts):
        monkeypatch.setenv("RUNNER_TEST_SCHEDULE_HOOK", url)
        local = LocalDispatcher(store)
        sched = Scheduler(load_schedules(schedules), store, local)
        broken.write_text("name: broken\nsteps: [{id: x, nope: 1}]\n")  # the worker's checkout
        sched.tick(T0)
        sched.tick(T0 + 60)
        assert local.wait(60)
        by_name = {r["dedup_key"].split("@")[0]: r for r in store.find_runs()}
        assert by_name["orders"]["status"] == "failed"
        assert by_name["broken"]["status"] == "failed"
        assert len(posts.got) == 2, posts.got
        told = {b["message"].split("\n")[0]: b for b in posts.bodies}
        assert_told(told[f"run: {by_name['orders']['run_id']}"]["message"], file,
                    by_name["orders"]["run_id"])
        # a run that failed before it started (its playbook no longer loads): the schedule
        # still tells, with what the store says of it
        other = told[f"run: {by_name['broken']['run_id']}"]
        assert other["title"] == "runner: order failed"  # the name it was queued under
        assert "error: unknown key 'nope'" in other["message"]
        assert SECRET not in json.dumps(posts.bodies)
    store.close()


# -- the cold path -------------------------------------------------------------------------------
PROBE = """
import atexit, sys
atexit.register(lambda: print("loaded:", "apprise" in sys.modules, "runner.notify" in sys.modules,
                              file=sys.stderr))
from runner.cli import main
main(sys.argv[1:], prog_name="runner")
"""


def _loads(tmp_path: Path, *args: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    said = [ln for ln in done.stderr.splitlines() if ln.startswith("loaded:")]
    assert len(said) == 1, done.stdout + done.stderr
    return said[0].removeprefix("loaded: ")


def test_apprise_is_imported_only_for_a_run_with_a_target(tmp_path: Path) -> None:
    plain = tmp_path / "one.yaml"
    plain.write_text("name: one\nsteps:\n  - id: check\n    assert: \"1 == 1\"\n")
    store = ("--store", f"sqlite:///{tmp_path / 'runs.db'}")
    assert _loads(tmp_path, "validate", str(plain)) == "False False"
    assert _loads(tmp_path, "run", str(plain), "-q", "--env", "none", *store) == "False False"
    assert _loads(tmp_path, "run", str(plain), "--env", "none", *store) == "False False"
    told = tmp_path / "told.yaml"
    told.write_text(plain.read_text() + "notify:\n  - {url: 'json://127.0.0.1:9/x'}\n")
    assert _loads(tmp_path, "run", str(told), "-q", "--env", "none", *store) == "True True"


def test_batch_rows_and_a_resumed_run_notify_too(tmp_path: Path, vendor_url: str) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(f"key,base\n{SECRET},{vendor_url}\n{SECRET}x,{vendor_url}\n")
    db = ("--store", f"sqlite:///{tmp_path / 'runs.db'}")
    with json_receiver() as (url, posts):
        file = playbook(tmp_path, "notify:\n  - url: {secret: RUNNER_TEST_NOTIFY}\n")
        env = {"RUNNER_TEST_NOTIFY": url}
        out = cli("run", str(file), "--env", "none", "--inputs-from", str(rows), *db, env=env)
        assert out.returncode == EXIT_FAILED, out.stderr
        assert len(posts.got) == 2, out.stdout + out.stderr
        assert all(b["title"] == "runner: order failed" for b in posts.bodies)
        assert SECRET not in json.dumps(posts.bodies)
        first = posts.bodies[0]["message"].split("\n")[0].removeprefix("run: ")
        again = cli("resume", first, "-i", f"key={SECRET}", *db, env=env)
        assert again.returncode == EXIT_FAILED, again.stderr
        assert len(posts.got) == 3 and posts.bodies[2]["message"].startswith(f"run: {first}\n")


def test_a_run_the_scheduler_cannot_hand_over_is_told(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.jobs import RunJob, not_handed_over
    from runner.schedule_file import load_schedules
    from runner.scheduler import Scheduler
    from runner.store import Store

    def broker_down(job: RunJob) -> None:
        raise ConnectionError("broker at redis://127.0.0.1:9 refused")

    file = playbook(tmp_path, "")
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(f"""\
schedules:
  - name: orders
    playbook: {file.name}
    cron: "* * * * *"
    environment: none
    inputs: {{key: {SECRET}, base: "http://127.0.0.1:9"}}
    notify:
      - url: {{secret: RUNNER_TEST_SCHEDULE_HOOK}}
""")
    store = Store(str(tmp_path / "runs.db"))
    with json_receiver() as (url, posts):
        monkeypatch.setenv("RUNNER_TEST_SCHEDULE_HOOK", url)
        sched = Scheduler(load_schedules(schedules), store, broker_down, notify=not_handed_over)
        sched.tick(T0)
        sched.tick(T0 + 60)
        assert len(posts.got) == 1
        text = posts.bodies[0]["message"]
        assert "could not hand the run over: ConnectionError" in text and "check the broker" in text
    store.close()


def test_a_run_stopped_by_a_missing_secret_is_told(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The run is recorded failed when its connectors are set up (before any step): it ended,
    so its targets hear of it, though the command exits 2."""
    from runner import api
    from runner.errors import InvalidInput

    env_file = tmp_path / "env.yaml"
    env_file.write_text("connectors:\n  shop:\n    base_url: http://127.0.0.1:9\n"
                        "    auth: bearer\n    token: {secret: RUNNER_TEST_UNSET_TOKEN}\n")
    file = tmp_path / "p.yaml"
    file.write_text("name: p\nnotify:\n  - url: {secret: RUNNER_TEST_NOTIFY}\nconnectors:\n"
                    "  shop: {use: http}\nsteps:\n  - {id: a, call: shop, method: GET, "
                    "path: /x}\n")
    monkeypatch.delenv("RUNNER_TEST_UNSET_TOKEN", raising=False)
    with json_receiver() as (url, posts):
        monkeypatch.setenv("RUNNER_TEST_NOTIFY", url)
        with pytest.raises(InvalidInput):
            api.run(file, env=str(env_file), store=str(tmp_path / "runs.db"), quiet=True)
        assert len(posts.got) == 1
        text = posts.bodies[0]["message"]
        assert "error: secret RUNNER_TEST_UNSET_TOKEN (for shop.token) is not set" in text


def test_a_scheduled_run_whose_environment_file_is_gone_is_told(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.jobs import LocalDispatcher
    from runner.schedule_file import load_schedules
    from runner.scheduler import Scheduler
    from runner.store import Store

    file = playbook(tmp_path, "")
    env_file = tmp_path / "ops.yaml"
    env_file.write_text("description: ops\n")
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(f"""\
schedules:
  - name: orders
    playbook: {file.name}
    cron: "* * * * *"
    environment: {env_file.name}
    inputs: {{key: {SECRET}, base: "http://127.0.0.1:9"}}
    notify:
      - url: {{secret: RUNNER_TEST_SCHEDULE_HOOK}}
""")
    store = Store(str(tmp_path / "runs.db"))
    with json_receiver() as (url, posts):
        monkeypatch.setenv("RUNNER_TEST_SCHEDULE_HOOK", url)
        local = LocalDispatcher(store)
        sched = Scheduler(load_schedules(schedules), store, local)
        env_file.unlink()  # the worker's checkout lacks it
        sched.tick(T0)
        sched.tick(T0 + 60)
        assert local.wait(60)
        assert [r["status"] for r in store.find_runs()] == ["failed"]
        assert len(posts.got) == 1
        assert "not found" in posts.bodies[0]["message"]
    store.close()
