"""The JUnit file as a JUnit consumer reads it (junitparser): the suite's ISO 8601 timestamp,
one testcase per step with its file and line, the vendor's words first in a failure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from helpers import PLAYBOOKS, run_playbook
from junitparser import Attr, Failure, JUnitXml, Skipped, TestCase

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"


class Case(TestCase):  # type: ignore[misc]
    """A testcase with the attributes pytest's JUnit files carry too."""

    file = Attr()
    line = Attr()


def test_a_junit_consumer_reads_steps_lines_and_times(tmp_path: Path) -> None:
    out = run_playbook(DISTRIBUTE, tmp_path, {"hostname": "NTB2", "package": "fail-setup.exe"})
    result = out.result
    assert result.status == "failed"
    xml = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    (suite,) = list(xml)
    assert suite.name == result.playbook
    assert (suite.tests, suite.failures, suite.errors) == (len(result.steps), 1, 0)
    # ISO 8601 in UTC, to the second, the run's start
    stamp = dt.datetime.strptime(suite.timestamp, "%Y-%m-%dT%H:%M:%SZ")
    assert abs(stamp.replace(tzinfo=dt.timezone.utc).timestamp() - result.started) < 1
    props = {p.name: p.value for p in suite.properties()}
    assert props == {"run_id": result.run_id, "environment": "sandbox", "status": "failed"}
    cases = [Case.fromelem(c) for c in suite]
    assert len(cases) == len(result.steps)
    lines = DISTRIBUTE.read_text().splitlines()
    for case, step in zip(cases, result.steps, strict=True):
        assert case.file == str(DISTRIBUTE) and case.classname == str(DISTRIBUTE)
        assert step.where == f"{case.file}:{case.line}"
        assert case.name == f"{step.step_id} ({step.target}) at {step.where}"
        # the line is the step's own: its first key is on it
        assert lines[int(case.line) - 1].lstrip().startswith("- ")
        assert abs(case.time - step.duration_ms / 1000) < 0.002
    (failed,) = [c for c in cases if c.result]
    assert failed.name.startswith("wait ") and failed.line == "27"
    (failure,) = failed.result
    assert isinstance(failure, Failure)
    # the vendor's words, then the expression that caught them
    assert failure.message.startswith("Installation of fail-setup.exe failed · ")
    assert "delivered not in" in failure.message
    assert failure.text.splitlines()[0] == "Installation of fail-setup.exe failed"


def test_a_skipped_step_is_skipped(tmp_path: Path) -> None:
    playbook = tmp_path / "skip.yaml"
    playbook.write_text("""name: skips
steps:
  - id: never
    when: false
    assert: ["1 == 1"]
  - id: once
    assert: ["1 == 1"]
""")
    run_playbook(playbook, tmp_path)
    (suite,) = list(JUnitXml.fromfile(str(tmp_path / "junit.xml")))
    never, once = (Case.fromelem(c) for c in suite)
    assert isinstance(never.result[0], Skipped) and never.line == "3" and not once.result
    assert suite.skipped == 1 and once.line == "6"
