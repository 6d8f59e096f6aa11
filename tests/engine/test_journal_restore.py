"""The step journal and what a resumed run learns from it, in process against the Automatos
simulator over real HTTP with a real SQLite store: what each entry holds, how an earlier
attempt's entries are read back (finished, sent, answered), what a resumed run restores
(extracted values, `steps.<id>`, include outputs, skipped steps) and what it does with a call
that is not safe to repeat whose outcome is unknown (stop, or ask its `resume-check`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner import api
from runner.journal import Journal, ResumeState
from runner.results import RunResult
from runner.secrets import MASK, Redactor
from runner.simulator_faults import Faults
from runner.store import Store

RUN = "20261201-000000-aaaaaa"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "runs.db"))
    s.create_run(RUN, "p", "p.yaml", "sandbox", {})
    yield s
    s.close()


def events(store: Store, run_id: str = RUN) -> list[tuple[str, str, str | None, Any]]:
    return [(e.step_key, e.event, e.status, e.data) for e in store.entries(run_id)]


# -- what each entry holds ---------------------------------------------------------------------
def test_sent_answered_and_finished_entries_are_redacted(store: Store) -> None:
    j = Journal(store, RUN, Redactor(["tok-s3cret"]))
    j.sent("steps/1", {"method": "POST", "url": "https://h/x?key=tok-s3cret", "body": "b"})
    j.answered("steps/1", "ok", None, 201)
    j.sent("steps/2", {"method": "PUT", "url": "https://h/y"})
    j.answered("steps/2", "not-applied", "refused: tok-s3cret is wrong", 400)
    j.finished("steps/2", "failed", {"token": "tok-s3cret", "n": 1},
               {"token": "tok-s3cret", "n": 1})
    assert j.unsafe_keys == {"steps/1", "steps/2"}
    assert events(store) == [
        ("steps/1", "sent", None, {"method": "POST", "url": f"https://h/x?key={MASK}"}),
        ("steps/1", "answered", "ok", {"error": "", "status": 201}),
        ("steps/2", "sent", None, {"method": "PUT", "url": "https://h/y"}),
        ("steps/2", "answered", "not-applied",
         {"error": f"refused: {MASK} is wrong", "status": 400}),
        ("steps/2", "finished", "failed",
         {"defined": {"token": MASK, "n": 1}, "steps": {"token": MASK, "n": 1}}),
    ]


def test_a_loop_iteration_has_its_own_entry_only_when_it_sent_something_unsafe(
        store: Store) -> None:
    j = Journal(store, RUN, Redactor())
    j.finished("steps/1[0]", "passed", {}, {"x": 1}, iteration=True)  # safe: the loop's entry
    j.sent("steps/1[1]", {"method": "POST", "url": "u"})
    j.finished("steps/1[1]", "passed", {}, {"x": 2}, iteration=True)
    j.finished("steps/1", "passed", {"xs": [1, 2]}, {"iterations": ["passed", "passed"]})
    assert [(k, e) for k, e, _, _ in events(store)] == [
        ("steps/1[1]", "sent"), ("steps/1[1]", "finished"), ("steps/1", "finished")]
    assert events(store)[1][3] == {"defined": {}, "steps": {"x": 2}}


def test_the_heartbeat_is_written_at_most_every_few_seconds(store: Store) -> None:
    store.update_run(RUN, heartbeat=0.0)
    j = Journal(store, RUN, Redactor())
    j.heartbeat()
    first = store.get_run(RUN)["heartbeat"]  # type: ignore[index]
    assert first > 0.0
    store.update_run(RUN, heartbeat=0.0)
    j.heartbeat()  # right after: not written again
    assert store.get_run(RUN)["heartbeat"] == 0.0  # type: ignore[index]


# -- what a resume reads back ------------------------------------------------------------------
def test_what_an_earlier_attempt_left_is_read_back(store: Store) -> None:
    w = store.write
    w(RUN, "steps/0", "finished", "passed", {"defined": {"a": 1}, "steps": {"a": 1}})
    w(RUN, "steps/1", "finished", "skipped", {"defined": {}, "steps": {}})
    w(RUN, "steps/2", "finished", "failed", {"defined": {}, "steps": {}})
    w(RUN, "steps/3", "sent", data={"method": "POST"})  # sent, never answered: unknown
    w(RUN, "steps/4", "sent", data={})
    w(RUN, "steps/4", "answered", "ok", {"error": ""})  # it worked; the step did not finish
    w(RUN, "steps/5", "sent", data={})
    w(RUN, "steps/5", "answered", "not-applied", {"error": "no"})  # refused: may go again
    w(RUN, "steps/6", "sent", data={})
    w(RUN, "steps/6", "answered", "ok", {"error": ""})
    w(RUN, "steps/6", "finished", "passed", {"defined": {"job": "J1"}, "steps": {}})
    state = ResumeState.load(store, RUN)
    assert state.finished == {
        "steps/0": {"defined": {"a": 1}, "steps": {"a": 1}, "status": "passed"},
        "steps/1": {"defined": {}, "steps": {}, "status": "skipped"},
        "steps/6": {"defined": {"job": "J1"}, "steps": {}, "status": "passed"}}
    assert state.done("steps/0") == {"defined": {"a": 1}, "steps": {"a": 1}, "status": "passed"}
    assert state.done("steps/2") is None and state.done("steps/9") is None
    assert state.unsafe_outcome == {"steps/3": "unknown", "steps/4": "ok"}
    assert [state.blocked(f"steps/{i}") for i in range(7)] == [
        None, None, None, "unknown", "ok", None, None]
    assert state.resumed_keys == set()
    assert ResumeState.load(store, "no-such-run") == ResumeState()


def test_entries_out_of_the_usual_order_are_read_back_without_error(store: Store) -> None:
    store.write(RUN, "steps/0", "answered", "not-applied", {"error": "no"})  # no sent before
    store.write(RUN, "steps/1", "finished", "passed", {"defined": {}, "steps": {}})
    store.write(RUN, "steps/1", "answered", "not-applied", {"error": "no"})
    state = ResumeState.load(store, RUN)
    assert state.unsafe_outcome == {} and set(state.finished) == {"steps/1"}


# -- what a resumed run restores, end to end ---------------------------------------------------
PLAYBOOK = """\
name: resume me
inputs:
  package: {type: string, default: ""}
  look_again: {type: boolean, default: false}
  check_host: {type: string, default: NTB2}
  dept: {type: string, default: DEV}
