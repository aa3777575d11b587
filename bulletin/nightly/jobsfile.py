"""Reading a jobs file (`load_jobs`): YAML into the model of bulletin.nightly.jobs.

The loader walks composed YAML nodes through `bulletin.script.yamlnodes` (as the story loader
does), never constructing Python objects: every value keeps its position for error messages,
tags that build objects are refused, and a time stays the text the producer wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bulletin.base.errors import InputError
from bulletin.nightly.jobs import DEFAULT_TIMEZONE, Feed, Job, JobsFile
from bulletin.nightly.timing import EPOCH, Timing, iter_runs, parse_cron
from bulletin.script.loading.air import read_air
from bulletin.script.yamlnodes import Reader, compose_file

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_AT = re.compile(r"(\d{1,2}):(\d{2})\Z")
_DURATION_PART = re.compile(r"(\d+)\s*(h|m|s)")
T = TypeVar("T")

FILE_KEYS = ("timezone", "jobs")
JOB_KEYS = (
    "story", "at", "cron", "publish", "keep", "grace", "feed", "timezone", "wav", "loudness",
    "assets", "air", "playout",
)  # fmt: skip
# required keys, and what each is for (said when one is missing)
REQUIRED_JOB_KEYS = {
    "story": "the story file, e.g. stories/{date}/story.yaml",
    "publish": "the folder to publish into",
}
REQUIRED_FEED_KEYS = {
    "title": "the podcast's name",
    "base_url": "where the publish folder is served",
}
FEED_KEYS = (
    "title", "description", "base_url", "link", "language", "author", "image", "category",
    "explicit",
)  # fmt: skip


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
        drops: dict[Path, str] = {}
        for name, job in jobs.items():
            if job.playout is not None and job.air is not None and job.air.cut is not None:
                drop = job.playout / f"{job.air.cut}.wav"
                if drop in drops:
                    self.r.problem(entries[name][1], f"jobs.{name}.playout",
                                   f"job {drops[drop]!r} drops {drop.name} there too; give each a cut id of its own")
                drops.setdefault(drop, name)
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
        self.require(entries, node, where, REQUIRED_JOB_KEYS)

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
            "air": read("air", lambda n, w: read_air(r, n, w)),
            "playout": read("playout", self.resolved),
        }
        self.playout_needs_cut(entries, where, settings)
        if len(r.problems) > before or story is None or publish is None:
            return None
        if settings["timing"] and not next(iter_runs(settings["timing"], zone, EPOCH), None):
            r.problem(entries["cron"][1], f"{where}.cron", "never runs: no day matches it")
            return None
        given = {k: v for k, v in settings.items() if v is not None}
        mark = entries["story"][1].start_mark
        return Job(name, story, self.base_dir, publish, zone, jobs_file=str(self.path),
                   story_position=(mark.line + 1, mark.column + 1), **given)  # fmt: skip

    def playout_needs_cut(self, entries: dict, where: str, settings: dict) -> None:
        """A playout drop is named by the cut id (CUT.wav): the job's `air:` must give one."""
        air = settings["air"]
        broken = "air" in entries and air is None  # reported already
        if settings["playout"] is not None and not broken and (air is None or air.cut is None):
            self.r.problem(entries["playout"][0], f"{where}.playout", "needs a cut id to name the file "
                           "it drops there (CUT.wav): add `air: {cut: NEWS0600}` to this job")  # fmt: skip

    def require(self, entries: dict, node: Node, where: str, required: dict[str, str]) -> None:
        """A problem for each required key missing from `entries`, saying what it is for."""
        for key, purpose in required.items():
            if key not in entries:
                self.r.problem(node, f"{where}.{key}", f"is required: {purpose}")

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
        if not value:
            return None
        try:
            return (self.base_dir / Path(value).expanduser()).resolve()
        except (OSError, ValueError, RuntimeError):  # a NUL byte, a name too long, ~nobody, a loop
            self.r.problem(node, where, f"{value[:80]!r} is not a usable path")
            return None

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
        # a folder of the zone database ("Europe") or a name too long for a file: no zone either
        except (ZoneInfoNotFoundError, ValueError, OSError):
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
        self.require(entries, node, where, REQUIRED_FEED_KEYS)
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
