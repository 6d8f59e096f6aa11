"""Simulator options read from the simulators' constructors: every built-in one documented,
and a misspelt one in an environment file's ``simulators:`` refused with the valid ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT

from runner.connectors import registry
from runner.errors import InvalidInput
from runner.sandbox import Sandbox
from runner.sandbox_options import fault_options, options_of, simulator_class
from runner.simulator_faults import Faults

BUILT_IN = ("alvaria", "automatos", "era", "mor", "nddprint")


def test_every_option_of_every_built_in_simulator_is_documented() -> None:
    page = (ROOT / "docs" / "sandbox.md").read_text()
    for vendor in BUILT_IN:
        section = page.split(f"### {vendor}\n", 1)[1].split("\n### ", 1)[0]
        for name in options_of(simulator_class(registry.get(vendor).simulator)):
            if name != "faults":  # one table for every simulator's faults
                assert re.search(rf"^\| `{name}` \|", section, re.M), (vendor, name)
    faults = page.split("## Faults\n", 1)[1]
    for name in fault_options():
        assert re.search(rf"^\| `{name}` \|", faults, re.M), name


def test_the_options_are_the_constructors_keywords_and_the_bases_faults() -> None:
    options = options_of(simulator_class(registry.get("automatos").simulator))
    assert list(options)[:2] == ["schedule_seconds", "run_seconds"]
    assert "faults" in options and "clock" not in options  # a function is no option


def test_an_unknown_option_in_an_environment_file_is_named() -> None:
    with pytest.raises(InvalidInput) as e:
        Sandbox({"era": {"api_tokn": "x"}}).start(["era"])
    assert "simulators.era: simulator 'era' has no option 'api_tokn' (did you mean " \
        "'api_token'?)" in e.value.message
    assert "svcscripts" in (e.value.hint or "") and "wall_clock" not in (e.value.hint or "")


def test_faults_from_a_file_become_fault_settings(tmp_path: Path) -> None:
    box = Sandbox({"era": {"faults": {"error_5xx": 0.5, "only": "list", "seed": 3}}})
    box.start(["era"])
    try:
        faults = box.simulators["era"].faults
        assert isinstance(faults, Faults)
        assert faults.error_5xx == 0.5 and faults.only == {"list"} and faults.seed == 3
    finally:
        box.stop()


def test_a_value_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"mor.big_devices must be an integer, got 2.5"):
        Sandbox({"mor": {"big_devices": 2.5}}).start(["mor"])
    with pytest.raises(InvalidInput, match=r"automatos.faults.latency must be a number"):
        Sandbox({"automatos": {"faults": {"latency": "slow"}}}).start(["automatos"])
