"""The ERA integration-channel runbooks and operations end to end: real HTTP to the simulator,
no mocks. Every documented error answer ends in a step failure that names the vendor's message."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import PLAYBOOKS, ROOT, Outcome, cli, run_playbook
from runner.builtin.era.simulator import EraSimulator

from runner import api
from runner.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from runner.sandbox import Sandbox
from runner.secrets import Redactor
from runner.simulator import route
from runner.simulator_messages import Reply, Request

ROTATE = PLAYBOOKS / "era" / "rotate-channel.yaml"
CREATE = PLAYBOOKS / "era" / "create-channel.yaml"
TESTS = ROOT / "tests" / "playbooks" / "era"
COLLECTION = "/rest/v1/service/integration_points"
ID1 = "b4680fbe-016c-d86f-1d6b-50e54938780c"  # code ABCDE, type public
ID2 = "a188288e-016c-d86f-cd99-50e54938780c"  # code 902, type telegram
TOKEN1 = "82ddc7c68623726346a78371173e2f8d"  # token_local of ID1
BOT_TOKEN = "bot-7741:AAF-new-remote-token-value"


def run(path: Path, tmp_path: Path, inputs: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None, root: Path | None = None) -> Outcome:
    """Run with an era simulator of our own, so its state can be read afterwards."""
    box = Sandbox({"era": options or {}})
    try:
        return run_playbook(path, tmp_path, inputs, sandbox=box, root=root)
    finally:
        box.stop()


def sim_of(out: Outcome) -> EraSimulator:
    sim: EraSimulator = out.sandbox.simulators["era"]
    return sim


def step(out: Outcome, step_id: str) -> Any:
    return next(s for s in out.result.steps if s.step_id == step_id)


def assert_no_leak(out: Outcome, *extra: str) -> None:
    text = out.outputs()
    for value in [*sim_of(out).secret_values(), *extra]:
        assert value not in text


# -- create-channel.yaml -------------------------------------------------------------------
def test_create_channel_creates_then_reuses(tmp_path: Path) -> None:
    box = Sandbox({"era": {}})
    try:
        inputs = {"code": "SUPPORT", "url": "http://hooks.example.test/in"}
        first = run_playbook(CREATE, tmp_path, inputs, sandbox=box)
        assert first.result.status == "passed", first.console
        sim = sim_of(first)
        outs = first.result.outputs
        assert outs["created"] is True
        channel = sim.channels[outs["channel_id"]]
        assert (channel["code"], channel["type"], channel["url"]) == (
            "SUPPORT", "im", "http://hooks.example.test/in")
        assert outs["token_local"] == channel["token_local"]
        assert len(outs["token_local"]) == 32
        # token_local is data, not a secret: it is shown
        assert outs["token_local"] in first.console
        assert step(first, "find").exchanges[0].response["status"] == 404

        again = run_playbook(CREATE, tmp_path, inputs, sandbox=box)
        assert again.result.status == "passed", again.console
        assert again.result.outputs == {**outs, "created": False}
        assert step(again, "create").status == "skipped"
        assert sim.calls["create"] == 1 and sim.calls["lookup"] == 2
        assert len(sim.channels) == 3
        assert_no_leak(again)
    finally:
        box.stop()


def test_create_channel_finds_the_seeded_one(tmp_path: Path) -> None:
    out = run(CREATE, tmp_path, {"code": "ABCDE", "type": "public", "url": "http://x.test"})
    assert out.result.status == "passed", out.console
    assert out.result.outputs == {"channel_id": ID1, "token_local": TOKEN1, "created": False}
    assert sim_of(out).calls["create"] == 0


def test_create_channel_refuses_an_existing_channel_of_another_type(tmp_path: Path) -> None:
    out = run(CREATE, tmp_path, {"code": "902", "url": "http://x.test"})
    assert out.result.status == "failed"
    assert out.result.failed_step == "step 'channel'"
    assert "channel 902 exists with type telegram, not im" in out.result.error
    assert sim_of(out).calls["create"] == 0


def test_create_channel_refused_type_names_the_vendor_message(tmp_path: Path) -> None:
    out = run(CREATE, tmp_path, {"code": "NEW", "type": "sms", "url": "http://x.test"})
    assert out.result.status == "failed"
    assert "Invalid value of field 'type' (error_code 1400)" in out.result.error
    assert len(sim_of(out).channels) == 2


def test_create_channel_through_include(tmp_path: Path) -> None:
    out = run(TESTS / "onboard-two.yaml", tmp_path, root=ROOT)  # it includes ../../../playbooks
    assert out.result.status == "passed", out.console
    outs = out.result.outputs
    sim = sim_of(out)
    assert outs["web_created"] is True and outs["support_created"] is False
    assert outs["support_id"] == ID1
    assert sim.channels[outs["web_id"]]["token_local"] == outs["web_token_local"]
    assert sim.channels[outs["web_id"]]["type"] == "public"


# -- rotate-channel.yaml -------------------------------------------------------------------
def test_rotate_by_token_local_repoints_and_rotates(tmp_path: Path) -> None:
    out = run(ROTATE, tmp_path, {"key": TOKEN1, "url": "http://new.example.test/hook",
                                 "token_remote": BOT_TOKEN})
    assert out.result.status == "passed", out.console
    sim = sim_of(out)
    channel = sim.channels[ID1]
    assert channel["url"] == "http://new.example.test/hook"
    assert channel["token_remote"] == BOT_TOKEN
    assert channel["token_local"] == TOKEN1  # untouched
    assert out.result.outputs["channel_id"] == ID1
    assert out.result.outputs["code"] == "ABCDE"
    assert out.result.outputs["url"] == "http://new.example.test/hook"
    assert out.result.outputs["previous_url"] == "http://trapper.com"
    assert out.result.outputs["changed_at"] == channel["ext"]["lwt"]
    assert sim.calls["lookup"] == 1 and sim.calls["patch"] == 2 and sim.calls["get"] == 2
    assert out.result.undo_status is None and out.result.undone == []  # nothing to undo
    # the new remote token went to the vendor and back, and is in no output
    assert_no_leak(out, BOT_TOKEN)
    assert "***" in out.report_json


def test_rotate_by_code_url_only(tmp_path: Path) -> None:
    out = run(ROTATE, tmp_path, {"key": "902", "url": "http://other.test/in"})
    assert out.result.status == "passed", out.console
    sim = sim_of(out)
    assert sim.channels[ID2]["url"] == "http://other.test/in"
    assert sim.channels[ID2]["token_remote"] == ""
    assert step(out, "rotate").status == "skipped"
    assert sim.calls["patch"] == 1


def test_rotate_without_changes_is_refused_before_any_call(tmp_path: Path) -> None:
    out = run(ROTATE, tmp_path, {"key": "902"})
    assert out.result.status == "failed"
    assert "nothing to change" in out.result.error
    assert "era" not in out.sandbox.simulators  # not even started: no call was made


def test_rotate_unknown_key_fails_with_lookup_failed(tmp_path: Path) -> None:
    out = run(ROTATE, tmp_path, {"key": "no-such-channel", "url": "http://x.test"})
    assert out.result.status == "failed"
    assert out.result.failed_step == "step 'find'"
    assert "Lookup failed (error_code 1404)" in out.result.error
    assert out.result.undo_status is None  # nothing was found, nothing to restore
    assert sim_of(out).calls["patch"] == 0


@pytest.mark.parametrize(("faults", "message", "patched"), [
    # the PATCH takes effect, then the connection drops: the outcome is unknown to the run
    ({"drop_after": 1.0}, "connection was dropped", 2),
    # the server fails the PATCH before acting (500 is not retried: a PATCH is not safe to
    # repeat); the simulator counts only requests that reached the route
    ({"error_5xx": 1.0, "status_5xx": 500}, "HTTP 500", 1),
])
def test_rotate_undoes_the_change_when_a_middle_step_fails(
        tmp_path: Path, faults: dict[str, Any], message: str, patched: int) -> None:
    seeded = [{**EraSimulator().channels[ID1], "token_remote": "old-bot-token-123"}]
    out = run(ROTATE, tmp_path, {"key": "ABCDE", "url": "http://new.test/hook",
                                 "token_remote": BOT_TOKEN},
              {"channels": seeded, "faults": {**faults, "only": {"patch"}, "count": 1}})
    assert out.result.status == "failed"  # undone, but the rotation did not happen
    assert out.result.failed_step == "step 'repoint'"
    assert message in out.result.error
    assert "rotate" not in [s.step_id for s in out.result.steps]  # the run stopped there
    # the re-point failed in a way that may have taken effect: its undo ran
    assert out.result.undo_status == "undone", out.console
    assert [s.step_id for s in out.result.undone] == ["restore_url"]
    rollback = out.result.undone[0]
    assert rollback.status == "passed", out.console
    sent = rollback.exchanges[-1].request["json"]
    assert sent == {"url": "http://trapper.com"}
    sim = sim_of(out)
    assert sim.calls["patch"] == patched  # the failed re-point (if it acted), the undo
    assert sim.channels[ID1]["url"] == "http://trapper.com"
    assert sim.channels[ID1]["token_remote"] == "old-bot-token-123"
    assert "PASS restore_url" in out.console
    assert_no_leak(out, BOT_TOKEN, "old-bot-token-123")


# -- operations: error answers -------------------------------------------------------------
@pytest.mark.parametrize(("body", "message"), [
    ({"token_local": "0123456789abcdef0123456789abcdef"},
     "Field 'token_local' can't be modified (error_code 1400)"),
    ({"tokenlocal": "x"}, "Field 'token_local' can't be modified (error_code 1400)"),
    ({"id": "another-id"}, "Field 'id' can't be modified (error_code 1400)"),
    ({"code": "902"}, "Integration point with code '902' already exists (error_code 1409)"),
])
def test_patch_refusals_name_the_vendor_message(tmp_path: Path, body: dict[str, Any],
                                                message: str) -> None:
    out = run(TESTS / "patch-raw.yaml", tmp_path, {"id": ID1, "body": body})
    assert out.result.status == "failed"
    assert message in out.result.error
    assert message in out.console
    sim = sim_of(out)
    assert sim.channels[ID1]["token_local"] == TOKEN1 and sim.channels[ID1]["code"] == "ABCDE"


def test_update_channel_cannot_even_send_token_local(tmp_path: Path) -> None:
    proc = cli("validate", str(TESTS / "update-token-local.yaml"))
    assert proc.returncode == EXIT_INVALID
    text = proc.stdout + proc.stderr
    assert "era.update_channel has no parameter 'token_local'" in text
    assert "update-token-local.yaml:9:" in text and "Traceback" not in text


@pytest.mark.parametrize("playbook", ["get-channel.yaml", "delete-channel.yaml"])
def test_missing_id_is_not_found(tmp_path: Path, playbook: str) -> None:
    out = run(TESTS / playbook, tmp_path, {"id": "0000-missing"})
    assert out.result.status == "failed"
    assert "Not found (error_code 1404)" in out.result.error
    assert len(sim_of(out).channels) == 2


def test_delete_answers_204(tmp_path: Path) -> None:
    out = run(TESTS / "delete-channel.yaml", tmp_path, {"id": ID2})
    assert out.result.status == "passed", out.console
    assert out.result.outputs == {"status": 204}
    assert list(sim_of(out).channels) == [ID1]


@pytest.mark.parametrize(("inputs", "message"), [
    ({"code": "ABCDE"}, "Integration point with code 'ABCDE' already exists (error_code 1409)"),
    ({"code": "X", "id": ID2}, f"Integration point with id '{ID2}' already exists"),
    ({"code": "X", "type": "fax"}, "Invalid value of field 'type' (error_code 1400)"),
    ({"code": "X", "opts": {"recv_timeout": "5"}},
     "Invalid value of field 'opts.recv_timeout' (error_code 1400)"),
])
def test_create_refusals_name_the_vendor_message(tmp_path: Path, inputs: dict[str, Any],
                                                 message: str) -> None:
    out = run(TESTS / "create-channel-direct.yaml", tmp_path, inputs)
    assert out.result.status == "failed"
    assert message in out.result.error
    assert len(sim_of(out).channels) == 2


def test_create_with_client_id_answers_200(tmp_path: Path) -> None:
    out = run(TESTS / "create-channel-direct.yaml", tmp_path, {"code": "C1", "id": "my-id-1"})
    assert out.result.status == "passed", out.console
    assert out.result.outputs["channel"]["id"] == "my-id-1"
    assert step(out, "create_with_id").exchanges[0].response["status"] == 200


def test_lookup_finds_by_id_code_and_token_local(tmp_path: Path) -> None:
    for key in (ID2, "902", "0f4c1e5a9b7d3c2e6a8f1b0d4e7c8e2b"):  # id, code, token_local
        out = run(TESTS / "lookup.yaml", tmp_path, {"key": key})
        assert out.result.status == "passed", out.console
        assert out.result.outputs == {"ids": [ID2]}
        # the key travels as a bare JSON string, even one that looks like a number
        assert step(out, "lookup").exchanges[0].request["json"] == key


def test_lookup_miss_without_allow_error_fails(tmp_path: Path) -> None:
    out = run(TESTS / "lookup.yaml", tmp_path, {"key": "nothing"})
    assert out.result.status == "failed"
    assert "era.lookup_channel answered: Lookup failed (error_code 1404)" in out.result.error


@pytest.mark.parametrize(("inputs", "message"), [
    ({}, "Lookup key must be a JSON string (error_code 1400)"),
    ({"path": f"{COLLECTION}/{ID1}"}, "Method not allowed (error_code 1405)"),
    ({"path": "/rest/v1/service/nothing"}, "Not found (error_code 1404)"),
])
def test_raw_lookup_errors(tmp_path: Path, inputs: dict[str, Any], message: str) -> None:
    out = run(TESTS / "lookup-raw.yaml", tmp_path, inputs)
    assert out.result.status == "failed"
    assert message in out.result.error


def test_bad_api_token_is_unauthorized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = EraSimulator(api_token="the-right-token-0123456789")
    sim.start()
    try:
        env = tmp_path / "staging.yaml"
        env.write_text(f"connectors:\n  era:\n    base_url: {sim.url}\n"
                       "    api_token: {secret: ERA_API_TOKEN}\n")
        monkeypatch.setenv("ERA_API_TOKEN", "a-wrong-token-9876543210")
        stream = io.StringIO()
        result = api.run(CREATE, env=str(env), inputs={"code": "X", "url": "http://x.test"},
                         stream=stream, redactor=Redactor())
        assert result.status == "failed"
        assert "looking up channel X failed: Unauthorized (error_code 1401)" in result.error
        assert "a-wrong-token-9876543210" not in stream.getvalue()
        assert sim.calls["create"] == 0
    finally:
        sim.stop()


# -- list: filter, mask, flat, order; the doc's repeated key -------------------------------
def test_list_with_filter_mask_flat(tmp_path: Path) -> None:
    out = run(TESTS / "list-channels.yaml", tmp_path, {
        "filter": {"type": "telegram"}, "mask": "id,code,tokenlocal,opts.title", "flat": True})
    assert out.result.status == "passed", out.console
    assert out.result.outputs["channels"] == [
        {"id": ID2, "code": "902", "token_local": "0f4c1e5a9b7d3c2e6a8f1b0d4e7c8e2b",
         "opts.title": ""}]
    query = step(out, "list").exchanges[0].request["query"]
    assert query["filter"] == '{"type":"telegram"}' and query["flat"] == "true"  # as sent


def test_list_nested_mask_order_and_paging(tmp_path: Path) -> None:
    out = run(TESTS / "list-channels.yaml", tmp_path, {
        "mask": "code,opts.title", "order": ["-code"], "limit": 1, "filter": {"opts.title": ""}})
    assert out.result.status == "passed", out.console
    assert out.result.outputs["channels"] == [{"code": "ABCDE", "opts": {"title": ""}}]
    out = run(TESTS / "list-channels.yaml", tmp_path, {"order": [{"code": "asc"}], "offset": 1})
    assert out.result.outputs["ids"] == [ID1]


@pytest.mark.parametrize(("inputs", "message"), [
    ({"filter": {"zzz": 1}}, "Unknown field 'zzz' (error_code 1400)"),
    ({"mask": "id,bogus"}, "Unknown field 'bogus' (error_code 1400)"),
    ({"offset": -1}, "Invalid offset or limit (error_code 1400)"),
    ({"order": [{"code": "sideways"}]}, "Invalid order (error_code 1400)"),
])
def test_list_refusals_name_the_vendor_message(tmp_path: Path, inputs: dict[str, Any],
                                               message: str) -> None:
    out = run(TESTS / "list-channels.yaml", tmp_path, inputs)
    assert out.result.status == "failed"
    assert message in out.result.error


DOC_LIST = b"""[
  {"id": "b4680fbe-016c-d86f-1d6b-50e54938780c", "code": "ABCDE", "type": "public",
   "token_local": "82ddc7c68623726346a78371173e2f8d", "token_remote": "", "url": "http://trapper.com",
   "opts": {"title": "", "allow_files_api": false, "issync": false},
   "ext": {"ct": "2019-08-28T13:34:16.42Z", "lwt": "2019-08-28T13:34:16.42Z"}},
  {"id": "a188288e-016c-d86f-cd99-50e54938780c", "code": "902", "type": "telegram",
   "token_local": "82ddc7c68623726346a78371173e2f8d", "token_remote": "", "url": "http://trapper.com",
   "opts": {"title": "", "allow_files_api": false, "issync": false},
   "ext": {"ct": "2019-08-28T13:34:16.42Z", "lwt": "2019-08-28T13:34:16.42Z"},
   "ext": {"ct": "2019-08-28T13:35:01.52Z", "lwt": "2019-08-28T13:35:01.52Z"}}
]"""


class DocListEra(EraSimulator):
    """The simulator, but its list answer is the doc's own example, repeated `ext` key and all."""

    @route("GET", COLLECTION, "list")
    def list_channels(self, req: Request) -> Reply:
        return Reply(200, DOC_LIST, {"Content-Type": "application/json; charset=utf-8"})


