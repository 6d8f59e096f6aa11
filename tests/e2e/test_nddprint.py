"""The NDD Print 360 runbook and operations end to end: real HTTP to the simulator, no mocks.
Every documented error answer ends in a step failure that names the vendor's message; the
``0208`` PIN stays a string; the static token and the login paths both work."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import PLAYBOOKS, ROOT, Outcome, cli, run_playbook
from runner.builtin.nddprint.simulator import IN_USE, MISSING, NOT_FOUND, NddprintSimulator

from runner import api
from runner.errors import EXIT_FAILED, EXIT_OK
from runner.sandbox import Sandbox
from runner.secrets import Redactor

ASSIGN = PLAYBOOKS / "nddprint" / "assign-badge.yaml"
TESTS = ROOT / "tests" / "playbooks" / "nddprint"
RAW = TESTS / "raw-call.yaml"
RENEW = TESTS / "renew-pin.yaml"


class NddSandbox(Sandbox):
    """One simulator for the module (stopping one costs ~0.5 s); ``mode`` picks the settings
    a run gets: the simulator's own (static token set), ``login`` (no static token: the
    connector logs in) or ``bad_static`` (a static token the vendor does not know)."""

    mode = "static"

    def settings(self, name: str) -> dict[str, Any]:
        settings = super().settings(name)
        if self.mode == "login":
            settings.pop("static_token")
        elif self.mode == "bad_static":
            settings["static_token"] = "not-the-token-0123456789"
        return settings


@pytest.fixture(scope="module")
def box() -> Iterator[NddSandbox]:
    sandbox = NddSandbox({"nddprint": {}})
    sandbox.start(["nddprint"])
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sim(box: NddSandbox) -> NddprintSimulator:
    s: NddprintSimulator = box.simulators["nddprint"]
    s.reset()
    s.calls.clear()
    s.unique_card_code = True
    s.pin_autorenew = True
    s.renewed_pin = "0208"
    s.token_ttl = 2592000.0
    box.mode = "static"
    return s


def run(box: NddSandbox, tmp_path: Path, path: Path = ASSIGN, **inputs: Any) -> Outcome:
    out = run_playbook(path, tmp_path, inputs, sandbox=box)
    assert_no_leak(out, box.simulators["nddprint"])
    return out


def assert_no_leak(out: Outcome, sim: NddprintSimulator) -> None:
    text = out.outputs()
    secrets = sim.secret_values()
    assert secrets
    for value in secrets:
        assert value not in text


def step(out: Outcome, step_id: str) -> Any:
    return next(s for s in out.result.steps if s.step_id == step_id)


def codes(sim: NddprintSimulator, logon: str, domain: str = "CORP") -> list[str]:
    return list(sim.users[(domain, logon)]["cardCodes"])


def failed(out: Outcome, step_id: str, *texts: str) -> None:
    assert out.result.status == "failed", out.console
    assert out.result.failed_step == f"step '{step_id}'"
    for text in texts:
        assert text in (out.result.error or ""), out.result.error
        assert text in out.console


# -- assign-badge.yaml: happy paths ----------------------------------------------------------
def test_assign_badge_adds_once_then_sends_no_add(box, sim, tmp_path):
    first = run(box, tmp_path, logon="asmith", domain="CORP", card_code="0042")
    assert first.result.status == "passed", first.console
    assert first.result.outputs == {"codes": ["0042"], "added": True, "replaced": []}
    assert codes(sim, "asmith") == ["0042"]  # a string, leading zeros kept
    assert sim.calls["add_card_code"] == 1 and sim.calls["card_codes"] == 2
    assert sim.calls["token"] == 0  # the static token is used, no login

    again = run(box, tmp_path, logon="asmith", domain="CORP", card_code="0042")
    assert again.result.status == "passed", again.console
    assert again.result.outputs == {"codes": ["0042"], "added": False, "replaced": []}
    assert step(again, "add").status == "skipped"
    assert sim.calls["add_card_code"] == 1  # the second run sent no add-card-code
    assert sim.calls["card_codes"] == 4
    assert codes(sim, "asmith") == ["0042"]


def test_assign_badge_code_already_there_adds_nothing(box, sim, tmp_path):
    # names match case-insensitively on NDD's side; the code the user has is left alone
    out = run(box, tmp_path, logon="BWayne", domain="corp", card_code="000123")
    assert out.result.status == "passed", out.console
    assert out.result.outputs == {"codes": ["000123", "987654321"], "added": False,
                                  "replaced": []}
    assert sim.calls["add_card_code"] == 0


def test_assign_badge_replace_true_replaces_the_unique_code(box, sim, tmp_path):
    out = run(box, tmp_path, logon="jdoe", domain="CORP", card_code="ABC123456", replace=True)
    assert out.result.status == "passed", out.console
    assert out.result.outputs == {"codes": ["ABC123456"], "added": True,
                                  "replaced": ["123456789"]}
    assert codes(sim, "jdoe") == ["ABC123456"]
    request = step(out, "add").exchanges[0].request
    assert request["json"] == {"LogonName": "jdoe", "DomainName": "CORP",
                               "CardCode": "ABC123456", "ReplaceUniqueCardCode": True}


def test_assign_badge_appends_when_several_codes_are_allowed(box, sim, tmp_path):
    sim.unique_card_code = False
    out = run(box, tmp_path, logon="jdoe", domain="CORP", card_code="777")
    assert out.result.status == "passed", out.console
    assert out.result.outputs["codes"] == ["123456789", "777"]
    assert codes(sim, "jdoe") == ["123456789", "777"]


# -- assign-badge.yaml: every documented error ------------------------------------------------
def test_unique_code_and_replace_false_is_card_code_not_added(box, sim, tmp_path):
    out = run(box, tmp_path, logon="jdoe", domain="CORP", card_code="ABC123456")
    failed(out, "add", "card code not added", "ReplaceUniqueCardCode: true")
    assert step(out, "add").exchanges[0].response["body"] == "false"
    assert all(s.step_id != "verify" for s in out.result.steps)  # stopped at the add
    assert codes(sim, "jdoe") == ["123456789"]


def test_code_used_by_another_user_names_the_message(box, sim, tmp_path):
    out = run(box, tmp_path, logon="asmith", domain="CORP", card_code="000123")
    failed(out, "add", IN_USE, "the card code is used by another user", "HTTP 400")
    assert codes(sim, "asmith") == [] and codes(sim, "bwayne") == ["000123", "987654321"]
    assert sim.calls["add_card_code"] == 1  # not safe to repeat: sent once, not retried


def test_user_not_found_names_the_message(box, sim, tmp_path):
    out = run(box, tmp_path, logon="ghost", domain="CORP", card_code="1")
    failed(out, "read", NOT_FOUND, "user not found")
    assert sim.calls["add_card_code"] == 0


def test_empty_logon_is_a_missing_field(box, sim, tmp_path):
    out = run(box, tmp_path, logon="", domain="CORP", card_code="1")
    failed(out, "read", MISSING, "the request body or a required field is missing")


def test_missing_parameter_is_caught_before_sending(box, sim, tmp_path):
    out = run(box, tmp_path, logon="asmith", domain="CORP", card_code=42)
    failed(out, "add", "parameter 'CardCode' must be a string")
    assert sim.calls["add_card_code"] == 0


@pytest.mark.parametrize("body", [
    {},
    {"LogonName": "jdoe", "DomainName": "CORP", "ReplaceUniqueCardCode": True},
    {"LogonName": "jdoe", "DomainName": "CORP", "ReplaceUniqueCardCode": "yes",
     "CardCode": "1"},
])
def test_raw_add_card_code_missing_field_names_the_message(box, sim, tmp_path, body):
    out = run(box, tmp_path, RAW, body=body)
    failed(out, "raw", MISSING, "HTTP 400")
    assert codes(sim, "jdoe") == ["123456789"]


def test_raw_card_codes_unknown_user(box, sim, tmp_path):
    out = run_playbook(RAW, tmp_path, {"path": "/api/v1/users/card-codes",
                                       "body": {"LogonName": "jdoe", "DomainName": "NOWHERE"}},
                       sandbox=box)
    assert_no_leak(out, sim)
    failed(out, "raw", NOT_FOUND)


# -- PIN codes: 0208 is a string -------------------------------------------------------------
def test_renewed_pin_0208_stays_a_string(box, sim, tmp_path):
    out = run(box, tmp_path, RENEW)
    assert out.result.status == "passed", out.console
    outs = out.result.outputs
    assert outs["body"] == "0208" and outs["body"] != 208
    assert outs["text"] == "0208" and outs["json"] is None
    assert outs["new_pin"] == "0208"  # extracted with a regex
    assert outs["new_pin_path"] == "0208"  # and with $ on a body that is not JSON
    assert outs["pin_before"] == "1231231" and outs["pin_after"] == "0208"
    assert outs["use_secure"] is True
    renew = step(out, "renew")
    assert renew.extracted["new_pin"] == "0208"
    assert renew.exchanges[0].response["body"] == "0208"
    assert sim.users[("CORP", "jdoe")]["pinCode"] == "0208"
    assert sim.calls["update_pin_code_autorenew"] == 1


def test_renewed_pin_that_is_valid_json_stays_a_string(box, sim, tmp_path):
    sim.renewed_pin = "5555"  # valid JSON: decode: text keeps it a string
    out = run(box, tmp_path, RENEW, logon="asmith")
    assert out.result.status == "passed", out.console
    assert out.result.outputs["body"] == "5555"
    assert out.result.outputs["new_pin"] == "5555"
    assert out.result.outputs["json"] is None


def test_pin_autorenew_off_is_a_clear_failure(box, sim, tmp_path):
    sim.pin_autorenew = False
    out = run(box, tmp_path, RENEW)
    failed(out, "renew", "Forbidden", "automatic PIN renewal is off", "HTTP 403")
    assert sim.users[("CORP", "jdoe")]["pinCode"] == "1231231"


def test_pin_codes_unknown_user(box, sim, tmp_path):
    out = run(box, tmp_path, RENEW, logon="nobody")
    failed(out, "before", NOT_FOUND)


# -- auth: static token, login, renewal ------------------------------------------------------
def test_static_token_is_sent_and_redacted(box, sim, tmp_path):
    out = run(box, tmp_path, logon="jdoe", domain="CORP", card_code="123456789")
    assert out.result.status == "passed", out.console
    assert sim.calls["token"] == 0
    headers = step(out, "read").exchanges[0].request["headers"]
    assert headers["Authorization"] == f"Bearer {sim.static_token}"
    # reports show it redacted (run() checked that no secret is in any output)
    assert '"Authorization": "Bearer ***"' in out.report_json


def test_login_path_without_static_token(box, sim, tmp_path):
    box.mode = "login"
    out = run(box, tmp_path, logon="asmith", domain="CORP", card_code="0042")
    assert out.result.status == "passed", out.console
    assert sim.calls["token"] == 1  # one login serves every call of the run
    assert sim.calls["card_codes"] == 2 and sim.calls["add_card_code"] == 1
    login = step(out, "login").exchanges[0]
    assert login.request["url"].endswith("/api/v1/token")
    assert login.request["json"]["clientID"] == sim.client_id
    assert login.request["json"]["SecretKey"] == sim.secret_key
    assert '"SecretKey": "***"' in out.report_json
    assert len(sim.tokens) == 1 and next(iter(sim.tokens)) in sim.secret_values()
    assert codes(sim, "asmith") == ["0042"]


def test_expired_login_token_is_renewed_once_then_fails(box, sim, tmp_path):
    box.mode = "login"
    sim.token_ttl = 0  # every token is expired at once: expiresIn 0
    out = run(box, tmp_path, logon="jdoe", domain="CORP", card_code="123456789")
    failed(out, "read", "Unauthorized", "HTTP 401")
    assert sim.calls["token"] == 2  # the login, then one renewal after the 401
    assert sim.calls["card_codes"] == 2


def test_unknown_static_token_fails_without_logging_in(box, sim, tmp_path):
    box.mode = "bad_static"
    out = run(box, tmp_path, logon="jdoe", domain="CORP", card_code="123456789")
    failed(out, "read", "Unauthorized", "check static_token")
    assert sim.calls["token"] == 0 and sim.calls["card_codes"] == 1
    assert "not-the-token-0123456789" not in out.outputs()


def _environment(tmp_path: Path, sim: NddprintSimulator) -> Path:
    env = tmp_path / "ndd-env.yaml"
    env.write_text(
        "description: an NDD tenant on loopback, with credentials and no static token\n"
        "connectors:\n"
        "  nddprint:\n"
        f"    base_url: {sim.url}\n"
        f"    client_id: {sim.client_id}\n"
        "    secret_key: {secret: NDD_SECRET_KEY}\n")
    return env


def test_login_path_through_an_environment_file(box, sim, tmp_path, monkeypatch):
    monkeypatch.setenv("NDD_SECRET_KEY", sim.secret_key)
    redactor = Redactor()
    report = tmp_path / "report.json"
    result = api.run(ASSIGN, env=str(_environment(tmp_path, sim)), report_json=report,
                     inputs={"logon": "jdoe", "domain": "LAB", "card_code": "L-1"},
                     stream=io.StringIO(), redactor=redactor)
    assert result.status == "passed", result.error
    assert result.outputs["codes"] == ["L-1"]
    assert sim.calls["token"] == 1
    text = report.read_text()
    for value in sim.secret_values():
        assert value not in text


def test_wrong_secret_key_is_login_refused(box, sim, tmp_path, monkeypatch):
    monkeypatch.setenv("NDD_SECRET_KEY", "wrong-secret-key-value")
    redactor = Redactor()
    result = api.run(ASSIGN, env=str(_environment(tmp_path, sim)), redactor=redactor,
                     inputs={"logon": "jdoe", "domain": "CORP", "card_code": "1"},
                     stream=io.StringIO())
    assert result.status == "failed"
    assert "login refused" in (result.error or "") and "Unauthorized" in (result.error or "")
    assert "wrong-secret-key-value" not in (result.error or "")
    assert sim.calls["card_codes"] == 0


# -- the CLI, as a user runs it --------------------------------------------------------------
def test_cli_runs_the_runbook_in_the_sandbox():
    ok = cli("run", str(ASSIGN), "-i", "logon=asmith", "-i", "domain=CORP",
             "-i", "card_code=0042", "--quiet")
    assert ok.returncode == EXIT_OK, ok.stdout + ok.stderr
    bad = cli("run", str(ASSIGN), "-i", "logon=ghost", "-i", "domain=CORP", "-i", "card_code=1")
    assert bad.returncode == EXIT_FAILED
    assert NOT_FOUND in bad.stdout + bad.stderr
