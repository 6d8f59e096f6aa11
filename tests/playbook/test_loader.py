from __future__ import annotations

import pytest

from runner.errors import PlaybookError
from runner.loader import load_text


def test_every_node_has_its_location() -> None:
    doc = load_text("name: x\nsteps:\n  - id: a\n    with: {host: NTB1}\n", "f.yaml")
    assert doc.loc(("steps", 0, "id")).line == 3
    assert (doc.loc(("steps", 0, "with", "host")).line, doc.loc(("steps", 0, "with", "host")).col
            ) == (4, 18)
    assert str(doc.loc(("name",))) == "f.yaml:1:7"


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(PlaybookError, match="duplicate key 'a'") as info:
        load_text("a: 1\nb: 2\na: 3\n")
    assert info.value.location is not None and info.value.location.line == 3
    assert "line 1" in (info.value.hint or "")


def test_scalars_keep_yaml_types_and_strings_stay_strings() -> None:
    doc = load_text("a: 1\nb: '0208'\nc: true\nd: 1.5\ne: null\n")
    assert doc.data == {"a": 1, "b": "0208", "c": True, "d": 1.5, "e": None}


def test_merge_keys_work() -> None:
    doc = load_text("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert doc.data["other"] == {"x": 1, "y": 2}
