"""What a step needs of the run it is part of: the ``Runtime`` Protocol.

The step kinds depend on this, not on the engine: ``runner.run_loop.Runtime`` satisfies
``Runtime``, and ``runner plan``'s runtime satisfies ``CallContext``, the part that renders a
call and finds its connector (mypy checks both). So the engine imports the steps and no step
imports the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol

from runner.model import Playbook, Step
from runner.secrets import Redactor
from runner.templating import Renderer

if TYPE_CHECKING:  # types only: the client and the journal load HTTP and the store, which
    # loading a playbook (runner validate) does not need
    from runner.connectors.client import ConnectorClient
    from runner.environment import Environment
    from runner.journal import Journal
    from runner.results import StepResult

Scope = MutableMapping[str, Any]
"""The variables a step reads and defines: inputs, steps.<id>, response, extracted names."""


class CallContext(Protocol):
    """Enough to render a call and prepare it on its connector (a run, or ``runner plan``)."""

    @property
    def renderer(self) -> Renderer: ...

    @property
    def redactor(self) -> Redactor: ...

    def client(self, alias: str) -> ConnectorClient: ...


class Runtime(CallContext, Protocol):
    """A run as its steps see it."""

    @property
    def journal(self) -> Journal | None: ...

    @property
    def env(self) -> Environment:
        """The run's environment (its ``callbacks:`` say where callback URLs point)."""

    def emit(self, event: str, *args: Any) -> None:
        """Tell the listeners (console, report) ``event``."""

    def sleep(self, seconds: float, kept: Mapping[str, Any] | None = None) -> None:
        """Wait, unless the run is stopped meanwhile (then raises ``Interrupted``). Every wait
        of a run goes through here: on a hub (a batch's row) the wait holds no thread
        (``runner.park``), and a long one is journaled with its wake time."""

    def parked_until(self) -> float | None:
        """For a resumed run: the clock time the step running now was parked until by an
        earlier attempt (it wakes then); None if it was not parked."""

    def parks(self, seconds: float) -> bool:
        """Whether a wait of ``seconds`` gives the run's worker slot back (``runner worker
        --park-after``): ``sleep`` then unwinds the run, to be resumed at its wake time."""

    def parked_kept(self) -> Mapping[str, Any]:
        """For a resumed run: what the step running now kept with its last parked wait
        (``sleep(seconds, kept)``: a poll's start and attempts, which a worker's park carries
        over); empty if nothing."""

    def remember(self, step: Step, scope: Scope, **extra: Any) -> None:
        """Make ``steps.<id>`` of a step that passed (its extracted values and ``extra``)."""

    def run_nested(self, sub: Playbook, given: Mapping[str, Any], parent: StepResult,
                   secret: frozenset[str] = frozenset()) -> Any:
        """Run an included playbook inside ``parent``; return its outputs."""
