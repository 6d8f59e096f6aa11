"""Kolmisoft MOR billing API simulator (``/billing/api``).

Faithful to ``mor-billing-devices-get-api.txt`` and NOTES.md: every answer is XML inside HTTP 200
(errors too, found in the body), gzipped ("put in file, gziped and returned"). Routes:
``devices_get`` (old name ``device_list``, same handler), ``user_details_get``, ``device_create``.

Auth: ``u`` must be a known owner login (the admin ``username`` option or ``reseller2``), else
``<error>Bad login</error>``; ``hash`` = SHA1 hex of the VALUES of the call's :data:`HASH_PARAMS`
in that order (absent ones skipped) + ``api_secret``; ``u``/``p`` never hashed (see
:func:`compute_hash`). Checks, in order: Bad login, Incorrect hash, user_id is empty, User not
found, Access Denied (newer style ``<page><status><error>..``) when the user has another owner.
Options ``allow_get``, ``gzip_mode``, ``html_wrap`` and ``big_devices`` are read per request, so
tests may change them on a running instance.

Seeded users (user_id: owner, username, devices):
  100: admin, "john"  -> device 1 (SIP, primary, pin 1111), device 2 (IAX2, pin 2222)
  101: admin, "mary"  -> no devices
  102: reseller2, "rick" -> device 3 (SIP)   (Access Denied for admin)
Options: ``username`` ("admin"), ``api_secret`` (random), ``allow_get`` (False), ``gzip_mode``
("raw" | "header" | "none"), ``html_wrap`` (False), ``big_devices`` (0: N generated devices
added to user 100, rendered on the fly and cached, for big-response benchmarks).

Choices where the docs are silent:
- GET when not allowed: ``<error>GET method not allowed</error>`` (HTTP 200, same encoding).
- Body form params are merged over query params (Rails' params: body wins).
- ``show_hidden_devices`` is accepted, not hashed, and changes nothing (no hidden devices).
- The hash is compared case-insensitively; ``p`` is accepted and ignored.
- ``device_create`` errors and success use the newer ``<page><status>`` style:
  ``<success>Device successfully created</success><device_id>N</device_id>``; a missing ``pin``
  gets a generated one; created devices get ``ipaddr`` ``0.0.0.0`` and ``port`` ``0`` (dynamic).
- ``user_details_get`` answers ``<page><details>`` with user_id, username, first_name,
  last_name, balance, currency.
- Plain answers start with an XML declaration; ``html_wrap`` answers do not.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from runner.connectors import Faults, Reply, Request, Simulator, gzip_bytes, route

HASH_PARAMS: dict[str, list[str]] = {
    "devices_get": ["user_id"],
    "device_list": ["user_id"],
    "user_details_get": ["user_id"],
    "device_create": ["user_id", "description", "pin", "type", "devicegroup_id"],
}
DEVICE_TYPES = ("SIP", "IAX2", "FAX", "Virtual", "H323", "ZAP", "Skype")
GZIP_MODES = ("raw", "header", "none")
RESELLER = "reseller2"


def compute_hash(call: str, params: dict[str, str], api_secret: str) -> str:
    """SHA1 hex of the call's hash parameter values (documented order, absent skipped) + key."""
    values = "".join(str(params[k]) for k in HASH_PARAMS[call] if k in params)
    return hashlib.sha1((values + api_secret).encode("utf-8")).hexdigest()


@dataclass
class User:
    user_id: int
    owner: str
    username: str
    first_name: str
    last_name: str
    balance: float
    devicegroup_id: int


@dataclass
class Device:
    device_id: int
    user_id: int
    device_type: str
    devicegroup_id: int
    primary_device: str
    username: str
    secret: str
    ipaddr: str
    port: str
    pin: str
    description: str = field(default="")


