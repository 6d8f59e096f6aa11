"""The Kolmisoft MOR runbooks and operations end to end: real HTTP to the simulator, no mocks.

Every documented error answer (both styles, inside HTTP 200) ends in a step failure naming the
vendor's message; every way MOR ships its XML (raw gzip, Content-Encoding gzip, plain, wrapped in
HTML) reads the same; hostile XML is refused, never expanded.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import PLAYBOOKS, ROOT, Outcome, cli, run_playbook
from runner.builtin.mor import hooks as mor_hooks
from runner.builtin.mor import simulator as mor_sim
from runner.builtin.mor.hooks import MorHooks, unwrap_html
from runner.builtin.mor.simulator import MorSimulator

from runner.connectors.http import PreparedCall
from runner.errors import EXIT_FAILED, EXIT_OK, StepFailed
from runner.sandbox import Sandbox
from runner.simulator import route
from runner.simulator_messages import Reply, Request

INVENTORY = PLAYBOOKS / "mor" / "device-inventory.yaml"
CREATE = PLAYBOOKS / "mor" / "create-device.yaml"
TESTS = ROOT / "tests" / "playbooks" / "mor"
DOC_HASH = "71516eea4850f7e0300ac86adf9fb64bca845aa7"  # sha1("100" + "456789"), the doc's example


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    # one simulator for the module (each stop costs the server's 0.5 s poll interval); the
    # `sim` fixture restores its options and state after each test
    sandbox = Sandbox({"mor": {}}).start(["mor"])
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sim(box: Sandbox) -> Iterator[MorSimulator]:
    server: MorSimulator = box.simulators["mor"]
    devices, next_id = dict(server.devices), server._next_id
    server.calls.clear()
    yield server
    server.gzip_mode, server.html_wrap, server.big_devices = "raw", False, 0
    server.create_problem = ""
    server.devices, server._next_id = devices, next_id
    server._cache.clear()


def run(path: Path, tmp_path: Path, box: Sandbox, inputs: dict[str, Any] | None = None,
        root: Path | None = None) -> Outcome:
    return run_playbook(path, tmp_path, inputs, sandbox=box, root=root)


def step(out: Outcome, step_id: str) -> Any:
    return next(s for s in out.result.steps if s.step_id == step_id)


def hashes(sim: MorSimulator, *user_ids: str) -> list[str]:
    return [mor_sim.compute_hash(call, {"user_id": u}, sim.api_secret)
            for u in user_ids for call in ("devices_get", "user_details_get")]


def assert_no_leak(out: Outcome, *extra: str) -> None:
    text = out.outputs()
    for value in [*out.sandbox.simulators["mor"].secret_values(), *extra]:
        assert value not in text


def assert_fails_with(out: Outcome, message: str, step_id: str) -> None:
    assert out.result.status == "failed", out.console
    failed = step(out, step_id)
    assert failed.status == "failed"
    assert message in (failed.error or ""), failed.error
    assert message in out.console
    assert "Traceback" not in out.console


# -- the signer ----------------------------------------------------------------------------
def signed(operation: str, query: dict[str, Any], **settings: str) -> tuple[PreparedCall, list]:
    registered: list[Any] = []
    hooks = MorHooks({"username": "admin", "api_secret": "456789", **settings},
                     registered.append)
    call = PreparedCall(connector="mor", operation=operation, method="POST",
                        url=f"http://127.0.0.1:1/billing/api/{operation}", query=dict(query))
    hooks.prepare(call)
    return call, registered


def test_hash_hook_matches_the_doc_example() -> None:
    call, registered = signed("devices_get", {"user_id": "100"})
    assert call.query == {"u": "admin", "user_id": "100", "hash": DOC_HASH}
    assert list(call.query) == ["u", "user_id", "hash"]  # the doc's order
    assert registered == [DOC_HASH]  # derived from the secret: redacted in every output
    # the old name hashes the same; show_hidden_devices and p are sent but never hashed
    call, _ = signed("device_list", {"user_id": "100", "show_hidden_devices": 0}, password="pw")
    assert call.query == {"u": "admin", "p": "pw", "user_id": "100", "show_hidden_devices": 0,
                          "hash": DOC_HASH}


def test_hash_table_is_the_simulators_and_orders_values() -> None:
    assert mor_hooks.HASH_PARAMS == mor_sim.HASH_PARAMS
    assert "mor.simulator" not in Path(mor_hooks.__file__).read_text()  # no dependency on it
    full = {"user_id": "7", "description": "desk", "pin": "4242", "type": "SIP",
            "devicegroup_id": "3"}
    # the query's order does not matter: the documented order does
    call, _ = signed("device_create", dict(reversed(full.items())))
    assert call.query["hash"] == hashlib.sha1(b"7desk4242SIP3456789").hexdigest()
    assert call.query["hash"] == mor_sim.compute_hash("device_create", full, "456789")
    # absent and empty optional values are skipped (and an empty one is not sent)
    call, _ = signed("device_create", {"user_id": "7", "pin": "", "type": "FAX"})
    assert call.query == {"u": "admin", "user_id": "7", "type": "FAX",
                          "hash": hashlib.sha1(b"7FAX456789").hexdigest()}


def test_raw_calls_are_signed_by_their_path() -> None:
    registered: list[Any] = []
    hooks = MorHooks({"username": "admin", "api_secret": "456789"}, registered.append)
    call = PreparedCall(connector="mor", operation="", method="POST",
                        url="http://127.0.0.1:1/billing/api/user_details_get/",
                        form={"user_id": "100"})
    hooks.prepare(call)  # a form field is hashed as MOR reads it
    assert call.query == {"u": "admin", "hash": DOC_HASH}
    call = PreparedCall(connector="mor", operation="", method="POST",
                        url="http://127.0.0.1:1/billing/api/tariffs_get", query={"x": "1"})
    with pytest.raises(StepFailed, match="no hash rule for the API call 'tariffs_get'"):
        hooks.prepare(call)


def test_html_wrapper_is_unwrapped() -> None:
    assert unwrap_html(b"<head></head><body><page><a>1</a></page></body>") == (
        b"<page><a>1</a></page>")
    assert unwrap_html(b"<HTML><Head></Head><BODY>\n<error>Bad login</error>\n</BODY></HTML>") \
        == b"<error>Bad login</error>"
    plain = b'<?xml version="1.0"?><page><body>x</body></page>'
    assert unwrap_html(plain) is plain


# -- device-inventory.yaml -----------------------------------------------------------------
@pytest.mark.parametrize(("gzip_mode", "html_wrap"), [
    ("raw", False), ("header", False), ("none", False), ("raw", True), ("header", True),
])
def test_inventory_in_every_encoding(tmp_path: Path, box: Sandbox, sim: MorSimulator,
                                     gzip_mode: str, html_wrap: bool) -> None:
    sim.gzip_mode, sim.html_wrap = gzip_mode, html_wrap
    out = run(INVENTORY, tmp_path, box, {"user_ids": ["100", "101"]})
    assert out.result.status == "passed", out.console
    outs = out.result.outputs
    assert outs["user_ids"] == ["100", "101"]
    assert outs["usernames"] == ["john", "mary"]
    assert outs["names"] == ["John Smith", "Mary Jones"]
    assert outs["device_ids"] == [["1", "2"], []]
    assert outs["device_types"] == [["SIP", "IAX2"], []]
    assert outs["device_counts"] == [2, 0] and outs["total_devices"] == 2
    assert outs["inventory"].splitlines() == [
        "100 john (John Smith): 2 device(s) 1:SIP 2:IAX2", "101 mary (Mary Jones): 0 device(s)"]
    assert sim.calls["devices_get"] == 2 and sim.calls["user_details_get"] == 2
    # the answers really came the way this mode sends them
    headers = step(out, "devices").iterations[0].exchanges[0].response["headers"]
    expected = {"raw": "application/x-gzip", "header": "text/xml", "none": "text/xml"}
    assert headers["content-type"].startswith(expected[gzip_mode])
    assert ("content-encoding" in headers) == (gzip_mode == "header")
    # the hashes (derived from the API secret) and the devices' SIP passwords are masked
    assert_no_leak(out, *hashes(sim, "100", "101"), sim.devices[1].secret, sim.devices[2].secret)
    assert "<secret>***</secret>" in out.report_json


def test_inventory_of_20k_devices_is_quick(tmp_path: Path, box: Sandbox,
                                           sim: MorSimulator) -> None:
    sim.big_devices = 20_000
    started = time.perf_counter()
    out = run(INVENTORY, tmp_path, box, {"user_ids": ["100"]})
    elapsed = time.perf_counter() - started
    assert out.result.status == "passed", out.console[-2000:]
    ids = out.result.outputs["device_ids"][0]
    assert len(ids) == 20_002 and ids[:3] == ["1", "2", "1000000"] and ids[-1] == "1019999"
    assert out.result.outputs["total_devices"] == 20_002
    assert out.result.outputs["inventory"].endswith(" ...")  # the text lists the first 10
    assert elapsed < 5, f"{elapsed:.2f} s"


def test_inventory_user_not_found(tmp_path: Path, box: Sandbox, sim: MorSimulator) -> None:
    out = run(INVENTORY, tmp_path, box, {"user_ids": ["100", "999"]})
    assert_fails_with(out, "mor.devices_get answered: User not found", "devices")
    assert "'devices'[1]" in (step(out, "devices").error or "")  # which iteration (user)
    assert not any(s.step_id == "details" for s in out.result.steps)  # the run stopped
    assert_no_leak(out, *hashes(sim, "100", "999"))


def test_inventory_user_id_is_empty(tmp_path: Path, box: Sandbox, sim: MorSimulator) -> None:
    out = run(INVENTORY, tmp_path, box, {"user_ids": [""]})
    assert_fails_with(out, "mor.devices_get answered: user_id is empty", "devices")


def test_inventory_access_denied_newer_style(tmp_path: Path, box: Sandbox,
                                             sim: MorSimulator) -> None:
    # user 102 belongs to another reseller: <page><status><error>Access Denied</error>...
    sim.html_wrap = True
    out = run(INVENTORY, tmp_path, box, {"user_ids": ["102"]})
    assert_fails_with(out, "mor.devices_get answered: Access Denied", "devices")


def test_inventory_refuses_non_string_ids(tmp_path: Path, box: Sandbox,
                                          sim: MorSimulator) -> None:
    out = run(INVENTORY, tmp_path, box, {"user_ids": [100]})
    assert_fails_with(out, "user ids must be strings", "check_inputs")
    assert sim.calls["devices_get"] == 0


# -- credentials, through an environment file as in production ----------------------------
def env_file(tmp_path: Path, sim: MorSimulator, username: str,
             extra: str = "") -> str:
    path = tmp_path / "mor-env.yaml"
    path.write_text(
        "connectors:\n  mor:\n"
        f"    base_url: {sim.url}\n    username: {username}\n"
        f"    api_secret: {{secret: MOR_TEST_API_SECRET}}\n{extra}")
    return str(path)


def test_bad_login(tmp_path: Path, sim: MorSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOR_TEST_API_SECRET", sim.api_secret)
    out = run_playbook(INVENTORY, tmp_path, {"user_ids": ["100"]},
                       env=env_file(tmp_path, sim, "nobody"))
    assert_fails_with(out, "mor.devices_get answered: Bad login", "devices")
    assert sim.api_secret not in out.outputs()


def test_incorrect_hash(tmp_path: Path, sim: MorSimulator,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "not-the-" + sim.api_secret
    monkeypatch.setenv("MOR_TEST_API_SECRET", wrong)
    out = run_playbook(INVENTORY, tmp_path, {"user_ids": ["100"]},
                       env=env_file(tmp_path, sim, sim.username))
    assert_fails_with(out, "mor.devices_get answered: Incorrect hash", "devices")
    wrong_hash = mor_sim.compute_hash("devices_get", {"user_id": "100"}, wrong)
    for value in (wrong, sim.api_secret, wrong_hash):
        assert value not in out.outputs()


def test_env_file_with_password(tmp_path: Path, sim: MorSimulator,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOR_TEST_API_SECRET", sim.api_secret)
    monkeypatch.setenv("MOR_TEST_PASSWORD", "p4ssw0rd-of-admin")
    env = env_file(tmp_path, sim, sim.username, "    password: {secret: MOR_TEST_PASSWORD}\n")
    out = run_playbook(TESTS / "device-list.yaml", tmp_path, {"user_id": "100"}, env=env)
    assert out.result.status == "passed", out.console
    assert out.result.outputs == {"device_ids": ["1", "2"], "primary": "1"}
    assert sim.calls["device_list"] == 1
    query = step(out, "list").exchanges[0].request["query"]
    assert list(query) == ["u", "p", "user_id", "show_hidden_devices", "hash"]
    assert query["p"] == "p4ssw0rd-of-admin"  # sent (the report redacts it), never hashed
    assert "p4ssw0rd-of-admin" not in out.outputs() and sim.api_secret not in out.outputs()


# -- create-device.yaml ---------------------------------------------------------------------
def test_create_device(tmp_path: Path, box: Sandbox, sim: MorSimulator) -> None:
    sim.gzip_mode = "header"
    out = run(CREATE, tmp_path, box, {"user_id": "101", "description": "lobby fax",
                                      "type": "FAX", "pin": "987654"})
    assert out.result.status == "passed", out.console
    outs = out.result.outputs
    device = sim.devices[int(outs["device_id"])]
    assert (device.user_id, device.device_type, device.description, device.pin) == (
        101, "FAX", "lobby fax", "987654")
    assert outs == {"device_id": str(device.device_id), "device_type": "FAX",
                    "username": device.username}
    assert sim.calls["device_create"] == 1 and sim.calls["devices_get"] == 1
    assert_no_leak(out, "987654")  # the PIN is a secret parameter


def test_create_device_defaults_and_generated_pin(tmp_path: Path, box: Sandbox,
                                                  sim: MorSimulator) -> None:
    sim.html_wrap = True
    out = run(CREATE, tmp_path, box, {"user_id": "100"})
    assert out.result.status == "passed", out.console
    device = sim.devices[int(out.result.outputs["device_id"])]
    assert device.device_type == "SIP" and device.primary_device == "no"
    assert len(device.pin) == 6  # MOR generated it: no empty pin was sent
    query = step(out, "create").exchanges[0].request["query"]
    assert "pin" not in query and "description" not in query


def test_create_device_through_include(tmp_path: Path, box: Sandbox, sim: MorSimulator) -> None:
    out = run(TESTS / "onboard.yaml", tmp_path, box, {"user_id": "101", "pin": "4242"},
              root=ROOT)  # it includes ../../../playbooks
    assert out.result.status == "passed", out.console
    device_id = out.result.outputs["device_id"]
    assert sim.devices[int(device_id)].description == "desk phone of user 101"
    assert out.result.outputs["sip_username"] == sim.devices[int(device_id)].username
    assert_no_leak(out, "4242")


def test_create_device_pin_is_already_used(tmp_path: Path, box: Sandbox,
                                           sim: MorSimulator) -> None:
    out = run(CREATE, tmp_path, box, {"user_id": "100", "pin": "1111"})
    assert_fails_with(out, "mor.device_create answered: Pin_is_already_used", "create")
    assert len(sim.devices) == 3
    assert sim.calls["device_create"] == 1  # not safe to repeat: sent once
    assert not any(s.step_id == "verify" for s in out.result.steps)


def test_create_device_type_invalid(tmp_path: Path, box: Sandbox, sim: MorSimulator) -> None:
    # the operation's enum refuses an unknown type before anything is sent...
    out = run(CREATE, tmp_path, box, {"user_id": "100", "type": "PSTN"})
    assert_fails_with(out, "parameter 'type' must be one of", "create")
    assert sim.calls["device_create"] == 0
    # ...and MOR's own refusal, seen through a raw call (signed by its path), is named too
    out = run(TESTS / "device-type-raw.yaml", tmp_path, box)
    assert_fails_with(out, "mor answered: Device_type_invalid", "create")
    assert sim.calls["device_create"] == 1 and len(sim.devices) == 3


@pytest.mark.parametrize("html_wrap", [False, True])
def test_create_device_not_created_names_the_problem(tmp_path: Path, box: Sandbox,
                                                     sim: MorSimulator, html_wrap: bool) -> None:
    sim.create_problem, sim.html_wrap = "Device limit reached", html_wrap
    out = run(CREATE, tmp_path, box, {"user_id": "100"})
    assert_fails_with(out, "mor.device_create answered: Device was not created: Device limit "
                      "reached", "create")
    assert sim.calls["device_create"] == 1 and len(sim.devices) == 3
    assert not any(s.step_id == "verify" for s in out.result.steps)


def test_create_device_errors_for_users(tmp_path: Path, box: Sandbox, sim: MorSimulator) -> None:
    out = run(CREATE, tmp_path, box, {"user_id": "102"})
    assert_fails_with(out, "mor.device_create answered: Access Denied", "create")
    out = run(CREATE, tmp_path, box, {"user_id": "4040"})
    assert_fails_with(out, "mor.device_create answered: User was not found", "create")
    assert len(sim.devices) == 3


# -- hostile answers -----------------------------------------------------------------------
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE page [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       b"<page><devices><device><device_id>&x;</device_id></device></devices></page>")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
          b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
          b"<page><devices><device><device_id>&c;</device_id></device></devices></page>")
# the entity declared past the first 4 KB: only the parser's own settings stand in the way
DEEP_XXE = (b'<?xml version="1.0"?>\n<!--' + b"x" * 6000 + b"-->\n"
            b'<!DOCTYPE page [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b"<page><devices><device><device_id>&x;</device_id></device></devices></page>")


class HostileMor(MorSimulator):
    """MOR's checks, then a hostile body, gzipped like the real answers."""

    payload = XXE

    @route("POST", "/devices_get", "devices_get")
    def devices_get(self, req: Request) -> Reply:
        error, _, _ = self._check(req, "devices_get")
        return error or Reply(200, gzip.compress(self.payload),
                              {"Content-Type": "application/x-gzip"})


