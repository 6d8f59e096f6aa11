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

import datetime as dt
import json
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

from runner import __version__
from runner.report import describe_request
from runner.results import ERRORED, FAILED, PASSED, SKIPPED, RunResult
from runner.secrets import Redactor

MAX_TIMELINE_ROWS = 300  # a loop of 10,000 iterations must not make a 50 MB page

_CSS = """
:root{--ok:#1a7f37;--fail:#cf222e;--skip:#8c959f;--run:#0969da;--bg:#fff;--fg:#1f2328;
--mute:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--failbg:#ffebe9}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:20px 24px 60px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:16px;margin:28px 0 8px}
code,pre,.mono{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;
margin:6px 0;white-space:pre-wrap;word-break:break-word;max-height:420px;overflow:auto}
.meta{color:var(--mute)}.meta span{margin-right:14px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;
font-size:12px;vertical-align:middle}
.b-passed{background:var(--ok)}.b-failed,.b-interrupted,.b-errored{background:var(--fail)}
.b-skipped{background:var(--skip)}
.failure{border:1px solid var(--fail);background:var(--failbg);border-radius:8px;
padding:12px 16px;margin:16px 0}
.failure h2{margin:0 0 6px;color:var(--fail)}
.failure pre{background:#fff}
.error{color:var(--fail);font-weight:600}.hint{color:var(--mute)}
table{border-collapse:collapse;margin:4px 0}
td,th{border-bottom:1px solid var(--line);padding:3px 10px 3px 0;text-align:left;
vertical-align:top}
th{color:var(--mute);font-weight:500}
details{border:1px solid var(--line);border-radius:6px;margin:6px 0;background:#fff}
details>summary{cursor:pointer;padding:6px 10px;list-style-position:inside}
details>div{padding:4px 12px 10px}
details.st-failed,details.st-errored{border-color:var(--fail)}
details details{margin-left:4px}
.mark{display:inline-block;min-width:46px;font-weight:700}
.m-passed{color:var(--ok)}.m-failed,.m-errored{color:var(--fail)}.m-skipped{color:var(--skip)}
.tl{position:relative;border:1px solid var(--line);border-radius:6px;padding:6px 0}
.tl-row{display:flex;align-items:center;height:20px}
.tl-row:hover{background:var(--soft)}
.tl-label{width:230px;flex:none;padding:0 8px;overflow:hidden;white-space:nowrap;
text-overflow:ellipsis;font-size:12px}
.tl-label a{color:inherit;text-decoration:none}
.tl-track{position:relative;flex:1;height:14px;margin-right:12px}
.tl-bar{position:absolute;top:3px;height:8px;border-radius:3px;min-width:2px;opacity:.35}
.tl-x{position:absolute;top:0;height:14px;min-width:3px;border-radius:2px}
.c-passed{background:var(--ok)}.c-failed,.c-errored{background:var(--fail)}.c-skipped{background:var(--skip)}
.c-x{background:var(--run)}.c-xerr{background:var(--fail)}
.tl-axis{display:flex;margin-left:230px;margin-right:12px;color:var(--mute);font-size:11px;
justify-content:space-between}
.tools{float:right}.tools button{font:inherit;font-size:12px;margin-left:6px}
footer{margin-top:30px;color:var(--mute);font-size:12px}
"""

_JS = """
document.querySelectorAll('[data-open]').forEach(function(b){b.addEventListener('click',
function(){var o=b.getAttribute('data-open')==='1';document.querySelectorAll('#steps details')
.forEach(function(d){d.open=o;});});});
function openTarget(){var t=location.hash&&document.getElementById(location.hash.slice(1));
while(t){if(t.tagName==='DETAILS'){t.open=true;}t=t.parentElement;}}
window.addEventListener('hashchange',openTarget);openTarget();
"""


def write_html(run: RunResult, path: str | Path, redactor: Redactor) -> None:
    """Write the run's HTML report to ``path``; every secret known to ``redactor`` masked."""
    Path(path).write_text(render_html(run, redactor), encoding="utf-8")


