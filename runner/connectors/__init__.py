"""What a connector or hook author imports, all from here: ``from runner.connectors import
Hooks, Response, ...`` (docs/writing-a-connector.md).

The names load when first used (PEP 562 ``__getattr__``), not when the package is imported:
every ``runner.connectors.*`` import runs this file, ``runner validate`` among them, and the
HTTP transport and the simulator's server are not on that path (bench/cold_start.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.connectors.hooks import Hooks
    from runner.connectors.http import PreparedCall
    from runner.connectors.loading import load_connector
    from runner.connectors.response import Response
    from runner.connectors.spec import ConnectorSpec, Operation, Param, Setting
    from runner.errors import StepFailed, TransportError, VendorError
    from runner.simulator import Simulator, route
    from runner.simulator_faults import Faults
    from runner.simulator_messages import Reply, Request, gzip_bytes, json_reply, text_reply

__all__ = [
    "ConnectorSpec",
    "Faults",
    "Hooks",
    "Operation",
    "Param",
    "PreparedCall",
    "Reply",
    "Request",
    "Response",
    "Setting",
    "Simulator",
    "StepFailed",
    "TransportError",
    "VendorError",
    "gzip_bytes",
    "json_reply",
    "load_connector",
    "route",
    "text_reply",
]

# the module each public name lives in (tests/connectors/test_public_face.py: the same names as
# __all__ and as the imports above, which are there for the type checker)
_HOME = {
    # a connector: its connector.yaml loaded into a spec, by the entry point's callable
    **dict.fromkeys(("ConnectorSpec", "Operation", "Param", "Setting"), "runner.connectors.spec"),
    "load_connector": "runner.connectors.loading",
    # hooks: the base class, what they are handed, what they may raise
    "Hooks": "runner.connectors.hooks", "PreparedCall": "runner.connectors.http",
    "Response": "runner.connectors.response",
    **dict.fromkeys(("StepFailed", "VendorError", "TransportError"), "runner.errors"),
    # the sandbox: a simulator of the vendor's API, what its routes are handed and return, and
    # the faults it can inject
    **dict.fromkeys(("Simulator", "route"), "runner.simulator"),
    **dict.fromkeys(("Request", "Reply", "json_reply", "text_reply", "gzip_bytes"),
                    "runner.simulator_messages"),
    "Faults": "runner.simulator_faults",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'runner.connectors' has no attribute '{name}'")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
