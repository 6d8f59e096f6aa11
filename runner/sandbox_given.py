"""The simulator options ``runner sandbox`` is given: an options file (``--options FILE``, the
shape of an environment file's ``simulators:`` block) and ``--set vendor.option=value``, which
wins over the file; each checked against the simulators that start (:mod:`runner.sandbox_options`)
with where it was written in the message (the file's line, or the ``--set`` itself).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from runner.errors import InvalidInput
from runner.loader import load_file
from runner.sandbox_options import build

SET_HINT = "write --set vendor.option=value, e.g. --set automatos.run_seconds=30"


def parse_set(text: str) -> tuple[str, list[str], Any]:
    """``automatos.faults.error_5xx=0.5`` -> ("automatos", ["faults", "error_5xx"], 0.5): the
    value read as a YAML scalar (or flow list/mapping), so 30 is a number and true a bool."""
    key, eq, raw = text.partition("=")
    parts = key.strip().split(".")
    if not eq or len(parts) < 2 or not all(parts):
        raise InvalidInput(f"--set {text}: expected vendor.option=value", hint=SET_HINT)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or "not a YAML value"
        raise InvalidInput(f"--set {text}: the value is not valid YAML ({problem})",
                           hint="quote it: --set 'vendor.option=\"text\"'") from None
    return parts[0], parts[1:], value


def gather(options_file: str | None, sets: Sequence[str],
           simulators: Mapping[str, type]) -> dict[str, dict[str, Any]]:
    """The checked keyword arguments of each simulator in ``simulators`` (name -> class, the
    ones that will start)."""
    raw: dict[str, dict[str, Any]] = {}
    origin: dict[tuple[str, str], str] = {}
    if options_file:
        doc = load_file(options_file)
        data = doc.data if doc.data is not None else {}
        if not isinstance(data, dict):
            raise InvalidInput(f"{options_file}: expected a mapping of vendor: {{option: "
                               "value}}", hint="e.g. automatos: {run_seconds: 30}")
        for vendor, opts in data.items():
            where = str(doc.loc((vendor,)))
            _known(vendor, simulators, where)
            if not isinstance(opts, dict):
                raise InvalidInput(f"{where}: the options of '{vendor}' must be a mapping of "
                                   "option: value", hint=f"e.g. {vendor}: {{option: value}}")
            raw.setdefault(vendor, {}).update(opts)
            for name in opts:
                origin[(vendor, name)] = str(doc.loc((vendor, name)))
    for text in sets:
        vendor, path, value = parse_set(text)
        _known(vendor, simulators, f"--set {text}")
        name = path[0]
        if len(path) > 1:  # faults.error_5xx: one key of a mapping option
            inner = raw.setdefault(vendor, {}).get(name)
            inner = dict(inner) if isinstance(inner, dict) else {}
            inner[".".join(path[1:])] = value
            value = inner
        raw.setdefault(vendor, {})[name] = value
        origin[(vendor, name)] = f"--set {text}"
    out: dict[str, dict[str, Any]] = {}
    for vendor, opts in raw.items():
        out[vendor] = {}
        for name, value in opts.items():  # one at a time: the message names its origin
            out[vendor].update(build(vendor, simulators[vendor], {name: value},
                                     origin.get((vendor, name), "")))
    return out


def _known(vendor: str, simulators: Mapping[str, type], where: str) -> None:
    if vendor in simulators:
        return
    close = difflib.get_close_matches(vendor, list(simulators), n=1)
    nearest = f" (did you mean '{close[0]}'?)" if close else ""
    raise InvalidInput(f"{where}: no simulator '{vendor}' in this sandbox{nearest}",
                       hint=f"the simulators: {', '.join(simulators)} (a vendor left out "
                       "with -c takes no options)")
