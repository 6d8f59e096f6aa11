"""Plugins that come in through an entry-point group: the connectors
(:mod:`runner.connectors.registry`) and the secret sources (:mod:`runner.secret_source`).
Each door keeps its own table and checks; what they share is here: reading a group (once),
loading what a ``module:attr`` value names, and calling its factory with a load failure
worded as the user's to mend (reinstall the package), never a traceback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from runner.errors import InvalidInput, RunnerError


@cache
def group(name: str) -> dict[str, str]:
    """Every installed distribution's entry points in group ``name``: name -> ``module:attr``.
    ``importlib.metadata`` costs ~20 ms to import: only a door that needs the list calls this."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=name)}


@dataclass(frozen=True)
class Provided:
    """An entry point and the installed distribution that declares it, for a listing."""

    name: str
    value: str  # module:attr
    distribution: str  # its project name, "" when importlib.metadata does not say
    version: str
    summary: str  # the distribution's one-line description (its Summary metadata)


def provided(name: str) -> list[Provided]:
    """Every entry point in group ``name`` with its distribution, in the order
    ``importlib.metadata`` finds them: of two with one name, :func:`group` keeps the last."""
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=name):
        dist = getattr(ep, "dist", None)
        meta = dist.metadata if dist is not None else None
        out.append(Provided(ep.name, ep.value, (meta["Name"] if meta else None) or "",
                            (dist.version if dist is not None else None) or "",
                            (meta["Summary"] if meta else None) or ""))
    return out


def load(value: str) -> object:
    """What an entry point value (``module:attr.attr``) names, as ``EntryPoint.load`` does."""
    module, _, attrs = value.partition(":")
    obj: object = importlib.import_module(module.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def made(what: str, value: str) -> Any:
    """The object the factory at ``value`` returns; ``what`` (``connector 'era'``) names it in
    the error when loading or calling it fails. runner's own errors (a connector file's
    located PlaybookError) pass as they are."""
    try:
        factory: Any = load(value)
        return factory()
    except RunnerError:
        raise
    except Exception as e:
        raise InvalidInput(f"{what} failed to load: {type(e).__name__}: {e}",
                           hint=f"the entry point is {value}; reinstall the package "
                           "that provides it") from None
