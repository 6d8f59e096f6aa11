"""A playbook repository with two commits, for ``runner plan --diff`` and ``--format
markdown``: a real ``git init``, real commits, nothing mocked.

The second commit, against the first: adds an unsafe POST (``open``, reading an input the
change adds), removes a step (``old``), changes a parameter (``list``: ``state``) and a header
name (``list``: its secret ``X-Token`` is now ``X-Auth-Token``), changes a path (``fetch``) and a
path inside an included playbook (``notify/ping``), and inserts a step before one without an id
(``desk GET /status``, whose generated id moves from step6 to step7: unchanged all the same)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TOKEN = "t0ken-s3cret-value"  # a secret input, sent in a header
DESK_KEY = "k3y-s3cret-value"  # a secret of the environment, a default header

FIRST = """\
name: tickets
inputs:
  token: {type: string, secret: true}
  team: {type: string, default: ops}
connectors:
  desk: {use: http}
steps:
  - id: health
    call: desk
    method: GET
    path: /health
  - id: list
    call: desk
    method: GET
    path: /tickets
    query: {team: "{{ inputs.team }}", state: open}
    headers: {X-Token: "{{ inputs.token }}"}
  - id: old
    call: desk
    method: GET
    path: /tickets/stale
  - id: fetch
    call: desk
    method: GET
    path: /tickets/1
  - id: notify
    include: parts/notify.yaml
    with: {team: "{{ inputs.team }}"}
  - {call: desk, method: GET, path: /status}
"""

NOTIFY = """\
name: notify
inputs:
  team: {type: string}
connectors:
  desk: {use: http}
steps:
  - id: ping
    call: desk
    method: GET
    path: /notify/v1/{{ inputs.team }}
"""

ENV = """\
connectors:
  desk:
    base_url: https://desk.example
    headers: {X-Api-Key: {secret: DESK_KEY}}
"""


def second(first: str) -> str:
    """The playbook as the second commit has it."""
    return (first
            .replace("  team: {type: string, default: ops}\n",
                     "  team: {type: string, default: ops}\n  priority: {type: string}\n")
            .replace("steps:\n", "steps:\n  - id: open\n    call: desk\n    method: POST\n"
                     "    path: /tickets\n    json: {title: printer on fire, "
                     "priority: \"{{ inputs.priority }}\"}\n", 1)
            .replace("state: open", "state: closed")
            .replace("X-Token:", "X-Auth-Token:")
            .replace("  - id: old\n    call: desk\n    method: GET\n    path: /tickets/stale\n", "")
            .replace("path: /tickets/1", "path: /v2/tickets/1"))


GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout


def two_commits(repo: Path) -> Path:
    """The repository, committed twice; the playbook's path in it."""
    (repo / "playbooks" / "parts").mkdir(parents=True)
    playbook = repo / "playbooks" / "tickets.yaml"
    playbook.write_text(FIRST)
    (repo / "playbooks" / "parts" / "notify.yaml").write_text(NOTIFY)
    (repo / "env.yaml").write_text(ENV)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    playbook.write_text(second(FIRST))
    notify = repo / "playbooks" / "parts" / "notify.yaml"
    notify.write_text(NOTIFY.replace("/notify/v1/", "/notify/v2/"))
    git(repo, "commit", "-q", "-a", "-m", "second")
    return playbook