def _device_xml(d: Device) -> str:
    return (
        f"<device><device_id>{d.device_id}</device_id>"
        f"<device_type>{escape(d.device_type)}</device_type>"
        f"<devicegroup_id>{d.devicegroup_id}</devicegroup_id>"
        f"<primary_device>{d.primary_device}</primary_device>"
        f"<username>{escape(d.username)}</username><secret>{escape(d.secret)}</secret>"
        f"<ipaddr>{escape(d.ipaddr)}</ipaddr><port>{escape(d.port)}</port></device>"
    )


class MorSimulator(Simulator):
    name = "mor"
    prefix = "/billing/api"

    def __init__(
        self,
        *,
        username: str = "admin",
        api_secret: str | None = None,
        allow_get: bool = False,
        gzip_mode: str = "raw",
        html_wrap: bool = False,
        big_devices: int = 0,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        if gzip_mode not in GZIP_MODES:
            raise ValueError(f"gzip_mode must be one of {GZIP_MODES}")
        self.username = username
        self.api_secret = api_secret or secrets.token_hex(12)
        self.allow_get = allow_get
        self.gzip_mode = gzip_mode
        self.html_wrap = html_wrap
        self.big_devices = big_devices
        self.users: dict[int, User] = {
            100: User(100, username, "john", "John", "Smith", 12.5, 1),
            101: User(101, username, "mary", "Mary", "Jones", 0.0, 2),
            102: User(102, RESELLER, "rick", "Rick", "Brown", 3.75, 3),
        }
        self.devices: dict[int, Device] = {}
        for d in (
            Device(1, 100, "SIP", 1, "yes", "1001", secrets.token_hex(6), "192.0.2.10", "5060",
                   "1111", "desk phone"),
            Device(2, 100, "IAX2", 1, "no", "1002", secrets.token_hex(6), "0.0.0.0", "0",
                   "2222", "softphone"),
            Device(3, 102, "SIP", 3, "yes", "3001", secrets.token_hex(6), "0.0.0.0", "0",
                   "3333", ""),
        ):
            self.devices[d.device_id] = d
        self._next_id = 4
        self._cache: dict[tuple[Any, ...], bytes] = {}

    def connector_settings(self) -> dict[str, Any]:
        return {"base_url": self.url, "username": self.username, "api_secret": self.api_secret}

    def secret_values(self) -> list[str]:
        return [self.api_secret]

    # -- answers -----------------------------------------------------------------------
    def _body(self, xml: str) -> bytes:
        if self.html_wrap:
            text = f"<head></head><body>{xml}</body>"
        else:
            text = f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'
        data = text.encode("utf-8")
        return data if self.gzip_mode == "none" else gzip_bytes(data)

    def _headers(self) -> dict[str, str]:
        if self.gzip_mode == "raw":
            return {"Content-Type": "application/x-gzip"}
        if self.gzip_mode == "header":
            return {"Content-Type": "text/xml; charset=utf-8", "Content-Encoding": "gzip"}
        return {"Content-Type": "text/xml; charset=utf-8"}

    def _xml(self, xml: str) -> Reply:
        return Reply(200, self._body(xml), self._headers())

    def _error(self, text: str) -> Reply:
        return self._xml(f"<error>{escape(text)}</error>")

    def _status_error(self, text: str) -> Reply:
        return self._xml(f"<page><status><error>{escape(text)}</error></status></page>")

    # -- helpers -----------------------------------------------------------------------
    def _params(self, req: Request) -> dict[str, str]:
        params = dict(req.query)
        ctype = req.headers.get("content-type", "")
        if req.body and ("x-www-form-urlencoded" in ctype or not ctype):
            try:
                params.update(req.form())
            except UnicodeDecodeError:
                pass
        return params

    def _check(self, req: Request, call: str) -> tuple[Reply | None, dict[str, str], User | None]:
        """Common checks; returns (error reply or None, params, user)."""
        params = self._params(req)
        if req.method == "GET" and not self.allow_get:
            return self._error("GET method not allowed"), params, None
        if params.get("u") not in (self.username, RESELLER):
            return self._error("Bad login"), params, None
        expected = compute_hash(call, params, self.api_secret)
        if params.get("hash", "").lower() != expected:
            return self._error("Incorrect hash"), params, None
        raw_id = params.get("user_id", "")
        if not raw_id:
            return self._error("user_id is empty"), params, None
        user = self.users.get(int(raw_id)) if raw_id.isdigit() else None
        if user is None:
            return self._error("User not found"), params, None
        if user.owner != params["u"]:
            return self._status_error("Access Denied"), params, None
        return None, params, user

    def _devices_xml(self, user: User) -> str:
        parts = ["<page><devices>"]
        parts += [_device_xml(d) for d in self.devices.values() if d.user_id == user.user_id]
        if user.user_id == 100 and self.big_devices:
            g = user.devicegroup_id
            parts += [
                f"<device><device_id>{1_000_000 + i}</device_id><device_type>SIP</device_type>"
                f"<devicegroup_id>{g}</devicegroup_id><primary_device>no</primary_device>"
                f"<username>big{i}</username><secret>s{i:010d}</secret>"
                f"<ipaddr>10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}</ipaddr>"
                f"<port>5060</port></device>"
                for i in range(self.big_devices)
            ]
        parts.append("</devices></page>")
        return "".join(parts)

    # -- routes ------------------------------------------------------------------------
    @route("POST", "/devices_get", "devices_get")
    @route("GET", "/devices_get", "devices_get")
    @route("POST", "/device_list", "device_list")
    @route("GET", "/device_list", "device_list")
    def devices_get(self, req: Request) -> Reply:
        error, _, user = self._check(req, "devices_get")
        if error is not None or user is None:
            return error or self._error("User not found")
        with self.lock:
            key = (user.user_id, self.gzip_mode, self.html_wrap, self.big_devices)
            body = self._cache.get(key)
            if body is None:
                body = self._cache[key] = self._body(self._devices_xml(user))
        return Reply(200, body, self._headers())

    @route("POST", "/user_details_get", "user_details_get")
    @route("GET", "/user_details_get", "user_details_get")
    def user_details_get(self, req: Request) -> Reply:
        error, _, u = self._check(req, "user_details_get")
        if error is not None or u is None:
            return error or self._error("User not found")
        return self._xml(
            f"<page><details><user_id>{u.user_id}</user_id>"
            f"<username>{escape(u.username)}</username>"
            f"<first_name>{escape(u.first_name)}</first_name>"
            f"<last_name>{escape(u.last_name)}</last_name>"
            f"<balance>{u.balance:.4f}</balance><currency>USD</currency></details></page>"
        )

    @route("POST", "/device_create", "device_create")
    @route("GET", "/device_create", "device_create")
    def device_create(self, req: Request) -> Reply:
        error, params, user = self._check(req, "device_create")
        if error is not None or user is None:
            return error or self._error("User not found")
        dtype = params.get("type", "")
        if dtype not in DEVICE_TYPES:
            return self._status_error("Device_type_invalid")
        with self.lock:
            pins = {d.pin for d in self.devices.values()}
            pin = params.get("pin", "")
            if pin in pins:
                return self._status_error("Pin_is_already_used")
            while not pin or pin in pins:
                pin = str(secrets.randbelow(900_000) + 100_000)
            group = params.get("devicegroup_id", "")
            device_id = self._next_id
            self._next_id += 1
            has_primary = any(d.user_id == user.user_id for d in self.devices.values())
            self.devices[device_id] = Device(
                device_id, user.user_id, dtype,
                int(group) if group.isdigit() else user.devicegroup_id,
                "no" if has_primary else "yes", f"{user.user_id}{device_id:03d}",
                secrets.token_hex(6), "0.0.0.0", "0", pin, params.get("description", ""),
            )
            self._cache.clear()
        return self._xml(
            "<page><status><success>Device successfully created</success>"
            f"<device_id>{device_id}</device_id></status></page>"
        )


def make(**options: Any) -> MorSimulator:
    faults = options.pop("faults", None)
    return MorSimulator(faults=Faults(**faults) if isinstance(faults, dict) else faults, **options)
