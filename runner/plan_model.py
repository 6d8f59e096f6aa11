"""A plan as data: the steps a run would take and the requests it would send.

:mod:`runner.plan` builds it once; :mod:`runner.plan_text` renders it as ``runner plan`` prints
it, :mod:`runner.plan_markdown` as a comment for a pull request, and :mod:`runner.plan_diff`
compares it with the plan of the same playbook at another revision. One model for all three,
so the Markdown and the diff show exactly what the text shows.

A built plan has been through the run's redactor (:func:`masked`): every string in it is
safe to print, and two plans compare on what a reader would see, never on a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

# a placeholder in a URL path is percent-encoded there (<created_id> is %3Ccreated_id%3E)
_ENCODED_PLACEHOLDER = re.compile(r"%3C([A-Za-z0-9_:.\[\]'\-]+)%3E")


@dataclass
class Note:
    """A line a step kind wrote (``auth scheme token; ...``, ``repeat until ...``), as written:
    with the indent it was given."""

    text: str


@dataclass
class Request:
    """One request a run would send: what its step renders before anything is sent."""

    key: str  # the same request in another revision's plan has the same key
    pad: str  # its lines' indent in the text plan
    location: str  # the step's file:line
    target: str  # `alias.operation`, or the alias of a raw call
    method: str
    path: str  # as a reader reads it: placeholders as <name>, not percent-encoded
    url: str = ""  # as it would be sent; "" when the request renders only at run time
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)  # json, form, body, multipart, save-to...
    safe: bool = True
    status: tuple[int, ...] = ()  # the statuses the step expects (none: any 2xx)
    when: tuple[str, ...] = ()  # the conditions it runs under, the outermost step's first
    loops: tuple[str, ...] = ()  # the loops it runs in, the outermost first
    final: bool = False  # in a `finally:` section
    pending: str = ""  # why it renders only at run time (then only method and path are known)

    @property
    def host(self) -> str:
        split = urlsplit(self.url)
        return f"{split.scheme}://{split.netloc}" if split.netloc else ""


@dataclass
class Step:
    """A step of the plan: its head, then what its kind wrote, in order (notes, its requests,
    an included playbook's steps), then its extractions and assertions."""

    key: str
    id: str
    target: str
    indent: str
    location: str
    when: str | None = None
    loop: str | None = None
    loop_var: str = "item"
    entries: list[Entry] = field(default_factory=list)
    extracts: list[tuple[str, str, str]] = field(default_factory=list)  # name, kind, expression
    asserts: list[str] = field(default_factory=list)


Entry = Note | Request | Step


@dataclass
class Input:
    """An input of a plan: its value (masked when secret) and where it came from."""
    name: str
    value: str  # as shown: a placeholder when not given, *** when secret
    source: str  # "given", "default" or "not given"


@dataclass
class Plan:
    """What ``runner plan`` shows: the calls a run would send, nothing sent."""
    name: str
    file: str
    env: str
    inputs: list[Input] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    finally_steps: list[Step] = field(default_factory=list)

    def requests(self) -> list[Request]:
        """Every request, in the order a run reaches them (the finally steps' last)."""
        out: list[Request] = []
        for step in (*self.steps, *self.finally_steps):
            _collect(step, out)
        return out


def _collect(step: Step, out: list[Request]) -> None:
    for entry in step.entries:
        if isinstance(entry, Request):
            out.append(entry)
        elif isinstance(entry, Step):
            _collect(entry, out)


def readable_path(url_path: str) -> str:
    """A URL's path with its placeholders back as ``<name>``."""
    return _ENCODED_PLACEHOLDER.sub(r"<\1>", url_path or "/")


def shown(value: Any) -> str:
    """A value in one line: a text as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


T = TypeVar("T")


def masked(value: T, redact: Callable[[str], str]) -> T:
    """A copy of ``value`` (the plan, or any part of it) with ``redact`` applied to every
    string in it, keys included."""
    return _masked(value, redact)  # type: ignore[no-any-return]


def _masked(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(str(value))  # a placeholder (a str subclass) becomes plain text
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _masked(getattr(value, f.name), redact)
                                 for f in fields(value)})
    if isinstance(value, dict):
        return {_masked(k, redact): _masked(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_masked(v, redact) for v in value)
    return value
