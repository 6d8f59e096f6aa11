"""The MOR runbooks against a stand-in that is NOT our simulator: the vendor's published texts.

A tiny WSGI app answers each call with the text the Kolmisoft documentation publishes, verbatim
(/work/shared/vendor-docs/NOTES.md and mor-billing-devices-get-api.txt; the user_details_get
example is the wiki page's own), checking nothing. Our simulator could agree with our runbooks
on a shape no real server sends; these texts can't. Each runbook step must read them. Last, the
hook's reading of each documented error style, one answer at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import yaml
from helpers import PLAYBOOKS, Outcome, run_playbook
from runner.builtin.mor.hooks import MorHooks

from runner.connectors.response import Response

CREATE = PLAYBOOKS / "mor" / "create-device.yaml"
INVENTORY = PLAYBOOKS / "mor" / "device-inventory.yaml"
SECRET = "456789"  # the doc's API secret key (the stand-in checks no hash)

# device_create, Kolmisoft wiki "MOR API device_create" (NOTES.md)
CREATED = "<page><status>Device created</status><id>8</id></page>"
CREATED_OLDER = "<page><status>Device was created</status><id>8</id></page>"
USER_WAS_NOT_FOUND = "<error>User was not found</error>"
NOT_CREATED = "<error>Device was not created</error><message>problem message</message>"
# devices_get, mor-billing-devices-get-api.txt ("Returns / Success"), whitespace and all
DEVICES = """<page>
  <devices>
    <device>
       <device_id>device_id</device_id>
       <device_type>device_type</device_type>
       <devicegroup_id>devicegroup_id</devicegroup_id>
       <primary_device>yes|no</primary_device>
       <username>device_username</username>
       <secret>device_password</secret>
       <ipaddr>device_ipaddr</ipaddr>
       <port>device_port</port>
     </device>
     <device>
       <device_id>second_device_id</device_id>
       <device_type>second_device_type</device_type>
       <devicegroup_id>devicegroup_id</devicegroup_id>
       <primary_device>yes|no</primary_device>
       <username>device_username</username>
       <secret>device_password</secret>
       <ipaddr>device_ipaddr</ipaddr>
       <port>device_port</port>
     </device>
   </devices>
 </page>"""
# user_details_get, Kolmisoft wiki "MOR API user_details_get" (the shape NOTES.md describes)
USER_DETAILS = """<page>
 <pagename>Personal_details</pagename>
 <language>en</language>
 <userid>0</userid>
 <details>
   <main_detail>
     <account>Postpaid</account>
     <balance>0.0000 USD</balance>
     <balance_number>0.0000</balance_number>
     <balance_currency>USD</balance_currency>
     <credit>Unlimited</credit>
   </main_detail>
   <other_details>
     <username>admin</username>
     <first_name>System</first_name>
     <surname>Admin</surname>
     <personalid></personalid>
     <agreement_number></agreement_number>
     <agreement_date>2007-03-26</agreement_date>
     <taxation_country>Afghanistan</taxation_country>
     <vat_reg_number></vat_reg_number>
     <vat_percent>18.0</vat_percent>
   </other_details>
   <registration>
     <reg_address></reg_address>
     <reg_postcode></reg_postcode>
     <reg_city></reg_city>
     <reg_country></reg_country>
     <reg_state></reg_state>
     <reg_direction></reg_direction>
     <reg_phone></reg_phone>
     <reg_mobile></reg_mobile>
     <reg_fax></reg_fax>
     <reg_email></reg_email>
   </registration>
 </details>
