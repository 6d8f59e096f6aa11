"""docs/secrets.md "Writing a secret source", proven: a source packaged on its own
(tests/thirdparty/runner-secret-static) is installed by pip into a temporary directory, and
``runner run`` fetches ``{secret: {static: NAME}}`` through the ``runner.secret_sources`` entry
point; the value reaches a real (echoing) server and shows in no output; ``runner connectors``
lists it with the package that provides it.

The project's .venv is left alone: the package goes to a ``--target`` directory that only the
subprocesses see (PYTHONPATH), as tests/toolchain/test_thirdparty.py does for a connector.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, cli, pip_install_target
from leakcheck import Echo, every_output, started

PACKAGE = ROOT / "tests" / "thirdparty" / "runner-secret-static"
VALUE = "static-s3cret-Hq20x"



@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = pip_install_target(PACKAGE, tmp_path_factory.mktemp("thirdparty-source"))
    assert list(target.glob("runner_secret_static-*.dist-info/entry_points.txt"))
    return target


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    yield from started(Echo())  # type: ignore[misc]


def _with(site: Path, **more: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, **more}


def _files(tmp_path: Path, echo: Echo, name: str) -> tuple[Path, Path]:
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: a third-party secret source
connectors:
  h: {use: http}
steps:
  - {id: echo, call: h, method: GET, path: /echo/s, query: {t: "{{ secrets.token }}"}}
  - assert: {that: "false", message: "the server said {{ steps.echo.response.text }}"}
""")
    env = tmp_path / "env.yaml"
    env.write_text(f"""\
secrets:
  token: {{secret: {{static: {name}}}}}
connectors:
  h:
    base_url: '{echo.url}'
    headers: {{X-Static: {{secret: {{static: {name}}}}}}}
""")
    return pb, env


def test_a_third_party_source_gives_a_secret_that_shows_nowhere(
        site: Path, echo: Echo, tmp_path: Path) -> None:
    pb, env = _files(tmp_path, echo, "token")
    out = every_output(tmp_path, pb, env, {},
                       extra_env=_with(site, STATIC_SECRETS=f"token={VALUE}"))
    assert "the server said /echo/s?t=***" in out.run, out.run
    assert "x-static: ***" in out.run.lower()
    assert not out.find(VALUE), out.find(VALUE)


def test_its_own_error_and_hint_reach_the_user(site: Path, echo: Echo, tmp_path: Path) -> None:
    pb, env = _files(tmp_path, echo, "missing")
    out = every_output(tmp_path, pb, env, {}, extra_env=_with(site, STATIC_SECRETS="a=b"))
    assert "static secret 'missing' (for h.headers.X-Static) is not in the table" in out.run \
        or "static secret 'missing' (for secrets.token) is not in the table" in out.run, out.run
    assert "hint: add NAME=value to $STATIC_SECRETS" in out.run


def test_without_the_package_the_source_is_unknown(echo: Echo, tmp_path: Path) -> None:
    pb, env = _files(tmp_path, echo, "token")
    out = every_output(tmp_path, pb, env, {})
    assert "no secret source named 'static'" in out.run, out.run
    assert "installed sources: command, env" in out.run


def _sources(stdout: str) -> list[str]:
    """The lines of ``runner connectors``'s secret sources, after its connectors."""
    _, _, section = stdout.partition("\nsecret sources ")
    assert section, stdout
    return [line.strip() for line in section.splitlines()[1:] if line.strip()]


def test_runner_connectors_lists_it_with_its_package(site: Path) -> None:
    proc = cli("connectors", env=_with(site))
    assert proc.returncode == 0, proc.stderr
    assert "automatos.get_machine" in proc.stdout  # the connectors are still there, first
    lines = _sources(proc.stdout)
    assert [line.split()[0] for line in lines] == ["env", "command", "static"]
    assert lines[0].startswith("env      built in (runner ")
    assert "{secret: NAME}: the environment variable NAME" in lines[0]
    assert lines[1].startswith("command  built in (runner ")
    assert lines[2] == ("static   runner-secret-static 0.1.0, runner_secret_static:StaticSource"
                        " · runner secret source reading a fixed table (an example)")
    # ... and without the package on the path, the built-ins only
    proc = cli("connectors")
    assert [line.split()[0] for line in _sources(proc.stdout)] == ["env", "command"]


def test_a_name_that_is_taken_is_listed_as_not_used(site: Path, tmp_path: Path) -> None:
    # a second package (its metadata only: the listing reads no package's code) that gives a
    # built-in name and the name the first one gives
    info = tmp_path / "more" / "runner_vault_fake-2.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: runner-vault-fake\n"
                                   "Version: 2.0\nSummary: a fake vault\n")
    (info / "entry_points.txt").write_text("[runner.secret_sources]\nenv = fake:Env\n"
                                           "static = fake:Static\n")
    path = os.pathsep.join([str(site), str(info.parent), os.environ.get("PYTHONPATH", "")])
    proc = cli("connectors", env={"PYTHONPATH": path.rstrip(os.pathsep)})
    assert proc.returncode == 0, proc.stderr
    lines = _sources(proc.stdout)
    assert ("env      runner-vault-fake 2.0, fake:Env · a fake vault  [not used: the name is "
            "built in]") in lines
    statics = [line for line in lines if line.startswith("static ")]
    assert len(statics) == 2
    unused = [line for line in statics if "[not used: the one of " in line]
    assert len(unused) == 1, statics


def test_a_packages_summary_reaches_the_terminal_without_its_escapes(tmp_path: Path) -> None:
    """A summary is the package's own text: an ESC in it would reach the terminal as is."""
    info = tmp_path / "more" / "runner_vault_loud-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: runner-vault-loud\n"
                                   "Version: 1.0\nSummary: \x1b[2Jcleared \x1b]0;title\x07\n")
    (info / "entry_points.txt").write_text("[runner.secret_sources]\nloud = loud:Loud\n")
    path = os.pathsep.join([str(info.parent), os.environ.get("PYTHONPATH", "")])
    proc = cli("connectors", env={"PYTHONPATH": path.rstrip(os.pathsep)})
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "\\x1b[2Jcleared \\x1b]0;title\\x07" in proc.stdout
