"""A connector session's cookie jar: what a server sets with ``Set-Cookie`` is sent back to it
on the next requests of the run (a login form, a session API), by the stdlib's
``http.cookiejar`` rules (domain, path, expiry, ``Secure``), as requests keeps them; nothing is
parsed by hand. One jar per connector client, so two connectors never share a session; the
``cookies: false`` setting turns it off. Each redirect hop stores and sends too (a login that
sets its cookie on a 302 is common).
"""

from __future__ import annotations

from http.cookiejar import CookieJar
from typing import Any
from urllib.request import Request


class _Answer:
    """What ``CookieJar.extract_cookies`` reads of an answer: ``info().get_all(name)``."""

    def __init__(self, headers: Any) -> None:
        self._headers = headers  # urllib3's HTTPHeaderDict: one entry per Set-Cookie line

    def info(self) -> _Answer:
        return self

    def get_all(self, name: str, default: Any = None) -> Any:
        return self._headers.getlist(name) or default


class Cookies:
    def __init__(self) -> None:
        self.jar = CookieJar()  # thread-safe: it holds its own lock
        self._used = False  # nothing was ever set: every call skips the jar (no per-call cost)

    def headers_for(self, url: str, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` with the jar's cookies for ``url`` added (a Cookie the call gives
        itself wins, as in http.cookiejar)."""
        if not self._used:  # the common case costs nothing
            return headers
        request = Request(url, headers=dict(headers))
        self.jar.add_cookie_header(request)
        cookie = request.get_header("Cookie")
        out = dict(headers)
        if cookie and not any(k.lower() == "cookie" for k in headers):
            out["Cookie"] = cookie
        return out

    def store(self, url: str, headers: Any) -> None:
        """Keep the cookies answer ``headers`` (urllib3's) set for ``url``."""
        if "set-cookie" in headers or "set-cookie2" in headers:
            self._used = True
            self.jar.extract_cookies(_Answer(headers), Request(url))  # type: ignore[arg-type]

    def clear(self) -> None:
        self.jar.clear()