def test_list_answer_with_a_repeated_key_keeps_the_last_value(tmp_path: Path) -> None:
    assert DOC_LIST.count(b'"ext"') == 3
    box = Sandbox({"era": {}})
    box.simulators["era"] = DocListEra()  # the sandbox uses it instead of starting its own
    box.simulators["era"].start()
    try:
        out = run_playbook(TESTS / "list-channels.yaml", tmp_path, sandbox=box)
    finally:
        box.stop()
    assert out.result.status == "passed", out.console
    channels = out.result.outputs["channels"]
    assert [c["code"] for c in channels] == ["ABCDE", "902"]
    assert channels[1]["ext"] == {"ct": "2019-08-28T13:35:01.52Z",
                                  "lwt": "2019-08-28T13:35:01.52Z"}


# -- secrets -------------------------------------------------------------------------------
def test_remote_tokens_in_answers_are_redacted(tmp_path: Path) -> None:
    seeded = [{**ch, "token_remote": f"remote-secret-{i}-abcdef"}
              for i, ch in enumerate(EraSimulator().channels.values())]
    out = run(TESTS / "list-channels.yaml", tmp_path, options={"channels": seeded})
    assert out.result.status == "passed", out.console
    assert [c["token_remote"] for c in out.result.outputs["channels"]] == ["***", "***"]
    assert_no_leak(out, "remote-secret-0-abcdef", "remote-secret-1-abcdef")
    assert TOKEN1 in out.report_json  # token_local is not a secret


# -- the CLI -------------------------------------------------------------------------------
def test_cli_runs_the_runbooks_in_the_sandbox(tmp_path: Path) -> None:
    ok = cli("run", str(ROTATE), "--env", "sandbox", "-i", "key=902", "-i",
             "url=http://cli.test/in", "--report-json", str(tmp_path / "r.json"))
    assert ok.returncode == EXIT_OK, ok.stdout + ok.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outputs"]["url"] == "http://cli.test/in"
    failed = cli("run", str(CREATE), "--env", "sandbox", "-i", "code=902", "-i", "url=x")
    assert failed.returncode == EXIT_FAILED
    assert "exists with type telegram, not im" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr
