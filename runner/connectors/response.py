"""The answer to one call, as steps and expressions see it (``response.json.data...``).

Decoding is lazy: a body is parsed as JSON or XML only when something reads it. A body that
is not valid JSON (NDD's bare ``0208``) is kept as the text it is: ``response.json`` is None and
``response.body`` is the string. JSON with a repeated key keeps the last value. XML is parsed
with entity resolution, DTD loading and network access off (:mod:`runner.connectors.safe_xml`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from runner.connectors.safe_xml import parse_xml

_UNSET: Any = object()


@dataclass(slots=True)  # no __dict__: a run keeps the answer of each of its steps
class Response:
    """An answer: status, headers, body, decoded on demand for expressions and reports."""
    # what an expression may read of an answer (read-only values; the sandbox allows them too).
    # The fast expression path (runner.fast_expressions) reads the set from the class, so it
    # needs no import of this module: templating sits below the connectors.
    expression_attrs: ClassVar[frozenset[str]] = frozenset((
        "json", "status_code", "status", "text", "headers", "error", "xml", "body", "ok", "url",
        "method", "elapsed_ms", "content_type", "attempts", "is_xml",
        "saved_to", "size", "elapsed", "pages"))

    status_code: int
    headers: dict[str, str]  # lower-cased names
    content: bytes
    url: str = ""
    method: str = ""
    elapsed_ms: float = 0.0
    decode: str = "auto"
    error: str | None = None  # the vendor's error message, when the answer is an error
    # (status_code 0, no headers, no body: no answer came, and error says why; a step with
    # allow-error: true goes on with such an answer, see runner.steps.answers.no_answer)
    attempts: int = 1  # tries it took (retries of transient failures included)
    saved_to: str | None = None  # `save-to:`: the file the body went to (absolute path)
    saved_bytes: int = 0  # ... and its size (the body in memory is then empty)
    pages: int = 1  # `all: true`: the pages its items were read from (runner.steps.paging)
    _json: Any = field(default=_UNSET, repr=False)
    _xml: Any = field(default=_UNSET, repr=False)
    _text: Any = field(default=_UNSET, repr=False)

    @property
    def status(self) -> int:
        return self.status_code

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def elapsed(self) -> float:
        """``elapsed_ms`` in seconds."""
        return self.elapsed_ms / 1000

    @property
    def text(self) -> str:
        if self._text is _UNSET:
            self._text = self.content.decode("utf-8", errors="replace")
        return str(self._text)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not valid JSON (or read as text)."""
        if self._json is _UNSET and self.decode == "text":
            self._json = None  # an operation read as text keeps "5555" a string
        if self._json is _UNSET:
            try:
                self._json = json.loads(self.content) if self.content.strip() else None
            except ValueError:
                self._json = None
        return self._json

    @property
    def is_xml(self) -> bool:
        if self.decode == "xml" or "xml" in self.content_type:
            return True
        head = self.content.lstrip()[:64]
        return self.decode == "auto" and head.startswith(b"<")

    @property
    def xml(self) -> Any:
        """The body's root element (lxml), parsed safely; None when the body is not XML."""
        if self._xml is _UNSET:
            self._xml = parse_xml(self.content) if self.is_xml and self.content.strip() else None
        return self._xml

    @property
    def body(self) -> Any:
        """JSON when the body is JSON, else the text."""
        if self.decode != "xml" and self.json is not None:
            return self.json
        if self.decode == "json" and self.content.strip() in (b"null",):
            return None
        return self.text

    @property
    def size(self) -> int:
        """The body's size in bytes, as runner holds it (after gzip, deflate or br decoding:
        not the Content-Length of a compressed answer); the saved file's when it went to one."""
        return self.saved_bytes if self.saved_to is not None else len(self.content)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def forget(self) -> None:
        """Drop what was decoded from the body (its JSON, text, XML); each is decoded again
        from ``content`` when read. For an answer a run keeps (``steps.<id>.response``) that
        no longer is ``response``, and a poll's answer while it waits: 5,000 parked runs kept
        ~2.3 KB of parsed JSON each that nothing read again."""
        self._json = self._text = self._xml = _UNSET

    def summary(self, limit: int = 2000,
                redact: Callable[[str], str] = str) -> dict[str, Any]:
        """What a report records of this answer (the caller redacts it as a whole too). The
        body is ``redact``-ed before it is cut to ``limit``: a secret that straddles the cut
        would otherwise leave its first part in clear."""
        if self.saved_to is not None:
            body = f"<{self.saved_bytes:,} bytes saved to {self.saved_to}>"
        elif self._text is _UNSET and len(self.content) > limit * 4:
            # decode what is kept, not a 20 MB body (a UTF-8 character is at most 4 bytes)
            text = redact(self.content[:limit * 4].decode("utf-8", errors="replace"))[:limit]
            body = text + f"... ({len(self.content):,} bytes)"
        else:
            text = redact(self.text)
            body = text if len(text) <= limit else text[:limit] + f"... ({len(text):,} chars)"
        return {
            "status": self.status_code,
            "headers": dict(self.headers),
            "body": body,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "error": self.error,
            **({"attempts": self.attempts} if self.attempts > 1 else {}),
        }


def replaced(before: Any, now: Any) -> None:
    """``before`` was a run's ``response`` and ``now`` takes its place: ``before`` (still kept
    for ``steps.<id>.response``) forgets what it decoded (:meth:`Response.forget`)."""
    if isinstance(before, Response) and before is not now:
        before.forget()
