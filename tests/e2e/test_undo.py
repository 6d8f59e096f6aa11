"""`undo:` end to end: real HTTP to an ERA simulator, real `runner` processes, a real SIGKILL.

The undo steps of the steps that passed run last first when a later step fails, before the
finally steps; each is journaled, so a run killed mid-undo resumes in the undo without sending
again what was undone; `runner undo RUN_ID` undoes a finished run on request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PLAYBOOKS, ROOT, RUNNER, cli
from runner.builtin.era.simulator import EraSimulator

from runner.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, PlaybookError
from runner.playbook import load_playbook
from runner.simulator_faults import Faults
from runner.store import Store

HEAD = """\
name: undo test
connectors:
  era: {use: era}
steps:
"""
CREATE = """\
  - id: {id}
    call: era.create_channel
    with: {{code: "{code}", type: im, url: "https://chat.test/{code}"}}
    extract: {{{id}_id: $.id}}
    undo:
{undo}"""
DELETE = """\
      - id: {id}_gone
        call: era.delete_channel
        with: {{id: "{{{{ {ref} }}}}"}}
"""
BOOM = """\
  - id: boom
    assert:
      - that: "false"
        message: the last step failed
"""
FINAL = """\
finally:
  - id: tidy
    call: era.list_channels
"""


@pytest.fixture()
def sim() -> Iterator[EraSimulator]:
    with EraSimulator(channels=[]) as s:
        yield s


def setup(tmp_path: Path, sim: EraSimulator, body: str) -> tuple[Path, Path, dict[str, str]]:
    """The playbook ``body``, an environment pointing era at ``sim``, its secret."""
    playbook = tmp_path / "undo.yaml"
    playbook.write_text(body)
    env = tmp_path / "lab.yaml"
    env.write_text(f"connectors:\n  era:\n    base_url: {sim.url}\n"
                   "    api_token: {secret: ERA_API_TOKEN}\n")
    return playbook, env, {"ERA_API_TOKEN": sim.api_token}


def create(step_id: str, code: str, *undos: str) -> str:
    return CREATE.format(id=step_id, code=code, undo="".join(undos))


def delete(step_id: str, ref: str | None = None) -> str:
    return DELETE.format(id=step_id, ref=ref or f"{step_id}_id")


def only_run(store: Path) -> dict:
    rows = Store(str(store)).find_runs()
    assert len(rows) == 1
    row = Store(str(store)).get_run(rows[0]["run_id"])
    assert row is not None
    return row


def journal(store: Path, run_id: str) -> list[tuple[str, str, str | None]]:
    return [(e.step_key, e.event, e.status) for e in Store(str(store)).entries(run_id)]


def test_undo_runs_last_first_then_the_finally_steps(tmp_path: Path, sim: EraSimulator) -> None:
    playbook, env, secrets = setup(tmp_path, sim, HEAD + create("a", "undo-a", delete("a"))
                                   + create("b", "undo-b", delete("b")) + BOOM + FINAL)
    store, report = tmp_path / "runs.db", tmp_path / "report.json"
    out = cli("run", str(playbook), "--env", str(env), "--store", str(store),
              "--report-json", str(report), env=secrets)
    assert out.returncode == EXIT_FAILED, out.stdout + out.stderr
    assert sim.channels == {}  # both channels deleted again
    assert sim.calls["create"] == 2 and sim.calls["delete"] == 2
    text = out.stdout
    assert "undo: 2 completed steps to undo, the last first" in text
    assert text.index("PASS b_gone") < text.index("PASS a_gone") < text.index("PASS tidy")
    assert "undo: undone" in text

    row = only_run(store)
    assert row["status"] == "failed"  # the run did not do what it was for
    assert "the last step failed" in row["error"]
    undo = row["report"]["undo"]
    assert undo["status"] == "undone"
    assert [s["id"] for s in undo["steps"]] == ["b_gone", "a_gone"]
    assert json.loads(report.read_text())["undo"]["status"] == "undone"
    page = tmp_path / "report.html"
    assert cli("show", row["run_id"], "--store", str(store), "--html", str(page)).returncode == 0
    html = page.read_text()
    assert "<h2>Undo: undone</h2>" in html
    assert html.index("b_gone") < html.index("a_gone")
    events = journal(store, row["run_id"])
    keys = [k for k, e, s in events if e == "finished"]
    assert keys.index("undo/steps/1/0") < keys.index("undo/steps/0/0") < keys.index("finally/0")
    assert ("undo", "undo", "started") in events and ("undo", "undo", "undone") in events
    assert [k for k, e, _ in events if e == "undoable"] == ["steps/0", "steps/1"]
    shown = cli("show", row["run_id"], "--store", str(store)).stdout
    assert "  undo: undone" in shown
    assert shown.index("FAIL boom") < shown.index("PASS b_gone") < shown.index("PASS a_gone")
    # the api token went over the wire on every call and is in no output
    assert sim.api_token not in text + report.read_text() + json.dumps(events)


def test_a_failed_undo_is_recorded_and_the_others_still_run(tmp_path: Path,
                                                            sim: EraSimulator) -> None:
    playbook, env, secrets = setup(tmp_path, sim, HEAD + create("a", "undo-a", delete("a"))
                                   + create("b", "undo-b", delete("b", "b_id ~ '-wrong'"))
                                   + BOOM + FINAL)
    store = tmp_path / "runs.db"
    out = cli("run", str(playbook), "--env", str(env), "--store", str(store), env=secrets)
    assert out.returncode == EXIT_FAILED
    assert "FAIL b_gone" in out.stdout and "Not found (error_code 1404)" in out.stdout
    assert "PASS a_gone" in out.stdout and "PASS tidy" in out.stdout
    assert [c["code"] for c in sim.channels.values()] == ["undo-b"]  # only a's undo worked
    row = only_run(store)
    assert row["status"] == "failed"
    assert row["report"]["undo"]["status"] == "partly-undone"
    assert [(s["id"], s["status"]) for s in row["report"]["undo"]["steps"]] == \
        [("b_gone", "failed"), ("a_gone", "passed")]


def test_each_iteration_of_a_loop_is_undone_last_first(tmp_path: Path,
                                                       sim: EraSimulator) -> None:
    body = HEAD + """\
  - id: many
    loop: [x1, x2, x3]
    loop_var: code
    call: era.create_channel
    with: {code: "{{ code }}", type: im, url: "https://chat.test/{{ code }}"}
    undo:
      - id: drop
        call: era.delete_channel
        with: {id: "{{ response.json.id }}"}
