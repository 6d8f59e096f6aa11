"""``CallSpec``: the call a ``call`` step (and a ``poll-until`` step, a ``resume-check``) sends.

Its own small room because three places hold one: the ``call`` and ``poll-until`` kinds, and
the plan's view of a step, which prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallSpec:
    """A ``call:`` (or a poll's call): the operation or raw request, and its options."""
    connector: str  # alias
    operation: str | None  # None for a raw call
    params: Mapping[str, Any]  # `with:` (templates, rendered at run time)
    method: str | None = None
    path: str | None = None
    query: Mapping[str, Any] | None = None
    headers: Mapping[str, Any] | None = None
    json: Any = None
    has_json: bool = False
    form: Mapping[str, Any] | None = None
    safe: bool | None = None
    allow_error: bool = False  # a vendor error (or a transport error) does not fail the step
    body: Any = None  # `body:`: a text template, or {file: path}
    has_body: bool = False
    multipart: Mapping[str, Any] | None = None  # `multipart:`: field -> text or {file: ...}
    save_to: str | None = None  # `save-to:` (a template): the answer's body goes to this file
    follow_redirects: bool | None = None  # `follow-redirects:`; None: the connector's
    folder: str = ""  # the playbook's folder: body and multipart files are relative to it
    status: tuple[int, ...] = ()  # `status:`: the statuses the answer must have (none: any 2xx)
    all_pages: bool = False  # `all: true`: every page of an operation that pages
    max_items: int | None = None  # `max-items:` (all: true)
    max_pages: int | None = None  # `max-pages:` (all: true); None: the connector's cap
    paginate: Any = None  # a raw call's `paginate:` (runner.connectors.paging.Paginate)

    @property
    def target(self) -> str:
        return f"{self.connector}.{self.operation}" if self.operation else (
            f"{self.connector} {self.method} {self.path}")
