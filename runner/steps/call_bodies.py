"""A call's raw bodies and where its answer goes, as the playbook writes them: ``body:`` (a
text, or ``{file: path}``), ``multipart:``, ``save-to:`` and ``follow-redirects:``; their
schema and the checks ``runner validate`` makes of them.

A call has one body: two of ``json``, ``form``, ``body``, ``multipart`` are refused naming
both. A file whose path is written out (no template) must exist when the playbook is
validated; a templated path is read, and refused, when the step runs. Paths are relative to the
playbook's folder (``Builder.folder``), as an include's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.connectors.spec import BODY_KEYS
from runner.loader import Path_
from runner.steps.kind import Builder
from runner.template_compile import is_template

_FILE = {"type": "object", "additionalProperties": False, "required": ["file"],
         "properties": {"file": {"type": "string",
                                 "description": "a path relative to the playbook's folder"}}}
_PART = {"type": "object", "additionalProperties": False, "required": ["file"],
         "properties": {"file": {"type": "string"}, "filename": {"type": "string"},
                        "content-type": {"type": "string"}}}

BODY_SCHEMA: dict[str, Any] = {
    "body": {"anyOf": [{"type": "string"}, _FILE],
             "description": "raw call: a body sent as-is (UTF-8), or {file: path} (its bytes)"},
    "multipart": {"type": "object",
                  "additionalProperties": {"anyOf": [
                      {"type": ["string", "number", "boolean"]}, _PART]},
                  "description": "raw call: a multipart/form-data body; a file part is "
                  "{file: path, filename?, content-type?}"},
    "save-to": {"type": "string",
                "description": "save a success answer's body to this file (relative to the "
                "current directory); response.saved_to and response.size say where and how big"},
    "follow-redirects": {"type": "boolean",
                         "description": "false: a 3xx is the answer (response.headers.location)"
                         "; default: the connector's follow_redirects"},
}


def check_bodies(b: Builder, raw: Mapping[str, Any], path: Path_) -> None:
    """One body at most; the files written out exist."""
    given = [key for key in BODY_KEYS if key in raw]
    if len(given) > 1:
        raise b.fail(path + (given[1],), f"a call has one body: '{given[0]}' and "
                     f"'{given[1]}' are both given", f"keep one of {', '.join(given)}")
    if "body" in raw and isinstance(raw["body"], dict):
        _check_file(b, raw["body"]["file"], path + ("body", "file"))
    for name, value in (raw.get("multipart") or {}).items():
        if isinstance(value, dict):
            _check_file(b, value["file"], path + ("multipart", name, "file"))


def _check_file(b: Builder, given: str, where: Path_) -> None:
    if is_template(given):
        b.check_templates(given, where)
        return  # read when the step runs
    full = Path(b.folder()) / Path(given).expanduser()
    if not full.is_file():
        what = "is a folder, not a file" if full.is_dir() else "does not exist"
        raise b.fail(where, f"the file '{given}' {what} ({full})",
                     "a file path is relative to the playbook's folder")
