"""The jobs file: which bulletins to build nightly, when, and where to publish them.

A model (`JobsFile`, `Job`, `Timing`, `Feed`), its loader (`load_jobs`) and the one piece of
calendar arithmetic the model needs: when a job's next runs fall (`iter_runs`), in the job's
time zone and across daylight-saving changes.

The loader walks composed YAML nodes through `bulletin.script.yamlnodes` (as the story loader does),
never constructing Python objects: every value keeps its position for error messages, tags
that build objects are refused, and a time stays the text the producer wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bulletin.base.errors import InputError, Problem
from bulletin.script.yamlnodes import Reader, compose_file, suggest

DEFAULT_KEEP = 14
DEFAULT_GRACE = dt.timedelta(hours=2)
DEFAULT_TIMEZONE = "UTC"
# How far ahead a schedule is searched: a 29 February job may wait eight years (2096 -> 2104).
SEARCH_DAYS = 366 * 8 + 2
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # any start will do to see if a cron ever runs

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_AT = re.compile(r"(\d{1,2}):(\d{2})\Z")
_DURATION_PART = re.compile(r"(\d+)\s*(h|m|s)")
T = TypeVar("T")

FILE_KEYS = ("timezone", "jobs")
JOB_KEYS = (
    "story", "at", "cron", "publish", "keep", "grace", "feed", "timezone", "wav", "loudness",
    "assets",
)  # fmt: skip
FEED_KEYS = (
    "title", "description", "base_url", "link", "language", "author", "image", "category",
    "explicit",
)  # fmt: skip


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


@dataclass(frozen=True)
class Feed:
    """The podcast feed's channel settings; `base_url` is where the publish folder is served."""

    title: str
    description: str
    base_url: str  # always ends with "/"
    link: str
    language: str = "en"
    author: str = ""
    image: str = ""
    category: str = ""
    explicit: bool = False


@dataclass(frozen=True)
class Job:
    """One bulletin to build: its story (a path template with `{date}`), schedule and publishing."""

    name: str
    story: str  # template as written, relative to `base_dir`
    base_dir: Path  # the jobs file's folder
    publish: Path  # absolute
    timezone: ZoneInfo
    timing: Timing | None = None  # None: built only by `bulletin build`
    keep: int = DEFAULT_KEEP
    grace: dt.timedelta = DEFAULT_GRACE
    feed: Feed | None = None
    wav: bool = False
    loudness: str | float | None = None
    assets: tuple[Path, ...] = ()
    jobs_file: str = ""  # for positioned messages about this job
    story_position: tuple[int, int] = (1, 1)  # (line, column) of the `story` value

    def story_path(self, date: dt.date) -> Path:
        return self.base_dir / self.story.format(date=date)

    def story_problem(self, what: str) -> Problem:
        """A problem reported at the job's `story:` line (e.g. the day's story file is missing)."""
        line, column = self.story_position
        return Problem(self.jobs_file, line, column, f"jobs.{self.name}.story", what)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        return (now or dt.datetime.now(dt.UTC)).astimezone(self.timezone).date()

    def runs_after(self, after: dt.datetime) -> Iterator[Run]:
        return iter_runs(self.timing, self.timezone, after) if self.timing else iter(())


@dataclass(frozen=True)
class JobsFile:
    path: Path
    jobs: dict[str, Job]
    jobs_position: tuple[int, int] = (1, 1)

    def job(self, name: str) -> Job:
        if name in self.jobs:
            return self.jobs[name]
        known = ", ".join(self.jobs) or "none"
        hint = suggest(name, list(self.jobs))
        line, column = self.jobs_position
        raise InputError(
            [
                Problem(
                    str(self.path),
                    line,
                    column,
                    "jobs",
                    f"no job named {name!r}; the jobs are: {known}{hint}",
                )
            ]
        )


# --- when runs fall -------------------------------------------------------------------------


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


# --- loading --------------------------------------------------------------------------------


def load_jobs(path: Path) -> JobsFile:
    """Read and validate a jobs file; raise InputError listing every problem with its position."""
    path = Path(path)
    root = compose_file(path)  # positioned errors for unreadable, oversized, bad YAML, bad tags
    reader = Reader(str(path))
    if root is None:
        reader.problem(None, "file", "is empty; it needs `jobs:` with at least one job")
        reader.raise_if_problems()
    jobs_file = _JobsLoader(path, reader).load(root)
    if reader.problems:
        raise InputError(sorted(reader.problems, key=lambda p: (p.line, p.column)))
    return jobs_file


