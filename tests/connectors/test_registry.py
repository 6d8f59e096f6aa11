"""The registry holds no list of connector names: the built-ins are the entry points this
distribution declares in pyproject.toml, read from its installed metadata, the door a
third-party package comes in by."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import distribution
from pathlib import Path

import pytest
import tomllib

from runner import entry_points
from runner.connectors import registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    def clear() -> None:
        for f in (registry.builtin, entry_points.group, registry._installed):
            f.cache_clear()

    clear()
    yield
    clear()


def test_builtins_are_the_entry_points_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "project"]["entry-points"][registry.GROUP]
    installed = {ep.name: ep.value for ep in distribution("runner").entry_points
                 if ep.group == registry.GROUP}
    assert len(declared) == 6  # the five vendors and the generic `http`
    assert registry.builtin() == declared == installed
    assert registry.names() == sorted(declared)


def test_the_builtins_install_under_runners_own_namespace() -> None:
    # no top-level `plugins` package: another distribution shipping one cannot touch these
    for value in registry.builtin().values():
        assert value.startswith("runner.builtin."), value
    top_level = (distribution("runner").read_text("top_level.txt") or "").split()
    assert "plugins" not in top_level


def test_a_builtin_loads_as_its_entry_point_would() -> None:
    spec = registry.get("automatos")
    assert spec.name == "automatos" and "get_machine" in spec.operations


def test_the_builtins_come_from_the_metadata_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None) -> None:
    # an installed runner whose metadata declares one connector, under another module: the
    # registry knows that one, from there, and none of the five a hand-kept list would add
    info = tmp_path / "runner-9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: runner\nVersion: 9.9\n")
    (info / "entry_points.txt").write_text(
        f"[{registry.GROUP}]\nautomatos = door_probe:connector\n")
    (tmp_path / "door_probe.py").write_text(
        "from runner.builtin.automatos import connector as _real\n"
        "LOADED = []\n"
        "def connector():\n"
        "    LOADED.append(1)\n"
        "    return _real()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "door_probe", raising=False)

    assert registry.builtin() == {"automatos": "door_probe:connector"}
    assert registry.names() == ["automatos"]
    assert registry.get("automatos").name == "automatos"
    assert sys.modules["door_probe"].LOADED == [1]
    with pytest.raises(Exception, match="no connector named 'era'"):
        registry.get("era")