connectors:
  automatos: {use: automatos}
steps:
  - auth: automatos
  - id: find
    call: automatos.get_machine
    with: {hostname: NTB2}
    extract: {machine_id: "$.data.machines[0].machineId"}
  - id: again
    when: "inputs.look_again"
    call: automatos.get_machine
    with: {hostname: NTB2}
  - id: sub
    include: sub.yaml
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: "{{ inputs.package }}"}
    extract: {job_name: $.data.jobName}
    RESUME_CHECK
  - assert:
      - "steps.find.machine_id == '456DEF'"
      - "machine_id == '456DEF'"
      - "sub.name == 'NTB2-sub'"
      - "response.status_code == 200"
      - "steps.job.response.status_code == 200"
"""
SUB = """\
name: sub
steps:
  - assert: "true"
outputs:
  name: "NTB2-sub"
"""


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.1, run_seconds=0.1) as s:
        yield s


class Lab:
    def __init__(self, tmp_path: Path, sim: AutomatosSimulator, store: Store) -> None:
        self.sim, self.store = sim, store
        self.playbook = tmp_path / "resume.yaml"
        self.playbook.write_text(PLAYBOOK.replace("RESUME_CHECK", ""))
        (tmp_path / "sub.yaml").write_text(SUB)
        self.env = tmp_path / "lab.yaml"
        self.env.write_text(f"connectors:\n  automatos:\n    base_url: {sim.url}\n"
                            f"    automatos_id: '{sim.automatos_id}'\n"
                            "    automatos_key: {secret: AUTOMATOS_KEY}\n")

    def run(self, **inputs: Any) -> RunResult:
        return api.run(self.playbook, env=str(self.env), quiet=True, store=self.store,
                       inputs=inputs)

    def resume(self, run_id: str, **inputs: Any) -> RunResult:
        self.state = ResumeState.load(self.store, run_id)
        return api.run(self.playbook, env=str(self.env), quiet=True, store=self.store,
                       inputs=inputs, run_id=run_id, resume=self.state)


@pytest.fixture()
def lab(tmp_path: Path, sim: AutomatosSimulator, store: Store,
        monkeypatch: pytest.MonkeyPatch) -> Lab:
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    return Lab(tmp_path, sim, store)


def step(result: RunResult, step_id: str) -> Any:
    return next(s for s in result.steps if s.step_id == step_id)


def test_a_resume_restores_values_steps_includes_and_skipped_steps(lab: Lab) -> None:
    first = lab.run()  # an empty package: the vendor refuses the create
    assert first.status == "failed" and step(first, "job").status == "failed"
    assert step(first, "again").status == "skipped"
    looked = lab.sim.calls["get_machine"]
    again = lab.resume(first.run_id, package="7zip.exe", look_again=True)
    assert again.status == "passed", again.error
    # find, again (skipped before: not looked at again) and the include: from the journal
    assert [step(again, s).resumed for s in ("find", "again", "sub", "job")] == \
        [True, True, True, False]
    assert step(again, "find").extracted == {"machine_id": "456DEF"}
    assert [step(again, s).status for s in ("find", "again", "sub")] == \
        ["passed", "skipped", "passed"]
    assert step(again, "again").skipped_reason == "when: inputs.look_again"
    assert step(again, "find").skipped_reason is None
    assert step(again, "sub").outputs == {"name": "NTB2-sub"}
    assert lab.sim.calls["get_machine"] == looked  # nothing looked up again
    assert lab.state.resumed_keys == {"steps/0", "steps/1", "steps/2", "steps/3"}
    assert [d["package"] for d in lab.sim.distributions] == ["7zip.exe"]
    state = ResumeState.load(lab.store, first.run_id)
    assert {"steps/1", "steps/2", "steps/3", "steps/4", "steps/5"} <= set(state.finished)


def test_a_create_whose_outcome_is_unknown_is_not_sent_again(lab: Lab) -> None:
    first = lab.run()
    lab.store.write(first.run_id, "steps/4", "sent", data={})  # then the process was killed
    again = lab.resume(first.run_id, package="7zip.exe")
    job = step(again, "job")
    assert again.status == "failed" and job.status == "failed"
    assert job.error == ("automatos.create_distribution is not safe to repeat and was sent "
                         "before the run stopped; its outcome is unknown (no answer came back), "
                         "so it is not sent again")
    assert job.hint == ("check on the vendor's side whether it took effect; a resume-check: "
                        "on the step lets runner find out by itself; or start a new run")
    assert lab.sim.distributions == []


def test_a_create_answered_by_a_gateway_error_is_not_sent_again(lab: Lab) -> None:
    first = lab.run()
    lab.store.write(first.run_id, "steps/4", "sent", data={})
    lab.store.write(first.run_id, "steps/4", "answered", "unknown",
                    {"error": "HTTP 504: gateway timeout", "status": 504})
    job = step(lab.resume(first.run_id, package="7zip.exe"), "job")
    assert job.status == "failed"
    assert job.error == ("automatos.create_distribution is not safe to repeat and was sent "
                         "before the run stopped; its outcome is unknown (it was answered HTTP "
                         "504, which does not prove it was not applied), so it is not sent again")
    assert lab.sim.distributions == []


def test_a_create_that_succeeded_but_did_not_finish_is_not_sent_again(lab: Lab) -> None:
    first = lab.run()
    lab.store.write(first.run_id, "steps/4", "sent", data={})
    lab.store.write(first.run_id, "steps/4", "answered", "ok", {"error": ""})
    job = step(lab.resume(first.run_id, package="7zip.exe"), "job")
    assert job.status == "failed"
    assert "it succeeded but the step did not finish, so it is not sent again" in job.error
    assert lab.sim.distributions == []


RESUME_CHECK = (
    "resume-check:\n      call: automatos.get_machine\n"
    "      with: {hostname: \"{{ inputs.check_host }}\"}\n"
    "      extract: {job_name: \"$.data.machines[?(@.department == '{{ inputs.dept }}')]"
    ".machineId\"}")


# the simulator matches hostnames in any case: "ntb2" finds NTB2, and only the check's own
# request has it in its URL, so a later step tells the check's answer from find's
@pytest.mark.parametrize(("hostname", "sent_again"), [("ntb2", False), ("NOPE", True)])
def test_a_resume_check_decides(lab: Lab, hostname: str, sent_again: bool) -> None:
    """The check's answer is not an error: it took effect (its extract defines the names, and
    later steps read its response); an error answer: it did not, and the step is sent now."""
    lab.playbook.write_text(PLAYBOOK.replace("RESUME_CHECK", RESUME_CHECK) + (
        "  - assert: \"('hostname=ntb2' in response.url) == (inputs.check_host == 'ntb2')\"\n"))
    first = lab.run()
    lab.store.write(first.run_id, "steps/4", "sent", data={})
    again = lab.resume(first.run_id, package="7zip.exe", check_host=hostname)
    job = step(again, "job")
    assert again.status == "passed", again.error
    assert job.status == "passed" and not job.resumed
    if sent_again:
        assert [d["package"] for d in lab.sim.distributions] == ["7zip.exe"]
        assert job.skipped_reason is None
        assert job.extracted["job_name"] == lab.sim.distributions[0]["jobName"]
    else:
        assert lab.sim.distributions == []
        assert job.skipped_reason == "resume-check: automatos.get_machine found it done"
        assert job.extracted == {"job_name": "456DEF"}
    finished = [e for e in lab.store.entries(first.run_id)
                if e.step_key == "steps/4" and e.event == "finished"]
    assert finished[-1].status == "passed"
    assert finished[-1].data["defined"] == {"job_name": job.extracted["job_name"]}


def test_a_resume_check_answered_by_a_gateway_error_does_not_tell(lab: Lab) -> None:
    """A 502 to the check proves nothing either way: the create is not sent, the run stops."""
    lab.playbook.write_text(PLAYBOOK.replace("RESUME_CHECK", RESUME_CHECK))
    first = lab.run()
    lab.store.write(first.run_id, "steps/4", "sent", data={})
    lab.sim.faults = Faults(error_5xx=1.0, status_5xx=502, only={"get_machine"})
    again = lab.resume(first.run_id, package="7zip.exe")
    job = step(again, "job")
    assert again.status == "failed" and job.status == "failed"
    assert job.error == ("automatos.create_distribution is not safe to repeat and was sent "
                         "before the run stopped; its outcome is unknown (no answer came back), "
                         "and its resume-check automatos.get_machine was answered HTTP 502, "
                         "which does not tell: it is not sent again")
    assert job.hint == ("run runner resume again once the vendor answers, or check on its side "
                        "whether the first request took effect")
    assert lab.sim.distributions == []


# -- what a restored step leaves in `response` and `steps.<id>` --------------------------------
RESTORE = """\
name: what a resume puts back
inputs:
  ok: {type: boolean, default: false}
