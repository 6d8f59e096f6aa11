"""The yes/no schema check that spares ``validate`` the jsonschema import never passes a
document jsonschema refuses: every playbook, connector and environment of the repository, and
thousands of mutations of them (values of other types, keys removed, unknown keys added)."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import yaml
from helpers import ROOT
from jsonschema import Draft202012Validator
from parity import agrees

from runner.connectors.spec import CONNECTOR_SCHEMA
from runner.environment import ENV_SCHEMA
from runner.fast_schema import passes
from runner.playbook_schema import BASE

VALUES: list[Any] = [None, True, False, 0, 1, 1.5, -3, "x", "", "5s", "GET", "{{ x }}", [], {},
                     ["a"], {"a": 1}, [{"b": None}]]


def documents() -> list[tuple[dict[str, Any], Any]]:
    out: list[tuple[dict[str, Any], Any]] = []
    for pattern, schema in (("playbooks/**/*.yaml", BASE), ("tests/playbooks/**/*.yaml", BASE),
                            ("bench/playbooks/*.yaml", BASE),
                            ("plugins/*/connector.yaml", CONNECTOR_SCHEMA),
                            ("environments/*.yaml", ENV_SCHEMA)):
        for path in sorted(Path(ROOT).glob(pattern)):
            out.append((schema, yaml.safe_load(path.read_text())))
    return out


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


def test_the_fast_check_agrees_with_jsonschema() -> None:
    docs = documents()
    assert len(docs) > 30
    validators = {id(s): Draft202012Validator(s) for s, _ in docs}
    rnd = random.Random(5)
    passed = refused = 0
    cases = list(docs)
    for _ in range(3000):
        schema, data = rnd.choice(docs)
        data = copy.deepcopy(data)
        where = rnd.choice(paths(data))
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        roll = rnd.random()
        if roll < 0.6:
            parent[where[-1]] = rnd.choice(VALUES)
        elif roll < 0.8 and isinstance(parent, dict):
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[f"unknown{rnd.randint(0, 3)}"] = rnd.choice(VALUES)
        cases.append((schema, data))

    def jsonschema_valid(schema: dict[str, Any], data: Any) -> bool:
        return not any(True for _ in validators[id(schema)].iter_errors(data))

    for schema, data in cases:
        # never a yes where jsonschema says no (a no is a doubt: jsonschema then decides)
        assert agrees(passes, jsonschema_valid, schema, data,
                      match=lambda yes, valid: valid or not yes)
        passed += passes(schema, data)
        refused += not jsonschema_valid(schema, data)
    assert passed > 1000 and refused > 500  # both sides were exercised
