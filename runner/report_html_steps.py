"""The HTML report's steps: each step folded in a ``<details>`` with its outcome, its checks,
its calls (request and answer) and its iterations, nested as they ran.

Every value is escaped by :func:`runner.report_html_text.e`; the page's data was redacted
before it reached here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runner.report import MARK, describe_request, failure_words, ms, omitted
from runner.report_html_text import Links, e, name, pretty, when
from runner.results import ERRORED, FAILED


def walk(steps: list[dict[str, Any]], prefix: tuple[int, ...] = ()
         ) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
    """Every step and, under it, its iterations, each with its path of 1-based positions."""
    for i, s in enumerate(steps):
        path = (*prefix, i + 1)
        yield path, s
        yield from walk(s.get("iterations") or [], path)


def outcome_html(s: dict[str, Any]) -> str:
    """A failed step's outcome: the vendor's words from its last answer first (what an
    operator acts on: "Installation of fail-office.exe failed"), then the step's error (the
    expression that caught it), then the hint."""
    out = []
    words, error = failure_words(s), s.get("error") or ""
    if words:
        out.append(f'<div class="vendor"><span class="said">the vendor said</span> '
                   f"<b>{e(words)}</b></div>")
    if error:
        out.append(f'<pre class="error">{e(error)}</pre>')
        if s.get("hint"):
            out.append(f'<div class="hint">hint: {e(s["hint"])}</div>')
    return "".join(out)


def step_html(s: dict[str, Any], links: Links) -> str:
    """A step as a folded ``<details>``: its outcome, then its calls and iterations."""
    status = s["status"]
    head = (f'<span class="mark m-{e(status)}">{e(MARK.get(status, status.upper()))}'
            f'</span><b>{e(name(s))}</b> <span class="mono">{e(s["target"])}</span>'
            f' · {e(ms(s["duration_ms"]))}')
    if s.get("attempts", 0) > 1:
        head += f' · {s["attempts"]} attempts'
    if s.get("iterations"):
        shown = len(s["iterations"])
        head += f' · {shown + sum((s.get("omitted_iterations") or {}).values())} iterations'
    if s.get("resumed"):
        head += " · resumed"
    if s.get("where"):
        head += f" · {links.source(s['where'])}"
    body = []
    if s.get("name"):
        body.append(f"<div>{e(s['name'])}</div>")
    body.append(outcome_html(s))
    if s.get("skipped_reason"):
        body.append(f'<div class="hint">skipped ({e(s["skipped_reason"])})</div>')
    if s.get("extracted"):
        rows = "".join(f"<tr><th>{e(k)}</th><td><code>{e(v)}</code></td></tr>"
                       for k, v in s["extracted"].items())
        body.append(f"<div>extracted</div><table>{rows}</table>")
    body.extend(assertion_html(a) for a in s.get("assertions") or [])
    if s.get("outputs"):
        body.append(f"<div>outputs</div><pre>{e(pretty(s['outputs']))}</pre>")
    body.extend(exchange_html(x) for x in s.get("exchanges") or [])
    body.extend(step_html(i, links) for i in s.get("iterations") or [])
    if s.get("omitted_iterations"):
        body.append(f'<div class="hint">... and {e(omitted(s["omitted_iterations"]))} not kept '
                    "in the report</div>")
    opened = " open" if status in (FAILED, ERRORED) else ""
    return (f'<details id="{links.anchor(s)}" class="st-{e(status)}"{opened}>'
            f'<summary>{head}</summary><div>{"".join(body)}</div></details>')


def assertion_html(a: dict[str, Any]) -> str:
    """A check of the step: ok, or failed with what it compared."""
    ok = a.get("passed")
    text = f'<div class="{"m-passed" if ok else "error"}">{"ok" if ok else "failed"}: ' \
           f'<code>{e(str(a.get("that", "")))}</code></div>'
    detail = {k: v for k, v in a.items() if k not in ("that", "passed")}
    if detail and not ok:
        text += f"<pre>{e(pretty(detail))}</pre>"
    return text


def exchange_line(x: dict[str, Any]) -> str:
    """A call in one line: ``attempt 2: GET /jobs/7 -> 200 (12 ms)``."""
    resp = x.get("response") or {}
    answer = x.get("error") or resp.get("status", "?")
    text = f"{describe_request(x['request'])} -> {answer}"
    if resp.get("elapsed_ms") is not None:
        text += f" ({ms(resp['elapsed_ms'])})"
    if x.get("waited_ms"):  # before it went, for the connector's limits
        text += f" · waited {ms(x['waited_ms'])} for limits"
    if x.get("attempt"):
        text = f"attempt {x['attempt']}: {text}"
    return text


def exchange_html(x: dict[str, Any], *, label: str = "") -> str:
    """A call: its one-line summary, then the request and the answer folded under it."""
    req = x["request"]
    resp = x.get("response")
    bad = x.get("error") or (resp or {}).get("error")
    head = e(exchange_line(x))
    if label:
        head = f"{e(label)}: {head}"
    parts = [f"<div><b>request</b> <code>{e(req.get('method', ''))} "
             f"{e(req.get('url', ''))}</code> · {e(when(x['at']))}</div>"]
    for key in ("query", "headers", "json", "form", "body", "multipart", "save_to"):
        if key in req:
            parts.append(f"<div>{key}</div><pre>{e(pretty(req[key]))}</pre>")
    if x.get("error"):
        parts.append(f'<pre class="error">{e(x["error"])}</pre>')
    if resp is not None:
        parts.append(f"<div><b>answer</b> {e(str(resp.get('status')))}"
                     + (f" · {e(ms(resp['elapsed_ms']))}" if resp.get("elapsed_ms")
                        is not None else "") + "</div>")
        if resp.get("error"):
            parts.append(f'<pre class="error">{e(resp["error"])}</pre>')
        if resp.get("headers"):
            parts.append(f"<div>headers</div><pre>{e(pretty(resp['headers']))}</pre>")
        if resp.get("body"):
            parts.append(f"<div>body</div><pre>{e(pretty(resp['body']))}</pre>")
    cls = ' class="st-failed"' if bad else ""
    return (f'<details{cls}><summary class="mono">{head}</summary>'
            f'<div>{"".join(parts)}</div></details>')
