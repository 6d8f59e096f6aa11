"""Tests of the Kolmisoft MOR billing API simulator over real HTTP on loopback."""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Iterator
from xml.etree import ElementTree as ET

import pytest
import requests
from lxml import etree
from runner.builtin.mor.simulator import HASH_PARAMS, MorSimulator, compute_hash

KEY = "456789"
# user_details_get as the Kolmisoft wiki documents it (NOTES.md), in the documented order
PAGE = ["pagename", "language", "userid", "details"]
DETAILS = ["main_detail", "other_details", "registration"]
MAIN_DETAIL = ["account", "balance", "balance_number", "balance_currency", "credit"]
OTHER_DETAILS = ["username", "first_name", "surname", "personalid", "agreement_number",
                 "agreement_date", "taxation_country", "vat_reg_number", "vat_percent"]
REGISTRATION = ["reg_address", "reg_postcode", "reg_city", "reg_country", "reg_state",
                "reg_direction", "reg_phone", "reg_mobile", "reg_fax", "reg_email"]


@pytest.fixture(scope="module")
def server() -> Iterator[MorSimulator]:
    # One server for the module (each stop() costs the base's 0.5 s poll interval); the
    # per-test fixture below restores options and state.
    s = MorSimulator(api_secret=KEY)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def sim(server: MorSimulator) -> Iterator[MorSimulator]:
    devices, next_id = dict(server.devices), server._next_id
    server.calls.clear()
    yield server
    server.allow_get, server.gzip_mode, server.html_wrap, server.big_devices = (
        False, "raw", False, 0)
    server.create_problem = ""
    server.devices, server._next_id = devices, next_id
    server._cache.clear()


def signed(call: str, secret: str = KEY, **params: str) -> dict[str, str]:
    return {"u": "admin", **params, "hash": compute_hash(call, params, secret)}


def raw_xml(resp: requests.Response) -> str:
    """Decode a raw-mode answer ourselves: raw gzip bytes, no Content-Encoding."""
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/x-gzip"
    assert "Content-Encoding" not in resp.headers
    assert resp.content[:2] == b"\x1f\x8b"
    return gzip.decompress(resp.content).decode("utf-8")


def call(sim: MorSimulator, name: str, method: str = "POST", **params: str) -> ET.Element:
    return ET.fromstring(call_text(sim, name, method, **params))


def call_text(sim: MorSimulator, name: str, method: str = "POST", **params: str) -> str:
    resp = requests.request(method, f"{sim.url}/{name}", params=params, timeout=5)
    return raw_xml(resp)


def tags(element: ET.Element | None) -> list[str]:
    assert element is not None
    return [child.tag for child in element]


def old_error(root: ET.Element) -> str:
    assert root.tag == "error"
    return root.text or ""


def new_error(root: ET.Element) -> str:
    assert root.tag == "page"
    return root.findtext("status/error") or ""


def test_hash_rule_matches_doc_example() -> None:
    assert compute_hash("devices_get", {"user_id": "100"}, "456789") == (
        "71516eea4850f7e0300ac86adf9fb64bca845aa7"
    )
    assert hashlib.sha1(b"100456789").hexdigest() == "71516eea4850f7e0300ac86adf9fb64bca845aa7"
    assert HASH_PARAMS["device_create"] == [
        "user_id", "description", "pin", "type", "devicegroup_id"]
    # optional absent params are skipped, u/p never included
    assert compute_hash("device_create", {"user_id": "1", "type": "SIP", "u": "x"}, "k") == (
        hashlib.sha1(b"1SIPk").hexdigest()
    )


def test_doc_request_verbatim(sim: MorSimulator) -> None:
    resp = requests.post(
        f"{sim.url}/devices_get?u=admin&user_id=100"
        "&hash=71516eea4850f7e0300ac86adf9fb64bca845aa7", timeout=5)
    root = ET.fromstring(raw_xml(resp))
    devices = root.findall("devices/device")
    assert [d.findtext("device_id") for d in devices] == ["1", "2"]
    first = devices[0]
    for tag in ("device_type", "devicegroup_id", "primary_device", "username", "secret",
                "ipaddr", "port"):
        assert first.find(tag) is not None
    assert first.findtext("device_type") == "SIP"
    assert first.findtext("primary_device") == "yes"
    assert devices[1].findtext("primary_device") == "no"
    assert sim.calls["devices_get"] == 1


def test_device_list_old_name_and_hidden_flag(sim: MorSimulator) -> None:
    params = signed("device_list", user_id="100")
    root = call(sim, "device_list", **params, show_hidden_devices="0")
    assert len(root.findall("devices/device")) == 2
    assert sim.calls["device_list"] == 1
    root = call(sim, "devices_get", **signed("devices_get", user_id="101"))
    assert root.find("devices") is not None and root.findall("devices/device") == []


