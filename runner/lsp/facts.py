"""What a playbook in an editor declares, as far as its buffer says: the connectors behind its
aliases, its inputs, and the names each step may read (the extracted values of the steps
before it, their ids, its loop variable). Read from the parsed buffer with no checks, so a
playbook that does not validate yet still completes; whatever cannot be resolved (an alias of
a connector that is not installed) is simply left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.connectors import local
from runner.connectors.spec import ConnectorSpec, Operation
from runner.errors import RunnerError
from runner.loader import Path_


@dataclass
class Facts:
    """What the language server knows of a buffer: its file, data and connector specs."""
    file: Path
    data: dict[str, Any]
    specs: dict[str, ConnectorSpec] = field(default_factory=dict)  # by alias

    @classmethod
    def of(cls, data: Any, file: str) -> Facts:
        facts = cls(Path(file), data if isinstance(data, dict) else {})
        for alias, raw in _mapping(facts.data.get("connectors")).items():
            spec = resolve(raw, facts.file.parent)
            if spec is not None:
                facts.specs[alias] = spec
        return facts

    def inputs(self) -> dict[str, dict[str, Any]]:
        return {k: v if isinstance(v, dict) else {}
                for k, v in _mapping(self.data.get("inputs")).items()}

    def operation(self, target: Any) -> tuple[str, ConnectorSpec, Operation] | None:
        """``alias.op`` -> the alias, its connector and the operation, when all are known."""
        if not isinstance(target, str):
            return None
        alias, _, op = target.partition(".")
        spec = self.specs.get(alias)
        found = spec.operation(op) if spec is not None else None
        return (alias, spec, found) if spec is not None and found is not None else None

    def steps(self, section: str) -> list[dict[str, Any]]:
        raw = self.data.get(section)
        return [s if isinstance(s, dict) else {} for s in raw] if isinstance(raw, list) else []

    def step_of(self, path: Path_) -> tuple[dict[str, Any], Path_] | None:
        """The step ``path`` is in (a resume-check is a step of its own) and its path."""
        if len(path) < 2 or path[0] not in ("steps", "finally") or not isinstance(path[1], int):
            return None
        steps = self.steps(str(path[0]))
        if path[1] >= len(steps):
            return None
        step, where = steps[path[1]], path[:2]
        if len(path) > 2 and path[2] == "resume-check" and isinstance(step.get("resume-check"),
                                                                      dict):
            return step["resume-check"], (*where, "resume-check")
        return step, where

    def names_before(self, path: Path_) -> tuple[dict[str, str], list[str]]:
        """The names a template at ``path`` may read, each with what defines it, as the loader
        counts them, and the ids of the steps before (``steps.<id>``): every earlier step's
        extracted values and include ids (``finally`` steps see all of ``steps``), the step's
        own extracted values (its asserts read them), its loop variable."""
        if len(path) < 2 or path[0] not in ("steps", "finally") or not isinstance(path[1], int):
            return {}, []
        earlier = [("steps", i, s) for i, s in enumerate(self.steps("steps"))]
        if path[0] == "finally":
            earlier += [("finally", i, s) for i, s in enumerate(self.steps("finally"))]
        names: dict[str, str] = {}
        ids: list[str] = []
        for section, i, step in earlier:
            label = f"step '{step['id']}'" if isinstance(step.get("id"), str) else \
                f"{'finally step' if section == 'finally' else 'step'} #{i + 1}"
            for name in _mapping(step.get("extract")):
                names[name] = f"extracted by {label}"
            if (section, i) == (path[0], path[1]):
                if "loop" in step:
                    names[str(step.get("loop_var", "item"))] = f"the loop's item ({label})"
                break
            if isinstance(step.get("id"), str):
                ids.append(step["id"])
                if "include" in step:
                    names[step["id"]] = f"the outputs of {label} (include)"
        return names, ids


def secret_names(folder: Path) -> dict[str, str]:
    """The names under ``secrets:`` in the environment files of the nearest ``environments/``
    folder at or above ``folder``, each with the files that define it: what
    ``{{ secrets.NAME }}`` may read. Only names are read, never a value."""
    from runner.loader import load_file

    for here in (folder, *folder.parents):
        envs = here / "environments"
        if envs.is_dir():
            break
    else:
        return {}
    out: dict[str, list[str]] = {}
    for path in sorted(envs.glob("*.y*ml")):
        try:
            data = load_file(path).data
        except RunnerError:
            continue
        for name in _mapping(_mapping(data).get("secrets")):
            out.setdefault(str(name), []).append(path.name)
    return {name: ", ".join(files) for name, files in out.items()}


def resolve(raw: Any, folder: Path) -> ConnectorSpec | None:
    """The connector a ``connectors:`` entry names, as the loader finds it, or None."""
    if not isinstance(raw, dict):
        return None
    if not isinstance(raw.get("file", ""), str) or \
            not isinstance(raw.get("use", raw.get("file")), str):
        return None
    try:
        return local.for_entry(raw, folder)[0]
    except RunnerError:
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
