"""Secrets from a command and from an age-encrypted secrets file reach a real server (which
echoes every request back) through the installed ``runner`` command, and show in no output:
console, JSON/JUnit/HTML reports, ``runner show``/``history``, ``runner plan``, the store
file's bytes (tests/leakcheck.py). A command is run once per run per reference."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import dev_module
from leakcheck import Echo, every_output, started

pyrage = dev_module("pyrage")  # the dev extra's: it encrypts the test files

CMD_VALUE = "cmd-s3cret-Qx81v"
FILE_VALUE = "age-s3cret-Wr55k"
PLAIN_VALUE = "env-s3cret-Zt07m"


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    yield from started(Echo())  # type: ignore[misc]


def playbook(tmp_path: Path) -> Path:
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: secret sources
connectors:
  h: {use: http}
steps:
  - {id: echo, call: h, method: GET, path: /echo/x, query: {t: "{{ secrets.token }}"}}
  - assert:
      that: "false"
      message: "the server said {{ steps.echo.response.text }}"
""")
    return pb


def command_script(tmp_path: Path) -> Path:
    """A secret helper like ``op read``: prints the value; notes each call in calls.txt."""
    script = tmp_path / "helper.py"
    script.write_text(f"""\
import pathlib
with open(pathlib.Path(__file__).with_name("calls.txt"), "a") as f:
    f.write("called\\n")
print({CMD_VALUE!r})
""")
    return script


def age_file(tmp_path: Path, text: str) -> Path:
    identity = pyrage.x25519.Identity.generate()
    (tmp_path / "key.txt").write_text(f"# created: for the test\n{identity}\n")
    path = tmp_path / "secrets.yaml.age"
    path.write_bytes(pyrage.encrypt(text.encode(), [identity.to_public()]))
    return path


def test_command_and_age_file_secrets_reach_the_server_and_show_nowhere(
        tmp_path: Path, echo: Echo) -> None:
    script = command_script(tmp_path)
    age_file(tmp_path, f"FILE_KEY: {FILE_VALUE}\n")
    env = tmp_path / "env.yaml"
    env.write_text(f"""\
secrets_file: secrets.yaml.age
age_identity: key.txt
secrets:
  token: {{secret: {{command: ['{sys.executable}', helper.py]}}}}
connectors:
  h:
    base_url: '{echo.url}'
    headers:
      X-Cmd: {{secret: {{command: ['{sys.executable}', helper.py]}}}}
      X-File: {{secret: FILE_KEY}}
      X-Plain: {{secret: PLAIN_KEY}}
""")
    out = every_output(tmp_path, playbook(tmp_path), env, {},
                       extra_env={"PLAIN_KEY": PLAIN_VALUE})
    # the values reached the server, which echoed them: masked in the console
    assert "the server said /echo/x?t=***" in out.run, out.run
    assert "x-cmd: ***\nx-file: ***\nx-plain: ***" in out.run.lower()
    for value in (CMD_VALUE, FILE_VALUE, PLAIN_VALUE):
        assert not out.find(value), (value, out.find(value))
    # one reference, written twice, fetched once in the run; plan fetched nothing
    assert (tmp_path / "calls.txt").read_text() == "called\n"
    assert script.exists()


def test_a_failing_command_names_its_exit_code_and_stderr_never_stdout(
        tmp_path: Path, echo: Echo) -> None:
    script = tmp_path / "fails.py"
    script.write_text("import sys\nprint('half-printed-s3cret')\n"
                      "sys.exit('[ERROR] not signed in to vault')\n")
    env = tmp_path / "env.yaml"
    env.write_text(f"""\
connectors:
  h:
    base_url: '{echo.url}'
    headers:
      X-Cmd: {{secret: {{command: ['{sys.executable}', fails.py]}}}}
""")
    out = every_output(tmp_path, playbook(tmp_path), env, {})
    assert "env.yaml:5:" in out.run, out.run
    assert "exited 1: [ERROR] not signed in to vault" in out.run
    assert "hint: run it yourself" in out.run
    assert not out.find("half-printed-s3cret")


def test_a_missing_identity_and_a_wrong_one_are_named(tmp_path: Path, echo: Echo) -> None:
    age_file(tmp_path, "FILE_KEY: x\n")
    env = tmp_path / "env.yaml"
    env.write_text(f"""\
secrets_file: secrets.yaml.age
connectors:
  h:
    base_url: '{echo.url}'
    headers: {{X-File: {{secret: FILE_KEY}}}}
""")
    out = every_output(tmp_path, playbook(tmp_path), env, {})
    assert "secrets.yaml.age is age-encrypted and no identity is given" in out.run, out.run
    assert "export RUNNER_AGE_IDENTITY=PATH" in out.run
    other = tmp_path / "other.txt"
    other.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    out = every_output(tmp_path, playbook(tmp_path), env, {},
                       extra_env={"RUNNER_AGE_IDENTITY": str(other)})
    assert f"cannot decrypt the secrets file {tmp_path / 'secrets.yaml.age'} with {other}" \
        in out.run, out.run


def test_an_environment_files_notify_url_from_a_command_is_told_and_never_shown(
        tmp_path: Path, echo: Echo) -> None:
    from notify_receivers import json_receiver

    with json_receiver() as (url, posts):
        (tmp_path / "url.py").write_text(f"print({url!r})\n")
        env = tmp_path / "env.yaml"
        env.write_text(f"""\
notify:
  - url: {{secret: {{command: ['{sys.executable}', url.py]}}}}
connectors:
  h: {{base_url: '{echo.url}'}}
""")
        out = every_output(tmp_path, playbook(tmp_path), env, {})
        assert len(posts.got) == 1, out.run
        assert "warning" not in out.run
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert not out.find(f"127.0.0.1:{port}"), out.find(url)


def test_a_notify_url_command_that_fails_is_a_warning_with_its_reason(
        tmp_path: Path, echo: Echo) -> None:
    (tmp_path / "url.py").write_text("import sys\nsys.exit('vault: permission denied')\n")
    env = tmp_path / "env.yaml"
    env.write_text(f"""\
notify:
  - url: {{secret: {{command: ['{sys.executable}', url.py]}}}}
connectors:
  h: {{base_url: '{echo.url}'}}
""")
    out = every_output(tmp_path, playbook(tmp_path), env, {})
    assert f"warning: notify: {env}:2:" in out.run, out.run
    assert "exited 1: vault: permission denied" in out.run
    assert "its secret could not be fetched; not sent" in out.run


def test_a_missing_optional_secrets_file_through_the_command(tmp_path: Path, echo: Echo) -> None:
    from helpers import cli

    from runner.errors import EXIT_INVALID

    env = tmp_path / "env.yaml"
    env.write_text(f"""\
secrets_file: nowhere/secrets.yaml
secrets: {{token: {{secret: OPT_TOKEN}}}}
connectors:
  h: {{base_url: '{echo.url}'}}
""")
    pb = playbook(tmp_path)
    ran = cli("run", str(pb), "-e", str(env), "--no-progress", env={"OPT_TOKEN": PLAIN_VALUE})
    assert "the server said /echo/x?t=***" in ran.stdout, ran.stdout + ran.stderr
    ran = cli("run", str(pb), "-e", str(env), "--no-progress")
    assert ran.returncode == EXIT_INVALID, ran.stdout + ran.stderr
    assert "error: secret OPT_TOKEN (for secrets.token) is not set" in ran.stderr
    assert (f"hint: export OPT_TOKEN=... or create {tmp_path / 'nowhere' / 'secrets.yaml'} "
            "holding OPT_TOKEN: ...") in ran.stderr
