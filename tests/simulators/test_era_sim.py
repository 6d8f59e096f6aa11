"""Tests of the ERA integration channels simulator, over real HTTP on loopback."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from runner.builtin.era.simulator import DEFAULT_CHANNELS, EraSimulator, make

COLL = "/rest/v1/service/integration_points"
ID1 = "b4680fbe-016c-d86f-1d6b-50e54938780c"
ID2 = "a188288e-016c-d86f-cd99-50e54938780c"
TOKEN1 = "82ddc7c68623726346a78371173e2f8d"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$")


class Wall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


T0 = 1567000000.426  # 2019-08-28T13:46:40.42Z
WALL = Wall(T0)


@pytest.fixture(scope="module")
def server() -> Iterator[EraSimulator]:
    # One server for the module (stop() waits up to 0.5 s); state is reset before each test.
    s = EraSimulator(api_token="tok-123", wall_clock=WALL)
    s.start()
    yield s
    s.stop()


@pytest.fixture()
def wall() -> Wall:
    WALL.t = T0
    return WALL


@pytest.fixture()
def sim(server: EraSimulator, wall: Wall) -> EraSimulator:
    server.channels = {ch["id"]: copy.deepcopy(ch) for ch in DEFAULT_CHANNELS}
    server.calls.clear()
    return server


class Client:
    def __init__(self, sim: EraSimulator) -> None:
        self.base = sim.connector_settings()["base_url"]
        self.s = requests.Session()
        self.s.headers["Authorization"] = "Bearer " + sim.connector_settings()["api_token"]

    def __call__(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
                 **params: Any) -> requests.Response:
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        return self.s.request(method, self.base + path, data=data, params=params or None,
                              headers={"Content-Type": "application/json; charset=utf-8"})


@pytest.fixture()
def c(sim: EraSimulator) -> Client:
    return Client(sim)


def err(r: requests.Response, status: int) -> str:
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"error_code", "error_message"}
    assert body["error_code"] == 1000 + status
    return str(body["error_message"])


def test_settings_and_secrets() -> None:
    s = make()
    s.start()
    try:
        st = s.connector_settings()
        assert st["base_url"] == s.url and st["base_url"].startswith("http://127.0.0.1:")
        assert len(st["api_token"]) >= 32
        assert s.secret_values() == [st["api_token"]]
        assert make().api_token != s.api_token
    finally:
        s.stop()


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic tok-123", "tok-123"])
def test_auth_required(sim: EraSimulator, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in [("GET", COLL), ("POST", COLL), ("GET", f"{COLL}/{ID1}"),
                         ("PATCH", f"{COLL}/{ID1}"), ("DELETE", f"{COLL}/{ID1}"),
                         ("LOOKUP", COLL), ("LOOKUP", "/rest/v1/service/svcscripts")]:
        r = requests.request(method, sim.url + path, headers=headers, data=json.dumps("x"))
        assert err(r, 401) == "Unauthorized"
    assert ID1 in sim.channels


def test_seeded_list_and_paging(c: Client) -> None:
    r = c("GET", COLL)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    items = r.json()
    assert [(i["id"], i["code"], i["type"]) for i in items] == [
        (ID1, "ABCDE", "public"), (ID2, "902", "telegram")]
    assert items[0]["token_local"] == TOKEN1 and items[1]["token_local"] != TOKEN1
    assert items[0]["ext"] == {"ct": "2019-08-28T13:34:16.42Z", "lwt": "2019-08-28T13:34:16.42Z"}
    assert set(items[0]["opts"]) >= {"title", "comment", "allow_files_api", "issync",
                                     "recv_timeout", "roles", "userid"}
    assert [i["id"] for i in c("GET", COLL, offset=0, limit=1).json()] == [ID1]
    assert [i["id"] for i in c("GET", COLL, offset=1, limit=2).json()] == [ID2]
    assert c("GET", COLL, offset=5).json() == []
    for bad in ({"offset": "x"}, {"limit": "-1"}, {"offset": "-2"}):
        err(c("GET", COLL, **bad), 400)


def test_list_filter(c: Client) -> None:
    got = c("GET", COLL, filter=json.dumps({"type": "telegram"})).json()
    assert [i["id"] for i in got] == [ID2]
    got = c("GET", COLL, filter=json.dumps({"opts.title": "", "tokenlocal": TOKEN1})).json()
    assert [i["id"] for i in got] == [ID1]
    assert c("GET", COLL, filter=json.dumps({"code": "nope"})).json() == []
    assert err(c("GET", COLL, filter="{bad"), 400) == "Invalid filter"
    assert err(c("GET", COLL, filter="[1]"), 400) == "Invalid filter"
    assert "Unknown field" in err(c("GET", COLL, filter=json.dumps({"zzz": 1})), 400)


def test_list_mask_flat(c: Client) -> None:
    got = c("GET", COLL, mask="id,tokenlocal,opts.title,ext.ct", limit=1).json()
    assert got == [{"id": ID1, "token_local": TOKEN1, "opts": {"title": ""},
                    "ext": {"ct": "2019-08-28T13:34:16.42Z"}}]
    got = c("GET", COLL, mask="code,token_local,opts", flat="true", limit=1).json()[0]
    assert got["code"] == "ABCDE" and got["token_local"] == TOKEN1 and got["opts.issync"] is False
    assert "opts" not in got and "id" not in got and "ext.ct" not in got
    full = c("GET", COLL, flat="1").json()[0]
    assert full["ext.lwt"] == "2019-08-28T13:34:16.42Z" and "ext" not in full
    assert "Unknown field" in err(c("GET", COLL, mask="id,bogus"), 400)
    err(c("GET", COLL, flat="maybe"), 400)


def test_list_order(c: Client) -> None:
    c("POST", COLL, {"code": "M1", "type": "im"})
    codes = lambda **p: [i["code"] for i in c("GET", COLL, mask="code", **p).json()]  # noqa: E731
    assert codes() == ["ABCDE", "902", "M1"]
    assert codes(order=json.dumps(["code"])) == ["902", "ABCDE", "M1"]
    assert codes(order=json.dumps([{"code": "desc"}])) == ["M1", "ABCDE", "902"]
    assert codes(order="-code") == ["M1", "ABCDE", "902"]
    assert codes(order="type,-code") == ["M1", "ABCDE", "902"]
    assert codes(order=json.dumps(["-ext.ct", "code"]), limit=1) == ["M1"]
    err(c("GET", COLL, order=json.dumps([{"code": "sideways"}])), 400)
    err(c("GET", COLL, order=json.dumps([5])), 400)
    assert "Unknown field" in err(c("GET", COLL, order="nope"), 400)


def test_create(c: Client, sim: EraSimulator, wall: Wall) -> None:
    body = {"code": "NEW1", "type": "webhook", "url": "http://x.test", "token_local": "mine",
            "opts": {"title": "T", "recv_timeout": 30, "roles": ["admin"],
                     "userid": "0e1f2a3b-016c-d86f-1d6b-50e54938780c"},
            "ext": {"ct": "1999-01-01T00:00:00.00Z"}, "junk": 1}
    r = c("POST", COLL, body)
    assert r.status_code == 200
    e = r.json()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", e["id"])
    assert re.fullmatch(r"[0-9a-f]{32}", e["token_local"]) and e["token_local"] != "mine"
    assert e["ext"] == {"ct": "2019-08-28T13:46:40.42Z", "lwt": "2019-08-28T13:46:40.42Z"}
    assert STAMP.match(e["ext"]["ct"]) and "junk" not in e
    assert e["opts"] == {"title": "T", "comment": "", "allow_files_api": False, "issync": False,
                         "recv_timeout": 30, "roles": ["admin"],
                         "userid": "0e1f2a3b-016c-d86f-1d6b-50e54938780c"}
    assert e["token_remote"] == "" and e["send_svcscriptcode"] == ""
    assert list(e) == ["id", "code", "type", "token_local", "token_remote", "token_remote2",
                       "url", "recv_svcscriptcode", "recv_svcscriptcode_ws",
                       "send_svcscriptcode", "send_svcscriptcode_ws", "opts", "ext"]
    assert c("GET", f"{COLL}/{e['id']}").json() == e
    assert e["id"] in [i["id"] for i in c("GET", COLL).json()]
    assert sim.calls["create"] == 1
    # client-supplied id
    r = c("POST", COLL, {"id": "my-own-id", "code": "NEW2", "type": "im"})
    assert r.status_code == 200 and r.json()["id"] == "my-own-id"
    assert err(c("POST", COLL, {"id": "my-own-id", "code": "NEW3", "type": "im"}), 409)
    assert "NEW1" in err(c("POST", COLL, {"code": "NEW1", "type": "im"}), 409)
    assert len(sim.channels) == 4


def test_create_repeated_key_last_wins(c: Client) -> None:
    raw = (b'{"code": "DUP", "type": "public", "opts": {"title": "a"}, '
           b'"opts": {"title": "b"}, "ext": {"ct": "x"}, "ext": {"ct": "y"}}')
    r = c("POST", COLL, raw=raw)
    assert r.status_code == 200 and r.json()["opts"]["title"] == "b"


@pytest.mark.parametrize(("raw", "msg"), [
    (b"{not json", "Invalid JSON"),
    (b"[1, 2]", "Request body must be a JSON object"),
    (b'"str"', "Request body must be a JSON object"),
    (b'{"code": "X", "type": "sms"}', "Invalid value of field 'type'"),
    (b'{"code": "X"}', "Field 'type' is required"),
    (b'{"type": "im"}', "Field 'code' is required"),
    (b'{"code": 5, "type": "im"}', "Invalid value of field 'code'"),
    (b'{"code": "X", "type": "im", "opts": []}', "Invalid value of field 'opts'"),
    (b'{"code": "X", "type": "im", "opts": {"recv_timeout": "5"}}',
     "Invalid value of field 'opts.recv_timeout'"),
    (b'{"code": "X", "type": "im", "opts": {"userid": "nope"}}',
     "Invalid value of field 'opts.userid'"),
    (b'{"id": 7, "code": "X", "type": "im"}', "Invalid value of field 'id'"),
])
def test_create_bad_requests(c: Client, sim: EraSimulator, raw: bytes, msg: str) -> None:
    assert err(c("POST", COLL, raw=raw), 400) == msg
    assert len(sim.channels) == 2


def test_get_item(c: Client) -> None:
    e = c("GET", f"{COLL}/{ID2}").json()
    assert e["code"] == "902" and e["ext"]["ct"] == "2019-08-28T13:35:01.52Z"
    assert c("GET", f"{COLL}/{ID1}", mask="id,tokenremote,opts.title").json() == {
        "id": ID1, "token_remote": "", "opts": {"title": ""}}
    assert c("GET", f"{COLL}/{ID1}", mask="opts.title", flat="true").json() == {"opts.title": ""}
    assert err(c("GET", f"{COLL}/missing"), 404) == "Not found"
    assert "Unknown field" in err(c("GET", f"{COLL}/{ID1}", mask="x"), 400)


def test_patch(c: Client, wall: Wall) -> None:
    wall.t += 3600.5
    r = c("PATCH", f"{COLL}/{ID1}", {"token_remote": "00ea293c29f9dc30",
                                     "opts": {"title": "Web", "issync": True},
                                     "ext": {"ct": "ignored"}})
    assert r.status_code == 200
    e = r.json()
    assert e["token_remote"] == "00ea293c29f9dc30" and e["token_local"] == TOKEN1
    assert e["opts"]["title"] == "Web" and e["opts"]["issync"] is True
    assert e["opts"]["comment"] == "" and e["opts"]["allow_files_api"] is False
    assert e["ext"] == {"ct": "2019-08-28T13:34:16.42Z", "lwt": "2019-08-28T14:46:40.92Z"}
    assert c("GET", f"{COLL}/{ID1}").json() == e


@pytest.mark.parametrize(("body", "status", "msg"), [
    ({"token_local": "x"}, 400, "Field 'token_local' can't be modified"),
    ({"tokenlocal": "x"}, 400, "Field 'token_local' can't be modified"),
    ({"id": "x"}, 400, "Field 'id' can't be modified"),
    ({"type": "fax"}, 400, "Invalid value of field 'type'"),
    ([1], 400, "Request body must be a JSON object"),
    ({"code": "902"}, 409, "Integration point with code '902' already exists"),
])
def test_patch_errors(c: Client, body: Any, status: int, msg: str) -> None:
    before = c("GET", f"{COLL}/{ID1}").json()
    assert err(c("PATCH", f"{COLL}/{ID1}", body), status) == msg
    assert c("GET", f"{COLL}/{ID1}").json() == before


def test_patch_misc(c: Client) -> None:
    assert err(c("PATCH", f"{COLL}/{ID1}", raw=b"{oops"), 400) == "Invalid JSON"
    assert err(c("PATCH", f"{COLL}/missing", {"url": "x"}), 404) == "Not found"
    r = c("PATCH", f"{COLL}/{ID1}", {"code": "ABCDE", "type": "im"})  # own code is fine
    assert r.status_code == 200 and r.json()["type"] == "im"


def test_delete(c: Client) -> None:
    r = c("DELETE", f"{COLL}/{ID1}")
    assert r.status_code == 204 and r.content == b""
    assert err(c("GET", f"{COLL}/{ID1}"), 404) == "Not found"
    assert [i["id"] for i in c("GET", COLL).json()] == [ID2]
    assert err(c("DELETE", f"{COLL}/{ID1}"), 404) == "Not found"
    assert err(c("LOOKUP", COLL, "ABCDE"), 404) == "Lookup failed"


def test_lookup(c: Client) -> None:
    r = c("LOOKUP", COLL, TOKEN1)
    assert r.status_code == 200 and r.json() == [ID1]
    assert c("LOOKUP", COLL, "902").json() == [ID2]
    assert c("LOOKUP", COLL, ID2).json() == [ID2]
    new = c("POST", COLL, {"code": "L1", "type": "im"}).json()
    assert c("LOOKUP", COLL, new["token_local"]).json() == [new["id"]]
    assert err(c("LOOKUP", COLL, "nothing-here"), 404) == "Lookup failed"
    for raw in (b'{"code": "902"}', b"902", b"not json", b""):
        assert err(c("LOOKUP", COLL, raw=raw), 400) == "Lookup key must be a JSON string"


def test_lookup_svcscripts(c: Client, sim: EraSimulator) -> None:
    r = c("LOOKUP", "/rest/v1/service/svcscripts", "ws_hook")
    assert r.status_code == 200 and r.json() == [sim.svcscripts[0]["id"]]
    ident = sim.svcscripts[1]["id"]
    assert c("LOOKUP", "/rest/v1/service/svcscripts", ident).json() == [ident]
    assert err(c("LOOKUP", "/rest/v1/service/svcscripts", "nope"), 404) == "Lookup failed"
    err(c("LOOKUP", "/rest/v1/service/svcscripts", raw=b"[]"), 400)
    assert sim.calls["lookup_svcscripts"] == 4


def test_unknown_route_and_verb(c: Client) -> None:
    assert err(c("GET", "/rest/v1/service/nothing"), 404) == "Not found"
    err(c("PUT", COLL, {}), 405)
    err(c("LOOKUP", f"{COLL}/{ID1}", "x"), 405)