@pytest.fixture(scope="module")
def hostile() -> Iterator[Sandbox]:
    sandbox = Sandbox({"mor": {}})
    sandbox.simulators["mor"] = HostileMor()  # the sandbox uses it instead of its own
    sandbox.simulators["mor"].start()
    yield sandbox
    sandbox.stop()


@pytest.mark.parametrize(("payload", "why"), [
    (XXE, "declares entities"), (LAUGHS, "declares entities"), (DEEP_XXE, "DOCTYPE"),
])
def test_hostile_xml_is_refused_not_expanded(tmp_path: Path, hostile: Sandbox, payload: bytes,
                                             why: str) -> None:
    sim: HostileMor = hostile.simulators["mor"]
    sim.payload = payload
    sim.calls.clear()
    out = run(INVENTORY, tmp_path, hostile, {"user_ids": ["100"]})
    assert_fails_with(out, "mor.devices_get answered: unusable XML answer", "devices")
    assert why in (step(out, "devices").error or "")
    assert sim.calls["devices_get"] == 1  # refused at once, not retried
    text = out.outputs()
    assert "root:" not in text and "/bin/" not in text and "aaaaaaaaaaaaaaaaaaaa" not in text


# -- the CLI -------------------------------------------------------------------------------
def test_cli_runs_in_the_sandbox() -> None:
    ok = cli("run", str(INVENTORY), "--env", "sandbox", "-i", 'user_ids=["100", "101"]')
    assert ok.returncode == EXIT_OK, ok.stdout + ok.stderr
    assert "100 john (John Smith): 2 device(s) 1:SIP 2:IAX2" in ok.stdout
    failed = cli("run", str(CREATE), "--env", "sandbox", "-i", "user_id=999")
    assert failed.returncode == EXIT_FAILED
    assert "mor.device_create answered: User was not found" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr
