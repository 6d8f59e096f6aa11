"""``digest``: HTTP Digest access authentication (RFC 7616) as a flow, the natural shape of it:
the call is yielded, a 401 answer brings the server's challenge, and the call is yielded again
with the ``Authorization`` header computed from it.

It follows what requests' ``HTTPDigestAuth`` does (our own code, the same choices): algorithms
MD5, MD5-SESS, SHA (SHA-1), SHA-256 and SHA-512; ``qop=auth`` (``auth-int``, a hash of the
body, is not spoken: a challenge offering only it is not answered and its 401 stands); the
nonce count rises with each call on the same nonce, and the last challenge is reused so later
calls need no extra round trip. A call refused again after the
answer (wrong credentials) returns that 401: a flow retries once, never in a loop.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from runner.connectors.auth import Auth, AuthContext, AuthFlow, credentials
from runner.connectors.encoding import encode_pairs, query_value

if TYPE_CHECKING:
    from runner.connectors.http import PreparedCall

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5, "MD5-SESS": hashlib.md5, "SHA": hashlib.sha1,
    "SHA-256": hashlib.sha256, "SHA-512": hashlib.sha512,
}
_PAIR = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')


def parse_challenge(header: str | None) -> dict[str, str] | None:
    """The parameters of a ``WWW-Authenticate: Digest ...`` challenge, or None if it is not
    one (lower-cased names)."""
    if not header or not header.lstrip().lower().startswith("digest "):
        return None
    rest = header.lstrip()[len("digest "):]
    return {m[1].lower(): (m[2].replace('\\"', '"') if m[2] is not None else m[3])
            for m in _PAIR.finditer(rest)}


class DigestAuth(Auth):
    renew_on = (401,)

    def __init__(self, conf: Mapping[str, Any], ctx: AuthContext) -> None:
        super().__init__(conf, ctx)
        self.lock = threading.Lock()
        self.challenge: dict[str, str] | None = None
        self.count = 0  # the nonce count of the current challenge's nonce

    def flow(self, call: PreparedCall) -> AuthFlow:
        with self.lock:
            header = self._answer(call) if self.challenge else None
        if header:
            call.headers["Authorization"] = header
        response = yield call
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.header("www-authenticate"))
        if challenge is None:
            return  # not a digest challenge: the answer stands
        with self.lock:
            self.challenge, self.count = challenge, 0
            header = self._answer(call)
        if header is None:
            return  # an algorithm or qop we do not speak: the 401 stands
        call.headers["Authorization"] = header
        yield call

    def _answer(self, call: PreparedCall) -> str | None:
        """The ``Authorization`` header for ``call`` under the current challenge (held lock)."""
        c = self.challenge or {}
        algorithm = c.get("algorithm", "MD5").upper()
        digest = _HASHES.get(algorithm)
        qops = [q.strip() for q in c.get("qop", "").split(",") if q.strip()]
        if digest is None or (qops and "auth" not in qops):
            return None
        user, password = credentials(self)

        def h(text: str) -> str:
            return str(digest(text.encode("utf-8")).hexdigest())

        realm, nonce = c.get("realm", ""), c.get("nonce", "")
        uri = _request_uri(call)
        self.count += 1
        nc = f"{self.count:08x}"
        cnonce = h(f"{nc}{nonce}{time.ctime()}{os.urandom(8).hex()}")[:16]
        ha1 = h(f"{user}:{realm}:{password}")
        if algorithm == "MD5-SESS":
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{call.method}:{uri}")
        answer = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}" if qops else f"{ha1}:{nonce}:{ha2}")
        parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
                 f'response="{answer}"']
        if "opaque" in c:
            parts.append(f'opaque="{c["opaque"]}"')
        if "algorithm" in c:
            parts.append(f'algorithm="{c["algorithm"]}"')
        if qops:
            parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        return "Digest " + ", ".join(parts)


def _request_uri(call: PreparedCall) -> str:
    """The request-target the transport will send: the URL's path and query, the call's query
    parameters appended as :mod:`runner.connectors.http` appends them."""
    parts = urlsplit(call.url)
    uri = parts.path or "/"
    query = parts.query
    if call.query:
        extra = encode_pairs({k: query_value(v) for k, v in call.query.items()})
        query = f"{query}&{extra}" if query and extra else query or extra
    return f"{uri}?{query}" if query else uri
