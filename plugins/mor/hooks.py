"""MOR hooks: what ``connector.yaml`` can't say.

``prepare`` signs each request the MOR way: ``hash`` = SHA1 hex of the VALUES of the call's hash
parameters (:data:`HASH_PARAMS`, in the documented order, absent optional ones skipped) followed
by the API secret key; ``u`` (the ``username`` setting) and ``hash`` are added to the query
string, ``p`` (the optional ``password`` setting) too. ``u``/``p`` are never part of the hash.
Empty values are not sent (MOR reads an empty parameter as an absent one).
The hash is derived from the secret, so it is registered with the run's redactor.

``decode`` unwraps answers some servers put in HTML (``<head></head><body><page>..</page>
</body>``), so ``/page/devices/device`` works on every server, and registers the device
passwords (``<secret>``) of the part of an answer a report can show. Gzip is already undone by the
HTTP layer: ``Content-Encoding: gzip`` by urllib3, a raw gzip body by its magic bytes.

``vendor_error`` finds errors inside HTTP 200 answers, in both of MOR's styles:
``<error>X</error>`` (older) and ``<page><status><error>X</error></status></page>`` (newer).
An error followed by a ``<message>`` (device_create's ``<error>Device was not created</error>
<message>problem message</message>``, two top-level elements, so not one XML document) reads
as ``X: message``.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from runner.connectors import Hooks, StepFailed, TransportError

if TYPE_CHECKING:
    from runner.connectors import PreparedCall, Response

# The connector's own copy of the hash rules (the documented order of each call's hash
# parameters). tests/e2e/test_mor.py checks it against the simulator's table.
HASH_PARAMS: dict[str, list[str]] = {
    "devices_get": ["user_id"],
    "device_list": ["user_id"],
    "user_details_get": ["user_id"],
    "device_create": ["user_id", "description", "pin", "type", "devicegroup_id"],
}
NEVER_HASHED = frozenset({"u", "p", "hash"})

_BODY_OPEN = re.compile(rb"<body(?:\s[^>]*)?>", re.I)
_BODY_CLOSE = re.compile(rb"</body\s*>", re.I)
_HTML_HEAD = 512  # a wrapper starts with <head>/<html>/<body> within this many bytes
_DEVICE_SECRET = re.compile(rb"<secret>([^<]*)</secret>")
# device_create's documented failure: an <error> and its <message> side by side, no root
_ERROR_AND_MESSAGE = re.compile(
    rb"\A\s*(?:<\?xml[^>]*\?>\s*)?<error>([^<]*)</error>\s*<message>([^<]*)</message>\s*\Z")
SECRET_SCAN_BYTES = 8192  # device passwords registered from this much of an answer


def wire_value(value: Any) -> str:
    """A parameter's value as it goes on the wire (what the server hashes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compute_hash(call: str, params: dict[str, Any], api_secret: str) -> str:
    """SHA1 hex of ``call``'s hash parameter values (documented order, absent skipped) + key."""
    values = "".join(wire_value(params[k]) for k in HASH_PARAMS[call]
                     if params.get(k) is not None)
    return hashlib.sha1((values + api_secret).encode("utf-8")).hexdigest()


def unwrap_html(content: bytes) -> bytes:
    """The XML inside ``<body>..</body>`` when the answer is wrapped in HTML, else ``content``."""
    head = content[:_HTML_HEAD].lstrip().lower()
    if not head.startswith((b"<head", b"<html", b"<body", b"<!doctype html")):
        return content
    opened = _BODY_OPEN.search(content)
    if opened is None:
        return content
    closes = list(_BODY_CLOSE.finditer(content, opened.end(), len(content)))
    end = closes[-1].start() if closes else len(content)
    return content[opened.end():end].strip()


class MorHooks(Hooks):
    def prepare(self, call: PreparedCall) -> None:
        if not call.needs_auth:
            return
        name = call.operation or urlsplit(call.url).path.rstrip("/").rsplit("/", 1)[-1]
        if name not in HASH_PARAMS:
            raise StepFailed(f"mor: no hash rule for the API call '{name}'",
                             hint="add its hash parameters, in the documented order, to "
                             "HASH_PARAMS in plugins/mor/hooks.py")
        secret = str(self.settings.get("api_secret") or "")
        username = str(self.settings.get("username") or "")
        if not secret or not username:
            raise StepFailed("mor: the settings username and api_secret are required to sign "
                             "calls", hint="set them for the mor connector in the environment")
        # an empty value is not sent: a runbook passes an input it was not given as "", which
        # must mean "absent" (MOR would read an empty pin as "pinless", an absent one as "pick
        # random digits"); "" adds nothing to the hashed string anyway
        rest = {k: v for k, v in call.query.items()
                if k not in NEVER_HASHED and v is not None and v != ""}
        params = dict(rest)
        if call.form:  # MOR reads form fields too (a body field wins over the query)
            params.update({k: v for k, v in call.form.items()
                           if k not in NEVER_HASHED and v is not None and v != ""})
        digest = compute_hash(name, params, secret)
        self.register_secret(digest)
        auth: dict[str, Any] = {"u": username}
        if self.settings.get("password"):
            auth["p"] = str(self.settings["password"])
        call.query.clear()
        call.query.update({**auth, **rest, "hash": digest})

    def decode(self, response: Response) -> None:
        unwrapped = unwrap_html(response.content)
        if unwrapped is not response.content:
            response.content = unwrapped
        # a device's <secret> is its SIP password. Reports show the first 2,000 characters of
        # an answer: the passwords in that part are registered so they are masked. Not all of
        # a 20,000-device answer's: the redactor's cost grows with the number of values.
        for m in _DEVICE_SECRET.finditer(response.content, 0, SECRET_SCAN_BYTES):
            value = _text(m.group(1))
            if value:
                self.register_secret(value)

    def vendor_error(self, response: Response) -> str | None:
        if not response.content.strip():
            return None
        try:
            root = response.xml
        except TransportError as e:  # hostile (entities) or broken XML: a clear failure
            pair = _ERROR_AND_MESSAGE.match(response.content)
            if pair is not None:
                return _joined(*(_text(g) for g in pair.groups()))
            return f"unusable XML answer: {e.message}"
        if root is None:
            return None
        if root.getroottree().docinfo.doctype:
            # never expanded (the parser resolves no entity), but MOR never sends a DTD: an
            # answer with one is not MOR's, and a silently dropped &entity; would read as data
            return "unusable XML answer: it carries a DOCTYPE, which MOR answers never do"
        if not isinstance(root.tag, str):
            return None
        error = root if root.tag == "error" else root.find("status/error")
        if error is None and root.tag == "page":
            error = root.find("error")
        if error is None:
            return None
        message = error.getnext()  # an explaining <message> right after the error, if any
        return _joined((error.text or "").strip(),
                       (message.text or "").strip()
                       if message is not None and message.tag == "message" else "")


def _text(raw: bytes) -> str:
    from xml.sax.saxutils import unescape  # here: it imports urllib.request (~20 ms)

    return unescape(raw.decode("utf-8", "replace")).strip()


def _joined(error: str, message: str) -> str:
    """``error: message``, the error alone, or a stand-in when MOR named nothing."""
    error = error or "error (no message)"
    return f"{error}: {message}" if message else error