""" + BOOM
    playbook, env, secrets = setup(tmp_path, sim, body)
    deleted: list[str] = []
    codes = {}
    real = sim.dispatch

    def watch(request):  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            deleted.append(codes.get(request.path.rsplit("/", 1)[-1], "?"))
        reply = real(request)
        for cid, channel in sim.channels.items():
            codes[cid] = channel["code"]
        return reply

    sim.dispatch = watch  # type: ignore[method-assign]
    out = cli("run", str(playbook), "--env", str(env), "--store", str(tmp_path / "r.db"),
              "--log-format", "json", env=secrets)
    assert out.returncode == EXIT_FAILED
    assert sim.channels == {}
    assert deleted == ["x3", "x2", "x1"], out.stdout
    events = [json.loads(line) for line in out.stdout.splitlines()]
    names = [e["event"] for e in events]
    assert names.index("undo_started") < names.index("undo_finished") < names.index(
        "run_finished")
    started = next(e for e in events if e["event"] == "undo_started")
    assert started["steps"] == 3 and "the last step failed" in started["reason"]
    assert events[-1]["undo"] == "undone" and events[-1]["status"] == "failed"


def test_sigkill_mid_undo_then_resume_sends_no_undo_twice(tmp_path: Path,
                                                          sim: EraSimulator) -> None:
    """b's undo is done; a's first undo step (a safe read) hangs; SIGKILL. `runner resume`
    goes on with the undo: b's delete is not sent again, a's read and delete are sent."""
    read_a = """\
      - id: a_read
        call: era.get_channel
        with: {id: "{{ a_id }}"}
