"""The step table and the rooms around it: every kind in ``KINDS`` brings its key's schema;
the kinds depend on the Runtime Protocol, never on the engine, the plan or the loader; and
loading a playbook loads the kinds without the HTTP layer, the journal or the store."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import ROOT
from import_graph import import_graph, reaches

import runner.steps
from runner.playbook_schema import STEP_PROPERTIES
from runner.steps import KINDS

ABOVE_THE_STEPS = ("runner.engine", "runner.run_loop", "runner.run_state", "runner.restore",
                   "runner.plan", "runner.playbook", "runner.step_builder", "runner.api")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_brings_the_schema_of_its_keys(name: str) -> None:
    kind = KINDS[name]
    assert kind.KEY in kind.SCHEMA
    assert set(kind.SCHEMA) <= set(STEP_PROPERTIES)
    keys = {k.KEY for k in KINDS.values()}
    assert set(kind.YIELDS_TO) <= keys - {kind.KEY}
    assert f"`{kind.KEY}`" in (runner.steps.__doc__ or ""), "the table in the docstring"


def test_the_kinds_sit_below_the_engine_the_plan_and_the_loader() -> None:
    graph = import_graph()
    steps = [m for m in graph if m == "runner.steps" or m.startswith("runner.steps.")]
    assert len(steps) >= len(KINDS) + 3
    for module in steps:
        above = reaches(graph, module) & set(ABOVE_THE_STEPS)
        assert not above, (module, "imports", above)
        assert module not in reaches(graph, module), (module, "is on an import circle")
    for reader in ("runner.run_loop", "runner.plan", "runner.step_builder",
                   "runner.playbook_schema", "runner.restore"):
        assert "runner.steps" in graph[reader], (reader, "reads the table")


def test_loading_a_playbook_loads_no_transport_journal_or_store() -> None:
    code = ("import sys; from runner.playbook import load_playbook; "
            "load_playbook('playbooks/automatos/distribute-package.yaml'); "
            "print(sorted(m for m in sys.modules if m in ('runner.connectors.http', "
            "'runner.connectors.client', 'runner.journal', 'runner.store', 'urllib3')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]", out
