"""Arazzo runtime expressions (``$inputs.x``, ``$steps.s.outputs.o``, ``$response.body#/a/0``,
``$statusCode``...) as runner's Jinja expressions and extractions.

Arazzo 1.0.1, "Runtime Expressions": an expression is ``$url``, ``$method``, ``$statusCode``,
``$request.<source>``, ``$response.<source>``, ``$inputs.<name>``, ``$outputs.<name>``,
``$steps.<id>.<field>``, ``$workflows.<id>.<field>``, ``$sourceDescriptions.<name>.<x>`` or
``$components.<kind>.<name>``, where a body source may end in ``#`` and a JSON pointer, and a
string may hold expressions in braces (``"Bearer {$steps.login.outputs.token}"``).

What cannot be said in a playbook raises :class:`NotMapped` with the reason; the converter
lists it among what it could not map instead of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

# a name inside an expression: Arazzo's ids may hold '-' and '.'; a pointer runs to the end
EXPR = re.compile(r"\$(?:url|method|statusCode|request\.[A-Za-z0-9_.\-]+(?:#[^\s{}]*)?"
                  r"|response\.[A-Za-z0-9_.\-]+(?:#[^\s{}]*)?|inputs\.[A-Za-z0-9_\-]+(?:#[^\s{}]*)?"
                  r"|outputs\.[A-Za-z0-9_.\-]+(?:#[^\s{}]*)?"
                  r"|steps\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_.\-]+(?:#[^\s{}]*)?"
                  r"|workflows\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_.\-]+"
                  r"|sourceDescriptions\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_.\-]+"
                  r"|components\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_.\-]+)")
_EMBEDDED = re.compile(r"\{(\$[^{}]+)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class NotMapped(Exception):
    """An Arazzo construct a playbook cannot say; the message is the reason."""


def ident(name: str) -> str:
    """An Arazzo id (``find-pet``, ``auth-api``) as a runner name (``find_pet``)."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return out if out[:1].isalpha() or out[:1] == "_" else f"_{out}"


def pointer_tokens(pointer: str) -> list[str]:
    """A JSON pointer's reference tokens (RFC 6901: ``~1`` is ``/``, ``~0`` is ``~``)."""
    if pointer in ("", "/"):
        return [] if pointer == "" else [""]
    if not pointer.startswith("/"):
        raise NotMapped(f"'{pointer}' is not a JSON pointer (it must start with '/')")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def subscripts(pointer: str) -> str:
    """A JSON pointer as Jinja subscripts: ``/a/0/b`` -> ``['a'][0]['b']`` (a token of digits
    is read as a list index, as the examples mean it)."""
    return "".join(f"[{t}]" if t.isdigit() else f"[{json.dumps(t)}]"
                   for t in pointer_tokens(pointer))


def jsonpath_of(pointer: str) -> str:
    """A JSON pointer into the body as runner's JSONPath: ``/0/id`` -> ``$[0].id``."""
    out = "$"
    for t in pointer_tokens(pointer):
        if t.isdigit():
            out += f"[{t}]"
        elif _NAME.match(t):
            out += f".{t}"
        else:
            out += "[" + "'" + t.replace("'", "\\'") + "'" + "]"
    return out


# how a step's output is read: (step id as written) -> (output name) -> Jinja expression
OutputRef = Callable[[str, str], str]


