"""The ``StepKind`` Protocol: what one module must hold to be a step kind.

A kind is a module (as pre-commit's languages are) listed once in ``runner.steps.KINDS``.
The loader, the schema, the engine and ``runner plan`` read that table and nothing else, so a
new kind is its module and one line there. ``Builder`` and ``Planner`` are what the loader and
the plan hand a kind; they are Protocols so that the kinds sit below both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from runner.connectors.spec import ConnectorSpec
from runner.errors import PlaybookError
from runner.loader import Path_
from runner.model import Playbook, Step
from runner.steps.call_spec import CallSpec
from runner.steps.runtime import CallContext, Runtime, Scope

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.results import StepResult


class Builder(Protocol):
    """The loader, as a kind's ``build`` sees it: errors at a path, checks, includes."""

    def fail(self, path: Path_, message: str, hint: str | None = None) -> PlaybookError: ...

    def alias(self, alias: str, path: Path_) -> ConnectorSpec:
        """The connector declared as ``alias`` (else the error names the declared ones)."""

    def check_expression(self, expr: str, path: Path_) -> None: ...

    def folder(self) -> str:
        """The playbook file's folder (absolute): files a step names are relative to it."""

    def check_templates(self, value: Any, path: Path_) -> None: ...

    def load_included(self, given: str, path: Path_) -> Playbook:
        """The playbook ``given`` names, relative to this file, under the root, no cycle."""

    def earlier_kind(self, step_id: str) -> str | None:
        """The kind of the step ``step_id`` built before this one in the same section, or
        None (``wait-for`` checks that it names a ``callback`` step)."""


class Planner(CallContext, Protocol):
    """``runner plan``, as a kind's ``plan`` sees it."""

    def line(self, text: str) -> None: ...

    def request(self, call: CallSpec, step: Step, scope: Scope, pad: str) -> None:
        """Print the request ``call`` would send (rendered as far as it can be)."""

    def connector(self, alias: str) -> ConnectorSpec: ...

    def nested(self, sub: Playbook, scope: Scope, pad: str) -> None:
        """Print the steps of an included playbook."""

    def unknown(self, name: str) -> Any:
        """A value known only at run time, shown as ``<name>``."""


class StepKind(Protocol):
    """A step kind: its keys, its schema, how it is built, run and planned.

    ``KEY`` makes a step this kind, unless the step has one of ``YIELDS_TO`` (then ``KEY`` is
    a part of that kind: ``call`` under ``poll-until``, ``extract`` on a call). ``SCHEMA``
    holds the JSON Schema of the keys the kind brings; ``KEYS`` every key a step of the kind
    may carry besides those all steps have (a key of another kind is refused, naming it).
    ``build`` turns the document's step into the kind's own data (``Step.spec``); the keys
    all steps share (id, when, loop, extract, assert, retry...) the loader reads itself.
    """

    @property
    def KEY(self) -> str: ...

    @property
    def YIELDS_TO(self) -> tuple[str, ...]: ...

    @property
    def SCHEMA(self) -> Mapping[str, Any]: ...

    @property
    def KEYS(self) -> frozenset[str]: ...

    def build(self, b: Builder, raw: Mapping[str, Any], path: Path_) -> Any: ...

    def run(self, rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None: ...

    def plan(self, p: Planner, step: Step, scope: Scope, pad: str) -> None: ...
