"""The secret sources one by one, through an environment file as a run reads it
(:meth:`Environment.lookup_secret`): the variable and the secrets file (a missing one is
optional), a command, an age-encrypted file (pyrage and the ``age`` program), the cache, and
every error's words (never the value)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import dev_module

from runner import secret_source
from runner.environment import Environment, load_environment
from runner.errors import InvalidInput, PlaybookError

pyrage = dev_module("pyrage")  # the dev extra's: it encrypts the test files


def env_file(tmp_path: Path, body: str) -> Environment:
    path = tmp_path / "env.yaml"
    path.write_text(body)
    return load_environment(str(path))


def secret(env: Environment, name: str) -> str:
    return env.lookup_secret(env.secret_refs[name], f"secrets.{name}")


def error(env: Environment, name: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        secret(env, name)
    return info.value


# -- the variable, then the secrets file ---------------------------------------------------
def test_a_missing_optional_secrets_file_is_no_error_when_the_variable_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOMATOS_KEY", "from-the-variable")
    env = env_file(tmp_path, "secrets_file: secrets.yaml\n"
                   "secrets: {key: {secret: AUTOMATOS_KEY}}\n")
    assert secret(env, "key") == "from-the-variable"


def test_neither_set_nor_in_a_missing_file_names_the_export_and_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOMATOS_KEY", raising=False)
    env = env_file(tmp_path, "secrets_file: secrets.yaml\n"
                   "secrets: {key: {secret: AUTOMATOS_KEY}}\n")
    e = error(env, "key")
    assert e.message == "secret AUTOMATOS_KEY (for secrets.key) is not set"
    assert e.hint == (f"export AUTOMATOS_KEY=... or create {tmp_path / 'secrets.yaml'} "
                      "holding AUTOMATOS_KEY: ...")


def test_the_variable_wins_over_the_file_and_the_file_fills_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secrets.yaml").write_text("A_KEY: from-the-file\nB_KEY: 1234\n")
    monkeypatch.setenv("A_KEY", "from-the-variable")
    monkeypatch.delenv("B_KEY", raising=False)
    monkeypatch.delenv("C_KEY", raising=False)
    env = env_file(tmp_path, "secrets_file: secrets.yaml\nsecrets:\n  a: {secret: A_KEY}\n"
                   "  b: {secret: {env: B_KEY}}\n  c: {secret: C_KEY}\n")
    assert secret(env, "a") == "from-the-variable"
    assert secret(env, "b") == "1234"  # text, as a variable would be
    e = error(env, "c")
    assert e.hint == f"export C_KEY=... or add it to {tmp_path / 'secrets.yaml'}"


def test_a_secrets_file_with_a_syntax_error_never_shows_its_lines(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("A_KEY: 'hunter2-unclosed\n")
    env = env_file(tmp_path, "secrets_file: secrets.yaml\nsecrets: {a: {secret: NOT_SET_A}}\n")
    with pytest.raises(PlaybookError) as info:
        secret(env, "a")
    assert "invalid YAML" in info.value.render() and "secrets.yaml:" in info.value.render()
    assert "hunter2" not in info.value.render()


# -- a command -------------------------------------------------------------------------------
def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "helper.py"
    path.write_text(body)
    return f"['{sys.executable}', helper.py]"  # run in the environment file's folder


def test_a_command_prints_the_value_less_one_newline_run_once_per_reference(
        tmp_path: Path) -> None:
    argv = script(tmp_path, "import pathlib\n"
                  "with open(pathlib.Path('calls.txt'), 'a') as f: f.write('x')\n"
                  "print(' v4lue with spaces ')\n")
    env = env_file(tmp_path, f"secrets:\n  a: {{secret: {{command: {argv}}}}}\n"
                   f"  b: {{secret: {{command: {{argv: {argv}, timeout: 5}}}}}}\n")
    assert secret(env, "a") == " v4lue with spaces "
    assert secret(env, "a") == " v4lue with spaces "
    assert (tmp_path / "calls.txt").read_text() == "x"  # the second lookup: the cache
    assert secret(env, "b") == " v4lue with spaces "  # another reference: run again
    assert (tmp_path / "calls.txt").read_text() == "xx"


@pytest.mark.parametrize(("body", "words"), [
    ("import sys\nprint('s3cret-on-stdout')\nsys.stderr.write('line 1\\nnot signed in\\n')\n"
     "sys.exit(3)\n", "exited 3: line 1 / not signed in"),
    ("import sys\nprint('s3cret-on-stdout')\nsys.exit(1)\n", "exited 1 and said nothing"),
    ("pass\n", "printed nothing"),
    ("import sys\nsys.stdout.buffer.write(b'\\xff\\xfe')\n", "not UTF-8 text"),
])
def test_a_failing_command_is_named_with_its_code_and_stderr_never_its_stdout(
        tmp_path: Path, body: str, words: str) -> None:
    env = env_file(tmp_path, f"secrets:\n  a: {{secret: {{command: {script(tmp_path, body)}}}}}\n")
    e = error(env, "a")
    assert e.message.startswith(f"{tmp_path / 'env.yaml'}:2:")
    assert f"secret command '{sys.executable}' (for secrets.a)" in e.message
    assert words in e.message
    assert "s3cret-on-stdout" not in f"{e.message} {e.hint}"


def test_a_command_that_hangs_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    argv = script(tmp_path, "import time\ntime.sleep(30)\n")
    env = env_file(tmp_path, f"secrets:\n  a: {{secret: {{command: {{argv: {argv}, "
                   "timeout: 0.5}}}\n")
    e = error(env, "a")
    assert "did not finish within 0.5 s" in e.message and "timeout: SECONDS" in (e.hint or "")


def test_a_program_that_is_not_there(tmp_path: Path) -> None:
    env = env_file(tmp_path, "secrets: {a: {secret: {command: [no-such-vault-cli, read]}}}\n")
    e = error(env, "a")
    assert "secret command 'no-such-vault-cli' (for secrets.a): no such program" in e.message
    assert e.hint == "install it, or give its full path"


@pytest.mark.parametrize(("ref", "words"), [
    ("{command: []}", "secrets > a > secret"),
    ("{command: 'op read x'}", "secrets > a > secret"),
    ("{command: [op], env: X}", "secrets > a > secret"),
    ("{command: {argv: [op], timeout: 0}}", "secrets > a > secret"),
    ("'not a name'", "secrets > a > secret"),
])
def test_the_schema_refuses_a_malformed_reference(tmp_path: Path, ref: str, words: str) -> None:
    with pytest.raises(PlaybookError) as info:
        env_file(tmp_path, f"secrets:\n  a: {{secret: {ref}}}\n")
    assert words in info.value.render() and info.value.location is not None
    assert info.value.location.line == 2


def test_an_unknown_source_lists_the_installed_ones(tmp_path: Path) -> None:
    env = env_file(tmp_path, "secrets: {a: {secret: {vaultx: kv/app}}}\n")
    e = error(env, "a")
    assert e.message == (f"{tmp_path / 'env.yaml'}:1:15: no secret source named 'vaultx' "
                         "(for secrets.a) is installed")
    assert "installed sources: command, env" in (e.hint or "")


def test_a_source_satisfies_the_protocol() -> None:
    for name in secret_source.BUILTIN:
        assert callable(secret_source.get(name).fetch)


# -- an age-encrypted secrets file -----------------------------------------------------------
def encrypted(tmp_path: Path, text: str) -> Path:
    identity = pyrage.x25519.Identity.generate()
    (tmp_path / "key.txt").write_text(f"# public key: {identity.to_public()}\n{identity}\n")
    (tmp_path / "secrets.yaml.age").write_bytes(
        pyrage.encrypt(text.encode(), [identity.to_public()]))
    return tmp_path / "key.txt"


AGE_ENV = ("secrets_file: secrets.yaml.age\nage_identity: key.txt\n"
           "secrets: {a: {secret: AGE_A}, b: {secret: AGE_B}}\n")


def test_an_age_file_is_decrypted_with_pyrage_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGE_A", raising=False)
    monkeypatch.delenv("RUNNER_AGE_IDENTITY", raising=False)
    encrypted(tmp_path, "AGE_A: first-value\nAGE_B: second-value\n")
    env = env_file(tmp_path, AGE_ENV)
    assert secret(env, "a") == "first-value"
    (tmp_path / "secrets.yaml.age").unlink()  # read once per run: not needed again
    assert secret(env, "b") == "second-value"


def test_runner_age_identity_wins_over_age_identity(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGE_A", raising=False)
    key = encrypted(tmp_path, "AGE_A: first-value\n")
    moved = tmp_path / "ci-key.txt"
    key.rename(moved)
    monkeypatch.setenv("RUNNER_AGE_IDENTITY", str(moved))
    assert secret(env_file(tmp_path, AGE_ENV), "a") == "first-value"


def test_an_identity_that_is_not_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGE_A", raising=False)
    monkeypatch.delenv("RUNNER_AGE_IDENTITY", raising=False)
    encrypted(tmp_path, "AGE_A: v\n").write_text("not a key\n")
    e = error(env_file(tmp_path, AGE_ENV), "a")
    assert e.message == f"the age identity {tmp_path / 'key.txt'} holds no AGE-SECRET-KEY- line"


@pytest.mark.skipif(shutil.which("age") is None,
                    reason="the age program is not installed (apt-get install age): its path "
                    "is the fallback when pyrage is not importable; pyrage's is tested anyway")
def test_without_pyrage_the_age_program_decrypts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGE_A", raising=False)
    monkeypatch.delenv("RUNNER_AGE_IDENTITY", raising=False)
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(key)], check=True,
                               capture_output=True, text=True).stdout.strip()
    (tmp_path / "secrets.yaml").write_text("AGE_A: from-the-cli\n")
    subprocess.run(["age", "-r", recipient, "-o", str(tmp_path / "secrets.yaml.age"),
                    str(tmp_path / "secrets.yaml")], check=True)
    (tmp_path / "secrets.yaml").unlink()
    monkeypatch.setitem(sys.modules, "pyrage", None)  # import pyrage: ImportError
    assert secret(env_file(tmp_path, AGE_ENV), "a") == "from-the-cli"
    other = tmp_path / "other.txt"
    subprocess.run(["age-keygen", "-o", str(other)], check=True, capture_output=True)
    monkeypatch.setenv("RUNNER_AGE_IDENTITY", str(other))
    e = error(env_file(tmp_path, AGE_ENV), "a")
    assert e.message.startswith(f"cannot decrypt the secrets file {tmp_path / 'secrets.yaml.age'}"
                                f" with {other}: ")
    assert "no identity matched" in e.message
