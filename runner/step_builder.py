"""Building one step: its kind from the step table, what every step has, and its kind's part.

A step's kind is the first in ``runner.steps.KINDS`` whose key it has (unless it has a key
that kind yields to); the kind's module builds ``Step.spec`` and this module reads the keys
every step has: id, name, when, loop, extract and assert, retry, a resume-check, an undo. A
key of another kind is refused, naming that kind.
"""

from __future__ import annotations

from typing import Any

from runner.doc_checks import DocChecks
from runner.loader import Path_
from runner.model import Playbook, Step
from runner.playbook_schema import COMMON
from runner.steps import KINDS
from runner.validation import step_label

# keys of two kinds that also ride on other steps: they apply to the answer of a call
RIDERS = ("extract", "assert")


class StepBuilder(DocChecks):
    _built: dict[str, str]  # id -> kind of the steps of the section built so far
    def load_included(self, given: str, path: Path_) -> Playbook:
        """The playbook an include names: the loader's (``runner.playbook``) to open."""
        raise NotImplementedError

    # -- steps ----------------------------------------------------------------------------
    def step(self, raw: dict[str, Any], index: int, section: str,
             path: Path_ | None = None) -> Step:
        path = path or (section, index)
        kinds = [name for name, k in KINDS.items()
                 if k.KEY in raw and not any(key in raw for key in k.YIELDS_TO)]
        if not kinds:
            raise self.fail(path, "the step does nothing",
                            f"give it one of: {', '.join(k.KEY for k in KINDS.values())}")
        keys = [KINDS[name].KEY for name in kinds]
        if len(kinds) > 1:
            raise self.fail(path + (keys[1],), f"a step has one kind, this one has "
                            f"{' and '.join(keys)}", "split it into two steps")
        kind = KINDS[kinds[0]]
        label = step_label(raw, index, section == "finally")
        step_id = raw.get("id") or f"{'finally' if section == 'finally' else 'step'}{index + 1}"
        if path == (section, 0):  # a section starts: no step comes before this one
            self._built = {}
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
            fields: dict[str, Any] = {"spec": kind.build(self, raw, path)}
            self.refuse_others(kind.KEYS, raw, path)
            fields["extract"] = self.extractions(raw.get("extract") or {}, path)
            self.known |= {name for name, _ in fields["extract"]}  # its asserts come after
            fields["asserts"] = self.assertions(raw.get("assert"), path)
            if "resume-check" in raw:  # a kind that takes one (a call): see runner.restore
                fields["resume_check"] = self.step(raw["resume-check"], index, section,
                                                   path + ("resume-check",))
            if "undo" in raw:  # a kind that takes one (a call): see runner.undo
                fields["undo"] = self.undo_steps(raw, step_id, index, section, path)
        finally:
            self.known = saved
        step = Step(
            index=index, kind=kinds[0], id=step_id, label=label, name=raw.get("name", ""),
            location=self.doc.loc(path), path=path, when=raw.get("when"), loop=raw.get("loop"),
            loop_var=loop_var, concurrency=int(raw.get("concurrency", 1)), retry=raw.get("retry"),
            **fields,
        )
        # what this step defines is visible to the steps after it
        if path == (section, index):  # a section's own step (not a resume-check)
            self._built[step.id] = step.kind
        self.known |= {name for name, _ in step.extract}
        if step.include is not None:
            self.known.add(step.id)
        return step

    def undo_steps(self, raw: dict[str, Any], step_id: str, index: int, section: str,
                   path: Path_) -> tuple[Step, ...]:
        """The calls of a step's ``undo:``: they read what the step defined and its
        ``response``; an undo step's id defaults to ``<step id>_undo<N>``."""
        out = []
        self.known |= {"response"}
        for j, item in enumerate(raw["undo"]):
            given = {"id": f"{step_id}_undo{j + 1}", **item}
            undo = self.step(given, index, section, path + ("undo", j))
            if undo.kind != "call" or undo.undo:
                raise self.fail(path + ("undo", j), "an undo step is one call",
                                "write call: alias.operation with its with:")
            out.append(undo)
        return tuple(out)

    def earlier_kind(self, step_id: str) -> str | None:
        return getattr(self, "_built", {}).get(step_id)

    def refuse_others(self, accepted: frozenset[str], raw: dict[str, Any], path: Path_) -> None:
        """A key of another kind (``with`` on an auth step) is an error naming that kind."""
        for key in raw:
            if key in COMMON or key in RIDERS or key in accepted:
                continue
            owner = next((k.KEY for k in KINDS.values() if key in k.SCHEMA), None)
            if owner is not None:
                raise self.fail(path + (key,), f"'{key}' belongs to a {owner} step")
