"""Benchmarks of the runner engine, each side by side with plain-Python baselines.

Every scenario runs the engine and its baselines in the same process run, against the
simulators on loopback, and reports medians of several repetitions and ratios (the machine is
shared and noisy: absolute numbers move, ratios much less). ``python -m bench`` runs them all
and prints one table; each scenario also writes ``bench/results/<scenario>.json``.

This module holds what the scenarios share: timing, memory, figures and the results files.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PLAYBOOKS = BENCH / "playbooks"
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
RUNNER = BIN / "runner"

SCENARIOS = ("per_call", "cold_start", "many_runs", "polling", "big_responses", "capacity",
             "profile", "whatif", "process_cold", "process_calls", "process_memory",
             "process_batch", "process_parked", "limits", "heartbeats")
# a name on the command line that stands for several scenarios
GROUPS = {"process": ("process_cold", "process_calls", "process_memory", "process_batch"),
          "parked": ("process_parked",)}


@dataclass
class Figure:
    """One measured figure and, when there is one, its target.

    ``target`` is ``(op, limit)`` with op ``<=`` or ``>=``; ``ok`` is None without a target.
    """

    name: str
    value: float
    unit: str = ""
    target: tuple[str, float] | None = None
    stretch: bool = False  # a stretch goal: missing it is reported, not a failure
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        op, limit = self.target
        return self.value <= limit if op == "<=" else self.value >= limit

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["target"] = f"{self.target[0]} {self.target[1]:g}" if self.target else None
        out["ok"] = self.ok
        return out


@dataclass
class Outcome:
    """What one scenario measured: its figures for the table, and details for the JSON file."""

    scenario: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, *args: Any, **kw: Any) -> Figure:
        fig = Figure(*args, **kw)
        self.figures.append(fig)
        return fig

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "title": self.title,
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": machine(),
            "figures": [f.to_dict() for f in self.figures],
            "details": self.details,
        }

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.scenario}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        tmp.replace(path)
        return path


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"python": sys.version.split()[0], "cpus": os.cpu_count(),
            "loadavg_1m": round(load[0], 2)}


# -- timing ----------------------------------------------------------------------------------

def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call of ``fn`` and what it returned."""
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def rounds(variants: dict[str, Callable[[], Any]], reps: int) -> dict[str, list[float]]:
    """Time each variant ``reps`` times, interleaved (A B C A B C ...), so drift of a noisy
    machine hits every variant alike. Returns the wall seconds of each repetition."""
    out: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(reps):
        for name, fn in variants.items():
            seconds, _ = timed(fn)
            out[name].append(seconds)
    return out


# -- memory ----------------------------------------------------------------------------------

def rss_mb() -> float:
    """The process's resident memory now (Linux /proc), in MB."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return 0.0


def max_rss_mb() -> float:
    """The process's peak resident memory so far (``ru_maxrss``), in MB."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def hwm_mb() -> float:
    """This process image's peak resident memory (``VmHWM``), in MB.

    Unlike ``ru_maxrss``, which a child inherits from its parent across fork and exec, the
    high-water mark of /proc belongs to the process image: right for a fresh child.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return max_rss_mb()


def trim_memory() -> None:
    """Collect garbage and hand freed heap back to the OS, so a baseline RSS is honest."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakRSS:
    """Peak RSS above the starting RSS while the block runs, sampled every ``interval`` s.

    Unlike ``ru_maxrss`` (a high-water mark for the process's whole life) this measures one
    block, even after earlier blocks used more; a spike shorter than the interval can be missed.
    """

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.start = self.peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakRSS:
        trim_memory()
        self.start = self.peak = rss_mb()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            self._stop.wait(self.interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, rss_mb())

    @property
    def delta_mb(self) -> float:
        return self.peak - self.start


# -- the run store -----------------------------------------------------------------------------

@contextlib.contextmanager
def private_store(tmp: Path) -> Iterator[None]:
    """Point the default run store at a fresh file under ``tmp`` (never the user's history)."""
    old = os.environ.get("RUNNER_STORE")
    os.environ["RUNNER_STORE"] = str(tmp / "runs.db")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("RUNNER_STORE", None)
        else:
            os.environ["RUNNER_STORE"] = old


# -- the table ---------------------------------------------------------------------------------

def fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "n/a"
    if unit in ("x", "ratio"):
        return f"{value:.2f}x"
    if value == int(value) and abs(value) < 1e15 and unit not in ("s", "ms", "us"):
        return f"{int(value):,} {unit}".strip()
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}" if value else "0"
    return f"{text} {unit}".strip()


def table(outcomes: list[Outcome]) -> str:
    rows = [("scenario", "figure", "measured", "target", "")]
    for o in outcomes:
        for f in o.figures:
            target = ""
            if f.target:
                target = f"{f.target[0]} {fmt(f.target[1], f.unit)}" + (" (stretch)"
                                                                         if f.stretch else "")
            verdict = {None: "", True: "ok", False: "MISSED" if not f.stretch else "missed"}[f.ok]
            rows.append((o.scenario, f.name, fmt(f.value, f.unit), target, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
