"""Every playbook in playbooks/ validates and runs green in the sandbox, and no secret — the
simulators' credentials, the tokens they issued, the values secrets.* made up for the run —
appears in the console, the JSON and JUnit reports, or the run store (history and journal)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers import PLAYBOOKS, run_playbook

from runner.playbook import load_playbook
from runner.store import Store

# the inputs each runbook needs in the sandbox; a new playbook must be added here
INPUTS: dict[str, dict[str, Any]] = {
    "automatos/distribute-package.yaml": {"hostname": "NTB1"},
    "automatos/distribute-by-hostname.yaml": {"hostname": "NTB2"},
    "era/create-channel.yaml": {"code": "ONBOARD-1", "url": "http://chat.example/hook"},
    "era/rotate-channel.yaml": {"key": "ABCDE", "url": "http://new.example/hook"},
    "era/list-all-channels.yaml": {},
    "alvaria/trigger-and-wait.yaml": {},
    "alvaria/trigger-and-callback.yaml": {},
    "mor/device-inventory.yaml": {"user_ids": ["100", "101"]},
    "mor/create-device.yaml": {"user_id": "101"},
    "onboard-employee.yaml": {},
    "nddprint/assign-badge.yaml": {"logon": "asmith", "domain": "CORP", "card_code": "0042"},
}
ALL = sorted(str(p.relative_to(PLAYBOOKS)) for p in PLAYBOOKS.rglob("*.yaml"))
INCLUDED_ONLY: set[str] = set()  # building blocks that need inputs only an includer gives


def test_every_playbook_is_listed() -> None:
    missing = [p for p in ALL if p not in INPUTS and p not in INCLUDED_ONLY]
    assert not missing, f"add inputs for {missing} to INPUTS"


@pytest.mark.parametrize("name", ALL)
def test_validates(name: str) -> None:
    load_playbook(PLAYBOOKS / name)


@pytest.mark.parametrize("name", [p for p in ALL if p in INPUTS])
def test_runs_green_in_the_sandbox_and_leaks_nothing(name: str, tmp_path: Path) -> None:
    out = run_playbook(PLAYBOOKS / name, tmp_path, INPUTS[name])
    assert out.result.status == "passed", out.console
    secrets = [v for sim in out.sandbox.simulators.values() for v in sim.secret_values()]
    secrets += [v for v in out.redactor.values if v.startswith("sandbox-")]
    assert secrets
    stored = Store(os.environ["RUNNER_STORE"]).get_run(out.result.run_id)
    assert stored is not None
    journal = Store(os.environ["RUNNER_STORE"]).entries(out.result.run_id)
    texts = [out.outputs(), repr(stored), repr(journal)]
    # the store's files themselves (database and write-ahead log): nothing secret at rest
    base = Path(os.environ["RUNNER_STORE"])
    texts.append(b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))
                 .decode("latin-1"))
    for value in secrets:
        for text in texts:
            assert value not in text
