"""Arazzo runtime expressions as runner's expressions, templates and extractions."""

from __future__ import annotations

import pytest

from runner.arazzo_expressions import NotMapped, condition, extraction, jsonpath_of, template


def ref(step: str, name: str) -> str:
    return f"steps.{step.replace('-', '_')}.{name}"


@pytest.mark.parametrize(("arazzo", "playbook"), [
    ("$statusCode == 200", "response.status_code == 200"),
    ("$statusCode == 200 || $statusCode == 201",
     "response.status_code == 200 or response.status_code == 201"),
    ("$response.body#/redirectAuthToken != null", 'response.body["redirectAuthToken"] != none'),
    ("!($response.body#/ok == true) && $url != 'x'",
     'not (response.body["ok"] == true) and response.url != \'x\''),
    ("$response.header.X-Rate-Limit >= 5", 'response.headers["x-rate-limit"] >= 5'),
    ("$steps.find-pet.outputs.id == $inputs.id#/0", "steps.find_pet.id == inputs.id[0]"),
])
def test_conditions(arazzo: str, playbook: str) -> None:
    assert condition(arazzo, output_ref=ref) == playbook


def test_templates_keep_types_and_embed() -> None:
    assert template("$inputs.n", output_ref=ref) == "{{ inputs.n }}"
    assert template("{$inputs.n}", output_ref=ref) == "{{ inputs.n }}"
    assert template("Bearer {$steps.login.outputs.token}", output_ref=ref) == \
        "Bearer {{ steps.login.token }}"
    assert template({"a": ["$inputs.x", 3]}, output_ref=ref,
                    optional=frozenset({"x"})) == {"a": ["{{ (inputs.x | default(none)) }}", 3]}
    assert template("plain $ text", output_ref=ref) == "plain $ text"


def test_extractions() -> None:
    assert extraction("$response.body#/0/id") == "$[0].id"
    assert extraction("$response.body") == {"jsonpath": "$"}
    assert extraction("$response.header.Location") == {"header": "Location"}
    assert extraction("$statusCode") == {"status": True}
    assert jsonpath_of("/a~1b/c~0d/x y") == "$['a/b']['c~d']['x y']"
    with pytest.raises(NotMapped, match="only the step's answer"):
        extraction("$inputs.x")


@pytest.mark.parametrize(("expr", "reason"), [
    ("$request.body", "runner keeps no request"),
    ("$workflows.other.outputs.x", "another workflow's outputs"),
    ("$components.inputs.x", "not mapped"),
])
def test_what_is_not_mapped(expr: str, reason: str) -> None:
    with pytest.raises(NotMapped, match=reason):
        template(expr, output_ref=ref)
