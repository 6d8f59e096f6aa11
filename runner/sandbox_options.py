"""A simulator's options: which there are (read from its constructor), and the checked keyword
arguments a ``simulators:`` block, an options file or ``--set vendor.option=value`` makes of
them.

The options are the simulator's ``__init__`` keyword parameters, its base's ``faults`` among
them (a mapping of :class:`runner.simulator_faults.Faults` fields here); ``clock`` (or any
parameter whose default is a function, ERA's ``wall_clock``) is not one: it is for tests that
drive time by hand, and a file cannot give a function. A value is checked
against its default's type when the default is a bool, a number or a string (``run_seconds:
fast`` would otherwise fail inside a request, long after the start); an unknown name is refused
with the valid ones and the nearest one.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from runner.errors import InvalidInput
from runner.simulator_faults import Faults

# the base's parameters that are not options (see the module's docstring)
_NOT_OPTIONS = frozenset({"self", "clock"})


@dataclasses.dataclass(frozen=True)
class Option:
    """A simulator's option (``--set NAME.OPTION=VALUE``) and its default."""
    name: str
    default: Any  # inspect.Parameter.empty when there is none


def options_of(simulator: type) -> dict[str, Option]:
    """The options of a simulator class: its keyword parameters and its bases' (``**kw`` hands
    them up), in the order they are declared, the subclass's first."""
    out: dict[str, Option] = {}
    for cls in simulator.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        for p in params:
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in _NOT_OPTIONS \
                    or callable(p.default):  # a clock: for tests, a file cannot give one
                continue
            out.setdefault(p.name, Option(p.name, p.default))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break  # its bases' parameters cannot be given through it
    return out


def fault_options() -> dict[str, Any]:
    """The fields of ``faults:`` and their defaults."""
    return {f.name: (f.default if f.default is not dataclasses.MISSING else set())
            for f in dataclasses.fields(Faults)}


def build(vendor: str, simulator: type, given: Mapping[str, Any],
          origin: str = "") -> dict[str, Any]:
    """The keyword arguments for ``simulator`` from ``given`` (``{option: value}``), checked.
    ``origin`` says where they were written (an options file, ``--set``), for the message."""
    known = options_of(simulator)
    where = f"{origin}: " if origin else ""
    if not isinstance(given, Mapping):
        raise InvalidInput(f"{where}the options of simulator '{vendor}' must be a mapping of "
                           f"option: value, got {type(given).__name__}",
                           hint=f"write {vendor}: {{{next(iter(known), 'option')}: ...}}")
    out: dict[str, Any] = {}
    for name, value in given.items():
        option = known.get(name)
        if option is None:
            raise InvalidInput(f"{where}simulator '{vendor}' has no option '{name}'"
                               f"{_nearest(name, known)}",
                               hint=f"its options: {', '.join(known)} (docs/sandbox.md)")
        out[name] = _faults(vendor, value, where) if name == "faults" else \
            _checked(f"{vendor}.{name}", value, option.default, where)
    return out


def _faults(vendor: str, value: Any, where: str) -> Faults:
    if isinstance(value, Faults):  # a test's own object
        return value
    fields = fault_options()
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where}{vendor}.faults must be a mapping of fault: value, got "
                           f"{type(value).__name__}",
                           hint="e.g. faults: {error_5xx: 0.2, latency: 0.5}")
    kwargs: dict[str, Any] = {}
    for name, v in value.items():
        if name not in fields:
            raise InvalidInput(f"{where}{vendor}.faults has no fault '{name}'"
                               f"{_nearest(name, fields)}",
                               hint=f"the faults: {', '.join(fields)} (docs/sandbox.md)")
        if name == "only":  # route names: one, or a list of them
            v = {v} if isinstance(v, str) else v
            if not isinstance(v, (list, set, tuple)) or not all(isinstance(r, str) for r in v):
                raise InvalidInput(f"{where}{vendor}.faults.only must be a route name or a "
                                   "list of them", hint="e.g. only: [create_distribution]")
            v = set(v)
        elif name in ("count", "seed") and v is None:
            pass
        else:
            default = fields[name]
            v = _checked(f"{vendor}.faults.{name}", v, default if default is not None else 0,
                         where)
        kwargs[name] = v
    return Faults(**kwargs)


def _checked(what: str, value: Any, default: Any, where: str) -> Any:
    """``value`` when it has the type of ``default`` (an int is a number too); else an error."""
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(default, int) and ok and not isinstance(value, int):
            ok = float(value).is_integer()
            value = int(value) if ok else value
        kind = "an integer" if isinstance(default, int) else "a number"
    elif isinstance(default, str):
        ok, kind = isinstance(value, (str, int, float)) and not isinstance(value, bool), "text"
        value = str(value) if ok else value
    else:
        return value  # a list or a mapping (machines, users...): the simulator's to read
    if not ok:
        raise InvalidInput(f"{where}{what} must be {kind}, got {value!r}"[:300],
                           hint=f"e.g. {what.rpartition('.')[2]}: {default!r}")
    return value


def _nearest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def simulator_class(factory: Any) -> type:
    """The class a connector's ``simulator`` makes: the factory itself when it is one, else
    the type of one made with no options (not started: no port is taken, nothing runs)."""
    return factory if inspect.isclass(factory) else type(factory())
