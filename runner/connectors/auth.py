"""Auth as a flow: a scheme is a generator that yields the requests to send and is sent the
answers (httpx's ``auth_flow`` idea), so it needs no client and sends nothing itself.

``flow(call)`` yields ``call`` with credentials added, and before it any login the credentials
need; the client sends what is yielded and sends the answer back. A yielded request that is not
``call`` is a login: the client sends it without auth, under the connector's retry policy, and
records it for the report. ``login_flow(force)`` is the same without a call (the ``auth`` step).

none      nothing is added
bearer    ``token`` (a template, usually a secret setting) as ``Authorization``
api_key   ``header`` set to ``value`` (a template) on every call, or with ``in: query`` the
          query parameter ``name`` (default ``api_key``)
basic     ``username`` and ``password`` (templates) as HTTP Basic (RFC 7617)
signed    the connector's hooks sign each request (MOR's SHA1 hash); nothing to add here
The schemes that log in (``token``, ``oauth2_client_credentials``) are in
:mod:`runner.connectors.token_auth`, ``digest`` (a challenge, then the answer) in
:mod:`runner.connectors.digest_auth`, the scheme the settings choose (``use: http``) in
:mod:`runner.connectors.chosen_auth`; :mod:`runner.connectors.schemes` names them all.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.connectors.http import PreparedCall
    from runner.connectors.response import Response

# what a scheme yields (a request to send), what it is sent back (that request's answer)
AuthFlow = Generator["PreparedCall", "Response", None]


@dataclass(frozen=True)
class AuthContext:
    """What a scheme may use of its connector: values and callables, not the client."""

    alias: str
    settings: Mapping[str, Any]
    render: Callable[[Any], Any]  # a template over the settings (``{{ settings.token }}``)
    secret: Callable[[Any], None]  # registers a value with the run's redactor
    operation: Callable[[str], PreparedCall]  # one of the connector's operations, as a call


class Auth:
    renew_on: tuple[int, ...] = ()

    def __init__(self, conf: Mapping[str, Any], ctx: AuthContext) -> None:
        self.conf = conf
        self.ctx = ctx
        self.renew_on = tuple(conf.get("renew_on", self.renew_on))

    def flow(self, call: PreparedCall) -> AuthFlow:
        """Yield ``call`` with credentials (and any login before it)."""
        self.authorize(call)
        yield call

    def login_flow(self, *, force: bool = False) -> AuthFlow:
        """Yield the login the scheme needs now, if any (``force``: even with a valid token)."""
        yield from ()

    def authorize(self, call: PreparedCall) -> None:
        """Add what needs no login to ``call``."""

    def answered(self, call: PreparedCall, response: Response) -> None:
        """Every answer of the connector, before anything records it: a scheme whose login
        a playbook may call itself registers the token such an answer carries."""


class NoAuth(Auth):
    pass


class HeaderAuth(Auth):
    """``bearer`` and ``api_key``: a header (or query parameter) whose value comes from
    settings."""

    def authorize(self, call: PreparedCall) -> None:
        if self.conf["scheme"] == "bearer":
            token = self.ctx.render(self.conf.get("token", "{{ settings.token }}"))
            self.ctx.secret(token)
            call.headers[self.conf.get("header", "Authorization")] = f"Bearer {token}"
        elif self.conf.get("in") == "query":
            value = self.ctx.render(self.conf["value"])
            self.ctx.secret(value)
            call.query[self.conf.get("name", "api_key")] = value
        else:
            value = self.ctx.render(self.conf["value"])
            self.ctx.secret(value)
            call.headers[self.conf.get("header", "X-API-Key")] = value


class BasicAuth(Auth):
    """``basic``: the user and password on every call, as requests' ``HTTPBasicAuth`` sends
    them (UTF-8, base64)."""

    def authorize(self, call: PreparedCall) -> None:
        user, password = credentials(self)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.ctx.secret(token)
        call.headers["Authorization"] = f"Basic {token}"


def credentials(auth: Auth) -> tuple[str, str]:
    """The ``username`` and ``password`` templates of ``basic`` and ``digest``, rendered; the
    password is registered as a secret."""
    user = str(auth.ctx.render(auth.conf.get("username", "{{ settings.username }}")))
    password = str(auth.ctx.render(auth.conf.get("password", "{{ settings.password }}")))
    auth.ctx.secret(password)
    return user, password


class SignedAuth(Auth):
    """The connector's hooks sign each request (``Hooks.prepare``); nothing to add or obtain."""
