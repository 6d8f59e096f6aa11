"""The yes/no schema check that spares ``runner validate`` the jsonschema import (~80 ms, a
quarter of its start), for :func:`runner.validation.validate_against`.

:func:`conforms` walks the keywords runner's schemas use (draft 2020-12) and raises
:class:`runner.unsure.Unsure` on any other; :func:`passes` is True only for a document it is
sure is valid. Anything else goes to jsonschema, which has the last word and words the error
(``tests/playbook/test_schema_fast_check.py`` checks 3,000 mutated documents against it).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from runner.unsure import Unsure

_ANNOTATIONS = frozenset(("description", "default", "title", "$schema", "$id", "$comment",
                          "examples", "$defs", "definitions", "markdownDescription",
                          "deprecated", "readOnly", "writeOnly"))
_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return False  # anything else: no, and jsonschema decides


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def conforms(schema: Any, value: Any, root: Any = None) -> bool:
    """Whether ``value`` is valid against ``schema`` (draft 2020-12, the keywords our schemas
    use); raises :class:`Unsure` on any other keyword. Never says yes where jsonschema would
    say no: a doubt (a float where an integer goes) is a no, and jsonschema has the last word."""
    root = schema if root is None else root
    if schema is True:
        return True
    if schema is False or not isinstance(schema, dict):
        if schema is False:
            return False
        raise Unsure("schema")
    for key, want in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            kinds = want if isinstance(want, list) else [want]
            if not any(_TYPES[k](value) for k in kinds):
                return False
        elif key == "properties":
            if isinstance(value, dict) and not all(
                    conforms(sub, value[k], root) for k, sub in want.items() if k in value):
                return False
        elif key == "additionalProperties":
            if isinstance(value, dict):
                if "patternProperties" in schema:
                    raise Unsure(key)
                known = schema.get("properties") or {}
                if not all(conforms(want, v, root) for k, v in value.items() if k not in known):
                    return False
        elif key == "required":
            if isinstance(value, dict) and not all(k in value for k in want):
                return False
        elif key == "propertyNames":
            if isinstance(value, dict) and not all(conforms(want, k, root) for k in value):
                return False
        elif key == "items":
            if "prefixItems" in schema:
                raise Unsure(key)
            if isinstance(value, list) and not all(conforms(want, v, root) for v in value):
                return False
        elif key in ("minItems", "maxItems", "minProperties", "maxProperties"):
            kind = list if key.endswith("Items") else dict
            if isinstance(value, kind) and not (
                    len(value) >= want if key.startswith("min") else len(value) <= want):
                return False
        elif key in ("minLength", "maxLength"):
            if isinstance(value, str) and not (
                    len(value) >= want if key == "minLength" else len(value) <= want):
                return False
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                ok = {"minimum": value >= want, "maximum": value <= want,
                      "exclusiveMinimum": value > want, "exclusiveMaximum": value < want}[key]
                if not ok:
                    return False
        elif key == "pattern":
            if isinstance(value, str) and not _regex(want).search(value):
                return False
        elif key == "enum":
            if not any(_same(value, option) for option in want):
                return False
        elif key == "const":
            if not _same(value, want):
                return False
        elif key == "anyOf":
            if not any(conforms(sub, value, root) for sub in want):
                return False
        elif key == "allOf":
            if not all(conforms(sub, value, root) for sub in want):
                return False
        elif key == "oneOf":
            if sum(1 for sub in want if conforms(sub, value, root)) != 1:
                return False
        elif key == "not":
            if conforms(want, value, root):
                return False
        elif key == "if":
            branch = "then" if conforms(want, value, root) else "else"
            if branch in schema and not conforms(schema[branch], value, root):
                return False
        elif key in ("then", "else"):
            continue  # with "if"
        elif key == "$ref":
            if not isinstance(want, str) or not want.startswith("#/"):
                raise Unsure(key)
            target = root
            for part in want[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            if not conforms(target, value, root):
                return False
        else:
            raise Unsure(key)
    return True


def passes(schema: dict[str, Any], data: Any) -> bool:
    """True only when ``data`` surely conforms: a doubt, or a schema this walk cannot read, is
    a no, and jsonschema decides."""
    try:
        return conforms(schema, data)
    except (Unsure, KeyError, TypeError, re.error):
        return False
