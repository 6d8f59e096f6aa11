"""Which connection pool a request goes through: the direct one, or a ``ProxyManager`` for the
proxy the environment names for its scheme (``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``, with
``user:password@`` as Proxy-Authorization), unless ``NO_PROXY`` names its host, by requests'
rules (``requests.utils.should_bypass_proxies``: a name or domain suffix, an address, or a CIDR
range such as ``127.0.0.0/8``; requests is imported only when a proxy is set). The environment
is read once per connector; the route of each scheme and host is kept, and one manager per
proxy shared. ``proxy_for`` names the proxy a URL goes through, so an error can say which."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from runner.connectors.tls import pool_args
from runner.connectors.wire import split_url
from runner.errors import TransportError

if TYPE_CHECKING:  # urllib3 is imported when a call needs a manager (wire.py sends the rest)
    import urllib3


class Routes:
    def __init__(self, tls: dict[str, Any]) -> None:
        self._made: urllib3.PoolManager | None = None
        self._tls = tls
        # the environment is read once per connector, not on every request
        self._proxies = _proxies_from_environment()
        self._route: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._via: dict[str, urllib3.PoolManager] = {}
        self._names: dict[int, str] = {}  # id(manager) -> its proxy, credentials left out
        self._pools: dict[str, Any] = {}  # origin -> the direct manager's pool for it
        self._lock = threading.Lock()

    @property
    def _direct(self) -> urllib3.PoolManager:
        """The manager of direct calls, made on first use."""
        if self._made is None:
            import urllib3

            with self._lock:
                if self._made is None:
                    self._made = urllib3.PoolManager(num_pools=10, maxsize=10,
                                                     **pool_args(self._tls))
        return self._made

    def clear(self) -> None:
        if self._made is not None:
            self._made.clear()
        for m in self._via.values():
            m.clear()

    def proxy_for(self, url: str) -> str | None:
        """The proxy ``url`` is sent through (no credentials), or None when it goes direct."""
        return self._names.get(id(self.manager(url))) if self._proxies else None

    def direct(self, url: str) -> bool:
        """Whether ``url`` goes to its server with no proxy in between."""
        return not self._proxies or self.manager(url) is self._direct

    def urlopen(self, method: str, url: str, **kw: Any) -> Any:
        """Send through the route of ``url``. A direct one goes to its origin's pool, kept here:
        ``PoolManager.urlopen`` parses the URL and builds a pool key on every call (~50 us of
        a loopback call), then calls the same pool with the same request target."""
        manager = self.manager(url)
        if manager is not self._direct:
            return manager.urlopen(method, url, **kw)
        scheme, _, rest = url.partition("://")
        netloc, target = split_url(rest)
        origin = f"{scheme}://{netloc}"
        pool = self._pools.get(origin)
        if pool is None or pool.pool is None:  # new, or closed when the manager let it go
            pool = self._pools[origin] = manager.connection_from_url(origin)
        return pool.urlopen(method, target, assert_same_host=False, **kw)

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
        if not proxy or self._bypass(scheme, netloc):
            return self._direct
        import urllib3

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
                                                   num_pools=10, maxsize=10, **pool_args(self._tls))
                except urllib3.exceptions.HTTPError as e:
                    raise TransportError(f"the proxy {proxy!r} is not usable: {e}", sent=False,
                                         hint="check HTTP_PROXY / HTTPS_PROXY") from None
                self._via[proxy] = manager
                self._names[id(manager)] = proxy
            return manager

    def _bypass(self, scheme: str, netloc: str) -> bool:
        return bypass(f"{scheme}://{netloc}", self._proxies)


def _proxies_from_environment() -> dict[str, str]:
    """The proxies the environment names, as ``urllib.request.getproxies_environment`` reads
    them (empty values left out); that module (and http.client, email...) is imported only when
    a variable other than NO_PROXY names one: NO_PROXY alone sends everything direct."""
    if not any(v and k.lower().endswith("_proxy") and k.lower() != "no_proxy"
               for k, v in os.environ.items()):
        return {}
    from urllib.request import getproxies_environment

    return {k: v for k, v in getproxies_environment().items() if v}


def bypass(url: str, proxies: dict[str, str]) -> bool:
    """Whether NO_PROXY (``proxies["no"]``) sends ``url`` direct, as requests decides."""
    if "no" not in proxies:
        return False
    from requests.utils import should_bypass_proxies  # only with a proxy set: ~50 ms to import

    return bool(should_bypass_proxies(url, no_proxy=proxies["no"]))
