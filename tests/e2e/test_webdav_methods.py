"""WebDAV from YAML alone, against a real WebDAV server (wsgidav, served on loopback by
tests/wsgi_servers.py): MKCOL a folder, PUT a file with ``body:`` (text) and ``body: {file:}``,
PROPFIND with an XML body and ``Depth: 1`` read by XPath with ``namespaces:``, GET it back with
``save-to``. MKCOL and PUT change state, so they are journaled as unsafe; PROPFIND and GET are
not, and none of them needs a ``safe:`` written."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsgi_servers import webdav

from runner import api
from runner.results import PASSED
from runner.store import Store

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
              "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture()
def dav(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """wsgidav serving an empty folder, anonymous, on a free loopback port."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "dav"
    root.mkdir()
    with webdav(root) as url:
        yield url, root


PLAYBOOK = """\
name: WebDAV round trip
connectors:
  dav: {use: http}
steps:
  - id: mkcol
    call: dav
    method: MKCOL
    path: /newdir
    assert: "response.status_code == 201"
  - id: put
    call: dav
    method: PUT
    path: /newdir/a.txt
    headers: {Content-Type: text/plain}
    body: "quarter three\\n"
    assert: "response.status_code == 201"
  - id: put_file
    call: dav
    method: PUT
    path: /newdir/b.xml
    body: {file: files/b.xml}
    assert: "response.status_code == 201"
  - id: list
    call: dav
    method: PROPFIND
    path: /newdir/
    headers: {Depth: "1", Content-Type: "application/xml"}
    body: |
      <?xml version="1.0" encoding="utf-8"?>
      <propfind xmlns="DAV:"><prop><getcontentlength/></prop></propfind>
    assert: "response.status_code == 207"
    extract:
      size: {xpath: "//D:response[D:href='/newdir/a.txt']//D:getcontentlength/text()",
             namespaces: {D: "DAV:"}}
      hrefs: {xpath: "//D:href/text()", namespaces: {D: "DAV:"}, all: true}
  - id: get
    call: dav
    method: GET
    path: /newdir/a.txt
    save-to: "{{ inputs.out }}/a.txt"
    assert: ["response.size == 14", "response.saved_to.endswith('a.txt')"]
inputs:
  out: {type: string}
"""


def test_mkcol_put_propfind_get(dav: tuple[str, Path], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    url, root = dav
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "b.xml").write_bytes(b"<b>two</b>")
    pb = tmp_path / "dav.yaml"
    pb.write_text(PLAYBOOK)
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  dav:\n    base_url: {url}\n")
    monkeypatch.chdir(tmp_path)
    store = Store(str(tmp_path / "runs.db"))
    out = io.StringIO()
    try:
        result = api.run(pb, env=str(env), inputs={"out": "downloads"}, stream=out,
                         store=store)
        assert result.status == PASSED, out.getvalue()
        assert (root / "newdir" / "a.txt").read_text() == "quarter three\n"
        assert (root / "newdir" / "b.xml").read_bytes() == b"<b>two</b>"
        listed = result.steps[3].extracted
        assert listed["size"] == "14"
        assert sorted(listed["hrefs"]) == ["/newdir/", "/newdir/a.txt", "/newdir/b.xml"]
        assert (tmp_path / "downloads" / "a.txt").read_text() == "quarter three\n"
        # what changes state is journaled before it goes; what reads is not
        sent = {e.step_key for e in store.entries(result.run_id) if e.event == "sent"}
        assert sent == {"steps/0", "steps/1", "steps/2"}, sent  # mkcol, put, put_file
    finally:
        store.close()

