"""The registry finds the built-in connectors by name without reading package metadata; that
table must stay what pyproject.toml declares as this distribution's entry points."""

from __future__ import annotations

from importlib.metadata import distribution

from runner.connectors import registry


def test_builtin_table_matches_the_declared_entry_points() -> None:
    declared = {ep.name: ep.value for ep in distribution("runner").entry_points
                if ep.group == registry.GROUP}
    assert declared == registry.BUILTIN


def test_a_builtin_loads_as_its_entry_point_would() -> None:
    spec = registry.get("automatos")
    assert spec.name == "automatos" and "get_machine" in spec.operations
