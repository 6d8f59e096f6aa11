"""The docs keep up with the code: every playbook key, connector-file key, command and option is
documented; links and anchors resolve; complete examples validate; shell completion works; the
editor and pre-commit files say what the docs say."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from helpers import ROOT, RUNNER, cli

from runner.cli import main
from runner.connectors import registry
from runner.connectors.spec import CONNECTOR_SCHEMA, PARAM_LOCATIONS, PARAM_TYPES
from runner.playbook import GENERIC_SETTINGS, load_playbook
from runner.playbook_schema import BASE, INPUT, STEP_PROPERTIES
from runner.steps.check import ASSERTION
from runner.steps.extract import EXTRACTION

DOCS = ROOT / "docs"


def text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def documented(doc: str, keys: Any) -> list[str]:
    """The keys not written as `key`, `key: ...`, `key(...)` or `self.key` in ``doc``."""
    forms = ("`{}`", "`{}:", "`{}(", "`self.{}")
    return [k for k in keys if not any(f.format(k) in doc for f in forms)]


def test_playbook_reference_has_every_key() -> None:
    doc = text("playbook.md")
    props = BASE["properties"]
    inputs: Any = INPUT["properties"]
    extraction: Any = EXTRACTION["anyOf"]
    assertion: Any = ASSERTION["anyOf"]
    groups = {
        "top level": props,
        "inputs": inputs,
        "connectors": props["connectors"]["additionalProperties"]["properties"],
        "generic settings": GENERIC_SETTINGS,
        "steps": STEP_PROPERTIES,
        "extract": extraction[1]["properties"],
        "assert": assertion[1]["properties"],
        "retry": STEP_PROPERTIES["retry"]["anyOf"][1]["properties"],
        "resume-check": STEP_PROPERTIES["resume-check"]["properties"],
        "input types": inputs["type"]["enum"],
    }
    missing = {g: documented(doc, keys) for g, keys in groups.items()}
    assert not any(missing.values()), f"docs/playbook.md lacks {missing}"
    for key in STEP_PROPERTIES:  # each step key has an example, not only a row in a table
        example = re.search(rf"^\s*-?\s*{re.escape(key)}:", doc, re.M)
        assert example, f"docs/playbook.md has no YAML example using {key}:"


def test_connector_guide_has_every_key_and_hook() -> None:
    doc = text("writing-a-connector.md")
    props = CONNECTOR_SCHEMA["properties"]
    op = props["operations"]["additionalProperties"]
    groups = {
        "top level": props,
        "settings": props["settings"]["additionalProperties"]["properties"],
        "auth schemes": props["auth"]["properties"]["scheme"]["enum"],
        "errors": props["errors"]["items"]["properties"],
        "timeouts": props["timeouts"]["properties"],
        "limits": props["limits"]["properties"],
        "breaker": props["limits"]["properties"]["breaker"]["properties"],
        "operations": op["properties"],
        "params": op["properties"]["params"]["additionalProperties"]["properties"],
        "param types": PARAM_TYPES,
        "param locations": PARAM_LOCATIONS,
        "hooks": ("prepare", "decode", "vendor_error", "register_secret"),
        "entry point": ("runner.connectors",),
    }
    missing = {g: documented(doc, keys) for g, keys in groups.items()}
    assert not any(missing.values()), f"docs/writing-a-connector.md lacks {missing}"


def test_the_guide_shows_the_tested_package() -> None:
    """The guide's connector.yaml is the one tests/toolchain/test_thirdparty.py installs."""
    doc = text("writing-a-connector.md")
    shipped = ROOT / "tests/thirdparty/runner-connector-echo/runner_connector_echo/connector.yaml"
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    guide = next(yaml.safe_load(b) for b in blocks if b.startswith("name: echo"))
    real = yaml.safe_load(shipped.read_text())
    real["title"] = guide["title"]
    assert guide == real


def test_automatos_page_names_every_operation_and_setting() -> None:
    doc = text("connectors/automatos.md")
    spec = registry.get("automatos")
    missing = documented(doc, [*spec.operations, *spec.settings, spec.auth_scheme])
    params = [p for o in spec.operations.values() for p in o.params]
    missing += documented(doc, params)
    assert not missing, f"docs/connectors/automatos.md lacks {missing}"


def _commands() -> dict[str, click.Command]:
    assert isinstance(main, click.Group)
    return dict(main.commands)


def _leaves(group: click.Group, prefix: str = "runner") -> dict[str, click.Command]:
    """Every command line, groups expanded: {"runner run": ..., "runner schedule list": ...}."""
    out: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out.update(_leaves(command, f"{prefix} {name}"))
        else:
            out[f"{prefix} {name}"] = command
    return out


def test_cli_page_has_every_command_and_option() -> None:
    doc = text("cli.md")
    assert isinstance(main, click.Group)
    for line, command in _leaves(main).items():
        assert f"## `{line}`" in doc, f"docs/cli.md has no section for {line}"
        for param in command.params:
            if isinstance(param, click.Option):
                longest = max(param.opts, key=len)
                assert f"`{longest}" in doc, f"docs/cli.md lacks {line} {longest}"


