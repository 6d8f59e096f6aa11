"""A base URL's ``user:password@`` never shows, and only http(s) base URLs are accepted, with a
message naming the setting and where it was set (issue 11, "nothing leaks")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli
from leakcheck import Echo, echo_env, every_output, playbook, started

from runner.errors import EXIT_INVALID

PASSWORD = "url-pa55word"


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    yield from started(Echo())  # type: ignore[misc]


def test_credentials_in_the_base_url_never_show(tmp_path: Path, echo: Echo) -> None:
    url = echo.url.replace("http://", f"http://ops:{PASSWORD}@")
    pb = playbook(tmp_path, """\
steps:
  - {call: h, method: GET, path: /echo/x}
  - {call: h, method: GET, path: /missing-route-fails}
""")
    out = every_output(tmp_path, pb, echo_env(tmp_path, echo, base_url=url), {})
    assert out.run_id and "/echo/x" in out.texts["plan"], out.texts["plan"]
    assert "/echo/x" in out.texts["report json"]
    assert not out.find(PASSWORD), out.find(PASSWORD)
    assert not out.find(f"ops:{PASSWORD}")


def test_a_refused_connection_error_does_not_show_them(tmp_path: Path, echo: Echo) -> None:
    url = f"http://ops:{PASSWORD}@127.0.0.1:9"  # discard port: nothing listens
    pb = playbook(tmp_path, "steps:\n  - {call: h, method: GET, path: /x}\n")
    out = every_output(tmp_path, pb, echo_env(tmp_path, echo, base_url=url), {})
    assert "127.0.0.1" in out.run, out.run  # the error names the host ...
    assert not out.find(PASSWORD), out.find(PASSWORD)  # ... not the password


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/pub", "file:///etc/passwd",
                                 "gopher://127.0.0.1:70", "127.0.0.1:8080"])
@pytest.mark.parametrize("command", ["run", "plan"])
def test_only_http_base_urls_are_accepted(tmp_path: Path, echo: Echo, url: str,
                                          command: str) -> None:
    env = echo_env(tmp_path, echo, base_url=url)
    pb = playbook(tmp_path, "steps:\n  - {call: h, method: GET, path: /x}\n")
    proc = cli(command, str(pb), "-e", str(env), env={"ECHO_KEY": "k3y-value"})
    assert proc.returncode == EXIT_INVALID, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert f"{env}:3:" in proc.stderr, proc.stderr  # where it was set
    assert "connectors.h.base_url must be an http:// or https:// URL" in proc.stderr
    assert "hint:" in proc.stderr
    assert "/etc/passwd" not in proc.stderr
