"""The connector clients of one run, or of ``runner plan``, from where their settings come.

A client's settings are, in order, the connector's defaults, the playbook's ``settings:``,
then the environment's (or the sandbox's simulators); a secret setting must be a secret
reference there, required settings must be set (an alias with no block is named), and the base
URL is checked before anything is sent. ``{env: NAME}`` is read in both; whatever a
``{secret: NAME}`` gave is masked, a base URL only in its ``user:password@``. ``runner plan``
builds its clients the same way, with what only a run can know (secrets, a sandbox's URLs, an
unset variable) shown as placeholders.

What it reads of the playbook's connector entry and of the sandbox is drawn here as two small
Protocols, so the connectors package imports neither the playbook model nor the sandbox: both
sit above it (the model holds compiled extractions, which read connector answers; the sandbox
finds simulators through the registry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from runner.connectors import registry
from runner.connectors.base_url import check_base_url
from runner.connectors.client import ConnectorClient
from runner.environment import Environment, is_env_ref, is_secret_ref, lookup_env
from runner.errors import InvalidInput, Location
from runner.secrets import Redactor


class ConnectorRef(Protocol):
    """A playbook's ``connectors:`` entry (:class:`runner.model.ConnectorRef`)."""

    @property
    def alias(self) -> str: ...
    @property
    def use(self) -> str: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...
    @property
    def location(self) -> Location: ...


class Simulators(Protocol):
    """The simulators of a sandbox run (:class:`runner.sandbox.Sandbox`)."""

    def start(self, names: Iterable[str]) -> object: ...
    def settings(self, name: str) -> dict[str, Any]: ...


def connect(ref: ConnectorRef, env: Environment, sandbox: Simulators | None,
            redactor: Redactor) -> ConnectorClient:
    """The client a run talks to connector ``ref`` with (a sandbox starts its simulator)."""
    alias = ref.alias
    spec = registry.get(ref.use)
    settings: dict[str, Any] = {k: s.default for k, s in spec.settings.items()
                                if s.default is not None}
    settings.update({k: _from_env(v, f"{alias}.{k}") for k, v in ref.settings.items()})
    if sandbox is not None:
        sandbox.start([ref.use])
        settings.update(sandbox.settings(ref.use))
    else:
        for key, value in env.settings_for(alias, ref.use).items():
            s = spec.settings.get(key)
            if s is not None and s.secret and not is_secret_ref(value):
                loc = env.doc.loc(("connectors", alias, key)) if env.doc else ""
                raise InvalidInput(f"{loc}: '{key}' is a secret and must not be written in "
                                   "the environment file",
                                   hint=f"write {key}: {{secret: ENV_VAR_NAME}} and export it")
            settings[key] = env.resolve(value, f"{alias}.{key}")
            if key != "base_url":
                # a secret by the user's word, declared so or not; a base URL's host is not a
                # secret: only its user:password@ is (check_base_url registers it)
                _register_secrets(value, settings[key], redactor)
    missing = [k for k, s in spec.settings.items() if s.required and k not in settings]
    if missing:
        message, hint = _missing(ref, env, missing[0])
        raise InvalidInput(message, hint=hint)
    check_base_url(settings.get("base_url"), setting=f"connectors.{alias}.base_url",
                   origin=setting_origin(env, ref, "base_url"), redactor=redactor)
    return ConnectorClient(alias, spec, settings, redactor)


def _register_secrets(raw: Any, value: Any, redactor: Redactor) -> None:
    """Register what ``{secret: NAME}`` references (in a mapping's values too) resolved to."""
    if is_secret_ref(raw):
        redactor.add(value)
    elif isinstance(raw, dict) and isinstance(value, dict):
        for k, v in raw.items():
            _register_secrets(v, value.get(k), redactor)


def _from_env(value: Any, what: str) -> Any:
    """A playbook setting, with ``{env: NAME}`` (in a mapping's values too) read."""
    if is_env_ref(value):
        return lookup_env(value, what)
    if isinstance(value, dict):
        return {k: _from_env(v, f"{what}.{k}") for k, v in value.items()}
    return value


def _missing(ref: ConnectorRef, env: Environment, key: str) -> tuple[str, str]:
    """The error and hint for a required setting that is not set: naming the alias that has
    no block in the environment file when that is why."""
    alias, use = ref.alias, ref.use
    where = env.source or "the environment"
    if env.source and env.settings_key(alias, use) is None:
        also = f" (or connectors.{use}:, shared by every alias of {use})" if alias != use else ""
        return (f"connector '{alias}' ({use}) has no settings in {where}",
                f"add connectors.{alias}:{also} with {key}: ..., or run with --env sandbox")
    return (f"connector '{alias}' ({use}) needs setting '{key}'",
            f"set connectors.{alias}.{key} in {where}, or run with --env sandbox")


def connect_for_plan(ref: ConnectorRef, env: Environment, redactor: Redactor,
                     unknown: Callable[[str], Any]) -> ConnectorClient:
    """The client ``runner plan`` prepares calls with: nothing is started or sent; a secret,
    an unset setting and a sandbox's URL are ``unknown(name)`` placeholders."""
    alias = ref.alias
    spec = registry.get(ref.use)
    settings: dict[str, Any] = {k: s.default for k, s in spec.settings.items()
                                if s.default is not None}
    settings.update({k: _planned(v, k, unknown) for k, v in ref.settings.items()})
    if env.sandbox:
        settings["base_url"] = f"http://sandbox.{ref.use}"
    else:
        secret_base_url = False  # a secret's (or an unset variable's) value is not known yet
        for key, value in env.settings_for(alias, ref.use).items():
            secret = is_secret_ref(value) or (spec.settings.get(key) and
                                              spec.settings[key].secret)
            settings[key] = unknown(f"secret:{key}") if secret else _planned(value, key, unknown)
            secret_base_url |= key == "base_url" and (bool(secret) or (
                is_env_ref(value) and settings[key] == unknown(f"env:{key}")))
        if not secret_base_url:
            check_base_url(settings.get("base_url"), setting=f"connectors.{alias}.base_url",
                           origin=setting_origin(env, ref, "base_url"), redactor=redactor)
    for key in spec.settings:
        settings.setdefault(key, unknown(f"setting:{key}"))
    return ConnectorClient(alias, spec, settings, redactor)


def _planned(value: Any, key: str, unknown: Callable[[str], Any]) -> Any:
    """A setting as ``runner plan`` shows it: ``{env: NAME}`` read if it is set, a placeholder
    if not (a secret inside a mapping, too)."""
    try:
        return _from_env(value, key) if not _has_secret(value) else unknown(f"secret:{key}")
    except InvalidInput:
        return unknown(f"env:{key}")


def _has_secret(value: Any) -> bool:
    return is_secret_ref(value) or (isinstance(value, dict) and
                                    any(is_secret_ref(v) for v in value.values()))


def setting_origin(env: Environment, ref: ConnectorRef, key: str) -> str:
    """Where a connector setting was set: the environment file's line, the playbook's, or the
    connector's default."""
    name = env.settings_key(ref.alias, ref.use)
    if name and key in env.connectors[name] and env.doc is not None:
        return str(env.doc.loc(("connectors", name, key)))
    if key in ref.settings:
        return str(ref.location)
    return f"the default of connector {ref.use}"
