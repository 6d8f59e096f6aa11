"""The HTML report: one self-contained page per run (``runner run --report-html FILE``).

The page needs no network: CSS and the few lines of JavaScript are inline, no font, image or
script is fetched. It shows, top to bottom: the run's status; when it failed, the failing
step(s) with their error, hint and last answer; inputs and outputs; a timeline of the steps and
of every call and poll attempt (from each step's start and duration and each exchange's time);
then every step, with requests and answers folded in ``<details>``.

Every string is redacted *before* it is escaped (so a secret holding ``&`` or ``<`` is still
found), and the finished page is redacted once more as a last guard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner import __version__
from runner.report import ms
from runner.report_html_steps import assertion_html, exchange_html, step_html, walk
from runner.report_html_style import CSS, JS
from runner.report_html_text import e, pretty, when
from runner.report_timeline import timeline
from runner.results import ERRORED, FAILED, PASSED, RunResult
from runner.secrets import Redactor


def write_html(run: RunResult, path: str | Path, redactor: Redactor) -> None:
    """Write the run's HTML report to ``path``; every secret known to ``redactor`` masked."""
    Path(path).write_text(render_html(run, redactor), encoding="utf-8")


def render_html(run: RunResult, redactor: Redactor) -> str:
    data = redactor.redact_data(run.to_dict())  # redacted before anything is escaped
    return redactor.redact(_Page(data).render())


class _Page:
    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run
        self.anchor: dict[int, str] = {}  # id(step dict) -> its element id
        for path, step in walk(run["steps"]):
            self.anchor[id(step)] = "step-" + "-".join(map(str, path))

    # -- the page --------------------------------------------------------------------------
    def render(self) -> str:
        r = self.run
        title = f"{r['status'].upper()} · {r['playbook']}"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # nothing on this page may be fetched from anywhere
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
            f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>",
            self.header(), self.failures(), self.io(), timeline(self.run, self.anchor),
            self.steps(),
            f'<footer>runner {e(__version__)} · secrets are shown as <code>***</code></footer>',
            f"</main><script>{JS}</script></body></html>",
        ]
        return "\n".join(p for p in parts if p) + "\n"

    def header(self) -> str:
        r = self.run
        counts: dict[str, int] = {}
        for s in r["steps"]:
            counts[s["status"]] = counts.get(s["status"], 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        return (
            f'<header id="summary"><h1>{e(r["playbook"])} '
            f'<span class="badge b-{e(r["status"])}">{e(r["status"].upper())}</span></h1>'
            f'<div class="meta"><span>file <code>{e(r["file"])}</code></span>'
            f'<span>env <b>{e(r["environment"])}</b></span>'
            f'<span>run <code>{e(r["run_id"])}</code></span>'
            f'<span>started {e(when(r["started"]))}</span>'
            f'<span>took <b>{e(ms(r["duration_ms"]))}</b></span>'
            f"<span>steps: {e(summary)}</span></div></header>"
        )

    def failures(self) -> str:
        r = self.run
        if r["status"] == PASSED:
            return ""
        failed = [(p, s) for p, s in walk(r["steps"]) if s["status"] in (FAILED, ERRORED)]
        # the innermost failures say most: a failed loop's failed iterations, not only the loop
        leaves = [(p, s) for p, s in failed
                  if not any(q[: len(p)] == p and len(q) > len(p) for q, _ in failed)]
        where = f" at {r['failed_step']}" if r.get("failed_step") else ""
        out = [f'<section class="failure" id="failure"><h2>{e(r["status"].upper())}'
               f"{e(where)}</h2>"]
        if r.get("error"):
            out.append(f'<pre class="error">{e(r["error"])}</pre>')
        if r.get("hint"):
            out.append(f'<div class="hint">hint: {e(r["hint"])}</div>')
        for _, step in leaves[:20]:
            out.append(f'<h3><a href="#{self.anchor[id(step)]}">{e(step["label"])}</a> '
                       f'<span class="mono">{e(step["target"])}</span></h3>')
            if step.get("error") and step["error"] != r.get("error"):
                out.append(f'<pre class="error">{e(step["error"])}</pre>')
                if step.get("hint"):
                    out.append(f'<div class="hint">hint: {e(step["hint"])}</div>')
            failing = [a for a in step.get("assertions") or [] if not a.get("passed")]
            out.extend(assertion_html(a) for a in failing)
            exchanges = step.get("exchanges") or []
            if exchanges:
                last = exchanges[-1]
                body = (last.get("response") or {}).get("body")
                if body:
                    text = pretty(body)
                    text = text if len(text) <= 600 else text[:600] + " ..."
                    out.append(f"<div>last answer</div><pre>{e(text)}</pre>")
                out.append(exchange_html(last, label="last call"))
        if len(leaves) > 20:
            out.append(f"<p>and {len(leaves) - 20} more failed steps below</p>")
        out.append("</section>")
        return "".join(out)

    def io(self) -> str:
        r = self.run
        out = []
        for title, values in (("Inputs", r.get("inputs")), ("Outputs", r.get("outputs"))):
            if values:
                rows = "".join(f"<tr><th>{e(k)}</th><td><code>{e(v)}</code></td></tr>"
                               for k, v in values.items())
                out.append(f"<h2>{title}</h2><table>{rows}</table>")
        return "".join(out)

    # -- steps ------------------------------------------------------------------------------
    def steps(self) -> str:
        body = "".join(step_html(s, self.anchor) for s in self.run["steps"])
        return ('<h2>Steps <span class="tools"><button type="button" data-open="1">expand all'
                '</button><button type="button" data-open="0">collapse all</button></span></h2>'
                f'<div id="steps">{body}</div>')
