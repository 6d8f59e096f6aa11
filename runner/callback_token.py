"""Callback URLs: minting one for a step of a run, and checking one a vendor POSTs to.

A URL is ``{base}/callbacks/{run_id}/{key}/{expires}/{nonce}/{signature}``: ``key`` is the
minting step's journal key (URL-safe base64), ``expires`` a Unix time, ``nonce`` random, and
the signature an HMAC-SHA256 (128 bits shown) of the rest under the callback key. Whoever does
not hold the key cannot make a URL that passes, nor change a part of one; each URL is unique.

The key: ``RUNNER_CALLBACK_KEY`` when set (workers and ``runner callbacks`` on several machines
share it that way), else ``callback.key`` beside a SQLite store's file, made on first use with
mode 0600. A store that is not a file needs the variable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from runner.errors import InvalidInput
from runner.store_url import sqlite_path

KEY_VARIABLE = "RUNNER_CALLBACK_KEY"
PREFIX = "/callbacks/"


class Refused(Exception):
    """A callback URL that does not pass: ``status`` is the HTTP answer, ``reason`` says why."""

    def __init__(self, status: int, reason: str, run_id: str = "", key: str = "") -> None:
        super().__init__(reason)
        self.status, self.reason, self.run_id, self.key = status, reason, run_id, key


@dataclass(frozen=True)
class Token:
    """What a callback URL's signed token says: the run, the minting step, the expiry."""
    run_id: str
    key: str  # the minting step's journal key
    expires: int


def callback_key(store_url: str) -> bytes:
    """The key URLs are signed with (see the module's notes)."""
    given = os.environ.get(KEY_VARIABLE)
    if given:
        return given.encode()
    path = sqlite_path(store_url)
    if path is None:
        raise InvalidInput("callback URLs need a key shared by the runs and the listener",
                           hint=f"set {KEY_VARIABLE} (the same value for the workers and "
                           "`runner callbacks`)")
    file = Path(path).parent / "callback.key"
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of two processes making it at once, one writes and both read
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass
    return file.read_text().strip().encode()


def _sign(secret: bytes, *parts: str) -> str:
    return hmac.new(secret, "\n".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def mint(secret: bytes, base: str, run_id: str, key: str, expires: float) -> str:
    """A new URL under ``base`` for the step ``key`` of ``run_id``, good until ``expires``."""
    k = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
    e, nonce = str(int(expires)), secrets.token_hex(8)
    return f"{base.rstrip('/')}{PREFIX}{run_id}/{k}/{e}/{nonce}/" \
           f"{_sign(secret, run_id, k, e, nonce)}"


def check(secret: bytes, path: str, now: float | None = None) -> Token:
    """The run and step a URL path names; raises :class:`Refused` if it is forged, malformed
    or expired."""
    at = path.find(PREFIX)
    parts = path[at + len(PREFIX):].split("?")[0].split("/") if at >= 0 else []
    if len(parts) != 5:
        raise Refused(404, "not a callback URL")
    run_id, k, e, nonce, sig = parts
    try:
        key = base64.urlsafe_b64decode(k + "=" * (-len(k) % 4)).decode()
        expires = int(e)
    except ValueError:
        raise Refused(403, "forged: a malformed callback URL", run_id) from None
    if not hmac.compare_digest(sig, _sign(secret, run_id, k, e, nonce)):
        raise Refused(403, "forged: the signature does not match", run_id, key)
    if (time.time() if now is None else now) >= expires:
        raise Refused(410, f"expired at {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(expires))}"
                      " UTC", run_id, key)
    return Token(run_id, key, expires)
