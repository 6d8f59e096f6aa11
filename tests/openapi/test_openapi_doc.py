"""The pieces the generator, the check and the schema assertion share: an operation's name,
runner's type of a schema, a place in an answer as JSONPath, OpenAPI 3.0's dialect of JSON
Schema, local references (and a reference to itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.answer_schema import _dialect, where
from runner.errors import InvalidInput
from runner.openapi_connector import type_of
from runner.openapi_doc import load_openapi, operation_name, snake
from runner.openapi_simulator import instance

HERE = Path(__file__).parent


@pytest.mark.parametrize(("args", "name"), [
    (("GET", "/pets/{id}", "getPetById"), "get_pet_by_id"),
    (("GET", "/pets/{id}", "find pet by id"), "find_pet_by_id"),
    (("GET", "/pets/{id}"), "get_pets_by_id"),
    (("POST", "/lab/api/settings/{schema_name}", "", 2), "post_settings_by_schema_name"),
    (("GET", "/", ""), "get"),
    (("GET", "/x", "2fa-check"), "op_2fa_check"),
])
def test_operation_names(args: tuple, name: str) -> None:
    assert operation_name(*args) == name


def test_names_drop_the_words_every_path_shares_and_stay_unique() -> None:
    names = [op.name for op in load_openapi(HERE / "jupyterlab-server-rest-api.yml").operations]
    assert "get_settings_by_schema_name" in names and len(set(names)) == len(names) == 12
    assert snake("HTTPServer") == "httpserver" and snake("userID") == "user_id"


@pytest.mark.parametrize(("schema", "kind"), [
    ({"type": "integer"}, "integer"), ({"type": ["null", "string"]}, "string"),
    ({"properties": {}}, "object"), ({"items": {}}, "array"), ({}, "any"),
    ({"type": "file"}, "any"),
])
def test_type_of(schema: dict, kind: str) -> None:
    assert type_of(schema) == kind


def test_where_in_the_answer() -> None:
    assert where([]) == "$"
    assert where(["data", 0, "id"]) == "$.data[0].id"
    assert where(["a b", "x"]) == '$["a b"].x'


def test_the_3_0_dialect() -> None:
    out = _dialect({"a": {"type": "string", "nullable": True},
                    "e": {"type": "string", "enum": ["x"], "nullable": True},
                    "b": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
                    "c": [{"maximum": 5, "exclusiveMaximum": False}]})
    assert out == {"a": {"type": ["string", "null"]}, "b": {"type": "integer",
                                                           "exclusiveMinimum": 0},
                   "c": [{"maximum": 5}], "e": {"type": ["string", "null"], "enum": ["x", None]}}


def test_a_value_made_from_a_schema() -> None:
    schema = {"allOf": [{"type": "object", "properties": {"name": {"type": "string"}}},
                        {"type": "object", "properties": {"when": {"type": "string",
                                                                   "format": "date-time"},
                                                          "n": {"enum": [3, 4]}}}]}
    assert instance(schema) == {"name": "string", "when": "2024-01-01T00:00:00Z", "n": 3}
    assert instance({"type": "array", "items": {"type": "boolean"}}) == [True]


def test_a_reference_to_itself_is_refused_and_a_recursive_schema_is_cut(tmp_path: Path) -> None:
    doc = {"openapi": "3.0.0", "info": {"title": "t"}, "paths": {"/n": {"get": {
        "responses": {"200": {"description": "a node", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Node"}}}}}}}},
        "components": {"schemas": {"Node": {"type": "object", "properties": {
            "child": {"$ref": "#/components/schemas/Node"}}}}}}
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    schema = load_openapi(path).operations[0].answers[0].schema
    depth = 0
    while schema and "properties" in schema:
        schema, depth = schema["properties"]["child"], depth + 1
    assert depth == 8  # eight references followed, then cut
    doc["components"]["schemas"]["Node"] = {"$ref": "#/components/schemas/Node"}
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match="refers to itself"):
        load_openapi(path)
