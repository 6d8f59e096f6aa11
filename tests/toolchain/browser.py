"""Headless Chromium for the HTML report tests (Debian's ``chromium`` package).

Without Chromium the tests that need it are skipped with the reason, except in CI
(``CI=true``), where ``.ci/run`` installs it and its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--hide-scrollbars")


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        reason = "chromium is not installed (apt-get install chromium): the HTML report was " \
                 "not rendered in a browser"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it (.ci/run installs it)")
        pytest.skip(reason)
    return path


def run_chromium(url: str, *args: str, profile: Path, timeout: float = 60
                 ) -> subprocess.CompletedProcess[str]:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "HOME": str(profile)})


def dump_dom(page: Path, profile: Path) -> str:
    """The page's DOM after Chromium loaded it and ran its scripts."""
    proc = run_chromium(page.resolve().as_uri(), "--dump-dom", profile=profile)
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees (scripts and styles left out), whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
