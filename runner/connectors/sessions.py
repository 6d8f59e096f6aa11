"""The connector clients of one run, or of ``runner plan``, from where their settings come.

A client's settings are, in order, the connector's defaults, the playbook's ``settings:``,
then the environment's (or the sandbox's simulators); a secret setting must be a secret
reference there, required settings must be set (an alias with no block is named), and the base
URL is checked before anything is sent. ``{env: NAME}`` is read in both; whatever a
``{secret: NAME}`` gave is masked, a base URL only in its ``user:password@``. A playbook
setting may be a template over the run's inputs (the loader allows nothing else): rendered
here, once per client, and masked when it reads a secret input, a base URL again only in its
``user:password@``; what it renders to is a value, never read as ``{env:}`` or rendered again.
``runner plan`` builds its clients the same way, with what only a run can know (secrets, a
sandbox's URLs, an unset variable, an input not given) shown as placeholders.

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
from runner.template_compile import TemplateFailure, compile_template, is_template
from runner.templating import SECRET_INPUTS, Renderer, reads_secret

# what a setting's template reads: the run's inputs, and the names of the secret ones
NO_INPUTS: Mapping[str, Any] = {"inputs": {}, SECRET_INPUTS: frozenset()}


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
    @property
    def places(self) -> Mapping[str, Location]: ...


class Simulators(Protocol):
    """The simulators of a sandbox run (:class:`runner.sandbox.Sandbox`)."""

    def start(self, names: Iterable[str]) -> object: ...
    def settings(self, name: str) -> dict[str, Any]: ...


def connect(ref: ConnectorRef, env: Environment, sandbox: Simulators | None,
            redactor: Redactor, scope: Mapping[str, Any] = NO_INPUTS) -> ConnectorClient:
    """The client a run talks to connector ``ref`` with (a sandbox starts its simulator);
    ``scope`` is what the playbook's setting templates read (``inputs``, :data:`SECRET_INPUTS`)."""
    alias = ref.alias
    spec = registry.get(ref.use)
    settings: dict[str, Any] = {k: s.default for k, s in spec.settings.items()
                                if s.default is not None}
    settings.update({k: _from_playbook(ref, k, v, scope, redactor, f"{alias}.{k}")
                     for k, v in ref.settings.items()})
    if sandbox is not None:
        sandbox.start([ref.use])
        settings.update(sandbox.settings(ref.use))
    else:
        for key, value in env.settings_for(alias, ref.use).items():
            s = spec.settings.get(key)
            if s is not None and s.secret and not is_secret_ref(value):
                env.forget_parse()
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
    _check_numbers(settings, env, ref)
    redis = None
    if env.limits_redis is not None:  # its password is a secret; its host is not
        redis = str(env.resolve(env.limits_redis, "limits.redis"))
        _register_secrets(env.limits_redis, redis, redactor)
    return ConnectorClient(alias, spec, settings, redactor,
                           limits=env.limits_for(alias, ref.use), limits_redis=redis)


# the generic settings that are numbers: the client would fail on anything else, as a crash
NUMBERS = {"connect_timeout": float, "read_timeout": float, "max_response_bytes": int}


