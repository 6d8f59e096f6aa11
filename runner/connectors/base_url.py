"""A connector's base URL, checked when the connector is set up: ``http://`` or ``https://``
only (urllib3 would refuse ``ftp://`` or ``file://`` half-way through a run, or worse, a proxy
could fetch them), and the ``user:password@`` it may hold registered as a secret, so neither
the plan, an error, a report nor the store shows it."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from runner.errors import InvalidInput
from runner.secrets import Redactor

SCHEMES = ("http", "https")


def check_base_url(value: Any, *, setting: str, origin: str, redactor: Redactor) -> None:
    """Raise InvalidInput unless ``value`` is an http(s) URL with a host; register its
    credentials. ``setting`` names it (``connectors.h.base_url``), ``origin`` says where it was
    set (a file:line, or the connector's default)."""
    if value is None:
        return  # a connector without a base URL: its operations give absolute URLs
    text = str(value)
    parts = urlsplit(text)
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:  # before any error: the message below must not show it either
        redactor.add(userinfo)
        if parts.password:
            redactor.add(parts.password)
            redactor.add(unquote(parts.password))
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        got = f"a {scheme}:// URL" if scheme else "no URL scheme"
        raise InvalidInput(
            f"{origin}: {setting} must be an http:// or https:// URL with a host, got {got}",
            hint="connectors talk HTTP: write base_url: https://host[:port][/path]")
