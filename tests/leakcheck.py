"""A real run through the installed ``runner`` command, and every output it leaves behind, for
tests that search them for a secret: console, JSON/JUnit/HTML reports, the store file's bytes,
``runner show`` (text and ``--json``), ``runner history`` and ``runner plan``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import cli

from runner.simulator import Simulator, route
from runner.simulator_messages import Reply, Request


class Echo(Simulator):
    """Answers every request with what it received, as a careless or hostile server would."""

    name = "echo"

    @route("POST", "/auth")
    def auth(self, req: Request) -> Reply:  # the automatos connector logs in first
        return Reply(200, b'{"status": true, "data": {"token": "echo-token"}}',
                     {"Content-Type": "application/json"})

    @route("GET", "/echo.*")
    def echo_get(self, req: Request) -> Reply:
        return self._echo(req)

    @route("POST", "/echo.*")
    def echo_post(self, req: Request) -> Reply:
        return self._echo(req)

    def _echo(self, req: Request) -> Reply:
        from urllib.parse import urlencode

        text = (req.path.encode() + b"?" + urlencode(req.query).encode() + b"\n"
                + req.body + b"\n" + "\n".join(f"{k}: {v}" for k, v in req.headers.items()
                                              ).encode("utf-8"))
        return Reply(200, text, {"Content-Type": "text/plain; charset=utf-8"})


def echo_env(tmp_path: Path, sim: Simulator, base_url: str | None = None) -> Path:
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  h:\n    base_url: '{base_url or sim.url}'\n"
                   f"    automatos_id: '1'\n    automatos_key: {{secret: ECHO_KEY}}\n")
    return env


def playbook(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "pb.yaml"
    p.write_text("name: echoes\nconnectors:\n  h: {use: automatos}\n" + body)
    return p


@dataclass
class Outputs:
    run: str  # the console of `runner run` (stdout and stderr)
    texts: dict[str, str]  # every other output, by what it is
    store_bytes: bytes
    run_id: str

    def everything(self) -> str:
        return "\n".join([self.run, *self.texts.values()])

    def find(self, needle: str) -> list[str]:
        """Where ``needle`` shows (empty: nowhere)."""
        where = [name for name, text in {"console": self.run, **self.texts}.items()
                 if needle in text]
        if needle.encode("utf-8") in self.store_bytes:
            where.append("store file")
        return where


def every_output(tmp_path: Path, pb: Path, env: Path, inputs: dict[str, str],
                 extra_env: dict[str, str] | None = None) -> Outputs:
    store = tmp_path / "runs.db"
    rj, ju, html = tmp_path / "r.json", tmp_path / "j.xml", tmp_path / "r.html"
    args = [a for k, v in inputs.items() for a in ("-i", f"{k}={v}")]
    penv = {"ECHO_KEY": "echo-key-not-secret-here", **(extra_env or {})}
    ran = cli("run", str(pb), "-e", str(env), *args, "--store", str(store), "--report-json",
              str(rj), "--junit", str(ju), "--report-html", str(html), "--no-progress", env=penv)
    assert "Traceback" not in ran.stdout + ran.stderr, ran.stderr
    texts: dict[str, str] = {}
    run_id = ""
    if rj.exists():
        texts["report json"] = rj.read_text()
        run_id = json.loads(texts["report json"])["run_id"]
        texts["junit"] = ju.read_text()
        texts["report html"] = html.read_text()
    if run_id:
        for name, cmd in (("show --json", ["show", run_id, "--json"]),
                          ("show", ["show", run_id]), ("history", ["history"]),
                          ("history --json", ["history", "--json"])):
            proc = cli(*cmd, "--store", str(store))
            texts[name] = proc.stdout + proc.stderr
        # the reports rendered again from the store, as runner show writes them
        shown = {"show --html": tmp_path / "s.html", "show --json FILE": tmp_path / "s.json",
                 "show --junit": tmp_path / "s.xml"}
        proc = cli("show", run_id, "--store", str(store), "--html", str(shown["show --html"]),
                   "--json", str(shown["show --json FILE"]), "--junit",
                   str(shown["show --junit"]))
        texts["show FILES"] = proc.stdout + proc.stderr
        texts.update((name, path.read_text()) for name, path in shown.items())
    plan = cli("plan", str(pb), "-e", str(env), *args, env=penv)
    texts["plan"] = plan.stdout + plan.stderr
    data = b"".join(p.read_bytes() for p in tmp_path.glob("runs.db*"))
    return Outputs(ran.stdout + ran.stderr, texts, data, run_id)


def started(sim: Simulator) -> Iterator[Simulator]:
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
