"""Completion at a cursor: the keys that may come there (each once, those already written left
out), a call's ``alias.operation`` through the playbook's own aliases, that operation's
parameters under ``with:`` (required first), and inside ``{{ }}`` the names a template there
may read (inputs, extracted values of earlier steps, the loop variable, ``steps.<id>``...).
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types as t

from runner.lsp.buffer import Cursor
from runner.lsp.facts import Facts, secret_names
from runner.lsp.words import call_markdown, param_detail, param_markdown
from runner.playbook import GENERIC_SETTINGS
from runner.playbook_schema import BASE, COMMON, INPUT, step_properties
from runner.step_builder import RIDERS
from runner.steps import KINDS

_RESPONSE = ("response.json", "response.status_code", "response.text", "response.headers",
             "response.xml", "response.error", "response.url")
_CONNECTOR_KEYS = {"use": "an installed connector, or connectors/<name>.yaml beside or above",
                   "file": "a connector file, relative to this playbook",
                   "settings": "settings for this alias (the environment file may give them)"}
_K = t.CompletionItemKind
_INPUT_KEYS: dict[str, Any] = INPUT["properties"]  # type: ignore[assignment]


def complete(cur: Cursor, facts: Facts) -> list[t.CompletionItem]:
    edit = t.Range(t.Position(cur.line, cur.col - len(cur.word)), t.Position(cur.line, cur.col))
    if cur.mode == "template":
        items = _names(cur, facts)
    elif cur.mode == "value":
        items = _values(cur, facts)
    else:
        items = _keys(cur, facts)
    space = " " if cur.glued and cur.mode == "value" else ""
    for item in items:
        item.text_edit = t.TextEdit(edit, space + (item.insert_text or item.label))
        item.insert_text = None
    return items


def _keys(cur: Cursor, facts: Facts) -> list[t.CompletionItem]:
    path, parent = cur.path, cur.parent()
    present = set(parent) - {path[-1]} if isinstance(parent, dict) else set()
    if len(path) == 1:
        props = BASE["properties"]
        return _key_items({k: props[k] for k in props if k not in present}, "top-level key")
    found = facts.step_of(path)
    if found is not None:
        step, where = found
        rest = path[len(where):]
        if len(rest) == 1:
            return _key_items({k: v for k, v in _step_keys(step).items() if k not in present},
                              "step key")
        if len(rest) == 2 and rest[0] == "with":
            return _with_keys(step, present, facts)
    if path[0] == "connectors" and len(path) == 3:
        return [t.CompletionItem(k, kind=_K.Property, detail=d, insert_text=f"{k}: ")
                for k, d in _CONNECTOR_KEYS.items() if k not in present]
    if path[0] == "connectors" and len(path) == 4 and path[2] == "settings":
        spec = facts.specs.get(str(path[1]))
        if spec is None:
            return []
        own = [t.CompletionItem(s.name, kind=_K.Property, detail="setting" +
                                (" (secret: give it in the environment file)" if s.secret else ""),
                                documentation=s.description or None, insert_text=f"{s.name}: ")
               for s in spec.settings.values() if s.name not in present]
        return own + [t.CompletionItem(k, kind=_K.Property, detail="setting (every connector)",
                                       insert_text=f"{k}: ", sort_text=f"z{k}")
                      for k in GENERIC_SETTINGS if k not in present]
    if path[0] == "inputs" and len(path) == 3:
        return _key_items({k: v for k, v in _INPUT_KEYS.items() if k not in present},
                          "input key")
    return []


def _step_keys(step: dict[str, Any]) -> dict[str, Any]:
    """The keys a step may take: all of them, or once it has a kind, that kind's and the keys
    every step has."""
    props = step_properties()
    kinds = [k for k in KINDS.values() if k.KEY in step]
    if not kinds:
        return props
    keep = {*COMMON, *RIDERS, *kinds[0].KEYS}
    return {k: v for k, v in props.items() if k in keep}


def _with_keys(step: dict[str, Any], present: set[str], facts: Facts) -> list[t.CompletionItem]:
    found = facts.operation(step.get("call"))
    if found is not None:
        op = found[2]
        params = sorted(op.params.values(), key=lambda p: (not p.required, p.name))
        return [t.CompletionItem(p.name, kind=_K.Field, detail=param_detail(p),
                                 documentation=_md(param_markdown(p)), insert_text=f"{p.name}: ",
                                 sort_text=f"{0 if p.required else 1}{p.name}")
                for p in params if p.name not in present]
    if isinstance(step.get("include"), str):
        from runner.lsp.included import included_inputs

        inputs = included_inputs(facts.file.parent / step["include"])
        return [t.CompletionItem(name, kind=_K.Field,
                                 detail="input" + (" (required)" if required else ""),
                                 documentation=description or None, insert_text=f"{name}: ",
                                 sort_text=f"{0 if required else 1}{name}")
                for name, (required, description) in inputs.items() if name not in present]
    return []


def _values(cur: Cursor, facts: Facts) -> list[t.CompletionItem]:
    path = cur.path
    key = path[-1]
    found = facts.step_of(path)
    if found is not None and len(path) == len(found[1]) + 1:
        if key == "call":
            return _call_targets(facts)
        if key == "include":
            return _playbook_files(facts)
        if key == "auth":
            return [t.CompletionItem(alias, kind=_K.Module, detail=spec.name)
                    for alias, spec in facts.specs.items()]
    if path[0] == "connectors" and len(path) == 3 and key == "use":
        from runner.connectors import registry

        return [t.CompletionItem(name, kind=_K.Module, detail="connector")
                for name in registry.names()]
    if path[0] == "inputs" and len(path) == 3 and key == "type":
        return [t.CompletionItem(v, kind=_K.EnumMember)
                for v in _INPUT_KEYS["type"]["enum"]]
    return []


def _playbook_files(facts: Facts, limit: int = 300) -> list[t.CompletionItem]:
    """The YAML files under this playbook's folder, relative to it (hidden folders and
    virtual environments left out), for ``include:``."""
    here = facts.file.parent
    found: list[t.CompletionItem] = []
    for path in sorted(here.rglob("*.y*ml")):
        rel = path.relative_to(here)
        if path.suffix not in (".yaml", ".yml") or path == facts.file or any(
                part.startswith(".") or part in ("node_modules", "connectors")
                for part in rel.parts[:-1]):
            continue
        found.append(t.CompletionItem(rel.as_posix(), kind=_K.File))
        if len(found) >= limit:
            break
    return found


def _call_targets(facts: Facts) -> list[t.CompletionItem]:
    items = []
    for alias, spec in facts.specs.items():
        for name, op in spec.operations.items():
            items.append(t.CompletionItem(
                f"{alias}.{name}", kind=_K.Method, detail=op.summary or f"{op.method} {op.path}",
                documentation=_md(call_markdown(alias, spec, op))))
        items.append(t.CompletionItem(alias, kind=_K.Module, sort_text=f"~{alias}",
                                      detail=f"{spec.name}: a raw call (method: and path:)"))
    return items


def _names(cur: Cursor, facts: Facts) -> list[t.CompletionItem]:
    items = [t.CompletionItem(f"inputs.{name}", kind=_K.Variable,
                              detail=f"input ({raw.get('type', 'string')})",
                              documentation=raw.get("description") or None)
             for name, raw in facts.inputs().items()]
    names, ids = facts.names_before(cur.path)
    items += [t.CompletionItem(name, kind=_K.Variable, detail=what)
              for name, what in names.items()]
    items += [t.CompletionItem(f"steps.{i}", kind=_K.Variable, detail="an earlier step")
              for i in ids]
    found = facts.step_of(cur.path)
    if found is not None:  # a step reads the last answer (its own, in extract: and assert:)
        items += [t.CompletionItem(r, kind=_K.Property, detail="the last answer",
                                   sort_text=f"y{r}") for r in _RESPONSE]
    items += [t.CompletionItem(f"secrets.{name}", kind=_K.Variable, sort_text=f"zsecrets.{name}",
                               detail=f"a secret ({files})")
              for name, files in secret_names(facts.file.parent).items()]
    items += [t.CompletionItem("secrets.", kind=_K.Module, sort_text="zsecrets",
                               detail="a secret the environment file defines"),
              t.CompletionItem("run.id", kind=_K.Property, sort_text="zrun", detail="this run"),
              t.CompletionItem("run.environment", kind=_K.Property, sort_text="zrun",
                               detail="the environment's name")]
    word = cur.word
    return [i for i in items if i.label.startswith(word)] if word else items


def _key_items(props: dict[str, Any], what: str) -> list[t.CompletionItem]:
    return [t.CompletionItem(k, kind=_K.Property, detail=what,
                             documentation=(v.get("description") if isinstance(v, dict)
                                            else None) or None, insert_text=f"{k}: ")
            for k, v in props.items()]


def _md(text: str) -> t.MarkupContent:
    return t.MarkupContent(t.MarkupKind.Markdown, text)