def to_jinja(expr: str, *, output_ref: OutputRef, optional: frozenset[str] = frozenset(),
             in_step: bool = False) -> str:
    """One runtime expression as a Jinja expression (no braces).

    ``output_ref`` reads ``$steps.<id>.outputs.<name>`` (the converter knows each step's
    kind); ``optional``: inputs the workflow does not require, read with ``default(none)``
    (a playbook's missing input is an error, Arazzo's is undefined); ``in_step``: the
    expression is evaluated on a step's own answer (criteria), so ``$response`` exists.
    """
    head, _, pointer = expr.partition("#")
    parts = head.split(".")
    root = parts[0]
    if root == "$inputs" and len(parts) == 2:
        name = ident(parts[1])
        base = f"(inputs.{name} | default(none))" if parts[1] in optional else f"inputs.{name}"
        return base + (subscripts(pointer) if pointer else "")
    if root == "$steps" and len(parts) >= 4 and parts[2] == "outputs":
        ref = output_ref(parts[1], ".".join(parts[3:]))
        return ref + (subscripts(pointer) if pointer else "")
    if root in ("$statusCode", "$url", "$method", "$response") and not in_step:
        raise NotMapped(f"{expr} is read outside a step's own answer")
    if root == "$statusCode":
        return "response.status_code"
    if root in ("$url", "$method"):
        return f"response.{root[1:]}"
    if root == "$response" and len(parts) >= 2:
        if parts[1] == "body":
            return "response.body" + (subscripts(pointer) if pointer else "")
        if parts[1] == "header" and len(parts) >= 3:
            return f"response.headers[{json.dumps('.'.join(parts[2:]).lower())}]"
    if root == "$request":
        raise NotMapped(f"{expr}: runner keeps no request of a step to read back")
    if root == "$workflows":
        raise NotMapped(f"{expr}: another workflow's outputs (a playbook reads only what ran "
                        "in it; include that workflow as a step instead)")
    raise NotMapped(f"{expr} is not mapped to a playbook expression")


def template(value: object, **kw: object) -> object:
    """A parameter or payload value as a playbook template: ``$inputs.x`` -> ``{{ inputs.x }}``
    (typed: a string that is one expression keeps the value's type), ``"a {$x} b"`` -> ``"a {{
    x }} b"``; mappings and lists value by value; anything else as written."""
    if isinstance(value, dict):
        return {k: template(v, **kw) for k, v in value.items()}
    if isinstance(value, list):
        return [template(v, **kw) for v in value]
    if not isinstance(value, str):
        return value
    whole = value.strip()
    m = _EMBEDDED.fullmatch(whole)
    if EXPR.fullmatch(whole) or (m and EXPR.fullmatch(m.group(1))):
        return "{{ " + to_jinja(m.group(1) if m else whole, **kw) + " }}"  # type: ignore[arg-type]
    if "{$" in value:
        return _EMBEDDED.sub(lambda e: "{{ " + to_jinja(e.group(1), **kw) + " }}",  # type: ignore[arg-type]
                             value)
    return value


def extraction(expr: str) -> object:
    """A step output (``$response.body#/id``, ``$response.header.X``, ``$statusCode``) as an
    extraction of runner's ``extract:``."""
    head, _, pointer = expr.partition("#")
    if head == "$response.body":
        return jsonpath_of(pointer) if pointer else {"jsonpath": "$"}
    if head.startswith("$response.header."):
        return {"header": head[len("$response.header."):]}
    if head == "$statusCode":
        return {"status": True}
    raise NotMapped(f"output {expr}: only the step's answer (body, a header, the status) can "
                    "be extracted")


_TOKENS = re.compile(r"\s*(?:(?P<expr>\$[A-Za-z][^\s()=!<>&|]*)|(?P<op>==|!=|<=|>=|<|>|&&|\|\||!)"
                     r"|(?P<paren>[()])|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
                     r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>true|false|null))")
_OPS = {"&&": "and", "||": "or", "!": "not"}


def condition(text: str, **kw: object) -> str:
    """A simple criterion (``$statusCode == 200 && $response.body#/ok == true``) as an
    expression of runner's ``assert``."""
    out, pos, source = [], 0, text.strip()
    while pos < len(source):
        m = _TOKENS.match(source, pos)
        if not m or m.end() == pos:
            raise NotMapped(f"condition {text!r}: cannot read it from {source[pos:]!r}")
        pos = m.end()
        kind, token = m.lastgroup, m.group(m.lastgroup or 0)
        if kind == "expr":
            out.append(to_jinja(token, in_step=True, **kw))  # type: ignore[arg-type]
        elif kind == "op":
            out.append(_OPS.get(token, token))
        elif kind == "word":
            out.append("none" if token == "null" else token)
        else:
            out.append(token)
    return " ".join(out).replace("( ", "(").replace(" )", ")")
