"""The JSON Schema for editors without ``runner lsp`` (schemas/playbook.schema.json), checked
with jsonschema alone: a call through an alias is never flagged (the schema cannot see the
aliases; the language server checks those), a call on a connector's own name still is, and
each problem is one error, not one per operation rule."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import yaml

from runner.schemas import SCHEMA_DIR

VALIDATOR = jsonschema.Draft202012Validator(
    json.loads((SCHEMA_DIR / "playbook.schema.json").read_text(encoding="utf-8")))


def _playbook(connectors: str, call: str, with_: str = "LogonName: x, DomainName: y") -> Any:
    return yaml.safe_load(f"""
name: badge
connectors: {{{connectors}}}
steps:
  - call: {call}
    with: {{{with_}}}
finally:
  - call: {call}
    with: {{{with_}}}
""")


def _errors(doc: Any) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(doc)]


def test_a_call_through_an_alias_is_not_flagged() -> None:
    assert _errors(_playbook("ndd: {use: nddprint}", "ndd.card_codes")) == []
    # what the alias's operations are, the schema cannot know: the language server says
    assert _errors(_playbook("ndd: {use: nddprint}", "ndd.card_codez", "Logon: 1")) == []


def test_an_alias_named_like_another_connector_is_not_that_connector() -> None:
    assert _errors(_playbook("era: {use: http}", "era.login", "anything: 1")) == []
    assert _errors(_playbook("era: {file: connectors/mine.yaml}", "era.mine")) == []


def test_a_call_on_the_connectors_own_name_is_still_checked() -> None:
    for declared in ("nddprint: {use: nddprint}", "other: {use: era}"):
        assert _errors(_playbook(declared, "nddprint.card_codes")) == []
        wrong_op = _errors(_playbook(declared, "nddprint.card_codez"))
        assert len(wrong_op) == 2, wrong_op  # once in steps, once in finally
        assert all("is not one of" in m and "'nddprint.card_codes'" in m for m in wrong_op)
        wrong_param = _errors(_playbook(declared, "nddprint.card_codes",
                                        "LogonName: x, DomainNmae: y"))
        # the unknown key and the required one it left out, once per section
        assert sorted(wrong_param) == sorted(2 * [
            "Additional properties are not allowed ('DomainNmae' was unexpected)",
            "'DomainName' is a required property"]), wrong_param


def test_a_parameter_with_a_default_is_not_required() -> None:
    doc = _playbook("nddprint: {use: nddprint}", "nddprint.add_card_code",
                    "LogonName: x, DomainName: y, CardCode: '0042'")
    assert _errors(doc) == []  # ReplaceUniqueCardCode has a default
