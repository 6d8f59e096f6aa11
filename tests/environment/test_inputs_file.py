"""Inputs people already keep in files: ``-i @vars.yaml`` (and ``.json``) merged left to right
with ``-i key=value``, the values keeping their types, secret ones masked; and
``--inputs-from rows.yaml`` (a list of mappings, one run per row). Through the installed
``runner`` command, as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import cli

from runner.batch_rows import read_rows
from runner.errors import EXIT_INVALID, EXIT_OK, PlaybookError

SECRET = "vars-file-s3cret-Pz4"


def playbook(tmp_path: Path) -> Path:
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: typed inputs
inputs:
  host: {type: string}
  tags: {type: array}
  port: {type: integer, default: 22}
  flags: {type: object, default: {}}
  pin: {type: string, secret: true, default: none}
steps:
  - assert:
      that: >-
        inputs.tags | length == 2 and inputs.tags[0] == 'a' and inputs.port + 1 == 8081
        and (inputs.flags.fast is true or inputs.flags == {})
      message: "wrong types: {{ inputs }}"
  - assert:
      that: "false"
      message: "host={{ inputs.host }} pin={{ inputs.pin }} port={{ inputs.port }}"
""")
    return pb


def run(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, object]]:
    report = tmp_path / "r.json"
    report.unlink(missing_ok=True)
    proc = cli("run", str(playbook(tmp_path)), "--no-progress", "--report-json", str(report),
               *args, cwd=tmp_path)
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, proc.stdout + proc.stderr, data


def test_a_yaml_file_of_inputs_keeps_types_and_later_i_values_win(tmp_path: Path) -> None:
    (tmp_path / "vars.yaml").write_text(f"host: from-file\ntags: [a, b]\nport: 8080\n"
                                        f"flags: {{fast: true}}\npin: {SECRET}\n")
    code, out, report = run(tmp_path, "-i", "host=first", "-i", "@vars.yaml",
                            "-i", "host=last")
    assert code == 1, out  # the second assert fails on purpose, to show the values
    assert "host=last pin=*** port=8080" in out, out  # the types held: the first assert passed
    assert SECRET not in out and SECRET not in json.dumps(report)
    assert report["inputs"]["pin"] == "***" and report["inputs"]["tags"] == ["a", "b"]


def test_a_json_file_of_inputs_and_a_later_file_over_an_earlier_one(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"host": "from-a", "tags": ["a", "x"],
                                                 "port": 1}))
    (tmp_path / "b.yml").write_text("port: '8080'\n")  # text, turned into the declared type
    code, out, _ = run(tmp_path, "-i", "@a.json", "-i", "@b.yml")
    assert code == 1 and "host=from-a pin=*** port=8080" in out, out


@pytest.mark.parametrize(("content", "words"), [
    (None, "-i @vars.yaml: no such file"),
    ("- a\n- b\n", "vars.yaml:1:1: a file of inputs must be a mapping of name: value, got a list"),
    (f"host: '{SECRET}\n", "vars.yaml:2:1: invalid YAML"),
    ("", "got nothing"),
])
def test_a_bad_file_of_inputs_is_named_with_its_line(tmp_path: Path, content: str | None,
                                                      words: str) -> None:
    if content is not None:
        (tmp_path / "vars.yaml").write_text(content)
    code, out, _ = run(tmp_path, "-i", "@vars.yaml")
    assert code == EXIT_INVALID, out
    assert words in out and "hint:" in out and "Traceback" not in out
    assert SECRET not in out  # a vars file's lines are never shown


def test_a_name_the_playbook_does_not_declare_is_said_at_its_line(tmp_path: Path) -> None:
    """It said only 'pb.yaml: playbook has no input' and the file it came from was a guess;
    a later -i of the same name is the one that counts, and has no line."""
    (tmp_path / "vars.yaml").write_text("host: h\ntags: [a, b]\nhots: typo\n")
    code, out, _ = run(tmp_path, "-i", "@vars.yaml")
    assert code == EXIT_INVALID, out
    assert "error: vars.yaml:3: " in out and "playbook has no input 'hots'" in out, out
    code, out, _ = run(tmp_path, "-i", "@vars.yaml", "-i", "hots=again")
    assert code == EXIT_INVALID and "vars.yaml" not in out and "no input 'hots'" in out, out


def test_inputs_from_a_yaml_list_runs_once_per_row(tmp_path: Path) -> None:
    pb = tmp_path / "rows.pb.yaml"
    pb.write_text("name: rows\ninputs:\n  tags: {type: array}\n  n: {type: integer}\nsteps:\n"
                  "  - assert: {that: 'inputs.tags | length == inputs.n'}\n")
    rows = tmp_path / "rows.yaml"
    rows.write_text("- {tags: [a, b], n: 2}\n- tags: [a]\n  n: 1\n- {tags: [], n: 5}\n")
    proc = cli("run", str(pb), "--inputs-from", str(rows), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "3 runs from" in proc.stdout and "2 passed, 1 failed" in proc.stdout
    assert "row 3: failed" in proc.stdout


def test_read_rows_of_yaml_names_the_line_of_a_bad_row(tmp_path: Path) -> None:
    rows = tmp_path / "rows.yml"
    rows.write_text("- {a: 1}\n\n- [not, a, mapping]\n")
    with pytest.raises(PlaybookError) as info:
        read_rows(rows)
    assert info.value.render().startswith(f"error: {rows}:3:3: row 2: expected a mapping")
    rows.write_text("a: 1\n")
    with pytest.raises(PlaybookError, match="expected a list of rows of inputs, got a dict"):
        read_rows(rows)
    rows.write_text("- {a: [1, 2], b: {c: true}}\n")
    assert read_rows(rows) == [{"a": [1, 2], "b": {"c": True}}]


def test_exit_ok_is_what_a_passing_file_run_gives(tmp_path: Path) -> None:
    pb = tmp_path / "ok.yaml"
    pb.write_text("name: ok\ninputs:\n  tags: {type: array}\nsteps:\n"
                  "  - assert: {that: 'inputs.tags == [1, 2]'}\n")
    (tmp_path / "v.yaml").write_text("tags: [1, 2]\n")
    proc = cli("run", str(pb), "-i", "@v.yaml", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
