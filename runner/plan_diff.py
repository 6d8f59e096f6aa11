"""``runner plan --diff REV``: which requests a change adds, removes or alters.

Two plans of the same playbook (:mod:`runner.plan_model`, both already redacted) are compared
request by request. A request is matched by its key — its step's id, under the ids of the
include steps it runs in (``software/job``), ``#2`` for a step's second request — never by its
position, so inserting a step alters nothing after it. A step without an id is keyed by its
name or what it calls. What a request is, for the comparison, is what a reviewer reads of it
(:func:`facets`): what it calls, method, host, path, each query parameter and header, each body,
the statuses it expects, the conditions and loops it runs under, whether it is safe to repeat.
Secrets were masked before, so a change is never found (or shown) in a secret's value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from runner.plan_model import Plan, Request, shown

ADDED, REMOVED, ALTERED = "added", "removed", "altered"
UNSAFE_MARK = "⚠ not safe to repeat"
NONE = "(none)"


@dataclass
class Change:
    """One difference between two plans."""
    kind: str  # ADDED, REMOVED or ALTERED
    key: str
    old: Request | None
    new: Request | None
    facets: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # altered

    @property
    def request(self) -> Request:
        """The request as it is after the change (as it was, for one removed)."""
        request = self.new or self.old
        assert request is not None
        return request

    @property
    def unsafe(self) -> bool:
        """Whether the request (after the change; before it, for one removed) may not be
        sent twice: the one a reviewer looks at first."""
        return not self.request.safe


@dataclass
class PlanDiff:
    """Two plans of a playbook compared (``runner plan --diff``)."""
    old: Plan | None  # None: the revision has no such playbook
    new: Plan
    rev: str
    commit: str
    changes: list[Change]
    unchanged: int

    def counts(self) -> dict[str, int]:
        return {kind: sum(c.kind == kind for c in self.changes)
                for kind in (ADDED, REMOVED, ALTERED)}

    def summary(self) -> str:
        counts = self.counts()
        if not self.changes:
            return f"no request changed ({self.unchanged} unchanged)"
        return ", ".join(f"{n} {kind}" for kind, n in counts.items()) + \
            f", {self.unchanged} unchanged"


def facets(request: Request) -> dict[str, str]:
    """A request as a reviewer reads it, one named facet each."""
    out = {"call": request.target, "method": request.method}
    if request.host:
        out["host"] = request.host
    out["path"] = request.path
    for name, value in request.query.items():
        if value is not None:
            out[f"query {name}"] = shown(value)
    for name, value in request.headers.items():
        out[f"header {name}"] = value
    for name, value in request.bodies.items():
        out[name] = json.dumps(value, ensure_ascii=False)
    if request.status:
        out["expects status"] = ", ".join(map(str, request.status))
    if request.when:
        out["when"] = " and ".join(request.when)
    if request.loops:
        out["loop over"] = " · ".join(request.loops)
    if request.final:
        out["runs"] = "in finally (always)"
    out["safe to repeat"] = "yes" if request.safe else "no"
    if request.pending:
        out["rendered at run time"] = request.pending
    return out


def diff_plans(old: Plan | None, new: Plan, rev: str, commit: str) -> PlanDiff:
    before = old.requests() if old is not None else []
    after = new.requests()
    old_at = {r.key: i for i, r in enumerate(before)}
    new_keys = {r.key for r in after}
    changes: list[Change] = []
    unchanged = 0
    shown_upto = 0  # the old requests before this index have had their turn
    for request in after:
        i = old_at.get(request.key)
        if i is None:
            changes.append(Change(ADDED, request.key, None, request))
            continue
        # an old request removed before this one's old place is said here, where it was
        changes += [Change(REMOVED, r.key, r, None) for r in before[shown_upto:i]
                    if r.key not in new_keys]
        shown_upto = max(shown_upto, i + 1)
        altered = _altered(before[i], request)
        if altered:
            changes.append(Change(ALTERED, request.key, before[i], request, altered))
        else:
            unchanged += 1
    changes += [Change(REMOVED, r.key, r, None) for r in before[shown_upto:]
                if r.key not in new_keys]
    return PlanDiff(old, new, rev, commit, changes, unchanged)


def _altered(old: Request, new: Request) -> list[tuple[str, str | None, str | None]]:
    a, b = facets(old), facets(new)
    names = [*a, *(n for n in b if n not in a)]
    return [(n, a.get(n), b.get(n)) for n in names if a.get(n) != b.get(n)]


def head(request: Request) -> str:
    """``METHOD /path``, placeholders as ``<name>`` (its query is among its parameters)."""
    return f"{request.method} {request.path}"


def described(change: Change) -> list[tuple[str, str]]:
    """What to say under a change: for one altered, each facet that changed (old -> new); for
    one added or removed, what the request carries besides its method and path."""
    if change.kind == ALTERED:
        return [(name, f"{old or NONE} -> {new or NONE}") for name, old, new in change.facets]
    skip = ("call", "method", "host", "path", "safe to repeat")
    return [(name, value) for name, value in facets(change.request).items() if name not in skip]


def diff_lines(diff: PlanDiff, file: str) -> list[str]:
    """The diff as ``runner plan --diff`` prints it."""
    against = f"{diff.rev} ({diff.commit})" if diff.old is not None else \
        f"{diff.rev} ({diff.commit}, which has no {file})"
    out = [f"plan diff · {diff.new.name} ({file}) · {against} -> working tree · "
           f"env {diff.new.env} · nothing is sent"]
    sign = {ADDED: "+", REMOVED: "-", ALTERED: "~"}
    for change in diff.changes:
        request = change.request
        mark = f"   {UNSAFE_MARK}" if change.unsafe else ""
        out.append(f"{sign[change.kind]} {change.kind} {change.key}: {request.target} "
                   f"{head(request)}{mark}")
        out += [f"      {name}: {value}" for name, value in described(change)]
    out.append(diff.summary())
    return out
