"""The Echo connector: ``connector.yaml`` beside this file, a signing hook and a simulator.

``connector()`` is what the entry point in pyproject.toml names; runner calls it once, when a
playbook or a command first asks for the connector ``echo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.connectors import ConnectorSpec, load_connector
from runner_connector_echo.hooks import EchoHooks


def _simulator(**options: Any) -> Any:
    from runner_connector_echo.simulator import EchoSimulator

    return EchoSimulator(**options)


def connector() -> ConnectorSpec:
    return load_connector(Path(__file__).with_name("connector.yaml"), hooks=EchoHooks,
                          simulator=_simulator)
