"""The connector registry: every connector comes in through the entry-point group
``runner.connectors``, the built-in ones through the same door a third-party package uses.

An entry point names a callable that returns a :class:`ConnectorSpec` (usually
``load_connector(Path(__file__).parent / "connector.yaml", hooks=...)``). Connectors load when
first asked for and are checked as they load, so a broken plugin fails with its file and line
before any playbook step runs.

Connector files of the user's repository (:mod:`runner.connectors.local`) come in when a
playbook that uses them loads (:func:`add_local`); from then on they are found by name like the
installed ones; a name may not mean both.

There is no list of names here: the built-ins are the entry points this distribution declares
(pyproject.toml), read from its installed metadata. ``importlib.metadata`` costs ~20 ms to
import and reads every installed package's metadata, so a name is looked up first in this
distribution's own ``entry_points.txt`` (one directory listing per ``sys.path`` entry, as
``importlib.metadata`` itself searches); listing and any other name go through
``importlib.metadata``.
"""

from __future__ import annotations

import os
import sys
from functools import cache

from runner import entry_points
from runner.connectors.spec import ConnectorSpec
from runner.errors import InvalidInput

GROUP = "runner.connectors"
DISTRIBUTION = "runner"
_LOCAL: dict[str, ConnectorSpec] = {}  # name -> a connector file of the user's repository


@cache
def builtin() -> dict[str, str]:
    """This distribution's entry points in ``GROUP`` (name -> ``module:attr``), from the first
    ``runner-*.dist-info`` on ``sys.path``, the one ``importlib.metadata`` would find."""
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:
            continue
        for name in sorted(listing):
            if name.endswith(".dist-info") and name.partition("-")[0].lower() == DISTRIBUTION:
                return _group(os.path.join(entry or ".", name, "entry_points.txt"))
    return {}  # not installed (a bare checkout on PYTHONPATH): everything goes the long way


def _group(path: str) -> dict[str, str]:
    """``GROUP``'s entries of an ``entry_points.txt`` (the INI file the installer writes:
    ``[group]`` headers, ``name = module:attr`` lines), read line by line: ``configparser``
    would cost a module import on every run for these few lines."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    out: dict[str, str] = {}
    section = None
    for raw in lines:
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            section = line[1:-1]
        elif section == GROUP:
            name, sep, value = line.partition("=")
            if sep:
                out[name.strip()] = value.strip()  # names keep their case
    return out


def _entry_points() -> dict[str, str]:
    return entry_points.group(GROUP)


def names() -> list[str]:
    return sorted({*builtin(), *_entry_points(), *_LOCAL})


def installed_names() -> list[str]:
    """The installed connectors' names, without the repository files loaded so far."""
    return sorted({*builtin(), *_entry_points()})


def add_local(spec: ConnectorSpec) -> None:
    """Make a repository's connector file known by its name (a playbook that uses it loaded);
    refused when the name is an installed connector's. A later file of the same name (another
    repository's, in a long-lived process) takes its place."""
    if spec.name in builtin() or spec.name in _entry_points():
        raise InvalidInput(f"the connector file {spec.source} is named '{spec.name}', like an "
                           "installed connector", hint="give it another name")
    _LOCAL[spec.name] = spec



def get(name: str) -> ConnectorSpec:
    local = _LOCAL.get(name)
    return local if local is not None else _installed(name)


@cache
def _installed(name: str) -> ConnectorSpec:
    value = builtin().get(name) or _entry_points().get(name)
    if value is None:
        raise InvalidInput(f"no connector named '{name}' is installed",
                           hint=f"installed connectors: {', '.join(names()) or 'none'}")
    spec = entry_points.made(f"connector '{name}'", value)
    if not isinstance(spec, ConnectorSpec):
        raise InvalidInput(f"connector '{name}': its entry point returned "
                           f"{type(spec).__name__}, not a ConnectorSpec")
    if spec.name != name:
        raise InvalidInput(f"connector entry point '{name}' loads a connector named "
                           f"'{spec.name}'", hint="make the entry point name match the file")
    return spec


def all_specs() -> list[ConnectorSpec]:
    return [get(n) for n in names()]
