"""`make mutation`'s own parts that run without mutmut: the targets in pyproject.toml name
files and tests that exist, the list of equivalent mutants parses and names counted mutants,
and the copy of a cached function that mutmut can mutate behaves as the original."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from helpers import ROOT


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "bench/mutation/run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_run"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_every_target_names_files_and_tests_that_exist() -> None:
    _, targets = tool().load_targets()
    assert set(targets) == {"redactor", "journal", "retry", "jsonpath"}
    for t in targets.values():
        for path in (*t.files, *t.tests):
            assert (ROOT / path).is_file(), (t.name, path)
        modules = {f.removesuffix(".py").replace("/", ".") for f in t.files}
        for glob in t.mutants:  # a glob names a mutant of one of the target's files
            assert any(glob.startswith(m + ".") for m in modules), (t.name, glob)


def test_the_equivalent_mutants_are_reviewed_entries_of_counted_mutants() -> None:
    run = tool()
    _, targets = run.load_targets()
    entries = run.load_equivalent()
    assert entries, "bench/mutation/equivalent.txt lists none"
    for e in entries:
        assert "__mutmut_" in e.name and e.line and len(e.why) > 20, e
        assert any(t.counts(e.name) and e.name.startswith(tuple(
            f.removesuffix(".py").replace("/", ".") + "." for f in t.files))
            for t in targets.values()), e.name
    assert len({e.name for e in entries}) == len(entries)


def test_a_cached_function_is_cached_the_same_way_without_its_decorator(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from functools import lru_cache\nimport functools\ncalls = []\n\n\n"
        "@lru_cache(maxsize=8)\ndef square(x):\n    calls.append(x)\n    return x * x\n\n\n"
        "@functools.cache\ndef cube(x):\n    calls.append(x)\n    return x ** 3\n\n\n"
        "@staticmethod\ndef left(x):\n    return x\n\n\n"
        "first = square(3)\n")
    tool().undecorate_caches(source)
    text = source.read_text()
    assert "@lru_cache" not in text and "@functools.cache" not in text and "@staticmethod" in text
    assert "square = lru_cache(maxsize=8)(square)" in text
    namespace: dict = {}
    exec(compile(text, str(source), "exec"), namespace)
    assert namespace["first"] == 9  # rebound before the module's own later use
    assert [namespace["square"](3), namespace["cube"](2), namespace["cube"](2)] == [9, 8, 8]
    assert namespace["calls"] == [3, 2]
    assert namespace["square"].cache_info().maxsize == 8
