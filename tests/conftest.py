from __future__ import annotations

import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# A suite started in the background of a non-interactive shell (`make test &`, a CI step run
# that way) inherits SIGINT ignored, and so would every `runner` process it starts: a runner
# honours that, as programs do, and the Ctrl-C tests would see a run that cannot be stopped.
# The tests want Ctrl-C as a terminal delivers it: caught here, it is the default again in
# the processes the tests start.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# every run the suite makes is recorded in a store of the suite's, never in the user's ...
os.environ["RUNNER_STORE"] = os.path.join(tempfile.mkdtemp(prefix="runner-test-"), "runs.db")


@pytest.fixture(autouse=True)
def _own_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # ... and each test has a store file of its own (a real SQLite file, as users have)
    path = tmp_path_factory.mktemp("store") / "runs.db"
    old = os.environ["RUNNER_STORE"]
    os.environ["RUNNER_STORE"] = str(path)
    yield
    os.environ["RUNNER_STORE"] = old


@pytest.fixture(autouse=True)
def _own_connector_files() -> Iterator[None]:
    # a connector file a test's playbook loaded (connectors/<name>.yaml) is known by name for
    # the rest of the process, as in a long-lived worker; the next test starts without it
    from runner.connectors import registry

    before = dict(registry._LOCAL)
    yield
    registry._LOCAL.clear()
    registry._LOCAL.update(before)