</page>"""


class StandIn:
    """Serves ``answers[call]`` verbatim (HTTP 200, text/xml) and records each request."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.server: WSGIServer = make_server("127.0.0.1", 0, self.app,
                                              handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}/billing/api"

    def app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        call = environ["PATH_INFO"].rstrip("/").rsplit("/", 1)[-1]
        self.requests.append((environ["REQUEST_METHOD"], call,
                              parse_qs(environ.get("QUERY_STRING", ""))))
        body = self.answers.get(call, "<error>no answer set</error>").encode("utf-8")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no access log in the test output
        pass


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    s = StandIn()
    thread = threading.Thread(target=s.server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def env(stand_in: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    stand_in.answers.clear()
    stand_in.requests.clear()
    monkeypatch.setenv("MOR_DOC_API_SECRET", SECRET)
    path = tmp_path / "mor-doc-env.yaml"
    path.write_text(f"connectors:\n  mor:\n    base_url: {stand_in.url}\n    username: admin\n"
                    "    api_secret: {secret: MOR_DOC_API_SECRET}\n")
    return str(path)


def create_step_only(tmp_path: Path) -> Path:
    """create-device.yaml with only its device_create step (its verify step lists devices, and
    the published devices_get text lists placeholders, not device 8)."""
    doc = yaml.safe_load(CREATE.read_text())
    (create,) = [s for s in doc["steps"] if s.get("call") == "mor.device_create"]
    doc["steps"], doc["outputs"] = [create], {"device_id": "{{ device_id }}"}
    path = tmp_path / "create-step.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def create(tmp_path: Path, env: str) -> Outcome:
    return run_playbook(create_step_only(tmp_path), tmp_path, {"user_id": "2"}, env=env)


@pytest.mark.parametrize("answer", [CREATED, CREATED_OLDER])
def test_device_create_reads_the_documented_success(tmp_path: Path, stand_in: StandIn, env: str,
                                                   answer: str) -> None:
    stand_in.answers["device_create"] = answer
    out = create(tmp_path, env)
    assert out.result.status == "passed", out.console
    assert out.result.outputs == {"device_id": "8"}
    ((method, call, query),) = stand_in.requests
    assert (method, call, query["u"], query["user_id"], query["type"]) == (
        "POST", "device_create", ["admin"], ["2"], ["SIP"])
    assert "hash" in query


@pytest.mark.parametrize(("answer", "message"), [
    (USER_WAS_NOT_FOUND, "mor.device_create answered: User was not found"),
    ("<error>Pin_is_already_used</error>", "mor.device_create answered: Pin_is_already_used"),
    (NOT_CREATED, "mor.device_create answered: Device was not created: problem message"),
])
def test_device_create_documented_errors_fail_naming_them(tmp_path: Path, stand_in: StandIn,
                                                          env: str, answer: str,
                                                          message: str) -> None:
    stand_in.answers["device_create"] = answer
    out = create(tmp_path, env)
    assert out.result.status == "failed", out.console
    assert message in out.console
    assert "Traceback" not in out.console
    assert len(stand_in.requests) == 1  # not safe to repeat: sent once


def test_device_create_without_an_id_fails_clearly(tmp_path: Path, stand_in: StandIn,
                                                   env: str) -> None:
    stand_in.answers["device_create"] = "<page><status>Device created</status></page>"
    out = create(tmp_path, env)
    assert out.result.status == "failed", out.console
    assert "no device id" in out.console


def test_inventory_reads_the_documented_answers(tmp_path: Path, stand_in: StandIn,
                                                env: str) -> None:
    stand_in.answers.update(devices_get=DEVICES, user_details_get=USER_DETAILS)
    out = run_playbook(INVENTORY, tmp_path, {"user_ids": ["0"]}, env=env)
    assert out.result.status == "passed", out.console
    outs = out.result.outputs
    assert outs["usernames"] == ["admin"]
    assert outs["names"] == ["System Admin"]
    assert outs["device_ids"] == [["device_id", "second_device_id"]]
    assert outs["device_types"] == [["device_type", "second_device_type"]]
    assert outs["inventory"] == ("0 admin (System Admin): 2 device(s) device_id:device_type "
                                 "second_device_id:second_device_type")
    assert "device_password" not in out.outputs()  # a device's <secret> is masked


def test_user_details_get_documented_error(tmp_path: Path, stand_in: StandIn,
                                           env: str) -> None:
    stand_in.answers.update(devices_get=DEVICES, user_details_get=USER_WAS_NOT_FOUND)
    out = run_playbook(INVENTORY, tmp_path, {"user_ids": ["7"]}, env=env)
    assert out.result.status == "failed", out.console
    assert "mor.user_details_get answered: User was not found" in out.console


# -- the hook, on the documented error styles ---------------------------------------------
@pytest.mark.parametrize(("body", "error"), [
    (b"<error>User was not found</error>", "User was not found"),
    (b"<page><status><error>Access Denied</error></status></page>", "Access Denied"),
    # device_create's documented refusal: two top-level elements, not one XML document
    (b"<error>Device was not created</error><message>problem message</message>",
     "Device was not created: problem message"),
    (b'<?xml version="1.0"?>\n<error>Device was not created</error>\n'
     b"<message>limit &amp; quota</message>\n", "Device was not created: limit & quota"),
    (b"<page><error>Device was not created</error><message>m</message></page>",
     "Device was not created: m"),
    (b"<page><status><error>X</error><message>why</message></status></page>", "X: why"),
    (b"<error></error>", "error (no message)"),
    (b"<page><status>Device created</status><id>8</id></page>", None),
    (b"<page><message>hello</message></page>", None),
    (b"<error>a</error><error>b</error>", "unusable XML answer"),
])
def test_vendor_error_reads_both_styles_and_messages(body: bytes, error: str | None) -> None:
    hooks = MorHooks({"username": "admin", "api_secret": "k"}, lambda value: None)
    response = Response(200, {"content-type": "text/xml"}, body, decode="xml")
    hooks.decode(response)
    found = hooks.vendor_error(response)
    if error is None or found is None:
        assert found == error
    else:
        assert found.startswith(error), found
