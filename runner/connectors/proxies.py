"""Which connection pool a request goes through: the direct one, or a ``ProxyManager`` for the
proxy the environment names for its scheme (``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``, with
``user:password@`` as Proxy-Authorization), unless ``NO_PROXY`` names its host. The environment
is read once per connector; the route of each scheme and host is kept, and one manager per
proxy shared."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any
from urllib.parse import unquote
from urllib.request import getproxies_environment

import urllib3

from runner.errors import TransportError

# in urllib.request on every platform, missing from typeshed's stubs
proxy_bypass_environment: Any = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009


class Routes:
    def __init__(self, direct: urllib3.PoolManager, tls: dict[str, Any]) -> None:
        self._direct = direct
        self._tls = tls
        # the environment is read once per connector, not on every request
        self._proxies = {k: v for k, v in getproxies_environment().items() if v}
        self._route: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._via: dict[str, urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        self._direct.clear()
        for m in self._via.values():
            m.clear()

    def manager(self, url: str) -> urllib3.PoolManager:
        if not self._proxies:
            return self._direct
        scheme, _, rest = url.partition("://")
        netloc = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        key = (scheme.lower(), netloc.lower())
        manager = self._route.get(key)
        if manager is None:
            manager = self._route[key] = self._proxied(key[0], netloc)
        return manager

    def _proxied(self, scheme: str, netloc: str) -> urllib3.PoolManager:
        proxy = self._proxies.get(scheme) or self._proxies.get("all")
        if not proxy or bypass(netloc, self._proxies):
            return self._direct
        with self._lock:
            manager = self._via.get(proxy)
            if manager is None:
                if "://" not in proxy:
                    proxy = "http://" + proxy
                parsed = urllib3.util.parse_url(proxy)
                proxy_headers = None
                if parsed.auth:
                    user, _, password = parsed.auth.partition(":")
                    proxy_headers = urllib3.util.make_headers(
                        proxy_basic_auth=f"{unquote(user)}:{unquote(password)}")
                    proxy = parsed._replace(auth=None).url
                try:
                    manager = urllib3.ProxyManager(proxy, proxy_headers=proxy_headers,
                                                   num_pools=10, maxsize=10, **self._tls)
                except urllib3.exceptions.HTTPError as e:
                    raise TransportError(f"the proxy {proxy!r} is not usable: {e}", sent=False,
                                         hint="check HTTP_PROXY / HTTPS_PROXY") from None
                self._via[proxy] = manager
            return manager


def bypass(netloc: str, proxies: dict[str, str]) -> bool:
    if "no" not in proxies:
        return False
    host = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    return bool(proxy_bypass_environment(host.strip("[]"), proxies)
                or proxy_bypass_environment(netloc, proxies))
