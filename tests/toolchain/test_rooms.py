"""The rooms split out of the store, the console and reports, the simulator base, the schedule
file and the fingerprint: each lower room imports nothing above it, none is on an import
circle, and every name other modules import from the old module is still there, the same
object as in its new room (named in the old module's ``__all__``, which mypy strict reads)."""

from __future__ import annotations

import importlib

import pytest

from tests.toolchain.test_import_layers import import_graph, reaches

# (lower, upper): the upper room imports the lower one, the lower never climbs back
LAYERS = (
    ("runner.store_url", "runner.store"),
    ("runner.store_schema", "runner.store"),
    ("runner.store_schema", "runner.store_migrations"),
    ("runner.store_migrations", "runner.store"),
    ("runner.report", "runner.console"),
    ("runner.console", "runner.progress"),
    ("runner.json_log", "runner.progress"),
    ("runner.progress_line", "runner.progress"),
    ("runner.report_html_style", "runner.report_html"),
    ("runner.report_html_text", "runner.report_html_steps"),
    ("runner.report_html_steps", "runner.report_timeline"),
    ("runner.report_timeline", "runner.report_html"),
    ("runner.simulator_messages", "runner.simulator_server"),
    ("runner.simulator_faults", "runner.simulator_server"),
    ("runner.simulator_server", "runner.simulator"),
    ("runner.schedule_schema", "runner.schedule_file"),
    ("runner.cron_times", "runner.schedule_file"),
    ("runner.fingerprint_remap", "runner.fingerprint"),
)

# names that live in a room of their own and are still imported from the module they left
KEPT = {
    "runner.store": ("runner.store_schema", ("runs", "schedule_state", "meta_table",
                                             "SCHEMA_VERSION", "run_values")),
    "runner.progress": ("runner.json_log", ("JsonLogReporter",)),
    "runner.schedule_file": ("runner.schedule_schema", ("SCHEDULES_SCHEMA",)),
    "runner.simulator": ("runner.simulator_messages", ("Request", "Reply", "json_reply",
                                                       "text_reply", "gzip_bytes")),
}


@pytest.mark.parametrize(("lower", "upper"), LAYERS, ids=lambda m: m.split(".")[-1])
def test_each_room_imports_downward_only(lower: str, upper: str) -> None:
    graph = import_graph()
    assert lower in reaches(graph, upper), (upper, "does not import", lower)
    assert upper not in reaches(graph, lower), (lower, "climbs back up to", upper)
    assert lower not in reaches(graph, lower), (lower, "is on an import circle")


@pytest.mark.parametrize("old", sorted(KEPT))
def test_names_that_moved_are_still_where_others_import_them(old: str) -> None:
    home, names = KEPT[old]
    before, after = importlib.import_module(old), importlib.import_module(home)
    for name in names:
        assert name in before.__all__, (old, name)
        assert getattr(before, name) is getattr(after, name), (old, name)
    for name in before.__all__:  # __all__ names nothing that is not there
        assert hasattr(before, name), (old, name)


def test_the_store_names_its_url_and_the_simulator_its_faults() -> None:
    import runner.simulator
    import runner.simulator_faults
    import runner.store
    import runner.store_url

    assert runner.store.to_url is runner.store_url.to_url
    assert runner.simulator.Faults is runner.simulator_faults.Faults
