"""A connector's operations turned into requests: parameters checked against the operation
(unknown, missing, of the wrong type or outside its enum: a StepFailed that names them, before
anything is sent) and defaults filled in, templates rendered over the settings and parameters,
each parameter put where it goes (query, JSON body, form, path, header; an operation's ``body:``
template places its own). Nothing is sent here:
``plan`` stops at a :class:`PreparedCall`; :class:`~runner.connectors.client.ConnectorClient`
is a CallBuilder that also sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from runner.connectors.bodies import Multipart, RawBody
from runner.connectors.http import NO_BODY, PreparedCall
from runner.connectors.spec import ConnectorSpec, Operation, safe_by_verb
from runner.connectors.url_join import join_url
from runner.errors import InvalidInput, StepFailed
from runner.secrets import Redactor
from runner.template_compile import TemplateFailure
from runner.templating import Renderer


class CallBuilder:
    def __init__(self, alias: str, spec: ConnectorSpec, settings: Mapping[str, Any],
                 redactor: Redactor) -> None:
        self.alias = alias
        self.spec = spec
        self.settings = dict(settings)
        self.redactor = redactor
        self.renderer = Renderer()
        self._raw_headers: dict[str, str] | None = None  # a raw call's default headers

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

    def default_headers(self, ctx: Mapping[str, Any]) -> dict[str, str]:
        """The connector file's ``headers:`` (templates), then, for a connector that declares a
        ``headers`` setting (``use: http``), that mapping's."""
        out: dict[str, str] = self.renderer.render(dict(self.spec.headers), ctx)
        extra = self.settings.get("headers") if "headers" in self.spec.settings else None
        if isinstance(extra, Mapping):
            out.update({str(k): str(v) for k, v in extra.items()})
        return out

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
                url=join_url(self.base_url, str(path)), safe=op.safe, needs_auth=op.auth,
                decode=op.decode or self.spec.decode, success=op.success,
                headers={**self.default_headers(ctx), **render(dict(op.headers), ctx)},
            )
            if op.query is not None:
                call.query.update(render(dict(op.query), ctx))
            if op.has_json:
                call.json = render(op.json, ctx)
            if op.form is not None:
                call.form = render(dict(op.form), ctx)
            if op.body is not None:  # a SOAP envelope, say: the text as rendered
                call.body = RawBody(text=str(render(op.body, ctx)))
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
                    form: Mapping[str, Any] | None = None, body: RawBody | None = None,
                    multipart: Multipart | None = None,
                    safe: bool | None = None) -> PreparedCall:
        url = join_url(self.base_url, path)
        if self._raw_headers is None:  # over the settings alone: the same for every raw call
            self._raw_headers = self.default_headers({"settings": self.settings})
        return PreparedCall(
            connector=self.alias, operation="", method=method.upper(), url=url,
            query=dict(query or {}),
            headers={**self._raw_headers, **(headers or {})},
            json=json, form=dict(form) if form is not None else None,
            body=body, multipart=multipart,
            safe=safe_by_verb(method) if safe is None else safe,
            decode=self.spec.decode,
        )