"""
    playbook, env, secrets = setup(tmp_path, sim, HEAD + create("a", "undo-a", read_a,
                                                                delete("a"))
                                   + create("b", "undo-b", delete("b")) + BOOM + FINAL)
    sim.faults = Faults(latency=60.0, only={"get"}, count=1)
    store = tmp_path / "runs.db"
    proc = subprocess.Popen([str(RUNNER), "run", str(playbook), "--env", str(env),
                             "--store", str(store)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, **secrets})
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "PASS b_gone" not in seen:
        seen += proc.stdout.readline()
    assert "PASS b_gone" in seen, seen  # journaled before its line is printed
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert sim.calls["delete"] == 1 and "undo-b" not in {c["code"] for c in sim.channels.values()}
    row = only_run(store)
    assert row["status"] == "running"  # killed: nobody closed it

    resumed = cli("resume", row["run_id"], "--store", str(store), "--force", env=secrets)
    assert resumed.returncode == EXIT_FAILED, resumed.stdout + resumed.stderr
    assert sim.calls["delete"] == 2  # b's once (before the kill), a's once
    assert sim.calls["create"] == 2  # the forward steps were only put back
    assert sim.channels == {}
    assert "PASS a_read" in resumed.stdout and "PASS a_gone" in resumed.stdout
    assert "b_gone" in resumed.stdout and "done before the resume" in resumed.stdout
    final = Store(str(store)).get_run(row["run_id"])
    assert final is not None and final["status"] == "failed"
    assert "the last step failed" in final["error"]
    assert final["report"]["undo"]["status"] == "undone"
    done = [(s["id"], bool(s.get("resumed"))) for s in final["report"]["undo"]["steps"]]
    assert done == [("b_gone", True), ("a_read", False), ("a_gone", False)]
    # once undone, there is nothing to resume or undo
    again = cli("resume", row["run_id"], "--store", str(store), env=secrets)
    assert again.returncode == EXIT_INVALID and "was undone" in again.stderr
    undo = cli("undo", row["run_id"], "--store", str(store), env=secrets)
    assert undo.returncode == EXIT_INVALID and "undone already" in undo.stderr
    assert sim.calls["delete"] == 2


def test_runner_undo_undoes_a_passed_run_once(tmp_path: Path, sim: EraSimulator) -> None:
    playbook, env, secrets = setup(tmp_path, sim, HEAD + create("a", "undo-a", delete("a")))
    store = tmp_path / "runs.db"
    assert cli("run", str(playbook), "--env", str(env), "--store", str(store),
               env=secrets).returncode == EXIT_OK
    assert len(sim.channels) == 1
    run_id = only_run(store)["run_id"]
    out = cli("undo", run_id, "--store", str(store), env=secrets)
    assert out.returncode == EXIT_OK, out.stdout + out.stderr
    assert sim.channels == {} and sim.calls["create"] == 1
    assert "PASS a_gone" in out.stdout
    row = only_run(store)
    assert row["status"] == "passed"  # its steps did pass; the undo says what came after
    assert row["report"]["undo"]["status"] == "undone"
    again = cli("undo", run_id, "--store", str(store), env=secrets)
    assert again.returncode == EXIT_INVALID
    assert f"run {run_id} was undone already" in again.stderr
    assert sim.calls["delete"] == 1


def test_runner_undo_refuses_a_run_with_nothing_to_undo(tmp_path: Path,
                                                        sim: EraSimulator) -> None:
    playbook, env, secrets = setup(tmp_path, sim, HEAD + """\
  - id: look
    call: era.list_channels
""")
    store = tmp_path / "runs.db"
    assert cli("run", str(playbook), "--env", str(env), "--store", str(store),
               env=secrets).returncode == EXIT_OK
    run_id = only_run(store)["run_id"]
    out = cli("undo", run_id, "--store", str(store), env=secrets)
    assert out.returncode == EXIT_INVALID
    assert f"run {run_id} has nothing to undo" in out.stderr
    assert "Traceback" not in out.stderr
    missing = cli("undo", "no-such-run", "--store", str(store))
    assert missing.returncode == EXIT_INVALID and "no run no-such-run" in missing.stderr


def test_sigterm_stops_without_undoing_then_runner_undo(tmp_path: Path,
                                                        sim: EraSimulator) -> None:
    """Ctrl-C or SIGTERM stops the run, not undoes it: interrupted, resumable; `runner undo`
    then takes it back on request."""
    wait = """\
  - id: slow
    call: era.get_channel
    with: {id: "{{ a_id }}"}
"""
    playbook, env, secrets = setup(tmp_path, sim, HEAD + create("a", "undo-a", delete("a"))
                                   + wait + FINAL)
    sim.faults = Faults(latency=60.0, only={"get"}, count=1)  # not the finally step's list
    store = tmp_path / "runs.db"
    proc = subprocess.Popen([str(RUNNER), "run", str(playbook), "--env", str(env),
                             "--store", str(store)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, **secrets})
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "PASS a " not in seen:
        seen += proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_INTERRUPTED, seen + rest
    assert "undo:" not in rest and "PASS tidy" in rest  # finally ran, nothing was undone
    assert len(sim.channels) == 1 and sim.calls["delete"] == 0
    row = only_run(store)
    assert row["status"] == "interrupted"
    out = cli("undo", row["run_id"], "--store", str(store), env=secrets)
    assert out.returncode == EXIT_OK, out.stdout + out.stderr
    assert sim.channels == {}
    final = only_run(store)
    assert final["status"] == "failed" and "undone on request" in final["error"]


@pytest.mark.parametrize(("body", "message"), [
    ("""\
  - id: look
    call: era.list_channels
    undo:
      - call: era.delete_channel
        with: {id: x}
""", "era.list_channels is safe to repeat: it changes nothing, so there is nothing to undo"),
    ("""\
  - id: look
    call: era.list_channels
