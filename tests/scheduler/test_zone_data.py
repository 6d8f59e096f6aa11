"""A machine without the system's zone data (a slim container image, Windows) still knows
``Europe/Lisbon``: runner depends on ``tzdata``, which ``zoneinfo`` falls back to
(issue 16). ``PYTHONTZPATH`` at an empty folder hides the system's zones from the process."""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, cli


def test_a_schedule_in_a_named_zone_loads_without_system_zone_data(tmp_path: Path) -> None:
    empty = tmp_path / "no-zones"
    empty.mkdir()
    done = cli("schedule", "list", str(ROOT / "schedules.example.yaml"),
               env={"PYTHONTZPATH": str(empty)})
    assert done.returncode == 0, done.stderr
    assert "distribute-7zip-weekdays" in done.stdout
    assert "unknown time zone" not in done.stderr
