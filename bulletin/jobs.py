"""The jobs file: which bulletins to build nightly, when, and where to publish them.

A model (`JobsFile`, `Job`, `Timing`, `Feed`), its loader (`load_jobs`) and the one piece of
calendar arithmetic the model needs: when a job's next runs fall (`iter_runs`), in the job's
time zone and across daylight-saving changes.

The loader reads YAML with `yaml.compose` (SafeLoader) and walks the node tree, never
constructing Python objects: every value keeps its position for error messages, tags that build
objects are refused, and `05:30` stays the text the producer wrote (YAML 1.1 would read an
unquoted `05:30` as the number 330).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter

from bulletin.errors import InputError, Problem

MAX_JOBS_FILE_BYTES = 1_000_000
DEFAULT_KEEP = 14
DEFAULT_GRACE = dt.timedelta(hours=2)
DEFAULT_TIMEZONE = "UTC"
# How far ahead a schedule is searched: a 29 February job may wait eight years (2096 -> 2104).
SEARCH_DAYS = 366 * 8 + 2

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "merge")}
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
        hint = _suggest(name, self.jobs)
        line, column = self.jobs_position
        raise InputError(
            [
                Problem(
                    str(self.path),
                    line,
                    column,
                    "jobs",
                    f"no job named {name!r}{hint}; the jobs are: {known}",
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
                first, wall, f"{wall:%H:%M} happens twice (clocks go back); runs once, at the first"
            )
        return Run(first, wall)
    at = _gap_end(wall, zone)
    note = (
        f"{wall:%H:%M} does not exist (clocks go forward); runs at {at:%H:%M}, the next valid time"
    )
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
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(
            f"cannot read jobs file {str(path)!r}: {error.strerror or error}"
        ) from error
    reader = _Reader(str(path), path.resolve().parent)
    if len(data) > MAX_JOBS_FILE_BYTES:
        reader.add_at(1, 1, "file", f"is {len(data)} bytes; a jobs file may be at most 1 MB")
        raise InputError(reader.problems)
    root = reader.compose(data)
    jobs_file = reader.jobs_file(path, root) if root is not None else None
    if reader.problems or jobs_file is None:
        raise InputError(sorted(reader.problems, key=lambda p: (p.line, p.column)))
    return jobs_file


class _Reader:
    """Walks the composed node tree, collecting every problem rather than stopping at the first."""

    def __init__(self, file: str, base_dir: Path) -> None:
        self.file = file
        self.base_dir = base_dir
        self.problems: list[Problem] = []

    # problems

    def add_at(self, line: int, column: int, where: str, what: str) -> None:
        self.problems.append(Problem(self.file, line, column, where, what))

    def add(self, node: yaml.Node, where: str, what: str) -> None:
        mark = node.start_mark
        self.add_at(mark.line + 1, mark.column + 1, where, what)

    # structure

    def compose(self, data: bytes) -> yaml.Node | None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            self.add_at(1, 1, "file", f"is not UTF-8 text ({error.reason} at byte {error.start})")
            return None
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            self.add_at(
                line, column, "file", f"is not valid YAML: {error.problem or error.context}"
            )
            return None
        except yaml.YAMLError as error:
            self.add_at(1, 1, "file", f"is not valid YAML: {error}")
            return None
        if root is None:
            self.add_at(1, 1, "file", "is empty; it needs `jobs:` with at least one job")
        return root

    def mapping(
        self, node: yaml.Node, where: str, keys: tuple[str, ...]
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """A mapping's entries by key (merge keys `<<` applied), with unknown keys reported."""
        if not isinstance(node, yaml.MappingNode):
            self.add(node, where, f"must be a mapping, not {_kind(node)}")
            return None
        if not self._tag_ok(node, where):
            return None
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in self._merged(node, where):
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if not name:
                self.add(key, where, "has an empty or non-text key")
            elif name in entries and key is not entries[name][0]:
                self.add(key, f"{where}.{name}", "is given twice")
            elif keys and name not in keys:
                self.add(key, where, f"unknown key {name!r}{_suggest(name, keys)}")
            else:
                entries[name] = (key, value)
        return entries

    def _merged(self, node: yaml.MappingNode, where: str) -> list[tuple[yaml.Node, yaml.Node]]:
        """Apply YAML merge keys (`<<: *defaults`): merged entries first, the node's own win."""
        own = [(k, v) for k, v in node.value if k.tag != _TAG + "merge"]
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key, value in node.value:
            if key.tag != _TAG + "merge":
                continue
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    merged += self._merged(source, where)
                else:
                    self.add(source, where, "`<<` must merge a mapping")
        names = {k.value for k, _ in own}
        kept = {k.value: (k, v) for k, v in merged if k.value not in names}
        return list(kept.values()) + own

    def _tag_ok(self, node: yaml.Node, where: str) -> bool:
        allowed = _PLAIN_TAGS | {_TAG + "map", _TAG + "seq"}
        if node.tag in allowed:
            return True
        self.add(
            node,
            where,
            f"YAML tag {node.tag!r} is not allowed (tags that build objects are refused)",
        )
        return False

    def scalar(self, node: yaml.Node, where: str) -> str | None:
        """The text of a scalar as written; None (reported) for null, lists, mappings, odd tags."""
        if not isinstance(node, yaml.ScalarNode):
            self.add(node, where, f"must be a single value, not {_kind(node)}")
            return None
        if not self._tag_ok(node, where):
            return None
        if node.tag == _TAG + "null":
            self.add(node, where, "is empty")
            return None
        return node.value

    def text(self, node: yaml.Node, where: str) -> str | None:
        value = self.scalar(node, where)
        if value is not None and not value.strip():
            self.add(node, where, "is empty")
            return None
        return value

    def whole_number(self, node: yaml.Node, where: str, minimum: int) -> int | None:
        value = self.scalar(node, where)
        if value is None:
            return None
        if not re.fullmatch(r"\d+", value.strip()) or int(value) < minimum:
            self.add(node, where, f"must be a whole number, at least {minimum}; got {value!r}")
            return None
        return int(value)

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        value = self.scalar(node, where)
        if value is None:
            return None
        if node.tag != _TAG + "bool":
            self.add(node, where, f"must be true or false; got {value!r}")
            return None
        return value.lower() in ("true", "yes", "on", "y")

    def texts(self, node: yaml.Node, where: str) -> list[tuple[yaml.Node, str]]:
        """One text or a list of texts, each with its node (for positions)."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if isinstance(node, yaml.SequenceNode) and not items:
            self.add(node, where, "is an empty list")
        found = []
        for item in items:
            value = self.text(item, where)
            if value is not None:
                found.append((item, value))
        return found

    # the file

    def jobs_file(self, path: Path, root: yaml.Node) -> JobsFile | None:
        top = self.mapping(root, "file", FILE_KEYS)
        if top is None:
            return None
        zone = ZoneInfo(DEFAULT_TIMEZONE)
        if "timezone" in top:
            zone = self.zone(top["timezone"][1], "timezone") or zone
        if "jobs" not in top:
            self.add(root, "file", "has no `jobs:`; add at least one job")
            return None
        jobs_key, jobs_node = top["jobs"]
        entries = self.mapping(jobs_node, "jobs", ())
        if entries is None:
            return None
        if not entries:
            self.add(jobs_node, "jobs", "has no jobs; add at least one")
        jobs = {}
        for name, (key, node) in entries.items():
            job = self.job(name, key, node, zone)
            if job is not None:
                jobs[name] = job
        self._check_publish_folders(entries, jobs)
        position = (jobs_key.start_mark.line + 1, jobs_key.start_mark.column + 1)
        return JobsFile(path, jobs, position)

    def _check_publish_folders(self, entries: dict, jobs: dict[str, Job]) -> None:
        """Each job needs its own folder: the lock, the index and the pruning are per folder."""
        owners: dict[Path, str] = {}
        for name, job in jobs.items():
            if job.publish in owners:
                node = entries[name][1]
                self.add(
                    node,
                    f"jobs.{name}.publish",
                    f"is the same folder as job {owners[job.publish]!r}; each job needs its own",
                )
            owners.setdefault(job.publish, name)

    def job(self, name: str, key: yaml.Node, node: yaml.Node, file_zone: ZoneInfo) -> Job | None:
        where = f"jobs.{name}"
        if not _NAME.match(name):
            self.add(
                key,
                where,
                "a job name may hold only letters, digits, '-' and '_' (it names files and systemd units)",
            )
        entries = self.mapping(node, where, JOB_KEYS)
        if entries is None:
            return None
        before = len(self.problems)
        for required in ("story", "publish"):
            if required not in entries:
                self.add(node, where, f"has no `{required}:`")
        story, story_node = self.story(entries, where)
        publish = self.path(entries, "publish", where)
        zone = (
            self.zone(entries["timezone"][1], f"{where}.timezone")
            if "timezone" in entries
            else file_zone
        )
        settings = {
            "timing": self.timing(entries, where, zone or file_zone),
            "keep": self.optional(entries, "keep", where, lambda n, w: self.whole_number(n, w, 1)),
            "grace": self.optional(entries, "grace", where, self.duration),
            "feed": self.optional(entries, "feed", where, self.feed),
            "wav": self.optional(entries, "wav", where, self.boolean),
            "loudness": self.optional(entries, "loudness", where, self.loudness),
            "assets": self.assets(entries, where),
        }
        if len(self.problems) > before or story is None or publish is None or zone is None:
            return None
        position = (story_node.start_mark.line + 1, story_node.start_mark.column + 1)
        given = {k: v for k, v in settings.items() if v is not None}
        return Job(
            name,
            story,
            self.base_dir,
            publish,
            zone,
            jobs_file=self.file,
            story_position=position,
            **given,
        )

    def optional(
        self, entries: dict, key: str, where: str, read: Callable[[yaml.Node, str], T]
    ) -> T | None:
        return read(entries[key][1], f"{where}.{key}") if key in entries else None

    def story(self, entries: dict, where: str) -> tuple[str | None, yaml.Node | None]:
        if "story" not in entries:
            return None, None
        node = entries["story"][1]
        value = self.text(node, f"{where}.story")
        try:
            if value is not None:
                value.format(date=dt.date(2000, 1, 1))  # a trial run finds unknown placeholders
        except (KeyError, IndexError, AttributeError, ValueError) as error:
            self.add(
                node,
                f"{where}.story",
                f"{value!r} is not a path template ({type(error).__name__}: {error}); "
                "only {date} may appear in braces (write {{ and }} for a brace)",
            )
            return None, node
        return value, node

    def path(self, entries: dict, key: str, where: str) -> Path | None:
        if key not in entries:
            return None
        value = self.text(entries[key][1], f"{where}.{key}")
        return (self.base_dir / Path(value).expanduser()).resolve() if value else None

    def assets(self, entries: dict, where: str) -> tuple[Path, ...] | None:
        if "assets" not in entries:
            return None
        found = self.texts(entries["assets"][1], f"{where}.assets")
        return tuple((self.base_dir / Path(v).expanduser()).resolve() for _, v in found)

    def zone(self, node: yaml.Node, where: str) -> ZoneInfo | None:
        value = self.text(node, where)
        if value is None:
            return None
        try:
            return ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            self.add(
                node,
                where,
                f"unknown time zone {value!r}; use an IANA name such as Europe/London or Asia/Seoul",
            )
            return None

    def timing(self, entries: dict, where: str, zone: ZoneInfo) -> Timing | None:
        if "at" in entries and "cron" in entries:
            self.add(entries["cron"][0], where, "give either `at:` or `cron:`, not both")
            return None
        if "at" in entries:
            return self.at(entries["at"][1], f"{where}.at")
        if "cron" in entries:
            return self.cron(entries["cron"][1], f"{where}.cron", zone)
        return None

    def at(self, node: yaml.Node, where: str) -> Timing | None:
        clock = set()
        for item, value in self.texts(node, where):
            match = _AT.match(value.strip())
            if not match or int(match[1]) > 23 or int(match[2]) > 59:
                self.add(
                    item,
                    where,
                    f'{value!r} is not a time of day; write HH:MM, 24-hour, e.g. "05:30"',
                )
                continue
            clock.add((int(match[1]), int(match[2])))
        if not clock:
            return None
        shown = ", ".join(f"{h:02d}:{m:02d}" for h, m in sorted(clock))
        return Timing(f"at {shown}", tuple(sorted(clock)))

    def cron(self, node: yaml.Node, where: str, zone: ZoneInfo) -> Timing | None:
        value = self.text(node, where)
        if value is None:
            return None
        timing, error = parse_cron(value)
        if timing is None:
            self.add(node, where, error)
            return None
        start = dt.datetime(
            2000, 1, 1, tzinfo=dt.UTC
        )  # any start: a cron that can run runs within 8 years
        if next(iter_runs(timing, zone, start), None) is None:
            self.add(node, where, f"{value!r} never runs (no day matches it)")
            return None
        return timing

    def duration(self, node: yaml.Node, where: str) -> dt.timedelta | None:
        value = self.scalar(node, where)
        if value is None:
            return None
        text = value.strip().lower()
        parts = _DURATION_PART.findall(text)
        if text == "0":
            return dt.timedelta(0)
        if not parts or _DURATION_PART.sub("", text).strip():
            self.add(
                node,
                where,
                f'{value!r} is not a duration; write e.g. "2h", "90m" or "1h30m" (0: never catch up)',
            )
            return None
        unit_seconds = {"h": 3600, "m": 60, "s": 1}
        return dt.timedelta(seconds=sum(int(n) * unit_seconds[u] for n, u in parts))

    def loudness(self, node: yaml.Node, where: str) -> str | float | None:
        value = self.scalar(node, where)
        if value is None:
            return None
        if value in ("podcast", "broadcast"):
            return value
        try:
            lufs = float(value)
        except ValueError:
            lufs = 1.0
        if not -70.0 <= lufs <= 0.0:
            self.add(
                node,
                where,
                f"must be podcast, broadcast or a target in LUFS (-70 to 0); got {value!r}",
            )
            return None
        return lufs

    def feed(self, node: yaml.Node, where: str) -> Feed | None:
        entries = self.mapping(node, where, FEED_KEYS)
        if entries is None:
            return None
        for required in ("title", "base_url"):
            if required not in entries:
                self.add(node, where, f"has no `{required}:`")
        texts = {
            key: self.text(entries[key][1], f"{where}.{key}")
            for key in FEED_KEYS
            if key in entries and key != "explicit"
        }
        explicit = self.optional(entries, "explicit", where, self.boolean)
        base_url = texts.get("base_url")
        if base_url is not None:
            base_url = self.url(entries["base_url"][1], f"{where}.base_url", base_url, folder=True)
        for key in ("link", "image"):
            if texts.get(key):
                texts[key] = self.url(entries[key][1], f"{where}.{key}", texts[key], folder=False)
        if not texts.get("title") or not base_url or any(v is None for v in texts.values()):
            return None
        return Feed(
            title=texts["title"],
            description=texts.get("description") or texts["title"],
            base_url=base_url,
            link=texts.get("link") or base_url,
            language=texts.get("language") or "en",
            author=texts.get("author") or "",
            image=texts.get("image") or "",
            category=texts.get("category") or "",
            explicit=bool(explicit),
        )

    def url(self, node: yaml.Node, where: str, value: str, *, folder: bool) -> str | None:
        parts = urlparse(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.add(
                node, where, f"{value!r} is not an http(s) URL, e.g. https://example.org/morning/"
            )
            return None
        # A base URL names a folder: files are joined onto it, so it must end with "/".
        return value.strip() + ("/" if folder and not value.strip().endswith("/") else "")


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


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "empty" if node.tag == _TAG + "null" else f"{node.value!r}"


def _suggest(name: str, known: object) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
