"""A connector session's cookie jar: what a server sets with ``Set-Cookie`` is sent back to it
on the next requests of the run (a login form, a session API), by the stdlib's
``http.cookiejar`` rules (domain, path, expiry, ``Secure``), as requests keeps them; nothing is
parsed by hand. One jar per connector client, so two connectors never share a session; the
``cookies: false`` setting turns it off. Each redirect hop stores and sends too (a login that
sets its cookie on a 302 is common).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from http.cookiejar import CookieJar


class _Answer:
    """What ``CookieJar.extract_cookies`` reads of an answer: ``info().get_all(name)``."""

    def __init__(self, headers: Any) -> None:
        self._headers = headers  # urllib3's HTTPHeaderDict: one entry per Set-Cookie line

    def info(self) -> _Answer:
        return self

    def get_all(self, name: str, default: Any = None) -> Any:
        return self._headers.getlist(name) or default


class Cookies:
    """The jar is made (and ``http.cookiejar``, ``urllib.request`` imported) when a server
    first sets a cookie: until then every call skips it, and a run costs nothing for it."""

    def __init__(self) -> None:
        self._jar: CookieJar | None = None

    @property
    def jar(self) -> CookieJar:
        if self._jar is None:
            from http.cookiejar import CookieJar

            self._jar = CookieJar()  # thread-safe: it holds its own lock
        return self._jar

    def headers_for(self, url: str, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` with the jar's cookies for ``url`` added (a Cookie the call gives
        itself wins, as in http.cookiejar)."""
        if self._jar is None:  # nothing was ever set: the common case costs nothing
            return headers
        from urllib.request import Request

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
            from urllib.request import Request

            self.jar.extract_cookies(_Answer(headers), Request(url))  # type: ignore[arg-type]

    def clear(self) -> None:
        if self._jar is not None:
            self._jar.clear()