def test_shell_completion(tmp_path: Path) -> None:
    doc = text("cli.md")
    assert "_RUNNER_COMPLETE=bash_source runner" in doc
    script = cli(env={"_RUNNER_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "complete -o nosort -F _runner_completion runner" \
        in script.stdout
    words = cli(env={"_RUNNER_COMPLETE": "bash_complete", "COMP_WORDS": "runner ",
                     "COMP_CWORD": "1"}).stdout
    offered = {line.split(",", 1)[1] for line in words.splitlines()}
    assert set(_commands()) <= offered
    # the generated script really loads in bash and completes
    script_file = tmp_path / "complete.bash"
    script_file.write_text(script.stdout)
    bash = subprocess.run(
        ["bash", "-c", f'. {script_file}; COMP_WORDS=(runner r); COMP_CWORD=1; '
         f'_runner_completion runner; printf "%s\\n" "${{COMPREPLY[@]}}"'],
        capture_output=True, text=True, timeout=30,
        env={"PATH": f"{RUNNER.parent}:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert set(bash.stdout.split()) == {"reject", "resume", "run"}, bash.stderr


def _slug(heading: str) -> str:
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    body = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#+ (.*)$", body, re.M)}


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.md")), ids=lambda p: p.name)
def test_links_resolve(page: Path) -> None:
    body = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", body):
        if re.match(r"[a-z]+:", target):
            continue  # an external link
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        assert dest.exists(), f"{page.name}: link to missing {target}"
        if anchor and dest.suffix == ".md":
            assert anchor in _anchors(dest), f"{page.name}: no heading for #{anchor} in {file}"


def test_complete_examples_validate(tmp_path: Path) -> None:
    count = 0
    for page in ("playbook.md", "writing-a-connector.md", "expressions.md", "report.md"):
        for block in re.findall(r"```yaml\n(.*?)```", text(page), re.S):
            data = yaml.safe_load(block)
            if not (isinstance(data, dict) and "steps" in data and "name" in data):
                continue
            uses = {c["use"] for c in (data.get("connectors") or {}).values()}
            if not uses <= set(registry.names()):
                continue  # the guide's echo playbook: tests/toolchain/test_thirdparty.py runs it
            path = tmp_path / f"example{count}.yaml"
            path.write_text(block)
            load_playbook(path)
            count += 1
    assert count >= 1


def test_report_page_embeds_the_screenshot() -> None:
    doc = text("report.md")
    assert "](img/report.png)" in doc
    png = (DOCS / "img" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_vscode_settings_map_the_playbook_schema() -> None:
    raw = (ROOT / ".vscode" / "settings.json").read_text()
    settings = json.loads(re.sub(r"^\s*//.*$", "", raw, flags=re.M))  # JSON with comments
    schemas = settings["yaml.schemas"]
    assert "playbooks/**/*.yaml" in schemas["./schemas/playbook.schema.json"]
    from runner.schemas import SCHEMA_DIR, generated

    for path in schemas:
        assert (ROOT / path).resolve().parent == SCHEMA_DIR
        assert Path(path).name in generated()  # what `runner schema` writes


HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_pre_commit_hook_manifest() -> None:
    hook = next(h for h in HOOKS if h["id"] == "runner-validate")
    assert hook["language"] == "python" and hook["entry"] == "runner validate"
    files = re.compile(hook["files"])
    for path in ("playbooks/automatos/distribute-package.yaml", "playbooks/x.yml",
                 "playbooks/a/b/c.yaml"):
        assert files.search(path), path
    for path in ("environments/prod.example.yaml", ".pre-commit-config.yaml",
                 "plugins/automatos/connector.yaml", "playbooks/README.md", "ci/playbooks/x.yaml"):
        assert not files.search(path), path
    assert hook["files"] in text("pre-commit.md")


def test_pre_commit_hook_entry_on_this_repository() -> None:
    """What the hook runs, on the files it would get here."""
    hook = next(h for h in HOOKS if h["id"] == "runner-validate")
    files = re.compile(hook["files"])
    paths = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "playbooks").rglob("*")
                   if files.search(str(p.relative_to(ROOT))))
    assert paths
    proc = cli(*hook["entry"].split()[1:], *paths)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok: ") == len(paths)


def test_pre_commit_validates_the_manifest() -> None:
    pre_commit = RUNNER.with_name("pre-commit")  # a dev dependency: make test installs it
    proc = subprocess.run([str(pre_commit), "validate-manifest", ".pre-commit-hooks.yaml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pre_commit_try_repo_runs_the_hook_on_this_repository(tmp_path: Path) -> None:
    """What another repository of playbooks gets: pre-commit installs runner from this repo
    into its own environment and runs the hook over the playbooks (the work tree as it is)."""
    if not (ROOT / ".git").exists():
        pytest.fail("try-repo needs this checkout to be a git repository")
    pre_commit = RUNNER.with_name("pre-commit")
    proc = subprocess.run(
        [str(pre_commit), "try-repo", ".", "runner-validate", "--all-files"], cwd=ROOT,
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"runner validate\.+Passed", proc.stdout), proc.stdout[-3000:]
