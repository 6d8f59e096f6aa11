"""A connector bound to one run: its settings, its HTTP session, its auth state, its hooks.

``prepare`` turns an operation and its parameters into a :class:`PreparedCall` (nothing sent;
``plan`` stops there; :mod:`runner.connectors.calls`). ``send`` drives the auth scheme's flow
(:mod:`runner.connectors.auth`: the scheme yields the login it needs and the call with
credentials, the client sends each and hands the answer back, so a renewal after a refusal is
the scheme's choice), lets hooks sign each request, sends it under the retry policy, decodes
the answer and recognises vendor errors (HTTP status, connector ``errors`` rules, hooks).
Every request passes the connector's gate (:mod:`runner.connectors.gates`: its limits, its
pause after a ``Retry-After``, its breaker) on its way out; what it waited there is counted per
thread (:meth:`ConnectorClient.waited`), for the step's record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from runner import tracing
from runner.connectors.auth import Auth, AuthContext, AuthFlow
from runner.connectors.calls import CallBuilder
from runner.connectors.foreign import not_the_vendors
from runner.connectors.gates import gate_for
from runner.connectors.hooks import Hooks
from runner.connectors.http import MAX_BYTES, PreparedCall, Transport
from runner.connectors.limits import merged
from runner.connectors.outcome import NotApplied
from runner.connectors.response import Response
from runner.connectors.retry import RetryPolicy, Sleep, retry_after
from runner.connectors.schemes import scheme
from runner.connectors.spec import ConnectorSpec
from runner.errors import StepFailed, TransportError
from runner.secrets import Redactor
from runner.template_compile import TemplateFailure


class ConnectorClient(CallBuilder):
    def __init__(self, alias: str, spec: ConnectorSpec, settings: Mapping[str, Any],
                 redactor: Redactor, transport: Transport | None = None, *,
                 limits: Mapping[str, Any] | None = None, limits_redis: str | None = None
                 ) -> None:
        super().__init__(alias, spec, settings, redactor)
        t, get = spec.timeouts, self.settings.get
        self.transport = transport or Transport(
            connect_timeout=float(get("connect_timeout", t["connect"])),
            read_timeout=float(get("read_timeout", t["read"])),
            verify=get("verify_tls", True),
            max_bytes=int(get("max_response_bytes", MAX_BYTES)),
            follow_redirects=flag(get("follow_redirects", True)),
            cookies=flag(get("cookies", True)),
            ca_bundle=_path(get("ca_bundle")), client_cert=_path(get("client_cert")),
            client_key=_path(get("client_key")),
        )
        self.hooks: Hooks = (spec.hooks or Hooks)(self.settings, redactor.add)
        self.auth: Auth = scheme(spec.auth_scheme)(dict(spec.auth), AuthContext(
            alias, self.settings, self.render_setting, redactor.add,
            lambda operation: self.prepare(operation, {})))
        self.last_login: tuple[PreparedCall, Response] | None = None
        self.retry = RetryPolicy.from_conf(spec.retry)
        # the file's limits with the environment's over them; the gate is the process's
        self.gate = gate_for(spec.name, self.base_url, merged(spec.limits, limits), limits_redis)
        self._per = self.gate.limits.per if self.gate.limits is not None else None
        self._here = threading.local()  # this thread's: seconds waited at the gate, its sleep
        for name, s in spec.settings.items():
            if s.secret:
                redactor.add(self.settings.get(name))

    def close(self) -> None:
        self.transport.close()
        # the scheme's context holds this client's own methods: a cycle only the cyclic
        # collector frees (a batch collects seldom, runner.batch). Closed, the client is not
        # used again: its scheme goes, and the run's client, transport and pools with the run
        self.auth = _Closed({}, AuthContext(self.alias, {}, _closed, _closed, _closed))

    def authenticate(self, *, force: bool = False) -> Response | None:
        """Log in now if the scheme needs to (``force``: even with a valid token); the login's
        answer, or None when none was sent."""
        return self._drive(self.auth.login_flow(force=force), None)

    def send(self, call: PreparedCall, *, with_auth: bool = True,
             retry: RetryPolicy | None = None, sleep: Sleep = time.sleep) -> Response:
        """Send with auth, renewal and the retry policy (the connector's unless given);
        ``sleep`` also waits at the gate (a run's is interrupted by Ctrl-C)."""
        here = self._here
        outer = getattr(here, "sleep", None)
        here.sleep = sleep if outer is None or sleep is not time.sleep else outer
        try:
            return self._send(call, with_auth, retry, sleep)
        finally:
            here.sleep = outer

    def waited(self) -> float:
        """Seconds this thread has waited at the connector's gate, all calls counted: the
        difference across a send is what that send waited for limits."""
        return float(getattr(self._here, "waited", 0.0))

    def _send(self, call: PreparedCall, with_auth: bool, retry: RetryPolicy | None,
              sleep: Sleep) -> Response:
        policy = retry or self.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                with tracing.attempt(call, attempt, self.redactor) as traced:
                    response = traced.answered(self._send_authorized(call, with_auth))
            except TransportError as e:
                if attempt < policy.attempts and not e.final \
                        and policy.retry_transport(e.sent, call.safe):
                    wait = policy.delay(attempt)
                    if _in_time(call, wait):
                        sleep(wait)
                        continue
                if attempt > 1:
                    e.message += f" (gave up after {attempt} attempts)"
                e.attempts = attempt
                raise
            if response.status_code in (429, 503):  # the vendor says when: every caller waits
                pause = retry_after(response.header("retry-after"), policy.max_delay)
                if pause:
                    self.gate.pause(pause)
            if attempt < policy.attempts and response.status_code not in call.success \
                    and policy.retry_status(response.status_code, call.safe,
                                            self.not_applied(call)):
                # a status the call lists as a success (a step's `status: 503`) is its answer
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
            response: Response | None = self._send_once(call)
        else:
            response = self._drive(self.auth.flow(call), call)
        assert response is not None  # a flow yields its call
        self.auth.answered(call, response)  # a token in it is masked before it is recorded
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
        gate, here = self.gate, self._here
        key = self._limit_key(call) if self._per else ""
        try:
            token, waited = gate.enter(key, getattr(here, "sleep", None) or time.sleep)
        except TransportError as e:  # the breaker is open, or the limits' Redis is away
            e.message = f"{call.target}: {e.message}"
            raise
        if waited:
            here.waited = getattr(here, "waited", 0.0) + waited
        ok: bool | None = None
        kind = ""
        try:
            with tracing.exchange(call, self.redactor) as traced:
                try:
                    response = self.transport.send(call)
                except TransportError as e:
                    ok, kind = False, "no answer"
                    e.message = f"{call.target}: {e.message}"
                    raise
                status = response.status_code
                ok, kind = status < 500, f"HTTP {status}"
                self.hooks.decode(response)
                response.error = self.vendor_error(response, call.success,
                                                   follows=self.transport.follows(call))
                return traced.answered(response)
        finally:
            gate.leave(key, token, ok, kind)

    def _limit_key(self, call: PreparedCall) -> str:
        """The ``per:`` key of ``call``: its template over the settings and the call."""
        assert self._per is not None
        try:
            return str(self.renderer.render(self._per, {
                "settings": self.settings, "operation": call.operation,
                "method": call.method, "connector": self.alias}))
        except TemplateFailure as e:
            raise StepFailed(f"connector '{self.alias}': limits.per: {e}",
                             hint="per: may read settings, operation, method and connector"
                             ) from None

    def vendor_error(self, response: Response, success: tuple[int, ...] = (),
                     follows: bool | None = None) -> str | None:
        """The vendor's error message for this answer, or None when it is a success. A 3xx
        is one when redirects were not followed (``follows``: the call's choice, else the
        connector's): it is the answer asked for."""
        follows = self.transport.follow_redirects if follows is None else follows
        ok = response.status_code in success if success else (
            200 <= response.status_code < 300
            or (300 <= response.status_code < 400 and not follows))
        if ok and success and not 200 <= response.status_code < 300:
            # a listed status outside 2xx (a step's `status: 404` after a DELETE) is the answer
            # asked for: the error rules, written for the bodies of error answers, do not apply
            return None
        if not ok:  # a page that is not the vendor's (a proxy's, a web server's 404)
            foreign = not_the_vendors(response, self.spec.decode)
            if foreign:
                return f"HTTP {response.status_code} from {foreign} — check base_url"
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
        if not ok:
            text = response.text.strip()
            detail = f": {text[:300]}" if text else ""
            return f"HTTP {response.status_code}{detail}"
        return None


def flag(value: Any) -> bool:
    """A yes/no setting as an environment file or variable may write it."""
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "no", "off", "0", "")
    return bool(value)


def _path(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _in_time(call: PreparedCall, wait: float) -> bool:
    """Whether another try after ``wait`` seconds starts before the call's deadline (a poll's
    timeout): past it, the poll has ended and the retry would outlive it."""
    return call.deadline is None or time.monotonic() + wait < call.deadline


def _closed(*_: Any) -> NoReturn:
    raise RuntimeError("a closed connector client was used")


class _Closed(Auth):
    """The scheme of a closed client: any use of it is a bug, and says so."""

    def flow(self, call: PreparedCall) -> AuthFlow:
        _closed()

    def login_flow(self, *, force: bool = False) -> AuthFlow:
        _closed()
