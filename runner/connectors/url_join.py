"""How a call's path goes under its connector's base URL: appended to the base URL's path with
exactly one ``/`` between them, so the base path is kept whether or not either side has the
slash (``.../anything`` or ``.../anything/``, with ``b`` or ``/b``: ``.../anything/b``). Not
RFC 3986's reference resolution (``urljoin``), where ``/b`` would drop the base path and ``b``
would replace its last segment: a connector's paths are always under its base URL. A path
that is itself an ``http(s)://`` URL is used as it is; a path of only ``?query`` or ``#frag``
is added without a slash."""

from __future__ import annotations

ABSOLUTE = ("http://", "https://")


def join_url(base: str, path: str) -> str:
    if path.startswith(ABSOLUTE):
        return path
    if not path:
        return base
    if not base:
        return path
    if path.startswith(("?", "#")):
        return base + path
    return base.rstrip("/") + "/" + path.lstrip("/")
