"""History never says "passed" for a run that did not pass: real `runner` processes meet a
reader that goes away (`| head -3`), SIGTERM, and a connector hook that raises; the store, the
simulator and the exit code say what happened."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, RUNNER, automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.store import Store

PLAYBOOK = ROOT / "tests" / "playbooks" / "automatos" / "distribute-then-report.yaml"


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.5, run_seconds=1.0) as s:
        yield s


def _only_run(store: Path) -> dict[str, Any]:
    rows = Store(str(store)).find_runs()
    assert len(rows) == 1, rows
    return rows[0]


def _wait_for(predicate: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _sigterm_once(args: list[str], ready: Callable[[], bool],
                  env: dict[str, str]) -> tuple[subprocess.Popen[str], str, str]:
    """``runner ARGS`` as a process, sent SIGTERM once ``ready()`` holds; it and its output."""
    proc = subprocess.Popen([str(RUNNER), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    try:
        _wait_for(ready)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc, out, err


# -- a reader that goes away -----------------------------------------------------------------

def test_a_reader_that_goes_away_does_not_stop_the_run(tmp_path: Path,
                                                       sim: AutomatosSimulator) -> None:
    """`runner run ... | head -3`: head exits after the run's header, the run goes on to its
    end (the poll and the finally step reach the simulator), is recorded passed with every
    step, and the exit code is the run's (0), not a crash's."""
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    command = (f"'{RUNNER}' run '{PLAYBOOK}' --env '{env}' -i hostname=NTB2 --store '{store}'"
               " | head -3; exit ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AUTOMATOS_KEY": sim.automatos_key})
    assert done.stdout.count("\n") == 3, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == ""
    row = _only_run(store)
    assert row["status"] == "passed"
    steps = row["report"]["steps"]
    assert [s["id"] for s in steps] == ["machine", "job", "wait", "report"]
    assert all(s["status"] == "passed" for s in steps)
    assert sim.calls["create_distribution"] == 1
    assert sim.calls["get_machine"] == 2  # the finally step's request went out


def test_a_reader_that_goes_away_leaves_a_failed_run_failed(tmp_path: Path,
                                                            sim: AutomatosSimulator) -> None:
    """The same with --log-format json, for a run that fails: failed, exit 1."""
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    command = (f"'{RUNNER}' run '{PLAYBOOK}' --env '{env}' -i hostname=NOSUCH --store '{store}'"
               " --log-format json | head -1; exit ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AUTOMATOS_KEY": sim.automatos_key})
    assert done.returncode == 1, done.stdout + done.stderr
    assert '"event": "run_started"' in done.stdout and done.stderr == ""
    row = _only_run(store)
    assert row["status"] == "failed"
    assert [s["id"] for s in row["report"]["steps"]] == ["machine", "report"]


# -- SIGTERM -------------------------------------------------------------------------------------

def test_sigterm_mid_poll_is_ctrl_c_then_resume_finishes(tmp_path: Path,
                                                         sim: AutomatosSimulator) -> None:
    """systemd stopping the unit, a CI job cancelled: SIGTERM in the middle of a poll. The
    finally step still reaches the simulator, the run is recorded interrupted (not left
    running), exit 130; `runner resume` then finishes the same job without a second create."""
    sim.run_seconds = 30.0  # the poll goes on until the signal
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    proc, out, err = _sigterm_once(
        ["run", str(PLAYBOOK), "--env", str(env), "-i", "hostname=NTB2", "--store", str(store)],
        lambda: sim.calls["distribution_status"] >= 2, secrets)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert "INTERRUPTED at step 'wait'" in out and "interrupted by SIGTERM" in out, out
    assert sim.calls["get_machine"] == 2  # the lookup, then the finally step after the signal
    row = _only_run(store)
    assert row["status"] == "interrupted"
    assert row["error"] == "interrupted by SIGTERM"
    assert row["hint"] == f"continue it with: runner resume {row['run_id']}"
    assert [s["id"] for s in row["report"]["steps"]][-1] == "report"

    sim.run_seconds = 0.5
    resumed = cli("resume", row["run_id"], "--store", str(store), env=secrets)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sim.calls["create_distribution"] == 1  # the same job: no second create
    final = Store(str(store)).get_run(row["run_id"])
    assert final is not None and final["status"] == "passed"


def test_sigterm_during_a_finally_step_records_the_run_interrupted(
        tmp_path: Path, sim: AutomatosSimulator) -> None:
    """SIGTERM that lands in a finally step (the steps all passed, the cleanup polls): the run
    did not fail, it was stopped, so it is recorded interrupted with the resume hint and exits
    130, as a SIGTERM in any other step; `runner resume` then ends it passed."""
    store = tmp_path / "runs.db"
    playbook = tmp_path / "cleanup.yaml"
    playbook.write_text("""\
