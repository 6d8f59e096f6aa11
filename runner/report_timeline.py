"""The HTML report's timeline: when each step ran, and each call and poll attempt in it, on
one time axis from the run's start to its end.

Positions are shares of the run's span, from each step's start and duration and each
exchange's time and answer time. A loop of 10,000 iterations draws its first
:data:`MAX_TIMELINE_ROWS` rows and says how many more there are.
"""

from __future__ import annotations

from typing import Any

from runner.report import MARK, ms
from runner.report_html_steps import exchange_line, walk
from runner.report_html_text import e, name

MAX_TIMELINE_ROWS = 300  # a loop of 10,000 iterations must not make a 50 MB page


def timeline(run: dict[str, Any], anchor: dict[int, str]) -> str:
    """The timeline section: a row per step (loops' iterations and included steps under
    their step), a bar for its time and a tick for each call or poll attempt."""
    r = run
    t0 = r["started"]
    rows = list(walk(r["steps"]))
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
        marks = [f'<div class="tl-bar c-{e(s["status"])}" style="left:{left:.3f}%;'
                 f'width:{width:.3f}%" title="{e(s["label"])}: {e(ms(s["duration_ms"]))}">'
                 "</div>"]
        for x in s.get("exchanges") or []:
            resp = x.get("response") or {}
            took = resp.get("elapsed_ms") or 0
            xl = pct(x["at"])
            xw = max(pct(x["at"] + took / 1000) - xl, 0.15)
            bad = x.get("error") or resp.get("error")
            tip = exchange_line(x)
            marks.append(f'<div class="tl-x {"c-xerr" if bad else "c-x"}" '
                         f'style="left:{xl:.3f}%;width:{xw:.3f}%" title="{e(tip)}"></div>')
        label = f'{s["label"]} · {s["target"]}'
        lines.append(
            f'<div class="tl-row"><div class="tl-label" title="{e(label)}">{indent}'
            f'<a href="#{anchor[id(s)]}"><span class="m-{e(s["status"])}">'
            f'{e(MARK.get(s["status"], s["status"]))}</span> {e(name(s))}</a></div>'
            f'<div class="tl-track">{"".join(marks)}</div></div>')
    more = ""
    if len(rows) > MAX_TIMELINE_ROWS:
        more = f"<p class='meta'>{len(rows) - MAX_TIMELINE_ROWS} more rows not drawn</p>"
    axis = "".join(f"<span>{e(ms(span * 1000 * k / 4))}</span>" for k in range(5))
    return ('<h2>Timeline</h2><p class="meta">bars: steps · blue ticks: calls and poll '
            'attempts (red: an error answer) · hover for details</p>'
            f'<div class="tl" id="timeline">{"".join(lines)}'
            f'<div class="tl-axis">{axis}</div></div>{more}')
