"""The sandbox: the connectors' simulators, started in-process on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runner.connectors import registry
from runner.errors import InvalidInput
from runner.sandbox_options import build, simulator_class


class Sandbox:
    """Starts one simulator per connector name; ``settings(name)`` points a connector at it."""

    def __init__(self, options: dict[str, dict[str, Any]] | None = None) -> None:
        self.options = options or {}
        self.simulators: dict[str, Any] = {}

    def start(self, names: Iterable[str]) -> Sandbox:
        for name in names:
            if name in self.simulators:
                continue
            spec = registry.get(name)
            if spec.simulator is None:
                raise InvalidInput(f"connector '{name}' has no simulator, so it cannot run in "
                                   "the sandbox", hint="run with --env FILE (an environment "
                                   "file), or --env none when the playbook's settings: say "
                                   "everything")
            given = self.options.get(name) or {}
            # checked: a misspelt option of an environment file's simulators: is named, with
            # the valid ones, instead of a TypeError deep in a constructor
            kwargs = build(name, simulator_class(spec.simulator), given,
                           f"simulators.{name}") if given else {}
            sim = spec.simulator(**kwargs)
            sim.start()
            self.simulators[name] = sim
        return self

    def settings(self, name: str) -> dict[str, Any]:
        return dict(self.simulators[name].connector_settings())

    def secret_values(self) -> list[str]:
        return [v for sim in self.simulators.values() for v in sim.secret_values()]

    def stop(self) -> None:
        # the stopped simulators stay in the mapping: tests read their state afterwards
        for sim in self.simulators.values():
            sim.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
