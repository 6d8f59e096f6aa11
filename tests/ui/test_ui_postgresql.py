"""``runner ui`` over a PostgreSQL store (the machine's real server, as tests/distributed
uses it): the runs a worker fleet records are the ones the view lists, and its sessions are
read-only (the server refuses a write)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import PLAYBOOKS

from runner.errors import StoreError
from runner.store import Store
from runner.ui.reader import Filters, Reader
from tests.distributed.conftest import postgres  # noqa: F401  (the fixture, under its name)
from tests.ui.test_ui_pages import get, listed
from tests.ui.ui_server import run_playbook, serve


@pytest.fixture()
def pg_store(postgres: str) -> Iterator[str]:  # noqa: F811
    from tests.distributed.servers import database

    yield from database(postgres)


def test_the_view_over_postgresql(pg_store: str) -> None:
    playbook = PLAYBOOKS / "automatos" / "distribute-package.yaml"
    failed = run_playbook(pg_store, playbook, "hostname=NTB2", "package=fail-setup.exe")
    with serve("--store", pg_store) as url:
        status, html, _ = get(url + "/?status=failed")
        assert status == 200 and listed(html) == {failed}
        assert listed(get(url + "/?status=passed")[1]) == set()
        status, html, _ = get(url + f"/runs/{failed}")
        assert status == 200 and 'id="failure"' in html and 'id="timeline"' in html
    reader = Reader(pg_store)
    assert [r["run_id"] for r in reader.runs(Filters())[0]] == [failed]
    with pytest.raises(StoreError, match="read-only"), reader.db.connect() as c:
        c.execute("DELETE FROM runs")
    db = Store(pg_store)
    try:
        assert db.get_run(failed) is not None
    finally:
        db.close()

