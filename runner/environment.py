"""Environments: where connectors point and where their secrets come from.

An environment file (``environments/prod.yaml``) gives each connector's settings under
``connectors:``, keyed by the playbook's alias; a key that is the connector's name (``use:``)
serves every alias of that connector that has no block of its own (:meth:`Environment.
settings_for`, one rule; a connector with no block at all is named in the error). A secret is
never written in it: it is a reference, ``{secret: NAME}`` (the environment variable NAME, then
the secrets file: ``secrets_file:``, a flat YAML mapping relative to the environment file,
optional, age-encrypted when its name ends ``.age``) or ``{secret: {SOURCE: ARG}}`` for any
secret source (:mod:`runner.secret_source`: ``command`` or a third-party one). Each reference
is fetched once per run (:meth:`Environment.lookup_secret` caches it). A value that is not
secret but changes per machine (a CI job's dynamic port) is ``{env: NAME}`` (optional
``default:``), read from the environment variable NAME. A connector's ``headers:`` (``use:
http``) is a mapping whose values are any of these.
Playbooks read extra secrets as ``{{ secrets.NAME }}`` from the ``secrets:`` mapping.
``notify:`` (:mod:`runner.notify_targets`) names where every run in this environment is told
of its end; a URL given as ``{secret: NAME}`` is looked up as the other secrets are.

A connector's block may hold ``limits:`` (:mod:`runner.limits_schema`: its keys replace the
connector file's), and ``limits: {redis: URL}`` at the top shares every limit of the runs that
use this file through that Redis (several ``runner run`` processes, or machines).

``--env sandbox`` (or any file with ``sandbox: true``) starts the built-in simulators in-process
on free loopback ports; the connectors are pointed at them with credentials generated for this
run, so no secret is ever needed or stored for a sandbox run.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner import loader_cache, secret_source
from runner.errors import InvalidInput, PlaybookError
from runner.limits_schema import LIMITS_SCHEMA
from runner.loader import Document, Path_, load_file
from runner.notify_targets import NOTIFY_SCHEMA, Target, read_targets
from runner.validation import validate_against

_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_ARGV = {"type": "array", "minItems": 1, "items": {"type": ["string", "number"]}}
# {SOURCE: ARG}: one key, a source's name; the built-ins' arguments are checked here, a
# third-party source's by the source itself
_SOURCE_REF = {
    "type": "object", "minProperties": 1, "maxProperties": 1,
    "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_.-]*$"},
    "properties": {
        "env": _NAME,
        "command": {"anyOf": [_ARGV, {
            "type": "object", "additionalProperties": False, "required": ["argv"],
            "properties": {"argv": _ARGV, "timeout": {"type": "number", "exclusiveMinimum": 0}},
        }]},
    },
}
_SECRET_REF = {
    "type": "object", "additionalProperties": False, "required": ["secret"],
    "properties": {"secret": {
        "anyOf": [_NAME, _SOURCE_REF],
        "description": "an environment variable's name (then the secrets file), or {SOURCE: "
        "ARG}: {command: [op, read, 'op://vault/item/field']} or a third-party source"}},
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
# notify: as a playbook writes it, its url any secret reference (a playbook's is a variable's)
_NOTIFY = {**NOTIFY_SCHEMA, "items": {**NOTIFY_SCHEMA["items"], "properties": {
    **NOTIFY_SCHEMA["items"]["properties"],
    "url": {**NOTIFY_SCHEMA["items"]["properties"]["url"],
            "anyOf": [{"type": "string", "minLength": 1}, _SECRET_REF]}}}}
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
        "age_identity": {"type": "string"},
        "secrets": {"type": "object", "additionalProperties": _SECRET_REF},
        "notify": _NOTIFY,  # every run in this environment; {secret:} as above
        "callbacks": {  # where callback URLs point and where a local run listens for them
            "type": "object", "additionalProperties": False,
            "properties": {
                "url": {"type": "string", "pattern": "^https?://",
                        "description": "the public URL callbacks reach the listener at"},
                "bind": {"type": "string", "pattern": "^[^:]*:[0-9]+$",
                         "description": "HOST:PORT a local run's listener binds (default "
                         "127.0.0.1:0, a free port)"}}},
        "connectors": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"headers": _HEADERS, "limits": LIMITS_SCHEMA},
                "additionalProperties": _VALUE,
            },
        },
        "limits": {
            "type": "object", "additionalProperties": False,
            "properties": {"redis": {**_VALUE, "description": "a Redis URL (redis://HOST:6379/0)"
                                     " every limit of these runs is shared through"}},
        },
    },
}


@dataclass
class Environment:
    """An environment: its connectors' settings, secret references, simulators and more."""
    name: str
    source: str | None
    sandbox: bool = False
    simulators: dict[str, dict[str, Any]] = field(default_factory=dict)
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    # name in secrets.* -> its reference's secret: value (NAME or {SOURCE: ARG})
    secret_refs: dict[str, Any] = field(default_factory=dict)
    secrets_file: Path | None = None
    doc: Document | None = None
    notify: tuple[Target, ...] = ()
    age_identity: Path | None = None
    callbacks: dict[str, Any] = field(default_factory=dict)  # url, bind (runner.callback_listener)
    limits_redis: Any = None  # limits.redis as written (a URL, {secret:} or {env:})
    # what each reference fetched (once per run: a run loads its environment, or a batch hands
    # it a fresh() copy of the one it loaded), the secrets
    # file once read, and where each {SOURCE: ARG} reference is written (by id, for messages)
    _fetched: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _file: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    _file_read: bool = field(default=False, repr=False, compare=False)
    _places: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def fresh(self) -> Environment:
        """The same file's environment with nothing fetched yet: what a batch hands each of its
        runs (the file is read and checked once per batch; each reference is still fetched
        once per run, and the secrets file read once per run, as a run that loads it does)."""
        return dataclasses.replace(self, _fetched={}, _file=None, _file_read=False,
                                   _lock=threading.Lock())

    def forget_parse(self) -> None:
        """The file holds a literal its connector declares secret (refused, or masked by
        ``plan``): no parse of it stays kept. The keep rule (:func:`nothing_secret`) knows the
        built-in connectors' plain settings only; a repository's or a third-party connector
        may declare one of those names secret."""
        if self.source is not None:
            loader_cache.forget(self.source)

    def settings_key(self, alias: str, use: str) -> str | None:
        """The ``connectors:`` key that holds an alias's settings: the alias's own block, else
        the connector's name (shared by its aliases that have none), else None."""
        for key in (alias, use):
            if self.connectors.get(key):
                return key
        return None

    def settings_for(self, alias: str, use: str) -> dict[str, Any]:
        """Raw settings (secret references unresolved) for a connector alias; its ``limits:``
        is not a setting (:meth:`limits_for`)."""
        key = self.settings_key(alias, use)
        out = dict(self.connectors[key]) if key else {}
        out.pop("limits", None)
        return out

    def limits_for(self, alias: str, use: str) -> dict[str, Any] | None:
        """The ``limits:`` of an alias's block (the same keying rule as its settings)."""
        key = self.settings_key(alias, use)
        return self.connectors[key].get("limits") if key else None

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

    def lookup_secret(self, ref: Any, what: str) -> str:
        """The value of a reference's ``secret:`` (``NAME`` or ``{SOURCE: ARG}``), fetched
        from its source the first time only."""
        key = secret_source.cache_key(ref)
        with self._lock:  # one fetch per reference even when connectors connect at once
            value = self._fetched.get(key)
            if value is None:
                base = Path(self.source).parent if self.source else Path.cwd()
                request = secret_source.SecretRequest(
                    what=what, where=self._places.get(id(ref), ""), base=base,
                    secrets_file=self.secrets_file, read_secrets_file=self._secrets_file)
                value = self._fetched[key] = secret_source.fetch(ref, request)
            return value

    def _secrets_file(self) -> Mapping[str, Any] | None:
        """The secrets file's mapping, read (and decrypted) once; None: there is none."""
        if not self._file_read and self.secrets_file is not None:
            from runner.secret_file import read_secrets_file  # subprocess, for age: lazily

            self._file = read_secrets_file(self.secrets_file, self.age_identity)
            self._file_read = True
        return self._file


