"""The fast JSONPath path finds what jsonpath_ng finds: every simple path over data of every
shape (dicts, lists, scalars, missing members, non-string members), compared with jsonpath_ng
itself; and paths it does not handle still work through jsonpath_ng."""

from __future__ import annotations

from typing import Any

import pytest

from runner.extract import compile_jsonpath, fast_jsonpath, jsonpath_values

DATA: list[Any] = [
    {"status": True, "data": {"machines": [
        {"machineId": "123ABC", "department": "OPS", "os": {"name": "win"}},
        {"machineId": "456DEF", "department": "DEV", "os": {"name": "linux"}},
        {"machineId": "789GHI", "department": "DEV"},
        {"machineId": 5, "department": 7},
        "not a machine",
        {"department": None},
        {"department": ["DEV"]},
    ]}},
    {"data": {"machines": {"a": {"department": "DEV", "machineId": "x"}}}},
    {"data": [1, 2, 3]},
    {"data": None},
    [{"data": 1}],
    "text",
    None,
    {"data": {"machines": []}, "weird key": {"x": 1}},
    {"data": {"machines": [[{"department": "DEV"}]]}},
]

PATHS = [
    "$", "$.status", "$.data", "$.data.machines", "$.data.machines[0]",
    "$.data.machines[1].machineId", "$.data.machines[9]", "$.data.machines[*]",
    "$.data.machines[*].machineId", "$.data.machines.*", "$.data.machines[*].os.name",
    "$.data.machines[?(@.department == 'DEV')].machineId",
    '$.data.machines[?(@.department == "DEV")]',
    "$.data.machines[?(@.os.name == 'linux')].machineId",
    "$.data.machines[?( @.department == 'OPS' )].machineId",
    "$['weird key'].x", "$.data[0]", "$.data[*]", "$.nothing.here",
]


@pytest.mark.parametrize("path", PATHS)
def test_the_fast_path_finds_what_jsonpath_ng_finds(path: str) -> None:
    assert fast_jsonpath(path) is not None, path
    for data in DATA:
        expected = [m.value for m in compile_jsonpath(path).find(data)]
        assert jsonpath_values(path, data) == expected, (path, data)


@pytest.mark.parametrize("path", ["$..machineId", "$.data.machines[-1]",
                                  "$.data.machines[0:2]", "$.data.machines[?(@.n > 1)]",
                                  "$.data.machines[?(@.department != 'DEV')]", "$.where",
                                  "$.data.`len`"])
def test_other_paths_go_to_jsonpath_ng(path: str) -> None:
    assert fast_jsonpath(path) is None
    for data in DATA:
        try:
            expected = [m.value for m in compile_jsonpath(path).find(data)]
        except Exception:
            continue
        assert jsonpath_values(path, data) == expected
