"""Tests of the NDD Print 360 simulator over real HTTP on loopback."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from runner.builtin.nddprint.simulator import IN_USE, MISSING, NOT_FOUND, NddprintSimulator


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


def _start(**options: Any) -> Iterator[NddprintSimulator]:
    sim = NddprintSimulator(**options)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def server(clock: FakeClock) -> Iterator[NddprintSimulator]:
    # One server for the module (stopping one costs ~0.5 s); state is reset per test.
    yield from _start(clock=clock)


@pytest.fixture
def sim(server: NddprintSimulator, clock: FakeClock) -> NddprintSimulator:
    server.reset()
    server.calls.clear()
    server.unique_card_code = True
    server.pin_autorenew = True
    clock.now = 1000.0
    return server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def _token(sim: NddprintSimulator, s: requests.Session) -> str:
    r = s.post(f"{sim.url}/api/v1/token",
               json={"clientID": sim.client_id, "SecretKey": sim.secret_key})
    assert r.status_code == 200
    return r.json()["accessToken"]


def _post(sim: NddprintSimulator, s: requests.Session, path: str, body: Any,
          token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or sim.static_token}"}
    return s.post(f"{sim.url}/api/v1/users/{path}", json=body, headers=headers)


def _card(logon: str = "jdoe", domain: str = "CORP", code: str = "555",
          replace: Any = True) -> dict[str, Any]:
    return {"LogonName": logon, "DomainName": domain, "ReplaceUniqueCardCode": replace,
            "CardCode": code}


def _assert_error(r: requests.Response, status: int, text: str) -> None:
    assert r.status_code == status
    assert r.text == text
    assert r.headers["Content-Type"].startswith("text/plain")


JDOE = {"LogonName": "jdoe", "DomainName": "CORP"}


# -- token -------------------------------------------------------------------------
def test_token_issues_jwt_accepted_by_endpoints(sim, session):
    r = session.post(f"{sim.url}/api/v1/token",
                     json={"clientID": sim.client_id, "SecretKey": sim.secret_key})
    assert r.status_code == 200
    body = r.json()
    assert body["expiresIn"] == 2592000 and body["tokenType"] == "Bearer"
    parts = body["accessToken"].split(".")
    assert len(parts) == 3
    header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    assert header["typ"] == "JWT"
    assert body["accessToken"] in sim.secret_values()
    assert _post(sim, session, "card-codes", JDOE, body["accessToken"]).status_code == 200
    assert sim.connector_settings() == {"base_url": sim.url, "client_id": sim.client_id,
                                        "secret_key": sim.secret_key,
                                        "static_token": sim.static_token}
    assert sim.url.endswith("/integration-360-api")


@pytest.mark.parametrize("body", [
    None, b"not json", {"clientID": "x"}, {"SecretKey": "y"},
    {"clientId": "x", "secretKey": "y"},  # wrong casing = fields missing
])
def test_token_missing_body_or_field_is_400(sim, session, body):
    kw = {"data": body} if isinstance(body, bytes) or body is None else {"json": body}
    r = session.post(f"{sim.url}/api/v1/token", **kw)
    _assert_error(r, 400, MISSING)


def test_token_wrong_credentials_is_401(sim, session):
    r = session.post(f"{sim.url}/api/v1/token",
                     json={"clientID": sim.client_id, "SecretKey": "wrong"})
    _assert_error(r, 401, "Unauthorized")


def test_token_expires_on_clock_static_token_does_not(sim, session, clock):
    token = _token(sim, session)
    clock.now += 2592000 - 1
    assert _post(sim, session, "card-codes", JDOE, token).status_code == 200
    clock.now += 1
    _assert_error(_post(sim, session, "card-codes", JDOE, token), 401, "Unauthorized")
    assert _post(sim, session, "card-codes", JDOE).status_code == 200  # static token


def test_configured_credentials_and_static_token():
    for sim in _start(client_id="cid", secret_key="sk", static_token="STATIC",
                      users=[{"domainName": "CORP", "logonName": "jdoe", "pinCode": "1",
                              "securePinCode": "2", "useSecurePinCode": False}]):
        with requests.Session() as s:
            assert sim.connector_settings()["static_token"] == "STATIC"
            r = _post(sim, s, "card-codes", JDOE, "STATIC")
            assert r.json() == {"uniqueCardCode": True, "cardCodes": []}
            assert list(sim.users) == [("CORP", "jdoe")]
            r = s.post(f"{sim.url}/api/v1/token", json={"clientID": "cid", "SecretKey": "sk"})
            assert r.status_code == 200


@pytest.mark.parametrize("path", ["card-codes", "add-card-code", "pin-codes",
                                  "update-pin-code-autorenew"])
@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic abc"])
def test_endpoints_need_bearer_token(sim, session, path, auth):
    headers = {"Authorization": auth} if auth else {}
    r = session.post(f"{sim.url}/api/v1/users/{path}", json=_card(), headers=headers)
    _assert_error(r, 401, "Unauthorized")
    assert sim.users[("CORP", "jdoe")]["cardCodes"] == ["123456789"]


def test_expired_tokens_helper(sim, session):
    token = _token(sim, session)
    sim.expire_tokens()
    assert _post(sim, session, "pin-codes", JDOE, token).status_code == 401


# -- card-codes --------------------------------------------------------------------
def test_card_codes(sim, session):
    r = _post(sim, session, "card-codes", JDOE)
    assert r.status_code == 200
    assert r.json() == {"uniqueCardCode": True, "cardCodes": ["123456789"]}
    r = _post(sim, session, "card-codes", {"LogonName": "BWAYNE", "DomainName": "corp"})
    assert r.json()["cardCodes"] == ["000123", "987654321"]
    r = _post(sim, session, "card-codes", {"LogonName": "jdoe", "DomainName": "LAB"})
    assert r.json()["cardCodes"] == []
    assert sim.calls["card_codes"] == 3


def test_card_codes_errors(sim, session):
    _assert_error(_post(sim, session, "card-codes", {"LogonName": "ghost", "DomainName": "CORP"}),
                  400, NOT_FOUND)
    _assert_error(_post(sim, session, "card-codes", {"LogonName": "jdoe"}), 400, MISSING)
    _assert_error(_post(sim, session, "card-codes", None), 400, MISSING)


def test_unique_setting_off_is_reported(sim, session):
    sim.unique_card_code = False
    assert _post(sim, session, "card-codes", JDOE).json()["uniqueCardCode"] is False


# -- add-card-code -----------------------------------------------------------------
def test_add_card_code_to_user_without_code(sim, session):
    r = _post(sim, session, "add-card-code", _card("asmith", code="0042"))
    assert r.status_code == 200 and r.content == b"true"
    assert r.headers["Content-Type"].startswith("application/json")
    r = _post(sim, session, "card-codes", {"LogonName": "asmith", "DomainName": "CORP"})
    assert r.json()["cardCodes"] == ["0042"]  # a string, leading zeros kept


def test_add_card_code_unique_replace_true_replaces(sim, session):
    r = _post(sim, session, "add-card-code", _card(code="ABC123456", replace=True))
    assert r.status_code == 200 and r.json() is True
    assert _post(sim, session, "card-codes", JDOE).json()["cardCodes"] == ["ABC123456"]
    # the old code is free again for another user
    r = _post(sim, session, "add-card-code", _card("asmith", code="123456789"))
    assert r.content == b"true"


def test_add_card_code_unique_replace_false_keeps_and_answers_false(sim, session):
    r = _post(sim, session, "add-card-code", _card(code="ABC123456", replace=False))
    assert r.status_code == 200 and r.content == b"false"
    assert sim.users[("CORP", "jdoe")]["cardCodes"] == ["123456789"]
    r = _post(sim, session, "add-card-code", _card(code="123456789", replace=False))
    assert r.content == b"true"  # the user's own code: no-op


def test_add_card_code_setting_off_appends(sim, session):
    sim.unique_card_code = False
    assert _post(sim, session, "add-card-code", _card(code="777", replace=False)).json()
    assert _post(sim, session, "add-card-code", _card(code="777")).content == b"true"
    assert sim.users[("CORP", "jdoe")]["cardCodes"] == ["123456789", "777"]


@pytest.mark.parametrize("body", [
    None,
    {"LogonName": "jdoe", "DomainName": "CORP", "ReplaceUniqueCardCode": True},
    {"LogonName": "jdoe", "DomainName": "CORP", "CardCode": "1"},
    {"DomainName": "CORP", "ReplaceUniqueCardCode": True, "CardCode": "1"},
    {"LogonName": "jdoe", "ReplaceUniqueCardCode": True, "CardCode": "1"},
    {"LogonName": "jdoe", "DomainName": "CORP", "ReplaceUniqueCardCode": "yes",
     "CardCode": "1"},
    {"LogonName": "jdoe", "DomainName": "CORP", "ReplaceUniqueCardCode": True,
     "CardCode": 123},
    {"LogonName": "jdoe", "DomainName": "CORP", "ReplaceUniqueCardCode": True,
     "CardCode": ""},
])
def test_add_card_code_missing_body_or_field(sim, session, body):
    _assert_error(_post(sim, session, "add-card-code", body), 400, MISSING)
    assert sim.users[("CORP", "jdoe")]["cardCodes"] == ["123456789"]


def test_add_card_code_unknown_user(sim, session):
    _assert_error(_post(sim, session, "add-card-code", _card("ghost")), 400, NOT_FOUND)


def test_add_card_code_used_by_another_user(sim, session):
    r = _post(sim, session, "add-card-code", _card("asmith", code="000123"))
    _assert_error(r, 400, IN_USE)
    r = _post(sim, session, "add-card-code", _card("jdoe", "LAB", code="123456789"))
    _assert_error(r, 400, IN_USE)  # other domain, same code: still taken
    assert sim.users[("CORP", "asmith")]["cardCodes"] == []
    assert sim.users[("LAB", "jdoe")]["cardCodes"] == []


# -- pin codes ---------------------------------------------------------------------
def test_pin_codes(sim, session):
    r = _post(sim, session, "pin-codes", JDOE, _token(sim, session))
    assert r.status_code == 200
    assert r.json() == {"pinCode": "1231231", "securePinCode": "12345",
                        "useSecurePinCode": True}
    r = _post(sim, session, "pin-codes", {"LogonName": "bwayne", "DomainName": "CORP"})
    assert r.json()["securePinCode"] == "00042"


def test_pin_codes_errors(sim, session):
    _assert_error(_post(sim, session, "pin-codes", {"LogonName": "x", "DomainName": "CORP"}),
                  400, NOT_FOUND)
    _assert_error(_post(sim, session, "pin-codes", {"DomainName": "CORP"}), 400, MISSING)


def test_update_pin_code_autorenew_body_is_not_json(sim, session):
    r = _post(sim, session, "update-pin-code-autorenew", JDOE)
    assert r.status_code == 200
    assert r.content == b"0208"
    assert r.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(r.content)
    assert _post(sim, session, "pin-codes", JDOE).json()["pinCode"] == "0208"


def test_update_pin_code_autorenew_errors(sim, session):
    r = _post(sim, session, "update-pin-code-autorenew", {"LogonName": "x", "DomainName": "C"})
    _assert_error(r, 400, NOT_FOUND)
    _assert_error(_post(sim, session, "update-pin-code-autorenew", None), 400, MISSING)


def test_update_pin_code_autorenew_setting_off_is_403(sim, session):
    sim.pin_autorenew = False
    _assert_error(_post(sim, session, "update-pin-code-autorenew", JDOE), 403, "Forbidden")
    assert sim.users[("CORP", "jdoe")]["pinCode"] == "1231231"


def test_reset_restores_seed(sim, session):
    _post(sim, session, "add-card-code", _card("asmith", code="1"))
    sim.reset()
    assert sim.users[("CORP", "asmith")]["cardCodes"] == []


def test_doc_paths_without_users_are_not_routes(sim, session):
    r = session.post(f"{sim.url}/api/v1/card-codes", json=JDOE,
                     headers={"Authorization": f"Bearer {sim.static_token}"})
    assert r.status_code == 404
    r = session.get(f"{sim.url}/api/v1/users/card-codes")
    assert r.status_code == 405
