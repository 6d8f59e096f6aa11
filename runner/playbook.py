"""Load a playbook: YAML -> schema -> checks -> frozen :class:`Playbook`.

Beyond the schema, the checks a schema cannot express, each reported at its file:line:col:
one step kind per step; connectors declared and installed; operations known (with the list of
known ones); parameters known and of the right type when written literally; no secret written
literally in a secret parameter; every template and expression compiles; every name a template
reads is defined by then (an input, an extracted value, a loop variable, a built-in); JSONPath,
XPath and regex expressions parse; included playbooks load, without cycles. A connector
setting may be a template that reads declared inputs only, and only in the playbook that is
run (an included playbook's ``with:`` is known when its step runs, after the settings are set
up); ``runner.connectors.sessions`` renders it when the run starts.

A step's kind comes from the step table (``runner.steps.KINDS``): its module builds what the
kind alone holds (``Step.spec``) and refuses what it cannot; this module reads what every
step has (``runner.step_builder``). The checks of names, templates and expressions are
``runner.doc_checks``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from runner.connectors import local, registry
from runner.connectors.spec import ConnectorSpec
from runner.environment import is_env_ref
from runner.errors import InvalidInput, Location, NotAPlaybook, PlaybookError
from runner.loader import Document, Path_, load_file, load_text, top_level_keys
from runner.model import ConnectorRef, InputSpec, Playbook
from runner.notify_targets import read_targets
from runner.playbook_schema import base
from runner.step_builder import StepBuilder
from runner.template_base import GLOBALS
from runner.template_compile import TemplateFailure, compile_template, is_template
from runner.validation import validate_against

# settings every connector has, on top of its own
GENERIC_SETTINGS = ("connect_timeout", "read_timeout", "verify_tls", "max_response_bytes",
                    "follow_redirects", "cookies", "ca_bundle", "client_cert", "client_key")


def load_playbook(path: str | Path, *, root: str | Path | None = None,
                  text: str | None = None, _stack: tuple[str, ...] = ()) -> Playbook:
    """Load and check the playbook at ``path`` and its includes.

    ``root``: the folder every include must resolve inside (symbolic links followed); by
    default the folder of ``path``. An explicit root must hold ``path`` too. ``text``: the
    playbook's text, read instead of the file (an editor's unsaved buffer, ``runner lsp``);
    its includes and connector files are still found from ``path``.
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
    return _load(file, base, _stack, text=text)


def _load(file: Path, root: Path, stack: tuple[str, ...],
          included_at: Location | None = None, *, text: str | None = None) -> Playbook:
    try:
        doc = load_file(file, keep=_a_playbook) if text is None else load_text(text, str(file))
        is_playbook = isinstance(doc.data, dict) and "steps" in doc.data
        validate_against(base(), doc, echo=is_playbook)
    except PlaybookError as e:
        if e.location is None or e.location.file != str(file) or _is_playbook_text(file, text):
            raise
        # not a playbook: it may be any file (a .env, a vault), so none of its lines is shown
        raise NotAPlaybook(e.message, location=e.location, hint=e.hint) from None
    return _Builder(doc, root, stack, included_at).build()


def _is_playbook_text(file: Path, text: str | None = None) -> bool:
    """Whether the file (or its ``text``) has a top-level ``steps:`` (every playbook has), even
    if it does not parse: only then may an error show its lines."""
    try:
        text = file.read_text(encoding="utf-8", errors="replace") if text is None else text
    except OSError:
        return False
    return "steps" in top_level_keys(text)



def _a_playbook(data: Any) -> bool:
    """A parse kept between runs is a playbook's (a top-level ``steps:`` list): an included
    file that is not one (a secrets file named by mistake) is refused, and never copied."""
    return isinstance(data, dict) and isinstance(data.get("steps"), list)

