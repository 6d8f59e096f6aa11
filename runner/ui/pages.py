"""The pages of ``runner ui``, rendered on the server: the run list and its filters, a run
that has no report yet, the schedules, the runs waiting or stuck, and the short pages that say
what went wrong (no such run, a wrong filter, a missing token).

Templates are strings here, so the package ships no data files. They are rendered by a plain
Jinja2 environment with autoescape on: these are pages, not user templates, so runner's
sandboxed environment (for playbooks) is not the tool; every value a page shows is escaped.
No JavaScript, no fetch from anywhere: a little inline CSS, links and one GET form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
from markupsafe import Markup  # jinja2's own dependency: HTML already escaped

# the bar on every page, the run's report too (whose own CSS does not know it)
NAV_CSS = """
nav.ui{background:#1d232a;padding:.6em 1.2em;font:14px/1.45 system-ui,sans-serif}
nav.ui a{color:#e8ecf0;margin-right:1.4em;text-decoration:none}
nav.ui a.here{font-weight:700;border-bottom:2px solid #7cc4ff}
nav.ui .store{float:right;color:#9aa6b2;font-family:monospace}
"""
CSS = NAV_CSS + """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
td a.mono,td.when,th{white-space:nowrap}
main{padding:1em 1.4em;max-width:1300px}h1{font-size:1.35em;margin:.3em 0 .6em}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;
padding:.35em .6em;border-bottom:1px solid #e3e6ea;vertical-align:top}th{background:#eef1f4}
code,.mono{font-family:ui-monospace,monospace;font-size:.92em}
.badge{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;font-size:.85em;
font-weight:600;background:#6b7785}.b-passed{background:#1f8a4c}.b-failed,.b-errored{
background:#c62828}.b-running,.b-queued,.b-pending,.b-waiting{background:#1565c0}
.b-interrupted{background:#ad6800}
form.filters{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin-bottom:1em}
form.filters label{display:flex;flex-direction:column;font-size:.85em;color:#4b5561}
input,select{font:inherit;padding:.2em .3em}.err{color:#8c1d1d}.muted{color:#6b7785}
.pager{margin:.8em 0}.pager a{margin-right:1em}.box{background:#fff;border:1px solid #e3e6ea;
padding:.8em 1em;margin-bottom:1em}pre.cmd{background:#1d232a;color:#e8ecf0;padding:.4em .7em;
margin:.2em 0;white-space:pre-wrap}
"""

_BASE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{ title }} · runner</title><style>{{ css }}</style></head><body>
{{ nav }}
<main>{% block main %}{% endblock %}</main></body></html>
"""

_NAV = """<nav class="ui"><a href="/"{% if here == 'runs' %} class="here"{% endif %}>Runs</a>
<a href="/schedules"{% if here == 'schedules' %} class="here"{% endif %}>Schedules</a>
<a href="/stuck"{% if here == 'stuck' %} class="here"{% endif %}>Waiting or stuck</a>
<span class="store">{{ store }}</span></nav>"""

_ROWS = """<table><tr><th>run</th><th>started (UTC)</th><th>status</th><th>took</th>
<th>playbook</th><th>from</th><th>error</th></tr>
{% for r in rows %}<tr class="run" data-status="{{ r.status }}">
<td><a class="mono" href="/runs/{{ r.run_id | urlencode }}">{{ r.run_id }}</a></td>
<td class="when">{{ r.started | when }}</td>
<td><span class="badge b-{{ r.status }}">{{ r.status }}</span></td>
<td>{{ r.duration_ms | took }}</td><td>{{ r.playbook }}</td>
<td class="mono">{% if r.dedup_key %}<a href="/?schedule={{ r.dedup_key.rpartition('@')[0]
| urlencode }}">{{ r.dedup_key }}</a>{% elif r.batch_id %}<a href="/?batch={{ r.batch_id
| urlencode }}">batch {{ r.batch_id }}#{{ r.batch_row }}</a>{% endif %}</td>
<td class="err">{% if r.failed_step %}<b>{{ r.failed_step }}</b>: {% endif %}{{
(r.error or '') | oneline | truncate(160) }}</td></tr>
{% else %}<tr><td colspan="7" class="muted">no runs match</td></tr>{% endfor %}</table>"""

_RUNS = """{% extends "base" %}{% block main %}<h1>Runs <span class="muted">{{ total }}</span></h1>
<form class="filters" method="get" action="/">
<label>playbook<input name="playbook" value="{{ f.playbook or '' }}"></label>
<label>status<select name="status"><option value="">any</option>
{% for s in statuses %}<option{% if s == f.status %} selected{% endif %}>{{ s }}</option>
{% endfor %}</select></label>
<label>since<input name="since" size="12" placeholder="2h, 3d, 2026-11-23"
 value="{{ since_text or '' }}"></label>
<label>schedule<input name="schedule" value="{{ f.schedule or '' }}"></label>
<label>batch<input name="batch" value="{{ f.batch or '' }}"></label>
<button type="submit">filter</button> <a href="/">clear</a></form>
{% if problem %}<p class="err" id="problem">{{ problem }}</p>{% endif %}
{% include "rows" %}
<div class="pager">{% if prev is not none %}<a href="{{ prev }}">&larr; newer</a>{% endif %}
{% if rows %}<span class="muted">{{ first }}–{{ last }} of {{ total }}</span>{% endif %}
{% if next %}<a href="{{ next }}">older &rarr;</a>{% endif %}</div>{% endblock %}"""

_SCHEDULES = """{% extends "base" %}{% block main %}<h1>Schedules</h1>
{% if not file %}<p class="muted">No schedule file: start <code>runner ui --schedules
schedules.yaml</code> to see each schedule's next fire times and last runs.</p>
{% elif problem %}<p class="err">{{ problem }}</p>{% else %}
<p class="muted">from <code>{{ file }}</code>; times in each schedule's time zone</p>
{% for s in schedules %}<div class="box schedule" id="schedule-{{ s.name }}">
<h2>{{ s.name }} {% if not s.enabled %}<span class="badge">disabled</span>{% endif %}</h2>
<div><code>{{ s.cron }}</code> · {{ s.timezone }} · playbook <code>{{ s.playbook_name }}</code>
· overlap {{ s.overlap }} · catch-up {{ s.catch_up }}</div>
<div>next: {% for t in s.next %}<span class="mono">{{ t }}</span>{% if not loop.last %}, {%
endif %}{% endfor %}</div>
{% set rows = s.runs %}{% if rows %}<h3>last runs (<a href="/?schedule={{ s.name
| urlencode }}">all</a>)</h3>{% include "rows" %}{% else %}<p class="muted">no run recorded
yet</p>{% endif %}</div>{% endfor %}{% endif %}{% endblock %}"""

_STUCK = """{% extends "base" %}{% block main %}<h1>Waiting or stuck</h1>
<p class="muted">Runs <code>queued</code> or <code>running</code> whose heartbeat is older than
{{ stale_after | int }} s: a queued run no worker has taken (its message may be lost), a running
run whose worker or process is gone. Each one's command takes it up again; nothing is sent
twice (the journal says what ran).</p>
{% for r in rows %}<div class="box stuck" data-status="{{ r.status }}">
<a class="mono" href="/runs/{{ r.run_id | urlencode }}">{{ r.run_id }}</a>
<span class="badge b-{{ r.status }}">{{ r.status }}</span> {{ r.playbook }} · started
{{ r.started | when }} · heartbeat {{ r.heartbeat | when }}{% if r.owner %} · owner
<code>{{ r.owner }}</code>{% endif %}
<div>{{ r.why }}</div>{% for c in r.commands %}<pre class="cmd">{{ c }}</pre>{% endfor %}</div>
{% else %}<p class="muted" id="none-stuck">No run is waiting or stuck.</p>{% endfor %}
{% endblock %}"""

_RUN = """{% extends "base" %}{% block main %}<h1>{{ r.playbook }}
<span class="badge b-{{ r.status }}">{{ r.status }}</span></h1>
<p>run <code>{{ r.run_id }}</code> · file <code>{{ r.file }}</code> · env {{ r.environment }}
· started {{ r.started | when }}</p>
<p class="muted">This run has no report yet: it is {{ r.status }}. The report is recorded when
it ends.</p>{% if r.progress %}<h2>So far</h2><p class="muted">Each step's last state in
the run's journal.</p><table id="progress">{% for p in r.progress %}<tr data-state="{{ p.state
}}"><td><span class="badge b-{{ p.state }}">{{ p.state }}</span></td><td>{{ p.step }}</td>
<td class="mono">{{ p.where }}</td><td>{% if p.until %}until {{ p.until | when }} UTC{% if
p.waits_for %} (for {{ p.waits_for }}){% endif %}{% elif p.outcome %}answered: {{ p.outcome
}}{% endif %}</td></tr>{% endfor %}</table>{% endif %}{% if r.error %}<pre class="err">{{
r.error }}</pre>{% endif %}
<h2>Inputs</h2><table>{% for k, v in (r.inputs or {}).items() %}<tr><th>{{ k }}</th>
<td><code>{{ v }}</code></td></tr>{% endfor %}</table>{% endblock %}"""

_MESSAGE = """{% extends "base" %}{% block main %}<h1>{{ title }}</h1>
<p class="err">{{ message }}</p>{% if hint %}<p>{{ hint }}</p>{% endif %}{% endblock %}"""


def when(t: float | None) -> str:
    if t is None:
        return "–"
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def took(duration_ms: float | None) -> str:
    if duration_ms is None:
        return ""
    return f"{duration_ms:.0f} ms" if duration_ms < 1000 else f"{duration_ms / 1000:.1f} s"


def _oneline(text: str) -> str:
    """A server's line breaks, kept in a table cell, would look like another row."""
    return " ".join(str(text).split())


_ENV = jinja2.Environment(
    loader=jinja2.DictLoader({"base": _BASE, "nav": _NAV, "rows": _ROWS, "runs": _RUNS,
                              "schedules": _SCHEDULES, "stuck": _STUCK, "run": _RUN,
                              "message": _MESSAGE}),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
_ENV.filters.update(when=when, took=took, oneline=_oneline)


def nav(here: str, store: str, *, styled: bool = False) -> str:
    """The bar at the top of every page; ``styled``: with its CSS, for a page (the run's
    report) that has its own."""
    bar = _ENV.get_template("nav").render(here=here, store=store)
    return f"<style>{NAV_CSS}</style>{bar}" if styled else bar


def render(name: str, *, here: str, store: str, title: str, **values: Any) -> str:
    return _ENV.get_template(name).render(nav=Markup(nav(here, store)), css=Markup(CSS),
                                          title=title, **values)
