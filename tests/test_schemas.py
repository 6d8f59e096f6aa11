"""The committed schemas are what the code generates, and they work for an editor that has
nothing but jsonschema: every playbook validates, an unknown operation and a wrong parameter
type are flagged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import PLAYBOOKS, ROOT

from runner.schemas import SCHEMA_DIR, generated, render

COMMITTED = json.loads((SCHEMA_DIR / "playbook.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(COMMITTED)
ALL_PLAYBOOKS = sorted(PLAYBOOKS.rglob("*.yaml"))


@pytest.mark.parametrize("name", sorted(generated()))
def test_committed_schema_is_fresh(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == render(generated()[name]), f"run `runner schema` to refresh {name}"


@pytest.mark.parametrize("path", ALL_PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_playbook_validates_with_jsonschema_alone(path: Path) -> None:
    VALIDATOR.validate(yaml.safe_load(path.read_text()))


def _first_call(doc: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in doc["steps"] if "call" in s and "with" in s)


def test_unknown_operation_is_flagged_for_editors() -> None:
    doc = yaml.safe_load((PLAYBOOKS / "automatos" / "distribute-package.yaml").read_text())
    bad = copy.deepcopy(doc)
    _first_call(bad)["call"] = "automatos.get_machines"
    assert VALIDATOR.is_valid(doc)
    assert not VALIDATOR.is_valid(bad)


def test_wrong_parameter_type_and_unknown_parameter_are_flagged() -> None:
    doc = yaml.safe_load((PLAYBOOKS / "automatos" / "distribute-package.yaml").read_text())
    wrong = copy.deepcopy(doc)
    _first_call(wrong)["with"]["hostname"] = 42
    unknown = copy.deepcopy(doc)
    _first_call(unknown)["with"]["hostnam"] = "NTB1"
    assert not VALIDATOR.is_valid(wrong)
    assert not VALIDATOR.is_valid(unknown)


def test_operations_are_listed_for_completion() -> None:
    call = COMMITTED["$defs"]["step"]["properties"]["call"]
    ops = call["anyOf"][0]["enum"]
    for expected in ("automatos.create_distribution", "era.lookup_channel", "mor.devices_get",
                     "nddprint.add_card_code", "alvaria.execute"):
        assert expected in ops


def test_the_example_schedule_file_validates_with_jsonschema_alone() -> None:
    schema = json.loads((SCHEMA_DIR / "schedules.schema.json").read_text())
    doc = yaml.safe_load((ROOT / "schedules.example.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    bad = copy.deepcopy(doc)
    bad["schedules"][0]["overlap"] = "sometimes"
    assert not jsonschema.Draft202012Validator(schema).is_valid(bad)
