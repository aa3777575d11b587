"""When a job runs: its times of day (`at:`) or cron fields, and the instants they fall on, in
the job's time zone and across daylight-saving changes.

Times are wall-clock times, as cron's are; `iter_runs` walks the calendar day by day in local
time and `resolve_wall_time` turns each local time into an instant, saying when a clock change
moved it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter

# How far ahead a schedule is searched: a 29 February job may wait eight years (2096 -> 2104).
SEARCH_DAYS = 366 * 8 + 2
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # any start will do to see if a cron ever runs


@dataclass(frozen=True)
class Timing:
    """When a job runs: wall-clock times of day, on the days its filters allow (cron's rules)."""

    text: str  # as written, for listings: "at 05:30" or "cron 30 5 * * 1-5"
    clock: tuple[tuple[int, int], ...]  # sorted (hour, minute) wall-clock times on a run day
    days: frozenset[int] | None = None  # days of the month; None: any
    months: frozenset[int] | None = None  # 1..12; None: any
    weekdays: frozenset[int] | None = None  # 0 = Sunday .. 6 = Saturday; None: any
    day_or: bool = False  # cron: when both day fields are restricted, either one may match

    def runs_on(self, day: dt.date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        in_month = self.days is None or day.day in self.days
        in_week = self.weekdays is None or day.isoweekday() % 7 in self.weekdays
        return (in_month or in_week) if self.day_or else (in_month and in_week)


@dataclass(frozen=True)
class Run:
    """One scheduled run: the instant it fires and the wall-clock time it was asked for."""

    at: dt.datetime  # aware, in the job's zone
    wall: dt.datetime  # naive local time as scheduled
    note: str = ""  # why `at` is not simply `wall` (a daylight-saving change), else ""

    @property
    def date(self) -> dt.date:
        """The bulletin date this run builds: the scheduled day, even if it fires after midnight."""
        return self.wall.date()


def iter_runs(timing: Timing, zone: ZoneInfo, after: dt.datetime) -> Iterator[Run]:
    """Yield the runs strictly after `after`, in order, for up to SEARCH_DAYS days.

    Times are wall-clock times in `zone`, like cron's. A time that does not exist on a day the
    clocks go forward runs at the first valid instant after the gap; a time that happens twice
    when the clocks go back runs once, at its first occurrence; two times that land on one
    instant run once.
    """
    day = after.astimezone(zone).date() - dt.timedelta(days=1)
    last = after
    for _ in range(SEARCH_DAYS):
        if timing.runs_on(day):
            for hour, minute in timing.clock:
                run = resolve_wall_time(dt.datetime.combine(day, dt.time(hour, minute)), zone)
                if run.at > last:
                    last = run.at
                    yield run
        day += dt.timedelta(days=1)


def resolve_wall_time(wall: dt.datetime, zone: ZoneInfo) -> Run:
    """The instant a naive local time means in `zone`, with a note if the clocks change then."""
    first = wall.replace(tzinfo=zone, fold=0)  # PEP 495: fold=0 is the earlier of two instants
    if _exists(first):
        if first.utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset():
            return Run(
                first,
                wall,
                f"clocks go back: {wall:%H:%M} happens twice that day; it runs once, at the first",
            )
        return Run(first, wall)
    at = _gap_end(wall, zone)
    note = f"clocks go forward: {wall:%H:%M} does not exist that day, so it runs at {at:%H:%M}"
    return Run(at, wall, note)


def _exists(moment: dt.datetime) -> bool:
    """A local time exists if it survives a round trip through UTC unchanged."""
    back = moment.astimezone(dt.UTC).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _gap_end(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The instant the clocks jump forward past `wall` (binary search to the second).

    Inside a gap, fold=1 reads `wall` with the new offset (an instant before the jump) and
    fold=0 with the old one (an instant after it), so the jump lies between the two.
    """
    a = wall.replace(tzinfo=zone, fold=0).timestamp()
    b = wall.replace(tzinfo=zone, fold=1).timestamp()
    lo, hi = int(min(a, b)), int(max(a, b))
    new_offset = dt.datetime.fromtimestamp(hi, zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if dt.datetime.fromtimestamp(mid, zone).utcoffset() == new_offset:
            hi = mid
        else:
            lo = mid
    return dt.datetime.fromtimestamp(hi, zone)


def parse_cron(text: str) -> tuple[Timing | None, str]:
    """Five cron fields (minute hour day-of-month month day-of-week) or @daily-style macros.

    croniter expands the fields (ranges, steps, names); what it leaves unexpanded (L, W, #)
    is refused here, since the schedule is walked day by day in local time, not by croniter.
    """
    fields = text.split()
    if not text.startswith("@") and len(fields) != 5:
        return (
            None,
            f"{text!r} has {len(fields)} fields; cron needs five: minute hour day-of-month month day-of-week",
        )
    try:
        expanded, nth = croniter.expand(text)
    except Exception as error:  # croniter raises several unrelated types for bad input
        return None, f"{text!r} is not a valid cron expression: {error}"
    if (
        len(expanded) != 5
        or nth
        or any(not isinstance(v, int) for f in expanded for v in f if v != "*")
    ):
        return (
            None,
            f"{text!r} uses a form not supported here (seconds, years, L, W or #); use five plain fields",
        )

    def values(index: int) -> frozenset[int] | None:
        return None if expanded[index] == ["*"] else frozenset(expanded[index])

    minutes = range(60) if expanded[0] == ["*"] else sorted(expanded[0])
    hours = range(24) if expanded[1] == ["*"] else sorted(expanded[1])
    starred = [
        expanded[i] == ["*"] or (len(fields) == 5 and fields[i].startswith("*")) for i in (2, 4)
    ]
    weekdays = values(4)
    timing = Timing(
        text=f"cron {text}",
        clock=tuple((h, m) for h in hours for m in minutes),
        days=values(2),
        months=values(3),
        weekdays=frozenset(d % 7 for d in weekdays) if weekdays is not None else None,
        day_or=not any(starred),
    )
    return timing, ""