def test_form_body_params(sim: MorSimulator) -> None:
    resp = requests.post(f"{sim.url}/devices_get", data=signed("devices_get", user_id="100"),
                         timeout=5)
    assert len(ET.fromstring(raw_xml(resp)).findall("devices/device")) == 2


def test_errors(sim: MorSimulator) -> None:
    assert old_error(call(sim, "devices_get", **signed("devices_get", user_id="999"))) == (
        "User not found")
    assert old_error(call(sim, "devices_get", **signed("devices_get"))) == "user_id is empty"
    bad_u = {**signed("devices_get", user_id="100"), "u": "nobody"}
    assert old_error(call(sim, "devices_get", **bad_u)) == "Bad login"
    no_u = signed("devices_get", user_id="100")
    del no_u["u"]
    assert old_error(call(sim, "devices_get", **no_u)) == "Bad login"
    wrong = signed("devices_get", secret="wrong", user_id="100")
    assert old_error(call(sim, "devices_get", **wrong)) == "Incorrect hash"
    assert new_error(call(sim, "devices_get", **signed("devices_get", user_id="102"))) == (
        "Access Denied")
    # the user's own reseller may see it
    ok = {**signed("devices_get", user_id="102"), "u": "reseller2"}
    assert [d.findtext("device_id") for d in call(sim, "devices_get", **ok).iter("device")] == [
        "3"]


def test_get_not_allowed_then_allowed(sim: MorSimulator) -> None:
    params = signed("devices_get", user_id="100")
    assert old_error(call(sim, "devices_get", "GET", **params)) == "GET method not allowed"
    sim.allow_get = True
    assert len(call(sim, "devices_get", "GET", **params).findall("devices/device")) == 2


def test_user_details_get_answers_the_documented_shape(sim: MorSimulator) -> None:
    root = call(sim, "user_details_get", **signed("user_details_get", user_id="100"))
    assert root.tag == "page" and tags(root) == PAGE
    assert root.findtext("pagename") == "Personal_details"
    assert root.findtext("language") == "en"
    assert root.findtext("userid") == "100"
    assert tags(root.find("details")) == DETAILS
    assert tags(root.find("details/main_detail")) == MAIN_DETAIL
    assert tags(root.find("details/other_details")) == OTHER_DETAILS
    assert tags(root.find("details/registration")) == REGISTRATION
    other = root.find("details/other_details")
    assert other is not None
    assert (other.findtext("username"), other.findtext("first_name"),
            other.findtext("surname")) == ("john", "John", "Smith")
    main = root.find("details/main_detail")
    assert main is not None
    assert main.findtext("balance") == "12.5000 USD"  # "0.0000 USD" in the wiki's example
    assert float(main.findtext("balance_number") or "nan") == 12.5
    assert main.findtext("balance_currency") == "USD"
    # what only the project's old simulator answered
    assert root.find("details/username") is None
    assert not [e for e in root.iter() if e.tag in ("last_name", "user_id", "currency")]


def test_user_details_get_errors(sim: MorSimulator) -> None:
    assert old_error(call(sim, "user_details_get", **signed("user_details_get", user_id="7"))) == (
        "User was not found")
    wrong = signed("user_details_get", secret="wrong", user_id="100")
    assert old_error(call(sim, "user_details_get", **wrong)) == "Incorrect hash"
    assert old_error(call(sim, "user_details_get", **signed("user_details_get"))) == (
        "User was not found")
    assert new_error(call(sim, "user_details_get",
                          **signed("user_details_get", user_id="102"))) == "Access Denied"


def test_device_create_answers_the_documented_shape_then_listed(sim: MorSimulator) -> None:
    params = signed("device_create", user_id="101", description="lobby", pin="5555", type="FAX",
                    devicegroup_id="2")
    root = call(sim, "device_create", **params)
    # <page><status>Device created</status><id>8</id></page>
    assert root.tag == "page" and tags(root) == ["status", "id"]
    assert root.findtext("status") == "Device created"
    new_id = root.findtext("id") or ""
    assert new_id.isdigit()
    assert root.find("status/success") is None and root.find("status/device_id") is None
    devices = list(call(sim, "devices_get", **signed("devices_get", user_id="101")).iter("device"))
    assert [d.findtext("device_id") for d in devices] == [new_id]
    assert devices[0].findtext("device_type") == "FAX"
    assert devices[0].findtext("primary_device") == "yes"
    assert sim.devices[int(new_id)].pin == "5555"
    # appended to user 100's cached list too
    call(sim, "devices_get", **signed("devices_get", user_id="100"))
    root = call(sim, "device_create", **signed("device_create", user_id="100", type="SIP"))
    assert root.findtext("status") == "Device created"
    listed = call(sim, "devices_get", **signed("devices_get", user_id="100"))
    assert len(listed.findall("devices/device")) == 3
    assert sim.calls["device_create"] == 2


