"""A file of inputs, ``-i @vars.yaml`` (or ``@vars.json``): a mapping of input name to value.

The values keep their YAML (JSON) types — a list stays a list, ``8080`` a number — and pass
through :func:`runner.inputs.coerce_inputs` as they are; only text is parsed as JSON for an
input declared of another type, as ``-i key=value`` text is. JSON is YAML, so a ``.json`` file
is read by the same loader, with the same file:line in its errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.errors import InvalidInput, PlaybookError
from runner.loader import load_file

_HINT = "write one input per line, e.g. hostname: NTB1 (or a JSON object)"


class Given(dict[str, Any]):
    """The inputs of a command line, and where a file gave each (``vars.yaml:3``), so that a
    name the playbook does not declare is said at its line."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.where: dict[str, str] = {}


def merge_pairs(pairs: tuple[str, ...] | list[str]) -> Given:
    """``-i key=value`` pairs and ``-i @FILE`` files of inputs, merged left to right: a later
    one gives a key again over an earlier one."""
    out = Given()
    for pair in pairs:
        if pair.startswith("@"):
            got = read_inputs_file(pair[1:])
            out.update(got)
            out.where.update(got.where)
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"-i {pair!r} is not key=value",
                               hint="write -i hostname=NTB1, or -i @vars.yaml for a file")
        out[key.strip()] = value
        out.where.pop(key.strip(), None)
    return out


def read_inputs_file(path: str | Path) -> Given:
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"-i @{p}: no such file", hint="check the path; -i @FILE reads "
                           "a YAML or JSON mapping of inputs, -i key=value gives one")
    try:
        doc = load_file(p)
    except PlaybookError as e:
        e.show_source = False  # a vars file may hold a secret input
        raise
    if not isinstance(doc.data, dict):
        kind = "nothing" if doc.data is None else f"a {type(doc.data).__name__}"
        raise PlaybookError(f"a file of inputs must be a mapping of name: value, got {kind}",
                            location=doc.loc(()), hint=_HINT, show_source=False)
    out = Given(doc.data)
    for key in doc.data:
        loc = doc.loc((key,))
        out.where[key] = f"{loc.file}:{loc.line}"
    return out