# The settings no connector declares secret (every built-in connector's, and the transport's):
# an environment file whose connectors hold literal values under these keys only, every other
# value a reference, has nothing secret in it, and its parse may be kept between runs
# (runner/loader_cache.py; PyYAML's import is ~7 ms of every start).
PLAIN_SETTINGS = frozenset({
    "base_url", "auth", "username", "client_id", "org_id", "region", "token_url", "scope",
    "automatos_id", "api_key_name", "token_margin", "login_path", "login_token",
    "login_expires_in", "token_header", "token_format", "verify_tls", "ca_bundle",
    "client_cert", "client_key", "connect_timeout", "read_timeout", "max_response_bytes",
    "follow_redirects", "cookies"})
PLAIN_KEYS = frozenset({"description", "connectors", "secrets", "secrets_file", "age_identity",
                        "sandbox"})


def nothing_secret(data: Any) -> bool:
    """Whether an environment file's data may be kept between runs: it holds no value that
    could be a secret. Only its description, file paths, references (``{secret: NAME}``,
    ``{env: NAME}`` without a default) and, in its connectors, literal scalars under
    ``PLAIN_SETTINGS`` (a ``base_url`` without ``user:password@``). Anything else — a literal
    under any other key (a password written in the wrong place: refused when the run starts,
    but never copied), ``headers``, ``notify``, ``callbacks``, ``limits``, ``simulators`` —
    and the file is parsed at every run, as any file that is not a playbook or a connector."""
    if not isinstance(data, dict) or not set(data) <= PLAIN_KEYS:
        return False
    secrets = data.get("secrets") or {}
    if not isinstance(secrets, dict) or not all(is_secret_ref(v) for v in secrets.values()):
        return False
    connectors = data.get("connectors") or {}
    if not isinstance(connectors, dict):
        return False
    for block in connectors.values():
        if not isinstance(block, dict):
            return False
        for key, value in block.items():
            if is_secret_ref(value) or (is_env_ref(value) and "default" not in value):
                continue
            if key not in PLAIN_SETTINGS or isinstance(value, (dict, list)):
                return False
            if key == "base_url" and (not isinstance(value, str) or "@" in value):
                return False
    return True


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


