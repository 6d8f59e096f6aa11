"""Load a playbook: YAML -> schema -> checks -> frozen :class:`Playbook`.

Beyond the schema, the checks a schema cannot express, each reported at its file:line:col:
one step kind per step; connectors declared and installed; operations known (with the list of
known ones); parameters known and of the right type when written literally; no secret written
literally in a secret parameter; every template and expression compiles; every name a template
reads is defined by then (an input, an extracted value, a loop variable, a built-in); JSONPath,
XPath and regex expressions parse; included playbooks load, without cycles.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runner.connectors import registry
from runner.connectors.spec import ConnectorSpec
from runner.errors import InvalidInput, NotAPlaybook, PlaybookError
from runner.extract import ExtractError, check_syntax, from_spec
from runner.loader import Document, Path_, load_file, top_level_keys
from runner.model import (
    Assertion,
    CallSpec,
    ConnectorRef,
    InputSpec,
    Playbook,
    PollSpec,
    Step,
    seconds,
)
from runner.playbook_schema import BASE
from runner.steps import KIND_OF_KEY, STEP_KEYS
from runner.templating import (
    ENV,
    TemplateFailure,
    compile_expression,
    compile_template,
    is_template,
)
from runner.validation import describe_path, step_label, validate_against

# settings every connector has, on top of its own
GENERIC_SETTINGS = ("connect_timeout", "read_timeout", "verify_tls", "max_response_bytes")
BUILTIN_NAMES = frozenset({"inputs", "secrets", "steps", "response", "run", "loop"})
RAW_KEYS = ("method", "path", "query", "headers", "json", "form", "safe")
POLL_KEYS = ("fail-if", "every", "timeout", "max-interval", "max-attempts", "backoff")


def load_playbook(path: str | Path, *, root: str | Path | None = None,
                  _stack: tuple[str, ...] = ()) -> Playbook:
    """Load and check the playbook at ``path`` and its includes.

    ``root``: the folder every include must resolve inside (symbolic links followed); by
    default the folder of ``path``. An explicit root must hold ``path`` too.
    """
    file = Path(path)
    if root is None:
        base = file.absolute().parent.resolve()
    else:
        base = Path(root).resolve()
        if not base.is_dir():
            raise InvalidInput(f"--root {root} is not a folder",
                               hint="give the folder that holds the playbooks and their includes")
        if not file.resolve().is_relative_to(base):
            raise InvalidInput(f"{path} is outside the root {base}",
                               hint="pass a --root that holds the playbook and its includes")
    return _load(file, base, _stack)


def _load(file: Path, root: Path, stack: tuple[str, ...]) -> Playbook:
    try:
        doc = load_file(file)
        is_playbook = isinstance(doc.data, dict) and "steps" in doc.data
        validate_against(BASE, doc, echo=is_playbook)
    except PlaybookError as e:
        if e.location is None or e.location.file != str(file) or _is_playbook_text(file):
            raise
        # not a playbook: it may be any file (a .env, a vault), so none of its lines is shown
        raise NotAPlaybook(e.message, location=e.location, hint=e.hint) from None
    return _Builder(doc, root, stack).build()


def _is_playbook_text(file: Path) -> bool:
    """Whether the file has a top-level ``steps:`` (every playbook has), even if it does not
    parse: only then may an error show its lines."""
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "steps" in top_level_keys(text)


class _Builder:
    def __init__(self, doc: Document, root: Path, stack: tuple[str, ...]):
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.root = root
        self.stack = (*stack, str(Path(doc.file).resolve()))
        self.known: set[str] = set(BUILTIN_NAMES)
        self.specs: dict[str, ConnectorSpec] = {}

    # -- errors ---------------------------------------------------------------------------
    def fail(self, path: Path_, message: str, hint: str | None = None) -> PlaybookError:
        return PlaybookError(message, location=self.doc.loc(path),
                             path=describe_path(self.data, path), hint=hint)

    # -- top level ------------------------------------------------------------------------
    def build(self) -> Playbook:
        inputs = {
            name: InputSpec(
                name, raw.get("type"), raw.get("default"), "default" in raw,
                bool(raw.get("required", "default" not in raw)), bool(raw.get("secret", False)),
                raw.get("description", ""), self.doc.loc(("inputs", name)),
            )
            for name, raw in (self.data.get("inputs") or {}).items()
        }
        connectors = {}
        for alias, raw in (self.data.get("connectors") or {}).items():
            try:
                spec = registry.get(raw["use"])
            except PlaybookError:
                raise  # a broken connector file: its own file and line say more
            except InvalidInput as e:
                raise self.fail(("connectors", alias, "use"), e.message, e.hint) from None
            self.specs[alias] = spec
            for key in raw.get("settings") or {}:
                setting = spec.settings.get(key)
                if setting is None and key in GENERIC_SETTINGS:
                    continue
                if setting is None:
                    raise self.fail(("connectors", alias, "settings", key),
                                    f"connector '{spec.name}' has no setting '{key}'",
                                    f"its settings: {', '.join(spec.settings)}")
                if setting.secret:
                    raise self.fail(("connectors", alias, "settings", key),
                                    f"'{key}' is a secret and must not be written in a playbook",
                                    "put it in the environment file as {secret: ENV_VAR_NAME}")
            connectors[alias] = ConnectorRef(alias, raw["use"], raw.get("settings") or {},
                                             self.doc.loc(("connectors", alias)))
        steps = tuple(self.step(raw, i, "steps") for i, raw in enumerate(self.data["steps"]))
        finals = tuple(self.step(raw, i, "finally")
                       for i, raw in enumerate(self.data.get("finally") or []))
        seen: set[str] = set()
        for s in (*steps, *finals):
            if s.id in seen:
                raise self.fail(s.path + ("id",), f"duplicate step id '{s.id}'",
                                "give each step its own id")
            seen.add(s.id)
        outputs = self.data.get("outputs") or {}
        for name, value in outputs.items():
            self.check_templates(value, ("outputs", name))
        return Playbook(
            name=self.data["name"], description=self.data.get("description", ""),
            file=self.doc.file, inputs=inputs, connectors=connectors, steps=steps,
            finally_steps=finals, outputs=outputs, doc=self.doc,
        )

    # -- steps ----------------------------------------------------------------------------
    def step(self, raw: dict[str, Any], index: int, section: str,
             path: Path_ | None = None) -> Step:
        path = path or (section, index)
        kinds = [k for k in STEP_KEYS if k in raw]
        if "poll-until" in kinds and "call" in kinds:
            kinds.remove("call")
        for k in ("extract", "assert"):  # riders on a call or poll
            if k in kinds and ("call" in raw):
                kinds.remove(k)
        if not kinds:
            raise self.fail(path, "the step does nothing",
                            f"give it one of: {', '.join(k for k in STEP_KEYS)}")
        if len(kinds) > 1:
            raise self.fail(path + (kinds[1],), f"a step has one kind, this one has "
                            f"{' and '.join(kinds)}", "split it into two steps")
        kind = KIND_OF_KEY[kinds[0]]
        label = step_label(raw, index, section == "finally")
        step_id = raw.get("id") or f"{'finally' if section == 'finally' else 'step'}{index + 1}"
        loop_var = raw.get("loop_var", "item")
        # names visible inside this step: its loop variable
        scope = set(self.known)
        if "loop" in raw:
            self.check_templates(raw["loop"], path + ("loop",))
            scope |= {loop_var}
        elif "loop_var" in raw or "concurrency" in raw:
            key = "loop_var" if "loop_var" in raw else "concurrency"
            raise self.fail(path + (key,), f"'{key}' only makes sense with loop:")
        saved, self.known = self.known, scope
        try:
            if "when" in raw and isinstance(raw["when"], str):
                self.check_expression(raw["when"], path + ("when",))
            fields: dict[str, Any] = {}
            if kind == "poll" and "call" not in raw:
                raise self.fail(path + ("poll-until",), "poll-until repeats a call, but this "
                                "step has no call:", "add call: connector.operation")
            if kind in ("call", "poll"):
                fields["call"] = self.call_spec(raw, path)
            elif kind == "auth":
                self.alias(raw["auth"], path + ("auth",))
                fields["auth"] = raw["auth"]
            elif kind == "include":
                fields.update(self.include(raw, path))
            if kind not in ("call", "poll", "include"):
                for key in ("with", *RAW_KEYS):
                    if key in raw:
                        raise self.fail(path + (key,), f"'{key}' belongs to a call step")
            if kind != "poll":
                for key in POLL_KEYS:
                    if key in raw:
                        raise self.fail(path + (key,), f"'{key}' belongs to a poll-until step")
            else:
                fields["poll"] = self.poll_spec(raw, path)
            if "extract" in raw and kind == "include":
                raise self.fail(path + ("extract",), "an include step has no answer to extract "
                                "from", f"its outputs are the variable '{step_id}'")
            if "allow-error" in raw and kind not in ("call", "poll"):
                raise self.fail(path + ("allow-error",), "'allow-error' belongs to a call step")
            fields["extract"] = self.extractions(raw.get("extract") or {}, path)
            self.known |= {name for name, _ in fields["extract"]}  # its asserts come after
            fields["asserts"] = self.assertions(raw.get("assert"), path)
            if "resume-check" in raw:
                if kind != "call":
                    raise self.fail(path + ("resume-check",),
                                    "'resume-check' belongs to a call step")
                fields["resume_check"] = self.step(raw["resume-check"], index, section,
                                                   path + ("resume-check",))
        finally:
            self.known = saved
        step = Step(
            index=index, kind=kind, id=step_id, label=label, name=raw.get("name", ""),
            location=self.doc.loc(path), path=path, when=raw.get("when"), loop=raw.get("loop"),
            loop_var=loop_var, concurrency=int(raw.get("concurrency", 1)), retry=raw.get("retry"),
            allow_error=bool(raw.get("allow-error", False)), **fields,
        )
        # what this step defines is visible to the steps after it
        self.known |= {name for name, _ in step.extract}
        if step.include is not None:
            self.known.add(step.id)
        return step

    def alias(self, alias: str, path: Path_) -> ConnectorSpec:
        spec = self.specs.get(alias)
        if spec is None:
            declared = ", ".join(self.specs) or "none"
            close = difflib.get_close_matches(alias, list(self.specs), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise self.fail(path, f"connector '{alias}' is not declared",
                            f"{hint}declare it under connectors: ({alias}: {{use: ...}}); "
                            f"declared: {declared}")
        return spec

    def call_spec(self, raw: dict[str, Any], path: Path_) -> CallSpec:
        target: str = raw["call"]
        alias, _, op_name = target.partition(".")
        spec = self.alias(alias, path + ("call",))
        params = raw.get("with") or {}
        if op_name:
            op = spec.operation(op_name)
            if op is None:
                close = difflib.get_close_matches(op_name, list(spec.operations), n=1)
                hint = (f"did you mean '{close[0]}'? " if close else "") + \
                    f"known operations of {spec.name}: {', '.join(spec.operations)}"
                raise self.fail(path + ("call",), f"unknown operation '{target}'", hint)
            for key in RAW_KEYS:
                if key in raw:
                    raise self.fail(path + (key,), f"'{key}' is for raw calls; "
                                    f"{target} is an operation", "pass parameters under with:")
            for name, value in params.items():
                p = op.params.get(name)
                where = path + ("with", name)
                if p is None:
                    raise self.fail(where, f"{target} has no parameter '{name}'",
                                    f"its parameters: {', '.join(op.params) or 'none'}")
                if isinstance(value, str) and is_template(value):
                    continue
                if not p.accepts(value):
                    raise self.fail(where, f"parameter '{name}' must be a {p.type}, got "
                                    f"{type(value).__name__} {value!r}")
                if p.secret and value not in ("", None):
                    raise self.fail(where, f"'{name}' is a secret and must not be written in "
                                    "a playbook", "use {{ secrets.NAME }} and define NAME in the "
                                    "environment file")
            missing = [n for n, p in op.params.items()
                       if p.required and not p.has_default and n not in params]
            if missing:
                raise self.fail(path + ("with",) if "with" in raw else path + ("call",),
                                f"{target} needs parameter '{missing[0]}'",
                                f"add it under with: ({missing[0]}: ...)")
            self.check_templates(params, path + ("with",))
            return CallSpec(alias, op_name, params)
        if "with" in raw:
            raise self.fail(path + ("with",), f"'with' passes operation parameters; "
                            f"'{target}' is a raw call", "use query:, json:, form:, headers:")
        if "method" not in raw or "path" not in raw:
            ops = ", ".join(f"{alias}.{o}" for o in spec.operations)
            raise self.fail(path + ("call",), f"'{target}' names a connector but no operation",
                            f"write call: {alias}.<operation> ({ops}), or give method: and path:")
        for key in RAW_KEYS:
            if key in raw:
                self.check_templates(raw[key], path + (key,))
        return CallSpec(alias, None, {}, method=raw["method"].upper(), path=raw["path"],
                        query=raw.get("query"), headers=raw.get("headers"), json=raw.get("json"),
                        has_json="json" in raw, form=raw.get("form"), safe=raw.get("safe"))

    def poll_spec(self, raw: dict[str, Any], path: Path_) -> PollSpec:
        # the answer of the call is what poll expressions read
        self.check_expression(raw["poll-until"], path + ("poll-until",))
        fail_if = raw.get("fail-if", [])
        fail_if = [fail_if] if isinstance(fail_if, str) else fail_if
        for i, expr in enumerate(fail_if):
            self.check_expression(expr, path + ("fail-if",) + ((i,) if len(fail_if) > 1 else ()))
        every = seconds(raw.get("every", 5))
        timeout = seconds(raw.get("timeout", "10m"))
        if every > timeout:
            raise self.fail(path + ("every",), f"every ({every:g} s) is longer than timeout "
                            f"({timeout:g} s)", "the poll would try once; shorten every:")
        return PollSpec(raw["poll-until"], tuple(fail_if), every, timeout,
                        raw.get("max-attempts"), float(raw.get("backoff", 1.0)),
                        seconds(raw.get("max-interval", max(every, 60))))

    def include(self, raw: dict[str, Any], path: Path_) -> dict[str, Any]:
        given = raw["include"]
        target = (Path(self.doc.file).parent / given).resolve()  # symbolic links followed
        if not target.is_relative_to(self.root):  # checked first: nothing outside is read
            raise self.fail(path + ("include",), f"'{given}' is outside the playbook's root "
                            f"{self.root}", "an include must be a playbook under the folder of "
                            "the top playbook; move it there, or widen the root with --root DIR")
        if str(target) in self.stack:
            raise self.fail(path + ("include",), f"'{given}' includes itself "
                            "(directly or through others)", "break the cycle")
        if not target.is_file():
            raise self.fail(path + ("include",), f"'{given}' does not exist",
                            f"paths are relative to {Path(self.doc.file).parent}")
        try:
            sub = _load(target, self.root, self.stack)
        except NotAPlaybook:
            raise self.fail(path + ("include",), f"'{given}' is not a playbook (it has no "
                            "top-level steps:)", "include: names another playbook; check the "
                            "path") from None
        inputs = raw.get("with") or {}
        for name in inputs:
            if name not in sub.inputs:
                raise self.fail(path + ("with", name), f"'{raw['include']}' has no input "
                                f"'{name}'", f"its inputs: {', '.join(sub.inputs) or 'none'}")
        missing = [n for n, i in sub.inputs.items() if i.required and n not in inputs]
        if missing:
            raise self.fail(path + ("include",), f"'{raw['include']}' needs input "
                            f"'{missing[0]}'", f"pass it under with: ({missing[0]}: ...)")
        self.check_templates(inputs, path + ("with",))
        return {"include": sub, "include_inputs": inputs}

    def extractions(self, raw: Mapping[str, Any], path: Path_) -> tuple[Any, ...]:
        out = []
        for name, value in raw.items():
            where = path + ("extract", name)
            try:
                ex = from_spec(value)
                check_syntax(ex.kind, ex.expr, ex.namespaces)
            except ExtractError as e:
                raise self.fail(where, str(e), e.hint) from None
            self.check_templates(ex.expr, where)
            out.append((name, ex))
        return tuple(out)

    def assertions(self, raw: Any, path: Path_) -> tuple[Assertion, ...]:
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for i, item in enumerate(items):
            where = path + ("assert",) + ((i,) if isinstance(raw, list) else ())
            that = item if isinstance(item, str) else item["that"]
            message = None if isinstance(item, str) else item.get("message")
            self.check_expression(that, where + (() if isinstance(item, str) else ("that",)))
            if message:
                self.check_templates(message, where + ("message",))
            out.append(Assertion(that, message, where))
        return tuple(out)

    # -- templates ------------------------------------------------------------------------
    def check_expression(self, expr: str, path: Path_) -> None:
        try:
            names = compile_expression(expr).names
        except TemplateFailure as e:
            raise self.fail(path, str(e), "an expression is bare Jinja, without {{ }}: "
                            "response.status_code == 200") from None
        self.check_names(names, path)

    def check_templates(self, value: Any, path: Path_) -> None:
        if isinstance(value, str):
            if not is_template(value):
                return
            try:
                names = compile_template(value).names
            except TemplateFailure as e:
                raise self.fail(path, str(e), "check the {{ }} and {% %} pairs") from None
            self.check_names(names, path)
        elif isinstance(value, dict):
            for k, v in value.items():
                self.check_templates(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.check_templates(v, (*path, i))

    def check_names(self, names: Iterable[str], path: Path_) -> None:
        for name in sorted(names):
            if name in self.known or name in ENV.globals:
                continue
            if name == "item" or name in ("loop_index",):
                hint = "this name exists only inside a step with loop:"
            else:
                close = difflib.get_close_matches(name, sorted(self.known), n=1)
                hint = (f"did you mean '{close[0]}'? " if close else "") + \
                    "names defined here: inputs.*, extracted values of earlier steps (" + \
                    (", ".join(sorted(self.known - BUILTIN_NAMES)) or "none yet") + \
                    "), secrets.*, steps.<id>, response"
            raise self.fail(path, f"undefined variable '{name}'", hint)
