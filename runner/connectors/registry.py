"""The connector registry: every connector comes in through the entry-point group
``runner.connectors``, the built-in ones through the same door a third-party package uses.

An entry point names a callable that returns a :class:`ConnectorSpec` (usually
``load_connector(Path(__file__).parent / "connector.yaml", hooks=...)``). Connectors load when
first asked for and are checked as they load, so a broken plugin fails with its file and line
before any playbook step runs.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from runner.connectors.spec import ConnectorSpec
from runner.errors import InvalidInput, PlaybookError

GROUP = "runner.connectors"


@cache
def _entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    return sorted(_entry_points())


@cache
def get(name: str) -> ConnectorSpec:
    ep = _entry_points().get(name)
    if ep is None:
        raise InvalidInput(f"no connector named '{name}' is installed",
                           hint=f"installed connectors: {', '.join(names()) or 'none'}")
    try:
        factory = ep.load()  # type: ignore[attr-defined]
        spec = factory()
    except PlaybookError:
        raise
    except Exception as e:
        raise InvalidInput(f"connector '{name}' failed to load: {type(e).__name__}: {e}",
                           hint=f"the entry point is {ep.value}; reinstall the package "  # type: ignore[attr-defined]
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