def test_device_create_pin_and_type_defaults(sim: MorSimulator) -> None:
    # no pin sent: the server picks random digits; an empty pin: a pinless device
    generated = call(sim, "device_create", **signed("device_create", user_id="101", type="SIP"))
    pin = sim.devices[int(generated.findtext("id") or "0")].pin
    assert pin.isdigit() and len(pin) == 6
    for _ in range(2):  # pinless devices share no PIN: never "already used"
        pinless = call(sim, "device_create",
                       **signed("device_create", user_id="101", pin="", type="SIP"))
        assert pinless.findtext("status") == "Device created"
        assert sim.devices[int(pinless.findtext("id") or "0")].pin == ""
    # an empty type: the default device type
    default = call(sim, "device_create", **signed("device_create", user_id="101", type=""))
    assert sim.devices[int(default.findtext("id") or "0")].device_type == "SIP"


def test_device_create_errors(sim: MorSimulator) -> None:
    def create(**params: str) -> ET.Element:
        return call(sim, "device_create", **signed("device_create", **params))

    assert old_error(create(user_id="4040", type="SIP")) == "User was not found"
    assert old_error(create(type="SIP")) == "Dont be so smart"  # "params id not send"
    assert old_error(create(user_id="100", type="PSTN")) == "Device_type_invalid"
    assert old_error(create(user_id="100", type="SIP", devicegroup_id="3")) == (
        "Device_group_invalid")  # another user's group
    assert old_error(create(user_id="100", pin="12a4", type="SIP")) == "Pin_must_be_numeric"
    assert old_error(create(user_id="100", pin="1111", type="SIP")) == "Pin_is_already_used"
    wrong = signed("device_create", user_id="100", type="SIP")
    wrong["hash"] = compute_hash("devices_get", {"user_id": "100"}, KEY)  # wrong param set
    assert old_error(call(sim, "device_create", **wrong)) == "Incorrect hash"
    assert new_error(create(user_id="102", type="SIP")) == "Access Denied"
    # the server refusing for its own reasons: an error and its message, side by side
    sim.create_problem = "Device limit reached"
    text = call_text(sim, "device_create", **signed("device_create", user_id="100", type="SIP"))
    assert text.split("\n", 1)[1] == (
        "<error>Device was not created</error><message>Device limit reached</message>")
    assert len(sim.devices) == 3


def test_header_mode_and_html_wrap(sim: MorSimulator) -> None:
    sim.gzip_mode, sim.html_wrap = "header", True
    resp = requests.post(f"{sim.url}/devices_get", params=signed("devices_get", user_id="100"),
                         timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    assert resp.headers["Content-Type"].startswith("text/xml")
    text = resp.text  # requests decoded the gzip
    assert text.startswith("<head></head><body><page>") and text.endswith("</page></body>")
    root = ET.fromstring(f"<html>{text}</html>")
    assert len(root.findall("body/page/devices/device")) == 2
    resp = requests.post(f"{sim.url}/devices_get", params=signed("devices_get", user_id="999"),
                         timeout=5)
    assert resp.text == "<head></head><body><error>User not found</error></body>"


def test_none_mode_plain_xml(sim: MorSimulator) -> None:
    sim.gzip_mode = "none"
    resp = requests.post(f"{sim.url}/devices_get", params=signed("devices_get", user_id="999"),
                         timeout=5)
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/xml")
    assert resp.content.startswith(b"<?xml")
    assert ET.fromstring(resp.content).text == "User not found"


def test_big_devices_fast_and_cached(sim: MorSimulator) -> None:
    sim.big_devices = 85_000
    params = signed("devices_get", user_id="100")
    t0 = time.perf_counter()
    first = requests.post(f"{sim.url}/devices_get", params=params, timeout=10)
    xml = gzip.decompress(first.content)
    assert len(xml) > 20_000_000
    assert time.perf_counter() - t0 < 1.5
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(xml, parser)
    assert len(root.findall("devices/device")) == 85_002
    t1 = time.perf_counter()
    second = requests.post(f"{sim.url}/devices_get", params=params, timeout=10)
    assert second.content == first.content
    assert time.perf_counter() - t1 < 0.3


def test_settings_and_secrets() -> None:
    s = MorSimulator(username="boss")
    s.start()
    try:
        cfg = s.connector_settings()
        assert cfg["base_url"].endswith("/billing/api") and cfg["username"] == "boss"
        assert s.secret_values() == [cfg["api_secret"]] and len(cfg["api_secret"]) >= 16
        assert MorSimulator().api_secret != s.api_secret
        params = {"user_id": "100"}
        params |= {"u": "boss", "hash": compute_hash("devices_get", params, cfg["api_secret"])}
        root = ET.fromstring(raw_xml(requests.post(f"{s.url}/devices_get", params=params,
                                                   timeout=5)))
        assert len(root.findall("devices/device")) == 2
    finally:
        s.stop()
