"""``include:`` stays inside the playbook's root, and no error shows a line of a file that is
not a playbook (``runner validate`` runs as a pre-commit hook: its output lands in CI logs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import cli

from runner.errors import EXIT_INVALID

SECRET_LINE = "API_TOKEN=sk_live_5f2b9c0e7d1a4b3c"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def including(tmp_path: Path, target: str) -> Path:
    return write(tmp_path / "repo" / "flows" / "main.yaml", f"""\
name: includes {target}
connectors: {{automatos: {{use: automatos}}}}
steps:
  - id: other
    include: {target}
""")


def check_refused(proc: object, main: Path, *, secret: str, words: str) -> None:
    out = proc.stdout + proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == EXIT_INVALID, out  # type: ignore[attr-defined]
    assert "Traceback" not in out
    assert f"{main}:5:" in proc.stderr, out  # type: ignore[attr-defined]  # the include's line
    assert words in proc.stderr, out  # type: ignore[attr-defined]
    assert "hint:" in proc.stderr, out  # type: ignore[attr-defined]
    assert secret not in out


def test_absolute_path_outside_the_root_is_refused_unread(tmp_path: Path) -> None:
    first = Path("/etc/passwd").read_text().splitlines()[0]
    main = including(tmp_path, "/etc/passwd")
    proc = cli("validate", str(main))
    check_refused(proc, main, secret=first, words="outside the playbook's root")
    assert "root:x" not in proc.stdout + proc.stderr


def test_relative_path_out_of_the_root_is_refused_unread(tmp_path: Path) -> None:
    write(tmp_path / "creds.env", SECRET_LINE + "\n")
    main = including(tmp_path, "../../creds.env")
    proc = cli("validate", str(main))
    check_refused(proc, main, secret=SECRET_LINE, words="outside the playbook's root")


def test_a_symlink_pointing_outside_counts_as_outside(tmp_path: Path) -> None:
    secret = write(tmp_path / "elsewhere" / "token.yaml", f"{SECRET_LINE}\n")
    main = including(tmp_path, "shared.yaml")
    (main.parent / "shared.yaml").symlink_to(secret)
    proc = cli("validate", str(main))
    check_refused(proc, main, secret=SECRET_LINE, words="outside the playbook's root")


def test_a_file_inside_the_root_that_is_not_a_playbook_shows_none_of_its_lines(
        tmp_path: Path) -> None:
    main = including(tmp_path, "deploy.env")
    write(main.parent / "deploy.env", f"{SECRET_LINE}\nOTHER=1\n")
    proc = cli("validate", str(main))
    check_refused(proc, main, secret=SECRET_LINE, words="is not a playbook")
    assert "sk_live" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("text", [
    "password: hunter2-secret-value\nuser: admin\n",  # a mapping, but no steps:
    "password: hunter2-secret-value\n  bad: [indent\n",  # does not even parse
    "- password: hunter2-secret-value\n",
], ids=["mapping", "broken-yaml", "list"])
def test_yaml_that_is_not_a_playbook_shows_none_of_its_lines(tmp_path: Path, text: str) -> None:
    main = including(tmp_path, "vault.yaml")
    write(main.parent / "vault.yaml", text)
    proc = cli("validate", str(main))
    check_refused(proc, main, secret="hunter2", words="is not a playbook")


def test_root_option_widens_the_root(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "shared" / "noop.yaml",
          "name: noop\nconnectors: {automatos: {use: automatos}}\n"
          "steps:\n  - auth: automatos\n")
    main = including(tmp_path, "../shared/noop.yaml")
    refused = cli("validate", str(main))
    assert refused.returncode == EXIT_INVALID and "--root" in refused.stderr
    ok = cli("validate", "--root", str(tmp_path / "repo"), str(main))
    assert ok.returncode == 0, ok.stderr
    for command in ("plan", "run"):  # every command that loads a playbook takes it
        assert cli(command, str(main)).returncode == EXIT_INVALID
        widened = cli(command, "--root", str(tmp_path / "repo"), str(main))
        assert widened.returncode == 0, widened.stdout + widened.stderr
    # the top playbook itself must be inside an explicit root
    outside = cli("validate", "--root", str(tmp_path / "repo" / "shared"), str(main))
    assert outside.returncode == EXIT_INVALID
    assert "outside the root" in outside.stderr and "Traceback" not in outside.stderr


def test_a_playbook_inside_the_root_still_shows_its_source(tmp_path: Path) -> None:
    sub = write(tmp_path / "repo" / "flows" / "sub.yaml",
                "name: sub\nsteps:\n  - auth: nowhere\n")
    main = including(tmp_path, "sub.yaml")
    proc = cli("validate", str(main))
    assert proc.returncode == EXIT_INVALID
    assert f"{sub}:3:" in proc.stderr and "3 |   - auth: nowhere" in proc.stderr, proc.stderr


def test_resume_takes_the_root_too(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "shared" / "fails.yaml",
          "name: fails\nsteps:\n  - assert: \"false\"\n")
    main = including(tmp_path, "../shared/fails.yaml")
    store = str(tmp_path / "runs.db")
    ran = cli("run", "--root", str(tmp_path / "repo"), str(main), "--store", store)
    assert ran.returncode == 1, ran.stdout + ran.stderr  # ran, and failed in the include
    run_id = cli("history", "--store", store).stdout.split()[0]
    assert cli("resume", run_id, "--store", store).returncode == EXIT_INVALID  # root unknown
    # --force: the refused resume above claimed the run before loading it (it looks alive a while)
    again = cli("resume", run_id, "--root", str(tmp_path / "repo"), "--store", store,
                "--force")
    assert again.returncode == 1, again.stdout + again.stderr  # loaded, ran, failed again
