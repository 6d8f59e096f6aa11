"""``settings``: the auth scheme is chosen by the connector's settings, not by its file.

The generic connector (``use: http``, plugins/http/connector.yaml) declares
``auth: {scheme: settings}``; its ``auth`` setting (in the environment file or the playbook's
``settings:``) names one of :data:`CHOICES`, and the other settings fill it in (each choice's
settings are listed beside it). So one connector file serves any HTTP API, and the choice is
checked when the client is built, at run start, not at the first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runner.connectors.auth import Auth, AuthContext, AuthFlow
from runner.connectors.http import PreparedCall
from runner.connectors.schemes import SCHEMES, scheme_class
from runner.errors import InvalidInput

if TYPE_CHECKING:
    from runner.connectors.response import Response

# choice -> (the scheme's home in SCHEMES, its conf; values are templates over the settings).
# The chosen scheme's module is imported when the client is built: a bearer run loads neither
# digest's nor the token schemes' (runner/connectors/schemes.py)
CHOICES: dict[str, tuple[str, dict[str, Any]]] = {
    "none": (SCHEMES["none"], {}),
    "bearer": (SCHEMES["bearer"], {"scheme": "bearer", "token": "{{ settings.token }}"}),
    "basic": (SCHEMES["basic"], {}),
    "digest": (SCHEMES["digest"], {}),
    "api_key": (SCHEMES["api_key"], {"scheme": "api_key", "value": "{{ settings.api_key }}"}),
    "api_key_query": (SCHEMES["api_key"], {"scheme": "api_key", "in": "query",
                                           "value": "{{ settings.api_key }}"}),
    "oauth2_client_credentials": (SCHEMES["oauth2_client_credentials"], {
        "token_url": "{{ settings.token_url }}"}),
    "login": (SCHEMES["token"], {"operation": "login"}),
}
# a setting that, when set, goes into the chosen scheme's conf under this name
_PASSED = {"api_key_name": ("header", "name"), "token_header": ("header",),
           "token_format": ("format",), "login_token": ("token",),
           "login_expires_in": ("expires_in",), "token_margin": ("margin",)}


class ChosenAuth(Auth):
    def __init__(self, conf: Mapping[str, Any], ctx: AuthContext) -> None:
        super().__init__(conf, ctx)
        setting = str(conf.get("setting", "auth"))
        choice = ctx.settings.get(setting, "none")
        if not isinstance(choice, str) or getattr(choice, "is_placeholder", False):
            # `runner plan`: a value known only at run time
            choice = "none"
        if choice not in CHOICES:
            raise InvalidInput(f"connector '{ctx.alias}': auth '{choice}' is not a scheme "
                               "runner knows", hint=f"set {setting} to one of: "
                               f"{', '.join(CHOICES)}")
        scheme, inner = CHOICES[choice]
        inner = {"scheme": choice, **inner}
        for name, keys in _PASSED.items():
            value = ctx.settings.get(name)
            if value not in (None, ""):
                inner.update(dict.fromkeys(keys, value))
        scope = ctx.settings.get("scope")
        if choice == "oauth2_client_credentials" and scope:
            inner["form"] = {"scope": "{{ settings.scope }}"}
        self.chosen = scheme_class(scheme)(inner, ctx)
        self.renew_on = self.chosen.renew_on

    def flow(self, call: PreparedCall) -> AuthFlow:
        return self.chosen.flow(call)

    def login_flow(self, *, force: bool = False) -> AuthFlow:
        return self.chosen.login_flow(force=force)

    def answered(self, call: PreparedCall, response: Response) -> None:
        self.chosen.answered(call, response)
