"""The Automatos connector: ``connector.yaml`` beside this file, and its simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.connectors import ConnectorSpec, load_connector


def _simulator(**options: Any) -> Any:
    from .simulator import make

    return make(**options)


def connector() -> ConnectorSpec:
    return load_connector(Path(__file__).with_name("connector.yaml"), simulator=_simulator)
