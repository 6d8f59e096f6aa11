"""A YAML file's parse is kept beside the default run store (runner.loader_cache) and used
only for the very text it was parsed from, by the same code: a file loaded again gives the
same data and lines without PyYAML (checked in a real process), an edited file is parsed
again, and what cannot be kept (an error, a date, an unwritable folder) parses every time."""

from __future__ import annotations

import marshal
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runner import loader_cache
from runner.errors import PlaybookError, RunnerError
from runner.loader import load_file

ALL = lambda _data: True  # noqa: E731  (the loader's own rule: keep what the caller says)
TEXT = "name: kept\nsteps:\n  - id: a\n    assert: \"1 == 1\"\n  - {id: b, sleep: 0}\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUNNER_STORE", str(tmp_path / "state" / "runs.db"))
    return tmp_path / "state" / "parsed"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_file_loaded_again_gives_what_its_parse_gave(tmp_path: Path, folder: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(TEXT)
    first = load_file(f, keep=ALL)
    [entry] = entries(folder)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    again = load_file(f, keep=ALL)
    assert again.data == first.data and again.file == first.file
    assert again.locations == first.locations and again.loc(("steps", 1, "id")).line == 5


def test_an_edited_file_is_parsed_again(tmp_path: Path, folder: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(TEXT)
    load_file(f, keep=ALL)
    f.write_text(TEXT.replace("kept", "kapt"))  # the same size, even
    assert load_file(f, keep=ALL).data["name"] == "kapt"
    assert len(entries(folder)) == 1  # one entry per file


def test_an_entry_of_other_code_or_unreadable_is_not_used(tmp_path: Path, folder: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(TEXT)
    load_file(f, keep=ALL)
    [entry] = entries(folder)
    code, digest, data, where = marshal.loads(entry.read_bytes())
    forged = {**data, "name": "forged"}
    entry.write_bytes(marshal.dumps((code + "x", digest, forged, where)))
    assert load_file(f, keep=ALL).data["name"] == "kept"
    entry.write_bytes(b"\x00garbage")
    assert load_file(f, keep=ALL).data["name"] == "kept"
    assert loader_cache.get(str(f), TEXT, code) is not None  # written again, whole


def test_what_cannot_be_kept_is_parsed_every_time(tmp_path: Path, folder: Path) -> None:
    dated = tmp_path / "d.yaml"
    dated.write_text("when: 2026-12-02\n")
    assert str(load_file(dated, keep=ALL).data["when"]) == "2026-12-02"
    assert entries(folder) == []  # marshal keeps no date
    broken = tmp_path / "b.yaml"
    broken.write_text("a: 1\na: 2\n")
    for _ in range(2):
        with pytest.raises(PlaybookError, match="duplicate key"):
            load_file(broken, keep=ALL)
    assert entries(folder) == []


def test_an_unwritable_folder_leaves_parsing_as_it_was(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("RUNNER_STORE", str(blocker / "runs.db"))  # its folder is a file
    f = tmp_path / "p.yaml"
    f.write_text(TEXT)
    assert load_file(f, keep=ALL).data == load_file(f, keep=ALL).data


PROBE = """
import sys
from runner.loader import load_file
doc = load_file(sys.argv[1], keep=lambda _data: True)
print(doc.data["name"], doc.loc(("steps", 0, "assert")).line, "yaml" in sys.modules)
"""


def test_a_kept_parse_needs_no_yaml_in_a_new_process(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(TEXT)
    env = {**os.environ, "RUNNER_STORE": str(tmp_path / "runs.db")}

    def load() -> str:
        return subprocess.run([sys.executable, "-c", PROBE, str(f)], env=env, check=True,
                              capture_output=True, text=True).stdout.strip()

    assert load() == "kept 4 True"
    assert load() == "kept 4 False"
    f.write_text(TEXT.replace("kept", "new"))
    assert load() == "new 4 True"


def test_a_file_of_inputs_and_a_file_that_is_no_playbook_are_never_kept(
        tmp_path: Path) -> None:
    """A file of inputs may hold a secret input's value, and an included file that is not a
    playbook may be anything (a secrets file named by mistake): neither is copied into the
    store's folder. A playbook and a connector file are."""
    state = tmp_path / "state"
    (tmp_path / "pb.yaml").write_text(
        "name: p\ninputs:\n  pin: {type: string, secret: true}\nsteps:\n"
        "  - assert: \"inputs.pin != ''\"\n  - include: other.yaml\n")
    (tmp_path / "other.yaml").write_text("pin: s3cret-in-a-file-9911\n")
    (tmp_path / "vars.yaml").write_text("pin: s3cret-in-a-file-9911\n")
    run = subprocess.run([str(Path(sys.executable).with_name("runner")), "run", "pb.yaml",
                          "-i", "@vars.yaml"], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "RUNNER_STORE": str(state / "runs.db")})
    assert run.returncode == 2 and "is not a playbook" in run.stdout + run.stderr, run.stderr
    kept = entries(state / "parsed")
    assert len(kept) == 1  # pb.yaml's
    assert marshal.loads(kept[0].read_bytes())[2]["name"] == "p"
    for entry in kept:
        assert b"s3cret-in-a-file-9911" not in entry.read_bytes()


PLAIN_ENV = ("description: refs only\nconnectors:\n  api:\n    base_url: http://127.0.0.1:9\n"
             "    auth: login\n    username: ops\n    password: {secret: API_PASSWORD}\n"
             "    verify_tls: false\n")


@pytest.mark.parametrize("literal", [
    "    password: s3cret-in-env-5521\n",  # a declared secret written in the wrong place
    "    headers: {X-Key: s3cret-in-env-5521}\n",  # a header may be a credential
    "    pin: s3cret-in-env-5521\n",  # a key runner does not know
    "    token: {env: TOKEN, default: s3cret-in-env-5521}\n",  # a default is a literal
    "    base_url: http://u:s3cret-in-env-5521@127.0.0.1:9\n",  # user-info in the URL
    "notify:\n  - {url: 'json://s3cret-in-env-5521@127.0.0.1:9', on: [failed]}\n",
])
def test_an_environment_file_is_kept_only_when_nothing_in_it_can_be_a_secret(
        tmp_path: Path, folder: Path, literal: str) -> None:
    """An environment file of references and plain settings is kept (the run imports no
    PyYAML for it); one with any literal that could be a secret is parsed every run and never
    copied into the store's folder."""
    from runner.environment import load_environment

    plain = tmp_path / "plain.yaml"
    plain.write_text(PLAIN_ENV)
    assert load_environment(str(plain)).connectors["api"]["username"] == "ops"
    assert len(entries(folder)) == 1
    assert load_environment(str(plain)).connectors == \
        {"api": {"base_url": "http://127.0.0.1:9", "auth": "login", "username": "ops",
                 "password": {"secret": "API_PASSWORD"}, "verify_tls": False}}
    risky = tmp_path / "risky.yaml"
    key = literal.split(":")[0]  # the literal takes the place of the plain line of its key
    risky.write_text("".join(line + "\n" for line in PLAIN_ENV.splitlines()
                             if line.split(":")[0] != key) + literal)
    try:
        load_environment(str(risky))
    except RunnerError:
        pass  # refused or not, it must not be kept
    assert len(entries(folder)) == 1  # plain.yaml's alone
    for entry in entries(folder):
        assert b"s3cret-in-env-5521" not in entry.read_bytes()