def _check_numbers(settings: Mapping[str, Any], env: Environment, ref: ConnectorRef) -> None:
    """A timeout or a size limit that is not a number above 0 (``{env:}`` gives text: "30"
    is one), named with where it was set: it may come from an input, or a variable."""
    for key, kind in NUMBERS.items():
        value = settings.get(key)
        if value is None or getattr(value, "is_placeholder", False):
            continue
        try:
            ok = not isinstance(value, bool) and kind(value) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            shown = "a value that is not a number" if isinstance(value, str) else \
                repr(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
                else f"a {type(value).__name__}"
            raise InvalidInput(f"{setting_origin(env, ref, key)}: connectors.{ref.alias}.{key} "
                               f"must be {'an integer' if kind is int else 'a number'} above 0,"
                               f" got {shown}", hint=f"write {key}: 30 (seconds) or set it "
                               "from an input or a variable that holds one"
                               if kind is float else f"write {key}: 10000000 (bytes)")


def _register_secrets(raw: Any, value: Any, redactor: Redactor) -> None:
    """Register what ``{secret: NAME}`` references (in a mapping's values too) resolved to."""
    if is_secret_ref(raw):
        redactor.add(value)
    elif isinstance(raw, dict) and isinstance(value, dict):
        for k, v in raw.items():
            _register_secrets(v, value.get(k), redactor)


def _from_playbook(ref: ConnectorRef, key: str, value: Any, scope: Mapping[str, Any],
                   redactor: Redactor, what: str) -> Any:
    """A playbook setting, with ``{env: NAME}`` read and templates rendered (in a mapping's
    values too). One walk: what a template renders to is not walked again, so an input's value
    that looks like ``{env: HOME}`` stays a value."""
    if is_env_ref(value):
        return lookup_env(value, what)
    if isinstance(value, dict):
        return {k: _from_playbook(ref, key, v, scope, redactor, f"{what}.{k}")
                for k, v in value.items()}
    if isinstance(value, list):
        return [_from_playbook(ref, key, v, scope, redactor, what) for v in value]
    if isinstance(value, str) and is_template(value):
        return _rendered(ref, key, value, scope, redactor)
    return value


def _rendered(ref: ConnectorRef, key: str, template: str, scope: Mapping[str, Any],
              redactor: Redactor) -> Any:
    """A setting's template over the run's inputs. One that reads a secret input is a secret
    (its text, and what templating registers of it), but a base URL: its host is not a secret,
    only its ``user:password@`` is (check_base_url registers it; the input itself is already)."""
    where = f"{ref.places.get(key, ref.location)}: connectors.{ref.alias}.settings.{key}"
    unset = sorted((compile_template(template).inputs_read or frozenset())
                   - set(scope.get("inputs", {})))
    if unset:  # an optional input with no default, not given
        raise InvalidInput(f"{where} reads input '{unset[0]}', which this run has no value for",
                           hint=f"give it with -i {unset[0]}=..., or a default: under "
                           f"inputs.{unset[0]}")
    secret = key != "base_url" and reads_secret(template, scope.get(SECRET_INPUTS, ()))
    try:
        value = Renderer(on_secret=redactor.add if secret else None).render(template, scope)
    except TemplateFailure as e:  # a filter failed on an input's value
        raise InvalidInput(redactor.redact(f"{where}: {e}"),
                           hint="settings are rendered when the run starts, from its inputs: "
                           "check the values given with -i") from None
    if secret and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        redactor.add(str(value))  # the whole setting, not only its secret parts
    return value


def _reads_placeholder(value: Any, scope: Mapping[str, Any]) -> bool:
    """Whether a template reads an input ``runner plan`` was not given (a placeholder, or
    absent: an optional one with no default)."""
    if not (isinstance(value, str) and is_template(value)):
        return False
    read = compile_template(value).inputs_read or ()
    inputs = scope.get("inputs", {})
    return any(name not in inputs or getattr(inputs[name], "is_placeholder", False)
               for name in read)


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
                     unknown: Callable[[str], Any],
                     scope: Mapping[str, Any] = NO_INPUTS) -> ConnectorClient:
    """The client ``runner plan`` prepares calls with: nothing is started or sent; a secret,
    an unset setting, an input not given and a sandbox's URL are ``unknown(name)``
    placeholders (a template renders an input not given as its placeholder)."""
    alias = ref.alias
    spec = registry.get(ref.use)
    settings: dict[str, Any] = {k: s.default for k, s in spec.settings.items()
                                if s.default is not None}
    settings.update({k: _planned(ref, k, v, unknown, scope, redactor)
                     for k, v in ref.settings.items()})
    # a secret's, an unset variable's or an input's value is not known yet: nothing to check
    unsure = _reads_placeholder(ref.settings.get("base_url"), scope)
    if env.sandbox:
        settings["base_url"] = f"http://sandbox.{ref.use}"
    else:
        for key, value in env.settings_for(alias, ref.use).items():
            declared = spec.settings.get(key) is not None and spec.settings[key].secret
            if declared and not is_secret_ref(value):
                env.forget_parse()  # ``runner run`` refuses it; plan masks it
            secret = is_secret_ref(value) or declared
            settings[key] = unknown(f"secret:{key}") if secret else \
                _planned_env(env, key, value, unknown)
            if key == "base_url":
                unsure = bool(secret)
        unsure |= getattr(settings.get("base_url"), "is_placeholder", False)
        if not unsure:
            check_base_url(settings.get("base_url"), setting=f"connectors.{alias}.base_url",
                           origin=setting_origin(env, ref, "base_url"), redactor=redactor)
    for key in spec.settings:
        settings.setdefault(key, unknown(f"setting:{key}"))
    _check_numbers(settings, env, ref)
    for key in NUMBERS:  # not known yet (an input not given): nothing is sent, any will do
        if getattr(settings.get(key), "is_placeholder", False):
            del settings[key]
    return ConnectorClient(alias, spec, settings, redactor)


def _planned(ref: ConnectorRef, key: str, value: Any, unknown: Callable[[str], Any],
             scope: Mapping[str, Any], redactor: Redactor) -> Any:
    """A setting as ``runner plan`` shows it: ``{env: NAME}`` read if it is set, a placeholder
    if not (a secret inside a mapping, too); a template rendered as a run would, or, when it
    reads an input not given and cannot render around its placeholder, a placeholder."""
    if _has_secret(value):
        return unknown(f"secret:{key}")
    if is_env_ref(value):
        try:
            return lookup_env(value, key)
        except InvalidInput:
            return unknown(f"env:{key}")
    if isinstance(value, dict):
        return {k: _planned(ref, key, v, unknown, scope, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [_planned(ref, key, v, unknown, scope, redactor) for v in value]
    if isinstance(value, str) and is_template(value):
        try:
            return _rendered(ref, key, value, scope, redactor)
        except InvalidInput:
            if not _reads_placeholder(value, scope):
                raise  # the inputs given fail it: the run would fail so too
            return unknown(f"setting:{key}")
    return value


def _planned_env(env: Environment, key: str, value: Any, unknown: Callable[[str], Any]) -> Any:
    """An environment file's setting as ``runner plan`` shows it (no template there: its
    values are never rendered, at run time neither)."""
    if _has_secret(value):
        return unknown(f"secret:{key}")
    try:
        return env.resolve(value, key)
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
        return str(ref.places.get(key, ref.location))
    return f"the default of connector {ref.use}"
