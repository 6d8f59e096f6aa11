"""The console's plain lines on real runs (issue 15): a loop's summary and its failed
iterations (every iteration only with verbose), a poll's attempt as the values its
``poll-until`` reads, and a failure that says the vendor's words first, then runner's, with
the step's file:line."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from helpers import FAST, PLAYBOOKS

from runner import api
from runner.results import FAILED, PASSED, RunResult
from runner.sandbox import Sandbox

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"

LOOKUPS = """\
name: look up machines
inputs:
  hosts: {type: array}
connectors:
  automatos: {use: automatos}
steps:
  - id: lookup
    call: automatos.get_machine
    loop: "{{ inputs.hosts }}"
    loop_var: host
    concurrency: 4
    with: {hostname: "{{ host }}"}
"""


def console(path: Path, inputs: dict[str, Any], tmp_path: Path, **kw: Any
            ) -> tuple[RunResult, str]:
    out = io.StringIO()
    box = Sandbox({k: dict(v) for k, v in FAST.items()})
    try:
        result = api.run(path, inputs=inputs, stream=out, sandbox=box, progress=False,
                         store=False, **kw)
    finally:
        box.stop()
    return result, out.getvalue()


def lookups(tmp_path: Path) -> Path:
    path = tmp_path / "lookups.yaml"
    path.write_text(LOOKUPS)
    return path


def test_a_loop_says_its_summary_and_its_failed_iterations(tmp_path: Path) -> None:
    result, text = console(lookups(tmp_path), {"hosts": ["NTB1", "NOPE", "NTB2", "NTB1"]},
                           tmp_path)
    assert result.status == FAILED
    lines = text.splitlines()
    summary = [ln for ln in lines if "iterations:" in ln]
    assert len(summary) == 1 and re.fullmatch(
        r" +4 iterations: 3 passed, 1 failed · slowest lookup\[[0-3]\] \d+ ms · \d+ ms",
        summary[0]), text
    assert not any(re.search(r"PASS lookup\[\d\]", ln) for ln in lines), text
    failed = [i for i, ln in enumerate(lines) if "FAIL lookup[1]" in ln]
    assert len(failed) == 1, text
    # the failed iteration's lines: the vendor's words, then runner's
    assert lines[failed[0] + 1].strip() == "automatos said: machine not found (HTTP 400)", text
    assert lines[failed[0] + 2].strip().startswith("error: automatos.get_machine"), text


def test_verbose_prints_every_iteration_as_it_ends(tmp_path: Path) -> None:
    result, text = console(lookups(tmp_path), {"hosts": ["NTB1", "NOPE", "NTB2", "NTB1"]},
                           tmp_path, verbose=True)
    assert result.status == FAILED
    for i in (0, 2, 3):
        assert len(re.findall(rf"PASS lookup\[{i}\] ", text)) == 1, text
    assert text.count("FAIL lookup[1]") == 1, text  # not again at the loop's end
    assert text.count("4 iterations: 3 passed, 1 failed") == 1, text


def test_the_summary_counts_every_iteration_not_the_ones_kept(tmp_path: Path) -> None:
    result, text = console(lookups(tmp_path), {"hosts": ["NTB1"] * 25}, tmp_path)
    assert result.status == PASSED
    assert len(result.steps[0].iterations) == 20  # the first and last 10
    assert re.search(r"\n +25 iterations: 25 passed · slowest lookup\[\d+\] \d+ ms · ", text)


def _line_of(path: Path, text: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if text in ln)


def test_a_failure_says_the_vendors_words_first_then_runners_and_file_line(
        tmp_path: Path) -> None:
    result, text = console(DISTRIBUTE, {"hostname": "NTB1", "package": "fail-office.exe"},
                           tmp_path, report_json=str(tmp_path / "r.json"))
    assert result.status == FAILED
    lines = text.splitlines()
    where = f"{DISTRIBUTE}:{_line_of(DISTRIBUTE, '- id: wait')}"
    at = next(i for i, ln in enumerate(lines) if ln.startswith("FAILED at step 'wait'"))
    assert lines[at].startswith(f"FAILED at step 'wait' ({where}) in "), lines[at]
    assert lines[at + 1] == "  automatos said: Installation of fail-office.exe failed", text
    assert lines[at + 2].startswith("  error: automatos.distribution_status gave a terminal "
                                    "answer (fail-if `"), text
    # the step's own lines say it in the same order
    step = next(i for i, ln in enumerate(lines) if ln.startswith("  FAIL wait "))
    said = next(i for i in range(step, at) if "automatos said: Installation" in lines[i])
    assert "error: automatos.distribution_status" in lines[said + 1], text
    # the step's file:line is in its result and its report
    wait = next(s for s in result.steps if s.step_id == "wait")
    assert wait.where == where
    report = json.loads((tmp_path / "r.json").read_text())
    assert [s.get("where") for s in report["steps"]] == [s.where for s in result.steps]
    assert all(re.fullmatch(r".+\.yaml:\d+", s.where) for s in result.steps)


def test_an_assertion_on_an_earlier_answer_quotes_that_answer_first(tmp_path: Path) -> None:
    leaky = Path(__file__).resolve().parent / "playbooks" / "leaky.yaml"
    result, text = console(leaky, {}, tmp_path)
    assert result.status == FAILED
    tail = text[text.index("FAILED at step 'check'"):].splitlines()
    assert tail[0].startswith(f"FAILED at step 'check' ({leaky}:{_line_of(leaky, '- id: check')})")
    assert tail[1] == "  automatos said: Installation of fail-setup.exe failed"
    assert tail[2].startswith("  error: job ") and "(assertion: " in tail[2]


def test_a_polls_attempt_line_says_what_its_expression_reads(tmp_path: Path) -> None:
    result, text = console(DISTRIBUTE, {"hostname": "NTB2"}, tmp_path)
    assert result.status == PASSED
    attempts = [ln for ln in text.splitlines() if ln.startswith("  ...  wait ")]
    assert attempts, text
    for ln in attempts:  # poll-until: "response.json.data.delivered == 'Y'"
        assert re.fullmatch(r"  \.\.\.  wait +attempt \d+ at +\d+\.\d s: "
                            r"delivered = '(scheduled|running)'", ln), ln
