"""The connector clients of one run, or of ``runner plan``, from where their settings come.

A client's settings are, in order, the connector's defaults, the playbook's ``settings:``,
then the environment's (or the sandbox's simulators); a secret setting must be a secret
reference there, required settings must be set, and the base URL is checked before anything
is sent. ``runner plan`` builds its clients the same way, with what only a run can know
(secrets, a sandbox's URLs) shown as placeholders.

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
from runner.environment import Environment
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
    settings.update(ref.settings)
    if sandbox is not None:
        sandbox.start([ref.use])
        settings.update(sandbox.settings(ref.use))
    else:
        for key, value in env.settings_for(alias, ref.use).items():
            s = spec.settings.get(key)
            if s is not None and s.secret and not isinstance(value, dict):
                loc = env.doc.loc(("connectors", alias, key)) if env.doc else ""
                raise InvalidInput(f"{loc}: '{key}' is a secret and must not be written in "
                                   "the environment file",
                                   hint=f"write {key}: {{secret: ENV_VAR_NAME}} and export it")
            settings[key] = env.resolve(value, f"{alias}.{key}")
    missing = [k for k, s in spec.settings.items() if s.required and k not in settings]
    if missing:
        where = env.source or "the environment"
        raise InvalidInput(f"connector '{alias}' ({ref.use}) needs setting '{missing[0]}'",
                           hint=f"set connectors.{alias}.{missing[0]} in {where}, "
                           "or run with --env sandbox")
    check_base_url(settings.get("base_url"), setting=f"connectors.{alias}.base_url",
                   origin=setting_origin(env, ref, "base_url"), redactor=redactor)
    return ConnectorClient(alias, spec, settings, redactor)


def connect_for_plan(ref: ConnectorRef, env: Environment, redactor: Redactor,
                     unknown: Callable[[str], Any]) -> ConnectorClient:
    """The client ``runner plan`` prepares calls with: nothing is started or sent; a secret,
    an unset setting and a sandbox's URL are ``unknown(name)`` placeholders."""
    alias = ref.alias
    spec = registry.get(ref.use)
    settings: dict[str, Any] = {k: s.default for k, s in spec.settings.items()
                                if s.default is not None}
    settings.update(ref.settings)
    if env.sandbox:
        settings["base_url"] = f"http://sandbox.{ref.use}"
    else:
        secret_base_url = False  # a secret's value is not known before the run
        for key, value in env.settings_for(alias, ref.use).items():
            secret = isinstance(value, dict) or (spec.settings.get(key) and
                                                 spec.settings[key].secret)
            settings[key] = unknown(f"secret:{key}") if secret else value
            secret_base_url |= bool(secret) and key == "base_url"
        if not secret_base_url:
            check_base_url(settings.get("base_url"), setting=f"connectors.{alias}.base_url",
                           origin=setting_origin(env, ref, "base_url"), redactor=redactor)
    for key in spec.settings:
        settings.setdefault(key, unknown(f"setting:{key}"))
    return ConnectorClient(alias, spec, settings, redactor)


def setting_origin(env: Environment, ref: ConnectorRef, key: str) -> str:
    """Where a connector setting was set: the environment file's line, the playbook's, or the
    connector's default."""
    name = ref.alias if env.connectors.get(ref.alias) else ref.use  # as settings_for reads
    if key in (env.connectors.get(name) or {}) and env.doc is not None:
        return str(env.doc.loc(("connectors", name, key)))
    if key in ref.settings:
        return str(ref.location)
    return f"the default of connector {ref.use}"
