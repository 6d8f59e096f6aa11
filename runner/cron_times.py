"""A cron expression's fire times in a time zone, as cron keeps them across daylight saving.

croniter matches local wall-clock times, so a time in the hour the clocks go back matches
twice (02:30 in Berlin on 2026-10-25 is 00:30Z and 01:30Z): a schedule that names its time
fires at the first one only (the second has ``fold=1``). One that counts by ``*`` keeps to
elapsed time and fires in both, so an every-15-minutes schedule has no hole. A time skipped in
spring is moved by croniter to the next valid instant (03:00 CEST); two skipped times land on
that same instant, which fires once.

No schedule file, store or run here: only times, so the rule is read and tested alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from croniter import croniter


def names_its_time(cron: str) -> bool:
    """Whether the minute and the hour are both named (``30 2 * * *``), not ``*``-based
    (``*/15 * * * *``, ``@hourly``): cron's test for which jobs a clock change moves."""
    if cron.startswith("@"):
        return cron.lower() != "@hourly"
    minute, hour = cron.split()[-5:-3]  # 6 fields put seconds first
    return not (minute.startswith("*") or hour.startswith("*"))


def cron_times(cron: str, tz: ZoneInfo, start: float, backwards: bool = False
               ) -> Iterator[float]:
    """Fire times of ``cron`` in ``tz`` after ``start`` (before it, ``backwards``), the
    nearest first, as Unix times; endless."""
    when = dt.datetime.fromtimestamp(start, tz)
    it = croniter(cron, when, second_at_beginning=True)
    step = it.get_prev if backwards else it.get_next
    named, last = names_its_time(cron), None
    while True:
        t = float(step(float))
        if t == last or (named and dt.datetime.fromtimestamp(t, tz).fold):
            continue
        last = t
        yield t
