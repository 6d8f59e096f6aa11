"""The HTML report's inline style sheet and its few lines of script.

Inline because the page fetches nothing (its Content-Security-Policy allows no source):
the report opens from a CI artifact, a mail, or a machine without network. A room apart so the
page's structure (:mod:`runner.report_html`) reads without 50 lines of CSS in the way.
"""

CSS = """
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
.vendor{font-size:15px;margin:6px 0}.vendor .said{color:var(--mute);font-size:12px;
margin-right:6px}
.src{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--mute)}
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

JS = """
document.querySelectorAll('[data-open]').forEach(function(b){b.addEventListener('click',
function(){var o=b.getAttribute('data-open')==='1';document.querySelectorAll('#steps details')
.forEach(function(d){d.open=o;});});});
function openTarget(){var t=location.hash&&document.getElementById(location.hash.slice(1));
while(t){if(t.tagName==='DETAILS'){t.open=true;}t=t.parentElement;}}
window.addEventListener('hashchange',openTarget);openTarget();
"""
