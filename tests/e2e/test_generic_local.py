"""Connector files in the user's own repository, no package installed: ``connectors/<name>.yaml``
beside the playbooks (and ``file:`` in the playbook), validated like built-ins with file:line,
hooks from the sibling ``.py``, the operations in the repository's editor schema; run against
httpbin on loopback through the installed ``runner`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli
from wsgi_servers import httpbin

from runner.errors import EXIT_INVALID, EXIT_OK

TICKETS = """\
name: tickets
title: Our ticket desk
settings:
  base_url: {required: true}
  token: {required: true, secret: true}
auth: {scheme: bearer}
headers: {Accept: application/json}
operations:
  get_ticket:
    method: GET
    path: /anything/tickets/{id}
    params:
      id: {type: integer, required: true, in: path}
  create_ticket:
    method: POST
    path: /anything/tickets
    params:
      title: {type: string, required: true}
      tags: {type: array, default: []}
"""
HOOKS = """\
from runner.connectors import Hooks


class Hooks(Hooks):
    def prepare(self, call):
        call.headers["X-Hooked"] = "yes"
"""
PLAYBOOK = """\
name: desk
connectors:
  desk: {use: tickets}
steps:
  - id: create
    call: desk.create_ticket
    with: {title: printer on fire, tags: [hw]}
    assert:
      - "response.json.json.title == 'printer on fire'"
      - "response.json.headers['X-Hooked'] == 'yes'"
      - "response.json.headers['Authorization'] | length > 10"
  - id: get
    call: desk.get_ticket
    with: {id: 42}
    assert: "response.json.url.endswith('/anything/tickets/42')"
"""
ENV = """\
connectors:
  desk:
    base_url: {env: HTTPBIN_URL}
    token: {secret: DESK_TOKEN}
"""


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def _repo(root: Path, *, tickets: str = TICKETS, playbook: str = PLAYBOOK) -> Path:
    for name, text in {"connectors/tickets.yaml": tickets, "connectors/tickets.py": HOOKS,
                       "playbooks/desk.yaml": playbook, "environments/ci.yaml": ENV}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_repository_connector_runs_with_its_hooks(tmp_path: Path, base: str) -> None:
    repo = _repo(tmp_path)
    proc = cli("run", "playbooks/desk.yaml", "--env", "ci", cwd=repo,
               env={"HTTPBIN_URL": base, "DESK_TOKEN": "desk-token-7Hq2Lp9Zk"})
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "desk-token-7Hq2Lp9Zk" not in proc.stdout + proc.stderr


def test_a_file_named_in_the_playbook(tmp_path: Path, base: str) -> None:
    repo = _repo(tmp_path, playbook=PLAYBOOK.replace("{use: tickets}",
                                                     "{file: ../connectors/tickets.yaml}"))
    (repo / "connectors" / "tickets.yaml").rename(repo / "desk.yaml")
    (repo / "connectors" / "tickets.py").rename(repo / "desk.py")
    (repo / "playbooks" / "desk.yaml").write_text(
        PLAYBOOK.replace("{use: tickets}", "{file: ../desk.yaml}"))
    proc = cli("run", "playbooks/desk.yaml", "--env", "ci", cwd=repo,
               env={"HTTPBIN_URL": base, "DESK_TOKEN": "desk-token-7Hq2Lp9Zk"})
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr


def test_a_bad_connector_file_is_refused_with_its_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path, tickets=TICKETS.replace("      title: {type: string",
                                                   "      title: {kind: string"))
    proc = cli("validate", "playbooks/desk.yaml", cwd=repo)
    assert proc.returncode == EXIT_INVALID, proc.stdout + proc.stderr
    assert "connectors/tickets.yaml:18" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_an_unknown_operation_of_a_repository_connector(tmp_path: Path) -> None:
    repo = _repo(tmp_path, playbook=PLAYBOOK.replace("desk.get_ticket", "desk.get_tiket"))
    proc = cli("validate", "playbooks/desk.yaml", cwd=repo)
    assert proc.returncode == EXIT_INVALID
    assert "get_tiket" in proc.stdout + proc.stderr and "get_ticket" in proc.stdout + proc.stderr


def test_a_name_that_is_an_installed_connectors_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, tickets=TICKETS.replace("name: tickets", "name: mor"),
                 playbook=PLAYBOOK.replace("use: tickets", "use: mor"))
    (repo / "connectors" / "tickets.yaml").rename(repo / "connectors" / "mor.yaml")
    proc = cli("validate", "playbooks/desk.yaml", cwd=repo)
    assert proc.returncode == EXIT_INVALID
    assert "like an installed connector" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_runner_schema_in_the_repository_has_its_operations(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = cli("schema", cwd=repo)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    schema = json.loads((repo / "schemas" / "playbook.schema.json").read_text())
    ops = schema["$defs"]["step"]["properties"]["call"]["anyOf"][0]["enum"]
    assert "tickets.get_ticket" in ops and "automatos.auth" in ops


def test_a_literal_a_repository_connector_declares_secret_is_not_left_in_the_cache(
        tmp_path: Path, base: str) -> None:
    """``username`` is a plain setting of every built-in connector, so an environment file
    whose ``username`` is a literal may keep its parse between runs; but a repository's
    connector may declare it secret. The run refuses the literal, and no copy of the file's
    parse is left in the store's folder (``parsed/``) for it."""
    repo = _repo(tmp_path, tickets=TICKETS.replace(
        "  token: {required: true, secret: true}\n",
        "  token: {required: true, secret: true}\n  username: {secret: true}\n"))
    (repo / "environments" / "ci.yaml").write_text(ENV + "    username: vault-user-8Jx2Qw\n")
    state = tmp_path / "state"
    env = {"HTTPBIN_URL": base, "DESK_TOKEN": "desk-token-7Hq2Lp9Zk",
           "RUNNER_STORE": str(state / "runs.db")}
    planned = cli("plan", "playbooks/desk.yaml", "--env", "ci", cwd=repo, env=env)
    assert planned.returncode == EXIT_OK, planned.stdout + planned.stderr
    assert "vault-user-8Jx2Qw" not in planned.stdout + planned.stderr
    for entry in (state / "parsed").iterdir():
        assert b"vault-user-8Jx2Qw" not in entry.read_bytes(), entry
    for _ in range(2):  # the second run would read a parse the first one kept
        proc = cli("run", "playbooks/desk.yaml", "--env", "ci", cwd=repo, env=env)
        assert proc.returncode == EXIT_INVALID, proc.stdout + proc.stderr
        assert "'username' is a secret and must not be written in the environment file" \
            in proc.stderr, proc.stderr
        assert "vault-user-8Jx2Qw" not in proc.stdout + proc.stderr
    kept = [p for p in (state / "parsed").iterdir()] if (state / "parsed").is_dir() else []
    assert kept, "the playbook and connector files are kept: the folder is the one checked"
    for entry in kept:
        assert b"vault-user-8Jx2Qw" not in entry.read_bytes(), entry