finally:
  - id: late
    call: era.create_channel
    with: {code: c, type: im}
    undo:
      - call: era.delete_channel
        with: {id: x}
""", "a finally step cannot have undo:"),
    ("""\
  - id: made
    call: era.create_channel
    with: {code: c, type: im}
    undo:
      - call: era.delete_channel
        with: {id: "{{ nope }}"}
""", "nope"),
])
def test_undo_is_checked_when_the_playbook_loads(tmp_path: Path, body: str,
                                                 message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(PlaybookError) as e:
        load_playbook(path)
    assert message in str(e.value)


def test_plan_shows_the_undo_steps() -> None:
    out = cli("plan", str(PLAYBOOKS / "era" / "create-channel.yaml"), "-i", "code=c1",
              "-i", "url=https://chat.test/c1")
    assert out.returncode == EXIT_OK, out.stderr
    lines = out.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "undo, if a later step fails:" in line)
    assert "delete_created: era.delete_channel" in lines[at + 1]
    assert "DELETE /rest/v1/service/integration_points/" in lines[at + 2]


def test_runner_undo_of_a_rotation_never_sends_a_masked_secret(tmp_path: Path) -> None:
    """rotate-channel passed; `runner undo` later (a new process, the journal only) puts the
    url back, and refuses to send the old remote token: the journal keeps it as ***."""
    seeded = {**EraSimulator().channels["b4680fbe-016c-d86f-1d6b-50e54938780c"],
              "token_remote": "old-bot-token-123"}
    with EraSimulator(channels=[seeded]) as sim:
        _, env, secrets = setup(tmp_path, sim, HEAD)
        store = tmp_path / "runs.db"
        new_token = "bot-7741:AAF-new-remote-token-value"
        ran = cli("run", str(PLAYBOOKS / "era" / "rotate-channel.yaml"), "--env", str(env),
                  "--store", str(store), "-i", "key=ABCDE", "-i", "url=http://new.test/hook",
                  "-i", f"token_remote={new_token}", env=secrets)
        assert ran.returncode == EXIT_OK, ran.stdout + ran.stderr
        channel = sim.channels[seeded["id"]]
        assert channel["url"] == "http://new.test/hook" and channel["token_remote"] == new_token
        patches = sim.calls["patch"]
        out = cli("undo", only_run(store)["run_id"], "--store", str(store), env=secrets)
        assert out.returncode == EXIT_FAILED, out.stdout + out.stderr  # partly undone
        assert "FAIL restore_token" in out.stdout and "PASS restore_url" in out.stdout
        assert "the journal keeps masked" in out.stdout
        assert sim.calls["patch"] == patches + 1  # the url only
        assert channel["url"] == "http://trapper.com"
        assert channel["token_remote"] == new_token  # never set to "***"
        assert only_run(store)["report"]["undo"]["status"] == "partly-undone"
        for text in (out.stdout, out.stderr, ran.stdout):
            assert "old-bot-token-123" not in text and new_token not in text


def test_an_undo_call_killed_in_flight_is_not_sent_again(tmp_path: Path,
                                                         sim: EraSimulator) -> None:
    """b's delete is sent (journaled) and held by the server; SIGKILL. Its outcome is unknown,
    so `runner resume` does not send it again: it is recorded failed, and a's undo still runs."""
    playbook, env, secrets = setup(tmp_path, sim, HEAD + create("a", "undo-a", delete("a"))
                                   + create("b", "undo-b", delete("b")) + BOOM)
    sim.faults = Faults(latency=60.0, only={"delete"}, count=1)
    store = tmp_path / "runs.db"
    proc = subprocess.Popen([str(RUNNER), "run", str(playbook), "--env", str(env),
                             "--store", str(store)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            env={**os.environ, **secrets})
    deadline = time.monotonic() + 30
    sent = False
    while time.monotonic() < deadline and not sent:  # journaled before it goes out
        time.sleep(0.05)
        if store.exists() and Store(str(store)).find_runs():
            sent = ("undo/steps/1/0", "sent", None) in journal(store, only_run(store)["run_id"])
    assert sent
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    run_id = only_run(store)["run_id"]
    resumed = cli("resume", run_id, "--store", str(store), "--force", env=secrets)
    assert resumed.returncode == EXIT_FAILED, resumed.stdout + resumed.stderr
    assert "FAIL b_gone" in resumed.stdout
    assert "not safe to repeat and was sent before the run stopped" in resumed.stdout
    assert "PASS a_gone" in resumed.stdout
    assert sim.calls["delete"] == 1  # a's; b's is still held, never sent a second time
    assert {c["code"] for c in sim.channels.values()} == {"undo-b"}
    assert only_run(store)["report"]["undo"]["status"] == "partly-undone"
