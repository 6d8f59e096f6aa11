"""Resume in one place: claiming a recorded run, fencing its writes and rebuilding its state
(the journal checked against the playbook as it is now) happen in ``runner/resume.py`` only;
``runner resume RUN_ID``, ``--batch``, ``--stale``, a batch's rows and a worker's job all come
through its ``resume_run``. Read from the source."""

from __future__ import annotations

import ast

from helpers import ROOT

ROOM = "runner/resume.py"
PARTS = {"claim_run": "runner.ownership", "owned": "runner.ownership",
         "check": "runner.fingerprint"}  # what resume_run does, where each is defined


def callers() -> dict[str, set[str]]:
    """For each part, the modules of runner/ that import it (to call it)."""
    found: dict[str, set[str]] = {p: set() for p in PARTS}
    for path in (ROOT / "runner").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in PARTS.values():
                for a in node.names:
                    if PARTS.get(a.name) == node.module:
                        found[a.name].add(path.relative_to(ROOT).as_posix())
    return found


def test_claiming_fencing_and_rebuilding_happen_in_one_room() -> None:
    assert callers() == {p: {ROOM} for p in PARTS}


def test_every_way_of_taking_a_run_up_goes_through_resume_run() -> None:
    for module in ("runner/jobs.py", "runner/batch.py", "runner/resume_stale.py",
                   "runner/batch_resume.py", "runner/api/resuming.py"):
        text = (ROOT / module).read_text()
        assert "from runner.resume import" in text, module
    assert "_unchanged" not in (ROOT / "runner" / "engine.py").read_text()
