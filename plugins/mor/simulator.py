"""Kolmisoft MOR billing API simulator (``/billing/api``).

Faithful to ``mor-billing-devices-get-api.txt`` and NOTES.md (which quotes the Kolmisoft wiki
pages of ``user_details_get`` and ``device_create``): every answer is XML inside HTTP 200 (errors
too, found in the body), gzipped ("put in file, gziped and returned"). Routes: ``devices_get``
(old name ``device_list``, same handler), ``user_details_get``, ``device_create``.

Auth: ``u`` must be a known owner login (the admin ``username`` option or ``reseller2``), else
``<error>Bad login</error>``; ``hash`` = SHA1 hex of the VALUES of the call's :data:`HASH_PARAMS`
in that order (absent ones skipped) + ``api_secret``; ``u``/``p`` never hashed (see
:func:`compute_hash`). Checks, in order: Bad login, Incorrect hash, no user_id, no such user,
Access Denied (newer style ``<page><status><error>..``) when the user has another owner. The
texts are each call's documented ones (:data:`USER_ERRORS`): devices_get says ``user_id is
empty`` / ``User not found``; user_details_get and device_create say ``User was not found``,
device_create ``Dont be so smart`` when no user id is sent ("params id not send").
Options ``allow_get``, ``gzip_mode``, ``html_wrap``, ``big_devices`` and ``create_problem`` are
read per request, so tests may change them on a running instance.

``user_details_get`` answers the wiki's ``<page><pagename>Personal_details</pagename>
<language>en</language><userid>N</userid><details>`` with ``main_detail`` (account, balance
``12.5000 USD``, balance_number, balance_currency, credit), ``other_details`` (username,
first_name, surname, personalid, agreement_number, agreement_date, taxation_country,
vat_reg_number, vat_percent) and ``registration`` (reg_address ... reg_email).
``device_create`` answers ``<page><status>Device created</status><id>N</id></page>``; its
errors are older-style ``<error>X</error>``: Device_type_invalid, Device_group_invalid,
Pin_must_be_numeric, Pin_is_already_used, and (when ``create_problem`` is set, the server
refusing for its own reasons) ``<error>Device was not created</error><message>..</message>``,
two top-level elements as the wiki writes them. No ``pin`` sent: random digits; an empty
``pin``: a pinless device; an empty or absent ``type``: the default type, SIP.

Seeded users (user_id: owner, username, devices):
  100: admin, "john"  -> device 1 (SIP, primary, pin 1111), device 2 (IAX2, pin 2222)
  101: admin, "mary"  -> no devices
  102: reseller2, "rick" -> device 3 (SIP)   (Access Denied for admin)
Options: ``username`` ("admin"), ``api_secret`` (random), ``allow_get`` (False), ``gzip_mode``
("raw" | "header" | "none"), ``html_wrap`` (False), ``big_devices`` (0: N generated devices
added to user 100, rendered on the fly and cached, for big-response benchmarks),
``create_problem`` ("": the problem message device_create refuses with when set).

Choices where the docs are silent:
- GET when not allowed: ``<error>GET method not allowed</error>`` (HTTP 200, same encoding).
- Body form params are merged over query params (Rails' params: body wins).
- ``show_hidden_devices`` is accepted, not hashed, and changes nothing (no hidden devices).
- The hash is compared case-insensitively; ``p`` is accepted and ignored.
- A user of another owner: ``Access Denied`` for every call (the wiki pages of
  user_details_get and device_create list no text for it).
- device_create checks type, then device group (it must be the user's own), then the PIN
  (numeric, then unused; pinless devices share no PIN); generated PINs have six digits; created
  devices get ``ipaddr`` ``0.0.0.0`` and ``port`` ``0`` (dynamic).
- user_details_get: ``account`` ``Postpaid`` and ``credit`` ``Unlimited`` (the wiki's example),
  other agreement and registration fields as seeded (mostly empty, as in that example).
- Plain answers start with an XML declaration; ``html_wrap`` answers do not.
"""

from __future__ import annotations

import hashlib
import secrets
import shlex
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
# each call's documented texts for (no user_id sent, no such user)
USER_ERRORS: dict[str, tuple[str, str]] = {
    "devices_get": ("user_id is empty", "User not found"),
    "device_list": ("user_id is empty", "User not found"),
    "user_details_get": ("User was not found", "User was not found"),
    "device_create": ("Dont be so smart", "User was not found"),
}
REGISTRATION = ("reg_address", "reg_postcode", "reg_city", "reg_country", "reg_state",
                "reg_direction", "reg_phone", "reg_mobile", "reg_fax", "reg_email")


