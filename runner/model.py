"""Frozen dataclasses a playbook becomes once it has been validated.

Each step keeps its source location and its path of named items, so a failure at run time can
point back at the YAML that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.errors import Location
from runner.extract import Extractor
from runner.loader import Document, Path_
from runner.notify_targets import Target

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(value: Any) -> float:
    """``5s`` -> 5.0, ``15m`` -> 900.0, ``500ms`` -> 0.5, a number -> itself."""
    if isinstance(value, (int, float)):
        return float(value)
    m = _DURATION.match(str(value).strip())
    if not m:
        raise ValueError(f"not a duration: {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass(frozen=True)
class InputSpec:
    """A playbook's input: type, default, required, secret."""
    name: str
    type: str | None
    default: Any
    has_default: bool
    required: bool
    secret: bool
    description: str
    location: Location


@dataclass(frozen=True)
class ConnectorRef:
    """A playbook's connector: its alias, what it uses, its settings."""
    alias: str
    use: str
    settings: Mapping[str, Any]
    location: Location
    # where each setting is written: a template's rendering error at run start points there
    places: Mapping[str, Location] = field(default_factory=dict)


@dataclass(frozen=True)
class Assertion:
    """One ``assert:`` entry: an expression (or a schema) and its message."""
    that: str  # the expression; for a schema assertion, what it checks against ("schema: x.json")
    message: str | None
    path: Path_
    # assert: {schema: ...}: a runner.answer_schema.AnswerSchema the answer is checked against
    schema: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Step:
    """One step. What its kind alone holds is ``spec``, an object its kind module defines
    (``runner.steps.<kind>``); what any step may have is a field here."""

    index: int
    kind: str  # its name in runner.steps.KINDS
    id: str
    label: str  # "step 'job'" / "step #3"
    name: str
    location: Location
    path: Path_
    spec: Any = None
    when: Any = None
    loop: Any = None
    loop_var: str = "item"
    concurrency: int = 1
    extract: tuple[tuple[str, Extractor], ...] = ()
    asserts: tuple[Assertion, ...] = ()
    resume_check: Step | None = None
    # `undo:`: the calls that compensate this step once it passed (runner.undo runs them,
    # last first, when a later step fails, or on `runner undo RUN_ID`)
    undo: tuple[Step, ...] = ()
    # a step's override of its connector's retry policy (False: no retries)
    retry: Any = None

    @property
    def target(self) -> str:
        """What the step talks to, for reports: ``automatos.get_machine``, ``auth automatos``
        (a kind's spec may say, with a ``target``; else the kind's name)."""
        return getattr(self.spec, "target", None) or self.kind

    @property
    def include(self) -> Playbook | None:
        """The playbook this step runs inside itself (a kind's spec may have a ``playbook``):
        the engine declares its connectors, fingerprints hash it, batches list its connectors."""
        playbook: Playbook | None = getattr(self.spec, "playbook", None)
        return playbook


@dataclass(frozen=True)
class Playbook:
    """A loaded playbook: inputs, connectors, steps, finally steps, outputs."""
    name: str
    description: str
    file: str
    inputs: Mapping[str, InputSpec]
    connectors: Mapping[str, ConnectorRef]
    steps: tuple[Step, ...]
    finally_steps: tuple[Step, ...]
    outputs: Mapping[str, Any]
    doc: Document = field(repr=False, compare=False)
    notify: tuple[Target, ...] = ()  # top-level notify: (runner.notify sends them)
