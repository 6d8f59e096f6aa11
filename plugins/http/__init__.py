"""The generic connector ``use: http``: ``connector.yaml`` beside this file, no hooks and no
simulator (it has no vendor to imitate: a sandbox run says so and asks for an environment)."""

from __future__ import annotations

from pathlib import Path

from runner.connectors import ConnectorSpec, load_connector


def connector() -> ConnectorSpec:
    return load_connector(Path(__file__).with_name("connector.yaml"))
