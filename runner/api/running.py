"""``runner.api.run``: one run here, with its console report and the report files asked for."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from runner import tracing
from runner.journal import ResumeState
from runner.launch import launch
from runner.model import Playbook
from runner.results import Listener, RunResult
from runner.secrets import Redactor
from runner.store import Store


def run(
    path: str | Path | Playbook,
    *,
    env: str | None = "sandbox",
    inputs: Mapping[str, Any] | None = None,
    report_json: str | Path | None = None,
    junit: str | Path | None = None,
    report_html: str | Path | None = None,
    stream: IO[str] | None = None,
    quiet: bool = False,
    verbose: bool = False,
    progress: bool = True,
    log_format: str = "text",
    listeners: list[Listener] | None = None,
    redactor: Redactor | None = None,
    sandbox: Any = None,
    store: Store | str | bool | None = None,
    run_id: str | None = None,
    resume: ResumeState | None = None,
    dedup_key: str | None = None,
    cancel: Any = None,
    batch_id: str | None = None,
    batch_row: int | None = None,
    root: str | Path | None = None,
    trace: bool | str | None = None,
    callback_url: str | None = None,
) -> RunResult:
    """Validate and run a playbook, print the console report, write the requested files.

    ``path``: the playbook's file, or a :class:`Playbook` already loaded (and so checked).

    ``store``: a Store, a path or URL, None for the default store, False for none.
    ``progress``: on a terminal, a live line for polls and loops (else plain lines);
    ``verbose``: the console prints every iteration of a loop (else its summary and failures);
    ``log_format``: "text", or "json" for one JSON object per event on ``stream``.
    ``cancel``: a ``threading.Event``; setting it stops the run as Ctrl-C would (resumable).
    ``resume``: the journal of an earlier attempt of ``run_id``, as
    :func:`runner.resume.resume_run` rebuilt it (``runner.api.resume`` takes a run up by its
    id); ``batch_id``, ``batch_row``: the batch this run is a row of.
    ``root``: the folder includes must stay inside (default: the playbook's folder).
    ``trace``: OpenTelemetry spans of the run (:mod:`runner.tracing`): True, "otlp",
    "console", False; None: as ``RUNNER_TRACES`` says (off when unset).
    ``callback_url``: where the run's callback URLs point (a public URL that reaches this
    process's listener; default: the environment's ``callbacks: url:``, else the listener's
    own address, :mod:`runner.callback_listener`).
    """
    if callback_url is not None:
        from runner.callback_listener import configure

        configure(url=callback_url)
    redactor = redactor or Redactor()
    listeners = list(listeners or [])
    console = None
    if not quiet:  # the console's modules load for a run that prints, not for -q
        from runner.progress import console_listener

        console = console_listener(redactor, stream or sys.stdout, progress=progress,
                                   log_format=log_format, verbose=verbose)
        listeners.insert(0, console)
    opened = None
    if store is not False and not isinstance(store, Store):
        opened = store = Store(store if isinstance(store, str) else None)
    try:
        with tracing.session(trace):
            result = launch(path, env=env, inputs=inputs, listeners=listeners,
                            redactor=redactor, root=root, sandbox=sandbox,
                            store=store if isinstance(store, Store) else None,
                            run_id=run_id, resume=resume, dedup_key=dedup_key, cancel=cancel,
                            batch_id=batch_id, batch_row=batch_row)
    finally:
        if opened is not None:
            opened.close()
        if console is not None:
            from runner.progress import LiveProgress

            if isinstance(console, LiveProgress):
                console.close()  # a run that raised leaves no live line behind
    if report_json or junit or report_html:
        # the dict every file is rendered from, masked once: what `runner show` renders too
        report = redactor.redact_data(result.to_dict())
    if report_json or junit:
        from runner.report import write_json, write_junit

        if report_json:
            write_json(report, report_json, redactor)
        if junit:
            write_junit(report, junit, redactor)
    if report_html:
        from runner.report_html import write_html  # its five modules, for --report-html only

        write_html(report, report_html, redactor)
    return result
