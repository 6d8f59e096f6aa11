"""Taking up a recorded run: claiming it, fencing its writes, rebuilding its state, running it.

Every path that runs a run already in the store comes through :func:`resume_run`: ``runner
resume RUN_ID`` (:func:`resume_asked`, which says first why a run cannot be resumed), ``resume
--batch`` and ``--stale`` (through it), a batch's queued rows and a worker's job
(:mod:`runner.jobs`). In order:

1. **claim** the run (:func:`runner.ownership.claim_run`): a compare-and-set on its row, so
   two attempts never both run it; a run not claimed comes back as the claim's outcome;
2. **fence** every write of this attempt by its ownership, with a heartbeat
   (:func:`runner.ownership.owned`), so an attempt taken for dead stops at its next write;
3. **rebuild** the run's state: the journal the claim loaded, checked against the playbook as
   it is now (:func:`runner.fingerprint.check`; ``remap`` carries finished steps over to an
   edited playbook); a refusal is recorded on the run, as anything else this attempt raises;
4. **run** it (``start``: :func:`runner.launch.launch`, or the api's run with its console).

This module reads and writes the store and the journal once each, in that order; the engine
only runs the state it is handed.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.environment import Environment, load_environment
from runner.errors import InvalidInput, RunnerError, StoreError
from runner.fingerprint import check as check_fingerprint
from runner.heartbeats import held
from runner.journal import ResumeState
from runner.launch import launch
from runner.model import Playbook
from runner.ownership import STALE_AFTER, Claim, LostOwnership, claim_run, new_owner, owned, settle
from runner.playbook import load_playbook
from runner.results import PARKED, RunResult
from runner.secrets import MASK
from runner.store import Store
from runner.undo import began_on

Start = Callable[..., RunResult]  # launch's signature: (playbook, *, env, inputs, store, ...)


@dataclass
class Attempt:
    """What :func:`resume_run` did: ``claimed`` and the run's result, or the claim's outcome
    (done | busy | lost | missing | waiting) and no result."""

    outcome: str
    result: RunResult | None = None


def rebuilt(store: Store, run_id: str, playbook: Playbook, state: ResumeState, *,
            remap: bool = False, worker: bool = False) -> ResumeState:
    """The journal ``state`` of ``run_id`` to go on with, checked against ``playbook`` as it
    is now (raises :class:`~runner.errors.InvalidInput` with what changed)."""
    row = store.get_run(run_id) or {}
    return check_fingerprint(run_id, row.get("fingerprint"), playbook, state, remap=remap,
                             worker=worker)


def resume_run(store: Store, run_id: str, *, playbook: str | Path | Playbook,
               env: str | Environment | None,
               inputs: Mapping[str, Any] | None = None, start: Start = launch,
               owner: str | None = None, stale_after: float = STALE_AFTER,
               again: tuple[str, ...] = (), remap: bool = False, worker: bool = False,
               fence: bool = True, beat_every: float = STALE_AFTER / 6,
               root: str | Path | None = None, crash_hint: str | None = None,
               on_claim: Callable[[Claim], None] | None = None,
               undo: Mapping[str, Any] | None = None, **start_kw: Any) -> Attempt:
    """Claim ``run_id``, then fence, rebuild and run it (the module's steps).

    ``playbook``: loaded by the caller, or a path loaded once the run is claimed (a worker's
    checkout: a playbook that fails to load is then recorded on the run). ``again``: final
    statuses that may be taken up too (``runner resume``); ``fence=False``: the writes are
    not fenced (a batch's own rows, as they always were). Either way the process's heartbeat
    keeps the run alive-looking while this attempt holds it (:mod:`runner.heartbeats`).
    Whatever the attempt raises but a lost ownership is recorded on the run first (``failed``,
    if it is still running; ``crash_hint`` for an internal error), then raised. ``undo``: undo
    the run (``runner undo``): the failure, or the passed run, the undo begins on, unless the
    journal shows an undo begun already (which it goes on with).
    """
    claim = claim_run(store, run_id, owner or new_owner(), stale_after=stale_after, again=again)
    if claim.outcome != "claimed" or claim.resume is None:
        return Attempt(claim.outcome)
    if on_claim is not None:
        on_claim(claim)
    fenced = owned(store, run_id, claim.owner) if fence \
        else contextlib.nullcontext(store)
    with fenced as writes, held(store, owner=claim.owner, every=beat_every):
        try:
            loaded = playbook if isinstance(playbook, Playbook) else \
                load_playbook(playbook, root=root)
            state = rebuilt(writes, run_id, loaded, claim.resume, remap=remap, worker=worker)
            if undo is not None and state.undo is None:
                state.undo = dict(undo)
            return Attempt("claimed", start(loaded, env=env, inputs=inputs, store=writes,
                                            run_id=run_id, resume=state, **start_kw))
        except (LostOwnership, StoreError):  # taken over, or the store is away: the run
            raise  # is not this attempt's to record any more, or cannot be recorded now
        except RunnerError as e:  # a refused edit, a secret input the store kept masked, ...
            settle(writes, run_id, e.message, e.hint)  # not left running for nobody
            raise
        except Exception as e:
            if crash_hint is not None:
                settle(writes, run_id, f"internal error: {type(e).__name__}", crash_hint)
            raise


def resume_asked(store: Store, run_id: str, *, inputs: Mapping[str, Any] | None = None,
                 force: bool = False, remap: bool = False, stale_after: float = STALE_AFTER,
                 root: str | Path | None = None, start: Start = launch,
                 **start_kw: Any) -> RunResult:
    """``runner resume RUN_ID``: take up a crashed, interrupted, errored or failed run.

    Refused, with why and before it is claimed (so a refusal leaves the run as it was): a run
    that is not in the store, that passed, whose playbook changed (unless ``remap``), that
    looks alive (unless ``force``) or that another process takes at the same moment. The
    inputs recorded (secret ones are masked there) are given again, ``inputs`` over them.
    """
    row = store.get_run(run_id)
    if row is None:
        raise InvalidInput(f"no run {run_id} in {store.url}",
                           hint="runner history lists the runs; --store picks the store")
    if row["status"] == "passed":
        raise InvalidInput(f"run {run_id} passed already; there is nothing to resume")
    wakes = float(row["heartbeat"] or 0)  # a parked row's heartbeat is its wake time
    if row["status"] == PARKED and not force and wakes > time.time():
        raise InvalidInput(
            f"run {run_id} is parked until {time.strftime('%H:%M:%S', time.localtime(wakes))}"
            " (a worker wakes it then from the broker's message)",
            hint="--force takes it up here now (the worker then finds it taken; nothing is "
            "sent twice); after its wake time it is an orphan that runner resume takes")
    state = ResumeState.load(store, run_id)
    if state.undo_end == "undone":
        raise InvalidInput(f"run {run_id} was undone (every undo step passed); there is "
                           "nothing to resume", hint="start a new run")
    playbook = load_playbook(row["file"], root=root)  # an include outside: refused here
    rebuilt(store, run_id, playbook, state, remap=remap)
    _sandbox_note(row, playbook, state)
    attempt = resume_run(store, run_id, playbook=playbook, env=row["environment"],
                         inputs=_given(row, inputs), start=start,
                         stale_after=0.0 if force else stale_after,
                         again=("failed", "interrupted", "errored"), remap=remap, **start_kw)
    return _taken(attempt, row, run_id)


def undo_asked(store: Store, run_id: str, *, inputs: Mapping[str, Any] | None = None,
               force: bool = False, stale_after: float = STALE_AFTER,
               root: str | Path | None = None, start: Start = launch,
               **start_kw: Any) -> RunResult:
    """``runner undo RUN_ID``: run the undo steps of a finished run's completed steps, the last
    first (:mod:`runner.undo`), or go on with an undo that was stopped; refused, before it is
    claimed, for a run that is not in the store, has nothing to undo (no step with ``undo:``
    passed), was undone already, or whose playbook changed."""
    row = store.get_run(run_id)
    if row is None:
        raise InvalidInput(f"no run {run_id} in {store.url}",
                           hint="runner history lists the runs; --store picks the store")
    state = ResumeState.load(store, run_id)
    if not state.undoable:
        raise InvalidInput(f"run {run_id} has nothing to undo: no step with undo: passed in it",
                           hint=f"runner show {run_id} lists what it did")
    if state.undo_end == "undone":
        raise InvalidInput(f"run {run_id} was undone already (every undo step passed)",
                           hint=f"runner show {run_id} lists the undo steps")
    playbook = load_playbook(row["file"], root=root)
    rebuilt(store, run_id, playbook, state)
    attempt = resume_run(store, run_id, playbook=playbook, env=row["environment"],
                         inputs=_given(row, inputs), start=start,
                         stale_after=0.0 if force else stale_after,
                         again=("passed", "failed", "interrupted", "errored"),
                         undo=began_on(row["status"], row["error"], row["hint"],
                                       row["failed_step"]), **start_kw)
    return _taken(attempt, row, run_id, "undone")


def _sandbox_note(row: Mapping[str, Any], playbook: Playbook, state: ResumeState) -> None:
    """A run of the in-process sandbox resumed after it created something there: say, before
    it starts, that its simulators start empty (they ended with the first process), so a step
    that reads what was created (a poll of the job) will not find it. Not refused: resuming in
    the sandbox is how a resume is rehearsed (the create is still not sent again)."""
    if not state.unsafe_sent:
        return
    try:
        env = load_environment(row["environment"], search=Path(playbook.file))
    except RunnerError:
        return  # the resume itself says what is wrong with it
    if not env.sandbox:
        return
    steps = (row.get("fingerprint") or {}).get("steps") or {}
    made = ", ".join(f"step '{steps[k]['trail']}'" if k in steps else k
                     for k in sorted(state.unsafe_sent))
    print(f"note: run {row['run_id']} ran in the sandbox, whose simulators ended with its "
          f"process: this resume starts new, empty ones, so what it sent before ({made}) "
          "is not there, and a step that reads it (a poll of a job) fails. To "
          "rehearse a resume against state that survives, run `runner sandbox --write-env "
          "env.yaml` in another terminal and use --env env.yaml (docs/sandbox.md).",
          file=sys.stderr)


def _given(row: Mapping[str, Any], inputs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inputs recorded (secret ones are masked there), ``inputs`` over them."""
    given = {k: v for k, v in (row["inputs"] or {}).items() if v != MASK}
    given.update(inputs or {})
    return given


def _taken(attempt: Attempt, row: Mapping[str, Any], run_id: str,
           verb: str = "resumed") -> RunResult:
    """The run's result, or why it was not claimed (to be ``verb``)."""
    if attempt.result is not None:
        return attempt.result
    if attempt.outcome == "busy":
        age = time.time() - (row["heartbeat"] or 0)
        raise InvalidInput(f"run {run_id} looks alive (its last sign of life was {age:.0f} s "
                           "ago)", hint="wait, or pass --force if its process is gone")
    why = {"lost": "another process took it up at the same moment",
           "done": f"it is {row['status']}", "waiting": "it waits for its schedule",
           "missing": "it is no longer in the store"}.get(attempt.outcome, attempt.outcome)
    raise InvalidInput(f"run {run_id} cannot be {verb}: {why}",
                       hint=f"runner show {run_id} says where it stands")
