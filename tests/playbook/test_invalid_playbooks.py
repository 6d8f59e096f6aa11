"""Each file under tests/bad_playbooks is rejected with the expected message and line.

The first line of each file says what is expected: ``# expect: LINE: text``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT, cli

from runner.errors import EXIT_INVALID, PlaybookError
from runner.playbook import load_playbook

BAD = sorted((ROOT / "tests" / "bad_playbooks").glob("*.yaml"))
NOT_PLAYBOOKS = {"not_a_mapping"}


def expectation(path: Path) -> tuple[int, str]:
    m = re.match(r"# expect: (\d+): (.+)", path.read_text().splitlines()[0])
    assert m, f"{path.name} has no '# expect: LINE: text' first line"
    return int(m.group(1)), m.group(2).strip()


def test_the_corpus_is_big_enough() -> None:
    assert len(BAD) >= 15


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_rejected_with_message_and_line(path: Path) -> None:
    line, text = expectation(path)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    err = info.value
    rendered = err.render()
    assert text in rendered, rendered
    assert err.location is not None
    assert err.location.line == line, rendered
    assert f"{path}:{line}:" in rendered  # file:line:col first
    if path.stem in NOT_PLAYBOOKS:  # no top-level steps: it could be any file, none is shown
        assert " | " not in rendered, rendered
    else:
        assert f"{line} | " in rendered  # the source line is shown


@pytest.mark.parametrize("name", ["unknown_operation", "undefined_variable", "bad_yaml"])
def test_cli_exit_code_and_no_traceback(name: str) -> None:
    path = ROOT / "tests" / "bad_playbooks" / f"{name}.yaml"
    line, text = expectation(path)
    proc = cli("validate", str(path))
    assert proc.returncode == EXIT_INVALID
    assert text in proc.stderr
    assert f":{line}:" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_unknown_operation_lists_the_known_ones() -> None:
    with pytest.raises(PlaybookError) as info:
        load_playbook(ROOT / "tests" / "bad_playbooks" / "unknown_operation.yaml")
    assert "create_distribution" in (info.value.hint or "")
    assert "did you mean 'create_distribution'" in (info.value.hint or "")


def test_invalid_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes(b"name: caf\xe9\nsteps: []\n")
    with pytest.raises(PlaybookError, match="not valid UTF-8"):
        load_playbook(p)


def test_huge_file(tmp_path: Path) -> None:
    p = tmp_path / "huge.yaml"
    p.write_text("name: x\n" + "# padding\n" * 300_000)
    with pytest.raises(PlaybookError, match="over the limit"):
        load_playbook(p)


def test_missing_input_at_run_time_is_exit_2(tmp_path: Path) -> None:
    proc = cli("run", "playbooks/automatos/distribute-package.yaml")
    assert proc.returncode == EXIT_INVALID
    assert "missing input 'hostname'" in proc.stderr
    assert "-i hostname=" in proc.stderr
    assert "distribute-package.yaml:7:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_input_value_and_syntax_exit_2() -> None:
    proc = cli("run", "playbooks/automatos/distribute-package.yaml", "-i", "hostname")
    assert proc.returncode == EXIT_INVALID
    assert "is not key=value" in proc.stderr
