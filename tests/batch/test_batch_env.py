"""A batch reads and checks its environment file once, not once per row; each row's run still
fetches its secrets itself (a ``{secret: {command: ...}}`` runs once per run, as for a run of
its own), and a secret one run fetched is never another run's."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from leakcheck import Echo, started

from runner.batch import run_batch


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    yield from started(Echo())  # type: ignore[misc]
    # the server's threads for the runs' keep-alive connections end as the runs' clients
    # close them: let them, so that tests after this one count the threads they start
    gc.collect()
    for t in threading.enumerate():
        if "process_request_thread" in t.name:
            t.join(10)


def test_the_environment_is_loaded_once_and_secrets_fetched_per_run(
        tmp_path: Path, echo: Echo, monkeypatch: pytest.MonkeyPatch) -> None:
    import runner.environment
    import runner.launch

    # a secret helper like `op read` that gives a new value at every call (a short-lived token)
    (tmp_path / "helper.py").write_text("""\
import os, pathlib
with open(pathlib.Path(__file__).with_name("calls.txt"), "a") as f:
    f.write("called\\n")
print(f"tok-{os.getpid()}-s3cret")
""")
    env = tmp_path / "env.yaml"
    env.write_text(f"""\
secrets:
  token: {{secret: {{command: ['{sys.executable}', helper.py]}}}}
connectors:
  h: {{base_url: '{echo.url}'}}
""")
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: one echo
inputs: {n: {type: integer}}
connectors:
  h: {use: http}
steps:
  - {id: echo, call: h, method: GET, path: /echo/x, query: {t: "{{ secrets.token }}"}}
outputs:
  said: "{{ steps.echo.response.text }}"
""")
    loads: list[str] = []
    real = runner.environment.load_environment

    def counting(name: Any, **kw: Any) -> Any:
        loads.append(str(name))
        return real(name, **kw)

    monkeypatch.setattr(runner.environment, "load_environment", counting)
    monkeypatch.setattr(runner.launch, "load_environment", counting)
    results: list[Any] = []
    summary = run_batch(pb, env=str(env), rows=[{"n": i} for i in range(4)], concurrency=2,
                        store=False, on_result=lambda i, inputs, r, f: results.append(r))
    assert summary.passed == 4, summary.failures
    assert loads == [str(env)]  # read and checked once for the batch, not once per row
    # ... but every run asked the helper itself, once
    assert (tmp_path / "calls.txt").read_text().splitlines() == ["called"] * 4
    # each run sent its own value, and masked it (and only it: the others' it never knew)
    said = [r.outputs["said"] for r in results]
    assert len(said) == 4 and all("s3cret" not in s and "t=***" in s for s in said), said


def test_a_batch_collects_less_often_and_puts_the_collector_back(tmp_path: Path,
                                                                   echo: Echo) -> None:
    import gc

    from runner.batch import GC_YOUNG

    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  h: {{base_url: '{echo.url}'}}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: one echo\ninputs: {n: {type: integer}}\nconnectors:\n  h: {use: http}\n"
                  "steps:\n  - {id: echo, call: h, method: GET, path: /echo/x}\n")
    before = gc.get_threshold()
    during: list[tuple[int, ...]] = []
    frozen: list[int] = []

    def seen(*_: Any) -> None:
        during.append(gc.get_threshold())
        frozen.append(gc.get_freeze_count())

    summary = run_batch(pb, env=str(env), rows=[{"n": i} for i in range(3)], concurrency=3,
                        store=False, on_result=seen)
    assert summary.passed == 3
    assert during == [(max(before[0], GC_YOUNG), *before[1:])] * 3
    assert all(n > 1000 for n in frozen)  # what was loaded before: out of the passes
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_run_s_client_is_freed_when_the_run_ends(tmp_path: Path, echo: Echo,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the cyclic collector (a batch runs it seldom): a closed client holds nothing
    that holds it, so its transport and pools go with the run, not at the next collection."""
    import gc
    import weakref

    import runner.run_state

    made: list[weakref.ref[Any]] = []
    real = runner.run_state.connect

    def kept(*a: Any, **kw: Any) -> Any:
        client = real(*a, **kw)
        made.append(weakref.ref(client))
        return client

    monkeypatch.setattr(runner.run_state, "connect", kept)
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  h: {{base_url: '{echo.url}'}}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: one echo\nconnectors:\n  h: {use: http}\n"
                  "steps:\n  - {id: echo, call: h, method: GET, path: /echo/x}\n")
    gc.collect()
    gc.disable()
    try:
        summary = run_batch(pb, env=str(env), rows=[{}, {}], concurrency=2, store=False)
        assert summary.passed == 2, summary.failures
        assert len(made) == 2 and [r() for r in made] == [None, None]
    finally:
        gc.enable()
