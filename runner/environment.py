"""Environments: where connectors point and where their secrets come from.

An environment file (``environments/prod.yaml``) gives each connector's settings under
``connectors:``, keyed by the playbook's alias; a key that is the connector's name (``use:``)
serves every alias of that connector that has no block of its own (:meth:`Environment.
settings_for`, one rule; a connector with no block at all is named in the error). A secret is
never written in it: it is a reference, ``{secret: NAME}``, resolved from the environment
variable NAME, then from the secrets file (``secrets_file:``, a flat YAML mapping, relative to
the environment file). A value that is not secret but changes per machine (a CI job's dynamic
port) is ``{env: NAME}`` (optional ``default:``), read from the environment variable NAME. A
connector's ``headers:`` (``use: http``) is a mapping whose values are any of these.
Playbooks read extra secrets as ``{{ secrets.NAME }}`` from the ``secrets:`` mapping.
``notify:`` (:mod:`runner.notify_targets`) names where every run in this environment is told
of its end; a URL given as ``{secret: NAME}`` is looked up as the other secrets are.

``--env sandbox`` (or any file with ``sandbox: true``) starts the built-in simulators in-process
on free loopback ports; the connectors are pointed at them with credentials generated for this
run, so no secret is ever needed or stored for a sandbox run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput, PlaybookError
from runner.loader import Document, load_file
from runner.notify_targets import NOTIFY_SCHEMA, Target, read_targets
from runner.validation import validate_against

_SECRET_REF = {
    "type": "object", "additionalProperties": False, "required": ["secret"],
    "properties": {"secret": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
}
_ENV_REF = {
    "type": "object", "additionalProperties": False, "required": ["env"],
    "properties": {"env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                   "default": {"type": ["string", "number", "boolean"]}},
}
_VALUE = {"anyOf": [{"type": ["string", "number", "boolean"]}, _SECRET_REF, _ENV_REF]}
# the one setting that is a mapping: default headers (``use: http``), each value any of _VALUE
_HEADERS = {"type": "object", "propertyNames": {"not": {"enum": ["secret", "env"]}},
            "additionalProperties": _VALUE}
ENV_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "runner environment",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "description": {"type": "string"},
        "sandbox": {"type": "boolean"},
        "simulators": {"type": "object", "additionalProperties": {"type": "object"}},
        "secrets_file": {"type": "string"},
        "secrets": {"type": "object", "additionalProperties": _SECRET_REF},
        "notify": NOTIFY_SCHEMA,  # every run in this environment; {secret:} as above
        "connectors": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"headers": _HEADERS},
                "additionalProperties": _VALUE,
            },
        },
    },
}


@dataclass
class Environment:
    name: str
    source: str | None
    sandbox: bool = False
    simulators: dict[str, dict[str, Any]] = field(default_factory=dict)
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    secret_refs: dict[str, str] = field(default_factory=dict)  # name in secrets.* -> NAME
    secrets_file: Path | None = None
    doc: Document | None = None
    notify: tuple[Target, ...] = ()

    def settings_key(self, alias: str, use: str) -> str | None:
        """The ``connectors:`` key that holds an alias's settings: the alias's own block, else
        the connector's name (shared by its aliases that have none), else None."""
        for key in (alias, use):
            if self.connectors.get(key):
                return key
        return None

    def settings_for(self, alias: str, use: str) -> dict[str, Any]:
        """Raw settings (secret references unresolved) for a connector alias."""
        key = self.settings_key(alias, use)
        return dict(self.connectors[key]) if key else {}

    def resolve(self, value: Any, what: str) -> Any:
        """A setting's value, with a ``{secret: NAME}`` or ``{env: NAME}`` reference looked
        up (in a mapping's values too)."""
        if is_secret_ref(value):
            return self.lookup_secret(value["secret"], what)
        if is_env_ref(value):
            return lookup_env(value, what)
        if isinstance(value, dict):
            return {k: self.resolve(v, f"{what}.{k}") for k, v in value.items()}
        return value

    def lookup_secret(self, name: str, what: str) -> str:
        value = os.environ.get(name)
        if value is None and self.secrets_file is not None:
            value = _read_secrets_file(self.secrets_file).get(name)
        if value is None:
            where = f" or add it to {self.secrets_file}" if self.secrets_file else ""
            raise InvalidInput(f"secret {name} (for {what}) is not set",
                               hint=f"export {name}=...{where}")
        return str(value)


def is_secret_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secret"}


def is_env_ref(value: Any) -> bool:
    return isinstance(value, dict) and "env" in value and set(value) <= {"env", "default"}


def lookup_env(ref: dict[str, Any], what: str) -> Any:
    """An ``{env: NAME, default: ...}`` value: the variable NAME, else the default."""
    value = os.environ.get(ref["env"])
    if value is not None:
        return value
    if "default" in ref:
        return ref["default"]
    raise InvalidInput(f"environment variable {ref['env']} (for {what}) is not set",
                       hint=f"export {ref['env']}=..., or give {{env: {ref['env']}, "
                       "default: ...}")


def _read_secrets_file(path: Path) -> dict[str, Any]:
    try:
        doc = load_file(path)
    except PlaybookError as e:
        raise InvalidInput(f"cannot read the secrets file: {e.message}") from None
    if not isinstance(doc.data, dict):
        raise InvalidInput(f"{path} must be a mapping of NAME: value")
    return doc.data


def load_environment(name: str | None, *, search: Path | None = None) -> Environment:
    """``sandbox``, ``none``, a name under ``environments/``, or a path to a YAML file.

    ``none`` (unless ``environments/none.yaml`` exists) is no environment file: each connector
    has the settings its playbook gives it, e.g. a ``use: http`` connector whose base URL comes
    from an input or a variable.

    ``search`` is the playbook's path: ``environments/`` is looked for in the working
    directory, then in each directory above the playbook.
    """
    if name is None:
        return Environment("none", None)
    candidates = [Path(name)]
    if not name.endswith((".yaml", ".yml")):
        # environments/<name>.yaml in the working directory, or above the playbook
        dirs = [Path.cwd(), *((search.resolve().parents) if search else ())]
        candidates += [d / "environments" / f"{name}.yaml" for d in dirs]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        if name == "sandbox":
            return Environment("sandbox", None, sandbox=True)
        if name == "none":  # the playbook's own settings (and their {env:}) alone
            return Environment("none", None)
        raise InvalidInput(f"environment '{name}' not found",
                           hint="give a file path, or a name of a file under environments/")
    try:
        doc = load_file(path)
    except PlaybookError as e:
        e.show_source = False  # the line could be a secret written in the wrong place
        raise
    validate_against(ENV_SCHEMA, doc, what="environment file", echo=False)
    data = doc.data
    secrets_file = None
    if data.get("secrets_file"):
        secrets_file = (path.parent / os.path.expanduser(data["secrets_file"])).resolve()
    return Environment(
        name=path.stem, source=str(path), sandbox=bool(data.get("sandbox", False)),
        simulators=data.get("simulators") or {}, connectors=data.get("connectors") or {},
        secret_refs={k: v["secret"] for k, v in (data.get("secrets") or {}).items()},
        secrets_file=secrets_file, doc=doc, notify=read_targets(data.get("notify"), doc),
    )
