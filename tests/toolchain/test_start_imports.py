"""What ``runner validate`` of a playbook that uses none of them must not load (issue 14):
where ``PYTHONDONTWRITEBYTECODE=1`` is set and runner is a source checkout (``pip install
-e``), every runner module a command imports is compiled at each start, so code only some
playbooks need is imported when a playbook needs it (docs/design.md, "Start-up without the
bytecode cache"). ``runner run``'s list is tests/connectors/test_wire.py's."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

# imported only by the playbooks and connectors that use them
NOT_FOR_A_PLAIN_PLAYBOOK = ("runner.connectors.paging", "runner.steps.paging",
                            "runner.connectors.digest_auth", "runner.connectors.token_auth",
                            "runner.engine", "runner.store")


def loaded(args: list[str], cwd: Path) -> list[str]:
    code = ("import sys\nfrom runner.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    print('exit', e.code)\n"
            f"print(sorted(m for m in {NOT_FOR_A_PLAIN_PLAYBOOK!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         cwd=cwd, timeout=120)
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == "exit 0", out.stdout + out.stderr
    names: list[str] = ast.literal_eval(lines[-1])
    return names


def test_validating_a_call_that_does_not_page_loads_no_paging_code(tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: plain\nconnectors:\n  api: {use: http}\nsteps:\n"
                  "  - id: get\n    call: api\n    method: GET\n    path: /x\n"
                  "    extract: {t: $.token}\n")
    assert loaded(["validate", str(pb)], tmp_path) == []


def test_validating_a_call_that_pages_loads_it(tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: pages\nconnectors:\n  api: {use: http}\nsteps:\n"
                  "  - id: get\n    call: api\n    method: GET\n    path: /x\n    all: true\n"
                  "    paginate: {style: link}\n")
    assert loaded(["validate", str(pb)], tmp_path) == ["runner.connectors.paging",
                                                         "runner.steps.paging"]


def test_a_bundled_playbook_validates_as_before() -> None:
    """The validate of every bundled playbook (the loader's path through the paging keys)."""
    books = sorted(str(p) for p in (ROOT / "playbooks").rglob("*.yaml"))
    assert books
    proc = subprocess.run([sys.executable, "-m", "runner.cli", "validate", *books],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
