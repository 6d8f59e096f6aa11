"""The modules split out of the scheduler, the distributed runner and the accelerators import
downward only: none of them is on an import circle of ``runner/``, each half imports the other
one way (the loop its schedule file, the Celery side its jobs), and the lower half does not
pull in what only the upper one needs (Celery, the loop, the sweep of lost messages).
Imports are read from the source (every ``import``, also inside functions)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT
from import_graph import import_graph, reaches

SPLIT = ("runner.unsure", "runner.fast_expressions", "runner.fast_schema", "runner.fast_jsonpath",
         "runner.schedule_file", "runner.scheduler", "runner.jobs", "runner.distributed")


@pytest.mark.parametrize("module", SPLIT)
def test_the_split_modules_are_on_no_import_circle(module: str) -> None:
    graph = import_graph()
    assert module in graph, module
    assert module not in reaches(graph, module)


def test_each_half_imports_the_other_one_way_only() -> None:
    graph = import_graph()
    for lower, upper in (("runner.schedule_file", "runner.scheduler"),
                         ("runner.jobs", "runner.distributed"),
                         ("runner.jobs", "runner.scheduler"),
                         ("runner.unsure", "runner.fast_jsonpath"),
                         ("runner.fast_expressions", "runner.template_compile"),
                         ("runner.fast_schema", "runner.validation"),
                         ("runner.fast_jsonpath", "runner.extract")):
        assert lower in graph[upper], (upper, "imports", lower)
        assert upper not in reaches(graph, lower), (lower, "climbs back up to", upper)
    # the loop hands runs to any dispatch: it knows the jobs, not Celery
    assert "runner.distributed" not in reaches(graph, "runner.scheduler")


def test_the_lower_halves_do_not_load_what_only_the_upper_ones_need() -> None:
    code = ("import sys, runner.jobs, runner.schedule_file; "
            "print(sorted(m for m in ('celery', 'kombu', 'runner.distributed', "
            "'runner.scheduler', 'runner.orphans') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
