"""Many runs of one playbook at once: one run per row of inputs, each its own run result.

``run_batch`` runs the playbook once per row (:mod:`runner.batch_rows` reads them),
``concurrency`` at a time, each in a greenlet on a few threads (:mod:`runner.park`: a run that
waits holds no thread); every run gets its own run id, connector sessions and tokens,
and a row that fails (a step, an assertion, or invalid inputs) is reported in the summary
(:mod:`runner.batch_summary`) without stopping the others.

In the sandbox all runs share one :class:`~runner.sandbox.Sandbox`, started before the first
run, so a batch of 500 runs talks to one simulator per connector, as it would to one vendor.

With a run store, a batch has a **batch id**, and every row is recorded as a ``queued`` run of
it before the first one starts, then taken up as a worker takes a run
(:func:`runner.resume.resume_run`), so a batch killed mid-way (SIGKILL, a crash) can be
finished (:mod:`runner.batch_resume`, ``runner resume --batch ID``). Each row's run also gets a
key made of the playbook, the environment and the row's inputs (secret inputs masked): running
the same file again does not run a row that already ran; it says which run it was and how it
ended (``again=True`` runs them all anyway). In the sandbox (fresh simulators every time) rows
always run.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from runner.batch_record import new_batch_id, record_rows
from runner.batch_summary import BatchFailure, BatchSummary
from runner.errors import InvalidInput, RunnerError, Terminated
from runner.heartbeats import Hold, hold
from runner.launch import launch, need_notify
from runner.model import Playbook
from runner.ownership import settle as record_failure
from runner.park import THREADS, Flag, Pool
from runner.results import INTERRUPTED, PASSED, RunResult
from runner.resume import resume_run
from runner.store import Store

OnResult = Callable[[int, Mapping[str, Any], "RunResult | None", "BatchFailure | None"], None]


def connector_names(playbook: Playbook) -> set[str]:
    """The connectors a playbook and the playbooks it includes use."""
    names = {ref.use for ref in playbook.connectors.values()}
    for step in (*playbook.steps, *playbook.finally_steps):
        if step.include is not None:
            names |= connector_names(step.include)
    return names


def run_batch(
    path: str | Path,
    *,
    env: str | None = "sandbox",
    rows: Iterable[Mapping[str, Any]],
    concurrency: int,
    sandbox: Any = None,
    on_result: OnResult | None = None,
    store: Any = None,
    again: bool = False,
    on_start: Callable[[BatchSummary], None] | None = None,
    root: str | Path | None = None,
) -> BatchSummary:
    """Run the playbook at ``path`` once per row of inputs, ``concurrency`` runs at a time.

    ``on_result(row_index, inputs, result, failure)`` is called as each run ends (``result`` is
    None when the run could not start; ``failure`` is None when it passed); calls are made one
    at a time, in completion order. Ctrl-C (KeyboardInterrupt) stops the batch instead of
    raising: rows not started yet are not started (``summary.not_started``), runs under way are
    stopped at their next step or wait as ``interrupted`` (resumable), and the summary says so.
    The playbook is validated once before any run starts, so an
    invalid playbook raises :class:`~runner.errors.InvalidInput` and nothing runs.

    ``store`` is passed to every run (a Store, a path or URL, None for the default store,
    False for none); a path or None opens one store for the whole batch, shared by the runs.
    With a store the batch gets an id and its rows are recorded first (see the module's
    notes); ``on_start(summary)`` is called then, with ``batch_id`` and ``already_ran`` set.
    ``again``: run the rows an earlier batch of the same file ran already, too.
    """
    from runner.environment import load_environment
    from runner.inputs import masked_inputs
    from runner.ownership import new_owner
    from runner.playbook import load_playbook
    from runner.run_ids import new_run_id
    from runner.sandbox import Sandbox

    if concurrency < 1:
        raise InvalidInput(f"concurrency must be at least 1, got {concurrency}")
    table = [dict(r) for r in rows]
    playbook = load_playbook(path, root=root)  # fail once, before any run, on an invalid playbook
    environment = load_environment(env, search=Path(path))
    need_notify(playbook, environment)  # once, not on every row
    own_sandbox = sandbox is None and environment.sandbox
    if own_sandbox:
        sandbox = Sandbox(environment.simulators)
    summary = BatchSummary(total=len(table), run_ids=[""] * len(table))
    report_lock = threading.Lock()
    running: set[threading.Event] = set()  # one per run under way, to stop it on Ctrl-C
    stopping = threading.Event()
    opened = None
    waiting: Hold | None = None

    recorded: dict[int, str] = {}  # row -> the queued run recorded for it
    owner = new_owner()

    def one(index: int) -> tuple[RunResult | None, BatchFailure | None]:
        inputs = table[index]
        shown = masked_inputs(playbook, inputs)  # a failure never shows a secret input
        cancel = Flag()  # a threading.Event, its Condition made only if a thread waits
        # known here, so a run that raised is still accounted for
        run_id = recorded.get(index) or new_run_id()
        with report_lock:
            running.add(cancel)
            if stopping.is_set():
                cancel.set()
        try:
            if index in recorded:  # recorded as queued: claimed as a worker would (a resume
                # of the batch may have taken it meanwhile), unfenced as it always was
                attempt = resume_run(store, run_id, playbook=playbook, env=environment,
                                     inputs=inputs, owner=owner, fence=False,
                                     sandbox=sandbox, cancel=cancel)
                if attempt.result is None:
                    return None, BatchFailure(index, shown, f"run {run_id} was taken up by "
                                              f"another process ({attempt.outcome})",
                                              run_id=run_id, status="taken")
                result = attempt.result
            else:  # no store, or inputs that fail when the run starts, with the reason
                result = launch(playbook, env=environment, inputs=inputs, sandbox=sandbox,
                                cancel=cancel, store=store if isinstance(store, Store) else None,
                                run_id=run_id)
        except RunnerError as e:  # invalid inputs for this row: the others still run
            kept = settle(store, run_id, e.message, e.hint)
            return None, BatchFailure(index, shown, e.message, hint=e.hint,
                                      run_id=run_id if kept else None)
        except Exception as e:  # an internal error in one run must not sink the batch
            error = f"internal error: {type(e).__name__}"
            kept = settle(store, run_id, error, None)
            return None, BatchFailure(index, shown, error, run_id=run_id if kept else None)
        finally:
            with report_lock:
                running.discard(cancel)
        if result.status == PASSED:
            return result, None
        return result, BatchFailure(
            index, shown, result.error or result.status, run_id=result.run_id,
            failed_step=result.failed_step, status=result.status, hint=result.hint)

    def record(index: int, result: RunResult | None, failure: BatchFailure | None) -> None:
        with report_lock:
            if result is not None:
                summary.run_ids[index] = result.run_id
                summary.durations_ms.append(result.duration_ms)
            elif failure is not None and failure.run_id:
                summary.run_ids[index] = failure.run_id  # recorded, then it raised
            if failure is None:
                summary.passed += 1
            else:
                if failure.status == INTERRUPTED:
                    summary.interrupted += 1
                else:
                    summary.failed += 1
                summary.failures.append(failure)
            if on_result is not None:
                on_result(index, table[index], result, failure)

    started = time.perf_counter()
    try:
        if sandbox is not None:
            # started once, here: parallel runs would otherwise race to start one simulator
            sandbox.start(sorted(connector_names(playbook)))
        if store is None or isinstance(store, str):
            # one store for the batch: a store opened by each run would be migrated by
            # hundreds of runs at once
            opened = store = Store(store)
        if store is not False:
            summary.batch_id = new_batch_id()
            recorded, summary.already_ran = record_rows(store, playbook, environment, table,
                                                         summary.batch_id, again, owner)
            # the rows waiting their turn look alive as long as the batch does
            waiting = hold(store, owner=owner)
            for a in summary.already_ran:
                summary.run_ids[a.row] = a.run_id
        if on_start is not None:
            on_start(summary)
        todo = [i for i in range(len(table))
                if i not in {a.row for a in summary.already_ran}]
        # each run a greenlet on a few hub threads: a waiting run holds no thread (runner.park)
        with fewer_collections(), fewer_arenas(), \
                Pool(min(concurrency, len(todo), THREADS)) as pool:
            # each run's end comes back on one queue (row, what one() returned, what it
            # raised): no Future per run (its Condition, RLock and deque: ~1.5 KB each)
            ended: queue.SimpleQueue[tuple[int, Any, BaseException | None]] = \
                queue.SimpleQueue()
            under_way = 0

            def begin(i: int) -> None:
                pool.start(one, (i,), lambda value, error: ended.put((i, value, error)))

            def take() -> None:
                nonlocal under_way
                i, value, error = ended.get()  # Ctrl-C interrupts this wait as it did wait()
                under_way -= 1
                if error is not None:
                    raise error
                record(i, *value)

            queued = iter(todo)
            try:
                for i in itertools.islice(queued, concurrency):
                    begin(i)
                    under_way += 1
                while under_way:
                    take()
                    for i in itertools.islice(queued, 1):
                        begin(i)
                        under_way += 1
            except KeyboardInterrupt as e:
                # Ctrl-C: rows not started never start; runs under way stop at their next
                # step or wait, as interrupted (resumable), after their finally steps
                summary.stopped_by = "SIGTERM" if isinstance(e, Terminated) else "Ctrl-C"
                with report_lock:
                    stopping.set()
                    for cancel in running:
                        cancel.set()
                pool.poke()  # parked runs see their cancel now, not at their wake time
                summary.not_started.extend(queued)
                while under_way:  # a second Ctrl-C here leaves them to finish
                    take()
    finally:
        summary.wall_seconds = time.perf_counter() - started
        summary.failures.sort(key=lambda f: f.row)
        summary.not_started.sort()
        if waiting is not None:
            waiting.release()
        if opened is not None:
            opened.close()
        if own_sandbox and sandbox is not None:
            sandbox.stop()
    return summary


GC_YOUNG = 20_000  # allocations between two young collections while a batch runs (Python: 700)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """While a batch runs: what was loaded before it (modules, the playbook) is left out of the
    cyclic collector's passes (``gc.freeze``) and the young generation is collected every
    ``GC_YOUNG`` allocations, not 700. Thousands of runs at once make millions of live objects
    and few cycles (a 1,000-row batch: ~550 objects freed by the collector in all, and none
    by a full collection mid-batch): its passes were ~7 % of a batch's CPU, now ~2 %. Put back
    as they were afterwards."""
    import gc

    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], GC_YOUNG), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


ARENAS = 2  # glibc malloc arenas while a batch runs (its default: 8 a core, one per thread)


@contextlib.contextmanager
def fewer_arenas() -> Iterator[None]:
    """While a batch runs, glibc's malloc makes at most ``ARENAS`` arenas (``M_ARENA_MAX``, as
    ``MALLOC_ARENA_MAX`` would): the hubs' 16 threads otherwise each get an arena of their own,
    and a parked run's greenlet stack and larger objects are spread over them, each arena with
    its own free space. The threads take turns under the GIL, so sharing arenas costs no
    waiting. Set back to glibc's default (0) afterwards, though glibc may keep the limit it
    worked out meanwhile for the rest of the process, and arenas made stay: harmless, the same
    reasoning holds after the batch. Nothing on a libc without ``mallopt`` (musl, macOS)."""
    mallopt = _mallopt()
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, ARENAS)
    try:
        yield
    finally:
        if mallopt is not None:
            mallopt(_M_ARENA_MAX, 0)  # 0: glibc's own count again


_M_ARENA_MAX = -8  # glibc's malloc.h


def _mallopt() -> Callable[[int, int], int] | None:
    import sys

    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        fn: Callable[[int, int], int] = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a libc without it (musl has none)
        return None
    return fn


def settle(store: Any, run_id: str, error: str, hint: str | None) -> bool:
    """A run that raised instead of ending: recorded failed if the engine left it running, so
    that the store says what the summary says. True if the run is in the store."""
    return isinstance(store, Store) and record_failure(store, run_id, error, hint)
