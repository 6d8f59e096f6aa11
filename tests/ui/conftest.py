from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.ui_server import Recorded, record, serve


@pytest.fixture(scope="package")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return record(tmp_path_factory.mktemp("ui-store"))


@pytest.fixture(scope="package")
def ui_url(recorded: Recorded) -> Iterator[str]:
    with serve("--store", str(recorded.store), "--schedules", str(recorded.schedules)) as url:
        yield url
