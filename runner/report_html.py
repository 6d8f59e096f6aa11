"""The HTML report: one self-contained page per run (``runner run --report-html FILE``).

The page needs no network: CSS and the few lines of JavaScript are inline, no font, image or
script is fetched. It shows, top to bottom: the run's status; when it failed, the failing
step(s) with their error, hint and last answer; inputs and outputs; a timeline of the steps and
of every call and poll attempt (from each step's start and duration and each exchange's time);
then every step, with requests and answers folded in ``<details>``.

The page is rendered from a run's report as a dict: a live run's ``RunResult.to_dict()``
once its secrets are masked (``runner run --report-html``), or the report the store keeps of
any run (``runner show RUN_ID --html``, ``runner ui``), masked when it was recorded. Every
string is masked *before* it is escaped (so a secret holding ``&`` or ``<`` is still found);
a live run's page is masked once more as a last guard. Nothing here unmasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner import __version__
from runner.report import ms, write_file
from runner.report_html_steps import (
    assertion_html,
    exchange_html,
    outcome_html,
    step_html,
    walk,
)
from runner.report_html_style import CSS, JS
from runner.report_html_text import Links, e, pretty, when
from runner.report_timeline import timeline
from runner.results import ERRORED, FAILED, PASSED
from runner.secrets import Redactor


def write_html(report: dict[str, Any], path: str | Path, redactor: Redactor | None = None,
               *, playbook: str | None = None) -> None:
    """Write the run's HTML report to ``path`` (see :func:`render_html`), its links to the
    playbook's lines relative to the page."""
    write_file(path, render_html(report, redactor, page=path, playbook=playbook))


def render_html(report: dict[str, Any], redactor: Redactor | None = None, *,
                page: str | Path | None = None, playbook: str | None = None) -> str:
    """The HTML page of a run's report (a dict, its secrets masked already: a live run's
    ``RunResult.to_dict()`` through its redactor's ``redact_data``, or a stored run's
    ``report``). ``redactor``: a last guard over the page, for a live run.

    ``page``: where the page is written, so that a step's ``file:line`` links to its file
    relative to it (else a ``file:`` URL). ``playbook``: the playbook's absolute path when the
    report names it relative to another folder than the current one (a stored run: its
    record's ``file``)."""
    html = _Page(report, page, playbook).render()
    return redactor.redact(html) if redactor is not None else html


class _Page:
    def __init__(self, run: dict[str, Any], page: str | Path | None,
                 playbook: str | None) -> None:
        self.run = run
        anchors: dict[int, str] = {}  # id(step dict) -> its element id
        for path, step in walk(run["steps"]):
            anchors[id(step)] = "step-" + "-".join(map(str, path))
        for path, step in walk((run.get("undo") or {}).get("steps", [])):
            anchors[id(step)] = "undo-" + "-".join(map(str, path))
        self.links = Links(anchors, page, {run["file"]: playbook} if playbook else None)

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
            self.header(), self.failures(), self.io(), timeline(self.run, self.links.anchors),
            self.steps(), self.undo(),
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
        # the run's error is most often its failed step's, said with the step below (the
        # vendor's words first); a loop's or an include's sum of its failures comes after
        # them; an error of no step's (the run stopped outside its steps) comes first
        shown = {said for _, s in leaves[:20] for said in _errors(s)}
        error = r.get("error") if r.get("error") not in shown else None
        after = error is not None and any(error in _errors(s) for _, s in failed)
        if error and not after:
            out.append(f'<pre class="error">{e(error)}</pre>')
        if r.get("hint") and r["hint"] not in {s.get("hint") for _, s in leaves[:20]}:
            out.append(f'<div class="hint">hint: {e(r["hint"])}</div>')
        for _, step in leaves[:20]:
            src = f" {self.links.source(step['where'])}" if step.get("where") else ""
            out.append(f'<h3><a href="#{self.links.anchor(step)}">{e(step["label"])}</a> '
                       f'<span class="mono">{e(step["target"])}</span>{src}</h3>')
            out.append(outcome_html(step))
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
        if error and after:
            out.append(f'<pre class="error">{e(error)}</pre>')
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
        body = "".join(step_html(s, self.links) for s in self.run["steps"])
        return ('<h2>Steps <span class="tools"><button type="button" data-open="1">expand all'
                '</button><button type="button" data-open="0">collapse all</button></span></h2>'
                f'<div id="steps">{body}</div>')

    def undo(self) -> str:
        """The undo steps that ran (runner.undo), last step's first, and how the undo went."""
        undo = self.run.get("undo")
        if not undo:
            return ""
        body = "".join(step_html(s, self.links) for s in undo.get("steps", []))
        return (f'<h2>Undo: {e(str(undo.get("status")))}</h2>'
                f'<div id="undo">{body}</div>')


def _errors(step: dict[str, Any]) -> set[str]:
    """How the run's error says a step's: as the step does, or after its file:line (the
    engine puts it first in the run's error)."""
    error = step.get("error")
    if not error:
        return set()
    return {error, f"{step['where']}: {error}"} if step.get("where") else {error}
