"""A connector bound to one run: its settings, its HTTP session, its auth state, its hooks.

``prepare`` turns an operation and its parameters into a :class:`PreparedCall` (nothing sent;
``plan`` stops there). ``send`` drives the auth scheme's flow (:mod:`runner.connectors.auth`:
the scheme yields the login it needs and the call with credentials, the client sends each and
hands the answer back, so a renewal after a refusal is the scheme's choice), lets hooks sign
each request, sends it, decodes the answer and recognises vendor errors (HTTP status, connector
``errors`` rules, hooks).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from runner.connectors.auth import Auth, AuthContext, AuthFlow
from runner.connectors.hooks import Hooks
from runner.connectors.http import MAX_BYTES, NO_BODY, PreparedCall, Transport
from runner.connectors.outcome import NotApplied
from runner.connectors.response import Response
from runner.connectors.retry import RetryPolicy, Sleep
from runner.connectors.schemes import SCHEMES
from runner.connectors.spec import ConnectorSpec, Operation
from runner.errors import InvalidInput, StepFailed, TransportError
from runner.secrets import Redactor
from runner.templating import Renderer, TemplateFailure


class ConnectorClient:
    def __init__(self, alias: str, spec: ConnectorSpec, settings: Mapping[str, Any],
                 redactor: Redactor, transport: Transport | None = None) -> None:
        self.alias = alias
        self.spec = spec
        self.settings = dict(settings)
        self.redactor = redactor
        self.renderer = Renderer()
        t = spec.timeouts
        self.transport = transport or Transport(
            connect_timeout=float(self.settings.get("connect_timeout", t["connect"])),
            read_timeout=float(self.settings.get("read_timeout", t["read"])),
            verify=self.settings.get("verify_tls", True),
            max_bytes=int(self.settings.get("max_response_bytes", MAX_BYTES)),
        )
        self.hooks: Hooks = (spec.hooks or Hooks)(self.settings, redactor.add)
        self.auth: Auth = SCHEMES[spec.auth_scheme](dict(spec.auth), AuthContext(
            alias, self.settings, self.render_setting, redactor.add,
            lambda operation: self.prepare(operation, {})))
        self.last_login: tuple[PreparedCall, Response] | None = None
        self.retry = RetryPolicy.from_conf(spec.retry)
        for name, s in spec.settings.items():
            if s.secret:
                redactor.add(self.settings.get(name))

    def close(self) -> None:
        self.transport.close()

    @property
    def base_url(self) -> str:
        return str(self.settings.get("base_url", "")).rstrip("/")

    def render_setting(self, template: Any) -> Any:
        try:
            return self.renderer.render(template, {"settings": self.settings})
        except TemplateFailure as e:
            raise InvalidInput(f"connector '{self.alias}': {e}",
                               hint="check the connector's settings in the environment file"
                               ) from None
    # -- building requests ---------------------------------------------------------------
    def check_params(self, op: Operation, params: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters with defaults filled in; raises StepFailed for a missing or wrong one."""
        unknown = [k for k in params if k not in op.params]
        if unknown:
            known = ", ".join(op.params) or "none"
            raise StepFailed(f"{self.alias}.{op.name} has no parameter '{unknown[0]}'",
                             hint=f"its parameters: {known}")
        out: dict[str, Any] = {}
        for name, p in op.params.items():
            if name in params:
                value = params[name]
                if not p.accepts(value):
                    raise StepFailed(
                        f"{self.alias}.{op.name}: parameter '{name}' must be a {p.type}, "
                        f"got {type(value).__name__} {value!r}")
                if p.enum and value not in p.enum:
                    raise StepFailed(f"{self.alias}.{op.name}: parameter '{name}' must be one "
                                     f"of {list(p.enum)}, got {value!r}")
                out[name] = value
            elif p.has_default:
                out[name] = p.default
            elif p.required:
                raise StepFailed(f"{self.alias}.{op.name}: missing required parameter '{name}'",
                                 hint=f"add it under with: ({name}: ...)")
            if p.secret and name in out:
                self.redactor.add(out[name])
        return out

    def prepare(self, op_name: str, params: Mapping[str, Any]) -> PreparedCall:
        op = self.spec.operations[op_name]
        values = self.check_params(op, params)
        ctx = {"settings": self.settings, "params": values, **values}
        try:
            render = self.renderer.render
            path = render(op.path, ctx)
            call = PreparedCall(
                connector=self.alias, operation=op.name, method=op.method,
                url=self.base_url + str(path), safe=op.safe, needs_auth=op.auth,
                decode=op.decode or self.spec.decode, success=op.success,
                headers={**render(dict(self.spec.headers), ctx), **render(dict(op.headers), ctx)},
            )
            if op.query is not None:
                call.query.update(render(dict(op.query), ctx))
            if op.has_json:
                call.json = render(op.json, ctx)
            if op.form is not None:
                call.form = render(dict(op.form), ctx)
        except TemplateFailure as e:
            raise StepFailed(f"{self.alias}.{op.name}: {e}") from None
        for name, p in op.params.items():
            if name not in values:
                continue
            v = values[name]
            if p.location == "query" and op.query is None:
                call.query[name] = v
            elif p.location == "json" and not op.has_json:
                call.json = {} if call.json is NO_BODY else call.json
                call.json[name] = v
            elif p.location == "form" and op.form is None:
                call.form = call.form or {}
                call.form[name] = v
            elif p.location == "path":
                call.url = call.url.replace("{" + name + "}", quote(str(v), safe=""))
            elif p.location == "header":
                call.headers[name] = str(v)
        return call

    def prepare_raw(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                    headers: Mapping[str, str] | None = None, json: Any = NO_BODY,
                    form: Mapping[str, Any] | None = None,
                    safe: bool | None = None) -> PreparedCall:
        from runner.connectors.spec import UNSAFE_METHODS

        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        ctx = {"settings": self.settings}
        return PreparedCall(
            connector=self.alias, operation="", method=method.upper(), url=url,
            query=dict(query or {}),
            headers={**self.renderer.render(dict(self.spec.headers), ctx), **(headers or {})},
            json=json, form=dict(form) if form is not None else None,
            safe=method.upper() not in UNSAFE_METHODS if safe is None else safe,
            decode=self.spec.decode,
        )

    # -- sending -------------------------------------------------------------------------
    def authenticate(self, *, force: bool = False) -> Response | None:
        """Log in now if the scheme needs to (``force``: even with a valid token); the login's
        answer, or None when none was sent."""
        return self._drive(self.auth.login_flow(force=force), None)

    def send(self, call: PreparedCall, *, with_auth: bool = True,
             retry: RetryPolicy | None = None, sleep: Sleep = time.sleep) -> Response:
        """Send with auth, renewal and the retry policy (the connector's unless given)."""
        policy = retry or self.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_authorized(call, with_auth)
            except TransportError as e:
                if attempt < policy.attempts and not e.final \
                        and policy.retry_transport(e.sent, call.safe):
                    wait = policy.delay(attempt)
                    if _in_time(call, wait):
                        sleep(wait)
                        continue
                if attempt > 1:
                    e.message += f" (gave up after {attempt} attempts)"
                raise
            if attempt < policy.attempts and policy.retry_status(
                    response.status_code, call.safe, self.not_applied(call)):
                wait = policy.delay(attempt, response.header("retry-after"))
                if _in_time(call, wait):
                    sleep(wait)
                    continue
            response.attempts = attempt
            return response

    def not_applied(self, call: PreparedCall) -> NotApplied:
        """Which answers prove ``call`` was not applied: its operation's rule, else the
        connector's (a raw call has the connector's)."""
        op = self.spec.operations.get(call.operation) if call.operation else None
        if op is not None and op.not_applied is not None:
            return op.not_applied
        return self.spec.not_applied

    def outcome(self, call: PreparedCall, response: Response) -> str:
        """What ``response`` proves about ``call``: ok, not-applied or unknown."""
        return self.not_applied(call).outcome(response)

    def _send_authorized(self, call: PreparedCall, with_auth: bool) -> Response:
        if not (with_auth and call.needs_auth):
            self.hooks.prepare(call)
            return self._send_once(call)
        response = self._drive(self.auth.flow(call), call)
        assert response is not None  # a flow yields its call
        return response

    def _drive(self, flow: AuthFlow, call: PreparedCall | None) -> Response | None:
        """Send what ``flow`` yields and hand it each answer; the last answer. ``call`` goes
        once (the retries are around the whole flow); anything else is a login, sent without
        auth under the connector's own retry policy and kept for the report (``last_login``).
        The flow is closed on the way out, so a token lock it holds is released."""
        response = None
        try:
            request = next(flow)
            while True:
                if request is call:
                    self.hooks.prepare(call)
                    response = self._send_once(call)
                else:
                    response = self.send(request, with_auth=False)
                    self.last_login = (request, response)
                request = flow.send(response)
        except StopIteration:
            return response
        finally:
            flow.close()

    def _send_once(self, call: PreparedCall) -> Response:
        try:
            response = self.transport.send(call)
        except TransportError as e:
            e.message = f"{call.target}: {e.message}"
            raise
        self.hooks.decode(response)
        response.error = self.vendor_error(response, call.success)
        return response

    def vendor_error(self, response: Response, success: tuple[int, ...] = ()) -> str | None:
        """The vendor's error message for this answer, or None when it is a success."""
        try:
            message = self.hooks.vendor_error(response)
        except TransportError as e:  # an answer the hook cannot read: final, not transient
            return e.message
        if message:
            return message
        ctx = {"response": response}
        for condition, template in self.spec.errors:
            try:
                if self.renderer.evaluate(condition, ctx):
                    return str(self.renderer.render(template, ctx))
            except (TemplateFailure, TransportError):
                continue
        ok = response.status_code in success if success else 200 <= response.status_code < 300
        if not ok:
            text = response.text.strip()
            detail = f": {text[:300]}" if text else ""
            return f"HTTP {response.status_code}{detail}"
        return None


def _in_time(call: PreparedCall, wait: float) -> bool:
    """Whether another try after ``wait`` seconds starts before the call's deadline (a poll's
    timeout): past it, the poll has ended and the retry would outlive it."""
    return call.deadline is None or time.monotonic() + wait < call.deadline
