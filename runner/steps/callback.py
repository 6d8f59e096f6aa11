"""`callback`: mint a callback URL for this run, for a later `wait-for` step to wait on.

The URL (``steps.<id>.url``) is unique, unguessable (HMAC-signed, :mod:`runner.callback_token`)
and expires (``expires``, default 24h); a call puts it where the vendor wants it (Alvaria's
``callbackUrls``). A POST to it is kept in the store for the run; a second POST, a forged
signature or an expired URL is refused and recorded. On resume the same URL stands.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.loader import Path_
from runner.model import Step, seconds
from runner.schema_atoms import DURATION
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope
from runner.steps.waiting import journal_of

if TYPE_CHECKING:
    from runner.results import StepResult

KEY = "callback"
YIELDS_TO: tuple[str, ...] = ()
SCHEMA: dict[str, Any] = {"callback": {
    "type": "object", "additionalProperties": False,
    "description": "mint a callback URL (steps.<id>.url) that a wait-for: <id> step waits on",
    "properties": {"expires": {**DURATION, "description": "how long the URL is good for "
                               "(default 24h)"}}}}
KEYS = frozenset(SCHEMA)


@dataclass(frozen=True)
class CallbackSpec:
    """A ``callback:`` step: how long its URL lives."""
    expires: float
    written: str

    @property
    def target(self) -> str:
        return "callback URL"


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> CallbackSpec:
    given = (raw["callback"] or {}).get("expires", "24h")
    try:
        return CallbackSpec(seconds(given), str(given))
    except ValueError:
        raise b.fail(path + ("callback", "expires"), f"expires: {given!r} is not a duration",
                     hint="write a number with a unit: 30m, 24h") from None


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    from runner.callback_inbox import watch  # the store and a listener: only when it runs
    from runner.callback_listener import base_url, listening
    from runner.callback_token import callback_key, mint

    spec: CallbackSpec = step.spec
    journal = journal_of(rt, "a callback")
    base = base_url(rt.env.callbacks, journal.store)
    url = mint(callback_key(journal.store.url), base, journal.run_id, result.key,
               time.time() + spec.expires)
    rt.redactor.add(url.rsplit("/", 1)[1])  # the signature: whoever has it may POST once
    if listening():  # this process's listener masks the body with the run's secrets
        watch(journal.run_id, rt.redactor)
    rt.remember(step, scope, url=url, key=result.key)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    spec: CallbackSpec = step.spec
    p.line(f"{pad}mints a callback URL (steps.{step.id}.url, good for {spec.written}), "
           "sends nothing")
