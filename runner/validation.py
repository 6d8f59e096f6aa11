"""JSON Schema validation of a loaded document, with errors that point at file:line:col.

The jsonschema error's ``absolute_path`` is exactly the path the loader recorded locations for,
so each error is reported where it is. Messages are rewritten into plain words for the common
cases (unknown key with a "did you mean", wrong type, missing key, bad value).

A document is first checked by :func:`runner.fast_schema.passes`, a plain yes/no walk over
the keywords these schemas use; only a document it does not pass (or a schema keyword it does
not know) goes through jsonschema, for the error and its place. Importing jsonschema costs
~80 ms, a quarter of ``runner validate``, and valid documents are the common case.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import TYPE_CHECKING, Any

from runner.errors import PlaybookError, with_article
from runner.fast_schema import passes
from runner.loader import Document, Path_

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_TYPE_NAMES = {
    "object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
    "number": "a number", "boolean": "true or false", "null": "nothing",
}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return _cached_validator(id(schema), _Key(schema))


class _Key:
    """Hashable wrapper so a schema dict (a module constant) can key the cache by identity."""

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema

    def __hash__(self) -> int:
        return id(self.schema)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.schema is self.schema


@cache
def _cached_validator(_id: int, key: _Key) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(key.schema)


def describe_path(data: Any, path: Path_) -> str:
    """``step 'job' > with > machineId`` for ('steps', 2, 'with', 'machineId')."""
    parts: list[str] = []
    node = data
    i = 0
    while i < len(path):
        key = path[i]
        if key in ("steps", "finally") and i + 1 < len(path) and isinstance(path[i + 1], int):
            idx = path[i + 1]
            try:
                step = node[key][idx]
            except (KeyError, IndexError, TypeError):
                step = None
            label = step_label(step, int(idx), key == "finally")
            parts.append(label)
            node = step
            i += 2
            continue
        parts.append(str(key) if not isinstance(key, int) else f"[{key}]")
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        i += 1
    return " > ".join(parts)


def step_label(step: Any, index: int, in_finally: bool = False) -> str:
    where = "finally step" if in_finally else "step"
    if isinstance(step, dict):
        for k in ("id", "name"):
            if isinstance(step.get(k), str):
                return f"{where} '{step[k]}'"
    return f"{where} #{index + 1}"


def _show(value: Any, echo: bool) -> str:
    return repr(value) if echo else f"this {_TYPE_NAMES[_json_type(value)].split()[-1]}"


def _message(err: ValidationError, echo: bool = True) -> tuple[str, str | None]:
    v = err.validator
    schema: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}
    value: Any = err.validator_value
    if v == "additionalProperties":
        allowed = list((schema.get("properties") or {}).keys())
        instance = err.instance if isinstance(err.instance, dict) else {}
        extra = [k for k in instance if k not in allowed]
        key = extra[0] if extra else "?"
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else (
            f"allowed keys: {', '.join(allowed)}" if allowed else None)
        return f"unknown key '{key}'", hint
    if v == "type":
        want = value
        names = [_TYPE_NAMES.get(str(t), str(t))
                 for t in (want if isinstance(want, list) else [want])]
        return f"expected {' or '.join(names)}, got {_TYPE_NAMES[_json_type(err.instance)]}", None
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"missing required key '{missing}'", None
    if v == "enum":
        opts = ", ".join(map(repr, value))
        return f"{_show(err.instance, echo)} is not allowed", f"use one of: {opts}"
    if v == "pattern":
        return (f"{_show(err.instance, echo)} does not match the expected form",
                schema.get("description"))
    if v in ("minProperties", "minItems"):
        return "must not be empty", None
    if v in ("anyOf", "oneOf"):
        return f"{_show(err.instance, echo)} is not valid here", schema.get("description")
    if v == "const":
        return f"must be {value!r}", None
    return err.message, schema.get("description")


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def validate_against(schema: dict[str, Any], doc: Document, *, what: str = "playbook",
                     echo: bool = True) -> None:
    """Raise PlaybookError for the most relevant schema error in ``doc``, if any.

    ``echo=False`` keeps values out of messages (environment files may hold secrets).
    """
    if not isinstance(doc.data, dict):
        raise PlaybookError(
            f"{with_article(what)} must be a YAML mapping, "
            f"got {_TYPE_NAMES[_json_type(doc.data)]}",
            location=doc.loc(()),
            hint=f"start the file with the {what}'s keys, e.g. 'name:'",
        )
    if passes(schema, doc.data):
        return
    from jsonschema.exceptions import best_match

    errors = list(_validator(schema).iter_errors(doc.data))
    if not errors:
        return
    # the deepest error is the most specific; best_match breaks ties sensibly
    err = best_match(errors, key=lambda e: (-len(e.absolute_path),))
    deepest = max(errors, key=lambda e: len(e.absolute_path))
    if len(deepest.absolute_path) > len(err.absolute_path):
        err = deepest
    raise _located(err, doc, echo)


def schema_problems(schema: dict[str, Any], doc: Document, *,
                    echo: bool = True) -> list[PlaybookError]:
    """Every schema error of ``doc``, each as ``validate_against`` words it, one per place, in
    the file's order (an editor shows them all; ``runner validate`` the most relevant)."""
    if not isinstance(doc.data, dict) or passes(schema, doc.data):
        return []
    out: dict[Any, PlaybookError] = {}
    for err in _validator(schema).iter_errors(doc.data):
        problem = _located(err, doc, echo)
        out.setdefault(problem.location, problem)
    return sorted(out.values(), key=lambda p: (p.location.line, p.location.col)
                  if p.location else (0, 0))


def _located(err: ValidationError, doc: Document, echo: bool) -> PlaybookError:
    path = tuple(err.absolute_path)
    message, hint = _message(err, echo)
    loc_path = path
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        err_schema: Any = err.schema
        allowed = (err_schema.get("properties") or {}).keys()
        extra = [k for k in err.instance if k not in allowed]
        if extra:
            loc_path = (*path, extra[0])
    return PlaybookError(message, location=doc.loc(loc_path),
                         path=describe_path(doc.data, path), hint=hint, show_source=echo)
