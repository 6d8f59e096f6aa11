"""``assert: {schema: FILE}`` and ``assert: {schema: {openapi: DOC, operation: ID}}`` against
httpbin's answers on loopback: a valid answer passes, an invalid one fails naming the place in
the answer (JSONPath) and the step's file:line; the schema is loaded when the playbook is, so a
missing file, a schema that is not one and an unknown operation are refused at their line."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsgi_servers import httpbin

from runner import api
from runner.errors import PlaybookError
from runner.results import FAILED, PASSED, RunResult
from runner.secrets import Redactor

SLIDES = {"type": "object", "required": ["slideshow"], "properties": {"slideshow": {
    "type": "object", "required": ["slides"], "properties": {"slides": {
        "type": "array", "items": {"type": "object", "required": ["title"],
                                   "properties": {"title": {"type": "string"}}}}}}}}
# OpenAPI 3.0: `nullable`, a $ref, a boolean exclusiveMinimum, an answer by status
DOC = {
    "openapi": "3.0.3", "info": {"title": "echo", "version": "1"},
    "paths": {"/anything": {"post": {"operationId": "echoIt", "responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "object", "required": ["json"],
            "properties": {"json": {"$ref": "#/components/schemas/Thing"}}}}}}}}}},
    "components": {"schemas": {"Thing": {"type": "object", "required": ["id", "count"],
                                         "properties": {
                                             "id": {"type": "string", "nullable": True},
                                             "count": {"type": "integer", "minimum": 0,
                                                       "exclusiveMinimum": True}}}}},
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def run(tmp_path: Path, base_url: str, steps: str) -> tuple[RunResult, str]:
    (tmp_path / "slides.json").write_text(json.dumps(SLIDES))
    (tmp_path / "schemas").mkdir(exist_ok=True)
    (tmp_path / "schemas" / "echo.yaml").write_text(json.dumps(DOC))
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  api:\n    base_url: {base_url}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"name: schemas\nconnectors:\n  api: {{use: http}}\nsteps:\n{steps}")
    out = io.StringIO()
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor(), progress=False,
                     store=False)
    return result, out.getvalue()


def test_an_answer_that_matches_its_schema_file_passes(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, """\
  - call: api
    method: GET
    path: /json
    assert: {schema: slides.json}
""")
    assert result.status == PASSED, console
    assert result.steps[0].assertions == [{"that": "schema: slides.json", "passed": True}]


def test_a_mismatch_names_the_place_in_the_answer(tmp_path: Path, base: str) -> None:
    wrong = json.loads(json.dumps(SLIDES))
    wrong["properties"]["slideshow"]["properties"]["slides"]["items"]["properties"]["title"] = {
        "type": "integer"}
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    result, console = run(tmp_path, base, """\
  - id: slides
    call: api
    method: GET
    path: /json
    assert:
      - schema: wrong.json
        message: the slides changed shape
""")
    assert result.status == FAILED, console
    error = result.steps[0].error or ""
    assert error.startswith("the slides changed shape (schema: wrong.json): "
                            "$.slideshow.slides[0].title: "), error
    assert "is not of type 'integer'" in error
    assert "pb.yaml:5" in console, console  # the step's file:line


def test_an_openapi_operations_schema_checks_the_answer(tmp_path: Path, base: str) -> None:
    steps = """\
  - call: api
    method: POST
    path: /anything
    json: {{id: {id}, count: {count}}}
    assert: {{schema: {{openapi: schemas/echo.yaml, operation: echoIt}}}}
"""
    result, console = run(tmp_path, base, steps.format(id="null", count=1))
    assert result.status == PASSED, console  # nullable: true lets null through
    result, console = run(tmp_path, base, steps.format(id=5, count=0))
    assert result.status == FAILED, console
    error = result.steps[0].error or ""
    assert "schema: schemas/echo.yaml echo_it" in error
    assert "$.json.count: 0 is less than or equal to the minimum of 0" in error, error
    assert "$.json.id: 5 is not of type 'string', 'null'" in console, console


def test_a_standalone_assert_checks_the_last_answer(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, """\
  - call: api
    method: GET
    path: /json
  - assert: {schema: slides.json}
  - call: api
    method: GET
    path: /html
  - assert: {schema: slides.json}
""")
    assert result.status == FAILED, console
    assert result.steps[1].status == PASSED
    assert "the answer (HTTP 200) is not JSON" in (result.steps[3].error or "")


def test_a_status_the_document_has_no_schema_for(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, """\
  - call: api
    method: POST
    path: /status/201
    assert: {schema: {openapi: schemas/echo.yaml, operation: echoIt}}
""")
    assert result.status == FAILED, console
    assert "gives no schema for HTTP 201 (it has: 200)" in (result.steps[0].error or "")


@pytest.mark.parametrize(("schema", "words", "line"), [
    ("nosuch.json", "schema file 'nosuch.json' does not exist", 9),
    ("bad.json", "bad.json is not a JSON Schema", 9),
    ("{openapi: schemas/echo.yaml, operation: echo_itt}",
     "schemas/echo.yaml has no operation 'echo_itt'", 9),
])
def test_a_schema_that_cannot_be_read_is_refused_at_its_line(
        tmp_path: Path, schema: str, words: str, line: int) -> None:
    (tmp_path / "bad.json").write_text('{"type": 5}')
    with pytest.raises(PlaybookError) as e:
        run(tmp_path, "http://127.0.0.1:9", f"""\
  - call: api
    method: GET
    path: /json
    assert:
      schema: {schema}
""")
    assert words in e.value.message, e.value.message
    assert e.value.location is not None and e.value.location.line == line
    if "echo_itt" in schema:
        assert "did you mean 'echo_it'?" in (e.value.hint or "")
