"""Make docs/img/report.png: the HTML report of a failed sandbox run, shot by headless Chromium.

    .venv/bin/python docs/make_screenshot.py [--out docs/img/report.png] [--html report.html]

The run: playbooks/automatos/distribute-package.yaml for NTB2 with a package that fails to
install, against the built-in simulator (no network, no credentials). Needs Debian's
``chromium`` (apt-get install chromium).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner import api  # noqa: E402
from runner.sandbox import Sandbox  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--hide-scrollbars", "--force-device-scale-factor=1"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "report.png"))
    parser.add_argument("--html", help="also keep the HTML report here")
    parser.add_argument("--size", default="1200,1150", help="window WIDTH,HEIGHT")
    args = parser.parse_args()
    out = Path(args.out).resolve()  # before the chdir below
    keep = Path(args.html).resolve() if args.html else None
    browser = shutil.which("chromium")
    if browser is None:
        print("chromium is not installed: apt-get install chromium", file=sys.stderr)
        return 2
    os.chdir(ROOT)  # the report shows the playbook's path as given: keep it relative
    box = Sandbox({"automatos": {"schedule_seconds": 0.3, "run_seconds": 0.6}})
    with tempfile.TemporaryDirectory(prefix="runner-shot-") as tmp:
        page = keep or Path(tmp) / "report.html"
        try:  # the page as `runner run --report-html` writes it
            result = api.run("playbooks/automatos/distribute-package.yaml",
                             inputs={"hostname": "NTB2", "package": "fail-setup.exe"},
                             quiet=True, sandbox=box, store=False, report_html=page)
        finally:
            box.stop()
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [browser, *FLAGS, f"--user-data-dir={tmp}/profile", f"--window-size={args.size}",
               f"--screenshot={out}", page.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "HOME": tmp})
    if proc.returncode != 0 or not out.is_file():
        print(proc.stderr[-3000:], file=sys.stderr)
        return 1
    print(f"wrote {out} ({result.status} run {result.run_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