connectors:
  automatos: {use: automatos}
steps:
  - auth: automatos
  - id: find
    call: automatos.get_machine
    with: {hostname: NTB2}
  - id: quiet
    when: "inputs.ok"
    call: automatos.get_machine
    with: {hostname: NTB1}
  - id: sub
    include: sub.yaml
  - id: check
    assert:
      - "inputs.ok"
      - "response.json.data.machines[0].machineId == '456DEF'"
      - "response.url.endswith('hostname=NTB2')"
      - "steps.find.response.json.data.machines[0].hostname == 'NTB2'"
      - "steps.find.response.status_code == 200"
      - "steps.quiet is not defined"
      - "sub.name == 'NTB2-sub'"
"""


def test_a_restored_call_leaves_its_answer_in_response_and_in_its_steps_entry(
        lab: Lab) -> None:
    """The steps after it read the answer of the last restored call (a restored step that made
    none, skipped or an include, leaves `response` as it was) and `steps.find.response`."""
    lab.playbook.write_text(RESTORE)
    first = lab.run()
    assert step(first, "check").status == "failed"
    looked = lab.sim.calls["get_machine"]
    again = lab.resume(first.run_id, ok=True)
    assert again.status == "passed", again.error
    assert [step(again, s).resumed for s in ("find", "quiet", "sub", "check")] == \
        [True, True, True, False]
    assert lab.sim.calls["get_machine"] == looked


def test_an_entry_without_steps_or_own_response_is_restored_as_it_says(lab: Lab) -> None:
    """An older runner's entry has no `steps` (it always made `steps.<id>`: {} then); an entry
    with a `response` but no `steps_response` puts the answer back in `response` only."""
    lab.playbook.write_text(RESTORE.replace(
        '"steps.quiet is not defined"', '"steps.quiet == {} and steps.find == {}"').replace(
        '- "steps.find.response', '# "steps.find.response'))
    first = lab.run()
    found = next(e for e in lab.store.entries(first.run_id)
                 if e.step_key == "steps/1" and e.event == "finished")
    lab.store.write(first.run_id, "steps/1", "finished", "passed", {"defined": {}})
    lab.store.write(first.run_id, "steps/2", "finished", "passed",
                    {"defined": {}, "steps": {}, "response": found.data["response"]})
    again = lab.resume(first.run_id, ok=True)
    assert again.status == "passed", again.error
