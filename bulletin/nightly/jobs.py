"""The jobs file's model: which bulletins to build nightly (`Job`), when (`Timing`, in
bulletin.nightly.timing), how their podcast feed reads (`Feed`), and where they are published.

`load_jobs` (bulletin.nightly.jobsfile) reads one from YAML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bulletin.base.errors import InputError, Problem
from bulletin.nightly.timing import Run, Timing, iter_runs
from bulletin.script.model import Air
from bulletin.script.yamlnodes import suggest

DEFAULT_KEEP = 14
DEFAULT_GRACE = dt.timedelta(hours=2)
DEFAULT_TIMEZONE = "UTC"


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
    air: Air | None = None  # over the story's `air:`, key by key; starts default: the build's time
    playout: Path | None = None  # a playout system's drop folder: CUT.wav goes there
    jobs_file: str = ""  # for positioned messages about this job
    story_position: tuple[int, int] = (1, 1)  # (line, column) of the `story` value

    @property
    def formats(self) -> list[str]:
        """What the render writes: the MP3, and the WAV to publish (`wav`) or to drop (`playout`)."""
        return ["wav", "mp3"] if self.wav or self.playout else ["mp3"]

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
