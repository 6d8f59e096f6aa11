"""The errors a newcomer meets first (issue 16's quotes from tries), each saying what to do:
an unquoted ``{{ }}`` (YAML reads it as a mapping), an extraction that matched nothing (its
hint names the default to write, whole), an assertion whose string literals hold words (no
"word = Undefined" in its values), and an assertion message that cannot be rendered (said so,
not printed raw with its braces). Real processes; httpbin on loopback for the extraction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli
from wsgi_servers import httpbin


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pb.yaml"
    path.write_text(text)
    return str(path)


def test_an_unquoted_template_says_to_quote_it(tmp_path: Path) -> None:
    pb = _write(tmp_path, "name: a\ninputs:\n  hostname: {type: string, default: x}\nsteps:\n"
                "  - id: s\n    assert: 1 == 1\n    name: {{ inputs.hostname }}\n")
    done = cli("validate", pb)
    assert done.returncode == 2
    assert "pb.yaml:7:" in done.stderr
    assert 'quote it, as in name: "{{ inputs.hostname }}"' in done.stderr


def test_words_in_a_string_literal_are_not_names(tmp_path: Path) -> None:
    pb = _write(tmp_path, "name: d\ninputs:\n  status: {type: string, default: failed}\nsteps:\n"
                "  - id: s\n    assert: \"inputs.status == 'success' or "
                "inputs.status == 'successfully done'\"\n")
    done = cli("run", pb, "--env", "none", "--no-progress", "--store", str(tmp_path / "r.db"))
    assert done.returncode == 1
    assert "values: inputs.status = 'failed'" in done.stdout
    assert "Undefined" not in done.stdout


def test_a_message_that_cannot_render_says_why(tmp_path: Path) -> None:
    pb = _write(tmp_path, "name: e\ninputs:\n  x: {type: integer, default: 0}\nsteps:\n"
                "  - id: s\n    assert:\n      - that: \"inputs.x > 1\"\n"
                "        message: \"x was {{ inputs.x / 0 }}\"\n")
    done = cli("run", pb, "--env", "none", "--no-progress", "--store", str(tmp_path / "r.db"))
    assert done.returncode == 1
    assert "assertion failed: inputs.x > 1 (its message could not be rendered: " \
        "ZeroDivisionError" in done.stdout
    assert "{{" not in done.stdout


def test_an_extraction_that_matched_nothing_names_the_default_to_write(
        tmp_path: Path, base: str) -> None:
    pb = _write(tmp_path, f"name: c\nconnectors:\n  api: {{use: http, settings: {{base_url: "
                f"'{base}'}}}}\nsteps:\n  - id: s\n    call: api\n    method: GET\n"
                "    path: /get\n    extract: {x: \"$.nothing\"}\n")
    done = cli("run", pb, "--env", "none", "--no-progress", "--store", str(tmp_path / "r.db"))
    assert done.returncode == 1
    assert "give the extraction a default: {jsonpath: '$.nothing', default: none}" in done.stdout
