"""``runner init`` gives a repository of playbooks that works as it is: the sample playbook
validates and runs in the sandbox, the schemas are fresh, the editor settings and the schema
lines point at files that exist, the environment file plans, pre-commit runs its hooks; an
existing file is kept (``--force`` overwrites it). Through the installed ``runner`` command."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import yaml
from helpers import RUNNER, cli

from runner.scaffold import LAYOUT
from runner.schemas import SCHEMA_NAMES

WRITTEN = sorted([*LAYOUT.values(), *(f"schemas/{n}" for n in SCHEMA_NAMES)])


def _init(tmp_path: Path, *args: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    repo = tmp_path / "repo"
    return repo, cli("init", str(repo), *args, cwd=tmp_path)


def _said(proc: subprocess.CompletedProcess[str], word: str) -> list[str]:
    return sorted(line.split()[1] for line in proc.stdout.splitlines()
                  if line.startswith(f"{word}:"))


def test_init_writes_a_repository_that_validates_runs_and_is_fresh(tmp_path: Path) -> None:
    repo, proc = _init(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _said(proc, "wrote") == WRITTEN
    assert sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file()) == WRITTEN
    proc = cli("validate", "playbooks/hello.yaml", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = cli("run", "playbooks/hello.yaml", "--env", "sandbox", cwd=repo,
               env={"XDG_STATE_HOME": str(tmp_path / "state"), "RUNNER_STORE": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED" in proc.stdout and "devices: 2" in proc.stdout
    proc = cli("schema", "--check", cwd=repo)
    assert proc.returncode == 0 and "up to date" in proc.stdout, proc.stdout + proc.stderr


def test_the_editor_settings_and_schema_lines_point_at_the_schemas(tmp_path: Path) -> None:
    repo, proc = _init(tmp_path)
    assert proc.returncode == 0, proc.stderr
    settings = json.loads((repo / ".vscode" / "settings.json").read_text())
    mapped = settings["yaml.schemas"]
    assert sorted(Path(p).name for p in mapped) == sorted(SCHEMA_NAMES)
    for schema in mapped:
        assert (repo / schema).is_file(), schema
        json.loads((repo / schema).read_text())
    matched = {f for globs in mapped.values() for g in globs for f in repo.glob(g)}
    assert {repo / "playbooks" / "hello.yaml", repo / "environments" / "prod.yaml"} <= matched
    for path, name in (("playbooks/hello.yaml", "playbook"),
                       ("environments/prod.yaml", "environment")):
        first = (repo / path).read_text().splitlines()[0]
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert m, first
        schema_file = (repo / path).parent / m.group(1)
        assert schema_file.resolve() == (repo / "schemas" / f"{name}.schema.json").resolve()
        # what the editor checks the file with, jsonschema alone
        jsonschema.Draft202012Validator(json.loads(schema_file.read_text())).validate(
            yaml.safe_load((repo / path).read_text()))


def test_the_environment_file_plans_without_its_secret(tmp_path: Path) -> None:
    repo, _ = _init(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "MOR_API_SECRET"}
    proc = subprocess.run([str(RUNNER), "plan", "playbooks/hello.yaml", "--env", "prod"],
                          capture_output=True, text=True, cwd=repo, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "https://billing.example.com/billing/api/user_details_get" in proc.stdout
    data = yaml.safe_load((repo / "environments" / "prod.yaml").read_text())
    assert data["connectors"]["mor"]["api_secret"] == {"secret": "MOR_API_SECRET"}
    assert "secrets_file" in data


def test_pre_commit_runs_the_scaffolded_hooks(tmp_path: Path) -> None:
    repo, _ = _init(tmp_path)
    env = {**os.environ, "PATH": f"{RUNNER.parent}{os.pathsep}{os.environ['PATH']}",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"), "GIT_CONFIG_GLOBAL": os.devnull}

    def pre_commit() -> subprocess.CompletedProcess[str]:
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
        return subprocess.run([str(RUNNER.with_name("pre-commit")), "run", "--all-files"],
                              capture_output=True, text=True, cwd=repo, env=env, timeout=300)

    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    proc = pre_commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"runner validate\.+Passed", proc.stdout), proc.stdout
    assert re.search(r"runner schema --check\.+Passed", proc.stdout), proc.stdout
    hello = repo / "playbooks" / "hello.yaml"
    hello.write_text(hello.read_text().replace("mor.devices_get", "mor.devices_got"))
    (repo / "schemas" / "playbook.schema.json").write_text("{}\n")
    proc = pre_commit()
    assert proc.returncode == 1, proc.stdout
    assert "hello.yaml:" in proc.stdout and "devices_got" in proc.stdout
    assert "stale: schemas/playbook.schema.json" in proc.stdout


def test_init_keeps_what_exists_and_force_overwrites(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "playbooks").mkdir(parents=True)
    mine = repo / "playbooks" / "hello.yaml"
    mine.write_text("mine\n")
    repo, proc = _init(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _said(proc, "kept") == ["playbooks/hello.yaml"]
    assert "--force" in proc.stdout and mine.read_text() == "mine\n"
    assert _said(proc, "wrote") == [p for p in WRITTEN if p != "playbooks/hello.yaml"]
    repo, proc = _init(tmp_path, "--force")
    assert proc.returncode == 0, proc.stderr
    assert _said(proc, "wrote") == WRITTEN and mine.read_text().startswith("# yaml-language")


def test_init_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo").write_text("")
    _, proc = _init(tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is a file" in proc.stderr and "Traceback" not in proc.stderr
