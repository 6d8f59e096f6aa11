"""The engine's per-call path under pyinstrument: where the time of one call goes.

Profiles the per-call playbook (1 login + 1,000 ``get_machine`` calls, extract + assert) with
the store off (the engine alone) and with the default store.
pyinstrument samples the main thread's wall-clock stack every 1 ms; the simulator answers from
its own thread in this process, so "waiting for the answer" includes its work and the GIL.

The hot spots are inclusive times of named functions (a function inside another one is counted
in both: the shares do not add up to 100 %), plus the functions with the most time of their
own. The whole tree is written to ``bench/results/profile.txt``. Needs ``pip install
pyinstrument`` in the venv (not a dependency of the project).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench import RESULTS, Outcome, log, private_store

INTERVAL = 0.001
# (label, function name, a piece of the file path); inclusive time of the outermost frame
SPOTS: list[tuple[str, str, str]] = [
    ("runner Transport.send (the whole HTTP exchange)", "send", "runner/connectors/http.py"),
    ("  runner Wire.urlopen (send, read the status and headers)", "urlopen",
     "runner/connectors/wire.py"),
    ("    waiting for the answer (socket recv: simulator + GIL)", "socket.recv_into",
     "<built-in>"),
    ("  runner Transport._read (body read)", "_read", "runner/connectors/http.py"),
    ("runner vendor_error (connector errors rule)", "vendor_error",
     "runner/connectors/client.py"),
    ("runner apply_extract (JSONPath)", "apply_extract", "runner/steps/common.py"),
    ("runner apply_asserts (expression)", "apply_asserts", "runner/steps/common.py"),
    ("runner build_call (render with:, prepare)", "build_call", "runner/steps/common.py"),
    ("runner PreparedCall.record (report data)", "record", "runner/connectors/http.py"),
    ("runner Response.summary (report data)", "summary", "runner/connectors/response.py"),
    ("runner Runtime.emit (listeners)", "emit", "runner/engine.py"),
    ("runner load_playbook (once per run)", "load_playbook", "runner/playbook.py"),
]
# whole libraries / modules, outermost frame in any file whose path contains the piece
PACKAGES: list[tuple[str, str]] = [
    ("jinja2 (all template and expression evaluation)", "jinja2/"),
    ("jsonpath_ng (all JSONPath evaluation)", "jsonpath_ng/"),
    ("run store + journal (runner/store.py, runner/journal.py)", "runner/store.py|"
                                                                 "runner/journal.py"),
    ("sqlalchemy", "sqlalchemy/"),
]


def _walk(frame: Any, match: Any) -> float:
    """Inclusive time of the outermost frames that ``match`` (nested matches not twice)."""
    if match(frame):
        return float(frame.time)
    return sum(_walk(c, match) for c in frame.children)


def _self_times(frame: Any, acc: dict[str, float]) -> None:
    # a frame's total_self_time already holds its "[self]" children: skip those
    if frame.function != "[self]":
        key = f"{frame.function}  {frame.file_path_short or frame.file_path}"
        acc[key] = acc.get(key, 0.0) + float(frame.total_self_time)
    for c in frame.children:
        _self_times(c, acc)


def analyse(session: Any) -> dict[str, Any]:
    root = session.root_frame()
    total = float(root.time)
    spots = []
    for label, function, piece in SPOTS:
        t = _walk(root, lambda f, fn=function, p=piece: f.function == fn and p in
                  (f.file_path or ""))
        spots.append({"spot": label, "seconds": round(t, 3), "share": round(t / total, 3)})
    for label, pieces in PACKAGES:
        parts = pieces.split("|")
        t = _walk(root, lambda f, ps=parts: any(p in (f.file_path or "") for p in ps))
        spots.append({"spot": label, "seconds": round(t, 3), "share": round(t / total, 3)})
    acc: dict[str, float] = {}
    _self_times(root, acc)
    top_self = sorted(acc.items(), key=lambda kv: -kv[1])[:15]
    return {
        "total_seconds": round(total, 3), "spots": spots,
        "top_self": [{"function": k, "seconds": round(v, 3), "share": round(v / total, 3)}
                     for k, v in top_self],
    }


def run(opts: Any) -> Outcome:
    try:
        from pyinstrument import Profiler
    except ImportError:
        out = Outcome("profile", "pyinstrument is not installed")
        out.add("pip install pyinstrument (into .venv) to profile", float("nan"))
        return out
    from bench.per_call import CALLS, with_runner
    from runner.sandbox import Sandbox

    out = Outcome("profile", f"pyinstrument: runner, 1 login + {CALLS:,} calls")
    n = 300 if opts.quick else CALLS
    modes = {"no store": {"store": False}, "default store": {}}
    texts, analyses = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp, private_store(Path(tmp)), \
            Sandbox() as box:
        box.start(["automatos"])
        with_runner(box, 20)  # warm-up
        for mode, kw in modes.items():
            log(f"profile: {mode}, {n} calls")
            profiler = Profiler(interval=INTERVAL)
            profiler.start()
            with_runner(box, n, **kw)
            profiler.stop()
            session = profiler.last_session
            analyses[mode] = analyse(session)
            texts.append(f"===== {mode}: {n} calls =====\n"
                         + profiler.output_text(unicode=False, color=False, show_all=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profile.txt").write_text("\n".join(texts))
    first = next(iter(analyses))
    for spot in analyses[first]["spots"]:
        if spot["share"] >= 0.02:
            out.add(f"{first}: {spot['spot'].strip()}", spot["share"] * 100, "%")
    if "default store" in analyses:
        for spot in analyses["default store"]["spots"]:
            if spot["spot"].startswith(("run store", "sqlalchemy")):
                out.add(f"default store: {spot['spot']}", spot["share"] * 100, "%")
    out.details = {"calls": n, "interval_seconds": INTERVAL, "profiles": analyses,
                   "tree": "bench/results/profile.txt"}
    return out