class _JobsLoader:
    """Reads the composed jobs file; the shared Reader collects every problem with its position."""

    def __init__(self, path: Path, reader: Reader) -> None:
        self.path = path
        self.r = reader
        self.base_dir = path.resolve().parent

    def load(self, root: Node) -> JobsFile:
        r = self.r
        top = r.mapping(root, "", FILE_KEYS)
        if top is None:
            r.raise_if_problems()
        zone = ZoneInfo(DEFAULT_TIMEZONE)
        if "timezone" in top:
            zone = self.zone(top["timezone"][1], "timezone") or zone
        if "jobs" not in top:
            r.problem(root, "jobs", "is required: add at least one job")
            r.raise_if_problems()
        jobs_key, jobs_node = top["jobs"]
        entries = r.mapping(jobs_node, "jobs") or {}
        if not entries:
            r.problem(jobs_node, "jobs", "has no jobs; add at least one")
        jobs = {}
        for name, (key, node) in entries.items():
            job = self.job(name, key, node, zone)
            if job is not None:
                jobs[name] = job
        self.check_publish_folders(entries, jobs)
        return JobsFile(
            self.path, jobs, (jobs_key.start_mark.line + 1, jobs_key.start_mark.column + 1)
        )

    def check_publish_folders(
        self, entries: dict[str, tuple[Node, Node]], jobs: dict[str, Job]
    ) -> None:
        """Each job needs its own folder: the lock, the index and the pruning are per folder."""
        owners: dict[Path, str] = {}
        for name, job in jobs.items():
            if job.publish in owners:
                other = owners[job.publish]
                self.r.problem(
                    entries[name][1],
                    f"jobs.{name}.publish",
                    f"is job {other!r}'s folder too; each job needs its own",
                )
            owners.setdefault(job.publish, name)

    def job(self, name: str, key: Node, node: Node, file_zone: ZoneInfo) -> Job | None:
        r = self.r
        where = f"jobs.{name}"
        before = len(r.problems)
        if not _NAME.match(name):
            r.problem(
                key,
                where,
                "a job name may hold only letters, digits, '-' and '_' (it names log lines and systemd units)",
            )
        if name in JOB_KEYS and not isinstance(node, MappingNode):
            r.problem(key, where, f"`{name}:` is a job setting, so the job's name is missing: "
                      f"write jobs: {{morning: {{{name}: ...}}}}")  # fmt: skip
            return None
        entries = r.mapping(node, where, JOB_KEYS)
        if entries is None:
            return None
        for required, why in (
            ("story", "the story file, e.g. stories/{date}/story.yaml"),
            ("publish", "the folder to publish into"),
        ):
            if required not in entries:
                r.problem(node, f"{where}.{required}", f"is required: {why}")

        def read(key: str, reader: Callable[[Node, str], T]) -> T | None:
            return reader(entries[key][1], f"{where}.{key}") if key in entries else None

        story = read("story", self.story)
        publish = read("publish", self.resolved)
        zone = read("timezone", self.zone) or file_zone
        settings = {
            "timing": self.timing(entries, where),
            "keep": read("keep", lambda n, w: r.integer(n, w, 1, 100_000)),
            "grace": read("grace", self.duration),
            "feed": read("feed", self.feed),
            "wav": read("wav", self.boolean),
            "loudness": read("loudness", self.loudness),
            "assets": read(
                "assets", lambda n, w: tuple(self.resolved(i, w) for i in self.texts(n, w))
            ),
        }
        if len(r.problems) > before or story is None or publish is None:
            return None
        if settings["timing"] and not next(iter_runs(settings["timing"], zone, _EPOCH), None):
            r.problem(entries["cron"][1], f"{where}.cron", "never runs: no day matches it")
            return None
        given = {k: v for k, v in settings.items() if v is not None}
        mark = entries["story"][1].start_mark
        return Job(name, story, self.base_dir, publish, zone, jobs_file=str(self.path),
                   story_position=(mark.line + 1, mark.column + 1), **given)  # fmt: skip

    def story(self, node: Node, where: str) -> str | None:
        value = self.r.text(node, where)
        try:
            if value is not None:
                value.format(date=dt.date(2000, 1, 1))  # a trial run finds unknown placeholders
        except (KeyError, IndexError, AttributeError, ValueError) as error:
            self.r.problem(node, where, f"{value!r} is not a path template ({type(error).__name__}: {error}); "
                           "only {date} may appear in braces (write {{ and }} for a brace)")  # fmt: skip
            return None
        return value

    def resolved(self, node: Node, where: str) -> Path | None:
        """A path as written, relative to the jobs file's folder."""
        value = self.r.text(node, where)
        return (self.base_dir / Path(value).expanduser()).resolve() if value else None

    def texts(self, node: Node, where: str) -> list[Node]:
        """One value or a list of them (`at: "05:30"` or `at: ["05:30", "17:30"]`)."""
        items = (
            [item for _, item in self.r.items(node, where)]
            if isinstance(node, SequenceNode)
            else [node]
        )
        if not items:
            self.r.problem(node, where, "is an empty list")
        return items

    def zone(self, node: Node, where: str) -> ZoneInfo | None:
        value = self.r.text(node, where)
        if value is None:
            return None
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.r.problem(
                node,
                where,
                f"unknown time zone {value!r}; use an IANA name such as Europe/London or Asia/Seoul",
            )
            return None

    def timing(self, entries: dict[str, tuple[Node, Node]], where: str) -> Timing | None:
        if "at" in entries and "cron" in entries:
            self.r.problem(entries["cron"][0], where, "give either `at:` or `cron:`, not both")
            return None
        if "at" in entries:
            return self.at(entries["at"][1], f"{where}.at")
        if "cron" in entries:
            return self.cron(entries["cron"][1], f"{where}.cron")
        return None

    def at(self, node: Node, where: str) -> Timing | None:
        clock = set()
        for item in self.texts(node, where):
            value = self.r.text(item, where)
            match = _AT.match(value or "")
            if value is not None and (not match or int(match[1]) > 23 or int(match[2]) > 59):
                self.r.problem(
                    item,
                    where,
                    f'{value!r} is not a time of day; write HH:MM, 24-hour, e.g. "05:30"',
                )
            elif match:
                clock.add((int(match[1]), int(match[2])))
        if not clock:
            return None
        shown = ", ".join(f"{h:02d}:{m:02d}" for h, m in sorted(clock))
        return Timing(f"at {shown}", tuple(sorted(clock)))

    def cron(self, node: Node, where: str) -> Timing | None:
        value = self.r.text(node, where)
        if value is None:
            return None
        timing, error = parse_cron(value)
        if timing is None:
            self.r.problem(node, where, error)
        return timing

    def duration(self, node: Node, where: str) -> dt.timedelta | None:
        value = self.r.text(node, where)
        if value is None:
            return None
        text = value.lower()
        parts = _DURATION_PART.findall(text)
        if text == "0":
            return dt.timedelta(0)
        if not parts or _DURATION_PART.sub("", text).strip():
            self.r.problem(
                node,
                where,
                f'{value!r} is not a duration; write e.g. "2h", "90m" or "1h30m" (0: never catch up)',
            )
            return None
        unit_seconds = {"h": 3600, "m": 60, "s": 1}
        return dt.timedelta(seconds=sum(int(n) * unit_seconds[u] for n, u in parts))

    def boolean(self, node: Node, where: str) -> bool | None:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            shown = repr(node.value) if isinstance(node, ScalarNode) else "a list or mapping"
            self.r.problem(node, where, f"must be true or false, not {shown}")
            return None
        return node.value.lower() in ("true", "yes", "on", "y")

    def loudness(self, node: Node, where: str) -> str | float | None:
        value = self.r.text(node, where)
        if value in ("podcast", "broadcast"):
            return value
        return self.r.number(node, where, -70.0, 0.0) if value is not None else None

    def feed(self, node: Node, where: str) -> Feed | None:
        r = self.r
        entries = r.mapping(node, where, FEED_KEYS)
        if entries is None:
            return None
        for required, why in (
            ("title", "the podcast's name"),
            ("base_url", "where the publish folder is served"),
        ):
            if required not in entries:
                r.problem(node, f"{where}.{required}", f"is required: {why}")
        texts = {
            key: r.text(value, f"{where}.{key}")
            for key, (_, value) in entries.items()
            if key != "explicit"
        }
        for key, folder in (("base_url", True), ("link", False), ("image", False)):
            if texts.get(key):
                texts[key] = self.url(entries[key][1], f"{where}.{key}", texts[key], folder=folder)
        explicit = (
            self.boolean(entries["explicit"][1], f"{where}.explicit")
            if "explicit" in entries
            else False
        )
        if not texts.get("title") or not texts.get("base_url") or explicit is None:
            return None
        if any(value is None for value in texts.values()):
            return None
        return Feed(
            title=texts["title"],
            description=texts.get("description") or texts["title"],
            base_url=texts["base_url"],
            link=texts.get("link") or texts["base_url"],
            language=texts.get("language") or "en",
            author=texts.get("author") or "",
            image=texts.get("image") or "",
            category=texts.get("category") or "",
            explicit=explicit,
        )

    def url(self, node: Node, where: str, value: str, *, folder: bool) -> str | None:
        parts = urlparse(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.r.problem(
                node, where, f"{value!r} is not an http(s) URL, e.g. https://example.org/morning/"
            )
            return None
        # A base URL names a folder that file names are joined onto, so it must end with "/".
        return value + ("/" if folder and not value.endswith("/") else "")


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