def compute_hash(call: str, params: dict[str, str], api_secret: str) -> str:
    """SHA1 hex of the call's hash parameter values (documented order, absent skipped) + key."""
    values = "".join(str(params[k]) for k in HASH_PARAMS[call] if k in params)
    return hashlib.sha1((values + api_secret).encode("utf-8")).hexdigest()


@dataclass
class User:
    """A user of the simulated MOR."""
    user_id: int
    owner: str
    username: str
    first_name: str
    surname: str
    balance: float
    devicegroup_id: int
    agreement_date: str = "2026-01-05"
    reg_email: str = ""


@dataclass
class Device:
    """A device of the simulated MOR."""
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


def _tags(pairs: dict[str, Any]) -> str:
    return "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in pairs.items())


def _user_details_xml(u: User) -> str:
    """The wiki's user_details_get answer for ``u``."""
    balance = f"{u.balance:.4f}"
    main = {"account": "Postpaid", "balance": f"{balance} USD", "balance_number": balance,
            "balance_currency": "USD", "credit": "Unlimited"}
    other = {"username": u.username, "first_name": u.first_name, "surname": u.surname,
             "personalid": "", "agreement_number": f"{u.user_id:010d}",
             "agreement_date": u.agreement_date, "taxation_country": "", "vat_reg_number": "",
             "vat_percent": "0.0"}
    registration = {k: u.reg_email if k == "reg_email" else "" for k in REGISTRATION}
    return (
        "<page><pagename>Personal_details</pagename><language>en</language>"
        f"<userid>{u.user_id}</userid><details>"
        f"<main_detail>{_tags(main)}</main_detail>"
        f"<other_details>{_tags(other)}</other_details>"
        f"<registration>{_tags(registration)}</registration></details></page>"
    )


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
        create_problem: str = "",
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
        self.create_problem = create_problem
        self.users: dict[int, User] = {
            100: User(100, username, "john", "John", "Smith", 12.5, 1,
                      reg_email="john@example.com"),
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

    def example_request(self) -> str:
        # the answer is gzipped XML (gzip_mode raw): curl ... | gunzip
        params = {"user_id": "100"}
        return shlex.join(["curl", "-s", "-d", f"u={self.username}", "-d", "user_id=100", "-d",
                           "hash=" + compute_hash("user_details_get", params, self.api_secret),
                           self.url + "/user_details_get"]) + " | gunzip"

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
        no_id, not_found = USER_ERRORS[call]
        raw_id = params.get("user_id", "")
        if not raw_id:
            return self._error(no_id), params, None
        user = self.users.get(int(raw_id)) if raw_id.isdigit() else None
        if user is None:
            return self._error(not_found), params, None
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
            return error or self._error("User was not found")
        return self._xml(_user_details_xml(u))

    @route("POST", "/device_create", "device_create")
    @route("GET", "/device_create", "device_create")
    def device_create(self, req: Request) -> Reply:
        error, params, user = self._check(req, "device_create")
        if error is not None or user is None:
            return error or self._error("User was not found")
        dtype = params.get("type") or "SIP"  # '' -> the default device type, SIP
        if dtype not in DEVICE_TYPES:
            return self._error("Device_type_invalid")
        group = params.get("devicegroup_id")
        if group and group != str(user.devicegroup_id):  # empty: the user's own group
            return self._error("Device_group_invalid")
        pin = params.get("pin")  # absent: random digits; empty: a pinless device
        if pin and not pin.isdigit():
            return self._error("Pin_must_be_numeric")
        if self.create_problem:
            return self._xml(f"<error>Device was not created</error>"
                             f"<message>{escape(self.create_problem)}</message>")
        with self.lock:
            pins = {d.pin for d in self.devices.values() if d.pin}
            if pin and pin in pins:
                return self._error("Pin_is_already_used")
            while pin is None or pin in pins:
                pin = str(secrets.randbelow(900_000) + 100_000)
            device_id = self._next_id
            self._next_id += 1
            has_primary = any(d.user_id == user.user_id for d in self.devices.values())
            self.devices[device_id] = Device(
                device_id, user.user_id, dtype, user.devicegroup_id,
                "no" if has_primary else "yes", f"{user.user_id}{device_id:03d}",
                secrets.token_hex(6), "0.0.0.0", "0", pin, params.get("description", ""),
            )
            self._cache.clear()
        return self._xml(f"<page><status>Device created</status><id>{device_id}</id></page>")

def make(**options: Any) -> MorSimulator:
    faults = options.pop("faults", None)
    return MorSimulator(faults=Faults(**faults) if isinstance(faults, dict) else faults, **options)