def render_html(run: RunResult, redactor: Redactor) -> str:
    data = redactor.redact_data(run.to_dict())  # redacted before anything is escaped
    return redactor.redact(_Page(data).render())


def _e(value: Any) -> str:
    return escape(value if isinstance(value, str) else _json(value), quote=True)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        text = value
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if not isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


_MARK = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP", ERRORED: "ERR!"}
_INDEX = re.compile(r"(\[\d+\])$")


def _name(step: dict[str, Any]) -> str:
    """The step's id, with its index in a loop: ``software[1]``."""
    m = _INDEX.search(step.get("label") or "")
    return str(step["id"]) + (m.group(1) if m else "")


class _Page:
    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run
        self.anchor: dict[int, str] = {}  # id(step dict) -> its element id
        for path, step in self._walk(run["steps"]):
            self.anchor[id(step)] = "step-" + "-".join(map(str, path))

    def _walk(self, steps: list[dict[str, Any]], prefix: tuple[int, ...] = ()
              ) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
        for i, step in enumerate(steps):
            path = (*prefix, i + 1)
            yield path, step
            yield from self._walk(step.get("iterations") or [], path)

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
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
            self.header(), self.failures(), self.io(), self.timeline(), self.steps(),
            f'<footer>runner {_e(__version__)} · secrets are shown as <code>***</code></footer>',
            f"</main><script>{_JS}</script></body></html>",
        ]
        return "\n".join(p for p in parts if p) + "\n"

    def header(self) -> str:
        r = self.run
        counts: dict[str, int] = {}
        for s in r["steps"]:
            counts[s["status"]] = counts.get(s["status"], 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        return (
            f'<header id="summary"><h1>{_e(r["playbook"])} '
            f'<span class="badge b-{_e(r["status"])}">{_e(r["status"].upper())}</span></h1>'
            f'<div class="meta"><span>file <code>{_e(r["file"])}</code></span>'
            f'<span>env <b>{_e(r["environment"])}</b></span>'
            f'<span>run <code>{_e(r["run_id"])}</code></span>'
            f'<span>started {_e(_when(r["started"]))}</span>'
            f'<span>took <b>{_e(_ms(r["duration_ms"]))}</b></span>'
            f"<span>steps: {_e(summary)}</span></div></header>"
        )

    def failures(self) -> str:
        r = self.run
        if r["status"] == PASSED:
            return ""
        failed = [(p, s) for p, s in self._walk(r["steps"]) if s["status"] in (FAILED, ERRORED)]
        # the innermost failures say most: a failed loop's failed iterations, not only the loop
        leaves = [(p, s) for p, s in failed
                  if not any(q[: len(p)] == p and len(q) > len(p) for q, _ in failed)]
        where = f" at {r['failed_step']}" if r.get("failed_step") else ""
        out = [f'<section class="failure" id="failure"><h2>{_e(r["status"].upper())}'
               f"{_e(where)}</h2>"]
        if r.get("error"):
            out.append(f'<pre class="error">{_e(r["error"])}</pre>')
        if r.get("hint"):
            out.append(f'<div class="hint">hint: {_e(r["hint"])}</div>')
        for _, step in leaves[:20]:
            out.append(f'<h3><a href="#{self.anchor[id(step)]}">{_e(step["label"])}</a> '
                       f'<span class="mono">{_e(step["target"])}</span></h3>')
            if step.get("error") and step["error"] != r.get("error"):
                out.append(f'<pre class="error">{_e(step["error"])}</pre>')
                if step.get("hint"):
                    out.append(f'<div class="hint">hint: {_e(step["hint"])}</div>')
            failing = [a for a in step.get("assertions") or [] if not a.get("passed")]
            out.extend(self.assertion(a) for a in failing)
            exchanges = step.get("exchanges") or []
            if exchanges:
                last = exchanges[-1]
                body = (last.get("response") or {}).get("body")
                if body:
                    text = _pretty(body)
                    text = text if len(text) <= 600 else text[:600] + " ..."
                    out.append(f"<div>last answer</div><pre>{_e(text)}</pre>")
                out.append(self.exchange(last, label="last call"))
        if len(leaves) > 20:
            out.append(f"<p>and {len(leaves) - 20} more failed steps below</p>")
        out.append("</section>")
        return "".join(out)

    def io(self) -> str:
        r = self.run
        out = []
        for title, values in (("Inputs", r.get("inputs")), ("Outputs", r.get("outputs"))):
            if values:
                rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>"
                               for k, v in values.items())
                out.append(f"<h2>{title}</h2><table>{rows}</table>")
        return "".join(out)

    # -- timeline ---------------------------------------------------------------------------
    def timeline(self) -> str:
        r = self.run
        t0 = r["started"]
        rows = list(self._walk(r["steps"]))
        end = t0 + r["duration_ms"] / 1000
        for _, s in rows:
            end = max(end, s["started"] + s["duration_ms"] / 1000)
            for x in s.get("exchanges") or []:
                end = max(end, x["at"] + ((x.get("response") or {}).get("elapsed_ms") or 0) / 1000)
        span = max(end - t0, 1e-3)

        def pct(t: float) -> float:
            return float(max(0.0, min(100.0, (t - t0) / span * 100)))

        lines = []
        for path, s in rows[:MAX_TIMELINE_ROWS]:
            left = pct(s["started"])
            width = max(pct(s["started"] + s["duration_ms"] / 1000) - left, 0.2)
            indent = "&nbsp;&nbsp;" * (len(path) - 1)
            marks = [f'<div class="tl-bar c-{_e(s["status"])}" style="left:{left:.3f}%;'
                     f'width:{width:.3f}%" title="{_e(s["label"])}: {_e(_ms(s["duration_ms"]))}">'
                     "</div>"]
            for x in s.get("exchanges") or []:
                resp = x.get("response") or {}
                ms = resp.get("elapsed_ms") or 0
                xl = pct(x["at"])
                xw = max(pct(x["at"] + ms / 1000) - xl, 0.15)
                bad = x.get("error") or resp.get("error")
                tip = self._exchange_line(x)
                marks.append(f'<div class="tl-x {"c-xerr" if bad else "c-x"}" '
                             f'style="left:{xl:.3f}%;width:{xw:.3f}%" title="{_e(tip)}"></div>')
            label = f'{s["label"]} · {s["target"]}'
            lines.append(
                f'<div class="tl-row"><div class="tl-label" title="{_e(label)}">{indent}'
                f'<a href="#{self.anchor[id(s)]}"><span class="m-{_e(s["status"])}">'
                f'{_e(_MARK.get(s["status"], s["status"]))}</span> {_e(_name(s))}</a></div>'
                f'<div class="tl-track">{"".join(marks)}</div></div>')
        more = ""
        if len(rows) > MAX_TIMELINE_ROWS:
            more = f"<p class='meta'>{len(rows) - MAX_TIMELINE_ROWS} more rows not drawn</p>"
        axis = "".join(f"<span>{_e(_ms(span * 1000 * k / 4))}</span>" for k in range(5))
        return ('<h2>Timeline</h2><p class="meta">bars: steps · blue ticks: calls and poll '
                'attempts (red: an error answer) · hover for details</p>'
                f'<div class="tl" id="timeline">{"".join(lines)}'
                f'<div class="tl-axis">{axis}</div></div>{more}')

    # -- steps ------------------------------------------------------------------------------
    def steps(self) -> str:
        body = "".join(self.step(s) for s in self.run["steps"])
        return ('<h2>Steps <span class="tools"><button type="button" data-open="1">expand all'
                '</button><button type="button" data-open="0">collapse all</button></span></h2>'
                f'<div id="steps">{body}</div>')

    def step(self, s: dict[str, Any]) -> str:
        status = s["status"]
        head = (f'<span class="mark m-{_e(status)}">{_e(_MARK.get(status, status.upper()))}'
                f'</span><b>{_e(_name(s))}</b> <span class="mono">{_e(s["target"])}</span>'
                f' · {_e(_ms(s["duration_ms"]))}')
        if s.get("attempts", 0) > 1:
            head += f' · {s["attempts"]} attempts'
        if s.get("iterations"):
            head += f' · {len(s["iterations"])} iterations'
        if s.get("resumed"):
            head += " · resumed"
        body = []
        if s.get("name"):
            body.append(f"<div>{_e(s['name'])}</div>")
        if s.get("error"):
            body.append(f'<pre class="error">{_e(s["error"])}</pre>')
            if s.get("hint"):
                body.append(f'<div class="hint">hint: {_e(s["hint"])}</div>')
        if s.get("skipped_reason"):
            body.append(f'<div class="hint">skipped ({_e(s["skipped_reason"])})</div>')
        if s.get("extracted"):
            rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>"
                           for k, v in s["extracted"].items())
            body.append(f"<div>extracted</div><table>{rows}</table>")
        body.extend(self.assertion(a) for a in s.get("assertions") or [])
        if s.get("outputs"):
            body.append(f"<div>outputs</div><pre>{_e(_pretty(s['outputs']))}</pre>")
        body.extend(self.exchange(x) for x in s.get("exchanges") or [])
        body.extend(self.step(i) for i in s.get("iterations") or [])
        opened = " open" if status in (FAILED, ERRORED) else ""
        return (f'<details id="{self.anchor[id(s)]}" class="st-{_e(status)}"{opened}>'
                f'<summary>{head}</summary><div>{"".join(body)}</div></details>')

    @staticmethod
    def assertion(a: dict[str, Any]) -> str:
        ok = a.get("passed")
        text = f'<div class="{"m-passed" if ok else "error"}">{"ok" if ok else "failed"}: ' \
               f'<code>{_e(str(a.get("that", "")))}</code></div>'
        detail = {k: v for k, v in a.items() if k not in ("that", "passed")}
        if detail and not ok:
            text += f"<pre>{_e(_pretty(detail))}</pre>"
        return text

    @staticmethod
    def _exchange_line(x: dict[str, Any]) -> str:
        resp = x.get("response") or {}
        answer = x.get("error") or resp.get("status", "?")
        text = f"{describe_request(x['request'])} -> {answer}"
        if resp.get("elapsed_ms") is not None:
            text += f" ({_ms(resp['elapsed_ms'])})"
        if x.get("attempt"):
            text = f"attempt {x['attempt']}: {text}"
        return text

    def exchange(self, x: dict[str, Any], *, label: str = "") -> str:
        req = x["request"]
        resp = x.get("response")
        bad = x.get("error") or (resp or {}).get("error")
        head = _e(self._exchange_line(x))
        if label:
            head = f"{_e(label)}: {head}"
        parts = [f"<div><b>request</b> <code>{_e(req.get('method', ''))} "
                 f"{_e(req.get('url', ''))}</code> · {_e(_when(x['at']))}</div>"]
        for key in ("query", "headers", "json", "form"):
            if key in req:
                parts.append(f"<div>{key}</div><pre>{_e(_pretty(req[key]))}</pre>")
        if x.get("error"):
            parts.append(f'<pre class="error">{_e(x["error"])}</pre>')
        if resp is not None:
            parts.append(f"<div><b>answer</b> {_e(str(resp.get('status')))}"
                         + (f" · {_e(_ms(resp['elapsed_ms']))}" if resp.get("elapsed_ms")
                            is not None else "") + "</div>")
            if resp.get("error"):
                parts.append(f'<pre class="error">{_e(resp["error"])}</pre>')
            if resp.get("headers"):
                parts.append(f"<div>headers</div><pre>{_e(_pretty(resp['headers']))}</pre>")
            if resp.get("body"):
                parts.append(f"<div>body</div><pre>{_e(_pretty(resp['body']))}</pre>")
        cls = ' class="st-failed"' if bad else ""
        return (f'<details{cls}><summary class="mono">{head}</summary>'
                f'<div>{"".join(parts)}</div></details>')
