"""A step kind is one module and one line in one table: this test adds a toy kind, ``note:``,
from here, through ``runner.steps.KINDS`` alone, and validates, plans and runs a playbook that
uses it; once it is removed, ``note:`` is an unknown key again."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runner import api
from runner.errors import PlaybookError
from runner.loader import Path_
from runner.model import Step
from runner.results import PASSED, StepResult
from runner.steps import KINDS
from runner.steps.common import render
from runner.steps.kind import Builder, Planner, StepKind
from runner.steps.runtime import Runtime, Scope


@dataclass(frozen=True)
class NoteSpec:
    text: str  # a template

    @property
    def target(self) -> str:
        return "note"


class Note:
    """``note: TEXT``: render a text; ``steps.<id>.text`` holds it for the steps after."""

    KEY = "note"
    YIELDS_TO: tuple[str, ...] = ()
    SCHEMA: Mapping[str, Any] = {"note": {"type": "string", "description": "a text to render"}}
    KEYS = frozenset(SCHEMA)

    def build(self, b: Builder, raw: Mapping[str, Any], path: Path_) -> NoteSpec:
        b.check_templates(raw["note"], path + ("note",))
        return NoteSpec(raw["note"])

    def run(self, rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
        text = str(render(rt, step.spec.text, scope, "note"))
        result.outputs = {"text": text}
        rt.remember(step, scope, text=text)

    def plan(self, p: Planner, step: Step, scope: Scope, pad: str) -> None:
        p.line(f"{pad}note: {step.spec.text}")


PLAYBOOK = """\
name: toy kind
inputs:
  who: {type: string, default: world}
steps:
  - id: greet
    note: "hello {{ inputs.who }}"
  - id: check
    assert: "steps.greet.text == 'hello ' ~ inputs.who"
outputs:
  greeting: "{{ steps.greet.text }}"
"""


@pytest.fixture
def note_kind() -> Iterator[StepKind]:
    kind: StepKind = Note()  # mypy: a class satisfies the Protocol as the kind modules do
    KINDS["note"] = kind
    try:
        yield kind
    finally:
        del KINDS["note"]


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    return path


def test_a_kind_added_to_the_table_validates_plans_and_runs(note_kind: StepKind,
                                                             playbook: Path) -> None:
    [loaded] = api.validate([playbook])
    assert [s.kind for s in loaded.steps] == ["note", "assert"]
    assert loaded.steps[0].target == "note"

    out = io.StringIO()
    api.plan(playbook, env="sandbox", inputs={"who": "plan"}, stream=out)
    assert "- greet: note\n    note: hello {{ inputs.who }}\n" in out.getvalue()

    result = api.run(playbook, env="sandbox", inputs={"who": "toy"}, stream=io.StringIO(),
                     store=False)
    assert result.status == PASSED, (result.error, result.hint)
    assert [s.status for s in result.steps] == [PASSED, PASSED]
    assert result.steps[0].outputs == {"text": "hello toy"}
    assert result.outputs == {"greeting": "hello toy"}


def test_the_kinds_keys_are_in_the_schema_and_checked(note_kind: StepKind,
                                                       tmp_path: Path) -> None:
    from runner.playbook_schema import base

    assert "note" in base()["properties"]["steps"]["items"]["properties"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - note: 42\n", encoding="utf-8")
    with pytest.raises(PlaybookError):
        api.validate([bad])
    undefined = tmp_path / "undefined.yaml"
    undefined.write_text("name: u\nsteps:\n  - note: '{{ nobody }}'\n", encoding="utf-8")
    with pytest.raises(PlaybookError, match="undefined variable 'nobody'"):
        api.validate([undefined])


def test_a_key_of_the_kind_on_another_step_names_the_kind(note_kind: StepKind,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text("name: m\nsteps:\n  - id: a\n    assert: 'true'\n    note: hi\n",
                    encoding="utf-8")
    with pytest.raises(PlaybookError, match="a step has one kind, this one has assert and note"):
        api.validate([path])


def test_without_the_kind_its_key_is_unknown(playbook: Path) -> None:
    assert "note" not in KINDS
    with pytest.raises(PlaybookError):
        api.validate([playbook])