def _source_refs(data: Any, path: Path_ = ()) -> list[tuple[Any, Path_]]:
    """Every ``{secret: {SOURCE: ARG}}`` in a file's data: its ``secret:`` value and path."""
    if is_secret_ref(data):
        return [(data["secret"], (*path, "secret"))] if isinstance(data["secret"], dict) else []
    if isinstance(data, dict):
        return [r for k, v in data.items() for r in _source_refs(v, (*path, k))]
    if isinstance(data, list):
        return [r for i, v in enumerate(data) for r in _source_refs(v, (*path, i))]
    return []


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
        doc = load_file(path, keep=nothing_secret)
    except PlaybookError as e:
        e.show_source = False  # the line could be a secret written in the wrong place
        raise
    validate_against(ENV_SCHEMA, doc, what="environment file", echo=False)
    data = doc.data
    secrets_file = None
    if data.get("secrets_file"):
        secrets_file = (path.parent / os.path.expanduser(data["secrets_file"])).resolve()
    age_identity = None
    if data.get("age_identity"):
        age_identity = (path.parent / os.path.expanduser(data["age_identity"])).resolve()
    environment = Environment(
        name=path.stem, source=str(path), sandbox=bool(data.get("sandbox", False)),
        simulators=data.get("simulators") or {}, connectors=data.get("connectors") or {},
        secret_refs={k: v["secret"] for k, v in (data.get("secrets") or {}).items()},
        secrets_file=secrets_file, doc=doc, notify=read_targets(data.get("notify"), doc),
        age_identity=age_identity, callbacks=data.get("callbacks") or {},
        limits_redis=(data.get("limits") or {}).get("redis"),
    )
    environment._places.update((id(ref), str(doc.loc(where))) for ref, where in
                               _source_refs(data))
    return environment