name: Clean up slowly
connectors:
  automatos: {use: automatos}
steps:
  - id: machine
    call: automatos.get_machine
    with: {hostname: NTB2}
    extract: {machine_id: "$.data.machines[0].machineId"}
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: 7zip.exe}
    extract: {job_name: $.data.jobName}
finally:
  - id: cleanup
    poll-until: "response.json.data.delivered == 'Y'"
    call: automatos.distribution_status
    with: {jobName: "{{ job_name }}"}
    every: 0.2s
    timeout: 60s
""")
    sim.run_seconds = 30.0  # the cleanup polls until the signal
    env = automatos_env(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    proc, out, err = _sigterm_once(
        ["run", str(playbook), "--env", str(env), "--store", str(store)],
        lambda: sim.calls["distribution_status"] >= 2, secrets)  # the cleanup is polling
    assert "Traceback" not in out + err
    assert proc.returncode == 130, out + err
    row = _only_run(store)
    assert row["status"] == "interrupted", row
    assert "interrupted by SIGTERM" in row["error"]
    assert row["hint"] == f"continue it with: runner resume {row['run_id']}"
    sim.run_seconds = 0.5
    resumed = cli("resume", row["run_id"], "--store", str(store), env=secrets, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sim.calls["create_distribution"] == 1  # the same job: no second create
    final = Store(str(store)).get_run(row["run_id"])
    assert final is not None and final["status"] == "passed"


def test_sigterm_stops_a_batch_as_ctrl_c_does(tmp_path: Path, sim: AutomatosSimulator) -> None:
    """`runner run --inputs-from` and SIGTERM: rows not started never start, runs under way
    stop as interrupted (after their finally steps), the summary says so, exit 130."""
    sim.run_seconds = 30.0
    env = automatos_env(tmp_path, sim)
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"hostname": "NTB2"}\n' * 4)
    store = tmp_path / "runs.db"
    proc = subprocess.Popen(
        [str(RUNNER), "run", str(PLAYBOOK), "--inputs-from", str(rows), "--concurrency", "2",
         "--env", str(env), "--store", str(store)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "AUTOMATOS_KEY": sim.automatos_key})
    try:
        _wait_for(lambda: sim.calls["distribution_status"] >= 2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert "2 interrupted, 2 not started" in out, out
    assert "stopped by SIGTERM before rows 3, 4 started" in out, out  # not "by Ctrl-C"
    assert "Traceback" not in err
    assert sim.calls["create_distribution"] == 2
    assert sim.calls["get_machine"] == 4  # two lookups, two finally steps
    recorded = Store(str(store)).find_runs()
    # the rows not started stay recorded as queued: runner resume --batch runs them
    assert sorted(r["status"] for r in recorded) == ["interrupted", "interrupted",
                                                     "queued", "queued"]
    assert {r["error"] for r in recorded if r["status"] == "interrupted"} == {"interrupted"}


# -- an internal error ---------------------------------------------------------------------------

ECHO = ROOT / "tests" / "thirdparty" / "runner-connector-echo"
CRASHING = '''
    def prepare(self, call: PreparedCall) -> None:
        if call.headers.get("X-Mood") == "explode":  # added by tests/e2e/test_run_ends.py
            raise RuntimeError("the hook exploded")
'''


@pytest.fixture(scope="module")
def crashing_echo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The example third-party connector, installed (pip, into a directory only the
    subprocesses see) with a hook that raises on a request with ``X-Mood: explode``."""
    tmp = tmp_path_factory.mktemp("crashing-echo")
    src = tmp / "src"
    shutil.copytree(ECHO, src, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                               "__pycache__"))
    hooks = src / "runner_connector_echo" / "hooks.py"
    text = hooks.read_text()
    head = "\n    def prepare(self, call: PreparedCall) -> None:\n"
    assert head in text
    hooks.write_text(text.replace(head, CRASHING, 1))
    target = tmp / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--no-index", "--target", str(target),
                           str(src)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    path = os.pathsep.join(p for p in (str(target), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


def _echo_playbook(tmp_path: Path) -> Path:
    playbook = tmp_path / "echo.yaml"
    playbook.write_text("""\
name: Post a message and read it back
inputs:
  mood: {type: string}
connectors:
  echo: {use: echo}
steps:
  - id: post
    call: echo.post_message
    with: {text: hello}
    extract: {message_id: $.data.id}
  - id: read
    call: echo
    method: GET
    path: "/messages/{{ message_id }}"
    headers: {X-Mood: "{{ inputs.mood }}"}
    allow-error: true  # a resume runs a new sandbox: the message is not there any more
  - id: after
    call: echo.post_message
    with: {text: "after"}
finally:
  - id: goodbye
    call: echo.post_message
    with: {text: "goodbye"}
""")
    return playbook


def test_an_internal_error_records_the_run_errored(tmp_path: Path,
                                                   crashing_echo: dict[str, str]) -> None:
    """A hook that raises: the run is recorded errored at the step it was in (not passed),
    the finally step still runs (its request answered by the simulator), the CLI says
    "internal error" in a few lines without a traceback and exits 3; the traceback is in the
    crash log; `runner resume` takes an errored run up again."""
    store = tmp_path / "runs.db"
    playbook = _echo_playbook(tmp_path)
    done = cli("run", str(playbook), "-i", "mood=explode", "--store", str(store),
               env=crashing_echo)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    # the step's file:line first (`- id: read` is line 11), as every run-time error
    assert f"errored at step 'read': {playbook}:11: internal error: RuntimeError: the hook " \
        "exploded" in done.stderr, done.stderr
    assert "ERRORED at step 'read'" in done.stdout
    assert "ERR! read" in done.stdout and "PASS goodbye" in done.stdout
    log = done.stderr.split("the details are in ")[1].split()[0]
    assert "Traceback" in Path(log).read_text() and "the hook exploded" in Path(log).read_text()
    row = _only_run(store)
    assert row["status"] == "errored"
    assert row["failed_step"] == "step 'read'"
    assert row["error"] == f"{playbook}:11: internal error: RuntimeError: the hook exploded"
    steps = {s["id"]: s for s in row["report"]["steps"]}
    assert list(steps) == ["post", "read", "goodbye"]  # `after` never ran; the finally did
    assert steps["read"]["status"] == "errored"
    assert steps["goodbye"]["status"] == "passed"
    assert steps["goodbye"]["exchanges"][-1]["response"]["status"] == 201  # it reached the sim
    history = cli("history", "--store", str(store), "--status", "errored")
    assert history.returncode == 0 and row["run_id"] in history.stdout, history.stderr

    # RUNNER_DEBUG=1 shows the traceback on stderr
    debug = cli("run", str(playbook), "-i", "mood=explode", "--store", str(store),
                env={**crashing_echo, "RUNNER_DEBUG": "1"})
    assert debug.returncode == 3 and "Traceback" in debug.stderr

    # an errored run is resumable: the post is not sent again, the read goes out calm
    resumed = cli("resume", row["run_id"], "--store", str(store), "-i", "mood=calm",
                  env=crashing_echo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # said before it starts: the new sandbox has not the message `post` made (`read` allows it)
    assert f"note: run {row['run_id']} ran in the sandbox" in resumed.stderr, resumed.stderr
    assert "what it sent before (step 'goodbye', step 'post') is not " \
        "there" in resumed.stderr
    final = Store(str(store)).get_run(row["run_id"])
    assert final is not None and final["status"] == "passed"
    steps = {s["id"]: s for s in final["report"]["steps"]}
    assert steps["post"].get("resumed") is True and steps["read"]["status"] == "passed"


def test_an_internal_error_in_a_batch_row_writes_the_crash_log_it_points_to(
        tmp_path: Path, crashing_echo: dict[str, str]) -> None:
    """A row of `--inputs-from` that meets an internal error: its run is errored, its hint
    says "report it with the crash log", so the batch writes that log (the traceback) and
    names it; the calm row passes."""
    store = tmp_path / "runs.db"
    rows = tmp_path / "rows.csv"
    rows.write_text("mood\ncalm\nexplode\n")
    done = cli("run", str(_echo_playbook(tmp_path)), "--inputs-from", str(rows), "-c", "1",
               "--store", str(store), env=crashing_echo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "crash log" in done.stdout  # the hint promises one
    said = [line for line in done.stdout.splitlines() if "the details are in " in line]
    assert len(said) == 1, done.stdout
    assert said[0].startswith("  row 2: ")
    log = Path(said[0].split("the details are in ")[1].split()[0].rstrip(";"))
    assert "Traceback" in log.read_text() and "the hook exploded" in log.read_text()
    assert sorted(r["status"] for r in Store(str(store)).find_runs()) == ["errored", "passed"]


def test_an_internal_error_in_a_loop_iteration_errors_the_run(
        tmp_path: Path, crashing_echo: dict[str, str]) -> None:
    """An iteration that meets an internal error: not swallowed by the loop, the run is
    errored, exit 3."""
    store = tmp_path / "runs.db"
    playbook = tmp_path / "loop.yaml"
    playbook.write_text("""\
name: Post messages
connectors:
  echo: {use: echo}
steps:
  - id: post
    loop: ["calm", "explode", "calm"]
    call: echo
    method: GET
    path: /messages/none
    headers: {X-Mood: "{{ item }}"}
    allow-error: true
""")
    done = cli("run", str(playbook), "--store", str(store), env=crashing_echo)
    assert done.returncode == 3, done.stdout + done.stderr
    row = _only_run(store)
    assert row["status"] == "errored"
    assert row["failed_step"] == "step 'post[1]'"


def test_a_reader_that_goes_away_does_not_stop_a_batch(tmp_path: Path,
                                                       sim: AutomatosSimulator) -> None:
    """`runner run --inputs-from rows | head -1`: every row still runs and is recorded, and
    the exit code is the batch's."""
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"hostname": "NTB2"}\n' * 3)
    command = (f"'{RUNNER}' run '{PLAYBOOK}' --inputs-from '{rows}' --concurrency 1 "
               f"--env '{env}' --store '{store}' | head -1; exit ${{PIPESTATUS[0]}}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=90,
                          env={**os.environ, "AUTOMATOS_KEY": sim.automatos_key})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    recorded = Store(str(store)).find_runs()
    assert [r["status"] for r in recorded] == ["passed"] * 3
    assert sim.calls["create_distribution"] == 3


# -- a full disk ---------------------------------------------------------------------------------

@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real filesystem of its own, 1 MiB: a tmpfs, mounted for the test (root only; CI runs
    as root, where a failure to mount fails the test)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs: {done.stderr}")
        pytest.skip(f"mounting a tmpfs needs root: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    """Write a file until the filesystem is full; the file, to free the space again."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == 28, e  # ENOSPC
    return filler


def test_a_full_disk_mid_run_stops_it_clearly_and_resume_finishes(
        tmp_path: Path, sim: AutomatosSimulator, small_disk: Path) -> None:
    """The store's disk fills up while the run polls: the run stops at once with a clear
    message (no traceback), exit 3; the finally step still reaches the simulator; what the
    store holds is whole (integrity check, every journal row readable) and says the run is
    running, as the message says; once space is freed, `runner resume --force` finishes the
    same job without a second create."""
    import sqlite3

    sim.run_seconds = 3.0
    store = small_disk / "runs.db"
    env = automatos_env(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    proc = subprocess.Popen(
        [str(RUNNER), "run", str(PLAYBOOK), "--env", str(env), "-i", "hostname=NTB2",
         "--store", str(store)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **secrets})
    try:
        _wait_for(lambda: sim.calls["distribution_status"] >= 1)
        filler = _fill(small_disk)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, out + err
    assert "Traceback" not in out + err
    run_id = out.split(" · run ")[1].split()[0]
    assert (f"error: run {run_id} errored at step 'wait': the run store failed: database or "
            "disk is full; the run could not be recorded as errored: the store still shows it "
            "running") in err, err
    assert ("hint: free space on the store's disk (or bring its database back), then: "
            f"runner resume {run_id} --force") in err
    assert sim.calls["get_machine"] == 2  # the lookup, then the finally step after the signal
    assert sim.calls["create_distribution"] == 1

    filler.unlink()
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    row = Store(str(store)).get_run(run_id)
    assert row is not None and row["status"] == "running"
    entries = Store(str(store)).entries(run_id)  # every row whole: its JSON parses
    assert [(e.step_key, e.event) for e in entries][-1] == ("steps/1", "finished")

    resumed = cli("resume", run_id, "--store", str(store), "--force", env=secrets)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sim.calls["create_distribution"] == 1
    final = Store(str(store)).get_run(run_id)
    assert final is not None and final["status"] == "passed"


def test_a_worker_whose_store_fills_up_leaves_the_run_to_be_taken_up_again(
        tmp_path: Path, sim: AutomatosSimulator, small_disk: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a worker the same full disk must not end the message: the run's end could not be
    recorded, so the worker answers "busy" (the message comes back) and, once there is space,
    the run is resumed to its end on the same job. (Kept from before errored existed, when
    the store's exception escaped the engine: a regression test, not a new behaviour.)"""
    import threading

    from runner.jobs import RunJob, execute_job

    sim.run_seconds = 3.0
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    env = automatos_env(tmp_path, sim)
    store = Store(str(small_disk / "runs.db"))
    try:
        assert store.create_run("w1", "distribute", str(PLAYBOOK), str(env), {},
                                status="queued")
        job = RunJob("w1", str(PLAYBOOK), str(env), {"hostname": "NTB2"})
        outcome: list[str] = []
        worker = threading.Thread(target=lambda: outcome.append(execute_job(store, job)))
        worker.start()
        _wait_for(lambda: sim.calls["distribution_status"] >= 1)
        filler = _fill(small_disk)
        worker.join(timeout=60)
        assert outcome == ["busy"]
        filler.unlink()
        row = store.get_run("w1")
        assert row is not None and row["status"] == "running"
        sim.run_seconds = 0.5
        assert execute_job(store, job, stale_after=0.0) == "passed"
        assert sim.calls["create_distribution"] == 1
    finally:
        store.close()


@pytest.mark.parametrize("command", [["history"], ["history", "--json"], ["show", "RUN"],
                                     ["show", "RUN", "--json"], ["plan", str(PLAYBOOK)]])
def test_a_reader_that_goes_away_is_no_internal_error_for_any_command(
        tmp_path: Path, sim: AutomatosSimulator, command: list[str]) -> None:
    """`runner history | head -1` (and show, plan): a reader that closes the pipe before the
    command writes is not a bug in runner: no "internal error", no crash log, exit 0."""
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    secrets = {**os.environ, "AUTOMATOS_KEY": sim.automatos_key}
    assert cli("run", str(PLAYBOOK), "--env", str(env), "-i", "hostname=NTB2", "--store",
               str(store), "-q", env=secrets).returncode == 0
    run_id = _only_run(store)["run_id"]
    args = [run_id if a == "RUN" else a for a in command]
    extra = ["--env", str(env), "-i", "hostname=NTB2"] if command[0] == "plan" \
        else ["--store", str(store)]
    proc = subprocess.Popen([str(RUNNER), *args, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=secrets)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, err
    assert "internal error" not in err and "Traceback" not in err, err