class _Builder(StepBuilder):
    def __init__(self, doc: Document, root: Path, stack: tuple[str, ...],
                 included_at: Location | None):
        super().__init__(doc)
        self.root = root
        self.stack = (*stack, str(Path(doc.file).resolve()))
        self.included_at = included_at  # the include step that loads this file, if one does
        self.inputs: dict[str, InputSpec] = {}

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
        self.inputs = inputs
        connectors = {alias: self.connector_ref(alias, raw)
                      for alias, raw in (self.data.get("connectors") or {}).items()}
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
            notify=read_targets(self.data.get("notify"), self.doc),
        )

    def connector_ref(self, alias: str, raw: dict[str, Any]) -> ConnectorRef:
        spec = self.specs[alias] = self.connector(alias, raw)
        settings = raw.get("settings") or {}
        for key, value in settings.items():
            where = ("connectors", alias, "settings", key)
            setting = spec.settings.get(key)
            if setting is None and key not in GENERIC_SETTINGS:
                raise self.fail(where, f"connector '{spec.name}' has no setting '{key}'",
                                f"its settings: {', '.join(spec.settings)}")
            read = self.setting_inputs(value, where, alias, key)
            secret = {n for n, i in self.inputs.items() if i.secret}
            if setting is not None and setting.secret and not (read and read <= secret):
                # a secret input is not written in the playbook: reading one is allowed
                raise self.fail(where, f"'{key}' is a secret and must not be written in a playbook",
                                "put it in the environment file as {secret: ENV_VAR_NAME}, "
                                "or read an input declared secret: {{ inputs.NAME }}")
        places = {key: self.doc.loc(("connectors", alias, "settings", key)) for key in settings}
        return ConnectorRef(alias, spec.name, settings, self.doc.loc(("connectors", alias)),
                            places)

    def setting_inputs(self, value: Any, path: Path_, alias: str, key: str) -> set[str]:
        """The inputs the templates in a setting read. Refused: a template in an included
        playbook (its ``with:`` is known only when its step runs, after the settings are set
        up), one reading anything but inputs, or an input the playbook does not declare."""
        if isinstance(value, dict) and not is_env_ref(value):
            return set().union(*(self.setting_inputs(v, (*path, k), alias, key)
                                 for k, v in value.items()))
        if isinstance(value, list):
            return set().union(*(self.setting_inputs(v, (*path, i), alias, key)
                                 for i, v in enumerate(value)))
        if is_env_ref(value) and any(isinstance(v, str) and is_template(v)
                                     for v in value.values()):
            raise self.fail(path, "an {env: NAME} reference is not a template",
                            f"write {key}: '{{{{ inputs.NAME }}}}' to read an input instead")
        if not (isinstance(value, str) and is_template(value)):
            return set()
        if self.included_at is not None:
            raise self.fail(path, f"setting '{key}' is a template, and this playbook is "
                            f"included (at {self.included_at}): an included playbook's "
                            "settings are set up when the run starts, before its with: is known",
                            f"declare connector '{alias}' with this setting in the playbook that "
                            "is run (its alias is the one used) and leave it out here")
        try:
            compiled = compile_template(value)
        except TemplateFailure as e:
            raise self.fail(path, str(e), "check the {{ }} and {% %} pairs") from None
        others = sorted(compiled.names - {"inputs"} - GLOBALS)
        if others:
            raise self.fail(path, f"setting '{key}' reads '{others[0]}': settings may read "
                            "inputs only (they are set up when the run starts, before any step)",
                            "a secret goes in the environment file: connectors."
                            f"{'.'.join(map(str, (alias, *path[3:])))}: {{secret: NAME}}; "
                            "a run's value: an input, {{ inputs.NAME }}")
        if compiled.inputs_read is None:
            raise self.fail(path, f"setting '{key}' reads inputs as a whole",
                            "read each input by name: {{ inputs.NAME }}")
        for name in sorted(compiled.inputs_read - set(self.inputs)):
            close = difflib.get_close_matches(name, list(self.inputs), n=1)
            raise self.fail(path, f"setting '{key}' reads input '{name}', which the playbook "
                            "does not declare",
                            (f"did you mean '{close[0]}'? " if close else "") +
                            f"declared inputs: {', '.join(self.inputs) or 'none'}; "
                            "declare it under inputs:")
        return set(compiled.inputs_read)

    def connector(self, alias: str, raw: dict[str, Any]) -> ConnectorSpec:
        """The connector an alias uses: ``file:`` (relative to the playbook), else
        ``connectors/<use>.yaml`` beside or above the playbook, else an installed one."""
        key = "file" if "file" in raw else "use"
        try:
            spec, repository_file = local.for_entry(raw, Path(self.doc.file).parent)
            if repository_file:
                registry.add_local(spec)
            return spec
        except PlaybookError:
            raise  # a broken connector file: its own file and line say more
        except InvalidInput as e:
            raise self.fail(("connectors", alias, key), e.message, e.hint) from None

    def load_included(self, given: str, path: Path_) -> Playbook:
        target = (Path(self.doc.file).parent / given).resolve()  # symbolic links followed
        if not target.is_relative_to(self.root):  # checked first: nothing outside is read
            raise self.fail(path, f"'{given}' is outside the playbook's root "
                            f"{self.root}", "an include must be a playbook under the folder of "
                            "the top playbook; move it there, or widen the root with --root DIR")
        if str(target) in self.stack:
            raise self.fail(path, f"'{given}' includes itself "
                            "(directly or through others)", "break the cycle")
        if not target.is_file():
            raise self.fail(path, f"'{given}' does not exist",
                            f"paths are relative to {Path(self.doc.file).parent}")
        try:
            return _load(target, self.root, self.stack, self.doc.loc(path))
        except NotAPlaybook:
            raise self.fail(path, f"'{given}' is not a playbook (it has no "
                            "top-level steps:)", "include: names another playbook; check the "
                            "path") from None
