"""Notification targets as a file writes them: ``notify:`` on a playbook, an environment file or
a schedule, its schema, and the check of a URL written in the file.

::

    notify:
      - url: {secret: OPS_SLACK_URL}      # an apprise URL, here read from $OPS_SLACK_URL
        on: failure                       # failure (the default) | success | always
      - url: mailto://runner@example.com?smtp=mail.internal&to=ops@example.com

A URL is an apprise URL (``slack://``, ``mailto://``, ``json://``, ``https://hooks.slack.com/``
...). It usually holds a token, so it is never shown: errors and warnings name the target by
its file:line and its scheme only, and a schema error never echoes its value (the schema has no
pattern on it; this module checks it). Sending is :mod:`runner.notify`'s; apprise is imported
here only to check a URL written literally, for a file that has one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from runner.errors import PlaybookError
from runner.loader import Document, Path_

WHEN = ("failure", "success", "always")
_SECRET_REF = {
    "type": "object", "additionalProperties": False, "required": ["secret"],
    "properties": {"secret": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                              "description": "an environment variable holding the URL"}},
}
TARGET_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["url"],
    "properties": {
        "url": {"description": "an apprise URL (slack://, mailto://, json://, ...), or "
                "{secret: ENV_VAR} holding one; never shown in any output",
                "anyOf": [{"type": "string", "minLength": 1}, _SECRET_REF]},
        "on": {"enum": list(WHEN), "default": "failure",
               "description": "which runs it is told of: failed (and errored, interrupted) "
               "ones, passed ones, or always"},
    },
}
NOTIFY_SCHEMA: dict[str, Any] = {
    "description": "where to send a notification when a run ends (through apprise)",
    "type": "array", "items": TARGET_SCHEMA,
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://\S+$")


@dataclass(frozen=True)
class Target:
    """One ``notify:`` entry: a literal ``url`` or the variable ``secret`` holding one."""

    where: str  # file:line of the entry: how every message names it
    on: str = "failure"
    url: str | None = None
    # a variable's name; in an environment file, any secret reference ({SOURCE: ARG} too)
    secret: str | dict[str, Any] | None = None

    def wants(self, status: str) -> bool:
        return self.on == "always" or (self.on == "success") == (status == "passed")

    def named(self, url: str | None = None) -> str:
        """The target in a message: where it is written and its scheme, never the URL."""
        scheme = scheme_of(url or self.url or "")
        return f"notify target at {self.where}" + (f" ({scheme})" if scheme else "")

    def resolve(self, lookup: Callable[[Any], str | None] = os.environ.get) -> str | None:
        """The URL, a secret looked up with ``lookup`` (None when it is not set)."""
        return self.url if self.secret is None else lookup(self.secret)

    def to_message(self) -> dict[str, Any]:
        return asdict(self)


def scheme_of(url: str) -> str:
    m = _SCHEME.match(url.strip())
    return m.group(1).lower() if m else ""


def url_problem(url: str) -> str | None:
    """Why apprise cannot use ``url`` (None: it can, or apprise is not installed: the run
    says so when it sends). The words never hold the URL."""
    scheme = scheme_of(url)
    if not scheme:
        return "is not a URL (an apprise URL is scheme://..., e.g. slack://, mailto://, json://)"
    try:
        import apprise  # only for a file that writes a URL
    except ImportError:
        return None
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        return (f"is not a URL apprise can send to (scheme '{scheme}'): see "
                "https://github.com/caronc/apprise/wiki for the schemes and their forms")
    return None


def read_targets(raw: Sequence[Mapping[str, Any]] | None, doc: Document,
                 path: Path_ = ("notify",)) -> tuple[Target, ...]:
    """The targets of a checked (schema) ``notify:`` list at ``path`` of ``doc``; a literal
    URL apprise cannot use is an error at its line (its text is never shown)."""
    out = []
    for i, entry in enumerate(raw or ()):
        at = (*path, i)
        loc = doc.loc(at)
        url = entry["url"]
        target = Target(f"{loc.file}:{loc.line}", entry.get("on", "failure"),
                        url=url if isinstance(url, str) else None,
                        secret=url["secret"] if isinstance(url, Mapping) else None)
        if target.url is not None:
            problem = url_problem(target.url)
            if problem:
                raise PlaybookError(f"notify url {problem}", location=doc.loc((*at, "url")),
                                    path=".".join(map(str, (*at, "url"))), show_source=False,
                                    hint="write an apprise URL, or {secret: ENV_VAR} holding one")
        out.append(target)
    return tuple(out)


def from_message(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Target, ...]:
    """Targets as a job's message carries them (:meth:`Target.to_message`)."""
    return tuple(Target(**dict(t)) for t in raw or ())
