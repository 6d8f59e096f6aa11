"""The one door secrets come through: a table of secret sources, each satisfying
:class:`SecretSource`.

An environment file references a secret as ``{secret: NAME}`` (the built-in ``env`` source:
the environment variable NAME, then the secrets file) or ``{secret: {SOURCE: ARG}}`` for any
source in the table: ``command`` (built in, :mod:`runner.secret_command`) or one a third-party
package registers under the entry-point group ``runner.secret_sources`` (name = ``module:attr``,
a callable returning a :class:`SecretSource`; a class taking no arguments is one).

The built-ins are named here by module path and imported when first referenced; entry points
are read (``importlib.metadata``, ~20 ms) only when a name that is not built in is referenced,
so a run whose secrets are environment variables pays for neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from runner import entry_points
from runner.errors import InvalidInput, RunnerError

GROUP = "runner.secret_sources"
BUILTIN = {"env": "runner.secret_env:EnvSource",
           "command": "runner.secret_command:CommandSource"}
ABOUT = {"env": "{secret: NAME}: the environment variable NAME, else NAME in the secrets file",
         "command": "{secret: {command: [PROGRAM, ARG, ...]}}: what the program prints"}


@dataclass(frozen=True)
class SecretRequest:
    """What a source is told besides its argument."""

    what: str  # what the value is for, for messages: "automatos.api_key", "secrets.token"
    where: str  # the environment file (file:line of the reference when known), or ""
    base: Path  # the environment file's folder: relative paths, a command's working directory
    secrets_file: Path | None  # the environment's secrets_file:, if it names one
    # the secrets file's mapping (decrypted when .age), read once per run; None: no such file
    read_secrets_file: Callable[[], Mapping[str, Any] | None]


class SecretSource(Protocol):
    def fetch(self, arg: Any, request: SecretRequest) -> str:
        """The secret's value; a :class:`~runner.errors.InvalidInput` (message and hint,
        never the value) when it cannot be had."""
        ...


def parse_ref(ref: Any) -> tuple[str, Any]:
    """A ``secret:`` value as (source name, argument): ``NAME`` is ``("env", NAME)``."""
    if isinstance(ref, str):
        return "env", ref
    if isinstance(ref, Mapping) and len(ref) == 1:
        ((name, arg),) = ref.items()
        return str(name), arg
    raise InvalidInput(f"a secret reference must be {{secret: NAME}} or {{secret: {{SOURCE: "
                       f"ARG}}}}, got {type(ref).__name__}",
                       hint="e.g. {secret: {command: [op, read, 'op://vault/item/field']}}")


def cache_key(ref: Any) -> str:
    return json.dumps(parse_ref(ref), sort_keys=True, default=str)


def fetch(ref: Any, request: SecretRequest) -> str:
    """The value of one reference, from its source; a source's unexpected exception is a
    runner error naming the source (its text is the source's, never a value we hold)."""
    name, arg = parse_ref(ref)
    if name not in BUILTIN and name not in _entry_points():
        raise InvalidInput(f"{_at(request)}no secret source named '{name}' (for "
                           f"{request.what}) is installed",
                           hint=f"installed sources: {', '.join(names())}; a third-party "
                           "one comes with its package (pip install it)")
    source = get(name)
    try:
        value = source.fetch(arg, request)
    except RunnerError:
        raise
    except Exception as e:
        raise InvalidInput(f"{_at(request)}secret source '{name}' (for {request.what}) "
                           f"failed: {type(e).__name__}: {e}",
                           hint="see the documentation of the package that provides it"
                           ) from None
    if not isinstance(value, str):
        raise InvalidInput(f"{_at(request)}secret source '{name}' (for {request.what}) "
                           f"returned {type(value).__name__}, not text",
                           hint="a source's fetch() must return a str")
    return value


def _at(request: SecretRequest) -> str:
    return f"{request.where}: " if request.where else ""


@cache
def get(name: str) -> SecretSource:
    value = BUILTIN.get(name) or _entry_points().get(name)
    if value is None:
        raise InvalidInput(f"no secret source named '{name}' is installed",
                           hint=f"installed sources: {', '.join(names())}")
    source = entry_points.made(f"secret source '{name}'", value)
    if not callable(getattr(source, "fetch", None)):
        raise InvalidInput(f"secret source '{name}': its entry point returned "
                           f"{type(source).__name__}, which has no fetch(arg, request)")
    return source  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Listed:
    """A secret source as ``runner connectors`` lists it."""

    name: str
    distribution: str  # the package that provides it: runner for the built-ins
    version: str
    value: str  # the module:attr it is made from
    about: str  # what a built-in gives; a package's own summary
    builtin: bool = False
    unused: str = ""  # why references never reach this one: its name is taken


def listing() -> list[Listed]:
    """Every source a reference can name, the built-ins first, then each package's (reads
    the entry points, and no package's code); a package's entry point that is never used
    (a built-in name, or a name another package gives too) is listed with the reason."""
    from runner import __version__

    out = [Listed(name, "runner", __version__, value, ABOUT[name], builtin=True)
           for name, value in BUILTIN.items()]
    found = entry_points.provided(GROUP)
    used = {p.name: p for p in found}  # the last of a name, as _entry_points() keeps it
    for p in sorted(found, key=lambda p: (p.name, p.distribution)):
        unused = ("the name is built in" if p.name in BUILTIN
                  else "" if used[p.name] is p
                  else f"the one of {used[p.name].distribution or used[p.name].value} is used")
        out.append(Listed(p.name, p.distribution, p.version, p.value, p.summary,
                          unused=unused))
    return out


def names() -> list[str]:
    return sorted({*BUILTIN, *_entry_points()})


def _entry_points() -> dict[str, str]:
    return entry_points.group(GROUP)
