"""Many runs of one playbook at once: one run per row of inputs, each its own run result.

``read_rows`` reads the rows from a JSON-lines file (one JSON object per line) or a CSV file
(the header row names the inputs; an empty cell means "not given", so the input's default
applies). ``run_batch`` runs the playbook once per row through :func:`runner.api.run` on a
thread pool of ``concurrency`` workers; every run gets its own run id, connector sessions and
tokens, and a row that fails (a step, an assertion, or invalid inputs) is reported in the
summary without stopping the others.

In the sandbox all runs share one :class:`~runner.sandbox.Sandbox`, started before the first
run, so a batch of 500 runs talks to one simulator per connector, as it would to one vendor.

With a run store, a batch has a **batch id**, and every row is recorded as a ``queued`` run of
it before the first one starts, so a batch killed mid-way (SIGKILL, a crash) can be finished:
:func:`resume_batch` (``runner resume --batch ID``) runs the rows that did not end — not
started, interrupted, or killed while running — and lists, without sending anything, the rows
whose outcome is unknown and the rows that failed. Each row's run also gets a key made of the
playbook, the environment and the row's inputs (secret inputs masked): running the same file
again does not run a row that already ran; it says which run it was and how it ended
(``again=True`` runs them all anyway). In the sandbox (fresh simulators every time) rows always
run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import secrets as _secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput, RunnerError, Terminated
from runner.model import Playbook
from runner.results import FAILED, INTERRUPTED, PASSED, RunResult

OnResult = Callable[[int, Mapping[str, Any], "RunResult | None", "BatchFailure | None"], None]


@dataclass
class BatchFailure:
    """One row that did not pass: its position, its inputs and why."""

    row: int  # 0-based position in ``rows``
    inputs: dict[str, Any]
    error: str
    run_id: str | None = None  # None when the run could not start (invalid inputs)
    failed_step: str | None = None
    status: str = FAILED
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AlreadyRan:
    """A row that an earlier batch of the same file ran already: it is not run again."""

    row: int
    run_id: str
    status: str
    batch_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class BatchSummary:
    """What a batch did: counts, timings, every run id, and the failures."""

    batch_id: str | None = None  # None without a run store
    already_ran: list[AlreadyRan] = field(default_factory=list)
    total: int = 0
    passed: int = 0
    failed: int = 0
    interrupted: int = 0  # runs stopped by Ctrl-C: resumable with `runner resume`
    not_started: list[int] = field(default_factory=list)  # rows Ctrl-C kept from starting
    stopped_by: str = "Ctrl-C"  # or SIGTERM: which one stopped it, for the summary to say
    wall_seconds: float = 0.0
    durations_ms: list[float] = field(default_factory=list)  # per run, in completion order
    run_ids: list[str] = field(default_factory=list)  # per row; "" for a run that never started
    failures: list[BatchFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        before = sum(1 for a in self.already_ran if a.status == PASSED)
        return self.failed == 0 and self.passed + before == self.total

    @property
    def stopped(self) -> bool:
        """Ctrl-C stopped the batch before every row ran to its end."""
        return bool(self.interrupted or self.not_started)

    def percentile_ms(self, q: float) -> float:
        """The ``q`` quantile (0..1) of the run durations, nearest rank; 0.0 when none."""
        if not self.durations_ms:
            return 0.0
        ordered = sorted(self.durations_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "already_ran": [a.to_dict() for a in self.already_ran],
            "total": self.total, "passed": self.passed, "failed": self.failed,
            "interrupted": self.interrupted, "not_started": self.not_started,
            "wall_seconds": round(self.wall_seconds, 3),
            "run_ms": {"p50": round(self.percentile_ms(0.5), 1),
                       "p95": round(self.percentile_ms(0.95), 1),
                       "max": round(max(self.durations_ms, default=0.0), 1)},
            "run_ids": self.run_ids,
            "failures": [f.to_dict() for f in self.failures],
        }


# -- reading rows ----------------------------------------------------------------------------

def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of inputs from a ``.jsonl`` (or ``.ndjson``) or ``.csv`` file."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise InvalidInput(f"{p}: cannot read rows of inputs from a '{suffix or 'bare'}' file",
                           hint="give a .jsonl file (one JSON object per line) or a .csv file "
                           "whose header row names the inputs")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise InvalidInput(f"{p}: {e.strerror or e}", hint="check the path") from None
    except UnicodeDecodeError as e:
        raise InvalidInput(f"{p}: not UTF-8 text ({e.reason})") from None
    return _read_csv(p, text) if suffix == ".csv" else _read_jsonl(p, text)


def _read_jsonl(p: Path, text: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise InvalidInput(f"{p}:{number}: not valid JSON: {e}",
                               hint="each line must be one JSON object of inputs") from None
        if not isinstance(row, dict):
            raise InvalidInput(f"{p}:{number}: expected a JSON object of inputs, got "
                               f"{type(row).__name__}",
                               hint='write one object per line, e.g. {"hostname": "NTB1"}')
        rows.append(row)
    return rows


def _read_csv(p: Path, text: str) -> list[dict[str, Any]]:
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise InvalidInput(f"{p}:1: the CSV file has no header row",
                           hint="the first row names the inputs, e.g. hostname,department")
    names = [h.strip() for h in header]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise InvalidInput(f"{p}:1: every column needs a distinct input name, got {names}")
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        number = reader.line_num
        if len(cells) > len(names):
            raise InvalidInput(f"{p}:{number}: {len(cells)} cells for {len(names)} columns",
                               hint="quote cells that contain commas")
        # an empty cell is "not given": the input's default applies
        rows.append({n: c for n, c in zip(names, cells, strict=False) if c != ""})
    return rows


# -- running ---------------------------------------------------------------------------------

def connector_names(playbook: Playbook) -> set[str]:
    """The connectors a playbook and the playbooks it includes use."""
    names = {ref.use for ref in playbook.connectors.values()}
    for step in (*playbook.steps, *playbook.finally_steps):
        if step.include is not None:
            names |= connector_names(step.include)
    return names


def new_batch_id() -> str:
    return "b" + time.strftime("%Y%m%d-%H%M%S") + "-" + _secrets.token_hex(3)


def row_key(file: str, environment: str, inputs: Mapping[str, Any], occurrence: int) -> str:
    """The key of one row's run: the same playbook, environment and inputs (secret inputs
    masked: the store never holds a hash of a secret) make the same key; ``occurrence`` tells
    apart identical rows of one file."""
    text = json.dumps([file, environment, inputs, occurrence], sort_keys=True,
                      ensure_ascii=False, default=str)
    return "row:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def _record_rows(store: Any, playbook: Playbook, environment: Any, table: list[dict[str, Any]],
                 batch_id: str, again: bool) -> tuple[dict[int, str], list[AlreadyRan]]:
    """Record each row whose inputs are valid as a queued run of the batch, before any runs;
    the run id of each row recorded, and the rows an earlier batch ran already."""
    from runner.fingerprint import fingerprint
    from runner.inputs import coerce_inputs, masked_inputs, new_run_id

    file = str(Path(playbook.file).resolve())
    where = str(Path(environment.source).resolve()) if environment.source else environment.name
    made = fingerprint(playbook)
    keyed = not again and not environment.sandbox
    seen: dict[str, int] = {}
    records: list[dict[str, Any]] = []
    indexes: list[int] = []
    for index, inputs in enumerate(table):
        try:
            shown = masked_inputs(playbook, coerce_inputs(playbook, inputs))
        except RunnerError:
            continue  # it fails when its turn comes, with the reason
        key = None
        if keyed:
            plain = json.dumps(shown, sort_keys=True, default=str)
            seen[plain] = seen.get(plain, -1) + 1
            key = row_key(file, where, shown, seen[plain])
        records.append({"run_id": new_run_id(), "playbook": playbook.name, "file": file,
                        "environment": where, "inputs": shown, "dedup_key": key,
                        "fingerprint": made, "batch_id": batch_id, "batch_row": index})
        indexes.append(index)
    taken = store.create_runs(records)
    earlier = store.dedup_keys_taken(sorted(taken)) if taken else {}
    run_ids: dict[int, str] = {}
    already: list[AlreadyRan] = []
    for index, record in zip(indexes, records, strict=True):
        if record["dedup_key"] in taken:
            old = earlier.get(record["dedup_key"]) or {}
            already.append(AlreadyRan(index, str(old.get("run_id", "")),
                                      str(old.get("status", "unknown")), old.get("batch_id")))
        else:
            run_ids[index] = record["run_id"]
    return run_ids, already


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
    from runner import api
    from runner.environment import load_environment
    from runner.inputs import masked_inputs, new_run_id
    from runner.ownership import claim_run, new_owner
    from runner.playbook import load_playbook
    from runner.sandbox import Sandbox

    if concurrency < 1:
        raise InvalidInput(f"concurrency must be at least 1, got {concurrency}")
    table = [dict(r) for r in rows]
    playbook = load_playbook(path, root=root)  # fail once, before any run, on an invalid playbook
    environment = load_environment(env, search=Path(path))
    own_sandbox = sandbox is None and environment.sandbox
    if own_sandbox:
        sandbox = Sandbox(environment.simulators)
    summary = BatchSummary(total=len(table), run_ids=[""] * len(table))
    report_lock = threading.Lock()
    running: set[threading.Event] = set()  # one per run under way, to stop it on Ctrl-C
    stopping = threading.Event()
    opened = None

    recorded: dict[int, str] = {}  # row -> the queued run recorded for it
    owner = new_owner()

    def one(index: int) -> tuple[RunResult | None, BatchFailure | None]:
        inputs = table[index]
        shown = masked_inputs(playbook, inputs)  # a failure never shows a secret input
        cancel = threading.Event()
        # known here, so a run that raised is still accounted for
        run_id, resume = recorded.get(index) or new_run_id(), None
        with report_lock:
            running.add(cancel)
            if stopping.is_set():
                cancel.set()
        try:
            if index in recorded:  # recorded as queued: take it as a worker would
                claim = claim_run(store, run_id, owner)
                if claim.outcome != "claimed":
                    return None, BatchFailure(index, shown, f"run {run_id} was taken up by "
                                              f"another process ({claim.outcome})",
                                              run_id=run_id, status="taken")
                resume = claim.resume
            result = api.run(playbook, env=env, inputs=inputs, quiet=True, sandbox=sandbox,
                             cancel=cancel, store=store, run_id=run_id, resume=resume)
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
            from runner.store import Store

            # one store for the batch: a store opened by each run would be migrated by
            # hundreds of runs at once
            opened = store = Store(store)
        if store is not False:
            summary.batch_id = new_batch_id()
            recorded, summary.already_ran = _record_rows(store, playbook, environment, table,
                                                         summary.batch_id, again)
            for a in summary.already_ran:
                summary.run_ids[a.row] = a.run_id
        if on_start is not None:
            on_start(summary)
        todo = [i for i in range(len(table))
                if i not in {a.row for a in summary.already_ran}]
        with ThreadPoolExecutor(max_workers=min(concurrency, max(1, len(table))),
                                thread_name_prefix="batch") as pool:
            pending: dict[Future[Any], int] = {pool.submit(one, i): i for i in todo}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        record(pending.pop(future), *future.result())
            except KeyboardInterrupt as e:
                # Ctrl-C: rows not started never start; runs under way stop at their next
                # step or wait, as interrupted (resumable), after their finally steps
                summary.stopped_by = "SIGTERM" if isinstance(e, Terminated) else "Ctrl-C"
                with report_lock:
                    stopping.set()
                    for cancel in running:
                        cancel.set()
                for future, index in list(pending.items()):
                    if future.cancel():
                        summary.not_started.append(index)
                        del pending[future]
                for future in list(pending):  # a second Ctrl-C here leaves them to finish
                    record(pending.pop(future), *future.result())
    finally:
        summary.wall_seconds = time.perf_counter() - started
        summary.failures.sort(key=lambda f: f.row)
        summary.not_started.sort()
        if opened is not None:
            opened.close()
        if own_sandbox and sandbox is not None:
            sandbox.stop()
    return summary


def settle(store: Any, run_id: str, error: str, hint: str | None) -> bool:
    """A run that raised instead of ending: recorded failed if the engine left it running, so
    that the store says what the summary says. True if the run is in the store."""
    from runner.ownership import settle as record_failure
    from runner.store import Store

    return isinstance(store, Store) and record_failure(store, run_id, error, hint)


# -- showing ---------------------------------------------------------------------------------

def format_failure(f: BatchFailure) -> str:
    """One line for a row that did not pass."""
    where = f"{f.run_id}  " if f.run_id else "not started  "
    step = f"{f.failed_step}: " if f.failed_step else ""
    return f"{f.status}  {where}{step}{f.error}"


def format_summary(summary: BatchSummary, source: str | Path = "") -> str:
    """The summary printed at the end of a batch: counts, time, and each failure."""
    ran = summary.total - len(summary.not_started)
    rate = ran / summary.wall_seconds if summary.wall_seconds else 0.0
    batch = f" (batch {summary.batch_id})" if summary.batch_id else ""
    lines = [
        f"{summary.total} runs{f' from {source}' if source else ''}{batch}: "
        f"{summary.passed} passed, {summary.failed} failed"
        + (f", {len(summary.already_ran)} already ran" if summary.already_ran else "")
        + (f", {summary.interrupted} interrupted" if summary.interrupted else "")
        + (f", {len(summary.not_started)} not started" if summary.not_started else "")
        + f" in {summary.wall_seconds:.1f} s ({rate:.1f} runs/s; one run "
        f"p50 {summary.percentile_ms(0.5) / 1000:.1f} s, "
        f"p95 {summary.percentile_ms(0.95) / 1000:.1f} s)"]
    for f in summary.failures:
        lines.append(f"  row {f.row + 1}: {format_failure(f)}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    if summary.failures:
        lines.append("  runner show RUN_ID shows a run's steps; fix and run the failed rows again")
    if summary.already_ran:
        lines.append(f"  {len(summary.already_ran)} rows ran already in an earlier batch and "
                     "were not run again (--again runs them anyway)")
    if summary.interrupted:
        lines.append("  interrupted runs continue with: runner resume RUN_ID"
                     + (f", or all at once: runner resume --batch {summary.batch_id}"
                        if summary.batch_id else ""))
    if summary.not_started:
        rows = ", ".join(str(i + 1) for i in summary.not_started[:20])
        more = f" and {len(summary.not_started) - 20} more" if len(summary.not_started) > 20 else ""
        lines.append(f"  stopped by {summary.stopped_by} before rows {rows}{more} started")
    return "\n".join(lines)


def format_already(a: AlreadyRan) -> str:
    """One line for a row an earlier batch ran already."""
    where = f" in batch {a.batch_id}" if a.batch_id else ""
    return f"already ran  {a.run_id}  {a.status}{where}"


# -- resuming a batch ------------------------------------------------------------------------

@dataclass
class RowOutcome:
    """What ``runner resume --batch`` did with one row of the batch."""

    row: int
    run_id: str
    outcome: str  # passed-before | resumed | unknown | failed-before | running | not-resumed
    status: str  # the run's status after this
    detail: str = ""
    result: RunResult | None = None


def resume_batch(batch_id: str, *, store: Any, inputs: Mapping[str, Any] | None = None,
                 concurrency: int = 10, force: bool = False,
                 on_row: Callable[[RowOutcome], None] | None = None) -> list[RowOutcome]:
    """Finish a batch that was stopped (killed, Ctrl-C): run the rows that did not end.

    Rows that passed are left alone. Rows that did not end — never started (``queued``),
    ``interrupted``, or ``running`` with a stale heartbeat (``force``: even a fresh one) — are
    resumed (:func:`runner.api.resume`: finished steps restored, nothing sent twice). A row
    whose journal holds a request not safe to repeat with an unknown outcome is listed and not
    resumed (``runner resume RUN_ID`` it, after checking on the vendor's side, or let its
    ``resume-check`` find out); a row that failed is listed (``runner resume RUN_ID`` tries it
    again). ``inputs``: given to every resumed row (secret inputs are not stored).
    """
    from runner import api
    from runner.journal import ResumeState
    from runner.ownership import STALE_AFTER

    rows = store.batch_runs(batch_id)
    if not rows:
        raise InvalidInput(f"no batch {batch_id} in the run store {store.url}",
                           hint="runner run --inputs-from prints its batch id when it starts; "
                           "--store picks the store")
    outcomes: list[RowOutcome] = []
    lock = threading.Lock()

    def done(o: RowOutcome) -> None:
        with lock:
            outcomes.append(o)
            if on_row is not None:
                on_row(o)

    todo: list[dict[str, Any]] = []
    now = time.time()
    for row in rows:
        run_id, status, index = row["run_id"], row["status"], int(row["batch_row"] or 0)
        if status in (PASSED, "skipped"):
            done(RowOutcome(index, run_id, "passed-before", status))
            continue
        if status == "running" and not force and \
                now - (row["heartbeat"] or 0) < STALE_AFTER:
            done(RowOutcome(index, run_id, "running", status,
                            "it looks alive; --force if its process is gone"))
            continue
        state = ResumeState.load(store, run_id)
        unknown = sorted(k for k, v in state.unsafe_outcome.items() if v == "unknown")
        if unknown:
            done(RowOutcome(index, run_id, "unknown", status,
                            f"a request not safe to repeat ({unknown[0]}) was sent and "
                            f"{state.why(unknown[0])}; it is not sent again"))
            continue
        if status == FAILED:
            done(RowOutcome(index, run_id, "failed-before", status, row.get("error") or ""))
            continue
        todo.append(row)

    def one(row: dict[str, Any]) -> RowOutcome:
        index = int(row["batch_row"] or 0)
        try:
            result = api.resume(row["run_id"], store=store, inputs=inputs, force=force,
                                quiet=True)
        except RunnerError as e:
            return RowOutcome(index, row["run_id"], "not-resumed", row["status"],
                              e.with_hint())
        return RowOutcome(index, row["run_id"], "resumed", result.status,
                          result.error or "", result)

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(todo) or 1)),
                            thread_name_prefix="resume") as pool:
        for outcome in pool.map(one, todo):
            done(outcome)
    outcomes.sort(key=lambda o: o.row)
    return outcomes


def write_summary(summary: BatchSummary, path: str | Path) -> None:
    """The summary as JSON (``--report-json`` with ``--inputs-from``)."""
    Path(path).write_text(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False,
                                     default=str) + "\n", encoding="utf-8")


__all__ = ["AlreadyRan", "BatchFailure", "BatchSummary", "RowOutcome", "format_already",
           "format_failure", "format_summary", "read_rows", "resume_batch", "run_batch",
           "write_summary"]
