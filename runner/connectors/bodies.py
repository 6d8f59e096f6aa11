"""Raw request bodies: a text sent as-is, a file's bytes, a multipart form (issue 13: SOAP,
WebDAV, uploads).

A text body goes out as UTF-8 with no Content-Type forced (a SOAP service wants ``text/xml``,
another ``application/soap+xml``: the step says which). A file goes out as its bytes, read when
the call is built; unless the step sets a Content-Type it gets the one its name suggests
(``mimetypes``, as urllib3 guesses a multipart file part's), else ``application/octet-stream``.
A multipart form is encoded by urllib3's ``encode_multipart_formdata``, not by hand.

What a report, the history or ``runner plan`` shows of a body is :meth:`record`: a text
(truncated as an answer's body is), ``<N bytes from FILE>`` for a file: never a file's bytes.
File paths are relative to the playbook's folder, as an include's are.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import Unsendable

RECORD_LIMIT = 2000  # characters of a text body a record keeps (as Response.summary)
DEFAULT_FILE_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class FilePart:
    """A file read for a body or a multipart part."""

    shown: str  # the path as the playbook wrote it (what records show)
    data: bytes
    filename: str
    content_type: str | None = None  # None: guessed from the name

    def describe(self, *, named: bool = False) -> str:
        """``<N bytes from FILE>`` (``named``: and the name it is sent under)."""
        return f"<{len(self.data):,} bytes from {self.shown}" + (
            f" as {self.filename}>" if named else ">")

    def guessed_type(self) -> str:
        return self.content_type or mimetypes.guess_type(self.filename)[0] or DEFAULT_FILE_TYPE


@dataclass(frozen=True)
class RawBody:
    """``body:``: a text, or a file's bytes."""

    text: str | None = None
    file: FilePart | None = None

    def encode(self) -> tuple[bytes, str | None]:
        """The bytes to send and the Content-Type to set when the call has none."""
        if self.file is not None:
            return self.file.data, self.file.guessed_type()
        return (self.text or "").encode("utf-8"), None

    def record(self, redact: Callable[[str], str] | None = None) -> str:
        if self.file is not None:
            return self.file.describe()
        text = self.text or ""
        if redact is not None:  # before the cut: a secret across it would leave a half
            text = redact(text)
        return text if len(text) <= RECORD_LIMIT else (
            text[:RECORD_LIMIT] + f"... ({len(text):,} chars)")


@dataclass(frozen=True)
class Multipart:
    """``multipart:``: fields in order, each a text or a file."""

    fields: tuple[tuple[str, str | FilePart], ...]

    def encode(self) -> tuple[bytes, str]:
        from urllib3 import encode_multipart_formdata  # here: building a call sends nothing

        fields: list[tuple[str, Any]] = []
        for name, value in self.fields:
            if isinstance(value, FilePart):
                fields.append((name, (value.filename, value.data, value.guessed_type())))
            else:
                fields.append((name, value))
        return encode_multipart_formdata(fields)

    def record(self) -> dict[str, str]:
        return {name: value.describe(named=True) if isinstance(value, FilePart) else value
                for name, value in self.fields}


def file_reference(value: Any) -> str | None:
    """The path of a ``{file: path}`` value, else None."""
    if isinstance(value, dict) and "file" in value:
        return str(value["file"])
    return None


def resolve(given: str, base_dir: str) -> Path:
    """``given`` relative to the playbook's folder (an absolute path stays as it is)."""
    return Path(base_dir) / Path(given).expanduser()


def read_file(given: str, base_dir: str, key: str, *, filename: str | None = None,
              content_type: str | None = None) -> FilePart:
    """Read the file a ``{file: ...}`` names; a file that is not there is a step failure
    that names the key and where it was looked for (nothing was sent)."""
    path = resolve(given, base_dir)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise Unsendable(f"{key}: cannot read the file '{given}' ({path}): "
                         f"{e.strerror or e}",
                         hint="a file path is relative to the playbook's folder") from None
    return FilePart(given, data, filename or path.name, content_type)


def multipart_from(rendered: dict[str, Any], base_dir: str) -> Multipart:
    """The rendered ``multipart:`` mapping as a :class:`Multipart`."""
    fields: list[tuple[str, str | FilePart]] = []
    for name, value in rendered.items():
        ref = file_reference(value)
        if ref is not None:
            fields.append((str(name), read_file(
                ref, base_dir, f"multipart > {name}",
                filename=str(value["filename"]) if value.get("filename") else None,
                content_type=str(value["content-type"]) if value.get("content-type")
                else None)))
        else:
            fields.append((str(name), value if isinstance(value, str) else _text(value)))
    return Multipart(tuple(fields))


def body_from(rendered: Any, base_dir: str) -> RawBody:
    """The rendered ``body:`` (a text, or ``{file: path}``) as a :class:`RawBody`."""
    ref = file_reference(rendered)
    if ref is not None:
        return RawBody(file=read_file(ref, base_dir, "body"))
    return RawBody(text=rendered if isinstance(rendered, str) else _text(rendered))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
