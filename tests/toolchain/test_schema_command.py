"""``runner schema`` writes where the user wants and never into runner's own package: ``--out``,
else ``./schemas`` of a repository of playbooks, else it asks; ``--check`` names what is stale.
Through the installed command (a wheel's install is tests/toolchain/test_wheel_install.py)."""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, cli

from runner.schemas import SCHEMA_NAMES


def test_outside_a_repository_it_asks_for_out(tmp_path: Path) -> None:
    proc = cli("schema", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "not a repository of playbooks" in proc.stderr and "--out" in proc.stderr
    assert list(tmp_path.iterdir()) == []
    proc = cli("schema", "--out", "mine", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == sorted(SCHEMA_NAMES)
    assert proc.stdout.splitlines()[0] == f"wrote: mine/{SCHEMA_NAMES[0]}"


def test_in_a_repository_it_writes_its_schemas_folder(tmp_path: Path) -> None:
    (tmp_path / "playbooks").mkdir()
    proc = cli("schema", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.splitlines()) == sorted(f"wrote: schemas/{n}" for n in SCHEMA_NAMES)
    proc = cli("schema", cwd=tmp_path)
    assert proc.stdout.strip() == "up to date: schemas", proc.stdout
    (tmp_path / "schemas" / "environment.schema.json").unlink()
    proc = cli("schema", "--check", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout.strip() == \
        "stale: schemas/environment.schema.json", proc.stdout
    assert not (tmp_path / "schemas" / "environment.schema.json").exists()  # check writes nothing


def test_out_inside_runners_package_is_refused(tmp_path: Path) -> None:
    target = ROOT / "runner" / "schemas-here"
    proc = cli("schema", "--out", str(target), cwd=tmp_path)
    assert proc.returncode == 2 and "installed package" in proc.stderr, proc.stderr
    assert not target.exists()
