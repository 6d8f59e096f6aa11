"""Connector files in the user's own repository, found without installing anything.

A playbook's ``use: tickets`` is looked up first as ``connectors/tickets.yaml`` in the
playbook's folder and each folder above it (so ``playbooks/`` and ``connectors/`` may sit side by
side), then among the installed connectors; ``connectors: {t: {file: path.yaml}}`` names a file
(relative to the playbook) instead. A file is loaded and checked exactly as a built-in's
``connector.yaml`` is (:func:`~runner.connectors.loading.load_connector`: the same schema, the
same errors with file:line), and its name must be the file's stem in the folder. Optional hooks
and a simulator live in the sibling ``tickets.py`` (a ``Hooks`` class, a ``simulator(**options)``
callable): that file is imported from its path, so it runs code from the repository, as a
``conftest.py`` does. Loaded files are kept by path for the process.

Loading a playbook imports this module (``runner validate``'s cold start); what only a found
file needs (the loader, the import machinery, a hash) is imported when one is found.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from runner.connectors.spec import ConnectorSpec
from runner.errors import InvalidInput

FOLDER = "connectors"


def find(name: str, start: Path) -> Path | None:
    """``connectors/<name>.yaml`` in ``start`` or the nearest folder above it that has one."""
    for folder in (start, *start.parents):
        path = folder / FOLDER / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def for_entry(raw: Mapping[str, Any], here: Path) -> tuple[ConnectorSpec, bool]:
    """The connector a playbook's ``connectors:`` entry names, and whether it is a file of the
    repository's: ``file:`` (relative to the playbook's folder ``here``), else
    ``connectors/<use>.yaml`` beside or above it, else the installed one (the one rule the
    loader and ``runner lsp`` follow)."""
    from runner.connectors import registry

    if "file" in raw:
        if not (here / raw["file"]).is_file():
            raise InvalidInput(f"connector file '{raw['file']}' does not exist",
                               hint=f"paths are relative to {here}")
        path = here / raw["file"]
    else:
        found = find(raw["use"], here)
        if found is None:
            return registry.get(raw["use"]), False
        path = found
    spec = load_local(path, expect=None if "file" in raw else raw["use"])
    if raw.get("use", spec.name) != spec.name:
        raise InvalidInput(f"{raw['file']} holds connector '{spec.name}', "
                           f"not '{raw['use']}'", hint="drop use:, or make the names match")
    return spec, True


def in_folder(folder: Path) -> list[ConnectorSpec]:
    """Every connector file of a ``connectors/`` folder (``runner schema`` in a repository)."""
    return [load_local(p, expect=p.stem) for p in sorted(folder.glob("*.yaml"))]


def load_local(path: Path, *, expect: str | None = None) -> ConnectorSpec:
    """The connector in ``path`` (``expect``: the name it must have, its file's stem)."""
    spec = _load(path.resolve())
    if expect is not None and spec.name != expect:
        raise InvalidInput(f"{path}: the connector is named '{spec.name}', not '{expect}'",
                           hint=f"a file under {FOLDER}/ holds the connector of its name: "
                           f"rename it {spec.name}.yaml or set name: {expect}")
    return spec


@cache
def _load(path: Path) -> ConnectorSpec:
    from runner.connectors.hooks import Hooks
    from runner.connectors.loading import load_connector

    module = _module(path.with_suffix(".py"))
    hooks = getattr(module, "Hooks", None) if module else None
    if hooks is not None and not (isinstance(hooks, type) and issubclass(hooks, Hooks)):
        raise InvalidInput(f"{path.with_suffix('.py')}: Hooks is not a subclass of "
                           "runner.connectors.Hooks")
    simulator: Any = getattr(module, "simulator", None) if module else None
    return load_connector(path, hooks=hooks, simulator=simulator)


def _module(py: Path) -> ModuleType | None:
    """The sibling hooks file, imported from its path under a name of its own."""
    import hashlib
    import importlib.util
    import sys

    if not py.is_file():
        return None
    name = f"runner_local_{py.stem}_{hashlib.sha1(str(py).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, py)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{py}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise InvalidInput(f"{py}: the connector's hooks failed to load: "
                           f"{type(e).__name__}: {e}") from None
    return module
