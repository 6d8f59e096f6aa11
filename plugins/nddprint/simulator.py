"""NDD Print 360 integration API simulator (card codes and PIN codes of users).

Faithful to ``nddprint-360-card-codes-api.txt`` (Spanish) and NOTES.md: routes live under
``/integration-360-api/api/v1/users/...`` (the doc's examples drop ``users/``; the real routes
have it); ``POST api/v1/token`` takes ``{"clientID", "SecretKey"}`` (that exact casing) and
answers ``{"accessToken": <JWT>, "expiresIn": 2592000, "tokenType": "Bearer"}``; a configured
long-lived ``static_token`` is always accepted; ``add-card-code`` answers the bare JSON ``true``;
``update-pin-code-autorenew`` answers the body ``0208`` (application/json, but NOT valid JSON:
a leading zero); errors are 400 with a message.

Seeded users (DomainName \\ LogonName: card codes; pinCode / securePinCode / useSecurePinCode):
  CORP\\jdoe:   ["123456789"]             1231231 / 12345 / true   (the doc's example)
  CORP\\asmith: []                        4455667 / 54321 / false
  CORP\\bwayne: ["000123", "987654321"]   7654321 / 00042 / true   (leading zeros kept)
  LAB\\jdoe:    []                        1112223 / 99999 / false  (same logon, other domain)
Options: ``unique_card_code`` (tenant setting "usar solo un código de tarjeta por usuario",
default True), ``pin_autorenew`` (default True), ``renewed_pin`` ("0208"), ``token_ttl``
(2592000 s, on ``self.clock()``), ``client_id`` / ``secret_key`` / ``static_token`` (random
unless given), ``users`` (replaces the seed). State for tests: ``self.users`` keyed by
``(DOMAIN upper-cased, logon lower-cased)``; ``reset()`` re-seeds users and drops tokens.

Choices where the docs are silent:
- error bodies are ``text/plain`` carrying the documented Spanish message;
- a missing/invalid Bearer token (or an expired one) -> 401 ``text/plain`` ``Unauthorized``;
  the token endpoint answers 401 ``Unauthorized`` for wrong credentials;
- 400 on the token endpoint / missing parameters uses the missing-body message; an empty string,
  a non-string name or code, or a non-boolean ``ReplaceUniqueCardCode`` counts as missing;
  ``ReplaceUniqueCardCode`` is required on add-card-code;
- LogonName and DomainName match case-insensitively (Windows accounts); card codes exactly;
- check order: token, body/fields, user, then the card-code conflict (any user of any domain);
- unique setting on, user already has another code, ``ReplaceUniqueCardCode`` false -> nothing
  changes and the answer is 200 ``false``; the user's own code again -> no-op 200 ``true``;
- unique setting off: the code is appended; a code the user already has is a no-op ``true``;
- update-pin-code-autorenew sets the user's ``pinCode`` to ``renewed_pin`` and returns it;
  with ``pin_autorenew`` off it answers 403 text ``Forbidden`` before looking at the body.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import shlex
import time
import uuid
from typing import Any

from runner.connectors import Faults, Reply, Request, Simulator, json_reply, route, text_reply

MISSING = "La petición está faltando el cuerpo o algún parámetro necesario."
NOT_FOUND = "No se encontró el usuario."
IN_USE = "El código está siendo utilizado por otro usuario."

DEFAULT_USERS: list[dict[str, Any]] = [
    {"domainName": "CORP", "logonName": "jdoe", "cardCodes": ["123456789"],
     "pinCode": "1231231", "securePinCode": "12345", "useSecurePinCode": True},
    {"domainName": "CORP", "logonName": "asmith", "cardCodes": [],
     "pinCode": "4455667", "securePinCode": "54321", "useSecurePinCode": False},
    {"domainName": "CORP", "logonName": "bwayne", "cardCodes": ["000123", "987654321"],
     "pinCode": "7654321", "securePinCode": "00042", "useSecurePinCode": True},
    {"domainName": "LAB", "logonName": "jdoe", "cardCodes": [],
     "pinCode": "1112223", "securePinCode": "99999", "useSecurePinCode": False},
]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _error(status: int, message: str) -> Reply:
    return text_reply(status, message)


def _raw_json(body: bytes) -> Reply:
    return Reply(200, body, {"Content-Type": "application/json; charset=utf-8"})


def user_key(domain: str, logon: str) -> tuple[str, str]:
    return domain.upper(), logon.lower()


class NddprintSimulator(Simulator):
    name = "nddprint"
    prefix = "/integration-360-api"

    def __init__(
        self,
        *,
        unique_card_code: bool = True,
        pin_autorenew: bool = True,
        renewed_pin: str = "0208",
        token_ttl: float = 2592000.0,
        client_id: str | None = None,
        secret_key: str | None = None,
        static_token: str | None = None,
        users: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.unique_card_code = unique_card_code
        self.pin_autorenew = pin_autorenew
        self.renewed_pin = renewed_pin
        self.token_ttl = token_ttl
        self.client_id = client_id or str(uuid.uuid4())
        self.secret_key = secret_key or secrets.token_urlsafe(32)
        self.static_token = static_token or (
            secrets.token_hex(11) + base64.b64encode(secrets.token_bytes(33)).decode()
        )
        self._signing_key = secrets.token_bytes(32)
        self._seed = copy.deepcopy(users if users is not None else DEFAULT_USERS)
        self.tokens: dict[str, float] = {}  # issued token -> expiry (clock time)
        self.users: dict[tuple[str, str], dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the seeded users, with no issued tokens (settings are left alone)."""
        with self.lock:
            self.tokens.clear()
            self.users.clear()
            for u in copy.deepcopy(self._seed):
                u.setdefault("cardCodes", [])
                self.users[user_key(u["domainName"], u["logonName"])] = u

    def connector_settings(self) -> dict[str, Any]:
        return {
            "base_url": self.url,
            "client_id": self.client_id,
            "secret_key": self.secret_key,
            "static_token": self.static_token,
        }

    def secret_values(self) -> list[str]:
        with self.lock:
            return [self.secret_key, self.static_token, *self.tokens]

    def example_request(self) -> str:
        return shlex.join(["curl", "-H", f"Authorization: Bearer {self.static_token}",
                           "-H", "Content-Type: application/json",
                           "-d", json.dumps({"DomainName": "CORP", "LogonName": "jdoe"}),
                           self.url + "/api/v1/users/card-codes"])

    def expire_tokens(self) -> None:
        """Make every issued token expired (the static token stays valid)."""
        with self.lock:
            for t in self.tokens:
                self.tokens[t] = float("-inf")

    # -- helpers -----------------------------------------------------------------------
    def _jwt(self) -> str:
        now = int(time.time())
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps({
            "sub": self.client_id, "iat": now, "exp": now + int(self.token_ttl),
            "jti": secrets.token_hex(8),
        }).encode())
        signing_input = f"{header}.{payload}".encode("ascii")
        signature = hmac.new(self._signing_key, signing_input, hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64url(signature)}"

    def _authorized(self, req: Request) -> bool:
        token = req.bearer()
        if not token:
            return False
        if hmac.compare_digest(token, self.static_token):
            return True
        with self.lock:
            expiry = self.tokens.get(token)
        return expiry is not None and self.clock() < expiry

    @staticmethod
    def _fields(req: Request, names: dict[str, type]) -> dict[str, Any] | None:
        """The named fields of a JSON object body, or None when the body or one is missing."""
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(body, dict):
            return None
        out: dict[str, Any] = {}
        for name, kind in names.items():
            value = body.get(name)
            if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
                return None
            out[name] = value
        return out

    def _user(self, req: Request, extra: dict[str, type] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]] | Reply:
        """(fields, user) for a users/* call, or the error Reply."""
        if not self._authorized(req):
            return _error(401, "Unauthorized")
        fields = self._fields(req, {"LogonName": str, "DomainName": str, **(extra or {})})
        if fields is None:
            return _error(400, MISSING)
        user = self.users.get(user_key(fields["DomainName"], fields["LogonName"]))
        if user is None:
            return _error(400, NOT_FOUND)
        return fields, user

    # -- routes ------------------------------------------------------------------------
    @route("POST", "/api/v1/token", "token")
    def token(self, req: Request) -> Reply:
        fields = self._fields(req, {"clientID": str, "SecretKey": str})
        if fields is None:
            return _error(400, MISSING)
        if not (hmac.compare_digest(fields["clientID"], self.client_id)
                and hmac.compare_digest(fields["SecretKey"], self.secret_key)):
            return _error(401, "Unauthorized")
        token = self._jwt()
        with self.lock:
            self.tokens[token] = self.clock() + self.token_ttl
        return json_reply(200, {"accessToken": token, "expiresIn": int(self.token_ttl),
                                "tokenType": "Bearer"})

    @route("POST", "/api/v1/users/card-codes", "card_codes")
    def card_codes(self, req: Request) -> Reply:
        with self.lock:
            found = self._user(req)
            if isinstance(found, Reply):
                return found
            codes = list(found[1]["cardCodes"])
        return json_reply(200, {"uniqueCardCode": self.unique_card_code, "cardCodes": codes})

    @route("POST", "/api/v1/users/add-card-code", "add_card_code")
    def add_card_code(self, req: Request) -> Reply:
        with self.lock:
            found = self._user(req, {"ReplaceUniqueCardCode": bool, "CardCode": str})
            if isinstance(found, Reply):
                return found
            fields, user = found
            code: str = fields["CardCode"]
            if any(code in u["cardCodes"] for u in self.users.values() if u is not user):
                return _error(400, IN_USE)
            codes: list[str] = user["cardCodes"]
            if code in codes:
                return _raw_json(b"true")
            if self.unique_card_code and codes:
                if not fields["ReplaceUniqueCardCode"]:
                    return _raw_json(b"false")
                codes[:] = [code]
            else:
                codes.append(code)
        return _raw_json(b"true")

    @route("POST", "/api/v1/users/pin-codes", "pin_codes")
    def pin_codes(self, req: Request) -> Reply:
        with self.lock:
            found = self._user(req)
            if isinstance(found, Reply):
                return found
            user = found[1]
            return json_reply(200, {"pinCode": user["pinCode"],
                                    "securePinCode": user["securePinCode"],
                                    "useSecurePinCode": user["useSecurePinCode"]})

    @route("POST", "/api/v1/users/update-pin-code-autorenew", "update_pin_code_autorenew")
    def update_pin_code_autorenew(self, req: Request) -> Reply:
        if not self._authorized(req):
            return _error(401, "Unauthorized")
        if not self.pin_autorenew:
            return _error(403, "Forbidden")
        with self.lock:
            found = self._user(req)
            if isinstance(found, Reply):
                return found
            found[1]["pinCode"] = self.renewed_pin
        return _raw_json(self.renewed_pin.encode("ascii"))


def make(**options: Any) -> NddprintSimulator:
    faults = options.pop("faults", None)
    return NddprintSimulator(faults=Faults(**faults) if isinstance(faults, dict) else faults,
                             **options)
