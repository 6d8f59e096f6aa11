"""The connector registry: every connector comes in through the entry-point group
``runner.connectors``, the built-in ones through the same door a third-party package uses.

An entry point names a callable that returns a :class:`ConnectorSpec` (usually
``load_connector(Path(__file__).parent / "connector.yaml", hooks=...)``). Connectors load when
first asked for and are checked as they load, so a broken plugin fails with its file and line
before any playbook step runs.

The connectors this distribution ships are found by name without reading every installed
package's metadata (``importlib.metadata`` costs ~30 ms of each start); their entry points are
still declared, so listing sees them like any other. Other names go through the entry points.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from runner.connectors.spec import ConnectorSpec
from runner.errors import InvalidInput, PlaybookError

GROUP = "runner.connectors"
# the same as this distribution's entry points in pyproject.toml
BUILTIN = {name: f"plugins.{name}:connector"
           for name in ("automatos", "alvaria", "nddprint", "era", "mor")}


@cache
def _entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    return sorted({*BUILTIN, *_entry_points()})


def _load(value: str) -> object:
    """What an entry point value (``module:attr.attr``) names, as ``EntryPoint.load`` does."""
    module, _, attrs = value.partition(":")
    obj: object = importlib.import_module(module.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


@cache
def get(name: str) -> ConnectorSpec:
    value = BUILTIN.get(name) or _entry_points().get(name)
    if value is None:
        raise InvalidInput(f"no connector named '{name}' is installed",
                           hint=f"installed connectors: {', '.join(names()) or 'none'}")
    try:
        factory: Any = _load(value)
        spec = factory()
    except PlaybookError:
        raise
    except Exception as e:
        raise InvalidInput(f"connector '{name}' failed to load: {type(e).__name__}: {e}",
                           hint=f"the entry point is {value}; reinstall the package "
                           "that provides it") from None
    if not isinstance(spec, ConnectorSpec):
        raise InvalidInput(f"connector '{name}': its entry point returned "
                           f"{type(spec).__name__}, not a ConnectorSpec")
    if spec.name != name:
        raise InvalidInput(f"connector entry point '{name}' loads a connector named "
                           f"'{spec.name}'", hint="make the entry point name match the file")
    return spec


def all_specs() -> list[ConnectorSpec]:
    return [get(n) for n in names()]
