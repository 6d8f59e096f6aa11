"""The checks the loader makes on a playbook's text, beyond its schema.

Each points at its file:line:col: a connector alias is declared; every template and expression
compiles; every name one reads is defined by then (an input, an extracted value, a loop
variable, a built-in); extractions parse; assertions compile. ``runner.playbook`` builds the
playbook with these; the step kinds get them through ``runner.steps.kind.Builder``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runner.connectors.spec import ConnectorSpec
from runner.errors import PlaybookError
from runner.extract import check_syntax, from_spec
from runner.extract_error import ExtractError
from runner.loader import Document, Path_
from runner.model import Assertion
from runner.template_base import GLOBALS
from runner.template_compile import (
    TemplateFailure,
    compile_expression,
    compile_template,
    is_template,
)
from runner.validation import describe_path

BUILTIN_NAMES = frozenset({"inputs", "secrets", "steps", "response", "run", "loop"})


class DocChecks:
    def __init__(self, doc: Document):
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.known: set[str] = set(BUILTIN_NAMES)  # the names defined at this point
        self.specs: dict[str, ConnectorSpec] = {}  # the declared connectors, by alias

    def fail(self, path: Path_, message: str, hint: str | None = None) -> PlaybookError:
        return PlaybookError(message, location=self.doc.loc(path),
                             path=describe_path(self.data, path), hint=hint)

    def folder(self) -> str:
        """The folder of this playbook's file, absolute: the files it names (a call's
        ``body: {file: ...}``) are relative to it, wherever the run starts."""
        return str(Path(self.doc.file).absolute().parent)

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
            message = None if isinstance(item, str) else item.get("message")
            if isinstance(item, dict) and "schema" in item:
                if message:
                    self.check_templates(message, where + ("message",))
                schema = self.answer_schema(item["schema"], where + ("schema",))
                out.append(Assertion(schema.label, message, where, schema))
                continue
            that = item if isinstance(item, str) else item["that"]
            self.check_expression(that, where + (() if isinstance(item, str) else ("that",)))
            if message:
                self.check_templates(message, where + ("message",))
            out.append(Assertion(that, message, where))
        return tuple(out)

    def answer_schema(self, raw: Any, path: Path_) -> Any:
        """``assert: {schema: ...}``'s schema, loaded now: a file relative to the playbook, or
        an OpenAPI document's operation (:mod:`runner.answer_schema`)."""
        from runner import answer_schema
        from runner.errors import InvalidInput

        folder = Path(self.folder())
        name = raw if isinstance(raw, str) else raw["openapi"]
        file = folder / name
        if not file.is_file():
            raise self.fail(path, f"schema file '{name}' does not exist",
                            f"paths are relative to the playbook's folder, {folder}")
        try:
            if isinstance(raw, str):
                return answer_schema.from_file(file, name)
            return answer_schema.from_openapi(file, raw["operation"], name)
        except InvalidInput as e:
            raise self.fail(path, e.message, e.hint) from None

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
            if name in self.known or name in GLOBALS:
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
