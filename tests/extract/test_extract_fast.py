"""The fast JSONPath path finds what jsonpath_ng finds: every simple path over data of every
shape (dicts, lists, scalars, missing members, non-string members), compared with jsonpath_ng
itself; and paths it does not handle still work through jsonpath_ng."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from parity import agrees, outcome

from runner.fast_jsonpath import fast_jsonpath
from runner.jsonpath import compile_jsonpath, jsonpath_values

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
    find = fast_jsonpath(path)
    assert find is not None, path
    def reference(data: Any) -> list[Any]:
        return [m.value for m in compile_jsonpath(path).find(data)]

    for data in DATA:
        agrees(find, reference, data)  # the fast path alone: its answer, or it hands over
        assert agrees(functools.partial(jsonpath_values, path), reference, data)


@pytest.mark.parametrize("path", ["$..machineId", "$.data.machines[-1]",
                                  "$.data.machines[0:2]", "$.data.machines[?(@.n > 1)]",
                                  "$.data.machines[?(@.department != 'DEV')]", "$.where",
                                  "$.data.`len`", "$.data.machines[?(@.len == 'x')]",
                                  "$.data.machines[?(@.os.sorted == 'x')]"])
def test_other_paths_go_to_jsonpath_ng(path: str) -> None:
    assert fast_jsonpath(path) is None
    for data in DATA:
        try:
            expected = [m.value for m in compile_jsonpath(path).find(data)]
        except Exception:
            continue
        assert jsonpath_values(path, data) == expected


# -- the fast path called directly (above, a wrong fast answer could hide behind a fallback) ---
@pytest.fixture(autouse=True)
def _compiled_anew() -> Iterator[None]:
    # paths are compiled once per text and cached: compile them in each test, so each test
    # checks the code as it is (mutation testing swaps functions inside one process)
    fast_jsonpath.cache_clear()
    compile_jsonpath.cache_clear()
    yield
    fast_jsonpath.cache_clear()


def fast(path: str, data: Any) -> list[Any]:
    find = fast_jsonpath(path)
    assert find is not None, path
    return find(data)


MACHINES = [{"id": 1, "dept": "DEV", "os": {"name": "linux"}},
            {"id": 2, "dept": "OPS", "os": {"name": "win"}},
            {"id": 3, "dept": "DEV"},
            {"id": 4}]


@pytest.mark.parametrize(("path", "data", "expected"), [
    ("$.a.b", {"a": {"b": 1}}, [1]),
    ("$.a.b", {"a": {"c": 1}}, []),
    ("$['a b'].c", {"a b": {"c": "x"}}, ["x"]),
    ("$[0]", [10, 20, 30], [10]),
    ("$[2]", [10, 20, 30], [30]),
    ("$[3]", [10, 20, 30], []),  # one past the end: nothing, not an error
    ("$[*]", [[1], [2, 3]], [[1], [2, 3]]),
    ("$[*][*]", [[1], [2, 3]], [1, 2, 3]),
    ("$.*", [4, 5], [4, 5]),
    ("$[?(@.dept == 'DEV')].id", MACHINES, [1, 3]),
    ('$[?(@.dept == "OPS")].id', MACHINES, [2]),
    ("$[?(@.dept == 'QA')].id", MACHINES, []),
    ("$[?(@.os.name == 'linux')].id", MACHINES, [1]),  # a missing member equals nothing
    ("$[?(@.os.name == 'mac')]", MACHINES, []),
])
def test_the_fast_path_itself(path: str, data: Any, expected: list[Any]) -> None:
    assert fast(path, data) == expected
    assert jsonpath_values(path, data) == expected


@pytest.mark.parametrize(("path", "data"), [
    ("$.a", [1]),  # a member of a list
    ("$.a.b", {"a": "text"}),
    ("$[0]", {"0": 1}),  # an index into a mapping
    ("$[*]", {"a": 1}),
    ("$.*", "text"),
    ("$[?(@.dept == 'DEV')]", {"dept": "DEV"}),  # a filter over a mapping
    ("$[?(@.os.name == 'x')]", [{"os": "flat"}]),  # a member of a string
    ("$[?(@.id == '1')]", [{"id": 1}]),  # a number compared with a string
    ("$[?(@.id == '1')]", [{"id": None}]),
])
def test_data_the_fast_path_is_not_sure_about_goes_to_jsonpath_ng(path: str, data: Any) -> None:
    assert outcome(fast, path, data)[0] == "unsure"
    expected = [m.value for m in compile_jsonpath(path).find(data)]
    assert jsonpath_values(path, data) == expected


def test_a_simple_path_does_not_use_jsonpath_ng() -> None:
    assert jsonpath_values("$.data[1]", {"data": [0, 7]}) == [7]
    assert compile_jsonpath.cache_info().currsize == 0  # never parsed by jsonpath_ng
    assert jsonpath_values("$.data[1]", {"data": {"1": 7}}) == []  # unsure: jsonpath_ng's answer
    assert compile_jsonpath.cache_info().currsize == 1
